/* A drift reference kept in the artifact (kiln/drift_ref.h): per numeric
 * column a sorted sample of order statistics, per text column its value
 * counts; and the tests of kiln/drift.h against it. */
#include "kiln/drift_ref.h"
#include "kiln/codec.h"
#include "kiln/mem.h"
#include "learn/eval/compare-impl.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

enum { REF_VERSION = 1, KIND_NUMERIC = 0, KIND_TEXT = 1 };

typedef struct rcol {
    char *name;
    int text;
    kn_drift_ref_role role;
    uint64_t cells;
    /* numeric */
    uint64_t present;
    size_t m;
    double *sample;
    kn__psi_ref psi; /* the sample's PSI bins at the default count (bins 0: none yet) */
    /* text */
    uint64_t missing, other;
    size_t k;
    char **values;
    size_t *lens;
    uint64_t *counts;
} rcol;

struct kn_drift_ref {
    uint64_t rows;
    size_t n;
    rcol *cols;
};

static void rcol_free(rcol *c)
{
    kn_free(c->name);
    kn_free(c->sample);
    kn__psi_ref_free(&c->psi);
    for (size_t i = 0; c->values && i < c->k; i++) kn_free(c->values[i]);
    kn_free(c->values), kn_free(c->lens), kn_free(c->counts);
    memset(c, 0, sizeof *c);
}

/* The numeric columns' PSI bins at the default bin count, made once (the
 * tests of each batch or served window reuse them). */
static kn_status psi_bins(kn_drift_ref *r)
{
    kn_drift_opts o;
    kn_drift_opts_default(&o);
    kn_status e = KN_OK;
    for (size_t j = 0; e == KN_OK && j < r->n; j++) {
        rcol *c = &r->cols[j];
        if (c->text || !c->m || c->psi.bins) continue;
        e = kn__psi_ref_make(c->sample, c->m, (size_t)c->present, (size_t)c->cells, o.bins,
                             &c->psi);
    }
    return e;
}

void kn_drift_ref_free(kn_drift_ref *r)
{
    if (!r) return;
    for (size_t j = 0; j < r->n; j++) rcol_free(&r->cols[j]);
    kn_free(r->cols);
    kn_free(r);
}

static int bytes_cmp(const char *a, size_t la, const char *b, size_t lb)
{
    int c = memcmp(a, b, la < lb ? la : lb);
    return c ? c : (la > lb) - (la < lb);
}

/* Room for one more column (zeroed). */
static rcol *add_col(kn_drift_ref *r, const char *name)
{
    rcol *cols = kn_realloc(r->cols, (r->n + 1) * sizeof *cols);
    if (!cols) return NULL;
    r->cols = cols;
    rcol *c = &cols[r->n];
    memset(c, 0, sizeof *c);
    if (!(c->name = kn_strdup(name))) return NULL;
    r->n++;
    return c;
}

/* The sample of n sorted present values s (taken over). */
static kn_status set_sample(rcol *c, double *s, size_t n)
{
    c->present = n;
    if (n <= KN_DRIFT_REF_SAMPLE) {
        c->sample = s;
        c->m = n;
        return KN_OK;
    }
    double *t = kn_malloc(KN_DRIFT_REF_SAMPLE * sizeof *t);
    if (!t) {
        kn_free(s);
        return KN_ERR_NOMEM;
    }
    for (size_t i = 0; i < KN_DRIFT_REF_SAMPLE; i++)
        t[i] = s[(size_t)((uint64_t)i * (uint64_t)(n - 1) / (KN_DRIFT_REF_SAMPLE - 1))];
    kn_free(s);
    c->sample = t;
    c->m = KN_DRIFT_REF_SAMPLE;
    return KN_OK;
}

static kn_status numeric_col(rcol *c, kn_column *col, size_t n)
{
    double *v = kn_malloc((n ? n : 1) * sizeof *v);
    if (!v) return KN_ERR_NOMEM;
    for (size_t i = 0; i < n; i++)
        v[i] = kn_column_is_missing(col, i) ? NAN : kn_column_number(col, i);
    size_t m = 0;
    double *s = kn__sorted_present(v, n, &m);
    kn_free(v);
    if (!s) return KN_ERR_NOMEM;
    c->cells = n;
    return set_sample(c, s, m);
}

