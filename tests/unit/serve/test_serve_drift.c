/* kiln serve's windowed drift (src/serve/drift.c) without a server: four
 * threads add rows of one numeric and one text input at once while a
 * fifth reads the Prometheus text; afterwards every row is counted (the
 * reference full, the number of tested windows exact) and, the rows all
 * drawn from one distribution, no window drifted. A window whose numbers
 * move and whose text takes a new value drifts on both inputs. Sliding
 * windows end every `slide` rows once the first is full; the predictions
 * are tested against the first window's; refused rows take their places
 * in the windows (kiln_window_invalid_share). */
#include "test_util.h"

#include "serve/serve-impl.h"

#include <math.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

static char *names[] = {"x", "s"};
static kn_col_type types[] = {KN_COL_NUMERIC, KN_COL_STRING};
static unsigned char required[] = {0, 0};
static const kn__serve_inputs in = {2, names, types, required, NULL, NULL, 0, 0};

enum { THREADS = 4, BATCHES = 100, ROWS = 5, WINDOW = 200 };

static kn__serve_model model = {.name = "m", .version = "1", .in = in};
static _Atomic int done;

static kn_frame *frame(size_t first, size_t n, double shift, const char *only)
{
    kn_frame *f = NULL;
    KN_CHECK(kn_frame_new(&f));
    KN_CHECK(kn_frame_add_column(f, "x", KN_COL_NUMERIC, NULL));
    KN_CHECK(kn_frame_add_column(f, "s", KN_COL_STRING, NULL));
    KN_CHECK(kn_frame_resize(f, n));
    for (size_t i = 0; i < n; i++) {
        size_t r = first + i;
        /* a well-mixed sequence on [0, 1) */
        kn_column_f64(kn_frame_col(f, 0))[i] = fmod((double)r * 0.6180339887498949, 1.0) + shift;
        const char *s = only ? only : r % 3 == 0 ? "a" : r % 3 == 1 ? "b" : "c";
        KN_CHECK(kn_column_set_str(kn_frame_col(f, 1), i, s, strlen(s)));
    }
    return f;
}

/* The predictions of rows first..first+n: a function of x. */
static double *preds(size_t first, size_t n, double shift)
{
    static _Thread_local double y[1000];
    for (size_t i = 0; i < n && i < 1000; i++)
        y[i] = fmod((double)(first + i) * 0.6180339887498949, 1.0) * 2 + shift;
    return y;
}

static void *adder(void *arg)
{
    int t = *(const int *)arg;
    kn__drift_begin(1);
    for (int b = 0; b < BATCHES; b++) {
        size_t first = ((size_t)t * BATCHES + (size_t)b) * ROWS;
        kn_frame *f = frame(first, ROWS, 0, NULL);
        kn__drift_add(model.drift, f, preds(first, ROWS, 0), NULL);
        kn_frame_free(f);
    }
    return NULL;
}

static void *reader(void *arg)
{
    (void)arg;
    while (!done) {
        kn__sbuf b = {0};
        kn__drift_text(&(const kn__serve_model *){&model}, 1, &b);
        assert_false(b.oom);
        kn__sbuf_free(&b);
    }
    return NULL;
}

static double series(const char *text, const char *key)
{
    const char *p = strstr(text, key);
    return p ? strtod(p + strlen(key), NULL) : NAN;
}

