/* Internal: a string dictionary (interning table). Levels are kept in the
 * order they were first added; codes are 0..n-1. Used by categorical columns
 * and by readers' per-thread dictionaries. */
#ifndef KILN_DICT_IMPL_H
#define KILN_DICT_IMPL_H

#include "kiln/core.h"

typedef struct kn_dict {
    char *bytes; /* level text, each NUL-terminated */
    size_t n_bytes, cap_bytes;
    uint64_t *offs;   /* start of level i in bytes */
    uint32_t *lens;   /* length of level i (without NUL) */
    size_t n, cap;    /* levels */
    int32_t *slots;   /* open-addressing table of codes, -1 = empty */
    uint64_t *hashes; /* hash of level i */
    size_t n_slots;   /* power of two */
} kn_dict;

void kn__dict_init(kn_dict *d);
void kn__dict_free(kn_dict *d);
uint64_t kn__hash_bytes(const void *p, size_t n);
/* Code of s[0..len), adding it if new. KN_ERR_NOMEM (message set) on failure. */
kn_status kn__dict_intern(kn_dict *d, const char *s, size_t len, int32_t *code);
/* Code of s, or -1 if absent. */
int32_t kn__dict_find(const kn_dict *d, const char *s, size_t len);
static inline const char *kn__dict_get(const kn_dict *d, int32_t code, size_t *len)
{
    if (len) *len = d->lens[code];
    return d->bytes + d->offs[code];
}
size_t kn__dict_memory(const kn_dict *d);
kn_status kn__dict_copy(kn_dict *dst, const kn_dict *src);

#endif
