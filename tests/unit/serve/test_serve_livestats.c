/* kiln serve's live statistics (src/serve/livestats.c) without a server:
 * four threads add rows at once (each to its own shard) while a fifth
 * reads the Prometheus text over and over; afterwards the counts, missing
 * counts and categories are exact, the mean and standard deviation match
 * a direct computation within 1e-9, and the median is within the
 * sketch's 1 % rank error. A text column with more than 64 values per
 * shard keeps the top 20 and counts the rest as other. */
#include "test_util.h"

#include "serve/serve-impl.h"

#include <math.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

static char *names[] = {"x", "c", "s"};
static kn_col_type types[] = {KN_COL_NUMERIC, KN_COL_CATEGORICAL, KN_COL_STRING};
static unsigned char required[] = {0, 0, 0};
static const kn__serve_inputs in = {3, names, types, required, NULL, NULL, 0, 0};

enum { THREADS = 4, BATCHES = 500, ROWS = 5 };

/* The value of x in row r (thread t, batch b, row i): every 10th missing. */
static double xval(size_t r)
{
    return r % 10 == 3 ? NAN : (double)((r * 7919) % 1000) / 8.0 - 20;
}

typedef struct job {
    kn__livestats *ls;
    int t;
} job;

static void *adder(void *arg)
{
    const job *j = arg;
    for (int b = 0; b < BATCHES; b++) {
        kn_frame *f = NULL;
        kn_column *x, *c, *s;
        KN_CHECK(kn_frame_new(&f));
        KN_CHECK(kn_frame_add_column(f, "x", KN_COL_NUMERIC, &x));
        KN_CHECK(kn_frame_add_column(f, "c", KN_COL_CATEGORICAL, &c));
        KN_CHECK(kn_frame_add_column(f, "s", KN_COL_STRING, &s));
        KN_CHECK(kn_frame_resize(f, ROWS));
        for (int i = 0; i < ROWS; i++) {
            size_t r = ((size_t)j->t * BATCHES + (size_t)b) * ROWS + (size_t)i;
            kn_column_f64(kn_frame_col(f, 0))[i] = xval(r);
            const char *level = r % 3 == 0 ? "red" : r % 3 == 1 ? "green" : "blue";
            int32_t code;
            KN_CHECK(kn_column_intern(kn_frame_col(f, 1), level, strlen(level), &code));
            kn_column_codes(kn_frame_col(f, 1))[i] = r % 50 == 7 ? -1 : code;
            char text[32];
            /* s: 200 values, value v appearing more often the smaller v is */
            snprintf(text, sizeof text, "v%03zu", (r * r) % 200 % (1 + r % 200));
            KN_CHECK(kn_column_set_str(kn_frame_col(f, 2), (size_t)i, text, strlen(text)));
        }
        kn__livestats_add(j->ls, f);
        kn_frame_free(f);
    }
    return NULL;
}

static _Atomic int done;

static void *reader(void *arg)
{
    const kn__serve_model *m = arg;
    while (!done) {
        kn__sbuf b = {0};
        kn__livestats_text(&m, 1, &b);
        assert_false(b.oom);
        kn__sbuf_free(&b);
    }
    return NULL;
}

/* The value of series `name{...feature="f"<extra>}` in text, or NAN. */
static double series(const char *text, const char *name, const char *f, const char *extra)
{
    char key[256];
    snprintf(key, sizeof key, "%s{model=\"m\",version=\"1\",feature=\"%s\"%s} ", name, f, extra);
    const char *p = strstr(text, key);
    return p ? strtod(p + strlen(key), NULL) : NAN;
}

