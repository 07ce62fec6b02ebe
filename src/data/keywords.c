/* Row keys as 64-bit words per key column, their hash table and group ids
 * (keys-impl.h): the fast path of joins and group-by when no key column is
 * free text. */
#include "data/dict-impl.h"
#include "data/frame-impl.h"
#include "data/keys-impl.h"
#include "kiln/mem.h"

#include <math.h>
#include <string.h>

/* Words of levels a peer dictionary lacks: above every code. */
#define UNMAPPED_BASE ((uint64_t)1 << 40)
/* Largest key range the direct index covers. */
#define DIRECT_MAX ((uint64_t)1 << 22)

static int word_type(kn_col_type t)
{
    return t == KN_COL_CATEGORICAL || t == KN_COL_INT64 || t == KN_COL_TIMESTAMP ||
           t == KN_COL_NUMERIC;
}

int kn__words_usable(const kn_frame *f, const size_t *cols, const kn_column *const *peer, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        const kn_column *c = f->cols[cols[i]];
        if (!word_type(c->type) || c->type != peer[i]->type) return 0;
    }
    return 1;
}

void kn__words_free(kn__words *w)
{
    kn_free(w->w);
    kn_free(w->missing);
    kn_free(w->hash);
}

static uint64_t mix(uint64_t h, uint64_t x)
{
    h ^= x + 0x9e3779b97f4a7c15u + (h << 6) + (h >> 2);
    h *= 0xff51afd7ed558ccdu;
    return h ^ (h >> 33);
}

/* 1 when every present value of numeric column c is a whole number within
 * +-2^62: such columns key by the integer (which a direct index can use),
 * others by the bits of the double. */
static int whole_numbers(const kn_column *c, size_t rows)
{
    int whole = 1;
    for (size_t r = 0; r < rows; r++) {
        double v = c->f64[r];
        whole &= isnan(v) || (v == floor(v) && fabs(v) < 4.6e18);
    }
    return whole;
}

/* Word of cell r of c, 0 when missing. map: c's codes in peer's dictionary;
 * whole: numeric values as integers. */
static int cell_word(const kn_column *c, size_t r, const uint64_t *map, int whole, uint64_t *out)
{
    switch (c->type) {
    case KN_COL_NUMERIC: {
        double v = c->f64[r];
        if (isnan(v)) return 0;
        if (whole) {
            *out = (uint64_t)(int64_t)v;
            return 1;
        }
        if (v == 0) v = 0; /* -0 keys as 0, as its text does */
        memcpy(out, &v, sizeof v);
        return 1;
    }
    case KN_COL_INT64:
    case KN_COL_TIMESTAMP:
        if (c->ts[r] == KN_I64_MISSING) return 0;
        *out = (uint64_t)c->ts[r];
        return 1;
    case KN_COL_CATEGORICAL:
        if (c->codes[r] < 0) return 0;
        *out = map ? map[c->codes[r]] : (uint64_t)c->codes[r];
        return 1;
    default:
        return 0;
    }
}

