/* Held-out predictions (KN_ART_HELDOUT, see kiln/artifact.h). Encoding:
 * u32 version, u32 classification, u64 n, u64 k, k class labels (strings),
 * n y, n pred, then n x k proba for a classifier. */
#include "kiln/artifact.h"
#include "kiln/codec.h"
#include "kiln/mem.h"

#include <math.h>
#include <string.h>

enum { HELDOUT_VERSION = 1 };

kn_status kn_heldout_encode(const kn_heldout *h, unsigned char **buf, size_t *len)
{
    if (!h || !buf || !len) return kn_fail(KN_ERR_INVALID, "kn_heldout_encode: no predictions");
    if (h->n && (!h->y || !h->pred))
        return kn_fail(KN_ERR_INVALID, "kn_heldout_encode: y and pred are needed");
    if (h->classification && (h->k == 0 || !h->classes || (h->n && !h->proba)))
        return kn_fail(KN_ERR_INVALID, "kn_heldout_encode: a classifier needs classes and proba");
    if (!h->classification && h->k)
        return kn_fail(KN_ERR_INVALID, "kn_heldout_encode: regression has no classes (k 0)");
    kn_wbuf w = {0};
    kn_wbuf_u32(&w, HELDOUT_VERSION);
    kn_wbuf_u32(&w, h->classification ? 1 : 0);
    kn_wbuf_u64(&w, h->n);
    kn_wbuf_u64(&w, h->k);
    for (size_t c = 0; c < h->k; c++) kn_wbuf_str(&w, h->classes[c] ? h->classes[c] : "");
    kn_wbuf_f64s(&w, h->y, h->n);
    kn_wbuf_f64s(&w, h->pred, h->n);
    if (h->classification) kn_wbuf_f64s(&w, h->proba, h->n * h->k);
    kn_status st = kn_wbuf_status(&w);
    if (st != KN_OK) {
        kn_wbuf_free(&w);
        return st;
    }
    *buf = w.p;
    *len = w.n;
    return KN_OK;
}

void kn_heldout_free(kn_heldout *h)
{
    if (!h) return;
    for (size_t c = 0; h->classes && c < h->k; c++) kn_free(h->classes[c]);
    kn_free(h->classes);
    kn_free(h->y);
    kn_free(h->pred);
    kn_free(h->proba);
    memset(h, 0, sizeof *h);
}

static kn_status read_f64s(kn_rbuf *r, size_t n, double **out)
{
    if (n > kn_rbuf_left(r) / 8)
        return kn_fail(KN_ERR_CORRUPT, "%s: held-out predictions run past the end", r->what);
    double *v = kn_malloc(n ? n * sizeof *v : 1);
    if (!v) return KN_ERR_NOMEM;
    for (size_t i = 0; i < n; i++) (void)kn_rbuf_f64(r, &v[i]);
    *out = v;
    return KN_OK;
}

/* A class index read from the file must name one of the k classes. */
static int bad_index(const double *v, size_t n, size_t k)
{
    for (size_t i = 0; i < n; i++)
        if (!(v[i] >= 0 && v[i] < (double)k) || v[i] != floor(v[i])) return 1;
    return 0;
}

kn_status kn_heldout_decode(const void *buf, size_t len, const char *what, kn_heldout *out)
{
    if (!what) what = "held-out predictions";
    if (!out || (!buf && len)) return kn_fail(KN_ERR_INVALID, "kn_heldout_decode: no bytes");
    kn_rbuf r = kn_rbuf_init(buf, len, what);
    kn_heldout h = {0};
    uint32_t version = 0, cls = 0;
    uint64_t n = 0, k = 0;
    kn_status st = kn_rbuf_u32(&r, &version);
    if (st == KN_OK) st = kn_rbuf_u32(&r, &cls);
    if (st == KN_OK) st = kn_rbuf_u64(&r, &n);
    if (st == KN_OK) st = kn_rbuf_u64(&r, &k);
    if (st == KN_OK && version > HELDOUT_VERSION)
        st = kn_fail(KN_ERR_VERSION, "%s: held-out format %u is newer than this kiln reads (%u)",
                     what, version, HELDOUT_VERSION);
    if (st == KN_OK &&
        (version == 0 || cls > 1 || (cls && k == 0) || (!cls && k) || k > kn_rbuf_left(&r) / 8 ||
         n > kn_rbuf_left(&r) / 16 || (k && n > kn_rbuf_left(&r) / 8 / k)))
        st = kn_fail(KN_ERR_CORRUPT, "%s: bad held-out header (version %u, n %llu, k %llu)", what,
                     version, (unsigned long long)n, (unsigned long long)k);
    if (st == KN_OK) {
        h.classification = (int)cls;
        h.n = (size_t)n;
        if (k && !(h.classes = kn_calloc((size_t)k, sizeof *h.classes))) st = KN_ERR_NOMEM;
        if (st == KN_OK) h.k = (size_t)k; /* classes now owned for kn_heldout_free */
    }
    for (size_t c = 0; st == KN_OK && c < h.k; c++) {
        st = kn_rbuf_str(&r, &h.classes[c]);
        if (st == KN_OK && !h.classes[c])
            st = kn_fail(KN_ERR_CORRUPT, "%s: a class label is missing", what);
    }
    if (st == KN_OK) st = read_f64s(&r, h.n, &h.y);
    if (st == KN_OK) st = read_f64s(&r, h.n, &h.pred);
    if (st == KN_OK && cls) st = read_f64s(&r, h.n * h.k, &h.proba);
    if (st == KN_OK && cls && (bad_index(h.y, h.n, h.k) || bad_index(h.pred, h.n, h.k)))
        st = kn_fail(KN_ERR_CORRUPT, "%s: a class index is out of range", what);
    if (st == KN_OK && kn_rbuf_left(&r))
        st = kn_fail(KN_ERR_CORRUPT, "%s: %zu stray bytes after the held-out predictions", what,
                     kn_rbuf_left(&r));
    if (st != KN_OK) {
        kn_heldout_free(&h);
        return st;
    }
    *out = h;
    return KN_OK;
}
