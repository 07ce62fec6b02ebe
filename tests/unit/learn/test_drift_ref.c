/* learn: the drift reference (kiln/drift_ref.h). Under the sample size it
 * gives exactly what the rows give (kn_drift_frames); over it the sample
 * holds the least and greatest values and the deciles at their ranks; a
 * text column over the level cap keeps the most frequent values and an
 * "other" count (and reports no unseen values); encode/decode round-trips
 * byte for byte; damaged bytes are KN_ERR_CORRUPT; a batch tested against
 * the reference unsorted gives what sorting it gives. */
#include "read_util.h"
#include "core/simd.h"

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

/* Equal, or both NaN; or within 1e-12 of each other relative to the size
 * (near: the Wasserstein distance, which a reference sums per gap of its
 * sample while the rows' test walks both sorted sides). */
static int same_figure(double x, double y, int near)
{
    return x == y || (isnan(x) && isnan(y)) || (near && fabs(x - y) <= 1e-12 * fmax(1, fabs(y)));
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
        if (!same_figure(x[i], y[i], i == 4))
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

/* A numeric frame of one column "x" holding v. */
static kn_frame *numbers(const double *v, size_t n)
{
    kn_frame *f = NULL;
    kn_column *x = NULL;
    KN_CHECK(kn_frame_new(&f));
    KN_CHECK(kn_frame_add_column(f, "x", KN_COL_NUMERIC, &x));
    KN_CHECK(kn_frame_resize(f, n));
    memcpy(kn_column_f64(x), v, n * sizeof *v);
    return f;
}

/* A served window is tested against the stored reference without being
 * sorted (each value placed among the sample's by a binary search): the
 * same D, p-value and PSI as sorting it and walking both sides
 * (kn_drift_numbers_sample), the same Wasserstein distance up to rounding.
 * Batches with ties to the sample's values, runs of equal values, values
 * beyond both ends, missing cells, a shift (few crossings of the CDFs) and
 * none (many), with a full sample and a sampled one, skewed values (a
 * part of the sample's index holding many: halvings before the compare);
 * an infinite value (sorted and walked instead). With the AVX-512 paths,
 * the AVX2 ones and their portable twins. */
static void unsorted_batch_as_walk(void **state)
{
    (void)state;
    uint64_t s = 7;
    double *ref = kn_malloc(6000 * sizeof *ref), b[1200];
    assert_non_null(ref);
    for (size_t round = 0; round < 144; round++) {
        /* each 24 rounds again with the SIMD paths (AVX-512 where the CPU
         * has it), the portable ones, the AVX2 ones; rounds 72-143 on
         * skewed values (many in a part of the sample's index: halvings
         * first) */
        kn__simd_off = (int)(round / 24 % 3);
        size_t n_ref = round % 2 ? 6000 : 1 + round % 24 * 83, nb = 1 + round % 24 * 47;
        int grid = round % 3 == 0; /* few distinct values: many ties */
        double shift = round % 4 == 1 ? 0.3 : 0;
        for (size_t i = 0; i < n_ref + nb; i++) {
            s = s * 6364136223846793005u + 1442695040888963407u;
            double u = (double)(s >> 11) / 9007199254740992.0, v = grid ? floor(u * 12) : u;
            if (round >= 72 && !grid) v = pow(u, 12);
            if (i % 17 == 5) v = NAN;
            if (i < n_ref)
                ref[i] = v;
            else
                b[i - n_ref] = i % 29 == 3 ? v * 3 - 1 : v + shift; /* some beyond the ends */
        }
        if (round % 24 == 23) b[nb / 2] = INFINITY;
        kn_frame *f = numbers(ref, n_ref);
        kn_drift_ref *r = NULL;
        KN_CHECK(kn_drift_ref_build(f, NULL, 0, &r));
        size_t m = 0, present = 0, cells = 0;
        const double *sample = kn_drift_ref_sample(r, 0, &m, &present, &cells);
        kn_drift_col a, w;
        int ta = 0, tw = 0;
        kn_drift_ref_prefetch(r, round % 2 ? 0 : 1); /* a hint (1: no such column) */
        KN_CHECK(kn_drift_ref_numbers(r, 0, b, nb, NULL, &a, &ta));
        KN_CHECK(kn_drift_numbers_sample("x", sample, m, present, cells, b, nb, NULL, &w, &tw));
        assert_int_equal(ta, tw);
        same_col(&a, &w);
        kn_drift_col_free(&a);
        kn_drift_col_free(&w);
        kn_drift_ref_free(r);
        kn_frame_free(f);
    }
    kn__simd_off = 0;
    kn_free(ref);
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

/* A classifier's scores: the positive class's probability (two classes),
 * the top class's (more); kept as a numeric prediction column beside the
 * classes, round-tripping; tested as kn_drift_numbers tests the values;
 * the two prediction tests one Benjamini-Hochberg family. */
static void scores(void **state)
{
    (void)state;
    const double two[] = {0.9, 0.1}, three[] = {0.2, 0.5, 0.3};
    assert_true(kn_drift_class_score(two, 2) == 0.1);
    assert_true(kn_drift_class_score(three, 3) == 0.5);
    assert_true(isnan(kn_drift_class_score(two, 1)));
    kn_frame *ref = rows(100, 3, 0);
    kn_drift_ref *r = NULL;
    KN_CHECK(kn_drift_ref_build(ref, NULL, 0, &r));
    double y[300], s[300], b[200];
    const char *classes[] = {"bad", "good"};
    for (size_t i = 0; i < 300; i++) {
        y[i] = (double)(i % 7 == 0);
        s[i] = fmod((double)i * 0.6180339887498949, 1.0) * 0.2; /* spread over [0, 0.2) */
    }
    for (size_t i = 0; i < 200; i++) b[i] = fmod((double)i * 0.7548776662466927, 1.0) * 0.2 + 0.05;
    KN_CHECK(kn_drift_ref_add_predictions(r, y, 300, classes, 2));
    KN_CHECK(kn_drift_ref_add_scores(r, s, 300));
    unsigned char *buf = NULL;
    size_t n = 0;
    KN_CHECK(kn_drift_ref_encode(r, &buf, &n));
    kn_drift_ref *back = NULL;
    KN_CHECK(kn_drift_ref_decode(buf, n, "test", &back));
    long j = kn_drift_ref_find(back, KN_DRIFT_SCORE_NAME, KN_DRIFT_REF_PREDICTION);
    assert_true(j >= 0);
    assert_false(kn_drift_ref_text(back, (size_t)j));
    assert_int_equal(kn_drift_ref_kept(back, (size_t)j), 300);
    kn_drift_col a, want;
    int ta = 0, tw = 0;
    KN_CHECK(kn_drift_ref_numbers(back, (size_t)j, b, 200, NULL, &a, &ta));
    KN_CHECK(kn_drift_numbers(KN_DRIFT_SCORE_NAME, s, 300, b, 200, NULL, &want, &tw));
    assert_true(ta && tw);
    same_col(&a, &want);
    /* with the classes' test: one family of two */
    kn_drift_col pred;
    double rc[2] = {43, 257}, cc[2] = {29, 171};
    KN_CHECK(kn_drift_counts("(prediction)", rc, cc, 2, NULL, &pred));
    double ps = a.p, pp = pred.p;
    KN_CHECK(kn_drift_decide_predictions(&pred, 1, &a, 1, NULL));
    double lo = fmin(ps, pp), hi = fmax(ps, pp);
    assert_true(fabs(fmin(a.p_adjusted, pred.p_adjusted) - fmin(2 * lo, hi)) < 1e-15);
    assert_true(fabs(fmax(a.p_adjusted, pred.p_adjusted) - hi) < 1e-15);
    assert_true(a.drifted); /* shifted by a quarter of the range */
    KN_CHECK(kn_drift_decide_predictions(&pred, 1, &a, 0, NULL)); /* alone: its own p */
    assert_true(pred.p_adjusted == pp);
    kn_drift_col_free(&a), kn_drift_col_free(&want), kn_drift_col_free(&pred);
    kn_free(buf);
    kn_drift_ref_free(back);
    kn_drift_ref_free(r);
    kn_frame_free(ref);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(exact_under_the_sample),
        cmocka_unit_test(sampled_and_capped),
        cmocka_unit_test(unsorted_batch_as_walk),
        cmocka_unit_test(predictions),
        cmocka_unit_test(scores),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
