/* Kiln memory accounting and the enforced memory budget.
 *
 * Every allocation Kiln makes for data goes through kn_malloc/kn_calloc/
 * kn_realloc/kn_free. They count live bytes and the peak, and refuse an
 * allocation that would take the live total over the limit: the caller then
 * returns KN_ERR_NOMEM with a message naming the stage and the amount,
 * instead of the process being killed.
 *
 *     kn_mem_set_limit(2ull << 30);          // 2 GiB
 *     double *x = kn_malloc(n * sizeof *x);  // NULL past the limit
 *     if (!x) return kn_fail_nomem(n * sizeof *x);
 *
 * The budget, live bytes and peak are those of the current run context
 * (kiln/ctx.h): a block is charged to the context current when it was
 * allocated, until it is freed. The process totals are kept too.
 *
 * Threading: all functions are thread-safe (atomic counters).
 */
#ifndef KILN_MEM_H
#define KILN_MEM_H

#include "kiln/core.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Returns new memory (free with kn_free) or NULL when the system has none
 * or the budget would be exceeded; then kn_last_error() says which. */
KN_API void *kn_malloc(size_t n);
KN_API void *kn_calloc(size_t count, size_t size);
/* Like realloc: on failure the old block is untouched and NULL returned. */
KN_API void *kn_realloc(void *p, size_t n);
KN_API void kn_free(void *p);
/* Copy of a string into accounted memory; free with kn_free. */
KN_API char *kn_strdup(const char *s);
KN_API char *kn_strndup(const char *s, size_t n);
/* printf into a new string of the length it needs; free with kn_free. NULL
 * (message set) when out of memory. */
KN_API char *kn_sprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* The current context's budget in bytes (0 = unlimited). */
KN_API void kn_mem_set_limit(uint64_t bytes);
KN_API uint64_t kn_mem_limit(void);
/* Live accounted bytes now, and the highest value since the last reset. */
KN_API uint64_t kn_mem_live(void);
KN_API uint64_t kn_mem_peak(void);
KN_API void kn_mem_reset_peak(void);
/* Live accounted bytes of the whole process (every context), and their peak. */
KN_API uint64_t kn_mem_process_live(void);
KN_API uint64_t kn_mem_process_peak(void);

/* Tune glibc malloc for Kiln's large short-lived buffers (blocks under
 * 64 MB from the heap, 256 MB of freed heap top kept), unless the user set
 * malloc tunables. It changes the whole process's allocator, so the library
 * never calls it: an application opts in (the kiln binary does, first). */
KN_API void kn_mem_tune_process(void);

/* Parse "2G", "512M", "1.5GiB", "1000000" into bytes. */
KN_API kn_status kn_mem_parse_size(const char *text, uint64_t *bytes);

/* Record the standard out-of-memory message for a failed request of n bytes
 * (naming the current stage, the request, the live total and the limit) and
 * return KN_ERR_NOMEM. */
KN_API kn_status kn_fail_nomem(size_t n);

#ifdef __cplusplus
}
#endif
#endif
