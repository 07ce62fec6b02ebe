/* Metrics as registered components (kiln/metrics.h) and scoring by name
 * (kiln/evaluate.h): every builtin is in the registry with its direction,
 * a metric registered from outside the library through the public API is
 * computed by name like a builtin, and a score set holds any number of
 * scores. */
#include "test_util.h"

#include "kiln/cv.h"
#include "kiln/evaluate.h"
#include "kiln/frame.h"
#include "kiln/init.h"
#include "kiln/mem.h"
#include "kiln/metrics.h"
#include "kiln/model.h"
#include "kiln/registry.h"
#include "kiln/rng.h"

#include <math.h>
#include <string.h>

/* x0, x1 normal; y a class of x0 + noise (classify) or x0 - x1 / 2 + noise. */
static kn_frame *problem(size_t n, int classify)
{
    kn_frame *f;
    KN_CHECK(kn_frame_new(&f));
    KN_CHECK(kn_frame_add_column(f, "x0", KN_COL_NUMERIC, NULL));
    KN_CHECK(kn_frame_add_column(f, "x1", KN_COL_NUMERIC, NULL));
    KN_CHECK(kn_frame_add_column(f, "y", KN_COL_NUMERIC, NULL));
    KN_CHECK(kn_frame_resize(f, n));
    kn_rng rng;
    kn_rng_init(&rng, 5);
    double *x0 = kn_column_f64(kn_frame_col(f, 0)), *x1 = kn_column_f64(kn_frame_col(f, 1));
    double *y = kn_column_f64(kn_frame_col(f, 2));
    for (size_t i = 0; i < n; i++) {
        x0[i] = kn_rng_normal(&rng);
        x1[i] = kn_rng_normal(&rng);
        double s = x0[i] - x1[i] / 2 + kn_rng_normal(&rng) * 0.5;
        y[i] = classify ? s > 0 : s;
    }
    return f;
}

static kn_model *fitted(const char *name, const kn_frame *f)
{
    kn_model *m;
    KN_CHECK(kn_model_new(name, &m));
    KN_CHECK(kn_model_fit(m, f, "y", NULL));
    return m;
}

/* Every builtin metric is registered with its input and direction. */
static void builtins_are_registered(void **state)
{
    (void)state;
    kn_init();
    const struct {
        const char *name;
        kn_metric_input in;
        int higher;
    } want[] = {{"accuracy", KN_METRIC_LABELS, 1},
                {"balanced_accuracy", KN_METRIC_LABELS, 1},
                {"precision", KN_METRIC_LABELS, 1},
                {"recall_macro", KN_METRIC_LABELS, 1},
                {"f1_weighted", KN_METRIC_LABELS, 1},
                {"mcc", KN_METRIC_LABELS, 1},
                {"cohen_kappa", KN_METRIC_LABELS, 1},
                {"roc_auc", KN_METRIC_SCORES, 1},
                {"average_precision", KN_METRIC_SCORES, 1},
                {"log_loss", KN_METRIC_SCORES, 0},
                {"brier", KN_METRIC_SCORES, 0},
                {"mse", KN_METRIC_REGRESSION, 0},
                {"rmse", KN_METRIC_REGRESSION, 0},
                {"mae", KN_METRIC_REGRESSION, 0},
                {"mape", KN_METRIC_REGRESSION, 0},
                {"median_ae", KN_METRIC_REGRESSION, 0},
                {"r2", KN_METRIC_REGRESSION, 1},
                {"explained_variance", KN_METRIC_REGRESSION, 1},
                {"poisson_deviance", KN_METRIC_REGRESSION, 0}};
    for (size_t i = 0; i < sizeof want / sizeof *want; i++) {
        const kn_component *c = kn_registry_find(KN_COMP_METRIC, want[i].name);
        if (!c) fail_msg("%s: %s", want[i].name, kn_last_error());
        const kn_metric_vt *vt = c->vt;
        assert_int_equal(vt->input, want[i].in);
        assert_int_equal(vt->higher_is_better, want[i].higher);
    }
    assert_null(kn_metric_find("f2"));
    assert_non_null(strstr(kn_last_error(), "no metric named 'f2'"));
    /* by name, the same number as the function */
    double y[] = {1, 2, 3, 4}, p[] = {1.5, 2, 2, 5}, a, b;
    kn_metric_data d = {.n = 4, .y = y, .pred = p, .positive = -1};
    KN_CHECK(kn_metric_compute("mae", &d, &a));
    KN_CHECK(kn_metric_mae(y, p, NULL, 4, &b));
    assert_true(a == b);
    KN_CHECK_FAILS(kn_metric_compute("accuracy", &d, &a), KN_ERR_UNSUPPORTED,
                   "accuracy is for classification");
}

/* silhouette by name: the feature rows and the clusters; two tight pairs
 * far apart, worked by hand; one cluster or no rows refused. */
