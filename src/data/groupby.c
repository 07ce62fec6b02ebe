/* Group-by aggregation (see kiln/combine.h): rows are grouped by the
 * canonical text of their key (keys-impl.h); each aggregation is one pass. */
#include "data/frame-impl.h"
#include "data/keys-impl.h"
#include "kiln/combine.h"
#include "kiln/mem.h"

#include <math.h>
#include <string.h>

static const char *op_names[] = {"count", "sum",     "mean",  "min", "max",
                                 "std",   "nunique", "first", "last"};

const char *kn_agg_op_name(kn_agg_op op)
{
    return (unsigned)op < sizeof op_names / sizeof *op_names ? op_names[op] : "?";
}

kn_status kn_agg_op_parse(const char *name, kn_agg_op *op)
{
    for (size_t i = 0; i < sizeof op_names / sizeof *op_names; i++)
        if (!strcmp(name, op_names[i])) {
            *op = (kn_agg_op)i;
            return KN_OK;
        }
    return kn_fail(KN_ERR_INVALID,
                   "aggregation '%s' is not one of count, sum, mean, min, max, std, nunique, "
                   "first, last",
                   name);
}

typedef struct groups {
    size_t n;    /* groups */
    size_t *of;  /* per row: its group, or MISSING_KEY (missing key) */
    size_t *rep; /* per group: its first row */
} groups;

static void groups_free(groups *g)
{
    kn_free(g->of);
    kn_free(g->rep);
}

static kn_status find_cols(const kn_frame *f, const char *const *names, size_t n, size_t *cols)
{
    for (size_t i = 0; i < n; i++)
        if (kn_frame_find(f, names[i], &cols[i]) != KN_OK)
            return kn_fail_prefix(KN_ERR_NOT_FOUND, "group by: ");
    return KN_OK;
}

/* Group ids per row over cols, groups numbered in order of first appearance:
 * by words when every key column allows it, else by canonical text. */
static kn_status group_rows(const kn_frame *f, const size_t *cols, size_t n, groups *g)
{
    size_t rows = f->n_rows;
    const kn_column *cs[KN__KEYS_MAX];
    for (size_t i = 0; i < n; i++) cs[i] = f->cols[cols[i]];
    g->of = kn_malloc((rows ? rows : 1) * sizeof *g->of);
    g->rep = kn_malloc((rows ? rows : 1) * sizeof *g->rep);
    kn_status e = g->of && g->rep ? KN_OK : KN_ERR_NOMEM;
    g->n = 0;
    if (e == KN_OK && kn__words_usable(cs, cs, n)) {
        kn__views v;
        kn__words w = {0};
        e = kn__views_make(cs, rows, n, &v);
        if (e == KN_OK) e = kn__words_build(v.c, rows, v.c, rows, n, 0, &w);
        if (e == KN_OK) e = kn__words_group(&w, g->of, g->rep, &g->n);
        kn__words_free(&w);
        kn__views_free(&v);
        return e;
    }
    kn__keys k = {0};
    kn__table t = {0};
    if (e == KN_OK) e = kn__keys_build(f, cols, cs, n, &k);
    if (e == KN_OK) e = kn__table_build(&k, &t);
    for (size_t r = 0; e == KN_OK && r < rows; r++) {
        if (k.len[r] == MISSING_KEY) {
            g->of[r] = MISSING_KEY;
            continue;
        }
        size_t first = kn__table_find(&t, &k, &k, r);
        if (first == r) {
            g->rep[g->n] = r;
            g->of[r] = g->n++;
        } else
            g->of[r] = g->of[first];
    }
    kn__keys_free(&k);
    kn__table_free(&t);
    return e;
}

static kn_status numeric_input(const kn_agg *a, const kn_column *c, int allow_time)
{
    if (c->type == KN_COL_NUMERIC || c->type == KN_COL_INT64 ||
        (allow_time && c->type == KN_COL_TIMESTAMP))
        return KN_OK;
    return kn_fail(KN_ERR_TYPE, "group by: %s of '%s' needs a numeric column; it is %s",
                   kn_agg_op_name(a->op), a->column, kn_col_type_name(c->type));
}

/* A numeric, int64 or time cell as a double (sums and means of int64 values
 * beyond 2^53 round; min, max and ordering use the exact values). */
static double cell(const kn_column *c, size_t r)
{
    if (c->type == KN_COL_NUMERIC) return c->f64[r];
    return c->ts[r] == KN_TS_MISSING ? NAN : (double)c->ts[r];
}

/* -1, 0, 1 as row x's order value is below, equal to or above row y's (both present). */
static int order_cmp(const kn_column *c, size_t x, size_t y)
{
    if (c->type == KN_COL_NUMERIC) return (c->f64[x] > c->f64[y]) - (c->f64[x] < c->f64[y]);
    return (c->ts[x] > c->ts[y]) - (c->ts[x] < c->ts[y]);
}

