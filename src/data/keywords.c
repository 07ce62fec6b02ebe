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

static int is_text(kn_col_type t)
{
    return t == KN_COL_CATEGORICAL || t == KN_COL_STRING;
}

int kn__words_usable(const kn_column *const *cs, const kn_column *const *peer, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        kn_col_type t = cs[i]->type, p = peer[i]->type;
        if (!(is_text(t) && is_text(p)) && !(word_type(t) && t == p)) return 0;
    }
    return 1;
}

void kn__views_free(kn__views *v)
{
    for (size_t i = 0; i < v->n; i++) {
        if (!v->own[i]) continue;
        kn_free(v->own[i]->codes);
        kn__dict_free(&v->own[i]->dict);
        kn_free(v->own[i]);
        v->own[i] = NULL;
    }
}

/* A categorical view of text column c: its strings interned in order. */
static kn_status text_view(const kn_column *c, size_t rows, kn_column **out)
{
    kn_column *v = kn_calloc(1, sizeof *v);
    if (!v) return KN_ERR_NOMEM;
    v->type = KN_COL_CATEGORICAL;
    kn__dict_init(&v->dict);
    *out = v;
    if (!(v->codes = kn_malloc((rows ? rows : 1) * sizeof *v->codes))) return KN_ERR_NOMEM;
    for (size_t r = 0; r < rows; r++) {
        size_t len;
        const char *s = kn_column_str(c, r, &len);
        v->codes[r] = -1;
        if (s && kn__dict_intern(&v->dict, s, len, &v->codes[r]) != KN_OK) return KN_ERR_NOMEM;
    }
    return KN_OK;
}

