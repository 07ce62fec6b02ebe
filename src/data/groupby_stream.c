/* Group-by over a batch reader (kn_reader_group_by in kiln/combine.h): each
 * batch's rows are folded into per-group states and the batch is freed, so
 * memory holds the groups, not the rows. The result is kn_frame_group_by's
 * on the whole input: the same columns and types (the in-memory function run
 * on the schema's empty frame gives them, and its errors), groups in order of
 * first appearance, each aggregate updated in row order with the same
 * arithmetic (sums, Welford's std), so the same bytes.
 *
 * Keys are stable across batches as one word per key column: categorical
 * codes (a code means one level in every batch, reader.h), int64 and time
 * values, the bits of a number (-0 as 0), free text interned into a
 * dictionary of the group-by's own. */
#include "data/dict-impl.h"
#include "data/frame-impl.h"
#include "data/keys-impl.h"
#include "kiln/combine.h"
#include "kiln/log.h"
#include "kiln/mem.h"
#include "kiln/reader.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#define NONE ((size_t)-1)

/* An open-addressing set of (group, word) pairs: nunique's distinct values. */
typedef struct pairset {
    size_t *g; /* NONE: empty slot */
    uint64_t *w;
    size_t n, size;
} pairset;

typedef struct gslot {
    uint64_t hash;
    size_t group; /* NONE: empty */
} gslot;

/* Largest span of an integer key's direct index (entries), and its share of
 * the rows read: beyond either, groups go to the hash table. */
#define DIRECT_MAX ((uint64_t)1 << 22)
#define DIRECT_PER_ROW 4

typedef struct astate {
    const kn_agg *a;
    size_t col, ord; /* schema columns (NONE: rows / no order) */
    kn_col_type type, ord_type;
    int numeric;            /* count, sum, mean, min, max, std, nunique: a numeric output */
    int int_extreme;        /* min/max of an int64 or time column: exact */
    double *cnt, *v, *mean; /* per group */
    int64_t *iv;            /* exact min/max, or first/last's int order */
    double *dv;             /* first/last's numeric order */
    unsigned char *have;    /* first/last: a value picked */
    pairset set;            /* nunique */
    kn_dict text;           /* nunique of free text: its values interned */
    kn_status e;            /* a failure in a parallel update */
} astate;

typedef struct gstream {
    size_t n_by, by[64];      /* key columns in the schema */
    size_t key_out[64];       /* output column of by[i] */
    kn_dict text[64];         /* free-text key columns: values interned */
    size_t n_groups, cap;     /* groups, rows allocated per group */
    uint64_t *gw, *gh;        /* per group: its words (n_by each), its hash */
    gslot *slot;              /* open addressing over groups */
    size_t n_slots;           /* 0: no table yet */
    size_t *direct, n_direct; /* one categorical or integer key: group of each value */
    int64_t lo;               /* an integer key's direct index starts here */
    int hashed;               /* an integer key left the direct index for the table */
    uint64_t rows_seen;
    astate *ag;
    size_t n_aggs;
    kn_frame *out; /* the result being filled: the template's columns */
    uint64_t dropped;
} gstream;

static uint64_t mix(uint64_t h, uint64_t x)
{
    h ^= x + 0x9e3779b97f4a7c15u + (h << 6) + (h >> 2);
    h *= 0xff51afd7ed558ccdu;
    return h ^ (h >> 33);
}

/* The stable word of cell r of c (0 when missing); free text is interned into d. */
static int stable_word(const kn_column *c, size_t r, kn_dict *d, uint64_t *w, kn_status *e)
{
    switch (c->type) {
    case KN_COL_NUMERIC: {
        double v = c->f64[r];
        if (isnan(v)) return 0;
        if (v == 0) v = 0; /* -0 groups with 0, as its text does */
        memcpy(w, &v, sizeof v);
        return 1;
    }
    case KN_COL_INT64:
    case KN_COL_TIMESTAMP:
        if (c->ts[r] == KN_I64_MISSING) return 0;
        *w = (uint64_t)c->ts[r];
        return 1;
    case KN_COL_CATEGORICAL:
        if (c->codes[r] < 0) return 0;
        *w = (uint64_t)c->codes[r];
        return 1;
    case KN_COL_STRING: {
        size_t len;
        const char *s = kn_column_str(c, r, &len);
        if (!s) return 0;
        if (!d) { /* text keys always come with the table's dictionary */
            *e = kn_fail(KN_ERR_INTERNAL, "group-by: a text key without its dictionary");
            return 0;
        }
        int32_t code;
        if ((*e = kn__dict_intern(d, s, len, &code)) != KN_OK) return 0;
        *w = (uint64_t)code;
        return 1;
    }
    }
    return 0;
}

