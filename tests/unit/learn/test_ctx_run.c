/* learn: whole runs in their own contexts, side by side. Two fits with
 * different memory budgets in two threads at once (the small one fails
 * naming its stage, the other completes), and cancellation of a gbdt fit,
 * a random forest and a cross-validation from another thread (each returns
 * KN_ERR_CANCELLED soon after the flag, leaking nothing). */
#include "test_util.h"

#include "kiln/ctx.h"
#include "kiln/cv.h"
#include "kiln/io.h"
#include "kiln/mem.h"
#include "kiln/model.h"
#include "kiln/stage.h"

#include <pthread.h>
#include <time.h>

/* How soon a cancelled loop must return. Sanitizer builds (KILN_SANITIZED)
 * run a boosting round several times slower, so they get more. */
#ifdef KILN_SANITIZED
#define CANCEL_WITHIN_S 0.5
#else
#define CANCEL_WITHIN_S 0.1
#endif

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static kn_frame *read_data(const char *name)
{
    const char *dir = getenv("KILN_TEST_DATA");
    char path[512];
    snprintf(path, sizeof path, "%s/%s", dir ? dir : "tests/data", name);
    kn_frame *f = NULL;
    KN_CHECK(kn_frame_read(path, NULL, &f, NULL));
    return f;
}

/* One run: read concrete.csv and fit a gbdt on it, in ctx, in stage `stage`. */
typedef struct {
    kn_ctx *ctx;
    const char *stage;
    const char *const *params;
    pthread_barrier_t *start;
    kn_status status;
    char message[512];
} fit_job;

static void *fit_worker(void *arg)
{
    fit_job *j = arg;
    kn_ctx *prev = kn_ctx_enter(j->ctx);
    pthread_barrier_wait(j->start);
    kn_stage_begin(j->stage);
    kn_frame *f = NULL;
    kn_model *m = NULL;
    const char *dir = getenv("KILN_TEST_DATA");
    char path[512];
    snprintf(path, sizeof path, "%s/concrete.csv", dir ? dir : "tests/data");
    kn_status st = kn_frame_read(path, NULL, &f, NULL);
    if (st == KN_OK) st = kn_model_new("gbdt", &m);
    for (const char *const *p = j->params; st == KN_OK && *p; p++) st = kn_model_set(m, *p);
    if (st == KN_OK) st = kn_model_fit(m, f, "compressive_strength", NULL);
    j->status = st;
    snprintf(j->message, sizeof j->message, "%s", st == KN_OK ? "" : kn_last_error());
    kn_model_free(m);
    kn_frame_free(f);
    kn_stage_end();
    kn_ctx_leave(prev);
    return NULL;
}

static void two_budgets_in_one_process(void **state)
{
    (void)state;
    kn_ctx *small, *big;
    KN_CHECK(kn_ctx_new(&small));
    KN_CHECK(kn_ctx_new(&big));
    kn_ctx_set_mem_limit(small, 200 << 10); /* the file's columns fit, the fit's work does not */
    kn_ctx_set_mem_limit(big, 1u << 30);
    const char *params[] = {"n_estimators=200", "max_leaves=31", NULL};
    pthread_barrier_t start;
    pthread_barrier_init(&start, NULL, 2);
    fit_job js = {.ctx = small, .stage = "small-fit", .params = params, .start = &start};
    fit_job jb = {.ctx = big, .stage = "big-fit", .params = params, .start = &start};
    pthread_t ts, tb;
    assert_int_equal(pthread_create(&ts, NULL, fit_worker, &js), 0);
    assert_int_equal(pthread_create(&tb, NULL, fit_worker, &jb), 0);
    pthread_join(ts, NULL);
    pthread_join(tb, NULL);
    pthread_barrier_destroy(&start);
    if (js.status != KN_ERR_NOMEM)
        fail_msg("small budget: %s (%s)", kn_status_name(js.status), js.message);
    if (!strstr(js.message, "in stage 'small-fit'") || !strstr(js.message, "limit 200.0 KiB"))
        fail_msg("small budget's message: %s", js.message);
    if (jb.status != KN_OK) fail_msg("big budget: %s (%s)", kn_status_name(jb.status), jb.message);
    /* each context's peak is its own; everything went back */
    assert_true(kn_ctx_mem_peak(big) > (200u << 10));
    assert_true(kn_ctx_mem_peak(small) <= (200u << 10));
    assert_int_equal(kn_ctx_mem_live(small), 0);
    assert_int_equal(kn_ctx_mem_live(big), 0);
    kn_ctx_free(small);
    kn_ctx_free(big);
}

