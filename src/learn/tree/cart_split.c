/* A CART node's best split (cart-impl.h): impurities, exact and binned
 * scans, missing values, sets of levels, random thresholds. */
#include "learn/tree/cart-impl.h"

#include "kiln/mem.h"
#include "learn/tree/radix.h"

#include <float.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

static int absolute(const grower *g)
{
    return g->par->criterion == KN__CRIT_ABSOLUTE;
}

/* Absolute error: minus the children's summed deviations, the growing
 * set of g->ranked being the left child. */
static double absolute_proxy(const grower *g)
{
    double med;
    return -(kn__ranked_deviation(&g->ranked, 0, &med) + kn__ranked_deviation(&g->ranked, 1, &med));
}

/* Absolute error: the weighted median and deviation / weight of rows[b, e)
 * (ranks them: g->ranked then describes this set). */
static double absolute_impurity(grower *g, uint32_t b, uint32_t e, double *median)
{
    kn__ranked_node(&g->ranked, g->rows + b, e - b, g->d->y, g->w, g->rank_of);
    double W = g->ranked.cw[e - b];
    double dev = kn__ranked_node_deviation(&g->ranked, median);
    return W > 0 ? dev / W : 0;
}

static void add_row(const grower *g, double *st, uint32_t r)
{
    double w = g->w[r];
    st[0] += w;
    if (g->d->k)
        st[1 + (size_t)g->d->y[r]] += w;
    else
        st[1] += w * g->d->y[r];
}

/* Impurity of a row set from its stats (sq: sum w y^2, regression). */
static double impurity(const grower *g, const double *st, double sq)
{
    double W = st[0];
    if (!(W > 0)) return 0;
    if (g->par->criterion == KN__CRIT_SQUARED) {
        double mean = st[1] / W;
        return sq / W - mean * mean;
    }
    double acc = 0;
    for (size_t c = 0; c < g->d->k; c++) {
        double q = st[1 + c] / W;
        if (g->par->criterion == KN__CRIT_GINI)
            acc += q * q;
        else if (q > 0)
            acc -= q * log2(q);
    }
    return g->par->criterion == KN__CRIT_GINI ? 1 - acc : acc;
}

/* Stats and sum w y^2 of rows[b, e). */
static double row_stats(const grower *g, uint32_t b, uint32_t e, double *st)
{
    double sq = 0;
    memset(st, 0, g->S * sizeof *st);
    for (uint32_t t = b; t < e; t++) {
        uint32_t r = g->rows[t];
        add_row(g, st, r);
        if (!g->d->k) sq += g->w[r] * g->d->y[r] * g->d->y[r];
    }
    return sq;
}

/* What the split's children contribute, larger is better: minus their
 * weighted impurities, up to a constant (scikit-learn's "proxy"). */
static double proxy(const grower *g, const double *l, const double *t)
{
    double wl = l[0], wr = t[0] - l[0], acc = 0;
    if (g->par->criterion == KN__CRIT_SQUARED) {
        double sr = t[1] - l[1];
        return l[1] * l[1] / wl + sr * sr / wr;
    }
    for (size_t c = 1; c < g->S; c++) {
        double a = l[c], b = t[c] - l[c];
        if (g->par->criterion == KN__CRIT_GINI)
            acc += a * a / wl + b * b / wr;
        else {
            if (a > 0) acc += a * log(a / wl);
            if (b > 0) acc += b * log(b / wr);
        }
    }
    return acc;
}

static void consider(best_split *b, double pr, int32_t feature, double threshold, uint8_t bin,
                     int miss)
{
    if (pr > b->proxy) {
        b->proxy = pr;
        b->feature = feature;
        b->threshold = threshold;
        b->bin = bin;
        b->miss = (uint8_t)miss;
        b->categorical = 0;
    }
}

static int cmp_keyed(const void *a, const void *b)
{
    const keyed *x = a, *y = b;
    if (x->key != y->key) return x->key < y->key ? -1 : 1;
    return (x->row > y->row) - (x->row < y->row);
}

static void insertion_sort(keyed *v, size_t m)
{
    for (size_t i = 1; i < m; i++) {
        keyed t = v[i];
        size_t j = i;
        while (j > 0 && cmp_keyed(&v[j - 1], &t) > 0) {
            v[j] = v[j - 1];
            j--;
        }
        v[j] = t;
    }
}