static void pairset_free(pairset *p)
{
    kn_free(p->g);
    kn_free(p->w);
}

static kn_status pairset_grow(pairset *p)
{
    size_t size = p->size ? 2 * p->size : 1024, mask = size - 1;
    size_t *g = kn_malloc(size * sizeof *g);
    uint64_t *w = kn_malloc(size * sizeof *w);
    if (!g || !w) {
        kn_free(g);
        kn_free(w);
        return KN_ERR_NOMEM;
    }
    for (size_t i = 0; i < size; i++) g[i] = NONE;
    for (size_t i = 0; i < p->size; i++) {
        if (p->g[i] == NONE) continue;
        size_t s = mix(mix(0, p->g[i]), p->w[i]) & mask;
        while (g[s] != NONE) s = (s + 1) & mask;
        g[s] = p->g[i];
        w[s] = p->w[i];
    }
    pairset_free(p);
    p->g = g;
    p->w = w;
    p->size = size;
    return KN_OK;
}

/* Adds (gi, w); 1 when it was new (0 with *e set on failure). */
static int pairset_add(pairset *p, size_t gi, uint64_t w, kn_status *e)
{
    if (2 * (p->n + 1) > p->size && (*e = pairset_grow(p)) != KN_OK) return 0;
    size_t mask = p->size - 1, s = mix(mix(0, gi), w) & mask;
    for (; p->g[s] != NONE; s = (s + 1) & mask)
        if (p->g[s] == gi && p->w[s] == w) return 0;
    p->g[s] = gi;
    p->w[s] = w;
    p->n++;
    return 1;
}

static void astate_free(astate *s)
{
    kn_free(s->cnt);
    kn_free(s->v);
    kn_free(s->mean);
    kn_free(s->iv);
    kn_free(s->dv);
    kn_free(s->have);
    pairset_free(&s->set);
    kn__dict_free(&s->text);
}

static void gstream_free(gstream *g)
{
    for (size_t i = 0; i < g->n_by; i++) kn__dict_free(&g->text[i]);
    kn_free(g->gw);
    kn_free(g->gh);
    kn_free(g->slot);
    kn_free(g->direct);
    for (size_t i = 0; g->ag && i < g->n_aggs; i++) astate_free(&g->ag[i]);
    kn_free(g->ag);
    kn_frame_free(g->out);
}

static kn_status grow_array(void **p, size_t elem, size_t cap)
{
    void *q = kn_realloc(*p, cap * elem);
    if (!q) return KN_ERR_NOMEM;
    *p = q;
    return KN_OK;
}

/* Room for cap groups in every per-group array (new entries initialised). */
static kn_status reserve_groups(gstream *g, size_t want)
{
    if (want <= g->cap) return KN_OK;
    size_t cap = g->cap ? g->cap : 1024, old = g->cap;
    while (cap < want) cap *= 2;
    kn_status e = grow_array((void **)&g->gw, g->n_by * sizeof *g->gw, cap);
    if (e == KN_OK) e = grow_array((void **)&g->gh, sizeof *g->gh, cap);
    for (size_t i = 0; e == KN_OK && i < g->n_aggs; i++) {
        astate *s = &g->ag[i];
        kn_agg_op op = s->a->op;
        if (op == KN_AGG_FIRST || op == KN_AGG_LAST) {
            e = grow_array((void **)&s->have, 1, cap);
            if (e == KN_OK && s->ord != NONE)
                e = s->ord_type == KN_COL_NUMERIC ? grow_array((void **)&s->dv, sizeof *s->dv, cap)
                                                  : grow_array((void **)&s->iv, sizeof *s->iv, cap);
            for (size_t k = old; e == KN_OK && k < cap; k++) s->have[k] = 0;
            continue;
        }
        if (s->int_extreme) {
            e = grow_array((void **)&s->iv, sizeof *s->iv, cap);
            for (size_t k = old; e == KN_OK && k < cap; k++) s->iv[k] = KN_I64_MISSING;
            continue;
        }
        double init = op == KN_AGG_MIN ? INFINITY : op == KN_AGG_MAX ? -INFINITY : 0;
        e = grow_array((void **)&s->cnt, sizeof *s->cnt, cap);
        if (e == KN_OK) e = grow_array((void **)&s->v, sizeof *s->v, cap);
        if (e == KN_OK && op == KN_AGG_STD) e = grow_array((void **)&s->mean, sizeof *s->mean, cap);
        for (size_t k = old; e == KN_OK && k < cap; k++) {
            s->cnt[k] = 0;
            s->v[k] = init;
            if (s->mean) s->mean[k] = 0;
        }
    }
    if (e == KN_OK) g->cap = cap;
    return e;
}

