/* Run contexts (see ctx.h): the default one, thread binding, settings and
 * the cancellation flag. */
#include "core/ctx-impl.h"
#include "kiln/mem.h"

#include <stdlib.h>
#include <string.h>
#ifdef _OPENMP
#include <omp.h>
#endif

/* kn_ctx_cancel is called from signal handlers: the store must not lock. */
_Static_assert(ATOMIC_INT_LOCK_FREE == 2, "atomic int must be lock-free");

_Thread_local kn_ctx *kn__ctx_bound;
kn_ctx kn__ctx_default = {
    .is_default = 1, .stage_lock = PTHREAD_MUTEX_INITIALIZER, .log_level = KN_LOG_INFO};

/* The calling thread's OpenMP team size before it first entered a context
 * with a thread count (0: not saved). */
static _Thread_local int base_threads;

kn_status kn_ctx_new(kn_ctx **out)
{
    /* plain calloc: the context's record is not data of any run */
    kn_ctx *c = calloc(1, sizeof *c);
    if (!c) return kn_fail(KN_ERR_NOMEM, "out of memory creating a run context");
    if (pthread_mutex_init(&c->stage_lock, NULL) != 0) {
        free(c);
        return kn_fail(KN_ERR_INTERNAL, "could not create a run context's lock");
    }
    const kn_ctx *from = kn__ctx_get();
    c->log_fn = from->log_fn;
    c->log_user = from->log_user;
    atomic_store(&c->log_level, atomic_load(&from->log_level));
    c->progress_fn = from->progress_fn;
    c->progress_user = from->progress_user;
    c->seed = from->seed;
    c->threads = from->threads;
    *out = c;
    return KN_OK;
}

void kn__ctx_destroy(kn_ctx *c)
{
    pthread_mutex_destroy(&c->stage_lock);
    free(c);
}

void kn_ctx_free(kn_ctx *ctx)
{
    if (!ctx || ctx->is_default) return;
    uint64_t old = atomic_fetch_or(&ctx->live, KN__CTX_RELEASED);
    if ((old & ~KN__CTX_RELEASED) == 0) kn__ctx_destroy(ctx);
}

kn_ctx *kn_ctx_default(void)
{
    return &kn__ctx_default;
}

kn_ctx *kn_ctx_current(void)
{
    return kn__ctx_get();
}

static void set_team(int n)
{
#ifdef _OPENMP
    if (n > 0) omp_set_num_threads(n);
#else
    (void)n;
#endif
}

static int team_now(void)
{
#ifdef _OPENMP
    return omp_get_max_threads();
#else
    return 1;
#endif
}

kn_ctx *kn_ctx_enter(kn_ctx *ctx)
{
    kn_ctx *prev = kn__ctx_swap(ctx);
    if (ctx && ctx->threads > 0) {
        if (!base_threads) base_threads = team_now();
        set_team(ctx->threads);
    }
    return prev;
}

void kn_ctx_leave(kn_ctx *prev)
{
    kn__ctx_swap(prev);
    if (prev && prev->threads > 0)
        set_team(prev->threads);
    else if (base_threads)
        set_team(base_threads);
}

void kn_ctx_set_mem_limit(kn_ctx *ctx, uint64_t bytes)
{
    atomic_store(&ctx->limit, bytes);
}

uint64_t kn_ctx_mem_live(const kn_ctx *ctx)
{
    return atomic_load(&ctx->live) & ~KN__CTX_RELEASED;
}

uint64_t kn_ctx_mem_peak(const kn_ctx *ctx)
{
    return atomic_load(&ctx->peak);
}

void kn_ctx_set_threads(kn_ctx *ctx, int threads)
{
    ctx->threads = threads > 0 ? threads : 0;
}

int kn_ctx_threads(const kn_ctx *ctx)
{
    return ctx->threads;
}

void kn_ctx_set_seed(kn_ctx *ctx, uint64_t seed)
{
    ctx->seed = seed;
}

uint64_t kn_ctx_seed(const kn_ctx *ctx)
{
    return ctx->seed;
}

void kn_ctx_rng(const kn_ctx *ctx, uint64_t stream, kn_rng *out)
{
    kn_rng_init_stream(out, ctx->seed, stream);
}

void kn_ctx_cancel(kn_ctx *ctx)
{
    atomic_store_explicit(&ctx->cancelled, 1, memory_order_release);
}

int kn_ctx_cancelled(const kn_ctx *ctx)
{
    return atomic_load_explicit(&ctx->cancelled, memory_order_acquire);
}

void kn_ctx_uncancel(kn_ctx *ctx)
{
    atomic_store(&ctx->cancelled, 0);
}

kn_status kn_ctx_check(void)
{
    if (!kn_ctx_cancelled(kn__ctx_get())) return KN_OK;
    return kn_fail(KN_ERR_CANCELLED, "cancelled in stage '%s'", kn_stage_current());
}