/* Every boundary of the sorted keys (kind: KEY_*) of the node's m rows
 * with a value; only >= 0: the boundary after that key alone. The node's
 * nm missing rows (g->miss, stats g->miss_st) join the left child
 * (miss_left) or the right; on the right, the split of every value from
 * the missing ones is tried too (threshold +inf; levels: all of them). */
static inline __attribute__((always_inline)) void scan_keys(grower *g, size_t j, size_t m, int kind,
                                                            best_split *b, size_t nm, int miss_left,
                                                            double only)
{
    const keyed *s = g->sorted;
    size_t msl = g->par->min_samples_leaf, ml = miss_left ? nm : 0, mr = nm - ml;
    int miss = !nm ? MISS_NONE : miss_left ? MISS_LEFT : MISS_RIGHT;
    double gap = kind == KEY_EXACT ? FEATURE_EPS : 0.5;
    memset(g->left, 0, g->S * sizeof *g->left);
    if (absolute(g)) kn__ranked_clear(&g->ranked);
    if (ml) {
        memcpy(g->left, g->miss_st, g->S * sizeof *g->left);
        for (size_t i = 0; absolute(g) && i < ml; i++)
            kn__ranked_add(&g->ranked, g->rank_of[g->miss[i]], g->w[g->miss[i]]);
    }
    for (size_t i = 0; i + 1 < m; i++) {
        add_row(g, g->left, s[i].row);
        if (absolute(g)) kn__ranked_add(&g->ranked, g->rank_of[s[i].row], g->w[s[i].row]);
        if (!(s[i + 1].key > s[i].key + gap) || i + 1 + ml < msl || m - i - 1 + mr < msl) continue;
        if (only >= 0 && s[i].key != only) continue;
        if (!(g->left[0] > 0) || !(g->total[0] - g->left[0] > 0)) continue;
        double pr = absolute(g) ? absolute_proxy(g) : proxy(g, g->left, g->total);
        if (!(pr > b->proxy)) continue;
        double thr;
        if (kind == KEY_BINNED)
            thr = g->d->bins->edges[j * KN__EDGE_STRIDE + (size_t)s[i].key];
        else if (kind == KEY_LEVEL)
            thr = s[i].key;
        else {
            thr = s[i].key / 2 + s[i + 1].key / 2;
            if (thr >= s[i + 1].key || isinf(thr)) thr = s[i].key;
        }
        consider(b, pr, (int32_t)j, thr, (uint8_t)s[i].key, miss);
    }
    if (!mr || only >= 0 || m < msl || mr < msl) return;
    add_row(g, g->left, s[m - 1].row); /* every value left, the missing right */
    if (absolute(g)) kn__ranked_add(&g->ranked, g->rank_of[s[m - 1].row], g->w[s[m - 1].row]);
    if (!(g->left[0] > 0) || !(g->total[0] - g->left[0] > 0)) return;
    double pr = absolute(g) ? absolute_proxy(g) : proxy(g, g->left, g->total);
    if (kind == KEY_LEVEL)
        consider(b, pr, (int32_t)j, s[m - 1].key, (uint8_t)s[m - 1].key, miss);
    else
        consider(b, pr, (int32_t)j, INFINITY, KN__MAX_BINS - 1, miss);
}

/* scan_keys without missing rows: the hot path, compiled without their
 * tests. */
static void scan_sorted(grower *g, size_t j, size_t m, int kind, best_split *b)
{
    scan_keys(g, j, m, kind, b, 0, 0, -1);
}

/* scan_keys with missing rows or levels. */
static void scan_missing(grower *g, size_t j, size_t m, int kind, best_split *b, size_t nm,
                         int miss_left, double only)
{
    scan_keys(g, j, m, kind, b, nm, miss_left, only);
}

/* The binned boundaries of feature j from a histogram of the node. */
static void scan_hist(grower *g, size_t j, uint32_t b0, uint32_t e0, best_split *b)
{
    size_t S = g->S, nb = g->d->bins->n_bins[j], p = g->d->p, m = e0 - b0;
    size_t msl = g->par->min_samples_leaf;
    memset(g->hist, 0, nb * S * sizeof *g->hist);
    memset(g->hist_n, 0, nb * sizeof *g->hist_n);
    for (uint32_t t = b0; t < e0; t++) {
        uint32_t r = g->rows[t];
        uint8_t c = g->d->codes[(size_t)r * p + j];
        g->hist_n[c]++;
        add_row(g, g->hist + (size_t)c * S, r);
    }
    memset(g->left, 0, S * sizeof *g->left);
    size_t nl = 0;
    for (size_t c = 0; c + 1 < nb; c++) {
        if (!g->hist_n[c]) continue;
        nl += g->hist_n[c];
        for (size_t s = 0; s < S; s++) g->left[s] += g->hist[c * S + s];
        if (nl >= m) break;
        if (nl < msl || m - nl < msl) continue;
        if (!(g->left[0] > 0) || !(g->total[0] - g->left[0] > 0)) continue;
        consider(b, proxy(g, g->left, g->total), (int32_t)j,
                 g->d->bins->edges[j * KN__EDGE_STRIDE + c], (uint8_t)c, MISS_NONE);
    }
}