static kn_status rehash(gstream *g)
{
    size_t size = g->n_slots ? 2 * g->n_slots : 1024;
    while (size < 2 * (g->n_groups + 1)) size *= 2;
    size_t mask = size - 1;
    gslot *slot = kn_malloc(size * sizeof *slot);
    if (!slot) return KN_ERR_NOMEM;
    for (size_t i = 0; i < size; i++) slot[i].group = NONE;
    for (size_t gi = 0; gi < g->n_groups; gi++) {
        size_t s = g->gh[gi] & mask;
        while (slot[s].group != NONE) s = (s + 1) & mask;
        slot[s].hash = g->gh[gi];
        slot[s].group = gi;
    }
    kn_free(g->slot);
    g->slot = slot;
    g->n_slots = size;
    return KN_OK;
}

/* A new group with words w (hash h) first seen at batch row r: its id. */
static kn_status new_group(gstream *g, const uint64_t *w, uint64_t h, size_t *reps, size_t *n_reps,
                           size_t r, size_t *id)
{
    kn_status e = reserve_groups(g, g->n_groups + 1);
    if (e != KN_OK) return e;
    size_t gi = g->n_groups++;
    memcpy(g->gw + gi * g->n_by, w, g->n_by * sizeof *w);
    g->gh[gi] = h;
    reps[(*n_reps)++] = r;
    *id = gi;
    return KN_OK;
}

static int same_words(const uint64_t *a, const uint64_t *b, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (a[i] != b[i]) return 0;
    return 1;
}

/* The group of words w (hash h) in the table, made when new. */
static kn_status find_group(gstream *g, const uint64_t *w, uint64_t h, size_t *reps, size_t *n_reps,
                            size_t r, size_t *id)
{
    kn_status e;
    if (2 * (g->n_groups + 1) > g->n_slots && (e = rehash(g)) != KN_OK) return e;
    size_t mask = g->n_slots - 1, n = g->n_by;
    for (size_t s = h & mask;; s = (s + 1) & mask) {
        gslot *sl = &g->slot[s];
        if (sl->group == NONE) {
            if ((e = new_group(g, w, h, reps, n_reps, r, id)) != KN_OK) return e;
            sl->hash = h;
            sl->group = *id;
            return KN_OK;
        }
        if (sl->hash == h && same_words(g->gw + sl->group * n, w, n)) {
            *id = sl->group;
            return KN_OK;
        }
    }
}

/* Row r's value of an integer-like key column (whole numbers, int64, time)
 * as an integer: 1, or 0 when missing (*miss) or not whole. */
static int int_key(const kn_column *c, size_t r, int64_t *x, int *miss)
{
    *miss = 0;
    if (c->type == KN_COL_NUMERIC) {
        double v = c->f64[r];
        if (isnan(v)) return !(*miss = 1);
        if (v != floor(v) || fabs(v) >= 4.6e18) return 0;
        *x = (int64_t)v;
        return 1;
    }
    if (c->ts[r] == KN_I64_MISSING) return !(*miss = 1);
    *x = c->ts[r];
    return 1;
}

/* Make the direct index of an integer key cover batch c's values (with room
 * to grow): 0 when a value is not whole or the span would pass its bound,
 * DIRECT_MAX entries and 16 per group or batch row, so the index stays
 * O(groups) (the caller then hashes). */
