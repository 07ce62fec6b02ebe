/* Helpers for the data-layer tests: read a text as a file of a given
 * format, or expect the read to fail. */
#ifndef KILN_READ_UTIL_H
#define KILN_READ_UTIL_H

#include "test_util.h"

#include "kiln/io.h"

static inline kn_frame *read_as(const char *suffix, const char *text)
{
    const char *path = test_write_file(suffix, text, strlen(text));
    kn_frame *f = NULL;
    KN_CHECK(kn_frame_read(path, NULL, &f, NULL));
    remove(path);
    return f;
}

static inline const char *fails_as(const char *suffix, const char *text, kn_status want)
{
    const char *path = test_write_file(suffix, text, strlen(text));
    kn_frame *f = NULL;
    kn_status s = kn_frame_read(path, NULL, &f, NULL);
    remove(path);
    if (s != want)
        fail_msg("expected %s, got %s (%s)", kn_status_name(want), kn_status_name(s),
                 kn_last_error());
    return kn_last_error();
}

#endif