/* One uniform threshold between the node's extremes of feature j. */
static void scan_random(grower *g, size_t j, uint32_t b0, uint32_t e0, double lo, double hi,
                        best_split *b)
{
    const double *x = g->d->col[j];
    double thr = lo + (hi - lo) * kn_rng_uniform(&g->rng);
    if (thr >= hi) thr = lo;
    size_t nl = 0, m = e0 - b0, msl = g->par->min_samples_leaf;
    memset(g->left, 0, g->S * sizeof *g->left);
    if (absolute(g)) kn__ranked_clear(&g->ranked);
    for (uint32_t t = b0; t < e0; t++) {
        uint32_t r = g->rows[t];
        if (x[r] <= thr) {
            add_row(g, g->left, r);
            if (absolute(g)) kn__ranked_add(&g->ranked, g->rank_of[r], g->w[r]);
            nl++;
        }
    }
    if (nl < msl || m - nl < msl || !(g->left[0] > 0) || !(g->total[0] - g->left[0] > 0)) return;
    consider(b, absolute(g) ? absolute_proxy(g) : proxy(g, g->left, g->total), (int32_t)j, thr, 0,
             MISS_NONE);
}

/* scan_random for a feature with nm missing rows in the node: its m
 * values at g->sorted (any order), lo and hi their extremes; the drawn
 * threshold is tried with the missing rows right, then left. */
static void scan_random_missing(grower *g, size_t j, size_t m, size_t nm, double lo, double hi,
                                best_split *b)
{
    double thr = lo + (hi - lo) * kn_rng_uniform(&g->rng);
    if (thr >= hi) thr = lo;
    size_t nl = 0, msl = g->par->min_samples_leaf;
    memset(g->left, 0, g->S * sizeof *g->left);
    if (absolute(g)) kn__ranked_clear(&g->ranked);
    for (size_t t = 0; t < m; t++) {
        uint32_t r = g->sorted[t].row;
        if (g->sorted[t].key <= thr) {
            add_row(g, g->left, r);
            if (absolute(g)) kn__ranked_add(&g->ranked, g->rank_of[r], g->w[r]);
            nl++;
        }
    }
    for (int side = MISS_RIGHT; side <= MISS_LEFT; side++) {
        if (side == MISS_LEFT) {
            for (size_t s = 0; s < g->S; s++) g->left[s] += g->miss_st[s];
            for (size_t i = 0; absolute(g) && i < nm; i++)
                kn__ranked_add(&g->ranked, g->rank_of[g->miss[i]], g->w[g->miss[i]]);
            nl += nm;
        }
        if (nl < msl || m + nm - nl < msl || !(g->left[0] > 0) || !(g->total[0] - g->left[0] > 0))
            continue;
        consider(b, absolute(g) ? absolute_proxy(g) : proxy(g, g->left, g->total), (int32_t)j, thr,
                 0, side);
    }
}

/* Tries numeric feature j on rows[b0, e0), none of them missing; returns
 * 0 when it is constant there. */