static int direct_fit(gstream *g, const kn_column *c, size_t rows, kn_status *e)
{
    int64_t mn = INT64_MAX, mx = INT64_MIN;
    int any = 0;
    for (size_t r = 0; r < rows; r++) {
        int64_t x;
        int miss;
        if (!int_key(c, r, &x, &miss)) {
            if (miss) continue;
            return 0;
        }
        if (x < mn) mn = x;
        if (x > mx) mx = x;
        any = 1;
    }
    if (!any) return 1;
    int64_t lo = g->lo, hi = g->lo + (int64_t)g->n_direct - 1;
    if (g->n_direct && mn >= lo && mx <= hi) return 1;
    if (g->n_direct) {
        if (lo < mn) mn = lo;
        if (hi > mx) mx = hi;
    }
    uint64_t limit = 16 * ((uint64_t)g->n_groups + rows) + 65536;
    if (limit > DIRECT_MAX) limit = DIRECT_MAX;
    if ((uint64_t)mx - (uint64_t)mn >= limit) return 0;
    uint64_t need = (uint64_t)mx - (uint64_t)mn + 1;
    uint64_t span = need + need / 2 < limit ? need + need / 2 : limit, slack = span - need;
    int64_t nlo = mn; /* room above, or below when the values went below */
    if (g->n_direct && mn < lo && (uint64_t)mn - (uint64_t)INT64_MIN > slack)
        nlo = mn - (int64_t)slack;
    if (nlo > INT64_MAX - (int64_t)(span - 1)) nlo = INT64_MAX - (int64_t)(span - 1);
    size_t *d = kn_malloc(span * sizeof *d);
    if (!d) {
        *e = KN_ERR_NOMEM;
        return 0;
    }
    for (uint64_t i = 0; i < span; i++) d[i] = NONE;
    if (g->n_direct) memcpy(d + (lo - nlo), g->direct, g->n_direct * sizeof *d);
    kn_free(g->direct);
    g->direct = d;
    g->n_direct = (size_t)span;
    g->lo = nlo;
    return 1;
}

/* Group ids of a batch's rows into of (NONE: a missing key); the rows where
 * new groups start into reps. One categorical key indexes groups by code,
 * one integer-like key by value while its span stays small; other keys, and
 * an integer key once its span grows, go through the hash table. */
static kn_status assign(gstream *g, const kn_frame *b, size_t *of, size_t *reps, size_t *n_reps)
{
    size_t rows = b->n_rows, n = g->n_by, r = 0;
    const kn_column *cs[64];
    for (size_t i = 0; i < n; i++) cs[i] = b->cols[g->by[i]];
    *n_reps = 0;
    g->rows_seen += rows;
    kn_status e = KN_OK;
    uint64_t w[64];
    if (n == 1 && cs[0]->type == KN_COL_CATEGORICAL) { /* codes index the groups */
        size_t levels = cs[0]->dict.n;
        if (levels > g->n_direct) {
            size_t *d = kn_realloc(g->direct, levels * sizeof *d);
            if (!d) return KN_ERR_NOMEM;
            for (size_t i = g->n_direct; i < levels; i++) d[i] = NONE;
            g->direct = d;
            g->n_direct = levels;
        }
        for (; e == KN_OK && r < rows; r++) {
            int32_t code = cs[0]->codes[r];
            if (code < 0) {
                of[r] = NONE;
                g->dropped++;
                continue;
            }
            if (g->direct[code] == NONE) {
                w[0] = (uint64_t)code;
                e = new_group(g, w, 0, reps, n_reps, r, &g->direct[code]);
            }
            of[r] = g->direct[code];
        }
        return e;
    }
    int integer = n == 1 && cs[0]->type != KN_COL_STRING && !g->hashed;
    if (integer && direct_fit(g, cs[0], rows, &e)) {
        for (; r < rows && e == KN_OK; r++) {
            int64_t x;
            int miss;
            if (!int_key(cs[0], r, &x, &miss)) { /* (missing: direct_fit saw every value) */
                of[r] = NONE;
                g->dropped++;
                continue;
            }
            size_t *slot = &g->direct[x - g->lo];
            if (*slot == NONE) {
                stable_word(cs[0], r, NULL, &w[0], &e); /* the table's word, should it come */
                e = new_group(g, w, mix(0x243f6a8885a308d3u, w[0]), reps, n_reps, r, slot);
            }
            of[r] = *slot;
        }
        return e;
    }
    if (e != KN_OK) return e;
    if (integer) { /* the direct index is left for the table */
        g->hashed = 1;
        kn_free(g->direct);
        g->direct = NULL;
        g->n_direct = 0;
        if ((e = rehash(g)) != KN_OK) return e;
    }
    for (; e == KN_OK && r < rows; r++) {
        int present = 1;
        uint64_t h = 0x243f6a8885a308d3u;
        for (size_t i = 0; i < n && present; i++) {
            present = stable_word(cs[i], r, &g->text[i], &w[i], &e);
            h = mix(h, w[i]);
        }
        if (e != KN_OK) break;
        if (!present) {
            of[r] = NONE;
            g->dropped++;
            continue;
        }
        e = find_group(g, w, h, reps, n_reps, r, &of[r]);
    }
    return e;
}

