/* Times parts of a server's monitoring on fresh data each time (a
 * benchmark that reuses one array lets the branch predictor learn it):
 *   bench_monitor_parts [SHIFT]
 * Per-window figures are medians over the windows (a window preempted on
 * a loaded machine moves a mean, not a median); means beside them.
 * 1. One drift window of 1,000 normal values (rounded to 6 decimals, as
 *    CSV data is; shifted by SHIFT sd, default 0) against a stored
 *    reference sample of 2,001 values: sorted and walked beside the sample
 *    (kn__ks_wasserstein_sorted + kn__psi_with_ref: how windows were
 *    tested before) against placed by the sample's index (kn__vs_ref: how
 *    they are now), with the caches warm and with 8 MB read between
 *    windows (a server's window finds the reference out of cache). The
 *    two must agree: KS and PSI to the bit, Wasserstein to 1e-12.
 * 2. A KLL sketch's first 300,000 adds (the live statistics' cold start),
 *    in ns an add over 20 sketches.
 * 3. Input-anomaly scoring as a server's window does it (serve/anomwin.c):
 *    an isolation forest (100 trees) fitted by kn_inputanom_fit on 2,000
 *    reference rows of 20 normal columns scores 250 fresh rows a window
 *    (kn_inputanom_score), 400 windows, the trees walked as heaps and as
 *    node arrays in turns (they must give the same bits); with a checksum
 *    of the scores' bits (the same before and after a change to the
 *    scoring).
 * 4. A whole window's numeric drift tests as the server's tester makes
 *    them: kn_drift_ref_numbers (test, p-value, PSI) on 20 columns of
 *    1,000 fresh values against a reference built from those 2,000 rows. */
#include "kiln/drift.h"
#include "kiln/drift_ref.h"
#include "kiln/inputanom.h"
#include "kiln/mem.h"
#include "kiln/sketch.h"
#include "learn/eval/compare-impl.h"
#include "learn/learn-impl.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static double now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

static uint64_t state = 88172645463325252u;

static double normal(void)
{
    double u[2];
    for (int i = 0; i < 2; i++) {
        state ^= state << 13, state ^= state >> 7, state ^= state << 17;
        u[i] = (double)(state >> 11) * 0x1p-53;
    }
    return sqrt(-2 * log(u[0] + 1e-300)) * cos(6.283185307179586 * u[1]);
}

