/* learn: the k-means kernels (kmeans_block.c) against plain scalar
 * distances on random rows: the dgemm distances within their rounding
 * bound, the nearest centre and its exact distance, the k-means++ trial
 * sums with and without the rows the triangle inequality leaves out, and
 * the per-chunk sums Lloyd moves row by row against sums from scratch,
 * the k-means++ trial kernels (AVX-512, AVX2, portable) bit for bit, and
 * the chosen candidate's update left pending against applied at once. */
#include "test_util.h"

#include "core/simd.h"
#include "kiln/mem.h"
#include "kiln/rng.h"
#include "learn/unsup/kmeans-impl.h"

#include <math.h>
#include <string.h>

enum { N = 9000, P = 7, K = 12, T = 4 }; /* N spans three chunks */

static double *random_rows(size_t n, size_t p, uint64_t seed)
{
    kn_rng r;
    kn_rng_init(&r, seed);
    double *x = kn_malloc(n * p * sizeof *x);
    for (size_t i = 0; i < n * p; i++) x[i] = 20 * kn_rng_uniform(&r) - 10;
    return x;
}

static void gemm_distances(void **state)
{
    (void)state;
    double *x = random_rows(N, P, 1), *c = random_rows(K, P, 2);
    double *xn = kn_malloc(N * sizeof *xn), cn[K], *d = kn_malloc(N * K * sizeof *d);
    kn__km_norms(x, N, P, xn);
    kn__km_point_norms(c, K, P, cn);
    kn__km_gemm_dist(x, P, xn, 0, N, c, cn, K, d, N);
    for (size_t t = 0; t < K; t++)
        for (size_t i = 0; i < N; i++) {
            double want = kn__km_dist2(x, P, i, c + t * P);
            assert_true(fabs(d[t * N + i] - want) <= 1e-13 * (xn[i] + cn[t]));
        }
    size_t *label = kn_malloc(N * sizeof *label);
    double *dist = kn_malloc(N * sizeof *dist);
    KN_CHECK(kn__km_assign(x, N, P, xn, c, K, label, dist));
    for (size_t i = 0; i < N; i++) {
        double best;
        size_t want = kn__km_nearest(x, P, i, c, K, &best);
        /* the same centre unless two are within rounding of each other */
        if (label[i] != want)
            assert_true(fabs(kn__km_dist2(x, P, i, c + label[i] * P) - best) <= 1e-12 * xn[i]);
        assert_true(dist[i] == kn__km_dist2(x, P, i, c + label[i] * P)); /* exact: same bits */
    }
    kn_free(x), kn_free(c), kn_free(xn), kn_free(d), kn_free(label), kn_free(dist);
}

static void trials_left_out(void **state)
{
    (void)state;
    /* rows in K tight groups around the centres, candidates from T of them:
     * the rows of the other groups cannot come closer */
    double *x = random_rows(N, P, 3), *cen = random_rows(K, P, 4), *cand = random_rows(T, P, 5);
    for (size_t i = 0; i < N; i++)
        for (size_t j = 0; j < P; j++) x[i * P + j] = cen[(i % K) * P + j] + x[i * P + j] / 40;
    for (size_t t = 0; t < T; t++) memcpy(cand + t * P, x + (5 * t + 1) * P, P * sizeof *cand);
    double *xn = kn_malloc(N * sizeof *xn), *closest = kn_malloc(N * sizeof *closest);
    size_t *near = kn_malloc(N * sizeof *near), chunks = kn__km_chunks(N);
    double far[T * K], cpart[3], all[3 * T], some[3 * T];
    assert_true(chunks == 3);
    kn__km_norms(x, N, P, xn);
    for (size_t i = 0; i < N; i++) near[i] = kn__km_nearest(x, P, i, cen, K, &closest[i]);
    for (size_t ch = 0; ch < chunks; ch++) {
        cpart[ch] = 0;
        for (size_t i = ch * KM_CHUNK; i < N && i < (ch + 1) * KM_CHUNK; i++)
            cpart[ch] += closest[i];
    }
    for (size_t t = 0; t < T; t++)
        for (size_t a = 0; a < K; a++)
            far[t * K + a] = kn__km_dist2(cand + t * P, P, 0, cen + a * P);
    kn__km_near nb = {.m = kn_malloc(chunks * sizeof *nb.m),
                      .all = kn_malloc(chunks * sizeof *nb.all),
                      .idx = kn_malloc(N * sizeof *nb.idx),
                      .dist = kn_malloc(N * T * sizeof *nb.dist)};
    float *xs = kn_malloc(N * P * sizeof *xs);
    for (size_t v = 0; v < N * P; v++) xs[v] = (float)x[v];
    KN_CHECK(kn__km_trials(xs, N, P, cand, T, closest, near, NULL, K, cpart, &nb, all));
    KN_CHECK(kn__km_trials(xs, N, P, cand, T, closest, near, far, K, cpart, &nb, some));
    for (size_t v = 0; v < 3 * T; v++) /* the same sums, up to the order of additions */
        assert_true(fabs(all[v] - some[v]) <= 1e-9 * all[v]);
    /* every row left out is no closer to any candidate than to its centre */
    size_t kept = 0;
    for (size_t ch = 0; ch < chunks; ch++) kept += nb.m[ch];
    assert_true(kept < N); /* some were left out */
    for (size_t ch = 0; ch < chunks; ch++) {
        size_t lo = ch * KM_CHUNK, hi = lo + KM_CHUNK < N ? lo + KM_CHUNK : N, q = 0;
        for (size_t i = lo; i < hi; i++) {
            if (q < nb.m[ch] && nb.idx[lo + q] == i - lo) {
                q++;
                continue;
            }
            for (size_t t = 0; t < T; t++)
                assert_true(kn__km_dist2(x, P, i, cand + t * P) >= closest[i] * (1 - 1e-9));
        }
    }
    kn_free(x), kn_free(cen), kn_free(cand), kn_free(xn), kn_free(closest), kn_free(near);
    kn_free(xs), kn_free(nb.m), kn_free(nb.all), kn_free(nb.idx), kn_free(nb.dist);
}