static void threads_add(void **state)
{
    (void)state;
    kn__drift_cfg cfg = {WINDOW, 0, NULL, "m", NULL, 0, 0, 0, 0.01, 0};
    KN_CHECK(kn__drift_new(&model, &cfg, &model.drift));
    pthread_t th[THREADS + 1];
    int ids[THREADS];
    done = 0;
    for (int t = 0; t < THREADS; t++) {
        ids[t] = t;
        assert_int_equal(pthread_create(&th[t], NULL, adder, &ids[t]), 0);
    }
    assert_int_equal(pthread_create(&th[THREADS], NULL, reader, NULL), 0);
    for (int t = 0; t < THREADS; t++) pthread_join(th[t], NULL);
    done = 1;
    pthread_join(th[THREADS], NULL);
    kn__sbuf b = {0};
    kn__drift_text(&(const kn__serve_model *){&model}, 1, &b);
    kn__sbuf_add(&b, "", 1);
    /* 2,000 rows: the reference, then 9 windows */
    assert_true(series(b.p, "kiln_drift_reference_rows{model=\"m\",version=\"1\"} ") == WINDOW);
    assert_true(series(b.p, "kiln_drift_windows_total{model=\"m\",version=\"1\"} ") ==
                THREADS * BATCHES * ROWS / WINDOW - 1);
    assert_true(series(b.p, "kiln_drift_drifted_windows_total{model=\"m\",version=\"1\"} ") == 0);
    assert_true(series(b.p, "kiln_drift_memory_bytes{model=\"m\",version=\"1\"} ") >=
                2 * WINDOW * sizeof(double));
    kn__sbuf_free(&b);
    /* a moved window: x shifted by a half, s one new value */
    kn_frame *f = frame(0, WINDOW, 0.5, "z");
    kn__drift_begin(1);
    kn__drift_add(model.drift, f, preds(0, WINDOW, 0), NULL);
    kn_frame_free(f);
    kn__drift_text(&(const kn__serve_model *){&model}, 1, &b);
    kn__sbuf_add(&b, "", 1);
    assert_true(series(b.p, "kiln_drift_drifted{model=\"m\",version=\"1\",column=\"x\"} ") == 1);
    assert_true(series(b.p, "kiln_drift_drifted{model=\"m\",version=\"1\",column=\"s\"} ") == 1);
    assert_true(series(b.p, "kiln_drift_psi{model=\"m\",version=\"1\",column=\"x\"} ") > 1);
    kn__sbuf_free(&b);
    kn__drift_free(model.drift);
    model.drift = NULL;
}

static void wrong_frames_and_windows(void **state)
{
    (void)state;
    kn__drift *d = NULL;
    kn__drift_cfg one = {1, 0, NULL, "m", NULL, 0, 0, 0, 0.01, 0},
                  over = {10, 11, NULL, "m", NULL, 0, 0, 0, 0.01, 0};
    assert_int_equal(kn__drift_new(&model, &one, &d), KN_ERR_INVALID);
    assert_null(d);
    assert_int_equal(kn__drift_new(&model, &over, &d), KN_ERR_INVALID);
    assert_null(d);
    kn__drift_add(NULL, NULL, NULL, NULL); /* off */
    kn__drift_invalid(NULL, 3);
}

/* Sliding windows of 200 rows every 50: after the 200-row reference, the
 * first window ends at row 400, then one every 50 rows; the predictions
 * move in the last rows and their window drifts; refused rows show as the
 * window's invalid share. */
static void sliding(void **state)
{
    (void)state;
    kn__drift_cfg cfg = {WINDOW, 50, NULL, "m", NULL, 0, 0, 0, 0.01, 0};
    KN_CHECK(kn__drift_new(&model, &cfg, &model.drift));
    kn__drift_begin(1);
    for (size_t first = 0; first < 2000; first += 100) {
        kn_frame *f = frame(first, 100, 0, NULL);
        kn__drift_add(model.drift, f, preds(first, 100, 0), NULL);
        kn_frame_free(f);
    }
    kn__sbuf b = {0};
    kn__drift_text(&(const kn__serve_model *){&model}, 1, &b);
    kn__sbuf_add(&b, "", 1);
    assert_true(series(b.p, "kiln_drift_windows_total{model=\"m\",version=\"1\"} ") ==
                (2000 - 400) / 50 + 1);
    assert_true(series(b.p, "kiln_drift_slide_rows{model=\"m\",version=\"1\"} ") == 50);
    assert_true(series(b.p, "kiln_drift_drifted_windows_total{model=\"m\",version=\"1\"} ") == 0);
    assert_true(
        series(b.p, "kiln_drift_drifted{model=\"m\",version=\"1\",column=\"(prediction)\"} ") == 0);
    assert_true(series(b.p, "kiln_window_invalid_share{model=\"m\",version=\"1\"} ") == 0);
    kn__sbuf_free(&b);
    /* 140 rows whose predictions moved by 1, then 10 refused rows: the
     * window of the last 200 rows (50 old, 140 moved, 10 refused) ends */
    kn_frame *f = frame(2000, 140, 0, NULL);
    kn__drift_add(model.drift, f, preds(2000, 140, 1), NULL);
    kn_frame_free(f);
    kn__drift_invalid(model.drift, 10);
    kn__drift_text(&(const kn__serve_model *){&model}, 1, &b);
    kn__sbuf_add(&b, "", 1);
    assert_true(series(b.p, "kiln_drift_windows_total{model=\"m\",version=\"1\"} ") ==
                (2150 - 400) / 50 + 1);
    assert_true(
        series(b.p, "kiln_drift_drifted{model=\"m\",version=\"1\",column=\"(prediction)\"} ") == 1);
    assert_true(series(b.p, "kiln_drift_drifted{model=\"m\",version=\"1\",column=\"x\"} ") == 0);
    assert_true(fabs(series(b.p, "kiln_window_invalid_share{model=\"m\",version=\"1\"} ") - 0.05) <
                1e-12);
    assert_true(series(b.p, "kiln_drift_invalid_rows_total{model=\"m\",version=\"1\"} ") == 10);
    kn__sbuf_free(&b);
    kn__drift_begin(0);
    kn__drift_free(model.drift);
    model.drift = NULL;
}