typedef struct level {
    const char *s;
    size_t len;
    double count;
} level;

static int by_count(const void *x, const void *y)
{
    const level *a = x, *b = y;
    if (a->count != b->count) return (a->count < b->count) - (a->count > b->count);
    return bytes_cmp(a->s, a->len, b->s, b->len);
}

static int by_bytes(const void *x, const void *y)
{
    const level *a = x, *b = y;
    return bytes_cmp(a->s, a->len, b->s, b->len);
}

/* Keep n levels (their counts summing with missing and other to the cells). */
static kn_status set_levels(rcol *c, const level *lv, size_t n)
{
    c->k = 0;
    c->values = kn_calloc(n ? n : 1, sizeof *c->values);
    c->lens = kn_calloc(n ? n : 1, sizeof *c->lens);
    c->counts = kn_calloc(n ? n : 1, sizeof *c->counts);
    if (!c->values || !c->lens || !c->counts) return KN_ERR_NOMEM;
    for (size_t i = 0; i < n; i++) {
        char *s = kn_malloc(lv[i].len + 1);
        if (!s) return KN_ERR_NOMEM;
        memcpy(s, lv[i].s, lv[i].len);
        s[lv[i].len] = 0;
        c->values[i] = s;
        c->lens[i] = lv[i].len;
        c->counts[i] = (uint64_t)lv[i].count;
        c->k = i + 1;
    }
    return KN_OK;
}

static kn_status text_col(rcol *c, kn_column *col, size_t n)
{
    kn_text_counts t;
    kn_status e = kn__text_counts(col, n, col, 0, &t);
    if (e != KN_OK) return e;
    c->text = 1;
    c->cells = n;
    size_t k = 0;
    level *lv = kn_malloc((t.k ? t.k : 1) * sizeof *lv);
    if (!lv) e = KN_ERR_NOMEM;
    for (size_t i = 0; e == KN_OK && i < t.k; i++) {
        if (t.value[i])
            lv[k++] = (level){t.value[i], t.len[i], t.r[i]};
        else
            c->missing = (uint64_t)t.r[i];
    }
    if (e == KN_OK && k > KN_DRIFT_REF_LEVELS) {
        qsort(lv, k, sizeof *lv, by_count);
        for (size_t i = KN_DRIFT_REF_LEVELS; i < k; i++) c->other += (uint64_t)lv[i].count;
        k = KN_DRIFT_REF_LEVELS;
        qsort(lv, k, sizeof *lv, by_bytes);
    }
    if (e == KN_OK) e = set_levels(c, lv, k);
    kn_free(lv);
    kn__text_counts_free(&t);
    return e;
}

static int is_text(kn_col_type t)
{
    return t == KN_COL_CATEGORICAL || t == KN_COL_STRING;
}

kn_status kn_drift_ref_build(const kn_frame *f, const char *const *names, size_t n_names,
                             kn_drift_ref **out)
{
    if (!f || !out) return kn_fail(KN_ERR_INVALID, "kn_drift_ref_build: no frame");
    kn_drift_ref *r = kn_calloc(1, sizeof *r);
    if (!r) return KN_ERR_NOMEM;
    size_t rows = kn_frame_n_rows(f), n = names ? n_names : kn_frame_n_cols(f);
    r->rows = rows;
    kn_status e = KN_OK;
    for (size_t i = 0; e == KN_OK && i < n; i++) {
        size_t j = i;
        if (names && kn_frame_find(f, names[i], &j) != KN_OK) {
            e = kn_fail(KN_ERR_NOT_FOUND,
                        "the reference rows lack the column '%s' the reference should hold",
                        names[i]);
            break;
        }
        kn_column *col = kn_frame_col(f, j);
        rcol *c = add_col(r, kn_column_name(col));
        if (!c) e = KN_ERR_NOMEM;
        if (e == KN_OK)
            e = is_text(kn_column_type(col)) ? text_col(c, col, rows) : numeric_col(c, col, rows);
    }
    if (e == KN_OK) e = psi_bins(r);
    if (e != KN_OK) {
        kn_drift_ref_free(r);
        return e;
    }
    *out = r;
    return KN_OK;
}

