/* Kiln resource accounting: wall time, CPU time and peak memory per named stage.
 *
 * A command splits its work into stages ("read", "profile", ...):
 *
 *     kn_stage_begin("read");
 *     ... work ...
 *     kn_stage_end();
 *
 * Each finished stage leaves a record: wall seconds, process CPU seconds (all
 * threads), the peak resident set size during the stage (the kernel's
 * high-water mark, reset at stage start where Linux allows it) and the peak of
 * Kiln's accounted allocations. Stages are sequential: beginning one ends the
 * stage still open. Later layers turn these records into cost.
 *
 * The records belong to the current run context (kiln/ctx.h): two contexts
 * at work at once keep separate stages. Peak RSS and CPU seconds are
 * process figures, so they include other contexts' work done meanwhile.
 *
 * Threading: thread-safe (the context's records are locked); stages of one
 * context are still one sequence, so begin and end them from the thread
 * that runs the context's work.
 */
#ifndef KILN_STAGE_H
#define KILN_STAGE_H

#include "kiln/core.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct kn_stage_record {
    char name[32];
    double wall_s;
    double cpu_s;
    uint64_t peak_rss_bytes;   /* resident set high-water mark in the stage */
    uint64_t peak_alloc_bytes; /* peak of kn_malloc'd bytes in the stage */
    uint32_t threads;          /* the process's threads at the stage's end (worker
                                  pools persist: the most it has run at once; 0
                                  when unknown) */
} kn_stage_record;

KN_API void kn_stage_begin(const char *name);
KN_API void kn_stage_end(void);
/* Name of the open stage, or "main". Borrowed: a per-thread copy, valid
 * until this thread's next kn_stage_current() call. */
KN_API const char *kn_stage_current(void);
KN_API size_t kn_stage_count(void);
/* Borrowed: valid until the context's kn_stage_reset() or the context is freed. */
KN_API const kn_stage_record *kn_stage_get(size_t i);
KN_API void kn_stage_reset(void);

/* Process-wide figures, read now. */
KN_API uint64_t kn_rss_peak_bytes(void);
KN_API uint64_t kn_rss_now_bytes(void);

#ifdef __cplusplus
}
#endif
#endif
