/* Stable multi-key sort of a frame's rows (kn_frame_sort in combine.h): each
 * key becomes one order-preserving 64-bit word per row (numbers, integers,
 * times by value, categorical codes by their levels' rank). Without string
 * keys, stable LSD radix passes run from the last key to the first (missing
 * cells then moved to one end, in order); string keys compare their bytes
 * in a merge sort of row indices. Both keep equal rows in order. */
#include "data/dict-impl.h"
#include "data/frame-impl.h"
#include "data/sort-impl.h"
#include "kiln/combine.h"
#include "kiln/mem.h"

#include <math.h>
#include <string.h>

typedef struct sort_col {
    const kn_column *c;
    uint64_t *w;            /* order word per row (NULL for string keys) */
    unsigned char *missing; /* per row */
    int desc;
} sort_col;

typedef struct sorter {
    sort_col *cols;
    size_t n;
    int nulls_first;
} sorter;

static int text_cmp(const char *a, size_t la, const char *b, size_t lb)
{
    int r = memcmp(a, b, la < lb ? la : lb);
    return r ? r : (la > lb) - (la < lb);
}

/* < 0 when row a goes before row b */
static int row_cmp(const sorter *s, size_t a, size_t b)
{
    for (size_t k = 0; k < s->n; k++) {
        const sort_col *sc = &s->cols[k];
        int ma = sc->missing[a], mb = sc->missing[b], r;
        if (ma || mb) {
            if (ma && mb) continue;
            return (ma ? -1 : 1) * (s->nulls_first ? 1 : -1);
        }
        if (sc->w) {
            r = (sc->w[a] > sc->w[b]) - (sc->w[a] < sc->w[b]);
        } else {
            size_t la, lb;
            const char *ta = kn_column_str(sc->c, a, &la), *tb = kn_column_str(sc->c, b, &lb);
            r = text_cmp(ta, la, tb, lb);
        }
        if (r) return sc->desc ? -r : r;
    }
    return 0;
}

/* Bottom-up merge sort of idx (n rows) through tmp: stable. */
static void merge_sort(const sorter *s, size_t *idx, size_t *tmp, size_t n)
{
    size_t *src = idx, *dst = tmp;
    for (size_t width = 1; width < n; width *= 2) {
        for (size_t lo = 0; lo < n; lo += 2 * width) {
            size_t mid = lo + width < n ? lo + width : n,
                   hi = lo + 2 * width < n ? lo + 2 * width : n;
            size_t i = lo, j = mid, k = lo;
            while (i < mid && j < hi)
                dst[k++] = row_cmp(s, src[j], src[i]) < 0 ? src[j++] : src[i++];
            while (i < mid) dst[k++] = src[i++];
            while (j < hi) dst[k++] = src[j++];
        }
        size_t *t = src;
        src = dst;
        dst = t;
    }
    if (src != idx) memcpy(idx, src, n * sizeof *idx);
}

/* Rank of each categorical level by its text (bytes). */
static kn_status level_ranks(const kn_column *c, uint64_t **out)
{
    size_t nl = c->dict.n, *order = kn_malloc((nl ? nl : 1) * sizeof *order);
    size_t *tmp = kn_malloc((nl ? nl : 1) * sizeof *tmp);
    uint64_t *rank = kn_malloc((nl ? nl : 1) * sizeof *rank);
    if (!order || !tmp || !rank) {
        kn_free(order);
        kn_free(tmp);
        kn_free(rank);
        return KN_ERR_NOMEM;
    }
    /* sort level ids with a one-key sorter over a string-like view */
    for (size_t i = 0; i < nl; i++) order[i] = i;
    for (size_t width = 1; width < nl; width *= 2) {
        for (size_t lo = 0; lo < nl; lo += 2 * width) {
            size_t mid = lo + width < nl ? lo + width : nl;
            size_t hi = lo + 2 * width < nl ? lo + 2 * width : nl, i = lo, j = mid, k = lo;
            while (i < mid && j < hi) {
                size_t la, lb;
                const char *ta = kn__dict_get(&c->dict, (int32_t)order[j], &la);
                const char *tb = kn__dict_get(&c->dict, (int32_t)order[i], &lb);
                tmp[k++] = text_cmp(ta, la, tb, lb) < 0 ? order[j++] : order[i++];
            }
            while (i < mid) tmp[k++] = order[i++];
            while (j < hi) tmp[k++] = order[j++];
        }
        memcpy(order, tmp, nl * sizeof *order);
    }
    for (size_t i = 0; i < nl; i++) rank[order[i]] = i;
    kn_free(order);
    kn_free(tmp);
    *out = rank;
    return KN_OK;
}

