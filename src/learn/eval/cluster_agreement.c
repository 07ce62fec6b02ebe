/* Agreement of two labellings of the same rows (a clustering against true
 * groups), as scikit-learn's adjusted_rand_score and
 * normalized_mutual_info_score (arithmetic mean of the entropies). Both
 * come from the contingency table of the label pairs, built by sorting the
 * pairs, so its size follows the pairs present, not ka x kb. */
#include "kiln/mem.h"
#include "kiln/metrics.h"

#include <math.h>
#include <stdint.h>
#include <stdlib.h>

typedef struct table {
    uint64_t *pair;        /* sorted (a << 32 | b) */
    size_t *na, *nb;       /* rows per label of a, of b */
    size_t used_a, used_b; /* labels that occur */
} table;

static int by_key(const void *x, const void *y)
{
    uint64_t a = *(const uint64_t *)x, b = *(const uint64_t *)y;
    return (a > b) - (a < b);
}

static void table_free(table *t)
{
    kn_free(t->pair), kn_free(t->na), kn_free(t->nb);
}

static kn_status table_make(const int32_t *a, size_t ka, const int32_t *b, size_t kb, size_t n,
                            const char *what, table *t)
{
    *t = (table){0};
    for (size_t i = 0; i < n; i++) {
        if (a[i] < 0 || (size_t)a[i] >= ka)
            return kn_fail(KN_ERR_INVALID, "%s: row %zu has true label %d, outside 0..%zu", what,
                           i + 1, (int)a[i], ka ? ka - 1 : 0);
        if (b[i] < 0 || (size_t)b[i] >= kb)
            return kn_fail(KN_ERR_INVALID, "%s: row %zu has cluster %d, outside 0..%zu", what,
                           i + 1, (int)b[i], kb ? kb - 1 : 0);
    }
    t->pair = kn_malloc((n ? n : 1) * sizeof *t->pair);
    t->na = kn_calloc(ka ? ka : 1, sizeof *t->na);
    t->nb = kn_calloc(kb ? kb : 1, sizeof *t->nb);
    if (!t->pair || !t->na || !t->nb) {
        table_free(t);
        return KN_ERR_NOMEM;
    }
    for (size_t i = 0; i < n; i++) {
        t->pair[i] = (uint64_t)(uint32_t)a[i] << 32 | (uint32_t)b[i];
        t->used_a += t->na[a[i]]++ == 0;
        t->used_b += t->nb[b[i]]++ == 0;
    }
    qsort(t->pair, n, sizeof *t->pair, by_key);
    return KN_OK;
}

kn_status kn_metric_adjusted_rand(const int32_t *truth, size_t ka, const int32_t *pred, size_t kb,
                                  size_t n, double *out)
{
    table t;
    kn_status e = table_make(truth, ka, pred, kb, n, "adjusted_rand", &t);
    if (e != KN_OK) return e;
    /* ordered pairs of rows: together in both (tp), in truth only (fn), in
     * the clustering only (fp), in neither (tn) */
    uint64_t sq = 0, sa = 0, sb = 0;
    for (size_t i = 0; i < n;) {
        size_t j = i;
        while (j < n && t.pair[j] == t.pair[i]) j++;
        sq += (uint64_t)(j - i) * (j - i);
        i = j;
    }
    for (size_t c = 0; c < ka; c++) sa += (uint64_t)t.na[c] * t.na[c];
    for (size_t c = 0; c < kb; c++) sb += (uint64_t)t.nb[c] * t.nb[c];
    table_free(&t);
    double tp = (double)(sq - n), fp = (double)(sb - sq), fn = (double)(sa - sq);
    double tn = (double)n * (double)n - (double)sb - (double)sa + (double)sq;
    if (fn == 0 && fp == 0)
        *out = 1.0;
    else
        *out = 2.0 * (tp * tn - fn * fp) / ((tp + fn) * (fn + tn) + (tp + fp) * (fp + tn));
    return KN_OK;
}

/* Entropy (natural log) of the label counts. */
static double entropy(const size_t *count, size_t k, size_t n)
{
    double h = 0, ln = log((double)n);
    size_t used = 0;
    for (size_t c = 0; c < k; c++) used += count[c] > 0;
    if (used <= 1) return 0;
    for (size_t c = 0; c < k; c++)
        if (count[c]) h -= (double)count[c] / (double)n * (log((double)count[c]) - ln);
    return h;
}

kn_status kn_metric_nmi(const int32_t *truth, size_t ka, const int32_t *pred, size_t kb, size_t n,
                        double *out)
{
    table t;
    kn_status e = table_make(truth, ka, pred, kb, n, "normalized_mutual_info", &t);
    if (e != KN_OK) return e;
    if ((t.used_a == 1 && t.used_b == 1) || n == 0) { /* neither splits the rows: a match */
        table_free(&t);
        *out = 1.0;
        return KN_OK;
    }
    double mi = 0, ln = log((double)n), eps = 2.220446049250313e-16;
    if (t.used_a > 1 && t.used_b > 1)
        for (size_t i = 0; i < n;) {
            size_t j = i;
            while (j < n && t.pair[j] == t.pair[i]) j++;
            double nij = (double)(j - i), p = nij / (double)n;
            size_t a = (size_t)(t.pair[i] >> 32), b = (size_t)(t.pair[i] & 0xffffffffu);
            double outer = (double)t.na[a] * (double)t.nb[b];
            double v = p * (log(nij) - ln) + p * (-log(outer) + 2 * ln);
            if (fabs(v) >= eps) mi += v;
            i = j;
        }
    if (mi < 0) mi = 0;
    double ha = entropy(t.na, ka, n), hb = entropy(t.nb, kb, n);
    table_free(&t);
    *out = mi == 0 ? 0.0 : mi / ((ha + hb) / 2);
    return KN_OK;
}
