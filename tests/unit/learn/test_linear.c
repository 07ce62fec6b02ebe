/* learn: linear models on exact data, save/load round trips, determinism. */
#include "read_util.h"

#include "kiln/mem.h"
#include "kiln/model.h"
#include "kiln/rng.h"
#include "learn/learn-impl.h"

#include <math.h>
#include <omp.h>
#include <string.h>

/* y = 1 + 2a - 3b exactly: OLS recovers it; ridge shrinks the slopes. */
static void ols_exact_and_ridge_shrinks(void **state)
{
    (void)state;
    kn_frame *f = read_as(".csv", "a,b,y\n0,0,1\n1,0,3\n0,1,-2\n2,1,2\n3,5,-8\n");
    kn_model *m;
    KN_CHECK(kn_model_new("linear_regression", &m));
    KN_CHECK(kn_model_fit(m, f, "y", NULL));
    double coef[2], b;
    KN_CHECK(kn_model_coefficients(m, coef, &b));
    assert_true(fabs(b - 1) < 1e-12 && fabs(coef[0] - 2) < 1e-12 && fabs(coef[1] + 3) < 1e-12);
    KN_CHECK_FAILS(kn_model_set(m, "alpha=1"), KN_ERR_RANGE, "");
    kn_model_free(m);
    KN_CHECK(kn_model_new("ridge", &m));
    KN_CHECK(kn_model_set(m, "alpha=10"));
    KN_CHECK(kn_model_fit(m, f, "y", NULL));
    KN_CHECK(kn_model_coefficients(m, coef, &b));
    assert_true(fabs(coef[0]) < 2 && fabs(coef[1]) < 3);
    kn_model_free(m);
    kn_frame_free(f);
}

static int same_file(const char *a, const char *b)
{
    FILE *x = fopen(a, "rb"), *y = fopen(b, "rb");
    int same = x && y;
    while (same) {
        int c = fgetc(x), d = fgetc(y);
        same = c == d;
        if (c == EOF || d == EOF) break;
    }
    if (x) fclose(x);
    if (y) fclose(y);
    return same;
}

static void save_load_predicts_identically(void **state)
{
    (void)state;
    kn_frame *f = read_as(".csv", "a,b,y\n0,0,1\n1,0,3.5\n0,1,-2\n2,1,2.25\n3,5,-8\n");
    kn_model *m, *back;
    KN_CHECK(kn_model_new("ridge", &m));
    KN_CHECK(kn_model_fit(m, f, "y", NULL));
    KN_CHECK(kn_model_save(m, "/tmp/kiln-test-ridge.kmd"));
    KN_CHECK(kn_model_load("/tmp/kiln-test-ridge.kmd", &back));
    double *p1, *p2;
    size_t n1, n2;
    KN_CHECK(kn_model_predict(m, f, &p1, &n1));
    KN_CHECK(kn_model_predict(back, f, &p2, &n2));
    assert_int_equal(n1, 5);
    assert_memory_equal(p1, p2, n1 * sizeof *p1);
    assert_string_equal(kn_model_target(back), "y");
    assert_string_equal(kn_model_feature(back, 1), "b");
    /* same data, same parameters: the same bytes */
    kn_model *again;
    KN_CHECK(kn_model_new("ridge", &again));
    KN_CHECK(kn_model_fit(again, f, "y", NULL));
    KN_CHECK(kn_model_save(again, "/tmp/kiln-test-ridge2.kmd"));
    assert_true(same_file("/tmp/kiln-test-ridge.kmd", "/tmp/kiln-test-ridge2.kmd"));
    remove("/tmp/kiln-test-ridge.kmd");
    remove("/tmp/kiln-test-ridge2.kmd");
    kn_free(p1);
    kn_free(p2);
    kn_model_free(again);
    kn_model_free(back);
    kn_model_free(m);
    kn_frame_free(f);
}

/* A dense n x p dataset with a target and, when weighted, weights, all
 * to be filled by the caller; free with free_dense. */
static kn_dataset dense_dataset(size_t n, size_t p, int weighted)
{
    kn_dataset d = {.n = n, .p = p};
    d.x = kn_malloc(n * p * sizeof *d.x);
    d.y = kn_malloc(n * sizeof *d.y);
    d.w = weighted ? kn_malloc(n * sizeof *d.w) : NULL;
    assert_true(d.x && d.y && (d.w || !weighted));
    return d;
}

static void free_dense(kn_dataset *d)
{
    kn_free(d->x);
    kn_free(d->y);
    kn_free(d->w);
}

/* Coordinate descent on the Gram matrix and on the residuals give the same
 * coefficients along a path (the same updates, different arithmetic). */