kn_status kn_drift_ref_add_predictions(kn_drift_ref *r, const double *y, size_t n,
                                       const char *const *classes, size_t k)
{
    if (!r || (n && !y) || (classes == NULL) != (k == 0))
        return kn_fail(KN_ERR_INVALID, "kn_drift_ref_add_predictions: no predictions");
    rcol *c = add_col(r, "(prediction)");
    if (!c) return KN_ERR_NOMEM;
    c->role = KN_DRIFT_REF_PREDICTION;
    c->cells = n;
    if (!classes) {
        size_t m = 0;
        double *s = kn__sorted_present(y, n, &m);
        kn_status e = s ? set_sample(c, s, m) : KN_ERR_NOMEM;
        return e == KN_OK ? psi_bins(r) : e;
    }
    c->text = 1;
    level *lv = kn_calloc(k, sizeof *lv);
    if (!lv) return KN_ERR_NOMEM;
    for (size_t i = 0; i < k; i++) lv[i] = (level){classes[i], strlen(classes[i]), 0};
    for (size_t i = 0; i < n; i++)
        if (y[i] >= 0 && y[i] < (double)k)
            lv[(size_t)y[i]].count++;
        else
            c->missing++;
    qsort(lv, k, sizeof *lv, by_bytes);
    kn_status e = set_levels(c, lv, k);
    kn_free(lv);
    return e;
}

kn_status kn_drift_ref_add_scores(kn_drift_ref *r, const double *score, size_t n)
{
    if (!r || (n && !score)) return kn_fail(KN_ERR_INVALID, "kn_drift_ref_add_scores: no scores");
    rcol *c = add_col(r, KN_DRIFT_SCORE_NAME);
    if (!c) return KN_ERR_NOMEM;
    c->role = KN_DRIFT_REF_PREDICTION;
    c->cells = n;
    size_t m = 0;
    double *s = kn__sorted_present(score, n, &m);
    kn_status e = s ? set_sample(c, s, m) : KN_ERR_NOMEM;
    return e == KN_OK ? psi_bins(r) : e;
}

/* ---- encoding ---- */

kn_status kn_drift_ref_encode(const kn_drift_ref *r, unsigned char **buf, size_t *len)
{
    if (!r || !buf || !len) return kn_fail(KN_ERR_INVALID, "kn_drift_ref_encode: no reference");
    kn_wbuf w = {0};
    kn_wbuf_u32(&w, REF_VERSION);
    kn_wbuf_u64(&w, r->rows);
    kn_wbuf_u32(&w, (uint32_t)r->n);
    for (size_t j = 0; j < r->n; j++) {
        const rcol *c = &r->cols[j];
        kn_wbuf_str(&w, c->name);
        kn_wbuf_u32(&w, c->text ? KIND_TEXT : KIND_NUMERIC);
        kn_wbuf_u32(&w, (uint32_t)c->role);
        kn_wbuf_u64(&w, c->cells);
        if (!c->text) {
            kn_wbuf_u64(&w, c->present);
            kn_wbuf_u64(&w, c->m);
            kn_wbuf_f64s(&w, c->sample, c->m);
            continue;
        }
        kn_wbuf_u64(&w, c->missing);
        kn_wbuf_u64(&w, c->other);
        kn_wbuf_u64(&w, c->k);
        for (size_t i = 0; i < c->k; i++) {
            kn_wbuf_u64(&w, c->lens[i]);
            kn_wbuf_bytes(&w, c->values[i], c->lens[i]);
            kn_wbuf_u64(&w, c->counts[i]);
        }
    }
    kn_status e = kn_wbuf_status(&w);
    if (e != KN_OK) {
        kn_wbuf_free(&w);
        return e;
    }
    *buf = w.p;
    *len = w.n;
    return KN_OK;
}

