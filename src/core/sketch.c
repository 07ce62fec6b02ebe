/* The KLL quantile sketch (kiln/sketch.h): levels of retained items, the
 * items of level h weighing 2^h each; capacities shrink by 2/3 per level
 * down from the top (k), at least MIN_WIDTH, 32. (The KLL paper and
 * DataSketches use 8; at 2 the lowest levels compacted on almost every
 * add, 2.5x slower for a server's live statistics. At 32 the lowest levels
 * reach the width, and start sampling (below), after some 20,000 values
 * instead of 150,000: a sketch's first 300,000 adds cost 7 ns each against
 * 22 at 8, for about a third more memory; the rank errors measured are
 * the same.) A value goes into level 0; while the
 * sketch holds more than its total capacity, the lowest level at or over
 * its own capacity is compacted: sorted, and every other item (offset 0 or
 * 1 at random) moves up a level; an odd item out stays.
 *
 * Once the lowest levels are all at the minimum width, they only pass
 * items up at random, so (as the KLL paper does for its optimal space)
 * they are replaced by sampling: with `bottom` b, each block of 2^b values
 * keeps one, chosen at random, in level b with weight 2^b; the levels
 * under b drain through the usual compactions. A value then costs a
 * counter, not a place in a sort (a server adds one per numeric input per
 * request). The weights add up to the count but for the values of the
 * block being filled (fewer than 2^b). */
#include "core/sort-impl.h"
#include "kiln/mem.h"
#include "kiln/rng.h"
#include "kiln/sketch.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

enum { MIN_WIDTH = 32, MAX_LEVELS = 64 };

typedef struct level {
    double *v;
    size_t len, cap;
    int sorted; /* levels above 0 stay sorted unless a merge appended to them */
} level;

/* What an add reads comes first, in one cache line (a server adds to one
 * sketch per numeric input per request; everything else in the request
 * evicts them between requests). */
struct kn_kll {
    uint64_t n;
    double min, max;
    uint64_t block_pos, block_pick; /* in the block of 2^bottom values: the next one's
                                       place, and the place of the one kept */
    size_t bottom, want_bottom;     /* new items go to level bottom; the levels under
                                       want_bottom are at the minimum width */
    level *lv;
    size_t held, total_cap; /* items retained, all levels; their capacity */
    size_t n_levels, lv_cap;
    unsigned k;
    kn_rng rng;
    size_t cap[MAX_LEVELS]; /* per level, for n_levels */
};

/* The capacity of level h of a sketch with H levels: k (2/3)^(H-1-h),
 * rounded up, at least MIN_WIDTH. Integer arithmetic: the same on every
 * platform. */
static size_t level_cap(unsigned k, size_t H, size_t h)
{
    size_t c = k;
    for (size_t d = H - 1 - h; d > 0 && c > MIN_WIDTH; d--) c = (2 * c + 2) / 3;
    return c < MIN_WIDTH ? MIN_WIDTH : c;
}

static void set_caps(kn_kll *s)
{
    s->total_cap = 0;
    size_t narrow = 0; /* levels at the minimum width, from the bottom up */
    for (size_t h = 0; h < s->n_levels; h++) {
        s->cap[h] = level_cap(s->k, s->n_levels, h);
        s->total_cap += s->cap[h];
        if (s->cap[h] == MIN_WIDTH && narrow == h) narrow++;
    }
    /* the highest narrow level keeps compacting; those under it sample */
    if (narrow > 1 && narrow - 1 > s->want_bottom) s->want_bottom = narrow - 1;
}

static kn_status add_level(kn_kll *s)
{
    if (s->n_levels == MAX_LEVELS)
        return kn_fail(KN_ERR_INTERNAL, "quantile sketch: more than %d levels", MAX_LEVELS);
    if (s->n_levels == s->lv_cap) {
        size_t cap = s->lv_cap ? 2 * s->lv_cap : 8;
        level *lv = kn_realloc(s->lv, cap * sizeof *lv);
        if (!lv) return KN_ERR_NOMEM;
        memset(lv + s->lv_cap, 0, (cap - s->lv_cap) * sizeof *lv);
        s->lv = lv;
        s->lv_cap = cap;
    }
    s->n_levels++;
    set_caps(s);
    return KN_OK;
}

static kn_status reserve(level *l, size_t need)
{
    if (need <= l->cap) return KN_OK;
    size_t cap = l->cap ? l->cap : 8;
    while (cap < need) cap *= 2;
    double *v = kn_realloc(l->v, cap * sizeof *v);
    if (!v) return KN_ERR_NOMEM;
    l->v = v;
    l->cap = cap;
    return KN_OK;
}

/* Sort level h and move every other item up (see the top). */
static void sort(double *v, size_t n)
{
    kn__sort_doubles(v, n);
}

