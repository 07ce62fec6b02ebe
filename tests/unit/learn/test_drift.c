/* learn: drift tests (kiln/drift.h) against values scipy 1.10 gives:
 * ks_2samp's exact p-values of small samples, kstwo.sf on each of its
 * branches (Ruben-Gambino, Durbin's matrix, Smirnov, Pelz-Good),
 * wasserstein_distance, jensenshannon, chi2.isf; and a drift report on a
 * frame whose one shifted column is the one flagged; a reference prepared
 * once (kn_drift_numref) gives kn_drift_numbers' figures. */
#include "read_util.h"

#include "kiln/compare.h"
#include "kiln/drift.h"
#include "kiln/mem.h"

#include <math.h>
#include <string.h>

static void near(double got, double want, double tol)
{
    if (!(fabs(got - want) <= tol * fmax(1, fabs(want))))
        fail_msg("got %.17g, want %.17g", got, want);
}

static void ks_exact(void **state)
{
    (void)state;
    double a[] = {0.1, 0.5, 0.9, 1.3, 2.0, 2.2, 3.1},
           b[] = {0.4, 1.0, 1.1, 2.5, 3.3, 3.4, 4.0, 4.4, 5.0};
    double d, p;
    KN_CHECK(kn_ks_2samp_auto(a, 7, b, 9, &d, &p));
    near(d, 0.5555555555555556, 1e-15);
    near(p, 0.12674825174825174, 1e-12);
    double c[] = {1, 2, 3, 4, 5, 6, NAN}, e[] = {4, 5, 6, 7, 8, 9}; /* NaN skipped */
    KN_CHECK(kn_ks_2samp_auto(c, 7, e, 6, &d, &p));
    near(d, 0.5, 1e-15);
    near(p, 0.474025974025974, 1e-12);
}

/* Far apart samples: scipy sums the paths that leave the band, so its
 * exact p-value keeps its digits where one minus the paths that stay
 * would stop at 1.1e-16 (or give 0). Relative to scipy 1.10's values. */
static void ks_exact_tiny_p(void **state)
{
    (void)state;
    double a[300], b[300], d, p;
    for (int i = 0; i < 300; i++) a[i] = i, b[i] = i + 150.5;
    KN_CHECK(kn_ks_2samp_auto(a, 300, b, 200, &d, &p)); /* b: 150.5 .. 349.5 */
    near(d, 0.5033333333333333, 1e-15);
    assert_true(fabs(p / 3.8332752875486307e-28 - 1) < 1e-9);
    for (int i = 0; i < 60; i++) b[i] = i + 25;
    KN_CHECK(kn_ks_2samp_auto(a, 40, b, 60, &d, &p)); /* 0..39 against 25..84 */
    near(d, 0.75, 1e-15);
    assert_true(fabs(p / 1.2056406167472423e-13 - 1) < 1e-9);
    for (int i = 0; i < 50; i++) b[i] = i + 100;
    KN_CHECK(kn_ks_2samp_auto(a, 50, b, 50, &d, &p)); /* disjoint: D = 1 */
    near(d, 1, 1e-15);
    assert_true(fabs(p / 1.9823306042836678e-29 - 1) < 1e-9);
}

static void kstwo_branches(void **state)
{
    (void)state;
    near(kn_kstwo_sf(0.005, 100), 1.0, 1e-12);
    near(kn_kstwo_sf(0.08, 100), 0.5182193645480672, 1e-10);
    near(kn_kstwo_sf(0.3, 100), 1.7719869892662917e-08, 1e-10);
    near(kn_kstwo_sf(0.7, 100), 1.2211404981217991e-49, 1e-10);
    near(kn_kstwo_sf(0.02, 1000), 0.8108971656895577, 1e-10);
    near(kn_kstwo_sf(0.06, 1000), 0.001428597887952891, 1e-10);
    near(kn_kstwo_sf(0.004, 50000), 0.3994316646755731, 1e-10);
    near(kn_kstwo_sf(0.009, 50000), 0.0006033803687140785, 1e-10);
    /* under 2 exp(-740): zero, also for d >= 0.5 (scipy: 0.0) */
    assert_true(kn_kstwo_sf(0.7, 1000) == 0);
    double tail = kn_kstwo_sf(0.55, 1000); /* Smirnov's sum: nx2 = 302.5 */
    assert_true(fabs(tail / 1.356299236791213e-284 - 1) < 1e-9);
}

/* kn_drift_numbers walks the two sorted sides once for KS and Wasserstein:
 * the same bits as the separate functions, ties and missing cells included. */