static kn_status bad(const char *what, const char *name, const char *why)
{
    return kn_fail(KN_ERR_CORRUPT,
                   "%s: the drift reference of column '%s' is damaged (%s); rebuild the artifact "
                   "(kiln run or kiln train --out), or pass --reference",
                   what, name ? name : "?", why);
}

static kn_status decode_numeric(kn_rbuf *b, rcol *c, const char *what)
{
    uint64_t present = 0, m = 0;
    kn_status e = kn_rbuf_u64(b, &present);
    if (e == KN_OK) e = kn_rbuf_u64(b, &m);
    if (e != KN_OK) return e;
    if (present > c->cells || m > present || (present && !m) || m > KN_DRIFT_REF_SAMPLE ||
        m > kn_rbuf_left(b) / 8)
        return bad(what, c->name, "bad counts");
    c->present = present;
    c->sample = kn_malloc((m ? m : 1) * sizeof *c->sample);
    if (!c->sample) return KN_ERR_NOMEM;
    c->m = (size_t)m;
    for (size_t i = 0; i < c->m; i++) {
        (void)kn_rbuf_f64(b, &c->sample[i]);
        if (isnan(c->sample[i]) || (i && c->sample[i] < c->sample[i - 1]))
            return bad(what, c->name, "a sample that is not sorted");
    }
    if (present <= KN_DRIFT_REF_SAMPLE && m != present) return bad(what, c->name, "a short sample");
    return KN_OK;
}

static kn_status decode_text(kn_rbuf *b, rcol *c, const char *what)
{
    uint64_t k = 0;
    kn_status e = kn_rbuf_u64(b, &c->missing);
    if (e == KN_OK) e = kn_rbuf_u64(b, &c->other);
    if (e == KN_OK) e = kn_rbuf_u64(b, &k);
    if (e != KN_OK) return e;
    if (k > kn_rbuf_left(b) / 16 || c->missing > c->cells || c->other > c->cells - c->missing)
        return bad(what, c->name, "bad counts");
    c->values = kn_calloc(k ? k : 1, sizeof *c->values);
    c->lens = kn_calloc(k ? k : 1, sizeof *c->lens);
    c->counts = kn_calloc(k ? k : 1, sizeof *c->counts);
    if (!c->values || !c->lens || !c->counts) return KN_ERR_NOMEM;
    uint64_t left = c->cells - c->missing - c->other;
    for (size_t i = 0; i < (size_t)k; i++) {
        uint64_t len = 0;
        e = kn_rbuf_u64(b, &len);
        if (e != KN_OK) return e;
        if (len > kn_rbuf_left(b)) return bad(what, c->name, "a value runs past the end");
        if (!(c->values[i] = kn_malloc((size_t)len + 1))) return KN_ERR_NOMEM;
        c->k = i + 1;
        (void)kn_rbuf_bytes(b, c->values[i], (size_t)len);
        c->values[i][len] = 0;
        c->lens[i] = (size_t)len;
        e = kn_rbuf_u64(b, &c->counts[i]);
        if (e != KN_OK) return e;
        if (i && bytes_cmp(c->values[i - 1], c->lens[i - 1], c->values[i], c->lens[i]) >= 0)
            return bad(what, c->name, "values out of order");
        if (c->counts[i] > left) return bad(what, c->name, "counts over the cells");
        left -= c->counts[i];
    }
    if (left) return bad(what, c->name, "counts short of the cells");
    return KN_OK;
}

/* A column name: u64 length and bytes, no NUL among them (*name NULL when
 * there is one, or the length is that of a NULL string). */
static kn_status read_name(kn_rbuf *b, char **name)
{
    uint64_t len = 0;
    *name = NULL;
    kn_status e = kn_rbuf_u64(b, &len);
    if (e != KN_OK || len > kn_rbuf_left(b)) return e;
    char *s = kn_malloc((size_t)len + 1);
    if (!s) return KN_ERR_NOMEM;
    (void)kn_rbuf_bytes(b, s, (size_t)len);
    s[len] = 0;
    if (memchr(s, 0, (size_t)len)) {
        kn_free(s);
        return KN_OK;
    }
    *name = s;
    return KN_OK;
}