static kn_status compact(kn_kll *s, size_t h)
{
    kn_status e = KN_OK;
    if (h + 1 == s->n_levels && (e = add_level(s)) != KN_OK) return e;
    level *l = &s->lv[h], *up = &s->lv[h + 1];
    size_t m = l->len & ~(size_t)1; /* the even part; an odd item out stays */
    if (m < 2) return KN_OK;
    if ((e = reserve(up, up->len + m / 2)) != KN_OK) return e;
    double *v = l->v;
    uint64_t bits = kn_rng_next(&s->rng);
    if (!l->sorted) sort(v, l->len);
    /* the odd item out: the smallest or the largest, at random */
    size_t first = (l->len & 1) && (bits & 1) ? 1 : 0;
    double kept = (l->len & 1) ? v[first ? 0 : l->len - 1] : 0;
    const double *run = v + first + (size_t)(bits >> 63); /* every other of v[first..first+m) */
    size_t n_up = m / 2;
    if (up->sorted || !up->len) { /* merge the sorted run in from the back */
        /* without a branch on the values (a merge's comparisons are coin
         * flips to the branch predictor); the items are finite, so an
         * exhausted level reads as -inf */
        size_t i = up->len, j = n_up, out = up->len + n_up;
        while (j > 0) {
            double a = i > 0 ? up->v[i > 0 ? i - 1 : 0] : -INFINITY, b = run[2 * (j - 1)];
            int take_up = a > b;
            up->v[--out] = take_up ? a : b;
            i -= (size_t)take_up;
            j -= (size_t)!take_up;
        }
        up->sorted = 1;
    } else {
        for (size_t j = 0; j < n_up; j++) up->v[up->len + j] = run[2 * j];
    }
    up->len += n_up;
    l->len -= m;
    if (l->len) v[0] = kept;
    l->sorted = 1;
    s->held -= n_up;
    /* a level whose capacity shrank (levels were added above it) gives
     * its room back: memory stays about the total capacity */
    if (l->cap > 4 * s->cap[h] && l->cap > 16) {
        size_t cap = 2 * s->cap[h] < 8 ? 8 : 2 * s->cap[h];
        double *p = kn_realloc(l->v, cap * sizeof *p);
        if (p) l->v = p, l->cap = cap;
    }
    return KN_OK;
}

static kn_status compress(kn_kll *s)
{
    while (s->held > s->total_cap) {
        size_t h = 0;
        while (h < s->n_levels && s->lv[h].len < s->cap[h]) h++;
        if (h == s->n_levels) break; /* cannot happen: some level is over */
        kn_status e = compact(s, h);
        if (e != KN_OK) return e;
    }
    return KN_OK;
}

kn_status kn_kll_new(unsigned k, uint64_t seed, kn_kll **out)
{
    if (k < 8 || k > 65535)
        return kn_fail(KN_ERR_INVALID, "quantile sketch k is %u; give 8 to 65535 (default %d)", k,
                       KN_KLL_DEFAULT_K);
    kn_kll *s = kn_calloc(1, sizeof *s);
    if (!s) return KN_ERR_NOMEM;
    s->k = k;
    kn_rng_init(&s->rng, seed);
    kn_status e = add_level(s);
    if (e == KN_OK) e = reserve(&s->lv[0], k);
    if (e != KN_OK) {
        kn_kll_free(s);
        return e;
    }
    kn_kll_reset(s);
    *out = s;
    return KN_OK;
}

void kn_kll_free(kn_kll *s)
{
    if (!s) return;
    for (size_t h = 0; h < s->lv_cap; h++) kn_free(s->lv[h].v);
    kn_free(s->lv);
    kn_free(s);
}

void kn_kll_reset(kn_kll *s)
{
    for (size_t h = 0; h < s->lv_cap; h++) s->lv[h].len = 0, s->lv[h].sorted = 1;
    s->n_levels = 1;
    s->bottom = s->want_bottom = 0;
    s->block_pos = s->block_pick = 0;
    set_caps(s);
    s->held = 0;
    s->n = 0;
    s->min = INFINITY;
    s->max = -INFINITY;
}

/* The block of 2^bottom values ends: the next one, one level up if the
 * levels under want_bottom reached the minimum width meanwhile. */
static void next_block(kn_kll *s)
{
    if (s->bottom < s->want_bottom) s->bottom++;
    s->block_pos = 0;
    s->block_pick = s->bottom ? kn_rng_next(&s->rng) >> (64 - s->bottom) : 0;
}

/* A counted value's place in its block: kept (into level bottom) when it is
 * the block's pick. */
static kn_status place(kn_kll *s, double x)
{
    int keep = s->block_pos == s->block_pick;
    if (++s->block_pos == (uint64_t)1 << s->bottom) next_block(s);
    if (!keep) return KN_OK;
    level *l = &s->lv[s->bottom];
    kn_status e = reserve(l, l->len + 1);
    if (e != KN_OK) return e;
    l->v[l->len++] = x;
    l->sorted = l->len == 1;
    s->held++;
    return compress(s);
}

kn_status kn_kll_add(kn_kll *s, double x)
{
    if (!isfinite(x)) return KN_OK;
    s->n++;
    if (x < s->min) s->min = x;
    if (x > s->max) s->max = x;
    return place(s, x);
}