static int try_numeric(grower *g, size_t j, uint32_t b0, uint32_t e0, best_split *b)
{
    size_t m = e0 - b0, p = g->d->p;
    int splitter = g->par->splitter;
    if (splitter == KN__SPLIT_BINNED) {
        const uint8_t *codes = g->d->codes;
        uint8_t lo = 255, hi = 0;
        for (uint32_t t = b0; t < e0; t++) {
            uint8_t c = codes[(size_t)g->rows[t] * p + j];
            lo = c < lo ? c : lo;
            hi = c > hi ? c : hi;
        }
        if (lo == hi) return 0;
        if (m >= SMALL_NODE) {
            scan_hist(g, j, b0, e0, b);
            return 1;
        }
        for (size_t t = 0; t < m; t++) {
            uint32_t r = g->rows[b0 + t];
            g->sorted[t] = (keyed){(double)codes[(size_t)r * p + j], r};
        }
        insertion_sort(g->sorted, m);
        scan_sorted(g, j, m, KEY_BINNED, b);
        return 1;
    }
    const double *x = g->d->col[j];
    double lo = INFINITY, hi = -INFINITY;
    for (uint32_t t = b0; t < e0; t++) {
        double v = x[g->rows[t]];
        lo = v < lo ? v : lo;
        hi = v > hi ? v : hi;
    }
    if (hi <= lo + FEATURE_EPS) return 0;
    if (splitter == KN__SPLIT_RANDOM) {
        scan_random(g, j, b0, e0, lo, hi, b);
        return 1;
    }
    if (m < SMALL_NODE) {
        for (size_t t = 0; t < m; t++) {
            uint32_t r = g->rows[b0 + t];
            g->sorted[t] = (keyed){x[r], r};
        }
        insertion_sort(g->sorted, m);
    } else { /* stable: rows with equal values keep the node's order */
        for (size_t t = 0; t < m; t++) {
            g->rrows[t] = g->rows[b0 + t];
            g->rkeys[t] = kn__sortable(x[g->rrows[t]]);
        }
        int moved = kn__radix_sort(g->rkeys, g->rrows, m, g->rkeys + m, g->rrows + m);
        const uint64_t *k = moved ? g->rkeys + m : g->rkeys;
        const uint32_t *r = moved ? g->rrows + m : g->rrows;
        for (size_t t = 0; t < m; t++) g->sorted[t] = (keyed){kn__unsortable(k[t]), r[t]};
    }
    scan_sorted(g, j, m, KEY_EXACT, b);
    return 1;
}

/* g->sorted[0, m) sorted by key, stably (equal keys keep their order). */
static void sort_keyed(grower *g, size_t m)
{
    if (m < SMALL_NODE) {
        insertion_sort(g->sorted, m);
        return;
    }
    for (size_t t = 0; t < m; t++) {
        g->rrows[t] = g->sorted[t].row;
        g->rkeys[t] = kn__sortable(g->sorted[t].key);
    }
    int moved = kn__radix_sort(g->rkeys, g->rrows, m, g->rkeys + m, g->rrows + m);
    const uint64_t *k = moved ? g->rkeys + m : g->rkeys;
    const uint32_t *r = moved ? g->rrows + m : g->rrows;
    for (size_t t = 0; t < m; t++) g->sorted[t] = (keyed){kn__unsortable(k[t]), r[t]};
}

/* Numeric feature j, which has missing values somewhere, on rows[b0, e0):
 * the rows with a value keyed (raw value or code) at g->sorted, the
 * missing ones at g->miss. Returns -1 when none is missing here (then
 * try_numeric), else as try_numeric. */
static int try_missing(grower *g, size_t j, uint32_t b0, uint32_t e0, best_split *b)
{
    const double *x = g->d->col[j];
    size_t m = 0, nm = 0, p = g->d->p;
    int binned = g->par->splitter == KN__SPLIT_BINNED;
    double lo = INFINITY, hi = -INFINITY;
    memset(g->miss_st, 0, g->S * sizeof *g->miss_st);
    for (uint32_t t = b0; t < e0; t++) {
        uint32_t r = g->rows[t];
        double v = x[r];
        if (v != v) {
            g->miss[nm++] = r;
            add_row(g, g->miss_st, r);
            continue;
        }
        double key = binned ? (double)g->d->codes[(size_t)r * p + j] : v;
        g->sorted[m++] = (keyed){key, r};
        lo = key < lo ? key : lo;
        hi = key > hi ? key : hi;
    }
    if (!nm) return -1;
    if (!m || (binned ? hi == lo : hi <= lo + FEATURE_EPS)) return 0;
    if (g->par->splitter == KN__SPLIT_RANDOM) {
        scan_random_missing(g, j, m, nm, lo, hi, b);
        return 1;
    }
    sort_keyed(g, m);
    int kind = binned ? KEY_BINNED : KEY_EXACT;
    scan_missing(g, j, m, kind, b, nm, 0, -1);
    scan_missing(g, j, m, kind, b, nm, 1, -1);
    return 1;
}

/* Categorical feature j (L levels) on rows[b0, e0): its present levels
 * ordered (cart.h), the rows keyed by their level's place at g->sorted,
 * the prefixes of that order scanned as scan_sorted does. */