kn_status kn__words_build(const kn_frame *f, const size_t *cols, const kn_column *const *peer,
                          size_t peer_rows, size_t n, int map_to_peer, kn__words *w)
{
    size_t rows = f->n_rows;
    w->n_rows = rows;
    w->n = n;
    w->w = kn_malloc((rows ? rows : 1) * n * sizeof *w->w);
    w->missing = kn_malloc(rows ? rows : 1);
    w->hash = kn_malloc((rows ? rows : 1) * sizeof *w->hash);
    uint64_t *maps[64] = {0};
    int whole[64] = {0};
    for (size_t i = 0; i < n; i++) {
        const kn_column *c = f->cols[cols[i]];
        whole[i] = c->type == KN_COL_NUMERIC && whole_numbers(c, rows) &&
                   (peer[i] == c || whole_numbers(peer[i], peer_rows));
    }
    kn_status e = w->w && w->missing && w->hash ? KN_OK : KN_ERR_NOMEM;
    for (size_t i = 0; e == KN_OK && i < n; i++) {
        const kn_column *c = f->cols[cols[i]];
        if (!map_to_peer || c->type != KN_COL_CATEGORICAL || c == peer[i]) continue;
        size_t levels = c->dict.n;
        if (!(maps[i] = kn_malloc((levels ? levels : 1) * sizeof *maps[i]))) {
            e = KN_ERR_NOMEM;
            break;
        }
        for (size_t l = 0; l < levels; l++) {
            size_t len;
            const char *s = kn__dict_get(&c->dict, (int32_t)l, &len);
            int32_t code = kn__dict_find(&peer[i]->dict, s, len);
            maps[i][l] = code >= 0 ? (uint64_t)code : UNMAPPED_BASE + l;
        }
    }
    if (e == KN_OK) {
        const kn_column *cs[64];
        for (size_t i = 0; i < n; i++) cs[i] = f->cols[cols[i]];
        long long nr = (long long)rows;
#pragma omp parallel for schedule(static) if (rows * n > 65536)
        for (long long rr = 0; rr < nr; rr++) {
            size_t r = (size_t)rr;
            uint64_t h = 0x243f6a8885a308d3u, *dst = w->w + r * n;
            unsigned char miss = 0;
            for (size_t i = 0; i < n; i++) {
                if (!cell_word(cs[i], r, maps[i], whole[i], &dst[i])) {
                    miss = 1;
                    dst[i] = 0;
                }
                h = mix(h, dst[i]);
            }
            w->missing[r] = miss;
            w->hash[r] = h;
        }
    }
    for (size_t i = 0; i < n; i++) kn_free(maps[i]);
    return e;
}

static int words_equal(const kn__words *a, size_t i, const kn__words *b, size_t j)
{
    const uint64_t *x = a->w + i * a->n, *y = b->w + j * b->n;
    for (size_t k = 0; k < a->n; k++)
        if (x[k] != y[k]) return 0;
    return 1;
}

/* The direct form of kn__wtable_build: one key whose words span little. */
static int wtable_direct(const kn__words *w, kn__table *t, kn_status *e)
{
    if (w->n != 1 || !w->n_rows) return 0;
    int64_t mn = INT64_MAX, mx = INT64_MIN;
    for (size_t r = 0; r < w->n_rows; r++) {
        if (w->missing[r]) continue;
        int64_t v = (int64_t)w->w[r];
        if (v < mn) mn = v;
        if (v > mx) mx = v;
    }
    if (mn > mx) mn = mx = 0;
    if ((mn < 0 && mx > INT64_MAX + mn) || (uint64_t)(mx - mn) >= 4 * (uint64_t)w->n_rows + 1024)
        return 0;
    t->direct = 1;
    t->lo = (uint64_t)mn;
    t->span = (uint64_t)(mx - mn) + 1;
    t->head = kn_malloc(t->span * sizeof *t->head);
    t->next = kn_malloc(w->n_rows * sizeof *t->next);
    if (!t->head || !t->next) {
        *e = KN_ERR_NOMEM;
        return 1;
    }
    for (size_t i = 0; i < t->span; i++) t->head[i] = MISSING_KEY;
    for (size_t r = w->n_rows; r-- > 0;) {
        if (w->missing[r]) continue;
        size_t slot = (size_t)(w->w[r] - t->lo);
        t->next[r] = t->head[slot];
        t->head[slot] = r;
    }
    *e = KN_OK;
    return 1;
}

kn_status kn__wtable_build(const kn__words *w, kn__table *t)
{
    kn_status e;
    if (wtable_direct(w, t, &e)) return e;
    size_t size = 16;
    while (size < 2 * w->n_rows) size *= 2;
    t->mask = size - 1;
    t->head = kn_malloc(size * sizeof *t->head);
    t->hash = kn_malloc(size * sizeof *t->hash);
    t->next = kn_malloc((w->n_rows ? w->n_rows : 1) * sizeof *t->next);
    if (!t->head || !t->hash || !t->next) return KN_ERR_NOMEM;
    for (size_t i = 0; i < size; i++) t->head[i] = MISSING_KEY;
    /* from the last row, so each chain lists rows in order */
    for (size_t r = w->n_rows; r-- > 0;) {
        if (w->missing[r]) continue;
        uint64_t h = w->hash[r];
        size_t slot = h & t->mask;
        while (t->head[slot] != MISSING_KEY &&
               !(t->hash[slot] == h && words_equal(w, t->head[slot], w, r)))
            slot = (slot + 1) & t->mask;
        t->next[r] = t->head[slot];
        t->head[slot] = r;
        t->hash[slot] = h;
    }
    return KN_OK;
}

