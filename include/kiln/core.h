/* Kiln core: status codes, the per-thread last-error message, version.
 *
 * Every fallible function returns kn_status (KN_OK == 0). On failure the
 * reason is kept per thread and read with kn_last_error(): it says what
 * failed, where (file:line:column, column name) and what would fix it.
 *
 *     kn_frame *f;
 *     if (kn_frame_read("data.csv", NULL, &f, NULL) != KN_OK)
 *         fprintf(stderr, "kiln: %s\n", kn_last_error());
 *
 * Threading: the message is thread-local; each thread sees its own.
 */
#ifndef KILN_CORE_H
#define KILN_CORE_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#if defined(KN_BUILDING)
#define KN_API __attribute__((visibility("default")))
#else
#define KN_API
#endif

#define KN_VERSION_MAJOR 0
#define KN_VERSION_MINOR 1
#define KN_VERSION_PATCH 0
#define KN_VERSION_STRING "0.1.0"

/* Status codes: values are explicit and append-only (they are persisted and
 * returned to users). X(name, value, short description). */
#define KN_STATUS_MAP(X)                                                                           \
    X(KN_OK, 0, "ok")                                                                              \
    X(KN_ERR_INVALID, 1, "invalid argument")                                                       \
    X(KN_ERR_NOMEM, 2, "out of memory or over the memory limit")                                   \
    X(KN_ERR_IO, 3, "input/output error")                                                          \
    X(KN_ERR_PARSE, 4, "malformed input")                                                          \
    X(KN_ERR_NOT_FOUND, 5, "not found")                                                            \
    X(KN_ERR_TYPE, 6, "type mismatch")                                                             \
    X(KN_ERR_RANGE, 7, "value out of range")                                                       \
    X(KN_ERR_VERSION, 8, "unsupported format version")                                             \
    X(KN_ERR_CORRUPT, 9, "corrupt or truncated data")                                              \
    X(KN_ERR_UNSUPPORTED, 10, "unsupported operation")                                             \
    X(KN_ERR_INTERNAL, 11, "internal error")                                                       \
    X(KN_ERR_CANCELLED, 12, "cancelled")                                                           \
    X(KN_ERR_SIGNATURE, 13, "missing or wrong signature")                                          \
    X(KN_ERR_REFUSED, 14, "refused by a rule")

typedef enum {
#define KN__STATUS_ENUM(name, value, desc) name = value,
    KN_STATUS_MAP(KN__STATUS_ENUM)
#undef KN__STATUS_ENUM
} kn_status;

/* "KN_ERR_PARSE" for KN_ERR_PARSE; "KN_UNKNOWN" for other values. Static string. */
KN_API const char *kn_status_name(kn_status s);
/* A short description ("malformed input"). Static string. */
KN_API const char *kn_status_str(kn_status s);

/* The message of the last failure on this thread ("" if none).
 * Borrowed: valid until the next Kiln call on this thread. */
KN_API const char *kn_last_error(void);
/* The status of the last failure on this thread (KN_OK if none). */
KN_API kn_status kn_last_status(void);

/* Record a failure message (printf format) and return s, so a caller can write
 * `return kn_fail(KN_ERR_PARSE, "%s:%zu: ...", ...);`. */
KN_API kn_status kn_fail(kn_status s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Prefix the current message with context ("reading x.csv: " + old message). */
KN_API kn_status kn_fail_prefix(kn_status s, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
KN_API void kn_clear_error(void);

/* Run-time library version, "0.1.0". */
KN_API const char *kn_version(void);

/* Progress callback for long work: done and total in the unit the caller
 * documents (bytes for readers). Called from the calling thread only. */
typedef void (*kn_progress_fn)(uint64_t done, uint64_t total, void *user);

#ifdef __cplusplus
}
#endif
#endif