/* Cell r of s into row i of d (same type). Categorical codes are copied as
 * they are: the result takes the last batch's dictionary, where every code
 * of an earlier batch means the same level. */
static kn_status put_cell(kn_column *d, size_t i, const kn_column *s, size_t r)
{
    if (s->type == KN_COL_CATEGORICAL) {
        d->codes[i] = s->codes[r];
        return KN_OK;
    }
    return kn__column_copy_cell(d, i, s, r);
}

static double as_double(const kn_column *c, size_t r)
{
    if (c->type == KN_COL_NUMERIC) return c->f64[r];
    return c->ts[r] == KN_I64_MISSING ? NAN : (double)c->ts[r];
}

/* One aggregate's update over a batch (rows in order). */
static void update(astate *s, const kn_frame *b, const size_t *of, kn_frame *out, size_t out_col)
{
    size_t rows = b->n_rows;
    kn_agg_op op = s->a->op;
    const kn_column *c = s->col == NONE ? NULL : b->cols[s->col];
    if (op == KN_AGG_FIRST || op == KN_AGG_LAST) {
        const kn_column *o = s->ord == NONE ? NULL : b->cols[s->ord];
        kn_column *d = out->cols[out_col];
        int last = op == KN_AGG_LAST;
        for (size_t r = 0; r < rows && s->e == KN_OK; r++) {
            size_t gi = of[r];
            if (gi == NONE || kn_column_is_missing(c, r)) continue;
            if (o && kn_column_is_missing(o, r)) continue;
            int better = !s->have[gi];
            if (!better && o) {
                int cmp = o->type == KN_COL_NUMERIC
                              ? (o->f64[r] > s->dv[gi]) - (o->f64[r] < s->dv[gi])
                              : (o->ts[r] > s->iv[gi]) - (o->ts[r] < s->iv[gi]);
                better = last ? cmp >= 0 : cmp < 0;
            } else if (!better)
                better = last;
            if (!better) continue;
            s->have[gi] = 1;
            if (o && o->type == KN_COL_NUMERIC)
                s->dv[gi] = o->f64[r];
            else if (o)
                s->iv[gi] = o->ts[r];
            s->e = put_cell(d, gi, c, r);
        }
        return;
    }
    if (s->int_extreme) {
        int max = op == KN_AGG_MAX;
        for (size_t r = 0; r < rows; r++) {
            size_t gi = of[r];
            int64_t x = c->ts[r];
            if (gi == NONE || x == KN_I64_MISSING) continue;
            if (s->iv[gi] == KN_I64_MISSING || (max ? x > s->iv[gi] : x < s->iv[gi])) s->iv[gi] = x;
        }
        return;
    }
    if (op == KN_AGG_NUNIQUE) {
        for (size_t r = 0; r < rows && s->e == KN_OK; r++) {
            uint64_t w;
            if (of[r] == NONE || !stable_word(c, r, &s->text, &w, &s->e)) continue;
            s->cnt[of[r]] += pairset_add(&s->set, of[r], w, &s->e);
        }
        return;
    }
    if (!c || (op == KN_AGG_COUNT && c->type != KN_COL_NUMERIC && c->type != KN_COL_INT64 &&
               c->type != KN_COL_TIMESTAMP)) { /* rows, or present cells of text */
        for (size_t r = 0; r < rows; r++)
            if (of[r] != NONE && (!c || !kn_column_is_missing(c, r))) s->cnt[of[r]]++;
        return;
    }
    double *cnt = s->cnt, *v = s->v;
    for (size_t r = 0; r < rows; r++) { /* as numeric_agg in groupby.c, one row at a time */
        size_t gi = of[r];
        double x = as_double(c, r);
        if (gi == NONE || isnan(x)) continue;
        cnt[gi]++;
        if (op == KN_AGG_SUM || op == KN_AGG_MEAN)
            v[gi] += x;
        else if (op == KN_AGG_MIN) {
            if (x < v[gi]) v[gi] = x;
        } else if (op == KN_AGG_MAX) {
            if (x > v[gi]) v[gi] = x;
        } else if (op == KN_AGG_STD) {
            double d = x - s->mean[gi];
            s->mean[gi] += d / cnt[gi];
            v[gi] += d * (x - s->mean[gi]);
        }
    }
}

