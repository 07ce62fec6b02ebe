/* prep: simple_imputer on numeric and categorical columns. */
#include "prep_util.h"
#include "prep/prep-impl.h"
#include "kiln/rng.h"

#include <math.h>

static const char *data = "x,c,e\n1,a,\n,b,\n3,b,\n3,,\n";

static void numeric_strategies(void **state)
{
    (void)state;
    kn_frame *f = read_as(".csv", data);
    const char *mean[] = {"columns=x", NULL};
    kn_frame *o = fit_transform("simple_imputer", mean, f);
    assert_true(fabs(cell(o, 0, 1) - 7.0 / 3) < 1e-15);
    kn_frame_free(o);
    const char *median[] = {"columns=x", "strategy=median", NULL};
    o = fit_transform("simple_imputer", median, f);
    assert_true(cell(o, 0, 1) == 3);
    kn_frame_free(o);
    const char *cnst[] = {"columns=x", "strategy=constant", "fill_value=-1", "add_indicator=true",
                          NULL};
    o = fit_transform("simple_imputer", cnst, f);
    assert_true(cell(o, 0, 1) == -1 && cell(o, 0, 0) == 1);
    size_t j;
    KN_CHECK(kn_frame_find(o, "x_missing", &j));
    assert_true(cell(o, j, 1) == 1 && cell(o, j, 0) == 0);
    kn_frame_free(o);
    kn_frame_free(f);
}

static void categorical_and_all_missing(void **state)
{
    (void)state;
    kn_frame *f = read_as(".csv", data);
    const char *mode[] = {"columns=c", "strategy=most_frequent", NULL};
    kn_frame *o = fit_transform("simple_imputer", mode, f);
    kn_column *c = kn_frame_col(o, 1);
    assert_string_equal(kn_column_level(c, kn_column_codes(c)[3], NULL), "b");
    kn_frame_free(o);
    const char *cnst[] = {"columns=c", "strategy=constant", "fill_text=unknown", NULL};
    o = fit_transform("simple_imputer", cnst, f);
    c = kn_frame_col(o, 1);
    assert_string_equal(kn_column_level(c, kn_column_codes(c)[3], NULL), "unknown");
    kn_frame_free(o);
    kn_step *s;
    KN_CHECK(kn_step_new("simple_imputer", &s));
    KN_CHECK(kn_step_set(s, "columns=c"));
    KN_CHECK_FAILS(kn_step_fit(s, f), KN_ERR_TYPE, "use strategy=most_frequent or constant");
    kn_step_free(s);
    /* a column with no value at fit stays missing (documented) */
    const char *all[] = {"columns=e", NULL};
    o = fit_transform("simple_imputer", all, f);
    assert_true(isnan(cell(o, 2, 0)));
    kn_frame_free(o);
    kn_frame_free(f);
}

static int cmp_d(const void *x, const void *y)
{
    double a = *(const double *)x, b = *(const double *)y;
    return (a > b) - (a < b);
}

/* Selection gives the same quantiles as sorting, with ties, runs and tiny arrays. */
static void quantile_select_equals_sorted(void **state)
{
    (void)state;
    kn_rng rng;
    kn_rng_init(&rng, 7);
    for (int trial = 0; trial < 400; trial++) {
        size_t n = 1 + kn_rng_below(&rng, trial < 200 ? 12 : 3000);
        double *a = kn_malloc(n * sizeof *a), *b = kn_malloc(n * sizeof *b);
        int kind = trial % 4;
        for (size_t i = 0; i < n; i++)
            a[i] = kind == 0   ? kn_rng_uniform(&rng)
                   : kind == 1 ? (double)kn_rng_below(&rng, 5) /* many ties */
                   : kind == 2 ? (double)i                     /* sorted */
                               : (double)(n - i);              /* reversed */
        double qs[] = {0, 0.1, 0.25, 0.5, 0.75, 0.9, 1};
        for (size_t k = 0; k < 7; k++) {
            memcpy(b, a, n * sizeof *a);
            double want;
            qsort(b, n, sizeof *b, cmp_d);
            want = kn__quantile_sorted(b, n, qs[k]);
            memcpy(b, a, n * sizeof *a);
            assert_true(kn__quantile_select(b, n, qs[k]) == want);
        }
        kn_free(a);
        kn_free(b);
    }
}

/* The gap in the last row takes b from the 2 rows nearest in a (a=3 and a=2). */
static void knn_imputer_neighbours(void **state)
{
    (void)state;
    kn_frame *f = read_as(".csv", "a,b\n1,1\n2,2\n3,3\n10,\n");
    const char *two[] = {"n_neighbors=2", NULL};
    kn_frame *o = fit_transform("knn_imputer", two, f);
    assert_true(cell(o, 1, 3) == 2.5 && cell(o, 1, 0) == 1);
    kn_frame_free(o);
    kn_step *s;
    KN_CHECK(kn_step_new("knn_imputer", &s));
    KN_CHECK(kn_step_set(s, "n_neighbors=2"));
    KN_CHECK(kn_step_set(s, "weights=distance"));
    KN_CHECK(kn_step_fit(s, f));
    kn_step *back = save_and_reload(s);
    kn_frame *fresh = read_as(".csv", "a,b\n10,\n,7\n");
    KN_CHECK(kn_step_transform(back, fresh, &o));
    assert_true(fabs(cell(o, 1, 0) - 38.0 / 15) < 1e-15); /* weights 1/7 and 1/8 */
    /* a: the row nearest in b (b=3, distance 4) is the only one at minimum */
    assert_true(cell(o, 0, 1) > 1 && cell(o, 0, 1) < 10);
    kn_frame_free(o);
    kn_frame_free(fresh);
    kn_step_free(back);
    kn_step_free(s);
    kn_frame_free(f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(quantile_select_equals_sorted),
        cmocka_unit_test(knn_imputer_neighbours),
        cmocka_unit_test(numeric_strategies),
        cmocka_unit_test(categorical_and_all_missing),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