static kn_status key_words(const kn_column *c, size_t rows, sort_col *sc)
{
    sc->c = c;
    sc->missing = kn_malloc(rows ? rows : 1);
    if (!sc->missing) return KN_ERR_NOMEM;
    if (c->type == KN_COL_STRING) {
        for (size_t r = 0; r < rows; r++) {
            size_t len;
            sc->missing[r] = kn_column_str(c, r, &len) == NULL;
        }
        return KN_OK;
    }
    if (!(sc->w = kn_malloc((rows ? rows : 1) * sizeof *sc->w))) return KN_ERR_NOMEM;
    uint64_t *rank = NULL;
    if (c->type == KN_COL_CATEGORICAL && level_ranks(c, &rank) != KN_OK) return KN_ERR_NOMEM;
    long long nr = (long long)rows;
#pragma omp parallel for schedule(static) if (rows > 65536)
    for (long long rr = 0; rr < nr; rr++) {
        size_t r = (size_t)rr;
        switch (c->type) {
        case KN_COL_NUMERIC:
            sc->missing[r] = isnan(c->f64[r]);
            sc->w[r] = kn__f64_key(c->f64[r] == 0 ? 0.0 : c->f64[r]); /* -0 equals 0 */
            break;
        case KN_COL_INT64:
            sc->missing[r] = c->ts[r] == KN_I64_MISSING;
            sc->w[r] = (uint64_t)c->ts[r] ^ 0x8000000000000000ull;
            break;
        case KN_COL_TIMESTAMP:
            sc->missing[r] = c->ts[r] == KN_TS_MISSING;
            sc->w[r] = (uint64_t)c->ts[r] ^ 0x8000000000000000ull;
            break;
        case KN_COL_CATEGORICAL:
            sc->missing[r] = c->codes[r] < 0;
            sc->w[r] = c->codes[r] < 0 ? 0 : rank[c->codes[r]];
            break;
        case KN_COL_STRING:
            break;
        }
    }
    kn_free(rank);
    return KN_OK;
}

/* Word keys only: for each key from the last, a stable radix sort of idx by
 * the key's word (missing cells all 0, so they keep their order), then a
 * stable move of the missing rows to their end. */
static kn_status radix_sort(const sorter *s, size_t *idx, size_t rows)
{
    size_t sz = (rows ? rows : 1) * sizeof(uint64_t);
    uint64_t *key = kn_malloc(sz), *val = kn_malloc(sz), *tk = kn_malloc(sz), *tv = kn_malloc(sz);
    kn_status e = key && val && tk && tv ? KN_OK : KN_ERR_NOMEM;
    for (size_t r = 0; e == KN_OK && r < rows; r++) val[r] = r;
    for (size_t k = s->n; e == KN_OK && k-- > 0;) {
        const sort_col *sc = &s->cols[k];
        size_t n_missing = 0;
        long long nr = (long long)rows;
#pragma omp parallel for schedule(static) reduction(+ : n_missing) if (rows > 65536)
        for (long long i = 0; i < nr; i++) {
            size_t r = (size_t)val[i];
            n_missing += sc->missing[r];
            key[i] = sc->missing[r] ? 0 : sc->desc ? ~sc->w[r] : sc->w[r];
        }
        kn__sort_u64_pairs(key, val, tk, tv, rows);
        if (!n_missing) continue;
        /* missing rows to the front or the back, both groups in order */
        size_t mi = s->nulls_first ? 0 : rows - n_missing, pi = s->nulls_first ? n_missing : 0;
        for (size_t i = 0; i < rows; i++) {
            size_t r = (size_t)val[i];
            tv[sc->missing[r] ? mi++ : pi++] = val[i];
        }
        memcpy(val, tv, rows * sizeof *val);
    }
    for (size_t r = 0; e == KN_OK && r < rows; r++) idx[r] = (size_t)val[r];
    kn_free(key);
    kn_free(val);
    kn_free(tk);
    kn_free(tv);
    return e;
}

kn_status kn_frame_sort(const kn_frame *f, const kn_sort_key *keys, size_t n, int nulls_first,
                        kn_frame **out)
{
    if (n == 0 || n > 64) return kn_fail(KN_ERR_INVALID, "sort: give 1 to 64 key columns");
    sort_col cols[64];
    memset(cols, 0, sizeof cols);
    sorter s = {cols, n, nulls_first};
    size_t rows = f->n_rows, *idx = NULL, *tmp = NULL;
    kn_status e = KN_OK;
    for (size_t k = 0; e == KN_OK && k < n; k++) {
        size_t j;
        if (kn_frame_find(f, keys[k].column, &j) != KN_OK)
            e = kn_fail(KN_ERR_NOT_FOUND, "sort: no column '%s'; sort by a column of the frame",
                        keys[k].column);
        else {
            cols[k].desc = keys[k].descending;
            e = key_words(f->cols[j], rows, &cols[k]);
        }
    }
    if (e == KN_OK) {
        idx = kn_malloc((rows ? rows : 1) * sizeof *idx);
        tmp = kn_malloc((rows ? rows : 1) * sizeof *tmp);
        if (!idx || !tmp) e = KN_ERR_NOMEM;
    }
    if (e == KN_OK) {
        int words = 1;
        for (size_t k = 0; k < n; k++) words &= cols[k].w != NULL;
        for (size_t r = 0; r < rows; r++) idx[r] = r;
        if (words)
            e = radix_sort(&s, idx, rows);
        else
            merge_sort(&s, idx, tmp, rows);
        if (e == KN_OK) e = kn_frame_select_rows(f, idx, rows, out);
    }
    for (size_t k = 0; k < n; k++) {
        kn_free(cols[k].w);
        kn_free(cols[k].missing);
    }
    kn_free(idx);
    kn_free(tmp);
    return e;
}
