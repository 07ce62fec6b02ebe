/* learn: the isolation forest's scoring. Its trees are scored as heaps of
 * one depth (children at 2h + 1 and 2h + 2, a chunk's rows copied feature
 * by feature); the node arrays' walk is the plain version: the same bits
 * for every row (rows in and far out of the training cloud), at the
 * deepest heaps made (max_samples 4,096: depth 12) and past them (the
 * walk alone), for one feature and for many, after a save and a load, and
 * on 1 and 2 threads. */
#include "test_util.h"

#include "kiln/frame.h"
#include "kiln/mem.h"
#include "kiln/model.h"
#include "kiln/rng.h"
#include "learn/learn-impl.h"

#include <math.h>
#include <omp.h>
#include <string.h>
#include <unistd.h>

/* n rows of p columns: a normal cloud, a few rows far out, some values
 * rounded */
static kn_frame *rows(size_t n, size_t p, uint64_t seed)
{
    kn_rng r;
    kn_rng_init(&r, seed);
    kn_frame *f;
    KN_CHECK(kn_frame_new(&f));
    for (size_t j = 0; j < p; j++) {
        char name[32];
        snprintf(name, sizeof name, "x%u", (unsigned)j);
        KN_CHECK(kn_frame_add_column(f, name, KN_COL_NUMERIC, NULL));
    }
    KN_CHECK(kn_frame_resize(f, n));
    for (size_t j = 0; j < p; j++) {
        double *c = kn_column_f64(kn_frame_col(f, j));
        for (size_t i = 0; i < n; i++) {
            double u = kn_rng_uniform(&r), v = kn_rng_uniform(&r);
            c[i] = sqrt(-2 * log(u + 1e-300)) * cos(6.283185307179586 * v);
            if (i % 97 == 13) c[i] = 8 + 4 * u;  /* out of the cloud */
            if (i % 53 == 7) c[i] = round(c[i]); /* ties with thresholds' neighbours */
        }
    }
    return f;
}

static double *scores(const kn_model *m, const kn_frame *f, int walk)
{
    kn__iforest_walk = walk;
    double *out;
    size_t n;
    KN_CHECK(kn_model_predict(m, f, &out, &n));
    kn__iforest_walk = 0;
    assert_int_equal(n, kn_frame_n_rows(f));
    return out;
}

static void same_bits(const double *a, const double *b, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (memcmp(&a[i], &b[i], sizeof *a))
            fail_msg("row %zu: %.17g (heaps) and %.17g (walk)", i, a[i], b[i]);
}

static void heaps_as_walk(void **state)
{
    (void)state;
    /* rows, features, max_samples (0: auto), trees */
    const size_t cases[][4] = {{600, 20, 0, 100},
                               {5000, 3, 4096, 20},
                               {5000, 3, 4500, 10},
                               {40, 1, 0, 30},
                               {300, 7, 17, 50}};
    for (size_t c = 0; c < sizeof cases / sizeof *cases; c++) {
        size_t n = cases[c][0], p = cases[c][1];
        kn_frame *fit = rows(n, p, 10 + c), *score = rows(n + 45, p, 20 + c);
        kn_model *m;
        char set[64];
        KN_CHECK(kn_model_new("isolation_forest", &m));
        snprintf(set, sizeof set, "n_estimators=%zu", cases[c][3]);
        KN_CHECK(kn_model_set(m, set));
        if (cases[c][2]) {
            snprintf(set, sizeof set, "max_samples=%zu", cases[c][2]);
            KN_CHECK(kn_model_set(m, set));
        }
        KN_CHECK(kn_model_fit(m, fit, NULL, NULL));
        double *a = scores(m, score, 0), *b = scores(m, score, 1);
        same_bits(a, b, n + 45);
        for (size_t i = 0; i < n + 45; i++) assert_true(a[i] < 0 && a[i] >= -1);
        /* after a save and a load (the heaps made again) */
        char path[64];
        snprintf(path, sizeof path, "/tmp/kiln_iforest_%d.kmd", (int)getpid());
        KN_CHECK(kn_model_save(m, path));
        kn_model *l;
        KN_CHECK(kn_model_load(path, &l));
        remove(path);
        double *d = scores(l, score, 0);
        same_bits(d, b, n + 45);
        /* two threads: chunks of rows in parallel */
        omp_set_num_threads(2);
        double *e = scores(m, score, 0);
        omp_set_num_threads(1);
        same_bits(e, b, n + 45);
        kn_free(a), kn_free(b), kn_free(d), kn_free(e);
        kn_model_free(l), kn_model_free(m);
        kn_frame_free(fit), kn_frame_free(score);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {cmocka_unit_test(heaps_as_walk)};
    return cmocka_run_group_tests(tests, NULL, NULL);
}