static int by_value(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* The median of v[0..n) (sorts v). */
static double median(double *v, size_t n)
{
    qsort(v, n, sizeof *v, by_value);
    return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

static double mean_of(const double *v, size_t n)
{
    double t = 0;
    for (size_t i = 0; i < n; i++) t += v[i];
    return t / (double)n;
}

static char *junk;
static size_t junk_bytes; /* KILN_EVICT_MB, default 8: past L2; 64 and more: past L3 */
static volatile long sink;

static void evict(void)
{
    long t = 0;
    for (size_t i = 0; i < junk_bytes; i += 64) t += ++junk[i];
    sink = t;
}

enum { M = 2001, N = 1000, WINDOWS = 1000 };

int main(int argc, char **argv)
{
    double shift = argc > 1 ? atof(argv[1]) : 0;
    double *ra = kn_malloc(M * sizeof *ra), *b = kn_malloc((size_t)WINDOWS * N * sizeof *b);
    const char *evict_mb = getenv("KILN_EVICT_MB");
    junk_bytes = (size_t)(evict_mb && atoi(evict_mb) > 0 ? atoi(evict_mb) : 8) << 20;
    junk = kn_calloc(junk_bytes, 1);
    if (!ra || !b || !junk) return 1;
    for (size_t i = 0; i < M; i++) ra[i] = round(normal() * 1e6) / 1e6;
    qsort(ra, M, sizeof *ra, by_value);
    kn__psi_ref pr;
    if (kn__psi_ref_make(ra, M, M, M, 10, &pr) != KN_OK) return 1;
    for (size_t i = 0; i < (size_t)WINDOWS * N; i++) b[i] = round((normal() + shift) * 1e6) / 1e6;
    double secs[2][2] = {{0}}, worst_w = 0, *each = kn_malloc(4 * WINDOWS * sizeof *each);
    if (!each) return 1;
    size_t differ = 0;
    for (int cold = 0; cold < 2; cold++) {
        for (size_t k = 0; k < WINDOWS; k++) {
            const double *w = b + k * N;
            size_t mb = 0, bins = 0, mb2 = 0, bins2 = 0;
            double ks, wd, psi, ks2, wd2, psi2;
            int done = 0;
            if (cold) evict();
            double t0 = now();
            double *rb = kn__sorted_present(w, N, &mb);
            kn__ks_wasserstein_sorted(ra, M, rb, mb, &ks, &wd);
            kn__psi_with_ref(&pr, rb, mb, N, &psi, &bins);
            kn_free(rb);
            double t1 = now();
            if (cold) evict();
            double t2 = now();
            kn__vs_ref(&pr, w, N, &mb2, &ks2, &wd2, &psi2, &bins2, &done);
            double t3 = now();
            secs[cold][0] += t1 - t0, secs[cold][1] += t3 - t2;
            each[(2 * cold) * WINDOWS + k] = t1 - t0, each[(2 * cold + 1) * WINDOWS + k] = t3 - t2;
            differ += !done || ks != ks2 || psi != psi2 || bins != bins2 || mb != mb2;
            double rel = fabs(wd - wd2) / fmax(1, fabs(wd));
            worst_w = rel > worst_w ? rel : worst_w;
        }
    }
    printf("drift window, 1,000 values against a sample of 2,001 (shift %g sd), us a column:\n",
           shift);
    for (int cold = 0; cold < 2; cold++) {
        double a = median(each + (2 * cold) * WINDOWS, WINDOWS),
               z = median(each + (2 * cold + 1) * WINDOWS, WINDOWS);
        printf("  caches %s: sorted and walked %.1f, placed by the index %.1f (%.2fx); means "
               "%.1f, %.1f\n",
               cold ? "cold" : "warm", 1e6 * a, 1e6 * z, a / z, 1e6 * secs[cold][0] / WINDOWS,
               1e6 * secs[cold][1] / WINDOWS);
    }
    printf("  windows where KS, PSI or the counts differ: %zu; worst Wasserstein difference %.2g\n",
           differ, worst_w);
    kn__psi_ref_free(&pr);
    /* the KLL's cold start */
    enum { SKETCHES = 20, ADDS = 300000 };
    double *x = kn_malloc((size_t)ADDS * sizeof *x), t = 0;
    if (!x) return 1;
    for (int s = 0; s < SKETCHES; s++) {
        for (size_t i = 0; i < ADDS; i++) x[i] = normal();
        kn_kll *q = NULL;
        if (kn_kll_new(KN_KLL_DEFAULT_K, (uint64_t)s + 1, &q) != KN_OK) return 1;
        double t0 = now();
        for (size_t i = 0; i < ADDS; i++) kn_kll_add(q, x[i]);
        t += now() - t0;
        kn_kll_free(q);
    }
    printf("KLL sketch (k %d), its first 300,000 adds: %.1f ns an add\n", KN_KLL_DEFAULT_K,
           1e9 * t / ((double)SKETCHES * ADDS));
    /* input-anomaly scoring of a window's sampled rows */
    enum { P = 20, REF = 2000, ROWS = 250, AWIN = 400 };
    kn_frame *ref = NULL, *win = NULL;
    kn_col_decl decls[P];
    char names[P][16];
    if (kn_frame_new(&ref) != KN_OK || kn_frame_new(&win) != KN_OK) return 1;
    for (int j = 0; j < P; j++) {
        snprintf(names[j], sizeof names[j], "x%d", j);
        decls[j] = (kn_col_decl){names[j], KN_COL_NUMERIC};
        kn_column *c;
        if (kn_frame_add_column(ref, names[j], KN_COL_NUMERIC, &c) != KN_OK ||
            kn_frame_add_column(win, names[j], KN_COL_NUMERIC, &c) != KN_OK)
            return 1;
    }
    if (kn_frame_resize(ref, REF) != KN_OK || kn_frame_resize(win, ROWS) != KN_OK) return 1;
    for (int j = 0; j < P; j++) {
        double *c = kn_column_f64(kn_frame_col(ref, (size_t)j));
        for (size_t i = 0; i < REF; i++) c[i] = round(normal() * 1e6) / 1e6;
    }
    kn_inputanom *an = NULL;
    if (kn_inputanom_fit(ref, decls, P, 0.01, 0, &an) != KN_OK) return 1;
    uint64_t check = 1469598103934665603u;
    for (size_t k = 0; k < AWIN; k++) {
        for (int j = 0; j < P; j++) {
            double *c = kn_column_f64(kn_frame_col(win, (size_t)j));
            for (size_t i = 0; i < ROWS; i++) c[i] = round((normal() + shift) * 1e6) / 1e6;
        }
        /* the trees as heaps and the node arrays' walk, in turns: the same bits */
        double *sc[2] = {NULL, NULL};
        for (int turn = 0; turn < 2; turn++) {
            int off = (int)((k + (size_t)turn) % 2);
            size_t ns = 0;
            kn__iforest_walk = off;
            double t0 = now();
            if (kn_inputanom_score(an, win, &sc[off], &ns) != KN_OK || ns != ROWS) return 1;
            each[off * AWIN + k] = now() - t0;
        }
        kn__iforest_walk = 0;
        { /* the heaps again after an eviction: the forest out of cache */
            double *cs = NULL;
            size_t ns = 0;
            evict();
            double t0 = now();
            if (kn_inputanom_score(an, win, &cs, &ns) != KN_OK || ns != ROWS) return 1;
            each[2 * AWIN + k] = now() - t0;
            differ += memcmp(cs, sc[0], ROWS * sizeof *cs) != 0;
            kn_free(cs);
        }
        for (size_t i = 0; i < ROWS; i++) {
            uint64_t bits;
            memcpy(&bits, &sc[0][i], sizeof bits);
            check = (check ^ bits) * 1099511628211u;
            differ += memcmp(&sc[0][i], &sc[1][i], sizeof bits) != 0;
        }
        kn_free(sc[0]), kn_free(sc[1]);
    }
    printf("input-anomaly scoring, %d rows x 100 trees a window, us (median; mean): heaps %.1f "
           "(%.1f), node walk %.1f (%.1f), heaps cold %.1f (%.1f); scores' checksum %016llx; "
           "rows whose scores differ between the two: %zu\n",
           ROWS, 1e6 * median(each, AWIN), 1e6 * mean_of(each, AWIN),
           1e6 * median(each + AWIN, AWIN), 1e6 * mean_of(each + AWIN, AWIN),
           1e6 * median(each + 2 * AWIN, AWIN), 1e6 * mean_of(each + 2 * AWIN, AWIN),
           (unsigned long long)check, differ);
    /* a whole window's numeric tests as the server's tester makes them:
     * kn_drift_ref_numbers on each of 20 columns (the test, its p-value,
     * the PSI) against a reference built from the 2,000 rows above */
    kn_drift_ref *dr = NULL;
    if (kn_drift_ref_build(ref, NULL, 0, &dr) != KN_OK) return 1;
    kn_drift_opts o;
    kn_drift_opts_default(&o);
    o.ks_exact_cells = KN_DRIFT_WINDOW_EXACT_CELLS; /* as the server's (serve/drift.c) */
    double *col = kn_malloc(N * sizeof *col);
    if (!col) return 1;
    for (size_t k = 0; k < 2 * AWIN; k++) { /* warm, then cold (an eviction before each) */
        double spent = 0;
        if (k >= AWIN) evict();
        for (size_t j = 0; j < P; j++) {
            for (size_t i = 0; i < N; i++) col[i] = round((normal() + shift) * 1e6) / 1e6;
            kn_drift_col out;
            int tested = 0;
            double t0 = now();
            if (kn_drift_ref_numbers(dr, j, col, N, &o, &out, &tested) != KN_OK || !tested)
                return 1;
            spent += now() - t0;
            kn_drift_col_free(&out);
        }
        each[k] = spent;
    }
    printf("a window's numeric drift tests, %d columns of 1,000 values (kn_drift_ref_numbers): "
           "%.1f us (median; mean %.1f), cold %.1f us (%.1f)\n",
           P, 1e6 * median(each, AWIN), 1e6 * mean_of(each, AWIN), 1e6 * median(each + AWIN, AWIN),
           1e6 * mean_of(each + AWIN, AWIN));
    kn_drift_ref_free(dr), kn_free(col);
    kn_inputanom_free(an), kn_frame_free(ref), kn_frame_free(win);
    kn_free(x), kn_free(ra), kn_free(b), kn_free(junk), kn_free(each);
    return differ ? 1 : 0;
}
