/* Concurrent predictions on one fitted pipeline (kiln/pipeline.h: predict,
 * transform, score and one-row predict are read-only): several threads
 * at once get exactly the single-threaded answers. Run under
 * ThreadSanitizer in CI (the concurrency tests). */
#include "test_util.h"

#include "kiln/io.h"
#include "kiln/mem.h"
#include "kiln/pipeline.h"

#include <pthread.h>

#define THREADS 4
#define ROUNDS 6

typedef struct shared {
    const kn_pipeline *p;
    const kn_frame *f;
    const double *want;      /* predictions of every row */
    const double *want_row3; /* probabilities of row 3 */
    const char **names, **values;
    size_t n_names, n_rows, k;
    double accuracy;
    int failures;
} shared;

static void *worker(void *arg)
{
    shared *s = arg;
    int bad = 0;
    for (int r = 0; r < ROUNDS && !bad; r++) {
        double *got = NULL, y = -1, proba[8];
        size_t n = 0;
        kn_scores sc;
        bad |= kn_pipeline_predict(s->p, s->f, &got, &n) != KN_OK;
        bad |= !bad && (n != s->n_rows || memcmp(got, s->want, n * sizeof *got) != 0);
        kn_free(got);
        bad |= kn_pipeline_predict_row(s->p, s->names, s->values, s->n_names, &y, proba) != KN_OK;
        bad |= !bad && (y != s->want[3] || memcmp(proba, s->want_row3, s->k * sizeof *proba));
        bad |= kn_pipeline_score(s->p, s->f, NULL, &sc) != KN_OK;
        bad |= !bad && sc.value[kn_scores_find(&sc, "accuracy")] != s->accuracy;
        kn_scores_free(&sc);
    }
    if (bad) __atomic_add_fetch(&s->failures, 1, __ATOMIC_RELAXED);
    return NULL;
}

static void run_threads(const char *model, const char *param)
{
    char path[512];
    const char *dir = getenv("KILN_TEST_DATA");
    snprintf(path, sizeof path, "%s/cps1985.csv", dir ? dir : "tests/data");
    kn_read_opts o;
    kn_read_opts_default(&o);
    kn_frame *f = NULL;
    KN_CHECK(kn_frame_read(path, &o, &f, NULL));
    kn_pipeline *p = NULL;
    KN_CHECK(kn_pipeline_new(&p));
    KN_CHECK(kn_pipeline_add_step_spec(p,
                                       "onehot_encoder:columns=ethnicity,region,occupation,union,"
                                       "sector,married;handle_unknown=ignore"));
    KN_CHECK(kn_pipeline_add_step_spec(p, "standard_scaler"));
    KN_CHECK(kn_pipeline_set_model_spec(p, model, &param, 1));
    KN_CHECK(kn_pipeline_set_target(p, "gender", NULL));
    KN_CHECK(kn_pipeline_fit(p, f, NULL));

    shared s = {.p = p, .f = f, .n_rows = kn_frame_n_rows(f)};
    double *want = NULL, *proba = NULL;
    size_t n = 0;
    KN_CHECK(kn_pipeline_predict(p, f, &want, &n));
    KN_CHECK(kn_pipeline_predict_proba(p, f, &proba, &n));
    s.want = want;
    s.k = kn_model_n_classes(kn_pipeline_model(p));
    assert_int_equal(s.k, 2);
    s.want_row3 = proba + 3 * s.k;
    kn_scores sc;
    KN_CHECK(kn_pipeline_score(p, f, NULL, &sc));
    s.accuracy = sc.value[kn_scores_find(&sc, "accuracy")];
    kn_scores_free(&sc);

    /* row 3 as text */
    const char *names[16], *values[16];
    char cells[16][64];
    s.n_names = kn_frame_n_cols(f);
    for (size_t j = 0; j < s.n_names; j++) {
        kn_column *c = kn_frame_col(f, j);
        names[j] = kn_column_name(c);
        if (kn_column_type(c) == KN_COL_NUMERIC)
            snprintf(cells[j], 64, "%.17g", kn_column_f64(c)[3]);
        else
            snprintf(cells[j], 64, "%s", kn_column_level(c, kn_column_codes(c)[3], NULL));
        values[j] = cells[j];
    }
    s.names = names;
    s.values = values;

    pthread_t t[THREADS];
    for (int i = 0; i < THREADS; i++) assert_int_equal(pthread_create(&t[i], NULL, worker, &s), 0);
    for (int i = 0; i < THREADS; i++) pthread_join(t[i], NULL);
    assert_int_equal(s.failures, 0);
    kn_free(want);
    kn_free(proba);
    kn_pipeline_free(p);
    kn_frame_free(f);
}

static void test_concurrent_gbdt(void **state)
{
    (void)state;
    run_threads("gbdt", "n_estimators=30");
}

static void test_concurrent_logistic(void **state)
{
    (void)state;
    run_threads("logistic_regression", "C=0.5");
}

static void test_concurrent_forest(void **state)
{
    (void)state;
    run_threads("random_forest", "n_estimators=20");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_concurrent_gbdt),
        cmocka_unit_test(test_concurrent_logistic),
        cmocka_unit_test(test_concurrent_forest),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