kn_status kn_drift_ref_decode(const void *buf, size_t len, const char *what, kn_drift_ref **out)
{
    if (!what) what = "drift reference";
    if (!out || (!buf && len)) return kn_fail(KN_ERR_INVALID, "kn_drift_ref_decode: no bytes");
    kn_rbuf b = kn_rbuf_init(buf, len, what);
    uint32_t version = 0, n = 0;
    kn_drift_ref *r = kn_calloc(1, sizeof *r);
    if (!r) return KN_ERR_NOMEM;
    kn_status e = kn_rbuf_u32(&b, &version);
    if (e == KN_OK) e = kn_rbuf_u64(&b, &r->rows);
    if (e == KN_OK) e = kn_rbuf_u32(&b, &n);
    if (e == KN_OK && version > REF_VERSION)
        e = kn_fail(KN_ERR_VERSION,
                    "%s: drift reference format %u is newer than this kiln reads (%u); use a "
                    "newer kiln, or pass --reference",
                    what, version, REF_VERSION);
    if (e == KN_OK && (version == 0 || n > kn_rbuf_left(&b) / 32))
        e = kn_fail(KN_ERR_CORRUPT, "%s: bad drift reference header (version %u, %u columns)", what,
                    version, n);
    if (e == KN_OK && n && !(r->cols = kn_calloc(n, sizeof *r->cols))) e = KN_ERR_NOMEM;
    for (size_t j = 0; e == KN_OK && j < n; j++) {
        rcol *c = &r->cols[j];
        r->n = j + 1;
        uint32_t kind = 0, role = 0;
        e = read_name(&b, &c->name);
        if (e == KN_OK) e = kn_rbuf_u32(&b, &kind);
        if (e == KN_OK) e = kn_rbuf_u32(&b, &role);
        if (e == KN_OK) e = kn_rbuf_u64(&b, &c->cells);
        if (e != KN_OK) break;
        if (!c->name || kind > KIND_TEXT || role > KN_DRIFT_REF_PREDICTION ||
            (role == KN_DRIFT_REF_INPUT && c->cells != r->rows)) {
            e = bad(what, c->name, "bad column header");
            break;
        }
        c->text = kind == KIND_TEXT;
        c->role = (kn_drift_ref_role)role;
        e = c->text ? decode_text(&b, c, what) : decode_numeric(&b, c, what);
    }
    if (e == KN_OK && kn_rbuf_left(&b))
        e = kn_fail(KN_ERR_CORRUPT, "%s: %zu stray bytes after the drift reference", what,
                    kn_rbuf_left(&b));
    if (e == KN_OK) e = psi_bins(r);
    if (e != KN_OK) {
        kn_drift_ref_free(r);
        return e;
    }
    *out = r;
    return KN_OK;
}

/* ---- reading ---- */

size_t kn_drift_ref_rows(const kn_drift_ref *r)
{
    return r ? (size_t)r->rows : 0;
}

size_t kn_drift_ref_n_cols(const kn_drift_ref *r)
{
    return r ? r->n : 0;
}

const char *kn_drift_ref_name(const kn_drift_ref *r, size_t j)
{
    return r && j < r->n ? r->cols[j].name : NULL;
}

int kn_drift_ref_text(const kn_drift_ref *r, size_t j)
{
    return r && j < r->n ? r->cols[j].text : 0;
}

kn_drift_ref_role kn_drift_ref_col_role(const kn_drift_ref *r, size_t j)
{
    return r && j < r->n ? r->cols[j].role : KN_DRIFT_REF_INPUT;
}

size_t kn_drift_ref_kept(const kn_drift_ref *r, size_t j)
{
    if (!r || j >= r->n) return 0;
    return r->cols[j].text ? r->cols[j].k : r->cols[j].m;
}

long kn_drift_ref_find(const kn_drift_ref *r, const char *name, kn_drift_ref_role role)
{
    for (size_t j = 0; r && name && j < r->n; j++)
        if (r->cols[j].role == role && !strcmp(r->cols[j].name, name)) return (long)j;
    return -1;
}

