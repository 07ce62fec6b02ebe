/* learn: metrics on hand-made cases with known answers (the parity test
 * compares every metric with sklearn.metrics on larger data). */
#include "test_util.h"

#include "kiln/metrics.h"

#include <math.h>

static void labels_and_zero_division(void **state)
{
    (void)state;
    const int32_t y[] = {0, 0, 1, 1, 2}, p[] = {0, 1, 1, 1, 1};
    double m[9], v;
    KN_CHECK(kn_metric_confusion(y, p, NULL, 5, 3, m));
    const double want[] = {1, 1, 0, 0, 2, 0, 0, 1, 0};
    for (int i = 0; i < 9; i++) assert_true(m[i] == want[i]);
    KN_CHECK(kn_metric_accuracy(y, p, NULL, 5, &v));
    assert_true(v == 0.6);
    /* class 2 is never predicted: its precision is 0 (zero division), not NaN */
    KN_CHECK(kn_metric_precision(y, p, NULL, 5, 3, KN_AVG_MACRO, &v));
    assert_true(fabs(v - (1.0 + 0.5 + 0) / 3) < 1e-15);
    KN_CHECK(kn_metric_recall(y, p, NULL, 5, 3, KN_AVG_MICRO, &v));
    assert_true(v == 0.6);
    KN_CHECK_FAILS(kn_metric_f1(y, p, NULL, 5, 3, KN_AVG_BINARY, &v), KN_ERR_INVALID,
                   "average=binary needs 2 classes");
    const int32_t bad[] = {0, 3};
    KN_CHECK_FAILS(kn_metric_accuracy(bad, bad, NULL, 2, &v), KN_OK, "");
    KN_CHECK_FAILS(kn_metric_mcc(bad, bad, NULL, 2, 3, &v), KN_ERR_RANGE, "row 2 has class 3");
    const double w[] = {1, -1, 1, 1, 1};
    KN_CHECK_FAILS(kn_metric_accuracy(y, p, w, 5, &v), KN_ERR_INVALID, "sample weight -1 in row 2");
}

static void ranking_with_ties(void **state)
{
    (void)state;
    const int32_t y[] = {0, 1, 0, 1};
    const double all_tied[] = {0.5, 0.5, 0.5, 0.5}, ranked[] = {0.1, 0.4, 0.5, 0.8};
    double v;
    KN_CHECK(kn_metric_roc_auc(y, all_tied, NULL, 4, &v));
    assert_true(v == 0.5);
    KN_CHECK(kn_metric_roc_auc(y, ranked, NULL, 4, &v));
    assert_true(v == 0.75);
    KN_CHECK(kn_metric_average_precision(y, ranked, NULL, 4, &v));
    assert_true(fabs(v - (0.5 * 1 + 0.5 * 2.0 / 3)) < 1e-15);
    const int32_t one[] = {1, 1};
    KN_CHECK_FAILS(kn_metric_roc_auc(one, ranked, NULL, 2, &v), KN_ERR_INVALID,
                   "only one class present");
}

static void regression_edges(void **state)
{
    (void)state;
    const double y[] = {2, 2, 2}, same[] = {2, 2, 2}, off[] = {1, 2, 3};
    double v;
    KN_CHECK(kn_metric_r2(y, same, NULL, 3, &v));
    assert_true(v == 1); /* constant target predicted exactly */
    KN_CHECK(kn_metric_r2(y, off, NULL, 3, &v));
    assert_true(v == 0);
    KN_CHECK(kn_metric_mse(y, off, NULL, 3, &v));
    assert_true(fabs(v - 2.0 / 3) < 1e-15);
    KN_CHECK(kn_metric_median_ae(y, off, NULL, 3, &v));
    assert_true(v == 1);
    const double zero[] = {0, 1, 2};
    KN_CHECK_FAILS(kn_metric_tweedie_deviance(zero, off, NULL, 3, 2, &v), KN_ERR_RANGE,
                   "row 1: y = 0");
    KN_CHECK_FAILS(kn_metric_tweedie_deviance(y, off, NULL, 3, 0.5, &v), KN_ERR_INVALID,
                   "power 0.5 is undefined");
    KN_CHECK(kn_metric_tweedie_deviance(y, off, NULL, 3, 0, &v));
    assert_true(fabs(v - 2.0 / 3) < 1e-15); /* power 0 is the squared error */
}

/* Values from scikit-learn 1.2's adjusted_rand_score and
 * normalized_mutual_info_score on the same labels. */
static void cluster_agreement(void **state)
{
    (void)state;
    const int32_t t1[] = {0, 0, 1, 2}, p1[] = {0, 0, 1, 1};
    const int32_t t2[] = {0, 0, 1, 1, 2, 2}, p2[] = {1, 1, 0, 0, 0, 2};
    const int32_t one[] = {0, 0, 0, 0}, each[] = {0, 1, 2, 3};
    double v;
    KN_CHECK(kn_metric_adjusted_rand(t1, 3, p1, 2, 4, &v));
    assert_true(fabs(v - 0.5714285714285714) < 1e-15);
    KN_CHECK(kn_metric_nmi(t1, 3, p1, 2, 4, &v));
    assert_true(fabs(v - 0.7999999999999999) < 1e-15);
    KN_CHECK(kn_metric_adjusted_rand(t2, 3, p2, 3, 6, &v));
    assert_true(fabs(v - 0.4444444444444444) < 1e-15);
    KN_CHECK(kn_metric_nmi(t2, 3, p2, 3, 6, &v));
    assert_true(fabs(v - 0.7396673768007592) < 1e-15);
    KN_CHECK(kn_metric_adjusted_rand(one, 1, each, 4, 4, &v));
    assert_true(v == 0);
    KN_CHECK(kn_metric_nmi(one, 1, each, 4, 4, &v));
    assert_true(v == 0); /* one true group split apart: no shared information */
    KN_CHECK(kn_metric_nmi(one, 1, one, 1, 4, &v));
    assert_true(v == 1); /* neither splits the rows */
    KN_CHECK(kn_metric_adjusted_rand(one, 1, one, 1, 4, &v));
    assert_true(v == 1);
    KN_CHECK_FAILS(kn_metric_adjusted_rand(t1, 2, p1, 2, 4, &v), KN_ERR_INVALID,
                   "row 4 has true label 2, outside 0..1");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(labels_and_zero_division),
        cmocka_unit_test(ranking_with_ties),
        cmocka_unit_test(regression_edges),
        cmocka_unit_test(cluster_agreement),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