kn_status kn_kll_add_many(kn_kll *s, const double *x, size_t n, size_t stride)
{
    kn_status e = KN_OK;
    double v[64];
    for (size_t from = 0; from < n; from += 64) {
        /* the finite values, counted and bounded in one pass */
        size_t m = 0, to = n - from < 64 ? n : from + 64;
        double lo = s->min, hi = s->max;
        for (size_t i = from; i < to; i++) {
            double y = x[i * stride];
            if (!isfinite(y)) continue;
            v[m++] = y;
            lo = y < lo ? y : lo;
            hi = y > hi ? y : hi;
        }
        s->n += m, s->min = lo, s->max = hi;
        /* then their places: the values before the block's pick, or all
         * after it, only move the place in the block */
        for (size_t j = 0; j < m;) {
            uint64_t size = (uint64_t)1 << s->bottom, left = size - s->block_pos;
            uint64_t skip = s->block_pick >= s->block_pos ? s->block_pick - s->block_pos : left;
            if (skip > m - j) skip = m - j;
            j += skip;
            s->block_pos += skip;
            if (s->block_pos == size)
                next_block(s);
            else if (j < m) {
                kn_status f = place(s, v[j++]); /* the pick */
                if (e == KN_OK) e = f;
            }
        }
    }
    return e;
}

kn_status kn_kll_merge(kn_kll *dst, const kn_kll *src)
{
    if (!src->n) return KN_OK;
    kn_status e = KN_OK;
    while (dst->n_levels < src->n_levels)
        if ((e = add_level(dst)) != KN_OK) return e;
    for (size_t h = 0; h < src->n_levels; h++) {
        const level *from = &src->lv[h];
        level *to = &dst->lv[h];
        if (!from->len) continue;
        if ((e = reserve(to, to->len + from->len)) != KN_OK) return e;
        memcpy(to->v + to->len, from->v, from->len * sizeof *from->v);
        to->sorted = !to->len && from->sorted;
        to->len += from->len;
        dst->held += from->len;
    }
    dst->n += src->n;
    if (src->min < dst->min) dst->min = src->min;
    if (src->max > dst->max) dst->max = src->max;
    return compress(dst);
}

kn_status kn_kll_copy(const kn_kll *s, kn_kll **out)
{
    kn_kll *c = NULL;
    kn_status e = kn_kll_new(s->k, 0, &c);
    if (e == KN_OK) e = kn_kll_merge(c, s);
    if (e != KN_OK) {
        kn_kll_free(c);
        return e;
    }
    c->rng = s->rng;
    *out = c;
    return KN_OK;
}

uint64_t kn_kll_count(const kn_kll *s)
{
    return s->n;
}

typedef struct item {
    double v;
    uint64_t w;
} item;

static int cmp_item(const void *a, const void *b)
{
    double x = ((const item *)a)->v, y = ((const item *)b)->v;
    return (x > y) - (x < y);
}

kn_status kn_kll_quantiles(const kn_kll *s, const double *qs, size_t n, double *out)
{
    if (!s->n) {
        for (size_t i = 0; i < n; i++) out[i] = NAN;
        return KN_OK;
    }
    item *it = kn_malloc(s->held * sizeof *it);
    if (!it) return KN_ERR_NOMEM;
    size_t m = 0;
    for (size_t h = 0; h < s->n_levels; h++)
        for (size_t i = 0; i < s->lv[h].len; i++) it[m++] = (item){s->lv[h].v[i], (uint64_t)1 << h};
    qsort(it, m, sizeof *it, cmp_item);
    for (size_t i = 0; i < n; i++) {
        double q = qs[i];
        if (!(q > 0)) {
            out[i] = s->min;
            continue;
        }
        if (q >= 1) {
            out[i] = s->max;
            continue;
        }
        double target = q * (double)s->n;
        uint64_t cum = 0;
        size_t j = 0;
        for (; j + 1 < m; j++) {
            cum += it[j].w;
            if ((double)cum >= target) break;
        }
        out[i] = it[j].v;
    }
    kn_free(it);
    return KN_OK;
}

double kn_kll_quantile(const kn_kll *s, double q)
{
    double v = NAN;
    if (kn_kll_quantiles(s, &q, 1, &v) != KN_OK) return NAN;
    return v;
}

double kn_kll_rank(const kn_kll *s, double x)
{
    if (!s->n) return 0;
    uint64_t below = 0;
    for (size_t h = 0; h < s->n_levels; h++)
        for (size_t i = 0; i < s->lv[h].len; i++)
            if (s->lv[h].v[i] <= x) below += (uint64_t)1 << h;
    return (double)below / (double)s->n;
}

size_t kn_kll_memory_bytes(const kn_kll *s)
{
    size_t b = sizeof *s + s->lv_cap * sizeof *s->lv;
    for (size_t h = 0; h < s->lv_cap; h++) b += s->lv[h].cap * sizeof(double);
    return b;
}