/* The k-means++ trial kernels (AVX-512, AVX2, portable) give the same
 * bits, with and without rows left out, for one, four and eleven
 * candidates (two groups of eight lanes), and the portable one is the
 * plain sum over features of ((double)row - candidate)^2, rounded to float. */
static void trial_kernels_agree(void **state)
{
    (void)state;
    double *x = random_rows(N, P, 8), *cen = random_rows(K, P, 9), *cand = random_rows(11, P, 10);
    float *xs = kn_malloc(N * P * sizeof *xs);
    for (size_t v = 0; v < N * P; v++) xs[v] = (float)x[v];
    double *closest = kn_malloc(N * sizeof *closest), far[11 * K], cpart[3];
    size_t *near = kn_malloc(N * sizeof *near), chunks = kn__km_chunks(N);
    for (size_t i = 0; i < N; i++) near[i] = kn__km_nearest(x, P, i, cen, K, &closest[i]);
    for (size_t ch = 0; ch < chunks; ch++) {
        cpart[ch] = 0;
        for (size_t i = ch * KM_CHUNK; i < N && i < (ch + 1) * KM_CHUNK; i++)
            cpart[ch] += closest[i];
    }
    for (size_t t = 0; t < 11; t++)
        for (size_t a = 0; a < K; a++)
            far[t * K + a] = kn__km_dist2(cand + t * P, P, 0, cen + a * P);
    static const size_t trial_counts[] = {1, 4, 11};
    for (size_t c = 0; c < 3; c++) {
        size_t T2 = trial_counts[c];
        double fart[11 * K];
        for (size_t t = 0; t < T2; t++) memcpy(fart + t * K, far + t * K, K * sizeof *far);
        for (int with_far = 0; with_far < 2; with_far++) {
            kn__km_near nb[3];
            double part[3][3 * 11];
            for (int mode = 0; mode < 3; mode++) { /* 0: best here, 1: AVX2 at most, 2: portable */
                nb[mode] = (kn__km_near){.m = kn_malloc(chunks * sizeof *nb[mode].m),
                                         .all = kn_malloc(chunks * sizeof *nb[mode].all),
                                         .idx = kn_malloc(N * sizeof *nb[mode].idx),
                                         .dist = kn_malloc(N * T2 * sizeof *nb[mode].dist)};
                kn__simd_off = mode == 0 ? 0 : mode == 1 ? 2 : 1;
                KN_CHECK(kn__km_trials(xs, N, P, cand, T2, closest, near, with_far ? fart : NULL, K,
                                       cpart, &nb[mode], part[mode]));
                kn__simd_off = 0;
            }
            for (int mode = 1; mode < 3; mode++) {
                assert_memory_equal(part[0], part[mode], chunks * T2 * sizeof(double));
                for (size_t ch = 0; ch < chunks; ch++) {
                    size_t lo = ch * KM_CHUNK, m = nb[0].m[ch];
                    assert_int_equal(m, nb[mode].m[ch]);
                    assert_memory_equal(nb[0].dist + lo * T2, nb[mode].dist + lo * T2,
                                        m * T2 * sizeof(float));
                }
            }
            for (size_t ch = 0; ch < chunks; ch++) { /* the portable sums, from scratch */
                size_t lo = ch * KM_CHUNK, m = nb[2].m[ch];
                if (!with_far) assert_int_equal(m, lo + KM_CHUNK < N ? KM_CHUNK : N - lo);
                for (size_t q = 0; q < m; q++) {
                    size_t i = lo + (nb[2].all[ch] ? q : nb[2].idx[lo + q]);
                    for (size_t t = 0; t < T2; t++) {
                        double v = 0;
                        for (size_t j = 0; j < P; j++) {
                            double e = (double)xs[i * P + j] - cand[t * P + j];
                            v += e * e;
                        }
                        assert_true(nb[2].dist[lo * T2 + q * T2 + t] == (float)v);
                    }
                }
            }
            for (int mode = 0; mode < 3; mode++)
                kn_free(nb[mode].m), kn_free(nb[mode].all), kn_free(nb[mode].idx),
                    kn_free(nb[mode].dist);
        }
    }
    kn_free(x), kn_free(cen), kn_free(cand), kn_free(xs), kn_free(closest), kn_free(near);
}

