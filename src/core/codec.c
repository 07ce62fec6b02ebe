#include "kiln/codec.h"
#include "kiln/mem.h"

#include <string.h>

#if __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "the codec assumes a little-endian host"
#endif

void kn_wbuf_bytes(kn_wbuf *w, const void *src, size_t n)
{
    if (w->failed) return;
    if (n > w->cap - w->n) {
        size_t cap = w->cap ? w->cap * 2 : 4096;
        while (cap - w->n < n) cap *= 2;
        unsigned char *q = kn_realloc(w->p, cap);
        if (!q) {
            w->failed = 1;
            return;
        }
        w->p = q;
        w->cap = cap;
    }
    if (n && src) memcpy(w->p + w->n, src, n); /* NULL src only reserves */
    w->n += n;
}

void kn_wbuf_u32(kn_wbuf *w, uint32_t v)
{
    kn_wbuf_bytes(w, &v, 4);
}

void kn_wbuf_u64(kn_wbuf *w, uint64_t v)
{
    kn_wbuf_bytes(w, &v, 8);
}

void kn_wbuf_f64(kn_wbuf *w, double v)
{
    kn_wbuf_bytes(w, &v, 8);
}

void kn_wbuf_f64s(kn_wbuf *w, const double *v, size_t n)
{
    kn_wbuf_bytes(w, v, n * sizeof *v);
}

void kn_wbuf_str(kn_wbuf *w, const char *s)
{
    if (!s) {
        kn_wbuf_u64(w, UINT64_MAX);
        return;
    }
    size_t n = strlen(s);
    kn_wbuf_u64(w, n);
    kn_wbuf_bytes(w, s, n);
}

kn_status kn_wbuf_status(const kn_wbuf *w)
{
    return w->failed ? kn_fail(KN_ERR_NOMEM, "out of memory while encoding") : KN_OK;
}

void kn_wbuf_free(kn_wbuf *w)
{
    kn_free(w->p);
    memset(w, 0, sizeof *w);
}

kn_rbuf kn_rbuf_init(const void *p, size_t n, const char *what)
{
    kn_rbuf r = {p, p, (const unsigned char *)p + n, what};
    return r;
}

size_t kn_rbuf_left(const kn_rbuf *r)
{
    return (size_t)(r->end - r->p);
}

kn_status kn_rbuf_bytes(kn_rbuf *r, void *dst, size_t n)
{
    if (n > kn_rbuf_left(r))
        return kn_fail(KN_ERR_CORRUPT,
                       "%s: truncated or corrupt at byte %zu (needed %zu more bytes, %zu left); "
                       "re-create the file",
                       r->what, (size_t)(r->p - r->start), n, kn_rbuf_left(r));
    if (n) memcpy(dst, r->p, n);
    r->p += n;
    return KN_OK;
}

kn_status kn_rbuf_u32(kn_rbuf *r, uint32_t *v)
{
    return kn_rbuf_bytes(r, v, 4);
}

kn_status kn_rbuf_u64(kn_rbuf *r, uint64_t *v)
{
    return kn_rbuf_bytes(r, v, 8);
}

kn_status kn_rbuf_f64(kn_rbuf *r, double *v)
{
    return kn_rbuf_bytes(r, v, 8);
}

kn_status kn_rbuf_count(kn_rbuf *r, size_t size, size_t *n)
{
    uint64_t v;
    kn_status s = kn_rbuf_u64(r, &v);
    if (s != KN_OK) return s;
    if (size && v > kn_rbuf_left(r) / size)
        return kn_fail(KN_ERR_CORRUPT, "%s: a count at byte %zu (%llu) exceeds the data left",
                       r->what, (size_t)(r->p - r->start) - 8, (unsigned long long)v);
    *n = (size_t)v;
    return KN_OK;
}

kn_status kn_rbuf_str(kn_rbuf *r, char **s)
{
    uint64_t n;
    kn_status st = kn_rbuf_u64(r, &n);
    if (st != KN_OK) return st;
    if (n == UINT64_MAX) {
        *s = NULL;
        return KN_OK;
    }
    if (n > kn_rbuf_left(r))
        return kn_fail(KN_ERR_CORRUPT, "%s: a string at byte %zu runs past the end", r->what,
                       (size_t)(r->p - r->start) - 8);
    char *t = kn_strndup((const char *)r->p, (size_t)n);
    if (!t) return KN_ERR_NOMEM;
    r->p += n;
    *s = t;
    return KN_OK;
}