static void one_walk_same_numbers(void **state)
{
    (void)state;
    enum { NA = 500, NB = 300 };
    double a[NA], b[NB];
    uint64_t s = 7;
    for (size_t i = 0; i < NA; i++) {
        s = s * 6364136223846793005u + 1442695040888963407u;
        a[i] = (double)(s >> 58) / 4; /* 64 values: many ties */
    }
    for (size_t i = 0; i < NB; i++) {
        s = s * 6364136223846793005u + 1442695040888963407u;
        b[i] = i % 37 == 0 ? NAN : (double)(s >> 59) / 4 + 1.5;
    }
    kn_drift_col c;
    int tested = 0;
    KN_CHECK(kn_drift_numbers("x", a, NA, b, NB, NULL, &c, &tested));
    assert_true(tested);
    double d, p, w;
    kn_ks_2samp(a, NA, b, NB, &d, &p);
    KN_CHECK(kn_wasserstein(a, NA, b, NB, &w));
    assert_true(c.ks_d == d);
    assert_true(c.wasserstein == w);
    kn_drift_col_free(&c);
}

/* KS and Wasserstein by their definitions: the CDFs counted at every
 * value of either sample, and the gap times the distance to the next. */
static void naive_ks_w(const double *a, size_t na, const double *b, size_t nb, double *ks,
                       double *w)
{
    double *u = kn_malloc((na + nb) * sizeof *u);
    assert_non_null(u);
    memcpy(u, a, na * sizeof *u);
    memcpy(u + na, b, nb * sizeof *u);
    for (size_t i = 1; i < na + nb; i++) /* insertion sort: small */
        for (size_t k = i; k > 0 && u[k - 1] > u[k]; k--) {
            double t = u[k];
            u[k] = u[k - 1], u[k - 1] = t;
        }
    *ks = *w = 0;
    for (size_t k = 0; k < na + nb; k++) {
        size_t ca = 0, cb = 0;
        for (size_t i = 0; i < na; i++) ca += a[i] <= u[k];
        for (size_t i = 0; i < nb; i++) cb += b[i] <= u[k];
        double gap = fabs((double)ca / (double)na - (double)cb / (double)nb);
        if (gap > *ks) *ks = gap;
        if (k + 1 < na + nb) *w += gap * (u[k + 1] - u[k]);
    }
    kn_free(u);
}

/* The walk in four stretches side by side (compare.c) against the
 * definitions, on sizes around its cut-off, with and without ties. */
static void walk_matches_definition(void **state)
{
    (void)state;
    uint64_t s = 11;
    for (size_t round = 0; round < 60; round++) {
        size_t na = 1 + round % 7 * 23, nb = 1 + round * 13 % 97;
        int ties = round % 3 == 0;
        double a[200], b[200];
        for (size_t i = 0; i < na + nb; i++) {
            s = s * 6364136223846793005u + 1442695040888963407u;
            double v = ties ? (double)(s >> 60) : (double)(s >> 11) / 9007199254740992.0;
            if (i < na)
                a[i] = v;
            else
                b[i - na] = v + (round % 2 ? 0.25 : 0);
        }
        double d, p, w, nd, nw;
        kn_ks_2samp(a, na, b, nb, &d, &p);
        KN_CHECK(kn_wasserstein(a, na, b, nb, &w));
        naive_ks_w(a, na, b, nb, &nd, &nw);
        near(d, nd, 1e-14);
        near(w, nw, 1e-12);
    }
}

static void distances(void **state)
{
    (void)state;
    double a[] = {0.1, 0.5, 0.9, 1.3, 2.0, 2.2, 3.1},
           b[] = {0.4, 1.0, 1.1, 2.5, 3.3, 3.4, 4.0, 4.4, 5.0};
    double w;
    KN_CHECK(kn_wasserstein(a, 7, b, 9, &w));
    near(w, 1.3460317460317461, 1e-14);
    near(kn_js_distance((double[]){10, 20, 30}, (double[]){15, 15, 40}, 3), 0.09594416628828953,
         1e-14);
    near(kn_chi2_isf(0.01, 9), 21.665994333461928, 1e-10);
}

/* 400 reference rows and 200 batch rows: x shifted by one sd in the batch,
 * y the same, c with 10 % of its cells an unseen value. */
