/* kiln serve's delayed labels (src/serve/feedback.c) without a server:
 * four threads record one-row predictions of a regression at once while a
 * fifth joins labels and a sixth reads the Prometheus text; afterwards
 * every prediction is found again and each full window's RMSE and MAE
 * are the exact error the labels planted. In a small ring, the oldest
 * rows leave it, and an unknown id or a row past a request's rows is not
 * found. */
#include "test_util.h"

#include "kiln/livescore.h"
#include "serve/serve-impl.h"

#include <math.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

enum { THREADS = 4, PER = 600, CAP = 4096, WINDOW = 100 };

static kn__serve_model model = {.name = "m", .version = "1"};
static _Atomic int done;

static double value_of(unsigned long long rid)
{
    return (double)(rid % 97) * 0.25;
}

static void *recorder(void *arg)
{
    int t = *(const int *)arg;
    for (int i = 0; i < PER; i++) {
        unsigned long long rid = (unsigned long long)(t * PER + i + 1);
        double pred = value_of(rid);
        kn__feedback_begin(rid);
        kn__feedback_rows(&model, &pred, NULL, 1);
    }
    kn__feedback_begin(0);
    return NULL;
}

static void *joiner(void *arg)
{
    (void)arg;
    /* labels for ids that may or may not be recorded yet: the truth is the
     * prediction plus 2, so any joined row has error exactly 2 */
    for (unsigned long long rid = 1; !done; rid = rid % (THREADS * PER) + 1)
        kn__feedback_join(model.fb, &model, rid, 0, NULL, value_of(rid) + 2);
    return NULL;
}

static void *reader(void *arg)
{
    (void)arg;
    while (!done) {
        kn__sbuf b = {0};
        kn__feedback_text(&(const kn__serve_model *){&model}, 1, &b);
        assert_false(b.oom);
        kn__sbuf_free(&b);
    }
    return NULL;
}

static double series(const char *text, const char *name, const char *window)
{
    char key[160];
    snprintf(key, sizeof key, "%s{model=\"m\",version=\"1\"%s%s%s} ", name,
             window ? ",window=\"" : "", window ? window : "", window ? "\"" : "");
    const char *p = strstr(text, key);
    return p ? strtod(p + strlen(key), NULL) : NAN;
}

static void threads_record_and_join(void **state)
{
    (void)state;
    KN_CHECK(kn__feedback_new(&model, CAP, WINDOW, THREADS, &model.fb));
    pthread_t th[THREADS + 2];
    int ids[THREADS];
    done = 0;
    for (int t = 0; t < THREADS; t++) {
        ids[t] = t;
        assert_int_equal(pthread_create(&th[t], NULL, recorder, &ids[t]), 0);
    }
    assert_int_equal(pthread_create(&th[THREADS], NULL, joiner, NULL), 0);
    assert_int_equal(pthread_create(&th[THREADS + 1], NULL, reader, NULL), 0);
    for (int t = 0; t < THREADS; t++) pthread_join(th[t], NULL);
    done = 1;
    pthread_join(th[THREADS], NULL);
    pthread_join(th[THREADS + 1], NULL);
    /* the ring (CAP rows, CAP request ids) holds every row recorded: each is
     * found again with its value (eviction: rows_of_a_batch); most were
     * labelled by the joiner already: found as a duplicate (2) */
    size_t found = 0;
    for (unsigned long long rid = 1; rid <= THREADS * PER; rid++)
        found += kn__feedback_join(model.fb, &model, rid, 0, NULL, value_of(rid) + 2) != 0;
    assert_int_equal(found, THREADS * PER);
    assert_int_equal(kn__feedback_join(model.fb, &model, THREADS * PER + 1, 0, NULL, 1), 0);
    kn__feedback_done(model.fb);
    kn__sbuf b = {0};
    kn__feedback_text(&(const kn__serve_model *){&model}, 1, &b);
    kn__sbuf_add(&b, "", 1);
    assert_false(b.oom);
    assert_true(series(b.p, "kiln_feedback_windows_total", NULL) >= THREADS * PER / WINDOW);
    assert_true(fabs(series(b.p, "kiln_feedback_rmse", "last") - 2) < 1e-12);
    assert_true(fabs(series(b.p, "kiln_feedback_mae", "last") - 2) < 1e-12);
    assert_true(series(b.p, "kiln_feedback_memory_bytes", NULL) >= CAP * 16.0);
    kn__sbuf_free(&b);
    kn__feedback_free(model.fb);
    model.fb = NULL;
}