/* Exact min or max of an int64 or time column per group into dst. */
static void int_extreme(const kn_column *c, const groups *g, size_t rows, int max, int64_t *dst)
{
    for (size_t i = 0; i < g->n; i++) dst[i] = KN_I64_MISSING;
    for (size_t r = 0; r < rows; r++) {
        size_t gi = g->of[r];
        int64_t x = c->ts[r];
        if (gi == MISSING_KEY || x == KN_I64_MISSING) continue;
        if (dst[gi] == KN_I64_MISSING || (max ? x > dst[gi] : x < dst[gi])) dst[gi] = x;
    }
}

/* count, sum, mean, min, max, std into out[g], one loop per operation over
 * the column's values (x: the cells as doubles, NaN missing; NULL for rows). */
static void numeric_agg(kn_agg_op op, const double *x, const groups *g, size_t rows, double *out,
                        double *cnt, double *mean)
{
    size_t n = g->n;
    const size_t *of = g->of;
    double init = op == KN_AGG_MIN ? INFINITY : op == KN_AGG_MAX ? -INFINITY : 0;
    for (size_t i = 0; i < n; i++) {
        cnt[i] = 0;
        mean[i] = 0;
        out[i] = init;
    }
    if (!x) {
        for (size_t r = 0; r < rows; r++)
            if (of[r] != MISSING_KEY) cnt[of[r]]++;
    } else if (op == KN_AGG_SUM || op == KN_AGG_MEAN) {
        for (size_t r = 0; r < rows; r++) {
            size_t gi = of[r];
            if (gi == MISSING_KEY || isnan(x[r])) continue;
            cnt[gi]++;
            out[gi] += x[r];
        }
    } else if (op == KN_AGG_MIN) {
        for (size_t r = 0; r < rows; r++) {
            size_t gi = of[r];
            if (gi == MISSING_KEY || isnan(x[r])) continue;
            cnt[gi]++;
            if (x[r] < out[gi]) out[gi] = x[r];
        }
    } else if (op == KN_AGG_MAX) {
        for (size_t r = 0; r < rows; r++) {
            size_t gi = of[r];
            if (gi == MISSING_KEY || isnan(x[r])) continue;
            cnt[gi]++;
            if (x[r] > out[gi]) out[gi] = x[r];
        }
    } else if (op == KN_AGG_STD) {
        for (size_t r = 0; r < rows; r++) { /* Welford */
            size_t gi = of[r];
            if (gi == MISSING_KEY || isnan(x[r])) continue;
            cnt[gi]++;
            double d = x[r] - mean[gi];
            mean[gi] += d / cnt[gi];
            out[gi] += d * (x[r] - mean[gi]);
        }
    } else { /* count of a column's present cells */
        for (size_t r = 0; r < rows; r++)
            if (of[r] != MISSING_KEY && !isnan(x[r])) cnt[of[r]]++;
    }
    for (size_t i = 0; i < n; i++) {
        if (op == KN_AGG_COUNT)
            out[i] = cnt[i];
        else if (op == KN_AGG_MEAN)
            out[i] = cnt[i] ? out[i] / cnt[i] : NAN;
        else if (op == KN_AGG_STD)
            out[i] = cnt[i] > 1 ? sqrt(out[i] / (cnt[i] - 1)) : NAN;
        else if ((op == KN_AGG_MIN || op == KN_AGG_MAX) && !cnt[i])
            out[i] = NAN;
    }
}

/* Distinct non-missing values per group: rows first of their (key, value). */
static kn_status nunique(const kn_frame *f, const size_t *by, size_t n_by, size_t col,
                         const groups *g, double *out)
{
    size_t cols[65];
    memcpy(cols, by, n_by * sizeof *by);
    cols[n_by] = col;
    groups pairs = {0};
    kn_status e = group_rows(f, cols, n_by + 1, &pairs);
    for (size_t i = 0; i < g->n; i++) out[i] = 0;
    for (size_t p = 0; e == KN_OK && p < pairs.n; p++) out[g->of[pairs.rep[p]]]++;
    groups_free(&pairs);
    return e;
}