/* The aggregates' states as output columns. */
static void finish(gstream *g)
{
    size_t n = g->n_groups;
    for (size_t i = 0; i < g->n_aggs; i++) {
        astate *s = &g->ag[i];
        kn_column *d = g->out->cols[g->out->n_cols - g->n_aggs + i];
        kn_agg_op op = s->a->op;
        if (op == KN_AGG_FIRST || op == KN_AGG_LAST) continue; /* filled as they went */
        if (s->int_extreme) {
            if (n) memcpy(d->ts, s->iv, n * sizeof *d->ts);
            continue;
        }
        for (size_t k = 0; k < n; k++) {
            double c = s->cnt[k], v = s->v[k];
            if (op == KN_AGG_COUNT || op == KN_AGG_NUNIQUE)
                v = c;
            else if (op == KN_AGG_MEAN)
                v = c ? v / c : NAN;
            else if (op == KN_AGG_STD)
                v = c > 1 ? sqrt(v / (c - 1)) : NAN;
            else if ((op == KN_AGG_MIN || op == KN_AGG_MAX) && !c)
                v = NAN;
            d->f64[k] = v;
        }
    }
}

/* Set up g from the schema and the template result (its columns). */
static kn_status setup(gstream *g, const kn_frame *schema, const char *const *by, size_t n_by,
                       const kn_agg *aggs, size_t n_aggs)
{
    g->n_by = n_by;
    for (size_t i = 0; i < n_by; i++) {
        kn__dict_init(&g->text[i]);
        if (kn_frame_find(schema, by[i], &g->by[i]) != KN_OK) return KN_ERR_NOT_FOUND;
    }
    /* output key columns are in frame order */
    size_t k = 0;
    for (size_t j = 0; j < schema->n_cols; j++)
        for (size_t i = 0; i < n_by; i++)
            if (g->by[i] == j) {
                for (size_t q = 0; q < n_by; q++)
                    if (g->by[q] == j) g->key_out[q] = k;
                k++;
                break;
            }
    g->n_aggs = n_aggs;
    g->ag = kn_calloc(n_aggs ? n_aggs : 1, sizeof *g->ag);
    if (!g->ag) return KN_ERR_NOMEM;
    for (size_t i = 0; i < n_aggs; i++) {
        astate *s = &g->ag[i];
        s->a = &aggs[i];
        s->col = s->ord = NONE;
        kn__dict_init(&s->text);
        if (aggs[i].column && kn_frame_find(schema, aggs[i].column, &s->col) != KN_OK)
            return KN_ERR_NOT_FOUND;
        if (s->col != NONE) s->type = schema->cols[s->col]->type;
        if (aggs[i].order_by && (aggs[i].op == KN_AGG_FIRST || aggs[i].op == KN_AGG_LAST)) {
            if (kn_frame_find(schema, aggs[i].order_by, &s->ord) != KN_OK) return KN_ERR_NOT_FOUND;
            s->ord_type = schema->cols[s->ord]->type;
        }
        s->int_extreme = (aggs[i].op == KN_AGG_MIN || aggs[i].op == KN_AGG_MAX) &&
                         (s->type == KN_COL_INT64 || s->type == KN_COL_TIMESTAMP);
    }
    return KN_OK;
}

