/* learn: gradient boosting's learned rules on hand-made data where the
 * right answer is known (missing values), determinism across thread
 * counts, save/load, and the bin edges. */
#include "test_util.h"

#include "kiln/frame.h"
#include "kiln/mem.h"
#include "kiln/model.h"
#include "kiln/rng.h"
#include "learn/bins.h"

#include <math.h>
#include <omp.h>

static kn_frame *frame_of(size_t n, size_t p, const double *x, const double *y)
{
    kn_frame *f;
    KN_CHECK(kn_frame_new(&f));
    for (size_t j = 0; j <= p; j++) {
        char name[16];
        snprintf(name, sizeof name, j < p ? "x%zu" : "y", j);
        KN_CHECK(kn_frame_add_column(f, name, KN_COL_NUMERIC, NULL));
    }
    KN_CHECK(kn_frame_resize(f, n));
    for (size_t j = 0; j <= p; j++) {
        double *c = kn_column_f64(kn_frame_col(f, j));
        for (size_t i = 0; i < n; i++) c[i] = j < p ? x[j * n + i] : y[i];
    }
    return f;
}

static kn_model *fit(const kn_frame *f, const char *const *params)
{
    kn_model *m;
    KN_CHECK(kn_model_new("gbdt", &m));
    for (; *params; params++) KN_CHECK(kn_model_set(m, *params));
    KN_CHECK(kn_model_fit(m, f, "y", NULL));
    return m;
}

/* y = 0 for x <= 5, 10 for x > 5; missing x has the target of the group
 * named: one split at 5.5 must send missing values that way. */
static void missing_goes_where_its_target_says(double missing_y)
{
    double x[40], y[40];
    for (size_t i = 0; i < 40; i++) {
        x[i] = i < 30 ? (double)(i % 10 + 1) : NAN;
        y[i] = i < 30 ? (x[i] > 5 ? 10 : 0) : missing_y;
    }
    kn_frame *f = frame_of(40, 1, x, y);
    const char *params[] = {"objective=squared_error", "n_estimators=1",
                            "learning_rate=1",         "max_leaves=2",
                            "min_samples_leaf=1",      NULL};
    kn_model *m = fit(f, params);
    double q[] = {3, 5, 5.5, 6, 8, NAN}, want[] = {0, 0, 0, 10, 10, missing_y}, z[6] = {0};
    kn_frame *g = frame_of(6, 1, q, z);
    double *out;
    size_t n;
    KN_CHECK(kn_model_predict(m, g, &out, &n));
    assert_int_equal(n, 6);
    for (size_t i = 0; i < 6; i++) assert_true(fabs(out[i] - want[i]) < 1e-9);
    kn_free(out);
    kn_frame_free(g);
    kn_model_free(m);
    kn_frame_free(f);
}

static void missing_values(void **state)
{
    (void)state;
    missing_goes_where_its_target_says(10); /* with the high group: right */
    missing_goes_where_its_target_says(0);  /* with the low group: left */
}

/* A random binary problem with some missing values. */
static kn_frame *random_problem(size_t n, size_t p)
{
    double *x = kn_malloc(n * p * sizeof *x), *y = kn_malloc(n * sizeof *y);
    kn_rng rng;
    kn_rng_init(&rng, 7);
    for (size_t i = 0; i < n * p; i++)
        x[i] = kn_rng_uniform(&rng) < 0.05 ? NAN : kn_rng_normal(&rng);
    for (size_t i = 0; i < n; i++) {
        double s = (isnan(x[i]) ? 1 : x[i]) - (isnan(x[n + i]) ? 0 : x[n + i]) / 2;
        y[i] = s + kn_rng_normal(&rng) * 0.5 > 0;
    }
    kn_frame *f = frame_of(n, p, x, y);
    kn_free(x), kn_free(y);
    return f;
}

static unsigned char *file_bytes(const char *path, size_t *len)
{
    FILE *fp = fopen(path, "rb");
    assert_non_null(fp);
    fseek(fp, 0, SEEK_END);
    *len = (size_t)ftell(fp);
    fseek(fp, 0, SEEK_SET);
    unsigned char *b = kn_malloc(*len ? *len : 1);
    assert_int_equal(fread(b, 1, *len, fp), *len);
    fclose(fp);
    return b;
}

/* Same data, parameters and seed: the same model bytes with 1 and 2
 * threads (sampling on, large enough for the parallel histogram path); a
 * loaded model predicts exactly what the fitted one does. */
static void deterministic_across_threads(void **state)
{
    (void)state;
    kn_frame *f = random_problem(60000, 6);
    const char *params[] = {"n_estimators=8",
                            "subsample=0.8",
                            "colsample=0.7",
                            "max_leaves=15",
                            "early_stopping_rounds=3",
                            "seed=5",
                            NULL};
    char path[2][64];
    int saved = omp_get_max_threads();
    for (int t = 0; t < 2; t++) {
        omp_set_num_threads(t + 1);
        kn_model *m = fit(f, params);
        snprintf(path[t], sizeof path[t], "/tmp/kiln_gbdt_%d_%d.kmd", (int)getpid(), t);
        KN_CHECK(kn_model_save(m, path[t]));
        if (t == 1) {
            kn_model *l;
            KN_CHECK(kn_model_load(path[t], &l));
            double *a, *b;
            size_t na, nb;
            KN_CHECK(kn_model_predict_proba(m, f, &a, &na));
            KN_CHECK(kn_model_predict_proba(l, f, &b, &nb));
            assert_int_equal(na, nb);
            assert_memory_equal(a, b, 2 * na * sizeof *a);
            kn_free(a), kn_free(b);
            kn_model_free(l);
        }
        kn_model_free(m);
    }
    omp_set_num_threads(saved);
    size_t l0, l1;
    unsigned char *b0 = file_bytes(path[0], &l0), *b1 = file_bytes(path[1], &l1);
    assert_int_equal(l0, l1);
    assert_memory_equal(b0, b1, l0);
    kn_free(b0), kn_free(b1);
    remove(path[0]), remove(path[1]);
    kn_frame_free(f);
}

/* Few distinct values: edges are the midpoints, the last +inf, and each
 * value's code is its rank; missing values get the missing code. */
static void bin_edges(void **state)
{
    (void)state;
    double x[] = {3, 1, 2, 2, NAN, 7};
    const double *col[] = {x};
    kn_dataset d = {.n = 6, .p = 1, .col = col};
    kn__bins b;
    KN_CHECK(kn__bins_fit(&b, &d, 255, 1000, 0));
    assert_int_equal(b.n_bins[0], 4);
    assert_true(b.edges[0] == 1.5 && b.edges[1] == 2.5 && b.edges[2] == 5 && isinf(b.edges[3]));
    uint8_t *c;
    KN_CHECK(kn__bins_apply(&b, &d, &c));
    const uint8_t want[] = {2, 0, 1, 1, KN__BIN_MISSING, 3};
    assert_memory_equal(c, want, 6);
    kn_free(c);
    kn__bins_free(&b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(missing_values),
        cmocka_unit_test(deterministic_across_threads),
        cmocka_unit_test(bin_edges),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