static int cmp(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static void shards_merge_exactly(void **state)
{
    (void)state;
    kn__serve_model m = {.name = "m", .version = "1", .in = in};
    KN_CHECK(kn__livestats_new(&in, THREADS, &m.live));
    pthread_t th[THREADS], rd;
    job jobs[THREADS];
    done = 0;
    assert_int_equal(pthread_create(&rd, NULL, reader, &m), 0);
    for (int t = 0; t < THREADS; t++) {
        jobs[t] = (job){m.live, t};
        assert_int_equal(pthread_create(&th[t], NULL, adder, &jobs[t]), 0);
    }
    for (int t = 0; t < THREADS; t++) pthread_join(th[t], NULL);
    done = 1;
    pthread_join(rd, NULL);

    kn__sbuf b = {0};
    kn__livestats_text(&(const kn__serve_model *){&m}, 1, &b);
    kn__sbuf_add(&b, "", 1);
    const char *text = b.p;
    size_t n = (size_t)THREADS * BATCHES * ROWS, present = 0, missing_c = 0;
    double *xs = malloc(n * sizeof *xs), sum = 0;
    size_t colours[3] = {0};
    for (size_t r = 0; r < n; r++) {
        if (!isnan(xval(r))) xs[present++] = xval(r), sum += xval(r);
        if (r % 50 == 7)
            missing_c++;
        else
            colours[r % 3]++;
    }
    double mean = sum / (double)present, ss = 0;
    for (size_t i = 0; i < present; i++) ss += (xs[i] - mean) * (xs[i] - mean);
    assert_true(series(text, "kiln_feature_count", "x", "") == (double)n);
    assert_true(series(text, "kiln_feature_missing", "x", "") == (double)(n - present));
    assert_true(fabs(series(text, "kiln_feature_mean", "x", "") - mean) <= 1e-9 * fabs(mean));
    assert_true(fabs(series(text, "kiln_feature_stddev", "x", "") - sqrt(ss / (double)present)) <=
                1e-9);
    qsort(xs, present, sizeof *xs, cmp);
    double med = series(text, "kiln_feature_quantile", "x", ",quantile=\"0.5\"");
    size_t lo = 0, hi = 0;
    while (lo < present && xs[lo] < med) lo++;
    hi = lo;
    while (hi < present && xs[hi] <= med) hi++;
    assert_true((double)lo / (double)present <= 0.51 && (double)hi / (double)present >= 0.49);
    assert_true(series(text, "kiln_feature_missing", "c", "") == (double)missing_c);
    assert_true(series(text, "kiln_feature_category_count", "c", ",value=\"red\"") ==
                (double)colours[0]);
    assert_true(series(text, "kiln_feature_category_count", "c", ",value=\"green\"") ==
                (double)colours[1]);
    assert_true(series(text, "kiln_feature_category_count", "c", ",value=\"blue\"") ==
                (double)colours[2]);
    assert_true(series(text, "kiln_feature_category_other", "c", "") == 0);
    /* s: 20 values shown, the rest in other, all rows accounted for */
    size_t shown = 0;
    double total = 0;
    for (const char *p = text; (p = strstr(p, "kiln_feature_category_count{model=\"m\",version="
                                              "\"1\",feature=\"s\""));
         p++) {
        shown++;
        total += strtod(strchr(p, '}') + 1, NULL);
    }
    assert_int_equal(shown, 20);
    assert_true(total + series(text, "kiln_feature_category_other", "s", "") == (double)n);
    /* the memory: a sketch per numeric input and shard (bounded, kiln/sketch.h: under
     * 24 kB each), a table per text input and shard, reported per version */
    const char *mem = strstr(text, "kiln_live_memory_bytes{model=\"m\",version=\"1\"} ");
    assert_non_null(mem);
    double bytes = strtod(strchr(mem, '}') + 1, NULL);
    assert_true(bytes > (double)THREADS * 2 * 1024 && bytes < (double)THREADS * 64 * 1024);
    free(xs);
    kn__sbuf_free(&b);
    kn__livestats_free(m.live);
}

static void wrong_frames_are_skipped(void **state)
{
    (void)state;
    kn__serve_model m = {.name = "m", .version = "1", .in = in};
    KN_CHECK(kn__livestats_new(&in, 1, &m.live));
    kn_frame *f = NULL;
    KN_CHECK(kn_frame_new(&f));
    KN_CHECK(kn_frame_add_column(f, "x", KN_COL_NUMERIC, NULL));
    KN_CHECK(kn_frame_resize(f, 3));
    kn__livestats_add(m.live, f); /* one column, not the model's three: nothing counted */
    kn__livestats_add(NULL, f);   /* statistics off */
    kn__sbuf b = {0};
    kn__livestats_text(&(const kn__serve_model *){&m}, 1, &b);
    kn__sbuf_add(&b, "", 1);
    assert_true(series(b.p, "kiln_feature_count", "x", "") == 0);
    assert_non_null(strstr(b.p, "kiln_feature_quantile{model=\"m\",version=\"1\",feature=\"x\","
                                "quantile=\"0.5\"} NaN"));
    kn__sbuf_free(&b);
    kn_frame_free(f);
    kn__livestats_free(m.live);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(shards_merge_exactly),
        cmocka_unit_test(wrong_frames_are_skipped),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
