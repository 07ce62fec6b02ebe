#include "data/dict-impl.h"
#include "kiln/mem.h"

#include <string.h>

void kn__dict_init(kn_dict *d)
{
    memset(d, 0, sizeof *d);
}

void kn__dict_free(kn_dict *d)
{
    if (!d) return;
    kn_free(d->bytes);
    kn_free(d->offs);
    kn_free(d->lens);
    kn_free(d->slots);
    kn_free(d->hashes);
    kn__dict_init(d);
}

/* A fast 64-bit hash over 8-byte words (multiply-xorshift mixing). */
uint64_t kn__hash_bytes(const void *p, size_t n)
{
    const unsigned char *s = p;
    uint64_t h = 0x9e3779b97f4a7c15ull ^ (n * 0xff51afd7ed558ccdull);
    while (n >= 8) {
        uint64_t w;
        memcpy(&w, s, 8);
        h = (h ^ w) * 0xbf58476d1ce4e5b9ull;
        h ^= h >> 31;
        s += 8;
        n -= 8;
    }
    /* the last 0-7 bytes: two overlapping 4-byte loads, or three bytes */
    uint64_t w = 0;
    if (n >= 4) {
        uint32_t a, b;
        memcpy(&a, s, 4);
        memcpy(&b, s + n - 4, 4);
        w = (uint64_t)a | (uint64_t)b << 32;
    } else if (n) {
        w = (uint64_t)s[0] | (uint64_t)s[n / 2] << 8 | (uint64_t)s[n - 1] << 16;
    }
    h = (h ^ w) * 0x94d049bb133111ebull;
    h ^= h >> 29;
    h *= 0xbf58476d1ce4e5b9ull;
    h ^= h >> 32;
    return h;
}

static int32_t lookup(const kn_dict *d, const char *s, size_t len, uint64_t h, size_t *slot)
{
    size_t mask = d->n_slots - 1;
    size_t i = (size_t)h & mask;
    for (;;) {
        int32_t c = d->slots[i];
        if (c < 0) {
            *slot = i;
            return -1;
        }
        if (d->hashes[c] == h && d->lens[c] == len && memcmp(d->bytes + d->offs[c], s, len) == 0)
            return c;
        i = (i + 1) & mask;
    }
}

static kn_status rehash(kn_dict *d, size_t n_slots)
{
    int32_t *slots = kn_malloc(n_slots * sizeof *slots);
    if (!slots) return KN_ERR_NOMEM;
    memset(slots, 0xff, n_slots * sizeof *slots);
    size_t mask = n_slots - 1;
    for (size_t c = 0; c < d->n; c++) {
        size_t i = (size_t)d->hashes[c] & mask;
        while (slots[i] >= 0) i = (i + 1) & mask;
        slots[i] = (int32_t)c;
    }
    kn_free(d->slots);
    d->slots = slots;
    d->n_slots = n_slots;
    return KN_OK;
}

int32_t kn__dict_find(const kn_dict *d, const char *s, size_t len)
{
    if (!d->n_slots) return -1;
    size_t slot;
    return lookup(d, s, len, kn__hash_bytes(s, len), &slot);
}

kn_status kn__dict_intern(kn_dict *d, const char *s, size_t len, int32_t *code)
{
    if (!d->n_slots && rehash(d, 64) != KN_OK) return KN_ERR_NOMEM;
    uint64_t h = kn__hash_bytes(s, len);
    size_t slot;
    int32_t c = lookup(d, s, len, h, &slot);
    if (c >= 0) {
        *code = c;
        return KN_OK;
    }
    if (d->n >= (size_t)INT32_MAX)
        return kn_fail(KN_ERR_RANGE, "more than %d distinct categories", INT32_MAX);
    if (d->n == d->cap) {
        size_t cap = d->cap ? d->cap * 2 : 64;
        uint64_t *offs = kn_realloc(d->offs, cap * sizeof *offs);
        if (!offs) return KN_ERR_NOMEM;
        d->offs = offs;
        uint32_t *lens = kn_realloc(d->lens, cap * sizeof *lens);
        if (!lens) return KN_ERR_NOMEM;
        d->lens = lens;
        uint64_t *hs = kn_realloc(d->hashes, cap * sizeof *hs);
        if (!hs) return KN_ERR_NOMEM;
        d->hashes = hs;
        d->cap = cap;
    }
    if (len > UINT32_MAX) return kn_fail(KN_ERR_RANGE, "category longer than 4 GiB");
    if (d->n_bytes + len + 1 > d->cap_bytes) {
        size_t cap = d->cap_bytes ? d->cap_bytes * 2 : 1024;
        while (cap < d->n_bytes + len + 1) cap *= 2;
        char *b = kn_realloc(d->bytes, cap);
        if (!b) return KN_ERR_NOMEM;
        d->bytes = b;
        d->cap_bytes = cap;
    }
    memcpy(d->bytes + d->n_bytes, s, len);
    d->bytes[d->n_bytes + len] = '\0';
    c = (int32_t)d->n;
    d->offs[c] = d->n_bytes;
    d->lens[c] = (uint32_t)len;
    d->hashes[c] = h;
    d->n_bytes += len + 1;
    d->n++;
    d->slots[slot] = c;
    if (d->n * 2 > d->n_slots && rehash(d, d->n_slots * 2) != KN_OK) return KN_ERR_NOMEM;
    *code = c;
    return KN_OK;
}

size_t kn__dict_memory(const kn_dict *d)
{
    return d->cap_bytes + d->cap * (sizeof *d->offs + sizeof *d->lens + sizeof *d->hashes) +
           d->n_slots * sizeof *d->slots;
}

kn_status kn__dict_copy(kn_dict *dst, const kn_dict *src)
{
    kn__dict_init(dst);
    for (size_t i = 0; i < src->n; i++) {
        int32_t code;
        size_t len;
        const char *s = kn__dict_get(src, (int32_t)i, &len);
        if (kn__dict_intern(dst, s, len, &code) != KN_OK) {
            kn__dict_free(dst);
            return KN_ERR_NOMEM;
        }
    }
    return KN_OK;
}
