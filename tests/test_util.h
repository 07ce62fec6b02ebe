/* Shared helpers for Kiln's cmocka tests. */
#ifndef KILN_TEST_UTIL_H
#define KILN_TEST_UTIL_H

#include <dirent.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
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

/* Remove path: a file, or a folder with everything in it. */
static inline void test_remove_tree(const char *path)
{
    struct stat st;
    if (lstat(path, &st) != 0) return;
    if (S_ISDIR(st.st_mode)) {
        DIR *d = opendir(path);
        struct dirent *e;
        while (d && (e = readdir(d))) {
            if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, "..")) continue;
            char sub[1024];
            int k = snprintf(sub, sizeof sub, "%s/%s", path, e->d_name);
            if (k > 0 && (size_t)k < sizeof sub) test_remove_tree(sub);
        }
        if (d) closedir(d);
        rmdir(path);
    } else {
        remove(path);
    }
}

/* The temporary files and folders a test binary made, removed when it
 * exits (so repeated runs leave nothing in /tmp). */
static char test_tmp_paths[256][256];
static int test_n_tmp;

static inline void test_remove_tmp(void)
{
    for (int i = 0; i < test_n_tmp; i++) test_remove_tree(test_tmp_paths[i]);
    test_n_tmp = 0;
}

static inline void test_remove_at_exit(const char *path)
{
    if (test_n_tmp == 0) atexit(test_remove_tmp);
    if (test_n_tmp < 256) snprintf(test_tmp_paths[test_n_tmp++], 256, "%s", path);
}

/* Write `len` bytes to a fresh temporary file with the given suffix; returns its path
 * in a static buffer (one per call site is enough for tests). Removed at exit. */
static inline const char *test_write_file(const char *suffix, const char *data, size_t len)
{
    static char paths[16][256];
    static int next;
    char *path = paths[next++ % 16];
    snprintf(path, 256, "/tmp/kiln-test-%d-%d%s", (int)getpid(), next, suffix);
    FILE *f = fopen(path, "wb");
    if (!f) fail_msg("cannot create %s", path);
    test_remove_at_exit(path);
    if (len && fwrite(data, 1, len, f) != len) fail_msg("cannot write %s", path);
    fclose(f);
    return path;
}

#endif
