/* learn: the drift reference (kiln/drift_ref.h). Under the sample size it
 * gives exactly what the rows give (kn_drift_frames); over it the sample
 * holds the least and greatest values and the deciles at their ranks; a
 * text column over the level cap keeps the most frequent values and an
 * "other" count (and reports no unseen values); encode/decode round-trips
 * byte for byte; damaged bytes are KN_ERR_CORRUPT. */
#include "read_util.h"

#include "kiln/drift_ref.h"
#include "kiln/mem.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

/* A CSV of n rows: x numeric (every 10th missing), c one of `levels` values
 * (value i % levels, more of the low ones), s "a" or "b". */
static kn_frame *rows(size_t n, size_t levels, double shift)
{
    size_t cap = 64 + n * 48, len = 0;
    char *text = kn_malloc(cap);
    assert_non_null(text);
    len += (size_t)snprintf(text + len, cap - len, "x,c,s\n");
    for (size_t i = 0; i < n; i++) {
        size_t k = (i * 7919) % n, lv = (k * k / (n ? n : 1)) % levels;
        if (i % 10 == 3)
            len += (size_t)snprintf(text + len, cap - len, ",v%zu,%s\n", lv, i % 3 ? "a" : "b");
        else
            len += (size_t)snprintf(text + len, cap - len, "%.6f,v%zu,%s\n",
                                    (double)k / (double)n + shift, lv, i % 3 ? "a" : "b");
    }
    kn_frame *f = read_as(".csv", text);
    kn_free(text);
    return f;
}

static void same_col(const kn_drift_col *a, const kn_drift_col *b)
{
    assert_string_equal(a->name, b->name);
    assert_int_equal(a->n_ref, b->n_ref);
    assert_int_equal(a->n_cur, b->n_cur);
    assert_int_equal(a->unseen, b->unseen);
    assert_int_equal(a->drifted, b->drifted);
    const double x[] = {a->missing_ref, a->missing_cur, a->ks_d,       a->ks_p, a->wasserstein,
                        a->chi2,        a->chi2_p,      a->js,         a->psi,  a->psi_threshold,
                        a->p,           a->p_adjusted,  a->unseen_frac},
                 y[] = {b->missing_ref, b->missing_cur, b->ks_d,       b->ks_p, b->wasserstein,
                        b->chi2,        b->chi2_p,      b->js,         b->psi,  b->psi_threshold,
                        b->p,           b->p_adjusted,  b->unseen_frac};
    for (size_t i = 0; i < sizeof x / sizeof *x; i++)
        if (!(x[i] == y[i] || (isnan(x[i]) && isnan(y[i]))))
            fail_msg("%s: figure %zu: %.17g from the reference, %.17g from the rows", a->name, i,
                     x[i], y[i]);
}

static void exact_under_the_sample(void **state)
{
    (void)state;
    kn_frame *ref = rows(1500, 40, 0), *cur = rows(700, 45, 0.05);
    kn_drift_ref *r = NULL;
    KN_CHECK(kn_drift_ref_build(ref, NULL, 0, &r));
    assert_int_equal(kn_drift_ref_rows(r), 1500);
    assert_int_equal(kn_drift_ref_kept(r, 0), 1350); /* every present value */
    kn_drift_report a, b;
    KN_CHECK(kn_drift_ref_frames(r, cur, NULL, &a));
    KN_CHECK(kn_drift_frames(ref, cur, NULL, &b));
    assert_int_equal(a.n_cols, 3);
    assert_int_equal(a.n_cols, b.n_cols);
    assert_int_equal(a.n_drifted, b.n_drifted);
    for (size_t i = 0; i < a.n_cols; i++) same_col(&a.cols[i], &b.cols[i]);
    assert_true(a.cols[1].unseen > 0); /* v40..v44 */
    kn_drift_report_free(&a);
    kn_drift_report_free(&b);
    kn_drift_ref_free(r);
    kn_frame_free(ref);
    kn_frame_free(cur);
}