static void report_flags_the_shift(void **state)
{
    (void)state;
    kn_frame *ref = NULL, *cur = NULL;
    kn_column *rx, *ry, *cx, *cy;
    KN_CHECK(kn_frame_new(&ref));
    KN_CHECK(kn_frame_new(&cur));
    KN_CHECK(kn_frame_add_column(ref, "x", KN_COL_NUMERIC, &rx));
    KN_CHECK(kn_frame_add_column(ref, "y", KN_COL_NUMERIC, &ry));
    KN_CHECK(kn_frame_add_column(cur, "x", KN_COL_NUMERIC, &cx));
    KN_CHECK(kn_frame_add_column(cur, "y", KN_COL_NUMERIC, &cy));
    KN_CHECK(kn_frame_resize(ref, 400));
    KN_CHECK(kn_frame_resize(cur, 200));
    double *vx = kn_column_f64(rx), *vy = kn_column_f64(ry);
    for (size_t i = 0; i < 400; i++) vx[i] = vy[i] = (double)((i * 37) % 400) / 400.0;
    vx = kn_column_f64(cx), vy = kn_column_f64(cy);
    for (size_t i = 0; i < 200; i++) {
        vy[i] = (double)((i * 53) % 200) / 200.0;
        vx[i] = vy[i] + 0.29; /* about one sd of a uniform on [0, 1) */
    }
    kn_drift_report r;
    KN_CHECK(kn_drift_frames(ref, cur, NULL, &r));
    assert_int_equal(r.n_cols, 2);
    assert_int_equal(r.n_drifted, 1);
    assert_string_equal(r.cols[0].name, "x");
    assert_true(r.cols[0].drifted);
    assert_string_equal(r.cols[0].why, "distribution");
    assert_false(r.cols[1].drifted);
    kn_drift_report_free(&r);
    kn_frame_free(ref);
    kn_frame_free(cur);
}

/* kn_drift_numbers_vs against kn_drift_numbers on the same arrays: D, the
 * p-value, the PSI and its threshold, the missing shares to the bit,
 * Wasserstein to 1e-12; through ties, missing cells on both sides, an
 * infinity in the batch (the sorted walk), a batch with nothing present,
 * and a reference with nothing present. */
static void prepared_reference_same_numbers(void **state)
{
    (void)state;
    enum { NA = 700, NB = 400 };
    double a[NA], b[NB];
    uint64_t s = 11;
    for (size_t i = 0; i < NA; i++) {
        s = s * 6364136223846793005u + 1442695040888963407u;
        a[i] = i % 41 == 0 ? NAN : i % 3 ? (double)(s >> 11) * 0x1p-53 : (double)(s >> 60) / 16;
    }
    for (int kind = 0; kind < 5; kind++) {
        for (size_t i = 0; i < NB; i++) {
            s = s * 6364136223846793005u + 1442695040888963407u;
            double u = (double)(s >> 11) * 0x1p-53;
            b[i] = kind == 3 || i % 29 == 0 ? NAN
                   : i % 4                  ? u * 1.2 - 0.1 * kind
                                            : (double)(s >> 60) / 16;
        }
        if (kind == 2) b[7] = INFINITY;
        const double *ref = a;
        double none[3] = {NAN, NAN, NAN};
        size_t na = NA;
        if (kind == 4) ref = none, na = 3;
        kn_drift_numref *r = NULL;
        KN_CHECK(kn_drift_numref_new(ref, na, NULL, &r));
        assert_true(kn_drift_numref_bytes(r) > 0);
        kn_drift_col want, got;
        int tw = 0, tg = 0;
        KN_CHECK(kn_drift_numbers("x", ref, na, b, NB, NULL, &want, &tw));
        for (int again = 0; again < 2; again++) { /* the prepared one is not changed by a use */
            KN_CHECK(kn_drift_numbers_vs("x", r, b, NB, NULL, &got, &tg));
            assert_int_equal(tg, tw);
            assert_true(got.missing_ref == want.missing_ref);
            assert_true(got.missing_cur == want.missing_cur);
            if (tw) {
                assert_true(got.ks_d == want.ks_d);
                assert_true(got.ks_p == want.ks_p);
                assert_true(got.psi == want.psi);
                assert_true(got.psi_threshold == want.psi_threshold);
                assert_true(got.p == want.p);
                if (isinf(want.wasserstein)) /* the batch's infinity */
                    assert_true(got.wasserstein == want.wasserstein);
                else
                    near(got.wasserstein, want.wasserstein, 1e-12);
            }
            assert_string_equal(got.name, "x");
            kn_drift_col_free(&got);
        }
        assert_int_equal(tw, kind < 3);
        kn_drift_col_free(&want);
        kn_drift_numref_free(r);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(ks_exact),
        cmocka_unit_test(ks_exact_tiny_p),
        cmocka_unit_test(kstwo_branches),
        cmocka_unit_test(distances),
        cmocka_unit_test(one_walk_same_numbers),
        cmocka_unit_test(prepared_reference_same_numbers),
        cmocka_unit_test(walk_matches_definition),
        cmocka_unit_test(report_flags_the_shift),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