/* The error for groups that do not fit under the memory budget. */
static kn_status over_budget(const gstream *g)
{
    uint64_t limit = kn_mem_limit();
    if (!limit) return KN_ERR_NOMEM;
    char msg[1024];
    snprintf(msg, sizeof msg, "%s", kn_last_error());
    return kn_fail(KN_ERR_NOMEM,
                   "group by: %zu groups so far hold %.1f MiB of keys and aggregate states "
                   "(nunique: every distinct value per group), past the memory limit of %.1f MiB "
                   "(%s); raise --memory-limit (or KILN_MEMORY_LIMIT), group by fewer or "
                   "coarser keys, or group the file with kn_file_group_by_spill (a prep spec "
                   "does), which partitions its rows to disk",
                   g->n_groups, (double)kn_mem_live() / 1048576.0, (double)limit / 1048576.0, msg);
}

kn_status kn_reader_group_by(kn_reader *rd, const char *const *by, size_t n_by, const kn_agg *aggs,
                             size_t n_aggs, kn_frame **out, size_t *dropped)
{
    const kn_frame *schema = kn_reader_schema(rd);
    gstream g = {0};
    /* the in-memory group-by of no rows: its checks, columns and types */
    kn_status e = kn_frame_group_by(schema, by, n_by, aggs, n_aggs, &g.out, NULL);
    if (e != KN_OK) return e;
    e = setup(&g, schema, by, n_by, aggs, n_aggs);
    kn_frame *b = NULL, *prev = NULL;
    size_t *of = NULL, *reps = NULL, cap_rows = 0;
    while (e == KN_OK && (e = kn_reader_next(rd, &b)) == KN_OK && b) {
        if (b->n_rows > cap_rows) {
            cap_rows = b->n_rows;
            kn_free(of);
            kn_free(reps);
            of = kn_malloc(cap_rows * sizeof *of);
            reps = kn_malloc(cap_rows * sizeof *reps);
            if (!of || !reps) e = KN_ERR_NOMEM;
        }
        size_t n_reps = 0, before = g.n_groups;
        if (e == KN_OK) e = assign(&g, b, of, reps, &n_reps);
        if (e == KN_OK) e = kn_frame_resize(g.out, g.n_groups);
        for (size_t i = 0; e == KN_OK && i < g.n_by; i++) {
            kn_column *d = g.out->cols[g.key_out[i]];
            for (size_t k = 0; e == KN_OK && k < n_reps; k++)
                e = put_cell(d, before + k, b->cols[g.by[i]], reps[k]);
        }
        if (e == KN_OK) {
            long long na = (long long)n_aggs;
#pragma omp parallel for schedule(dynamic, 1) if (b->n_rows * n_aggs > 262144)
            for (long long i = 0; i < na; i++)
                update(&g.ag[i], b, of, g.out, g.out->n_cols - n_aggs + (size_t)i);
            for (size_t i = 0; i < n_aggs && e == KN_OK; i++) e = g.ag[i].e;
        }
        kn_frame_free(prev); /* the last batch is kept for its dictionaries */
        prev = b;
        b = NULL;
    }
    if (e == KN_OK) finish(&g);
    /* categorical results take the last batch's dictionaries (every level read) */
    for (size_t j = 0; e == KN_OK && prev && j < g.out->n_cols; j++) {
        kn_column *d = g.out->cols[j];
        if (d->type != KN_COL_CATEGORICAL) continue;
        size_t nk = g.out->n_cols - n_aggs; /* (repeated by columns appear once) */
        size_t src = j < nk ? NONE : g.ag[j - nk].col;
        for (size_t i = 0; i < n_by && src == NONE; i++)
            if (g.key_out[i] == j) src = g.by[i];
        kn__dict_free(&d->dict);
        e = kn__dict_copy(&d->dict, &prev->cols[src]->dict);
    }
    kn_frame_free(prev);
    kn_frame_free(b);
    kn_free(of);
    kn_free(reps);
    if (e == KN_ERR_NOMEM) e = over_budget(&g);
    if (e == KN_OK) {
        *out = g.out;
        g.out = NULL;
        if (dropped) *dropped = (size_t)g.dropped;
    }
    gstream_free(&g);
    return e;
}