size_t kn__wtable_find(const kn__table *t, const kn__words *rk, const kn__words *lk, size_t r)
{
    if (lk->missing[r]) return MISSING_KEY;
    if (t->direct) {
        uint64_t x = lk->w[r] - t->lo;
        return x < t->span ? t->head[x] : MISSING_KEY;
    }
    uint64_t h = lk->hash[r];
    for (size_t slot = h & t->mask; t->head[slot] != MISSING_KEY; slot = (slot + 1) & t->mask)
        if (t->hash[slot] == h && words_equal(rk, t->head[slot], lk, r)) return t->head[slot];
    return MISSING_KEY;
}

/* Direct index of every row (MISSING_KEY when missing) when the keys' span
 * is small: integer-like words only (codes, int64, time). 0 when not. */
static int direct_index(const kn__words *w, size_t *idx, size_t *span)
{
    size_t n = w->n, rows = w->n_rows;
    uint64_t lo[64], stride[64], total = 1;
    for (size_t i = 0; i < n; i++) {
        int64_t mn = INT64_MAX, mx = INT64_MIN;
        for (size_t r = 0; r < rows; r++) {
            if (w->missing[r]) continue;
            int64_t v = (int64_t)w->w[r * n + i];
            if (v < mn) mn = v;
            if (v > mx) mx = v;
        }
        if (mn > mx) mn = mx = 0;
        /* numeric words are bit patterns: their spread is huge unless small
         * whole numbers share an exponent, which the span check handles */
        if (mn < 0 && mx > INT64_MAX + mn) return 0;
        uint64_t range = (uint64_t)(mx - mn) + 1;
        if (range > DIRECT_MAX || total * range > DIRECT_MAX) return 0;
        lo[i] = (uint64_t)mn;
        stride[i] = total;
        total *= range;
    }
    long long nr = (long long)rows;
#pragma omp parallel for schedule(static) if (rows > 65536)
    for (long long rr = 0; rr < nr; rr++) {
        size_t r = (size_t)rr, x = 0;
        if (w->missing[r]) {
            idx[r] = MISSING_KEY;
            continue;
        }
        for (size_t i = 0; i < n; i++) x += (size_t)((w->w[r * n + i] - lo[i]) * stride[i]);
        idx[r] = x;
    }
    *span = (size_t)total;
    return 1;
}

kn_status kn__words_group(const kn__words *w, size_t *of, size_t *rep, size_t *n_groups)
{
    size_t rows = w->n_rows, span = 0, g = 0;
    /* the direct index needs rows-sized scratch: worth it when the span is
     * no bigger than a few times the rows */
    if (rows && direct_index(w, of, &span) && span <= 4 * rows + 1024) {
        size_t *id = kn_malloc(span * sizeof *id);
        if (!id) return KN_ERR_NOMEM;
        for (size_t i = 0; i < span; i++) id[i] = MISSING_KEY;
        for (size_t r = 0; r < rows; r++) {
            size_t x = of[r];
            if (x == MISSING_KEY) continue;
            if (id[x] == MISSING_KEY) {
                id[x] = g;
                rep[g++] = r;
            }
            of[r] = id[x];
        }
        kn_free(id);
        *n_groups = g;
        return KN_OK;
    }
    size_t size = 16;
    while (size < 2 * rows) size *= 2;
    size_t mask = size - 1, *slot_group = kn_malloc(size * sizeof *slot_group);
    if (!slot_group) return KN_ERR_NOMEM;
    for (size_t i = 0; i < size; i++) slot_group[i] = MISSING_KEY;
    for (size_t r = 0; r < rows; r++) {
        if (w->missing[r]) {
            of[r] = MISSING_KEY;
            continue;
        }
        size_t s = w->hash[r] & mask;
        for (;; s = (s + 1) & mask) {
            size_t gi = slot_group[s];
            if (gi == MISSING_KEY) {
                slot_group[s] = g;
                rep[g] = r;
                of[r] = g++;
                break;
            }
            if (w->hash[rep[gi]] == w->hash[r] && words_equal(w, rep[gi], w, r)) {
                of[r] = gi;
                break;
            }
        }
    }
    kn_free(slot_group);
    *n_groups = g;
    return KN_OK;
}