/* A chosen candidate's distances left pending (kn__km_choose) and taken
 * into closest and near inside the next step's pass over the rows give
 * the same closest, nearest centres, kept rows and trial sums, bit for
 * bit, as applying them first in a pass of their own (kn__km_flush); a
 * second application changes nothing. The first step has T candidates
 * and leaves rows out, or (first1) one candidate against every row, as
 * the seeding's first step. */
static void pending_case(int first1)
{
    double *x = random_rows(N, P, 11), *cen = random_rows(K, P, 12),
           *cand = random_rows(2 * T, P, 13);
    float *xs = kn_malloc(N * P * sizeof *xs);
    for (size_t i = 0; i < N; i++) /* rows near the centres: some are left out */
        for (size_t j = 0; j < P; j++) x[i * P + j] = cen[(i % K) * P + j] + x[i * P + j] / 20;
    for (size_t t = 0; t < 2 * T; t++) memcpy(cand + t * P, x + (7 * t + 3) * P, P * sizeof *cand);
    for (size_t v = 0; v < N * P; v++) xs[v] = (float)x[v];
    size_t chunks = kn__km_chunks(N);
    double *cl[2], cpart[2][3], part[2][3 * T], far[T * (K + 1)];
    size_t *near[2];
    kn__km_near nb[2];
    for (int w = 0; w < 2; w++) {
        cl[w] = kn_malloc(N * sizeof *cl[w]);
        near[w] = kn_malloc(N * sizeof *near[w]);
        for (size_t i = 0; i < N; i++) near[w][i] = kn__km_nearest(x, P, i, cen, K, &cl[w][i]);
        for (size_t ch = 0; ch < chunks; ch++) {
            cpart[w][ch] = 0;
            for (size_t i = ch * KM_CHUNK; i < N && i < (ch + 1) * KM_CHUNK; i++)
                cpart[w][ch] += cl[w][i];
        }
        nb[w] = (kn__km_near){.m = kn_malloc(chunks * sizeof *nb[w].m),
                              .all = kn_malloc(chunks * sizeof *nb[w].all),
                              .idx = kn_malloc(N * sizeof *nb[w].idx),
                              .dist = kn_malloc(N * T * sizeof *nb[w].dist)};
    }
    /* step one: candidates 0 .. T-1 (first1: candidate 0) against the K
     * centres, the second (first1: the first) becomes centre K; step two:
     * candidates T .. 2T-1 against K + 1 */
    for (size_t t = 0; t < T; t++)
        for (size_t a = 0; a < K; a++)
            far[t * K + a] = kn__km_dist2(cand + t * P, P, 0, cen + a * P);
    size_t t1 = first1 ? 1 : T, pick = first1 ? 0 : 1;
    for (int w = 0; w < 2; w++) {
        KN_CHECK(kn__km_trials(xs, N, P, cand, t1, cl[w], near[w], first1 ? NULL : far, K, cpart[w],
                               &nb[w], part[w]));
        kn__km_choose(&nb[w], N, t1, pick, K, part[w], cpart[w]);
        assert_true(nb[w].pending);
    }
    kn__km_flush(N, &nb[0], cl[0], near[0]); /* 0: at once; 1: in the next pass */
    assert_false(nb[0].pending);
    double *k1 = kn_malloc((K + 1) * P * sizeof *k1);
    memcpy(k1, cen, K * P * sizeof *k1);
    memcpy(k1 + K * P, cand + pick * P, P * sizeof *k1);
    for (size_t t = 0; t < T; t++)
        for (size_t a = 0; a <= K; a++)
            far[t * (K + 1) + a] = kn__km_dist2(cand + (T + t) * P, P, 0, k1 + a * P);
    for (int w = 0; w < 2; w++)
        KN_CHECK(kn__km_trials(xs, N, P, cand + T * P, T, cl[w], near[w], far, K + 1, cpart[w],
                               &nb[w], part[w]));
    assert_false(nb[1].pending);
    assert_memory_equal(cl[0], cl[1], N * sizeof(double));
    assert_memory_equal(near[0], near[1], N * sizeof(size_t));
    assert_memory_equal(part[0], part[1], chunks * T * sizeof(double));
    size_t moved = 0;
    for (size_t i = 0; i < N; i++) moved += near[0][i] == K;
    assert_true(moved > 0 && moved < N); /* the update did something */
    for (size_t ch = 0; ch < chunks; ch++) {
        assert_int_equal(nb[0].m[ch], nb[1].m[ch]);
        assert_memory_equal(nb[0].idx + ch * KM_CHUNK, nb[1].idx + ch * KM_CHUNK,
                            nb[0].m[ch] * sizeof(size_t));
    }
    /* applying a pending update twice is applying it once */
    kn__km_choose(&nb[1], N, T, 2, K + 1, part[1], cpart[1]);
    kn__km_flush(N, &nb[1], cl[1], near[1]);
    memcpy(cl[0], cl[1], N * sizeof(double));
    nb[1].pending = 1;
    kn__km_flush(N, &nb[1], cl[1], near[1]);
    assert_memory_equal(cl[0], cl[1], N * sizeof(double));
    for (int w = 0; w < 2; w++) {
        kn_free(cl[w]), kn_free(near[w]);
        kn_free(nb[w].m), kn_free(nb[w].all), kn_free(nb[w].idx), kn_free(nb[w].dist);
    }
    kn_free(x), kn_free(cen), kn_free(cand), kn_free(xs), kn_free(k1);
}