static void gram_and_residual_agree(void **state)
{
    (void)state;
    enum { N = 200, P = 12 };
    kn_dataset d = dense_dataset(N, P, 0);
    kn_rng rng;
    kn_rng_init(&rng, 5);
    for (size_t i = 0; i < N * P; i++) d.x[i] = kn_rng_normal(&rng);
    for (size_t i = 0; i < N; i++)
        d.y[i] = 3 * d.x[i] - 2 * d.x[3 * N + i] + 0.5 * d.x[7 * N + i] + kn_rng_normal(&rng);
    kn__enet_data e, r;
    KN_CHECK(kn__enet_prepare(&d, 1, -1, &e));
    KN_CHECK(kn__enet_prepare(&d, 1, 0, &r));
    assert_non_null(e.gram);
    assert_null(r.gram);
    double alphas[20], a[20 * P], b[20 * P];
    kn__enet_alpha_grid(kn__enet_alpha_max(&e, 0.7), 1e-3, 20, alphas);
    assert_true(fabs(kn__enet_alpha_max(&r, 0.7) - alphas[0]) <= 1e-12 * alphas[0]);
    KN_CHECK(kn__enet_path(&e, alphas, 20, 0.7, 100000, 1e-12, a));
    KN_CHECK(kn__enet_path(&r, alphas, 20, 0.7, 100000, 1e-12, b));
    kn__enet_data_free(&r);
    for (size_t i = 0; i < 20 * P; i++) assert_true(fabs(a[i] - b[i]) <= 1e-9 * (1 + fabs(b[i])));
    for (size_t j = 0; j < P; j++) assert_true(a[j] == 0); /* alpha_max: all zero */
    assert_true(fabs(a[19 * P] - 3) < 0.3 && fabs(a[19 * P + 3] + 2) < 0.3);
    kn__enet_data_free(&e);
    free_dense(&d);
}

/* The one-pass moments (block means merged in order) match a two-pass sum
 * in long double on data whose means dwarf its spread (where uncentred
 * sums lose every digit), with weights and a block of zero-weight rows;
 * and give the same bits on one thread and on two. */
static void gram_one_pass(void **state)
{
    (void)state;
    enum { N = 300000, P = 3 };
    kn_dataset d = dense_dataset(N, P, 1);
    kn_rng rng;
    kn_rng_init(&rng, 9);
    for (size_t i = 0; i < N; i++) {
        d.x[i] = 1e6 + kn_rng_normal(&rng);
        d.x[N + i] = -3e5 + 0.5 * d.x[i] + kn_rng_normal(&rng);
        d.x[2 * N + i] = 7 + kn_rng_normal(&rng);
        d.y[i] = 2e4 + d.x[i] - d.x[2 * N + i] + kn_rng_normal(&rng);
        d.w[i] = i >= 8192 && i < 3 * 8192 ? 0 : 2 * kn_rng_uniform(&rng);
    }
    long double sw = 0, m[P + 1] = {0}, M[P + 1][P + 1] = {{0}};
    for (size_t i = 0; i < N; i++) sw += d.w[i];
    for (size_t j = 0; j <= P; j++) {
        const double *z = j < P ? d.x + j * N : d.y;
        for (size_t i = 0; i < N; i++) m[j] += d.w[i] * (long double)z[i];
        m[j] /= sw;
    }
    for (size_t a = 0; a <= P; a++)
        for (size_t b = 0; b <= P; b++)
            for (size_t i = 0; i < N; i++)
                M[a][b] += d.w[i] * ((a < P ? d.x[a * N + i] : d.y[i]) - m[a]) *
                           ((b < P ? d.x[b * N + i] : d.y[i]) - m[b]);
    double xm[P], ym, G[P * P], xy[P], yy, total, again[P * P];
    int saved = omp_get_max_threads();
    omp_set_num_threads(2);
    KN_CHECK(kn__centred_gram(&d, 1, xm, &ym, G, xy, &yy, &total));
    omp_set_num_threads(1);
    KN_CHECK(kn__centred_gram(&d, 1, xm, &ym, again, xy, &yy, &total));
    assert_memory_equal(G, again, sizeof G);
    assert_true(fabsl(total - sw) <= 1e-12L * sw);
    assert_true(fabsl(ym - m[P]) <= 1e-12L * fabsl(m[P]));
    assert_true(fabsl(yy - M[P][P]) <= 1e-10L * M[P][P]);
    for (size_t a = 0; a < P; a++) {
        assert_true(fabsl(xm[a] - m[a]) <= 1e-12L * fabsl(m[a]));
        long double scale = sqrtl(M[a][a] * M[P][P]);
        assert_true(fabsl(xy[a] - M[a][P]) <= 1e-10L * scale);
        for (size_t b = 0; b < P; b++)
            assert_true(fabsl(G[a * P + b] - M[a][b]) <= 1e-10L * sqrtl(M[a][a] * M[b][b]));
    }
    /* without centring: the plain weighted cross-products, means zero */
    KN_CHECK(kn__centred_gram(&d, 0, xm, &ym, G, xy, &yy, &total));
    long double x00 = 0;
    for (size_t i = 0; i < N; i++) x00 += d.w[i] * (long double)d.x[i] * d.x[i];
    assert_true(xm[0] == 0 && ym == 0);
    assert_true(fabsl(G[0] - x00) <= 1e-12L * x00);
    omp_set_num_threads(saved);
    free_dense(&d);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(ols_exact_and_ridge_shrinks),
        cmocka_unit_test(save_load_predicts_identically),
        cmocka_unit_test(gram_and_residual_agree),
        cmocka_unit_test(gram_one_pass),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
