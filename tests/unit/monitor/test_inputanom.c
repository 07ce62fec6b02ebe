/* monitor: input anomalies (kiln/inputanom.h). An isolation forest fitted
 * on 500 seeded normal rows of three numeric columns (text and absent
 * columns among the decls are left out): about its contamination of the
 * reference is past the threshold; rows ten standard deviations out are
 * all anomalous and a window of them is flagged, a window of rows like the
 * reference's is not; a missing cell scores as the reference's median; the
 * same seed gives the same scores bit for bit; the beta-binomial p-value
 * is the sum of its probabilities written out here; bad input names what
 * is wrong. */
#include "test_util.h"

#include "kiln/inputanom.h"
#include "kiln/mem.h"
#include "kiln/rng.h"

#include <math.h>
#include <string.h>

static const kn_col_decl decls[] = {{"a", KN_COL_NUMERIC},
                                    {"colour", KN_COL_CATEGORICAL},
                                    {"b", KN_COL_INT64},
                                    {"c", KN_COL_NUMERIC},
                                    {"absent", KN_COL_NUMERIC}};

/* n rows of a, b, c: standard normal (seeded) plus 3 j plus shift. */
static kn_frame *rows(uint64_t seed, size_t n, double shift)
{
    kn_rng r;
    kn_rng_init(&r, seed);
    kn_frame *f = NULL;
    KN_CHECK(kn_frame_new(&f));
    const char *names[] = {"a", "b", "c"};
    for (size_t j = 0; j < 3; j++) {
        kn_column *c = NULL;
        KN_CHECK(kn_frame_add_column(f, names[j], KN_COL_NUMERIC, &c));
        if (j == 0) KN_CHECK(kn_frame_resize(f, n));
        double *x = kn_column_f64(c);
        for (size_t i = 0; i < n; i++) x[i] = 3 * (double)j + kn_rng_normal(&r) + shift;
    }
    return f;
}

static void test_fit_and_windows(void **state)
{
    (void)state;
    kn_frame *ref = rows(1, 500, 0), *near = rows(2, 200, 0), *far = rows(3, 100, 10);
    kn_inputanom *a = NULL;
    KN_CHECK(kn_inputanom_fit(ref, decls, 5, 0.01, 7, &a));
    assert_int_equal(kn_inputanom_n_cols(a), 3);
    assert_string_equal(kn_inputanom_col(a, 1), "b");
    size_t k_ref = 0;
    assert_int_equal(kn_inputanom_reference_rows(a, &k_ref), 500);
    assert_true(k_ref >= 1 && k_ref <= 10);
    assert_true(kn_inputanom_reference_share(a) == (double)k_ref / 500);
    double *s = NULL, *t = NULL;
    size_t n = 0;
    KN_CHECK(kn_inputanom_score(a, far, &s, &n));
    assert_int_equal(n, 100);
    assert_int_equal(kn_inputanom_count(a, s, n), 100);
    kn_inputanom_window w;
    kn_inputanom_test(a, n, 100, KN_INPUTANOM_BETA_BINOMIAL, 0.001, &w);
    assert_true(w.flagged && w.share == 1 && w.p < 1e-30);
    kn_free(s);
    KN_CHECK(kn_inputanom_score(a, near, &s, &n));
    size_t k = kn_inputanom_count(a, s, n);
    assert_true(k < 12);
    kn_inputanom_test(a, n, k, KN_INPUTANOM_BETA_BINOMIAL, 0.001, &w);
    assert_true(!w.flagged && w.p > 0.001 && w.rows == 200 && w.anomalous_rows == k);
    kn_inputanom_test(a, n, 0, KN_INPUTANOM_BINOMIAL, 0.001, &w);
    assert_true(w.p == 1 && !w.flagged);
    /* the same seed: the same forest, the same scores */
    kn_inputanom *b = NULL;
    KN_CHECK(kn_inputanom_fit(ref, decls, 5, 0.01, 7, &b));
    KN_CHECK(kn_inputanom_score(b, near, &t, &n));
    assert_memory_equal(s, t, n * sizeof *s);
    assert_true(kn_inputanom_threshold(a) == kn_inputanom_threshold(b));
    kn_free(s), kn_free(t);
    /* a missing cell is the reference's median: a row of missing cells is ordinary */
    for (size_t j = 0; j < 3; j++) kn_column_f64(kn_frame_col(near, j))[0] = NAN;
    KN_CHECK(kn_inputanom_score(a, near, &s, &n));
    assert_true(isfinite(s[0]) && s[0] >= kn_inputanom_threshold(a));
    kn_free(s);
    kn_inputanom_free(a), kn_inputanom_free(b);
    kn_frame_free(ref), kn_frame_free(near), kn_frame_free(far);
}

/* P(X >= k) of the beta-binomial, each probability written out. */
static double betabinom_tail(size_t k, size_t n, double al, double be)
{
    double sum = 0;
    for (size_t j = k; j <= n; j++) {
        double x = (double)j, m = (double)(n - j);
        sum += exp(lgamma((double)n + 1) - lgamma(x + 1) - lgamma(m + 1) + lgamma(x + al) +
                   lgamma(m + be) - lgamma((double)n + al + be) - lgamma(al) - lgamma(be) +
                   lgamma(al + be));
    }
    return sum;
}

static void test_beta_binomial(void **state)
{
    (void)state;
    kn_frame *ref = rows(4, 300, 0);
    kn_inputanom *a = NULL;
    KN_CHECK(kn_inputanom_fit(ref, decls, 4, 0.02, 0, &a));
    size_t k_ref = 0, n_ref = kn_inputanom_reference_rows(a, &k_ref);
    for (size_t k = 1; k <= 40; k += 3) {
        kn_inputanom_window w;
        kn_inputanom_test(a, 120, k, KN_INPUTANOM_BETA_BINOMIAL, 0.01, &w);
        double want = betabinom_tail(k, 120, (double)k_ref + 0.5, (double)(n_ref - k_ref) + 0.5);
        assert_true(fabs(w.p - want) <= 1e-9 * (want > 1e-3 ? 1 : want) + 1e-15);
        assert_int_equal(w.flagged, w.share > w.reference_share && w.p < 0.01);
    }
    kn_inputanom_free(a);
    kn_frame_free(ref);
}

static void test_bad_input(void **state)
{
    (void)state;
    kn_frame *few = rows(5, 10, 0), *ref = rows(6, 100, 0);
    kn_inputanom *a = NULL;
    KN_CHECK_FAILS(kn_inputanom_fit(few, decls, 5, 0.01, 0, &a), KN_ERR_INVALID,
                   "the reference has 10 rows; the isolation forest needs at least 16");
    KN_CHECK_FAILS(kn_inputanom_fit(ref, decls + 1, 1, 0.01, 0, &a), KN_ERR_INVALID,
                   "no numeric input column with values in the reference");
    KN_CHECK_FAILS(kn_inputanom_fit(ref, decls, 5, 0, 0, &a), KN_ERR_INVALID,
                   "contamination 0 is not between 0 and 1");
    assert_null(a);
    kn_inputanom_free(NULL);
    kn_frame_free(few), kn_frame_free(ref);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_fit_and_windows),
        cmocka_unit_test(test_beta_binomial),
        cmocka_unit_test(test_bad_input),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