/* first/last: per group, the chosen row of a non-missing value (MISSING_KEY if none). */
static kn_status pick_rows(const kn_agg *a, const kn_frame *f, const kn_column *c, const groups *g,
                           size_t *pick)
{
    const kn_column *ord = NULL;
    if (a->order_by) {
        size_t j;
        if (kn_frame_find(f, a->order_by, &j) != KN_OK)
            return kn_fail_prefix(KN_ERR_NOT_FOUND, "group by: %s order: ", a->name);
        ord = f->cols[j];
        if (ord->type != KN_COL_NUMERIC && ord->type != KN_COL_TIMESTAMP &&
            ord->type != KN_COL_INT64)
            return kn_fail(KN_ERR_TYPE, "group by: order '%s' must be numeric or time",
                           a->order_by);
    }
    int last = a->op == KN_AGG_LAST;
    for (size_t i = 0; i < g->n; i++) pick[i] = MISSING_KEY;
    for (size_t r = 0; r < f->n_rows; r++) {
        size_t gi = g->of[r];
        if (gi == MISSING_KEY || kn_column_is_missing(c, r)) continue;
        if (ord && kn_column_is_missing(ord, r)) continue;
        size_t cur = pick[gi];
        int better = cur == MISSING_KEY;
        if (!better && ord) {
            int cmp = order_cmp(ord, r, cur);
            better = last ? cmp >= 0 : cmp < 0;
        } else if (!better)
            better = last;
        if (better) pick[gi] = r;
    }
    return KN_OK;
}

/* Column j of f at the given rows (MISSING_KEY: missing), moved into out as `name`. */
static kn_status take_rows(const kn_frame *f, size_t j, const size_t *rows, size_t n,
                           const char *name, kn_frame *out)
{
    kn_frame *one = NULL, *sel = NULL;
    size_t *idx = kn_malloc((n ? n : 1) * sizeof *idx);
    kn_status e = idx ? kn_frame_select_cols(f, &j, 1, &one) : KN_ERR_NOMEM;
    if (e == KN_OK) e = kn_frame_resize(one, f->n_rows + 1);
    for (size_t i = 0; e == KN_OK && i < n; i++)
        idx[i] = rows[i] == MISSING_KEY ? f->n_rows : rows[i];
    if (e == KN_OK) e = kn_frame_select_rows(one, idx, n, &sel);
    if (e == KN_OK) e = kn_frame_take_column(out, sel, 0, name);
    kn_frame_free(one);
    kn_frame_free(sel);
    kn_free(idx);
    return e;
}

/* An aggregation computed ahead, on the team (numeric_agg into v). */
typedef struct ahead {
    const double *x; /* the column as doubles (NULL: rows) */
    double *owned;   /* x when converted here */
    double *v;       /* 3 * groups: values, counts, means */
    int on;
} ahead;

/* Sets up h for aggregations numeric_agg computes into a numeric column;
 * leaves h->on 0 for the others (and for errors, which aggregate() reports). */
static kn_status prepare(const kn_frame *f, const kn_agg *a, const groups *g, ahead *h)
{
    size_t col;
    const kn_column *c = NULL;
    if (a->op > KN_AGG_STD) return KN_OK;
    if (a->column) {
        if (kn_frame_find(f, a->column, &col) != KN_OK) return KN_OK;
        c = f->cols[col];
        int numeric = c->type == KN_COL_NUMERIC || c->type == KN_COL_INT64;
        int time = c->type == KN_COL_TIMESTAMP;
        if ((a->op == KN_AGG_MIN || a->op == KN_AGG_MAX) && c->type != KN_COL_NUMERIC) return KN_OK;
        if (!numeric && !(time && a->op == KN_AGG_COUNT)) return KN_OK;
    } else if (a->op != KN_AGG_COUNT)
        return KN_OK;
    size_t rows = f->n_rows;
    if (c && c->type != KN_COL_NUMERIC) {
        if (!(h->owned = kn_malloc((rows ? rows : 1) * sizeof *h->owned))) return KN_ERR_NOMEM;
        for (size_t r = 0; r < rows; r++) h->owned[r] = cell(c, r);
        h->x = h->owned;
    } else if (c)
        h->x = c->f64;
    if (!(h->v = kn_malloc(3 * (g->n ? g->n : 1) * sizeof *h->v))) return KN_ERR_NOMEM;
    h->on = 1;
    return KN_OK;
}

