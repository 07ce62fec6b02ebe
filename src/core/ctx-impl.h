/* Internal: the run context's fields, shared by the core files that act on
 * the current context (mem.c, stage.c, log.c, progress.c), and the binding
 * a parallel region makes in its workers.
 *
 * A region that allocates, logs or runs library code in its workers binds
 * the caller's context there for its length:
 *
 *     kn_ctx *ctx = kn_ctx_current();
 *     #pragma omp parallel
 *     {
 *         kn_ctx *prev = kn__ctx_swap(ctx);
 *         ... work ...
 *         kn__ctx_swap(prev);
 *     }
 *
 * (for a `parallel for`, around each iteration's body: two thread-local
 * stores). A region whose workers only allocate scratch uses
 * kn__malloc_in(ctx, n); one that only computes and frees needs nothing. */
#ifndef KILN_CORE_CTX_IMPL_H
#define KILN_CORE_CTX_IMPL_H

#include "kiln/ctx.h"
#include "kiln/log.h"
#include "kiln/mem.h"
#include "kiln/progress.h"
#include "kiln/stage.h"

#include <pthread.h>
#include <stdatomic.h>

#define KN__MAX_STAGES 64
/* Top bit of kn_ctx.live: kn_ctx_free was called; the last kn_free of a
 * block charged to the context frees it. */
#define KN__CTX_RELEASED ((uint64_t)1 << 63)

struct kn_ctx {
    _Atomic uint64_t live; /* accounted bytes, and KN__CTX_RELEASED */
    _Atomic uint64_t peak;
    _Atomic uint64_t limit;
    atomic_int cancelled;
    int is_default;

    pthread_mutex_t stage_lock; /* the stage fields below */
    kn_stage_record records[KN__MAX_STAGES];
    size_t n_records;
    char open_name[32];
    int is_open;
    double open_wall, open_cpu;

    kn_log_fn log_fn;
    void *log_user;
    atomic_int log_level;
    kn_progress_sink progress_fn;
    void *progress_user;
    uint64_t seed;
    int threads;
};

extern _Thread_local kn_ctx *kn__ctx_bound;
extern kn_ctx kn__ctx_default;

static inline kn_ctx *kn__ctx_get(void)
{
    kn_ctx *c = kn__ctx_bound;
    return c ? c : &kn__ctx_default;
}

/* Bind c (NULL: none) to this thread, without touching OpenMP settings;
 * returns the previous binding. */
static inline kn_ctx *kn__ctx_swap(kn_ctx *c)
{
    kn_ctx *prev = kn__ctx_bound;
    kn__ctx_bound = c;
    return prev;
}

/* Quiet nested work on this thread: while the count is above zero, kn_log
 * drops info messages (warnings and errors pass; --verbose's debug level
 * passes everything). For a component that fits many inner models (a
 * wrapper selector's hundreds of fits), whose every "converged" line would
 * bury the component's own. Calls nest: +1 to start, -1 to end. */
void kn__log_quiet_info(int delta);

/* kn_malloc / kn_calloc charged to c: for a region whose workers only
 * allocate their scratch (freeing needs no binding: a block remembers its
 * context). */
static inline void *kn__malloc_in(kn_ctx *c, size_t n)
{
    kn_ctx *prev = kn__ctx_swap(c);
    void *p = kn_malloc(n);
    kn__ctx_swap(prev);
    return p;
}

static inline void *kn__calloc_in(kn_ctx *c, size_t count, size_t size)
{
    kn_ctx *prev = kn__ctx_swap(c);
    void *p = kn_calloc(count, size);
    kn__ctx_swap(prev);
    return p;
}

/* Frees a released context (mem.c, when its last block goes). */
void kn__ctx_destroy(kn_ctx *c);

#endif