static int try_levels(grower *g, size_t j, uint32_t b0, uint32_t e0, best_split *b)
{
    const double *x = g->d->col[j];
    size_t L = g->d->n_levels[j], S = g->S, m = 0, nm = 0, present = 0, c_top = 0;
    double key[KN__MAX_BINS];
    uint8_t order[KN__MAX_BINS];
    memset(g->lvl, 0, L * S * sizeof *g->lvl);
    memset(g->lvl_n, 0, L * sizeof *g->lvl_n);
    memset(g->miss_st, 0, S * sizeof *g->miss_st);
    for (uint32_t t = b0; t < e0; t++) {
        uint32_t r = g->rows[t];
        double v = x[r];
        if (!(v >= 0 && v < (double)L)) { /* missing (level indices are checked at fit) */
            g->miss[nm++] = r;
            add_row(g, g->miss_st, r);
            continue;
        }
        g->lvl_n[(size_t)v]++;
        add_row(g, g->lvl + (size_t)v * S, r);
    }
    /* the class whose share orders the levels: the node's most frequent */
    for (size_t c = 1; c < g->d->k; c++)
        if (g->total[1 + c] > g->total[1 + c_top]) c_top = c;
    for (size_t l = 0; l < L; l++) {
        if (!g->lvl_n[l]) continue;
        const double *st = g->lvl + l * S;
        key[l] = st[0] > 0 ? st[1 + c_top] / st[0] : 0;
        size_t at = present++; /* insertion by (key, level) */
        while (at > 0 && key[order[at - 1]] > key[l]) {
            order[at] = order[at - 1];
            at--;
        }
        order[at] = (uint8_t)l;
    }
    if (present < 2) return 0;
    kn__level_set here = {{0}};
    for (size_t q = 0, start = 0; q < present; q++) { /* counting sort by place */
        size_t l = order[q];
        g->lvl_pos[l] = (uint32_t)start;
        start += g->lvl_n[l];
        here.bits[l >> 6] |= (uint64_t)1 << (l & 63);
    }
    double *place = key; /* (reused: each level's place) */
    for (size_t q = 0; q < present; q++) place[order[q]] = (double)q;
    for (uint32_t t = b0; t < e0; t++) {
        uint32_t r = g->rows[t];
        double v = x[r];
        if (!(v >= 0 && v < (double)L)) continue;
        g->sorted[g->lvl_pos[(size_t)v]++] = (keyed){place[(size_t)v], r};
        m++;
    }
    double only = g->par->splitter == KN__SPLIT_RANDOM
                      ? (double)kn_rng_below(&g->rng, (uint64_t)(present - 1))
                      : -1;
    double before = b->proxy;
    scan_missing(g, j, m, KEY_LEVEL, b, nm, 0, only);
    if (nm) scan_missing(g, j, m, KEY_LEVEL, b, nm, 1, only);
    if (b->proxy > before) { /* this feature's split is the best: its left set */
        memset(&b->set, 0, sizeof b->set);
        for (size_t q = 0; q <= (size_t)b->threshold; q++)
            b->set.bits[order[q] >> 6] |= (uint64_t)1 << (order[q] & 63);
        b->present = here;
        b->categorical = 1;
    }
    return 1;
}

/* Tries feature j on rows[b0, e0); returns 0 when it is constant there. */
static int try_feature(grower *g, size_t j, uint32_t b0, uint32_t e0, best_split *b)
{
    if (g->d->n_levels && g->d->n_levels[j]) return try_levels(g, j, b0, e0, b);
    if (g->d->has_missing && g->d->has_missing[j]) {
        int tried = try_missing(g, j, b0, e0, b);
        if (tried >= 0) return tried;
    }
    return try_numeric(g, j, b0, e0, b);
}

best_split kn__cart_find_split(grower *g, uint32_t b0, uint32_t e0)
{
    best_split b = {.proxy = -INFINITY, .feature = -1};
    size_t p = g->d->p, visited = 0, informative = 0;
    for (size_t t = 0; t < p && (visited < g->par->max_features || !informative); t++) {
        size_t r = t + (size_t)kn_rng_below(&g->rng, p - t), j = g->feat[r];
        g->feat[r] = g->feat[t];
        g->feat[t] = j;
        visited++;
        informative += (size_t)try_feature(g, j, b0, e0, &b);
    }
    return b;
}

double kn__cart_node_impurity(grower *g, uint32_t b, uint32_t e, double *st, double *median)
{
    double sq = row_stats(g, b, e, st), imp = impurity(g, st, sq);
    if (absolute(g)) imp = absolute_impurity(g, b, e, median);
    return imp;
}
