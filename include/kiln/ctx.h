/* Kiln run contexts: the state of one run (a command, a server request, a
 * trial of a search) that used to be process-global.
 *
 * A kn_ctx holds:
 *   - stage records (kiln/stage.h),
 *   - the memory budget, live bytes and peak (kiln/mem.h); the process
 *     totals are still kept (kn_mem_process_live/peak),
 *   - the log sink and level (kiln/log.h) and the progress sink
 *     (kiln/progress.h),
 *   - a seed from which independent streams are derived (per fold, per trial),
 *   - the thread count of its parallel regions,
 *   - a cancellation flag.
 *
 * The context is bound to the calling thread, so library calls need no
 * extra argument: "this fit runs in ctx C" is
 *
 *     kn_ctx *c;
 *     if (kn_ctx_new(&c) != KN_OK) return kn_last_status();
 *     kn_ctx_set_mem_limit(c, 512ull << 20);
 *     kn_ctx *prev = kn_ctx_enter(c);
 *     kn_status st = kn_model_fit(m, frame, NULL);   // charged to c
 *     kn_ctx_leave(prev);
 *     kn_ctx_free(c);
 *
 * A thread with no context bound works in the process default context
 * (kn_ctx_default()), so simple callers see what they saw before:
 * kn_mem_set_limit, kn_stage_begin, kn_log_set, kn_progress_set_sink and
 * friends act on the current context, kn_ctx_current().
 *
 * Threading rules:
 *   - A context may be bound to several threads at once (a caller's own
 *     worker threads enter it too). Memory accounting, logging and the
 *     cancellation flag are thread-safe; stage records are locked.
 *   - Every parallel region of the library (OpenMP) binds the context of
 *     the thread that opens it in each of its worker threads for the
 *     region's length, so kn_malloc in a worker charges the caller's
 *     budget, a worker's out-of-memory message names the caller's stage and
 *     long loops in workers see the caller's cancellation. New library code
 *     that opens a region and allocates, logs or runs library code in it
 *     must do the same (kn__ctx_swap, src/core/ctx-impl.h).
 *   - Setters of sinks, seed and thread count are meant for before the work
 *     starts: they are not synchronised with the work of other threads.
 *   - kn_ctx_cancel() may be called from any thread and from a signal
 *     handler (one lock-free atomic store).
 *
 * What stays per process: CPU feature detection and the switch to the
 * portable kernels (src/core/simd.c), the component registry, interned
 * strings, the temporary-file list removed on signals, and the settings of
 * other libraries (glibc malloc tuning: kn_mem_tune_process(); OpenBLAS's
 * thread count): the library never changes those by itself, the
 * application (the kiln binary) does. Peak RSS and CPU seconds in stage
 * records are process figures: with several contexts at work at once they
 * include the others' work.
 */
#ifndef KILN_CTX_H
#define KILN_CTX_H

#include "kiln/core.h"
#include "kiln/rng.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct kn_ctx kn_ctx;

/* Returns a new context; free with kn_ctx_free(). It starts with the current
 * context's log sink and level, progress sink, seed and thread count, no
 * memory limit, no stage records, and not cancelled. */
KN_API kn_status kn_ctx_new(kn_ctx **out);
/* Frees a context that no thread has bound any more. Blocks allocated in it
 * may outlive it: the context's record is kept until the last one is
 * freed. NULL and the default context are ignored. */
KN_API void kn_ctx_free(kn_ctx *ctx);

/* The process default context. Borrowed: valid for the life of the process. */
KN_API kn_ctx *kn_ctx_default(void);
/* The context bound to this thread, or the default one. Borrowed. */
KN_API kn_ctx *kn_ctx_current(void);
/* Bind ctx to the calling thread (NULL: none, i.e. the default) and, when
 * its thread count is set, make that the thread's OpenMP team size. Returns
 * the previous binding, to be handed to kn_ctx_leave(); calls nest. */
KN_API kn_ctx *kn_ctx_enter(kn_ctx *ctx);
/* Restore the binding kn_ctx_enter() returned (and the team size). */
KN_API void kn_ctx_leave(kn_ctx *prev);

/* Memory budget of ctx in bytes (0 = unlimited); kn_mem_set_limit() sets
 * the current context's. Live bytes and peak are those of blocks
 * allocated while ctx was current (a block stays charged to its context
 * until freed, whichever thread frees it). */
KN_API void kn_ctx_set_mem_limit(kn_ctx *ctx, uint64_t bytes);
KN_API uint64_t kn_ctx_mem_live(const kn_ctx *ctx);
KN_API uint64_t kn_ctx_mem_peak(const kn_ctx *ctx);

/* Threads of the parallel regions run in ctx (0 = OpenMP's default).
 * Applied by kn_ctx_enter(). */
KN_API void kn_ctx_set_threads(kn_ctx *ctx, int threads);
KN_API int kn_ctx_threads(const kn_ctx *ctx);

/* The run's seed (default 0) and an independent stream for one task of the
 * run (a fold, a trial): the same (seed, stream) gives the same numbers
 * whatever thread or order. */
KN_API void kn_ctx_set_seed(kn_ctx *ctx, uint64_t seed);
KN_API uint64_t kn_ctx_seed(const kn_ctx *ctx);
KN_API void kn_ctx_rng(const kn_ctx *ctx, uint64_t stream, kn_rng *out);

/* Ask the work running in ctx to stop: long loops (boosting rounds, trees,
 * folds, solver iterations) return KN_ERR_CANCELLED at their next check,
 * freeing what they made. Any thread; async-signal-safe. */
KN_API void kn_ctx_cancel(kn_ctx *ctx);
KN_API int kn_ctx_cancelled(const kn_ctx *ctx);
/* Clear the flag, so the context can run more work. */
KN_API void kn_ctx_uncancel(kn_ctx *ctx);
/* KN_OK, or KN_ERR_CANCELLED with a message naming the current stage when
 * the current context is cancelled: what a long loop calls once per unit. */
KN_API kn_status kn_ctx_check(void);

#ifdef __cplusplus
}
#endif
#endif
