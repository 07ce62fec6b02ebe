/* Kiln logging. The library never prints: it hands records to a sink set
 * with kn_log_set(). With no sink, records are dropped. The CLI installs a
 * sink that writes human-readable lines on a terminal or JSON Lines.
 *
 *     kn_log(KN_LOG_INFO, "read %zu rows", n);
 *
 * The sink and level are the current run context's (kiln/ctx.h); a new
 * context starts with the current one's.
 *
 * Threading: kn_log may be called from any thread; the sink must be
 * thread-safe. Set the sink before starting threads.
 */
#ifndef KILN_LOG_H
#define KILN_LOG_H

#include "kiln/core.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum {
    KN_LOG_ERROR = 0,
    KN_LOG_WARN = 1,
    KN_LOG_INFO = 2,
    KN_LOG_DEBUG = 3,
} kn_log_level;

typedef void (*kn_log_fn)(kn_log_level level, const char *msg, void *user);

/* Install the sink (NULL removes it) and the most verbose level passed on. */
KN_API void kn_log_set(kn_log_fn fn, void *user);
KN_API void kn_log_set_level(kn_log_level level);
KN_API kn_log_level kn_log_get_level(void);
KN_API void kn_log(kn_log_level level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* "error", "warn", "info", "debug". */
KN_API const char *kn_log_level_name(kn_log_level level);

#ifdef __cplusplus
}
#endif
#endif