const double *kn_drift_ref_sample(const kn_drift_ref *r, size_t j, size_t *m, size_t *n_present,
                                  size_t *cells)
{
    const rcol *c = r && j < r->n && !r->cols[j].text ? &r->cols[j] : NULL;
    if (m) *m = c ? c->m : 0;
    if (n_present) *n_present = c ? (size_t)c->present : 0;
    if (cells) *cells = c ? (size_t)c->cells : 0;
    return c ? c->sample : NULL;
}

void kn_drift_ref_levels(const kn_drift_ref *r, size_t j, size_t *k, const char *const **values,
                         const size_t **lens, const uint64_t **counts, uint64_t *missing,
                         uint64_t *other)
{
    const rcol *c = r && j < r->n && r->cols[j].text ? &r->cols[j] : NULL;
    if (k) *k = c ? c->k : 0;
    if (values) *values = c ? (const char *const *)c->values : NULL;
    if (lens) *lens = c ? c->lens : NULL;
    if (counts) *counts = c ? c->counts : NULL;
    if (missing) *missing = c ? c->missing : 0;
    if (other) *other = c ? c->other : 0;
}

/* ---- tests ---- */

void kn_drift_ref_prefetch(const kn_drift_ref *r, size_t j)
{
    if (r && j < r->n && !r->cols[j].text && r->cols[j].psi.bins)
        kn__ref_index_prefetch(&r->cols[j].psi.index);
}

kn_status kn_drift_ref_numbers(const kn_drift_ref *r, size_t j, const double *b, size_t n,
                               const kn_drift_opts *o, kn_drift_col *out, int *tested)
{
    if (!r || j >= r->n || r->cols[j].text)
        return kn_fail(KN_ERR_INVALID, "kn_drift_ref_numbers: column %zu is not numeric", j);
    const rcol *c = &r->cols[j];
    return kn__drift_numbers_sample_psi(c->name, c->sample, c->m, (size_t)c->present,
                                        (size_t)c->cells, b, n, o, c->psi.bins ? &c->psi : NULL,
                                        out, tested);
}

/* Text column c against the batch column b: the reference's counts and the
 * batch's over the union of values in byte order (the batch's values
 * outside the kept ones in an "other" bin when the reference has one), the
 * missing cells last, as kn_drift_column orders them. */
static kn_status text_test(const rcol *c, kn_column *b, size_t n, const kn_drift_opts *o,
                           kn_drift_col *out, int *tested)
{
    kn_text_counts t;
    kn_status e = kn__text_counts(b, n, b, 0, &t);
    if (e != KN_OK) return e;
    size_t cap = c->k + t.k + 2, k = 0, i = 0, l = 0;
    double *rc = kn_calloc(cap, sizeof *rc), *cc = kn_calloc(cap, sizeof *cc);
    char *unseen = kn_calloc(cap, 1);
    const char **val = kn_calloc(cap, sizeof *val);
    size_t *len = kn_calloc(cap, sizeof *len);
    double miss = 0, other = 0, present = 0, unseen_cells = 0;
    if (!rc || !cc || !unseen || !val || !len) e = KN_ERR_NOMEM;
    size_t bk = t.k && !t.value[t.k - 1] ? t.k - 1 : t.k; /* the batch's present values */
    if (bk < t.k) miss = t.r[t.k - 1];
    while (e == KN_OK && (i < c->k || l < bk)) {
        int cmp = i == c->k ? 1
                  : l == bk ? -1
                            : bytes_cmp(c->values[i], c->lens[i], t.value[l], t.len[l]);
        present += cmp >= 0 ? t.r[l] : 0;
        if (cmp > 0 && c->other) { /* not kept: the other bin */
            other += t.r[l++];
            continue;
        }
        val[k] = cmp <= 0 ? c->values[i] : t.value[l];
        len[k] = cmp <= 0 ? c->lens[i] : t.len[l];
        rc[k] = cmp <= 0 ? (double)c->counts[i++] : 0;
        cc[k] = cmp >= 0 ? t.r[l++] : 0;
        unseen[k] = cmp > 0;
        k++;
    }
    if (e == KN_OK && (c->other || other > 0)) rc[k] = (double)c->other, cc[k++] = other;
    if (e == KN_OK && (c->missing || miss > 0)) rc[k] = (double)c->missing, cc[k++] = miss;
    if (e == KN_OK && k) {
        *tested = 1;
        e = kn_drift_counts(c->name, rc, cc, k, o, out);
    }
    for (size_t v = 0; e == KN_OK && *tested && v < k; v++) {
        if (!unseen[v]) continue;
        if (out->unseen < KN_DRIFT_UNSEEN_SHOWN) {
            char *s = kn_malloc(len[v] + 1);
            if (!s) {
                e = KN_ERR_NOMEM;
                break;
            }
            memcpy(s, val[v], len[v]);
            s[len[v]] = 0;
            out->unseen_values[out->unseen] = s;
        }
        out->unseen++;
        unseen_cells += cc[v];
    }
    if (e == KN_OK && *tested) {
        out->unseen_frac = present > 0 ? unseen_cells / present : 0;
        out->n_ref = (size_t)c->cells;
        out->n_cur = n;
        out->missing_ref = c->cells ? (double)c->missing / (double)c->cells : 0;
        out->missing_cur = n ? miss / (double)n : 0;
    }
    kn_free(rc), kn_free(cc), kn_free(unseen), kn_free(val), kn_free(len);
    kn__text_counts_free(&t);
    return e;
}