static kn_status aggregate(const kn_frame *f, const size_t *by, size_t n_by, const kn_agg *a,
                           const groups *g, const ahead *h, kn_frame *out)
{
    if (h->on) {
        kn_column *dst;
        kn_status e = kn_frame_add_column(out, a->name, KN_COL_NUMERIC, &dst);
        if (e == KN_OK && g->n) memcpy(kn_column_f64(dst), h->v, g->n * sizeof *h->v);
        return e;
    }
    const kn_column *c = NULL;
    size_t col = 0;
    if (a->column) {
        if (kn_frame_find(f, a->column, &col) != KN_OK)
            return kn_fail_prefix(KN_ERR_NOT_FOUND, "group by: %s: ", a->name);
        c = f->cols[col];
    } else if (a->op != KN_AGG_COUNT)
        return kn_fail(KN_ERR_INVALID, "group by: %s: %s needs a column", a->name,
                       kn_agg_op_name(a->op));
    if (a->op == KN_AGG_FIRST || a->op == KN_AGG_LAST) {
        size_t *pick = kn_malloc((g->n ? g->n : 1) * sizeof *pick);
        if (!pick) return KN_ERR_NOMEM;
        kn_status e = pick_rows(a, f, c, g, pick);
        if (e == KN_OK) e = take_rows(f, col, pick, g->n, a->name, out);
        kn_free(pick);
        return e;
    }
    kn_status e = KN_OK;
    if (c && a->op != KN_AGG_COUNT && a->op != KN_AGG_NUNIQUE)
        e = numeric_input(a, c, a->op == KN_AGG_MIN || a->op == KN_AGG_MAX);
    if (e != KN_OK) return e;
    int extreme = a->op == KN_AGG_MIN || a->op == KN_AGG_MAX;
    kn_col_type type = c && extreme && (c->type == KN_COL_TIMESTAMP || c->type == KN_COL_INT64)
                           ? c->type
                           : KN_COL_NUMERIC;
    kn_column *dst;
    e = kn_frame_add_column(out, a->name, type, &dst);
    if (e != KN_OK) return e;
    if (type != KN_COL_NUMERIC) {
        int_extreme(c, g, f->n_rows, a->op == KN_AGG_MAX, dst->ts);
        return KN_OK;
    }
    size_t n = g->n;
    double *v = kn_malloc(3 * (n ? n : 1) * sizeof *v);
    if (!v) return KN_ERR_NOMEM;
    if (a->op == KN_AGG_NUNIQUE)
        e = nunique(f, by, n_by, col, g, v);
    else if (a->op == KN_AGG_COUNT && c) {
        for (size_t i = 0; i < n; i++) v[i] = 0;
        for (size_t r = 0; r < f->n_rows; r++)
            if (g->of[r] != MISSING_KEY && !kn_column_is_missing(c, r)) v[g->of[r]]++;
    } else
        numeric_agg(a->op, NULL, g, f->n_rows, v, v + n, v + 2 * n); /* count of rows */
    for (size_t i = 0; e == KN_OK && i < n; i++) kn_column_f64(dst)[i] = v[i];
    kn_free(v);
    return e;
}

kn_status kn_frame_group_by(const kn_frame *f, const char *const *by, size_t n_by,
                            const kn_agg *aggs, size_t n_aggs, kn_frame **out, size_t *dropped)
{
    if (n_by == 0 || n_by > 64) return kn_fail(KN_ERR_INVALID, "group by: give 1 to 64 columns");
    size_t cols[64];
    kn_status e = find_cols(f, by, n_by, cols);
    if (e != KN_OK) return e;
    groups g = {0};
    kn_frame *res = NULL;
    e = group_rows(f, cols, n_by, &g);
    /* the key columns (in frame order) of each group's first row, read
     * through a view of f that holds only them */
    kn_column *keycols[64];
    kn_frame view = {f->n_rows, 0, 64, keycols, NULL, NULL};
    for (size_t j = 0; j < f->n_cols; j++) {
        int is_key = 0;
        for (size_t i = 0; i < n_by; i++) is_key |= cols[i] == j;
        if (is_key) keycols[view.n_cols++] = f->cols[j];
    }
    if (e == KN_OK) e = kn_frame_select_rows(&view, g.rep, g.n, &res);
    /* the numeric aggregations first, one per worker (each in row order, so
     * the same bytes on any team), then every column in the order asked */
    ahead *h = e == KN_OK ? kn_calloc(n_aggs ? n_aggs : 1, sizeof *h) : NULL;
    if (e == KN_OK && !h) e = KN_ERR_NOMEM;
    size_t work = 0;
    for (size_t i = 0; e == KN_OK && i < n_aggs; i++) {
        e = prepare(f, &aggs[i], &g, &h[i]);
        work += h[i].on ? f->n_rows : 0;
    }
    if (e == KN_OK) {
        long long na = (long long)n_aggs;
#pragma omp parallel for schedule(dynamic, 1) if (work > 262144)
        for (long long i = 0; i < na; i++)
            if (h[i].on)
                numeric_agg(aggs[i].op, h[i].x, &g, f->n_rows, h[i].v, h[i].v + g.n,
                            h[i].v + 2 * g.n);
    }
    for (size_t i = 0; e == KN_OK && i < n_aggs; i++)
        e = aggregate(f, cols, n_by, &aggs[i], &g, &h[i], res);
    for (size_t i = 0; h && i < n_aggs; i++) {
        kn_free(h[i].owned);
        kn_free(h[i].v);
    }
    kn_free(h);
    if (e == KN_OK && dropped) {
        *dropped = 0;
        for (size_t r = 0; r < f->n_rows; r++) *dropped += g.of[r] == MISSING_KEY;
    }
    groups_free(&g);
    if (e != KN_OK) {
        kn_frame_free(res);
        return e;
    }
    *out = res;
    return KN_OK;
}
