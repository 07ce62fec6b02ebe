/* core: run contexts. Stage records, memory accounting, log sinks and the
 * cancellation flag of two contexts used at once stay apart; blocks may
 * outlive their context; binding nests. */
#include "test_util.h"

#include "kiln/ctx.h"
#include "kiln/log.h"
#include "kiln/mem.h"
#include "kiln/stage.h"

#include <pthread.h>
#ifdef _OPENMP
#include <omp.h>
#endif

/* Two threads, each in its own context, go through their own stages at
 * the same moment (a barrier between every step). */
typedef struct {
    kn_ctx *ctx;
    const char *prefix;
    pthread_barrier_t *bar;
    char seen[4][32];
    size_t count;
    char names[8][32];
} stage_job;

static void *stage_worker(void *arg)
{
    stage_job *j = arg;
    kn_ctx *prev = kn_ctx_enter(j->ctx);
    for (int s = 0; s < 4; s++) {
        char name[32];
        snprintf(name, sizeof name, "%s-%d", j->prefix, s);
        pthread_barrier_wait(j->bar);
        kn_stage_begin(name);
        pthread_barrier_wait(j->bar); /* the other thread has begun its stage too */
        snprintf(j->seen[s], sizeof j->seen[s], "%s", kn_stage_current());
    }
    kn_stage_end();
    j->count = kn_stage_count();
    for (size_t i = 0; i < j->count && i < 8; i++)
        snprintf(j->names[i], sizeof j->names[i], "%s", kn_stage_get(i)->name);
    kn_ctx_leave(prev);
    return NULL;
}

static void stages_of_two_contexts_do_not_mix(void **state)
{
    (void)state;
    kn_stage_reset();
    kn_ctx *a, *b;
    KN_CHECK(kn_ctx_new(&a));
    KN_CHECK(kn_ctx_new(&b));
    pthread_barrier_t bar;
    pthread_barrier_init(&bar, NULL, 2);
    stage_job ja = {.ctx = a, .prefix = "a", .bar = &bar};
    stage_job jb = {.ctx = b, .prefix = "b", .bar = &bar};
    pthread_t ta, tb;
    assert_int_equal(pthread_create(&ta, NULL, stage_worker, &ja), 0);
    assert_int_equal(pthread_create(&tb, NULL, stage_worker, &jb), 0);
    pthread_join(ta, NULL);
    pthread_join(tb, NULL);
    pthread_barrier_destroy(&bar);
    for (int s = 0; s < 4; s++) {
        char want[32];
        snprintf(want, sizeof want, "a-%d", s);
        assert_string_equal(ja.seen[s], want);
        assert_string_equal(ja.names[s], want);
        snprintf(want, sizeof want, "b-%d", s);
        assert_string_equal(jb.seen[s], want);
        assert_string_equal(jb.names[s], want);
    }
    assert_int_equal(ja.count, 4);
    assert_int_equal(jb.count, 4);
    /* the default context saw none of it */
    assert_int_equal(kn_stage_count(), 0);
    assert_string_equal(kn_stage_current(), "main");
    kn_ctx_free(a);
    kn_ctx_free(b);
}

static void memory_is_charged_to_the_current_context(void **state)
{
    (void)state;
    kn_ctx *c;
    KN_CHECK(kn_ctx_new(&c));
    uint64_t live0 = kn_mem_live(), proc0 = kn_mem_process_live();
    kn_ctx *prev = kn_ctx_enter(c);
    assert_ptr_equal(kn_ctx_current(), c);
    kn_mem_set_limit(1 << 20);
    char *x = kn_malloc(1000);
    assert_non_null(x);
    assert_int_equal(kn_mem_live(), 1000);
    assert_int_equal(kn_ctx_mem_live(c), 1000);
    assert_null(kn_malloc(2 << 20)); /* over c's budget */
    assert_int_equal(kn_last_status(), KN_ERR_NOMEM);
    assert_non_null(strstr(kn_last_error(), "limit 1.0 MiB"));
    x = kn_realloc(x, 3000); /* grows within c */
    assert_non_null(x);
    kn_ctx_leave(prev);
    assert_ptr_equal(kn_ctx_current(), kn_ctx_default());
    /* the default context is untouched; the process total has c's block */
    assert_int_equal(kn_mem_live(), live0);
    assert_int_equal(kn_mem_limit(), 0);
    assert_int_equal(kn_mem_process_live(), proc0 + 3000);
    assert_int_equal(kn_ctx_mem_live(c), 3000);
    assert_true(kn_ctx_mem_peak(c) >= 3000);
    /* freed outside c, still given back to c */
    kn_free(x);
    assert_int_equal(kn_ctx_mem_live(c), 0);
    assert_int_equal(kn_mem_process_live(), proc0);
    kn_ctx_free(c);
}

/* A block may outlive its context: the context's record goes with the last
 * block (ASan reports a leak or a use after free otherwise). */