static void pending_update(void **state)
{
    (void)state;
    pending_case(0);
    pending_case(1);
}

static void moved_sums(void **state)
{
    (void)state;
    double *x = random_rows(N, P, 6), *c = random_rows(K, P, 7);
    double *xn = kn_malloc(N * sizeof *xn), half[K];
    double *ub = kn_malloc(N * sizeof *ub), *lb = kn_malloc(N * sizeof *lb);
    size_t *label = kn_malloc(N * sizeof *label), chunks = kn__km_chunks(N);
    double *sum = kn_malloc(chunks * K * P * sizeof *sum),
           *want = kn_malloc(chunks * K * P * sizeof *want);
    size_t *count = kn_malloc(chunks * K * sizeof *count),
           *wcount = kn_malloc(chunks * K * sizeof *wcount);
    int changed;
    kn__km_norms(x, N, P, xn);
    for (size_t i = 0; i < N; i++) label[i] = SIZE_MAX;
    KN_CHECK(
        kn__km_assign_bounded(x, N, P, xn, c, K, label, ub, lb, half, 1, &changed, sum, count));
    kn__km_sums(x, N, P, K, label, sum, count);
    for (size_t v = 0; v < K * P; v++) c[v] += 0.5; /* the centres move: some rows change */
    for (size_t a = 0; a < K; a++) half[a] = 0;     /* no bound spares a row */
    for (size_t i = 0; i < N; i++) ub[i] = INFINITY;
    KN_CHECK(
        kn__km_assign_bounded(x, N, P, xn, c, K, label, ub, lb, half, 0, &changed, sum, count));
    assert_true(changed);
    kn__km_sums(x, N, P, K, label, want, wcount);
    for (size_t v = 0; v < chunks * K; v++) assert_true(count[v] == wcount[v]);
    for (size_t v = 0; v < chunks * K * P; v++) assert_true(fabs(sum[v] - want[v]) <= 1e-9);
    kn_free(x), kn_free(c), kn_free(xn), kn_free(ub), kn_free(lb), kn_free(label);
    kn_free(sum), kn_free(want), kn_free(count), kn_free(wcount);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(gemm_distances),      cmocka_unit_test(trials_left_out),
        cmocka_unit_test(trial_kernels_agree), cmocka_unit_test(pending_update),
        cmocka_unit_test(moved_sums),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
