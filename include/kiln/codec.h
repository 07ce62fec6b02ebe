/* Kiln binary encoding helpers for saved state (fitted steps, models,
 * pipelines): little-endian fixed-width integers and doubles, and
 * length-prefixed strings and byte runs.
 *
 *     kn_wbuf w = {0};
 *     kn_wbuf_u64(&w, n);
 *     kn_wbuf_f64s(&w, values, n);
 *     ... w.p[0 .. w.n) is the encoding; kn_wbuf_free(&w) ...
 *
 *     kn_rbuf r = kn_rbuf_init(bytes, len, "model.kst");
 *     uint64_t n;
 *     if (kn_rbuf_u64(&r, &n) != KN_OK) ...   // KN_ERR_CORRUPT naming the file and offset
 *
 * Readers check every length against the bytes left: truncated or corrupted
 * input is KN_ERR_CORRUPT, never an overrun. A writer that runs out of
 * memory remembers it; kn_wbuf_status() reports it once at the end.
 */
#ifndef KILN_CODEC_H
#define KILN_CODEC_H

#include "kiln/core.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct kn_wbuf {
    unsigned char *p;
    size_t n, cap;
    int failed;
} kn_wbuf;

KN_API void kn_wbuf_bytes(kn_wbuf *w, const void *src, size_t n);
KN_API void kn_wbuf_u32(kn_wbuf *w, uint32_t v);
KN_API void kn_wbuf_u64(kn_wbuf *w, uint64_t v);
KN_API void kn_wbuf_f64(kn_wbuf *w, double v);
KN_API void kn_wbuf_f64s(kn_wbuf *w, const double *v, size_t n);
/* u64 length, then the bytes (no terminator); NULL writes length UINT64_MAX. */
KN_API void kn_wbuf_str(kn_wbuf *w, const char *s);
KN_API kn_status kn_wbuf_status(const kn_wbuf *w);
KN_API void kn_wbuf_free(kn_wbuf *w);

typedef struct kn_rbuf {
    const unsigned char *p, *start, *end;
    const char *what; /* for messages: a file name */
} kn_rbuf;

KN_API kn_rbuf kn_rbuf_init(const void *p, size_t n, const char *what);
KN_API kn_status kn_rbuf_bytes(kn_rbuf *r, void *dst, size_t n);
KN_API kn_status kn_rbuf_u32(kn_rbuf *r, uint32_t *v);
KN_API kn_status kn_rbuf_u64(kn_rbuf *r, uint64_t *v);
KN_API kn_status kn_rbuf_f64(kn_rbuf *r, double *v);
/* A count of items of `size` bytes each that must fit in what is left. */
KN_API kn_status kn_rbuf_count(kn_rbuf *r, size_t size, size_t *n);
/* Returns a new NUL-terminated string (kn_free), or NULL for a NULL string. */
KN_API kn_status kn_rbuf_str(kn_rbuf *r, char **s);
KN_API size_t kn_rbuf_left(const kn_rbuf *r);

#ifdef __cplusplus
}
#endif
#endif