static void blocks_may_outlive_their_context(void **state)
{
    (void)state;
    kn_ctx *c;
    KN_CHECK(kn_ctx_new(&c));
    kn_ctx *prev = kn_ctx_enter(c);
    char *a = kn_malloc(64), *b = kn_calloc(4, 8), *z = kn_malloc(0);
    kn_ctx_leave(prev);
    assert_non_null(a);
    assert_non_null(b);
    assert_non_null(z);
    kn_ctx_free(c);
    kn_free(a);
    b = kn_realloc(b, 16); /* shrinks, still charged to the released context */
    assert_non_null(b);
    kn_free(z);
    kn_free(b); /* the last one: frees c */
}

static void binding_nests(void **state)
{
    (void)state;
    kn_ctx *a, *b;
    KN_CHECK(kn_ctx_new(&a));
    KN_CHECK(kn_ctx_new(&b));
    kn_ctx *p0 = kn_ctx_enter(a);
    assert_null(p0);
    kn_ctx *p1 = kn_ctx_enter(b);
    assert_ptr_equal(p1, a);
    assert_ptr_equal(kn_ctx_current(), b);
    kn_ctx_leave(p1);
    assert_ptr_equal(kn_ctx_current(), a);
    kn_ctx_leave(p0);
    assert_ptr_equal(kn_ctx_current(), kn_ctx_default());
    kn_ctx_free(a);
    kn_ctx_free(b);
    kn_ctx_free(NULL);
    kn_ctx_free(kn_ctx_default()); /* ignored */
}

typedef struct {
    int calls;
    char last[64];
} log_box;

static void box_sink(kn_log_level level, const char *msg, void *user)
{
    (void)level;
    log_box *b = user;
    b->calls++;
    snprintf(b->last, sizeof b->last, "%s", msg);
}

static void log_sinks_are_per_context(void **state)
{
    (void)state;
    log_box outer = {0}, inner = {0};
    kn_log_set(box_sink, &outer);
    kn_ctx *c;
    KN_CHECK(kn_ctx_new(&c)); /* starts with the default's sink */
    kn_ctx *prev = kn_ctx_enter(c);
    kn_log(KN_LOG_INFO, "inherited");
    kn_log_set(box_sink, &inner);
    kn_log_set_level(KN_LOG_WARN);
    kn_log(KN_LOG_INFO, "dropped");
    kn_log(KN_LOG_WARN, "inner");
    kn_ctx_leave(prev);
    kn_log(KN_LOG_INFO, "outer");
    assert_int_equal(outer.calls, 2);
    assert_string_equal(outer.last, "outer");
    assert_int_equal(inner.calls, 1);
    assert_string_equal(inner.last, "inner");
    assert_int_equal(kn_log_get_level(), KN_LOG_INFO);
    kn_log_set(NULL, NULL);
    kn_ctx_free(c);
}

static void cancel_flag_and_check(void **state)
{
    (void)state;
    kn_ctx *c;
    KN_CHECK(kn_ctx_new(&c));
    kn_ctx *prev = kn_ctx_enter(c);
    kn_stage_begin("busy");
    KN_CHECK(kn_ctx_check());
    kn_ctx_cancel(c);
    assert_true(kn_ctx_cancelled(c));
    assert_false(kn_ctx_cancelled(kn_ctx_default()));
    KN_CHECK_FAILS(kn_ctx_check(), KN_ERR_CANCELLED, "cancelled in stage 'busy'");
    assert_string_equal(kn_status_name(KN_ERR_CANCELLED), "KN_ERR_CANCELLED");
    kn_ctx_uncancel(c);
    KN_CHECK(kn_ctx_check());
    kn_ctx_leave(prev);
    kn_ctx_free(c);
}

static void seed_threads_and_streams(void **state)
{
    (void)state;
    kn_ctx *c;
    KN_CHECK(kn_ctx_new(&c));
    kn_ctx_set_seed(c, 7);
    kn_ctx_set_threads(c, 3);
    assert_int_equal(kn_ctx_seed(c), 7);
    assert_int_equal(kn_ctx_threads(c), 3);
#ifdef _OPENMP
    int before = omp_get_max_threads();
    kn_ctx *prev = kn_ctx_enter(c); /* the context's thread count becomes the team size */
    assert_int_equal(omp_get_max_threads(), 3);
    kn_ctx_leave(prev);
    assert_int_equal(omp_get_max_threads(), before);
#endif
    kn_rng r1, r2, r3;
    kn_ctx_rng(c, 1, &r1);
    kn_rng_init_stream(&r2, 7, 1);
    kn_ctx_rng(c, 2, &r3);
    uint64_t a = kn_rng_next(&r1);
    assert_int_equal(a, kn_rng_next(&r2));
    assert_int_not_equal(a, kn_rng_next(&r3));
    kn_ctx_free(c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(stages_of_two_contexts_do_not_mix),
        cmocka_unit_test(memory_is_charged_to_the_current_context),
        cmocka_unit_test(blocks_may_outlive_their_context),
        cmocka_unit_test(binding_nests),
        cmocka_unit_test(log_sinks_are_per_context),
        cmocka_unit_test(cancel_flag_and_check),
        cmocka_unit_test(seed_threads_and_streams),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