/* A long run in a thread of its own; the main thread cancels it. */
typedef struct {
    kn_ctx *ctx;
    const kn_frame *f;
    const char *model;
    const char *const *params;
    size_t n_params;
    int cv;
    kn_status status;
    double returned_at;
    char message[512];
} long_job;

static void *long_worker(void *arg)
{
    long_job *j = arg;
    kn_ctx *prev = kn_ctx_enter(j->ctx);
    kn_stage_begin("long");
    kn_status st;
    if (j->cv) {
        kn_cv_spec s = {.model = j->model,
                        .params = j->params,
                        .n_params = j->n_params,
                        .target = "compressive_strength"};
        kn_split_opts_default(&s.split);
        s.split.kind = KN_SPLIT_KFOLD;
        s.split.folds = 5;
        kn_cv_result r;
        st = kn_cv_run(j->f, &s, &r);
        if (st == KN_OK) kn_cv_result_free(&r);
    } else {
        kn_model *m = NULL;
        st = kn_model_new(j->model, &m);
        for (size_t i = 0; st == KN_OK && i < j->n_params; i++) st = kn_model_set(m, j->params[i]);
        if (st == KN_OK) st = kn_model_fit(m, j->f, "compressive_strength", NULL);
        kn_model_free(m);
    }
    j->returned_at = now_s();
    j->status = st;
    snprintf(j->message, sizeof j->message, "%s", st == KN_OK ? "" : kn_last_error());
    kn_stage_end();
    kn_ctx_leave(prev);
    return NULL;
}

static void cancel_after_200ms(const char *model, const char *const *params, size_t n_params,
                               int cv)
{
    kn_frame *f = read_data("concrete.csv");
    kn_ctx *c;
    KN_CHECK(kn_ctx_new(&c));
    long_job j = {
        .ctx = c, .f = f, .model = model, .params = params, .n_params = n_params, .cv = cv};
    pthread_t t;
    assert_int_equal(pthread_create(&t, NULL, long_worker, &j), 0);
    struct timespec wait = {0, 200 * 1000 * 1000};
    nanosleep(&wait, NULL);
    double cancelled_at = now_s();
    kn_ctx_cancel(c);
    pthread_join(t, NULL);
    if (j.status != KN_ERR_CANCELLED)
        fail_msg("%s%s: %s (%s)", model, cv ? " cv" : "", kn_status_name(j.status), j.message);
    assert_non_null(strstr(j.message, "cancelled in stage 'long'"));
    double late = j.returned_at - cancelled_at;
    print_message("%s%s stopped %.1f ms after the flag\n", model, cv ? " cv" : "", late * 1e3);
    if (late > CANCEL_WITHIN_S)
        fail_msg("%s%s returned %.3f s after the flag (at most %.3f)", model, cv ? " cv" : "", late,
                 CANCEL_WITHIN_S);
    assert_int_equal(kn_ctx_mem_live(c), 0);
    kn_ctx_free(c);
    kn_frame_free(f);
}

/* Far more rounds and trees than 200 ms allow, on any machine (a round
 * takes about a millisecond here, a tree about 5 ms of CPU), but not so
 * many that their empty slots take long to free (20,000 tree slots took
 * 40-100 ms on a loaded machine). */
static const char *const gbdt_long[] = {"n_estimators=100000", "learning_rate=0.001"};
static const char *const forest_long[] = {"n_estimators=2000"};

static void cancel_gbdt_fit(void **state)
{
    (void)state;
    cancel_after_200ms("gbdt", gbdt_long, 2, 0);
}

static void cancel_forest_fit(void **state)
{
    (void)state;
    cancel_after_200ms("random_forest", forest_long, 1, 0);
}

static void cancel_cross_validation(void **state)
{
    (void)state;
    cancel_after_200ms("gbdt", gbdt_long, 2, 1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(two_budgets_in_one_process),
        cmocka_unit_test(cancel_gbdt_fit),
        cmocka_unit_test(cancel_forest_fit),
        cmocka_unit_test(cancel_cross_validation),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
