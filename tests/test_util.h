/* Shared helpers for Kiln's cmocka tests. */
#ifndef KILN_TEST_UTIL_H
#define KILN_TEST_UTIL_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "kiln/core.h"

/* Check a call returns KN_OK; on failure print the status and kn_last_error(). */
#define KN_CHECK(call)                                                                             \
    do {                                                                                           \
        kn_status kn__s = (call);                                                                  \
        if (kn__s != KN_OK)                                                                        \
            fail_msg("%s -> %s: %s", #call, kn_status_name(kn__s), kn_last_error());               \
    } while (0)

/* Check a call fails with `status` and its message contains `needle`. */
#define KN_CHECK_FAILS(call, status, needle)                                                       \
    do {                                                                                           \
        kn_status kn__s = (call);                                                                  \
        if (kn__s != (status))                                                                     \
            fail_msg("%s -> %s, expected %s (%s)", #call, kn_status_name(kn__s),                   \
                     kn_status_name(status), kn_last_error());                                     \
        if (!strstr(kn_last_error(), (needle)))                                                    \
            fail_msg("%s: message \"%s\" lacks \"%s\"", #call, kn_last_error(), (needle));         \
    } while (0)

/* Write `len` bytes to a fresh temporary file with the given suffix; returns its path
 * in a static buffer (one per call site is enough for tests). */
static inline const char *test_write_file(const char *suffix, const char *data, size_t len)
{
    static char paths[16][256];
    static int next;
    char *path = paths[next++ % 16];
    snprintf(path, 256, "/tmp/kiln-test-%d-%d%s", (int)getpid(), next, suffix);
    FILE *f = fopen(path, "wb");
    if (!f) fail_msg("cannot create %s", path);
    if (len && fwrite(data, 1, len, f) != len) fail_msg("cannot write %s", path);
    fclose(f);
    return path;
}

#endif