/* A classifier's scores (P of its second class) move while every row is
 * still predicted the first class: the window drifts on "(score)", not on
 * "(prediction)"; an unmoved window drifts on neither. The reference: the
 * first window (no stored one). */
static void classifier_scores(void **state)
{
    (void)state;
    kn__serve_model c = {.name = "c", .version = "1", .in = in, .n_classes = 2};
    kn__drift_cfg cfg = {WINDOW, 0, NULL, "c", NULL, 0, 0, 0, 0.01, 0};
    KN_CHECK(kn__drift_new(&c, &cfg, &c.drift));
    double y[WINDOW], proba[2 * WINDOW];
    kn__drift_begin(1);
    kn__sbuf b = {0};
    for (int w = 0; w < 3; w++) { /* the reference, an unmoved window, a moved one */
        for (size_t i = 0; i < WINDOW; i++) {
            double s = 0.05 + 0.1 * fmod((double)(w * WINDOW + (int)i) * 0.6180339887498949, 1.0);
            proba[2 * i + 1] = s + (w == 2 ? 0.08 : 0);
            proba[2 * i] = 1 - proba[2 * i + 1];
            y[i] = 0; /* P(second) under 0.5: always the first class */
        }
        kn_frame *f = frame((size_t)w * WINDOW, WINDOW, 0, NULL);
        kn__drift_add(c.drift, f, y, proba);
        kn_frame_free(f);
        kn__drift_text(&(const kn__serve_model *){&c}, 1, &b);
        kn__sbuf_add(&b, "", 1);
        if (w == 1) {
            assert_true(
                series(b.p, "kiln_drift_drifted{model=\"c\",version=\"1\",column=\"(score)\"} ") ==
                0);
            assert_true(series(b.p, "kiln_drift_p{model=\"c\",version=\"1\",column=\"(score)\"} ") >
                        0.01);
        }
        if (w == 2) {
            assert_true(
                series(b.p, "kiln_drift_drifted{model=\"c\",version=\"1\",column=\"(score)\"} ") ==
                1);
            assert_true(series(b.p, "kiln_drift_drifted{model=\"c\",version=\"1\",column=\"("
                                    "prediction)\"} ") == 0);
            assert_true(
                series(b.p, "kiln_drift_drifted_windows_total{model=\"c\",version=\"1\"} ") == 1);
            /* its share of the ring (the power of two from two windows), the
             * copy tested and the first window's */
            size_t cap = 1;
            while (cap < 2 * WINDOW) cap <<= 1;
            assert_true(series(b.p, "kiln_drift_column_memory_bytes{model=\"c\",version=\"1\","
                                    "column=\"(score)\"} ") ==
                        (double)((cap + 2 * WINDOW) * sizeof(double)));
        }
        kn__sbuf_free(&b);
    }
    kn__drift_free(c.drift);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(threads_add),
        cmocka_unit_test(wrong_frames_and_windows),
        cmocka_unit_test(sliding),
        cmocka_unit_test(classifier_scores),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