static void rows_of_a_batch(void **state)
{
    (void)state;
    kn__serve_model m = {.name = "m", .version = "1"};
    KN_CHECK(kn__feedback_new(&m, 8, 3, 1, &m.fb));
    double pred[5] = {1, 2, 3, 4, 5};
    kn__feedback_begin(7);
    kn__feedback_rows(&m, pred, NULL, 5);
    kn__feedback_begin(0);
    kn__feedback_rows(&m, pred, NULL, 5); /* no request: nothing recorded */
    assert_int_equal(kn__feedback_join(m.fb, &m, 7, 4, NULL, 5), 1);
    assert_int_equal(kn__feedback_join(m.fb, &m, 7, 5, NULL, 5), 0);  /* past its rows */
    assert_int_equal(kn__feedback_join(m.fb, &m, 15, 0, NULL, 5), 0); /* same slot, other id */
    /* a request of 6 rows pushes the first request's first rows out of the ring of 8 */
    kn__feedback_begin(8);
    kn__feedback_rows(&m, (double[6]){0}, NULL, 6);
    kn__feedback_begin(0);
    assert_int_equal(kn__feedback_join(m.fb, &m, 7, 2, NULL, 3), 0);
    assert_int_equal(kn__feedback_join(m.fb, &m, 7, 3, NULL, 4), 1);
    assert_int_equal(kn__feedback_join(m.fb, &m, 8, 5, NULL, 0), 1);
    kn__feedback_free(m.fb);
}

static void live_score(void **state)
{
    (void)state;
    kn_live_row r[4] = {{.correct = 1, .positive = 1, .score = 0.9, .truth = 1, .value = 2},
                        {.correct = 0, .positive = 0, .score = 0.7, .truth = 1, .value = 4},
                        {.correct = 1, .positive = 0, .score = 0.2, .truth = NAN, .value = 4},
                        {.correct = 1, .positive = 1, .score = 0.8, .truth = 0, .value = 0}};
    double x;
    KN_CHECK(kn_live_score(KN_LIVE_ACCURACY, r, 4, &x));
    assert_true(x == 0.75);
    KN_CHECK(kn_live_score(KN_LIVE_ROC_AUC, r, 4, &x));
    assert_true(x == 1.0);
    KN_CHECK(kn_live_score(KN_LIVE_MAE, r, 4, &x)); /* row 2 has no truth */
    assert_true(fabs(x - 4.0 / 3) < 1e-15);
    KN_CHECK(kn_live_score(KN_LIVE_RMSE, r, 4, &x));
    assert_true(fabs(x - sqrt(10.0 / 3)) < 1e-15);
    KN_CHECK(kn_live_score(KN_LIVE_ROC_AUC, r, 1, &x)); /* one class: no AUC */
    assert_true(isnan(x));
    r[1].score = NAN; /* a row without its probability: no AUC */
    KN_CHECK(kn_live_score(KN_LIVE_ROC_AUC, r, 4, &x));
    assert_true(isnan(x));
    kn_live_metric lm;
    assert_int_equal(kn_live_metric_parse("f1", &lm), KN_ERR_INVALID);
    KN_CHECK(kn_live_metric_parse("mae", &lm));
    assert_int_equal(lm, KN_LIVE_MAE);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(threads_record_and_join),
        cmocka_unit_test(rows_of_a_batch),
        cmocka_unit_test(live_score),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