static void silhouette_by_name(void **state)
{
    (void)state;
    double x[] = {0, 1, 10, 11}, v;
    int32_t lab[] = {0, 0, 1, 1}, one[] = {0, 0, 0, 0};
    kn_metric_data d = {.n = 4, .pred_class = lab, .k = 2, .positive = -1, .x = x, .p = 1};
    KN_CHECK(kn_metric_compute("silhouette", &d, &v));
    double want = (2 * (10.5 - 1) / 10.5 + 2 * (9.5 - 1) / 9.5) / 4;
    assert_true(fabs(v - want) < 1e-15);
    d.pred_class = one;
    KN_CHECK_FAILS(kn_metric_compute("silhouette", &d, &v), KN_ERR_INVALID, "from 2 to rows - 1");
    d.pred_class = lab;
    d.x = NULL;
    KN_CHECK_FAILS(kn_metric_compute("silhouette", &d, &v), KN_ERR_UNSUPPORTED,
                   "feature rows and cluster labels");
    const kn_component *c = kn_metric_find("silhouette");
    assert_non_null(c);
    assert_int_equal(((const kn_metric_vt *)c->vt)->input, KN_METRIC_CLUSTERS);
}

/* A toy metric from outside the library: the largest absolute error. */
static kn_status max_error(const kn_metric_data *d, double *out)
{
    double m = 0;
    for (size_t i = 0; i < d->n; i++) m = fmax(m, fabs(d->y[i] - d->pred[i]));
    *out = m;
    return KN_OK;
}

static const kn_metric_vt max_error_vt = {
    .input = KN_METRIC_REGRESSION, .higher_is_better = 0, .compute = max_error};
static const kn_component max_error_metric = {
    KN_COMP_METRIC, "toy_max_error", "largest absolute error", NULL, 0, &max_error_vt};

static void outside_metric_is_used(void **state)
{
    (void)state;
    KN_CHECK(kn_registry_add(&max_error_metric));
    kn_frame *f = problem(200, 0);
    kn_model *m = fitted("ridge", f);
    const char *names[] = {"toy_max_error", "rmse"};
    kn_score_opts o = {.metrics = names, .n_metrics = 2};
    kn_scores s = {0};
    KN_CHECK(kn_model_score_with(m, f, &o, &s));
    assert_int_equal(s.n, 2);
    assert_string_equal(s.name[0], "toy_max_error");
    assert_int_equal(s.higher_is_better[0], 0);
    double *pred, want = 0;
    size_t n;
    KN_CHECK(kn_model_predict(m, f, &pred, &n));
    const double *y = kn_column_f64(kn_frame_col(f, 2));
    for (size_t i = 0; i < n; i++) want = fmax(want, fabs(y[i] - pred[i]));
    assert_true(s.value[0] == want);
    assert_int_equal(kn_scores_find(&s, "rmse"), 1);
    kn_free(pred);
    kn_scores_free(&s);
    /* cross-validation computes it per fold */
    kn_cv_spec cs = {.model = "ridge", .target = "y", .metrics = names, .n_metrics = 2};
    kn_split_opts_default(&cs.split);
    cs.split.folds = 3;
    kn_cv_result r = {0};
    KN_CHECK(kn_cv_run(f, &cs, &r));
    assert_int_equal(r.n_scores, 2);
    assert_string_equal(r.name[0], "toy_max_error");
    assert_true(r.mean[0] > 0 && r.mean[0] >= r.mean[1]);
    kn_cv_result_free(&r);
    /* an unknown name is refused before any work */
    const char *bad[] = {"rmse", "nope"};
    o.metrics = bad;
    KN_CHECK_FAILS(kn_model_score_with(m, f, &o, &s), KN_ERR_NOT_FOUND, "no metric named 'nope'");
    kn_model_free(m);
    kn_frame_free(f);
}

/* More scores than the old fixed arrays held (12), in the order asked. */
static void any_number_of_scores(void **state)
{
    (void)state;
    kn_frame *f = problem(300, 1);
    kn_model *m = fitted("logistic_regression", f);
    const char *names[] = {
        "accuracy",          "balanced_accuracy", "precision", "recall",          "f1",
        "precision_macro",   "recall_macro",      "f1_macro",  "precision_micro", "recall_micro",
        "f1_micro",          "f1_weighted",       "mcc",       "cohen_kappa",     "roc_auc",
        "average_precision", "log_loss",          "brier"};
    size_t k = sizeof names / sizeof *names;
    kn_score_opts o = {.metrics = names, .n_metrics = k};
    kn_scores s = {0}, def = {0};
    KN_CHECK(kn_model_score_with(m, f, &o, &s));
    assert_int_equal(s.n, k);
    for (size_t i = 0; i < k; i++) {
        assert_string_equal(s.name[i], names[i]);
        assert_true(isfinite(s.value[i]));
    }
    assert_string_equal(s.roc_auc_average, "binary");
    /* the default set: the same values under the same names */
    KN_CHECK(kn_model_score(m, f, NULL, &def));
    assert_int_equal(def.n, 8);
    for (size_t i = 0; i < def.n; i++) {
        int at = kn_scores_find(&s, def.name[i]);
        assert_true(at >= 0);
        assert_true(s.value[at] == def.value[i]);
    }
    kn_scores_free(&s);
    kn_scores_free(&def);
    assert_int_equal(def.n, 0);
    kn_model_free(m);
    kn_frame_free(f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(builtins_are_registered),
        cmocka_unit_test(outside_metric_is_used),
        cmocka_unit_test(silhouette_by_name),
        cmocka_unit_test(any_number_of_scores),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