kn_status kn_drift_ref_column(const kn_drift_ref *r, size_t j, kn_column *b, size_t n,
                              const kn_drift_opts *o, kn_drift_col *out, int *tested)
{
    memset(out, 0, sizeof *out);
    *tested = 0;
    if (!r || j >= r->n || !b)
        return kn_fail(KN_ERR_INVALID, "kn_drift_ref_column: no column %zu", j);
    const rcol *c = &r->cols[j];
    kn_col_type tb = kn_column_type(b);
    if (c->text != is_text(tb))
        return kn_fail(KN_ERR_TYPE,
                       "column '%s' is %s in the artifact's reference and %s in the batch; read "
                       "the batch with the model's types",
                       c->name, c->text ? "text" : "numeric", kn_col_type_name(tb));
    if (c->text) {
        kn_status e = text_test(c, b, n, o, out, tested);
        if (e == KN_OK && !*tested) {
            /* nothing on either side: report the column as untested */
            kn_drift_col_free(out);
        } else if (e != KN_OK)
            kn_drift_col_free(out);
        return e;
    }
    double *v = kn_malloc((n ? n : 1) * sizeof *v);
    if (!v) return KN_ERR_NOMEM;
    for (size_t i = 0; i < n; i++) v[i] = kn_column_is_missing(b, i) ? NAN : kn_column_number(b, i);
    kn_status e = kn_drift_ref_numbers(r, j, v, n, o, out, tested);
    kn_free(v);
    return e;
}

kn_status kn_drift_ref_frames(const kn_drift_ref *r, const kn_frame *cur, const kn_drift_opts *o,
                              kn_drift_report *out)
{
    memset(out, 0, sizeof *out);
    size_t nc = kn_drift_ref_n_cols(r), nb = kn_frame_n_rows(cur);
    out->cols = kn_calloc(nc ? nc : 1, sizeof *out->cols);
    if (!out->cols) return KN_ERR_NOMEM;
    kn_status e = KN_OK;
    for (size_t j = 0; e == KN_OK && j < nc; j++) {
        size_t jb;
        if (r->cols[j].role != KN_DRIFT_REF_INPUT ||
            kn_frame_find(cur, r->cols[j].name, &jb) != KN_OK)
            continue;
        int tested = 0;
        kn_drift_col *c = &out->cols[out->n_cols];
        e = kn_drift_ref_column(r, j, kn_frame_col(cur, jb), nb, o, c, &tested);
        if (e == KN_OK && tested)
            out->n_cols++;
        else if (e == KN_OK)
            kn_drift_col_free(c);
    }
    if (e == KN_OK) e = kn_drift_decide(out->cols, out->n_cols, o, &out->n_drifted);
    if (e != KN_OK) kn_drift_report_free(out);
    return e;
}
