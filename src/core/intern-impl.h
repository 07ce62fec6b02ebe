/* Internal: interned text. Each distinct string is stored once and kept for
 * the life of the process, so a pointer to it can be copied freely and is
 * never freed. String parameters hold such pointers (see kiln/param.h). */
#ifndef KILN_INTERN_IMPL_H
#define KILN_INTERN_IMPL_H

#include <stddef.h>

/* The interned copy of s[0..len) (NUL-terminated), or NULL when out of
 * memory (message set). Thread-safe. */
const char *kn__intern(const char *s, size_t len);

#endif
