/* learn: linear models on exact data, save/load round trips, determinism. */
#include "read_util.h"

#include "kiln/mem.h"
#include "kiln/model.h"

#include <math.h>

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

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(ols_exact_and_ridge_shrinks),
        cmocka_unit_test(save_load_predicts_identically),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