kn_status kn__views_make(const kn_column *const *cs, size_t rows, size_t n, kn__views *v)
{
    memset(v, 0, sizeof *v);
    v->n = n;
    for (size_t i = 0; i < n; i++) {
        v->c[i] = cs[i];
        if (cs[i]->type != KN_COL_STRING) continue;
        kn_status e = text_view(cs[i], rows, &v->own[i]);
        if (e != KN_OK) return e;
        v->c[i] = v->own[i];
    }
    return KN_OK;
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

/* The word of a missing cell of c with KN__WORDS_MISSING_EQUAL: one below
 * the smallest integer-like word (so a direct index still covers the
 * column), NaN's bits for numbers keyed by their bits. */
static uint64_t missing_word(const kn_column *c, size_t rows, const uint64_t *map, int whole)
{
    if (c->type == KN_COL_NUMERIC && !whole) return 0x7ff8000000000000u;
    int64_t mn = 0;
    int any = 0;
    for (size_t r = 0; r < rows; r++) {
        uint64_t x;
        if (!cell_word(c, r, map, whole, &x)) continue;
        if (!any || (int64_t)x < mn) mn = (int64_t)x;
        any = 1;
    }
    /* integer words are above INT64_MIN (the missing value), whole numbers
     * and codes far above it */
    return (uint64_t)(mn - 1);
}

kn_status kn__words_build(const kn_column *const *cs, size_t rows, const kn_column *const *peer,
                          size_t peer_rows, size_t n, int flags, kn__words *w)
{
    w->n_rows = rows;
    w->n = n;
    w->w = kn_malloc((rows ? rows : 1) * n * sizeof *w->w);
    w->missing = kn_malloc(rows ? rows : 1);
    w->hash = kn_malloc((rows ? rows : 1) * sizeof *w->hash);
    uint64_t *maps[KN__KEYS_MAX] = {0}, miss_word[KN__KEYS_MAX] = {0};
    int whole[KN__KEYS_MAX] = {0};
    for (size_t i = 0; i < n; i++) {
        const kn_column *c = cs[i];
        whole[i] = c->type == KN_COL_NUMERIC && whole_numbers(c, rows) &&
                   (peer[i] == c || whole_numbers(peer[i], peer_rows));
    }
    kn_status e = w->w && w->missing && w->hash ? KN_OK : KN_ERR_NOMEM;
    for (size_t i = 0; e == KN_OK && i < n; i++) {
        const kn_column *c = cs[i];
        if (!(flags & KN__WORDS_MAP_TO_PEER) || c->type != KN_COL_CATEGORICAL || c == peer[i])
            continue;
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
    int miss_eq = (flags & KN__WORDS_MISSING_EQUAL) != 0;
    for (size_t i = 0; e == KN_OK && miss_eq && i < n; i++)
        miss_word[i] = missing_word(cs[i], rows, maps[i], whole[i]);
    if (e == KN_OK) {
        long long nr = (long long)rows;
#pragma omp parallel for schedule(static) if (rows * n > 65536)
        for (long long rr = 0; rr < nr; rr++) {
            size_t r = (size_t)rr;
            uint64_t h = 0x243f6a8885a308d3u, *dst = w->w + r * n;
            unsigned char miss = 0;
            for (size_t i = 0; i < n; i++) {
                if (!cell_word(cs[i], r, maps[i], whole[i], &dst[i])) {
                    miss = 1;
                    dst[i] = miss_word[i];
                }
                h = mix(h, dst[i]);
            }
            w->missing[r] = miss && !miss_eq;
            w->hash[r] = h;
        }
    }
    for (size_t i = 0; i < n; i++) kn_free(maps[i]);
    return e;
}

int kn__column_whole(const kn_column *c, size_t rows)
{
    return c->type == KN_COL_NUMERIC && whole_numbers(c, rows);
}

/* Probe cell r of c against build column b: its word, or 0 when missing or
 * when no build row can have it. */
static int probe_word(const kn_column *c, size_t r, const kn_column *b, const uint64_t *map,
                      int whole, uint64_t *out)
{
    if (c->type == KN_COL_STRING) { /* against the build side's interned view */
        size_t len;
        const char *s = kn_column_str(c, r, &len);
        int32_t code = s ? kn__dict_find(&b->dict, s, len) : -1;
        *out = (uint64_t)code;
        return code >= 0;
    }
    if (c->type == KN_COL_NUMERIC && whole) {
        double v = c->f64[r];
        if (isnan(v) || v != floor(v) || fabs(v) >= 4.6e18) return 0; /* no whole build value */
        *out = (uint64_t)(int64_t)v;
        return 1;
    }
    if (!cell_word(c, r, map, 0, out)) return 0;
    return !(c->type == KN_COL_CATEGORICAL && *out >= UNMAPPED_BASE);
}

kn_status kn__words_probe(const kn_column *const *cs, size_t rows, const kn_column *const *bc,
                          const int *whole, kn__wmap *maps, size_t n, kn__words *w)
{
    w->n_rows = rows;
    w->n = n;
    w->w = kn_malloc((rows ? rows : 1) * n * sizeof *w->w);
    w->missing = kn_malloc(rows ? rows : 1);
    w->hash = kn_malloc((rows ? rows : 1) * sizeof *w->hash);
    kn_status e = w->w && w->missing && w->hash ? KN_OK : KN_ERR_NOMEM;
    for (size_t i = 0; e == KN_OK && i < n; i++) {
        const kn_column *c = cs[i];
        if (c->type != KN_COL_CATEGORICAL) continue;
        kn__wmap *m = &maps[i];
        if (c->dict.n < m->n) m->n = 0; /* not the dictionary mapped before: again */
        if (c->dict.n > m->cap) {
            uint64_t *p = kn_realloc(m->map, c->dict.n * sizeof *p);
            if (!p) {
                e = KN_ERR_NOMEM;
                break;
            }
            m->map = p;
            m->cap = c->dict.n;
        }
        for (size_t l = m->n; l < c->dict.n; l++) {
            size_t len;
            const char *text = kn__dict_get(&c->dict, (int32_t)l, &len);
            int32_t code = kn__dict_find(&bc[i]->dict, text, len);
            m->map[l] = code >= 0 ? (uint64_t)code : UNMAPPED_BASE + l;
        }
        m->n = c->dict.n;
    }
    if (e != KN_OK) return e;
    long long nr = (long long)rows;
#pragma omp parallel for schedule(static) if (rows * n > 65536)
    for (long long rr = 0; rr < nr; rr++) {
        size_t r = (size_t)rr;
        uint64_t h = 0x243f6a8885a308d3u, *dst = w->w + r * n;
        unsigned char miss = 0;
        for (size_t i = 0; i < n; i++) {
            if (!probe_word(cs[i], r, bc[i], maps[i].map, whole[i], &dst[i])) {
                miss = 1;
                dst[i] = 0;
            }
            h = mix(h, dst[i]);
        }
        w->missing[r] = miss;
        w->hash[r] = h;
    }
    return KN_OK;
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
    uint64_t lo[KN__KEYS_MAX], stride[KN__KEYS_MAX], total = 1;
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

typedef struct slot {
    uint64_t hash;
    size_t group; /* MISSING_KEY: empty */
} slot;

/* tab (size slots) rehashed into twice as many; NULL (tab freed) when out
 * of memory. */
static slot *grow(slot *tab, size_t *size)
{
    size_t n = 2 * *size, mask = n - 1;
    slot *t = kn_malloc(n * sizeof *t);
    if (t) {
        for (size_t i = 0; i < n; i++) t[i].group = MISSING_KEY;
        for (size_t i = 0; i < *size; i++) {
            if (tab[i].group == MISSING_KEY) continue;
            size_t s = tab[i].hash & mask;
            while (t[s].group != MISSING_KEY) s = (s + 1) & mask;
            t[s] = tab[i];
        }
        *size = n;
    }
    kn_free(tab);
    return t;
}

int kn__words_group_direct(const kn__words *w, size_t *of, size_t *rep, size_t *n_groups,
                           kn_status *e)
{
    size_t rows = w->n_rows, span = 0, g = 0;
    /* the direct index needs rows-sized scratch: worth it when the span is
     * no bigger than a few times the rows */
    if (rows && direct_index(w, of, &span) && span <= 4 * rows + 1024) {
        size_t *id = kn_malloc(span * sizeof *id);
        *e = id ? KN_OK : KN_ERR_NOMEM;
        if (!id) return 1;
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
        return 1;
    }
    return 0;
}

kn_status kn__words_group(const kn__words *w, size_t *of, size_t *rep, size_t *n_groups)
{
    kn_status e;
    if (kn__words_group_direct(w, of, rep, n_groups, &e)) return e;
    size_t rows = w->n_rows, g = 0;
    /* slots hold a group's hash beside its id (one cache line per probe);
     * the table starts small and doubles at half full, so few groups stay in
     * cache */
    size_t size = 1024, mask = size - 1;
    slot *tab = kn_malloc(size * sizeof *tab);
    if (!tab) return KN_ERR_NOMEM;
    for (size_t i = 0; i < size; i++) tab[i].group = MISSING_KEY;
    for (size_t r = 0; r < rows; r++) {
        if (w->missing[r]) {
            of[r] = MISSING_KEY;
            continue;
        }
        uint64_t h = w->hash[r];
        size_t s = h & mask;
        for (;; s = (s + 1) & mask) {
            size_t gi = tab[s].group;
            if (gi == MISSING_KEY) {
                tab[s].hash = h;
                tab[s].group = g;
                rep[g] = r;
                of[r] = g++;
                break;
            }
            if (tab[s].hash == h && words_equal(w, rep[gi], w, r)) {
                of[r] = gi;
                break;
            }
        }
        if (2 * g > size && !(tab = grow(tab, &size))) return KN_ERR_NOMEM;
        mask = size - 1;
    }
    kn_free(tab);
    *n_groups = g;
    return KN_OK;
}
