/* Atomic writes and their temporary files. A file is written under a
 * temporary name beside its final path and renamed into place when
 * complete, so readers never see half a file:
 *
 *     char *tmp = kn_temp_path("model.kmd");      "model.kmd.tmp.<pid>", tracked
 *     ... write tmp ...
 *     kn_temp_commit(tmp, "model.kmd");            renamed, untracked, freed
 *     (or kn_temp_discard(tmp) on failure:         removed, untracked, freed)
 *
 * A path that exists and is not a regular file (a device such as /dev/null
 * or /dev/full, a FIFO) is written in place instead: kn_temp_path returns
 * the path itself, commit only frees it and discard leaves it alone.
 *
 * Every temporary file in progress is tracked, so that a program stopped by
 * a signal can remove them: kn_temp_remove_all() is async-signal-safe (the
 * kiln binary calls it on SIGINT, SIGTERM and SIGHUP before dying of the
 * signal). A library user installs its own handler and calls it there.
 *
 * Threading: any thread may write files at once (KN_TEMP_TRACKED of them
 * are tracked at a time; more are written all the same, untracked).
 */
#ifndef KILN_TEMPFILE_H
#define KILN_TEMPFILE_H

#include "kiln/core.h"

#ifdef __cplusplus
extern "C" {
#endif

#define KN_TEMP_TRACKED 32

/* A new tracked temporary name for path (kn_free'd by commit/discard);
 * NULL when out of memory. */
KN_API char *kn_temp_path(const char *path);
/* Rename tmp to path (KN_ERR_IO naming both on failure, tmp then removed). */
KN_API kn_status kn_temp_commit(char *tmp, const char *path);
/* Remove tmp (when it exists). */
KN_API void kn_temp_discard(char *tmp);
/* Remove every tracked temporary file; async-signal-safe. */
KN_API void kn_temp_remove_all(void);

#ifdef __cplusplus
}
#endif
#endif