static void sampled_and_capped(void **state)
{
    (void)state;
    kn_frame *ref = rows(30000, 1500, 0), *cur = rows(2000, 1500, 0);
    kn_drift_ref *r = NULL;
    const char *names[] = {"c", "x"};
    KN_CHECK(kn_drift_ref_build(ref, names, 2, &r));
    assert_int_equal(kn_drift_ref_n_cols(r), 2);
    assert_string_equal(kn_drift_ref_name(r, 1), "x");
    size_t m = 0, present = 0, cells = 0;
    const double *s = kn_drift_ref_sample(r, 1, &m, &present, &cells);
    assert_int_equal(m, KN_DRIFT_REF_SAMPLE);
    assert_int_equal(present, 27000);
    assert_int_equal(cells, 30000);
    /* the least and greatest, and the deciles at rank floor(q (n - 1) / 10) */
    double *all = kn_malloc(present * sizeof *all);
    assert_non_null(all);
    size_t k = 0;
    kn_column *x = kn_frame_col(ref, 0);
    for (size_t i = 0; i < 30000; i++)
        if (!kn_column_is_missing(x, i)) all[k++] = kn_column_number(x, i);
    double lo = all[0], hi = all[0];
    for (size_t i = 0; i < k; i++) lo = fmin(lo, all[i]), hi = fmax(hi, all[i]);
    assert_true(s[0] == lo && s[m - 1] == hi);
    for (size_t q = 1; q < 10; q++) {
        size_t rank = q * (present - 1) / 10, below = 0;
        double v = s[q * (m - 1) / 10];
        for (size_t i = 0; i < k; i++) below += all[i] < v;
        assert_true(below <= rank); /* v is the value of that rank */
        size_t upto = 0;
        for (size_t i = 0; i < k; i++) upto += all[i] <= v;
        assert_true(upto > rank);
    }
    kn_free(all);
    size_t levels = 0;
    uint64_t missing = 0, other = 0;
    kn_drift_ref_levels(r, 0, &levels, NULL, NULL, NULL, &missing, &other);
    assert_int_equal(levels, KN_DRIFT_REF_LEVELS);
    assert_true(other > 0);
    /* the batch's values outside the kept ones go to "other", not unseen */
    kn_drift_report a;
    KN_CHECK(kn_drift_ref_frames(r, cur, NULL, &a));
    assert_int_equal(a.n_cols, 2);
    assert_string_equal(a.cols[0].name, "c");
    assert_int_equal(a.cols[0].unseen, 0);
    assert_false(a.cols[1].drifted);
    assert_true(a.cols[1].ks_d < 0.05);
    kn_drift_report_free(&a);
    /* a round trip gives the same bytes */
    unsigned char *b1 = NULL, *b2 = NULL;
    size_t n1 = 0, n2 = 0;
    KN_CHECK(kn_drift_ref_encode(r, &b1, &n1));
    kn_drift_ref *back = NULL;
    KN_CHECK(kn_drift_ref_decode(b1, n1, "test", &back));
    KN_CHECK(kn_drift_ref_encode(back, &b2, &n2));
    assert_int_equal(n1, n2);
    assert_memory_equal(b1, b2, n1);
    /* damaged: truncated, or a sample out of order */
    kn_drift_ref *bad = NULL;
    assert_int_equal(kn_drift_ref_decode(b1, n1 - 3, "test", &bad), KN_ERR_CORRUPT);
    assert_null(bad);
    size_t at = n1 - (size_t)m * 8; /* the last column's sample */
    double first;
    memcpy(&first, b1 + at, 8);
    first = hi + 1;
    memcpy(b1 + at, &first, 8);
    assert_int_equal(kn_drift_ref_decode(b1, n1, "test", &bad), KN_ERR_CORRUPT);
    assert_non_null(strstr(kn_last_error(), "'x'"));
    kn_free(b1), kn_free(b2);
    kn_drift_ref_free(back);
    kn_drift_ref_free(r);
    kn_frame_free(ref);
    kn_frame_free(cur);
}

static void predictions(void **state)
{
    (void)state;
    kn_frame *ref = rows(100, 3, 0);
    kn_drift_ref *r = NULL;
    KN_CHECK(kn_drift_ref_build(ref, NULL, 0, &r));
    double y[] = {0, 1, 1, 2, 1, 0};
    const char *classes[] = {"zeta", "alpha", "mid"};
    KN_CHECK(kn_drift_ref_add_predictions(r, y, 6, classes, 3));
    long j = kn_drift_ref_find(r, "(prediction)", KN_DRIFT_REF_PREDICTION);
    assert_int_equal(j, 3);
    assert_int_equal(kn_drift_ref_find(r, "(prediction)", KN_DRIFT_REF_INPUT), -1);
    size_t k = 0;
    const char *const *values = NULL;
    const uint64_t *counts = NULL;
    kn_drift_ref_levels(r, (size_t)j, &k, &values, NULL, &counts, NULL, NULL);
    assert_int_equal(k, 3);
    assert_string_equal(values[0], "alpha"); /* byte order */
    assert_int_equal(counts[0], 3);
    assert_int_equal(counts[2], 2); /* zeta */
    unsigned char *b = NULL;
    size_t n = 0;
    KN_CHECK(kn_drift_ref_encode(r, &b, &n));
    kn_drift_ref *back = NULL;
    KN_CHECK(kn_drift_ref_decode(b, n, "test", &back));
    assert_int_equal(kn_drift_ref_n_cols(back), 4);
    kn_free(b);
    kn_drift_ref_free(back);
    kn_drift_ref_free(r);
    kn_frame_free(ref);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(exact_under_the_sample),
        cmocka_unit_test(sampled_and_capped),
        cmocka_unit_test(predictions),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
