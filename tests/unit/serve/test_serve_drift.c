/* kiln serve's windowed drift (src/serve/drift.c) without a server: four
 * threads add rows of one numeric and one text input at once while a
 * fifth reads the Prometheus text; afterwards every row is counted (the
 * reference full, the number of tested windows exact) and, the rows all
 * drawn from one distribution, no window drifted. A window whose numbers
 * move and whose text takes a new value drifts on both inputs. */
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

static void *adder(void *arg)
{
    int t = *(const int *)arg;
    for (int b = 0; b < BATCHES; b++) {
        kn_frame *f = frame(((size_t)t * BATCHES + (size_t)b) * ROWS, ROWS, 0, NULL);
        kn__drift_add(model.drift, f);
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
    KN_CHECK(kn__drift_new(&model.in, WINDOW, NULL, &model.drift));
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
    kn__drift_add(model.drift, f);
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
    assert_int_equal(kn__drift_new(&in, 1, NULL, &d), KN_ERR_INVALID);
    assert_null(d);
    kn__drift_add(NULL, NULL); /* off */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(threads_add),
        cmocka_unit_test(wrong_frames_and_windows),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
