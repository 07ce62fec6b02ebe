/* Bootstrap intervals of scores (kn_score_opts.bootstrap; score-impl.h).
 *
 * Resample r draws d->n rows with replacement from stream (seed, r). The
 * plain way copies the drawn rows and recomputes each metric on them: a
 * rank metric sorts the scores again on every resample. Here a resample is
 * a count per row, and each builtin metric with a weighted form is computed
 * from the counts as the metric itself would compute it on the copies:
 *
 * - labels: the counts summed into the k x k (true, predicted) cells, the
 *   metric run on the cells present with their weights (a row drawn c
 *   times weighs c: the confusion matrix, the classes present and every
 *   mean are those of the copies);
 * - means (log loss, Brier, MSE, RMSE, MAE, MAPE, deviances): each row's
 *   value computed once (the metric on that row alone), then per resample
 *   sum(count x weight x value) / sum(count x weight);
 * - R^2 and explained variance: the metric on the drawn rows, once each,
 *   weighted by count;
 * - ROC-AUC (binary and one-vs-rest) and average precision: the scores
 *   sorted once, then per resample one pass down that order accumulating
 *   counts into the curve's points at each distinct score (ties as
 *   clf_curve_at groups them), the area or the steps as the metric takes
 *   them;
 * - median absolute error: the errors sorted once, the median found by
 *   walking the counts; the weighted one sums the copies' weights in the
 *   metric's own order (by error, then by draw: a counting sort by the
 *   error's rank), so that the row reaching half the total is the same.
 *
 * Without sample weights the counts are integers and every sum above is
 * exact where the metric's own is, so most values are bit for bit the
 * plain ones; otherwise they differ only in the order of floating-point
 * sums. Metrics registered from outside, silhouette, and data outside what
 * the fast kernels take (NaN scores, labels out of range, bad weights) keep
 * the plain way. */
#include "kiln/evaluate.h"
#include "kiln/mem.h"
#include "kiln/metrics.h"
#include "kiln/rng.h"
#include "kiln/sum.h"
#include "learn/eval/metrics-impl.h"
#include "learn/eval/score-impl.h"
#include "learn/learn-impl.h"

#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

typedef enum {
    BOOT_PLAIN,  /* rows copied, the metric recomputed */
    BOOT_LABELS, /* from the resample's confusion cells */
    BOOT_MEAN,   /* a weighted mean of per-row values */
    BOOT_ROWS,   /* the metric on the drawn rows once each, weighted by count */
    BOOT_ROC,    /* binary ROC-AUC from the positive class's score order */
    BOOT_AP,     /* average precision from the same order */
    BOOT_OVR,    /* one-vs-rest ROC-AUC over every class's score order */
    BOOT_MEDIAN  /* median absolute error from the errors' order */
} boot_kind;

/* The builtins with a fast form. MEAN: per_row names the metric whose
 * value on one row is that row's term (rmse: the root of MSE's mean). */
static const struct {
    const char *name;
    boot_kind kind;
    const char *per_row;
    int root;
} fast_forms[] = {
    {"accuracy", BOOT_LABELS, NULL, 0},
    {"balanced_accuracy", BOOT_LABELS, NULL, 0},
    {"precision", BOOT_LABELS, NULL, 0},
    {"precision_macro", BOOT_LABELS, NULL, 0},
    {"precision_micro", BOOT_LABELS, NULL, 0},
    {"precision_weighted", BOOT_LABELS, NULL, 0},
    {"recall", BOOT_LABELS, NULL, 0},
    {"recall_macro", BOOT_LABELS, NULL, 0},
    {"recall_micro", BOOT_LABELS, NULL, 0},
    {"recall_weighted", BOOT_LABELS, NULL, 0},
    {"f1", BOOT_LABELS, NULL, 0},
    {"f1_macro", BOOT_LABELS, NULL, 0},
    {"f1_micro", BOOT_LABELS, NULL, 0},
    {"f1_weighted", BOOT_LABELS, NULL, 0},
    {"mcc", BOOT_LABELS, NULL, 0},
    {"cohen_kappa", BOOT_LABELS, NULL, 0},
    {"log_loss", BOOT_MEAN, "log_loss", 0},
    {"brier", BOOT_MEAN, "brier", 0},
    {"mse", BOOT_MEAN, "mse", 0},
    {"rmse", BOOT_MEAN, "mse", 1},
    {"mae", BOOT_MEAN, "mae", 0},
    {"mape", BOOT_MEAN, "mape", 0},
    {"poisson_deviance", BOOT_MEAN, "poisson_deviance", 0},
    {"gamma_deviance", BOOT_MEAN, "gamma_deviance", 0},
    {"r2", BOOT_ROWS, NULL, 0},
    {"explained_variance", BOOT_ROWS, NULL, 0},
    {"roc_auc", BOOT_ROC, NULL, 0}, /* one-vs-rest macro without a positive class */
    {"roc_auc_ovr_weighted", BOOT_OVR, NULL, 0},
    {"average_precision", BOOT_AP, NULL, 0},
    {"median_ae", BOOT_MEDIAN, NULL, 0},
};

/* Labels through cells while k x k stays small. */
#define BOOT_MAX_LABELS 64
/* One-vs-rest orders for at most this many classes (n bytes x 5 each). */
#define BOOT_MAX_OVR 256

enum { AT_POS = 1, AT_END = 2 }; /* order flags: a positive row; last row of its score */

/* Rows by one column of scores, highest first (ties by row), as
 * clf_curve_at sorts them. */
typedef struct boot_order {
    uint32_t *row;
    unsigned char *flag;
} boot_order;

typedef struct boot_metric {
    boot_kind kind;
    const char *name;
    const kn_metric_vt *vt; /* LABELS, ROWS */
    double *value;          /* MEAN: each row's value (NaN where the row is refused) */
    int root, weighted;     /* MEAN: rmse; OVR: roc_auc_ovr_weighted */
} boot_metric;

typedef struct boot_plan {
    const kn_metric_data *d;
    size_t n, k;
    uint64_t seed;
    boot_metric *m;
    int need_idx, need_taken, need_sorted, need_cnt, need_nz, need_cells, need_binary, need_ovr,
        need_roc, need_ap, need_rows;
    uint32_t *cell;          /* LABELS: true x k + predicted */
    size_t k_cells;          /* d->k */
    boot_order binary, *ovr; /* ROC/AP; OVR (k_model) */
    size_t k_ovr;
    uint32_t *err_row;   /* MEDIAN: rows by |y - pred| increasing */
    double *err;         /* ... and those errors */
    uint32_t *err_group; /* ... and each row's rank among the distinct errors */
    double *err_value;   /* the distinct errors, increasing */
    size_t n_groups;
} boot_plan;

/* ---- the plan: what each metric needs, made once ---- */

static int by_desc(const void *a, const void *b)
{
    const kn__scored *x = a, *y = b;
    if (x->s != y->s) return x->s < y->s ? 1 : -1;
    return (x->i > y->i) - (x->i < y->i);
}

static int by_asc(const void *a, const void *b)
{
    const kn__scored *x = a, *y = b;
    if (x->s != y->s) return x->s < y->s ? -1 : 1;
    return (x->i > y->i) - (x->i < y->i);
}

/* The order of score column col (of `stride` per row) with positive rows
 * where y == cls; 0 when a score is NaN (the metric refuses it: plain). */
static kn_status order_make(const kn_metric_data *d, size_t stride, size_t col, int32_t cls,
                            kn__scored *scratch, boot_order *o, int *ok)
{
    size_t n = d->n;
    *ok = 0;
    for (size_t i = 0; i < n; i++) {
        double s = d->proba[i * stride + col];
        if (isnan(s)) return KN_OK;
        scratch[i] = (kn__scored){s, i};
    }
    qsort(scratch, n, sizeof *scratch, by_desc);
    o->row = kn_malloc(n * sizeof *o->row);
    o->flag = kn_malloc(n);
    if (!o->row || !o->flag) return KN_ERR_NOMEM;
    for (size_t r = 0; r < n; r++) {
        size_t i = scratch[r].i;
        o->row[r] = (uint32_t)i;
        o->flag[r] = (unsigned char)((d->y_class[i] == cls ? AT_POS : 0) |
                                     (r + 1 == n || scratch[r + 1].s != scratch[r].s ? AT_END : 0));
    }
    *ok = 1;
    return KN_OK;
}

static void order_free(boot_order *o)
{
    kn_free(o->row);
    kn_free(o->flag);
}

static void plan_free(boot_plan *p)
{
    for (size_t m = 0; p->m && m < p->k; m++) kn_free(p->m[m].value);
    kn_free(p->m);
    kn_free(p->cell);
    order_free(&p->binary);
    for (size_t c = 0; p->ovr && c < p->k_ovr; c++) order_free(&p->ovr[c]);
    kn_free(p->ovr);
    kn_free(p->err_row);
    kn_free(p->err);
    kn_free(p->err_group);
    kn_free(p->err_value);
    memset(p, 0, sizeof *p);
}

static int labels_in(const int32_t *y, size_t n, size_t k)
{
    for (size_t i = 0; i < n; i++)
        if (y[i] < 0 || (size_t)y[i] >= k) return 0;
    return 1;
}

/* MEAN: row i's value, the metric on row i alone (NaN where it refuses
 * the row, which then fails every resample that draws it). */
static void mean_values(const kn_metric_data *d, const kn_metric_vt *vt, double *v)
{
    for (size_t i = 0; i < d->n; i++) {
        kn_metric_data one = *d;
        one.n = 1;
        one.w = NULL;
        if (d->y) one.y = d->y + i;
        if (d->pred) one.pred = d->pred + i;
        if (d->y_class) one.y_class = d->y_class + i;
        if (d->pred_class) one.pred_class = d->pred_class + i;
        if (d->proba) one.proba = d->proba + i * d->k_model;
        if (vt->compute(&one, &v[i]) != KN_OK) v[i] = NAN;
    }
}

/* MEDIAN: the rows by |y - pred| increasing (p->err NULL where one is
 * NaN: the plain way). */
static kn_status errors_make(const kn_metric_data *d, kn__scored *scratch, boot_plan *p)
{
    size_t n = d->n;
    for (size_t i = 0; i < n; i++) {
        scratch[i] = (kn__scored){fabs(d->y[i] - d->pred[i]), i};
        if (isnan(scratch[i].s)) return KN_OK;
    }
    qsort(scratch, n, sizeof *scratch, by_asc);
    p->err_row = kn_malloc(n * sizeof *p->err_row);
    p->err = kn_malloc(n * sizeof *p->err);
    p->err_group = kn_malloc(n * sizeof *p->err_group);
    p->err_value = kn_malloc(n * sizeof *p->err_value);
    if (!p->err_row || !p->err || !p->err_group || !p->err_value) return KN_ERR_NOMEM;
    for (size_t r = 0; r < n; r++) {
        p->err_row[r] = (uint32_t)scratch[r].i;
        p->err[r] = scratch[r].s;
    }
    size_t g = 0;
    for (size_t r = 0; r < n; r++) {
        g += r && p->err[r] != p->err[r - 1];
        p->err_group[p->err_row[r]] = (uint32_t)g;
        p->err_value[g] = p->err[r];
    }
    p->n_groups = n ? g + 1 : 0;
    return KN_OK;
}

/* The fast kind of builtin c on d, or BOOT_PLAIN (with *fi its table row). */
static boot_kind kind_of(const kn_metric_data *d, const kn_component *c, size_t *fi)
{
    size_t b = 0;
    while (b < kn__n_metrics && c != &kn__metrics[b]) b++;
    if (b == kn__n_metrics) return BOOT_PLAIN; /* registered from outside */
    size_t i = 0, nf = sizeof fast_forms / sizeof *fast_forms;
    while (i < nf && strcmp(fast_forms[i].name, c->name)) i++;
    if (i == nf) return BOOT_PLAIN;
    *fi = i;
    boot_kind k = fast_forms[i].kind;
    int scores = d->y_class && d->proba && d->k_model >= 1;
    int binary = scores && d->positive >= 0 && d->k_model == 2;
    switch (k) {
    case BOOT_LABELS:
        return d->y_class && d->pred_class && d->k >= 1 && d->k <= BOOT_MAX_LABELS &&
                       labels_in(d->y_class, d->n, d->k) && labels_in(d->pred_class, d->n, d->k)
                   ? k
                   : BOOT_PLAIN;
    case BOOT_MEAN:
        return ((const kn_metric_vt *)c->vt)->input == KN_METRIC_REGRESSION
                   ? (d->y && d->pred ? k : BOOT_PLAIN)
               : d->y_class && d->proba ? k
                                        : BOOT_PLAIN;
    case BOOT_ROWS:
        return d->y && d->pred ? k : BOOT_PLAIN;
    case BOOT_ROC:
        if (d->positive >= 0) return binary ? k : BOOT_PLAIN;
        k = BOOT_OVR; /* macro one-vs-rest */
        /* fall through */
    case BOOT_OVR:
        return scores && d->k_model <= BOOT_MAX_OVR && labels_in(d->y_class, d->n, d->k_model)
                   ? k
                   : BOOT_PLAIN;
    case BOOT_AP:
        return binary ? k : BOOT_PLAIN;
    case BOOT_MEDIAN:
        return d->y && d->pred ? k : BOOT_PLAIN;
    default:
        return BOOT_PLAIN;
    }
}

static kn_status plan_make(const kn_metric_data *d, const char *const *names, size_t k,
                           uint64_t seed, int plain, boot_plan *p)
{
    memset(p, 0, sizeof *p);
    p->d = d;
    p->n = d->n;
    p->k = k;
    p->seed = seed;
    p->m = kn_calloc(k ? k : 1, sizeof *p->m);
    if (!p->m) return KN_ERR_NOMEM;
    /* the fast forms take n >= 1 rows that fit 32 bits and good weights */
    int fast = !plain && d->n >= 1 && d->n <= UINT32_MAX;
    for (size_t i = 0; fast && d->w && i < d->n; i++)
        if (!(d->w[i] >= 0) || isinf(d->w[i])) fast = 0;
    size_t n = d->n;
    kn__scored *scratch = NULL;
    kn_status e = KN_OK;
    int tried_binary = 0, tried_ovr = 0, tried_median = 0;
    for (size_t m = 0; e == KN_OK && m < k; m++) {
        boot_metric *bm = &p->m[m];
        bm->name = names[m];
        const kn_component *c = fast ? kn_metric_find(names[m]) : NULL;
        size_t fi = 0;
        bm->kind = c ? kind_of(d, c, &fi) : BOOT_PLAIN;
        bm->vt = c ? c->vt : NULL;
        if (bm->kind == BOOT_MEAN) {
            const kn_component *row = kn_metric_find(fast_forms[fi].per_row);
            bm->root = fast_forms[fi].root;
            if (!row) {
                e = kn_last_status();
                break;
            }
            if (!(bm->value = kn_malloc(n * sizeof *bm->value))) e = KN_ERR_NOMEM;
            if (e == KN_OK) mean_values(d, row->vt, bm->value);
        }
        if (bm->kind == BOOT_OVR) bm->weighted = !strcmp(c->name, "roc_auc_ovr_weighted");
        if ((bm->kind == BOOT_ROC || bm->kind == BOOT_AP || bm->kind == BOOT_OVR ||
             bm->kind == BOOT_MEDIAN) &&
            !scratch && !(scratch = kn_malloc(n * sizeof *scratch)))
            e = KN_ERR_NOMEM;
        if (e != KN_OK) break;
        /* the orders, once for all the metrics that use them */
        if ((bm->kind == BOOT_ROC || bm->kind == BOOT_AP) && !tried_binary) {
            tried_binary = 1;
            e = order_make(d, 2, (size_t)d->positive, d->positive, scratch, &p->binary,
                           &p->need_binary);
        } else if (bm->kind == BOOT_OVR && !tried_ovr) {
            tried_ovr = 1;
            int ok = 1;
            p->ovr = kn_calloc(d->k_model, sizeof *p->ovr);
            e = p->ovr ? KN_OK : KN_ERR_NOMEM;
            if (e == KN_OK) p->k_ovr = d->k_model;
            for (size_t q = 0; e == KN_OK && ok && q < d->k_model; q++)
                e = order_make(d, d->k_model, q, (int32_t)q, scratch, &p->ovr[q], &ok);
            p->need_ovr = ok;
        } else if (bm->kind == BOOT_MEDIAN && !tried_median) {
            tried_median = 1;
            e = errors_make(d, scratch, p);
        } else if (bm->kind == BOOT_LABELS && !p->cell) {
            p->k_cells = d->k;
            if (!(p->cell = kn_malloc(n * sizeof *p->cell))) e = KN_ERR_NOMEM;
            for (size_t i = 0; e == KN_OK && i < n; i++)
                p->cell[i] = (uint32_t)d->y_class[i] * (uint32_t)d->k + (uint32_t)d->pred_class[i];
        }
        /* scores or errors the kernels refuse (NaN) keep the plain way */
        if (((bm->kind == BOOT_ROC || bm->kind == BOOT_AP) && !p->need_binary) ||
            (bm->kind == BOOT_OVR && !p->need_ovr) || (bm->kind == BOOT_MEDIAN && !p->err))
            bm->kind = BOOT_PLAIN;
    }
    kn_free(scratch);
    for (size_t m = 0; e == KN_OK && m < k; m++) {
        boot_kind t = p->m[m].kind;
        if (t == BOOT_PLAIN || t == BOOT_ROWS) p->need_idx = p->need_taken = 1;
        if (t == BOOT_MEDIAN && d->w) p->need_idx = p->need_sorted = 1;
        if (t != BOOT_PLAIN) p->need_cnt = 1;
        if (t == BOOT_LABELS) p->need_cells = 1;
        if (t == BOOT_ROC) p->need_roc = 1;
        if (t == BOOT_ROWS) p->need_rows = 1;
        if (t == BOOT_AP) p->need_ap = 1;
        if (t == BOOT_LABELS || t == BOOT_MEAN || t == BOOT_ROWS) p->need_nz = 1;
    }
    if (e != KN_OK) plan_free(p);
    return e;
}

/* ---- one thread's buffers ---- */

typedef struct boot_work {
    uint32_t *cnt; /* draws of each row */
    size_t *idx;   /* the draws in order (plain metrics) */
    uint32_t *nz;  /* rows drawn, by row ... */
    double *cw;    /* ... and their count x weight */
    size_t q;      /* how many */
    double cw_sum; /* pairwise sum of cw */
    double *t, *f, *terms, *ry, *rp;
    size_t points; /* binary curve points of this resample (t, f); -1: not yet */
    uint32_t *cell_n;
    double *cell_w, *cell_wq;
    int32_t *cell_y, *cell_p;
    kn__taken b;
    int have_b;
    uint32_t *at;     /* weighted MEDIAN: where each error's copies go ... */
    double *sorted_w; /* ... the copies' weights in the metric's order */
} boot_work;

static void work_free(boot_work *w)
{
    kn_free(w->cnt), kn_free(w->idx), kn_free(w->nz), kn_free(w->cw);
    kn_free(w->t), kn_free(w->f), kn_free(w->terms), kn_free(w->ry), kn_free(w->rp);
    kn_free(w->cell_n), kn_free(w->cell_w), kn_free(w->cell_wq);
    kn_free(w->cell_y), kn_free(w->cell_p);
    if (w->have_b) kn__taken_free(&w->b);
    kn_free(w->at), kn_free(w->sorted_w);
    memset(w, 0, sizeof *w);
}

static kn_status work_alloc(const boot_plan *p, boot_work *w)
{
    memset(w, 0, sizeof *w);
    size_t n = p->n ? p->n : 1, kk = p->k_cells * p->k_cells;
    int ok = 1;
    if (p->need_cnt) ok &= !!(w->cnt = kn_malloc(n * sizeof *w->cnt));
    if (p->need_idx) {
        ok &= !!(w->idx = kn_malloc(n * sizeof *w->idx));
        if (p->need_taken) ok &= w->have_b = kn__taken_alloc(&w->b, p->d, p->n) == KN_OK;
    }
    if (p->need_sorted) {
        ok &= !!(w->at = kn_malloc((p->n_groups + 1) * sizeof *w->at));
        ok &= !!(w->sorted_w = kn_malloc(n * sizeof *w->sorted_w));
    }
    if (p->need_nz) {
        ok &= !!(w->nz = kn_malloc(n * sizeof *w->nz));
        ok &= !!(w->cw = kn_malloc(n * sizeof *w->cw));
        ok &= !!(w->t = kn_malloc(n * sizeof *w->t));
    }
    if (p->need_rows) {
        ok &= !!(w->ry = kn_malloc(n * sizeof *w->ry));
        ok &= !!(w->rp = kn_malloc(n * sizeof *w->rp));
    }
    if (p->need_binary || p->need_ovr) {
        if (!w->t) ok &= !!(w->t = kn_malloc(n * sizeof *w->t));
        ok &= !!(w->f = kn_malloc(n * sizeof *w->f));
        ok &= !!(w->terms = kn_malloc(n * sizeof *w->terms));
    }
    if (p->need_cells) {
        ok &= !!(w->cell_n = kn_malloc(4 * kk * sizeof *w->cell_n));
        ok &= !!(w->cell_w = kn_malloc(4 * kk * sizeof *w->cell_w));
        ok &= !!(w->cell_wq = kn_malloc(kk * sizeof *w->cell_wq));
        ok &= !!(w->cell_y = kn_malloc(kk * sizeof *w->cell_y));
        ok &= !!(w->cell_p = kn_malloc(kk * sizeof *w->cell_p));
    }
    if (!ok) work_free(w);
    return ok ? KN_OK : KN_ERR_NOMEM;
}

/* ---- one resample ---- */

static void draw(const boot_plan *p, boot_work *w, size_t r)
{
    size_t n = p->n;
    const double *wt = p->d->w;
    kn_rng g;
    kn_rng_init_stream(&g, p->seed, r);
    w->points = (size_t)-1;
    if (!p->need_cnt) { /* every metric the plain way: the draws only */
        for (size_t i = 0; i < n; i++) w->idx[i] = (size_t)kn_rng_below(&g, n);
        return;
    }
    memset(w->cnt, 0, n * sizeof *w->cnt);
    if (w->idx)
        for (size_t i = 0; i < n; i++) {
            size_t j = (size_t)kn_rng_below(&g, n);
            w->idx[i] = j;
            w->cnt[j]++;
        }
    else
        for (size_t i = 0; i < n; i++) w->cnt[kn_rng_below(&g, n)]++;
    if (!p->need_nz) return;
    size_t q = 0;
    for (size_t j = 0; j < n; j++) { /* branch-free: a third of the rows is not drawn */
        w->nz[q] = (uint32_t)j;
        w->cw[q] = wt ? (double)w->cnt[j] * wt[j] : (double)w->cnt[j];
        q += w->cnt[j] != 0;
    }
    w->q = q;
    w->cw_sum = wt ? kn_sum_pairwise(w->cw, q) : (double)n;
}

/* The cells of the resample's (true, predicted) pairs, as metric data. */
static void cells(const boot_plan *p, boot_work *w, kn_metric_data *out)
{
    const kn_metric_data *d = p->d;
    size_t k = p->k_cells, kk = k * k, m = 0;
    /* four histograms, so that rows of the same cell in a row do not wait
       on each other's sums */
    memset(w->cell_n, 0, 4 * kk * sizeof *w->cell_n);
    for (size_t q = 0; q < w->q; q++) {
        uint32_t j = w->nz[q];
        w->cell_n[(q & 3) * kk + p->cell[j]] += w->cnt[j];
    }
    if (d->w) {
        memset(w->cell_w, 0, 4 * kk * sizeof *w->cell_w);
        for (size_t q = 0; q < w->q; q++) w->cell_w[(q & 3) * kk + p->cell[w->nz[q]]] += w->cw[q];
    }
    for (size_t c = 0; c < kk; c++) {
        uint32_t cn =
            w->cell_n[c] + w->cell_n[kk + c] + w->cell_n[2 * kk + c] + w->cell_n[3 * kk + c];
        if (!cn) continue;
        w->cell_y[m] = (int32_t)(c / k);
        w->cell_p[m] = (int32_t)(c % k);
        /* unweighted: the count, as the copies' confusion sums it */
        w->cell_wq[m++] = d->w ? (w->cell_w[c] + w->cell_w[kk + c]) +
                                     (w->cell_w[2 * kk + c] + w->cell_w[3 * kk + c])
                               : (double)cn;
    }
    *out = (kn_metric_data){.n = m,
                            .w = w->cell_wq,
                            .y_class = w->cell_y,
                            .pred_class = w->cell_p,
                            .k = d->k,
                            .k_model = d->k_model,
                            .positive = d->positive};
}

static double mean_of(boot_work *w, const boot_metric *bm)
{
    if (!(w->cw_sum > 0)) return NAN; /* weights summing to 0: undefined */
    for (size_t q = 0; q < w->q; q++) w->t[q] = w->cw[q] * bm->value[w->nz[q]];
    double v = kn_sum_pairwise(w->t, w->q) / w->cw_sum;
    return bm->root ? sqrt(v) : v;
}

/* The curve's points (cumulative weighted positives t, negatives f at each
 * distinct score, highest first, rows of weight 0 left out) of order o. */
static size_t curve_points(const boot_plan *p, const boot_work *w, const boot_order *o, double *t,
                           double *f)
{
    const double *wt = p->d->w;
    size_t m = 0, n = p->n;
    unsigned any = 0;
    if (!wt) { /* counts: integer sums, exact as the copies' */
        uint64_t tp = 0, fp = 0;
        for (size_t r = 0; r < n; r++) {
            uint32_t c = w->cnt[o->row[r]];
            unsigned fl = o->flag[r], pos = fl & AT_POS, end = (fl & AT_END) >> 1;
            tp += pos ? c : 0;
            fp += pos ? 0 : c;
            any |= c != 0;
            t[m] = (double)tp;
            f[m] = (double)fp;
            m += end & any;
            any &= end ^ 1u;
        }
        return m;
    }
    double tp = 0, fp = 0;
    for (size_t r = 0; r < n; r++) {
        uint32_t j = o->row[r];
        double cw = (double)w->cnt[j] * wt[j]; /* 0: not drawn, or weight 0 (left out) */
        unsigned fl = o->flag[r], end = (fl & AT_END) >> 1;
        tp += fl & AT_POS ? cw : 0;
        fp += fl & AT_POS ? 0 : cw;
        any |= cw != 0;
        t[m] = tp;
        f[m] = fp;
        m += end & any;
        any &= end ^ 1u;
    }
    return m;
}

/* ROC-AUC of the points, as auc_of (NaN where it is undefined); t and f
 * become the rates. Two vector passes (the same divisions, lane by lane). */
static double auc_points(double *t, double *f, size_t m, double *terms)
{
    if (!m) return NAN;
    double P = t[m - 1], N = f[m - 1];
    if (P <= 0 || N <= 0) return NAN;
#pragma omp simd
    for (size_t i = 0; i < m; i++) {
        f[i] /= N;
        t[i] /= P;
    }
    terms[0] = f[0] * t[0] / 2; /* from (0, 0) */
#pragma omp simd
    for (size_t i = 1; i < m; i++) terms[i] = (f[i] - f[i - 1]) * (t[i] + t[i - 1]) / 2;
    return kn_sum_pairwise(terms, m);
}

/* Average precision of the points, as kn_metric_average_precision. */
static double ap_points(const double *t, const double *f, size_t m)
{
    if (!m) return NAN;
    double P = t[m - 1], ap = 0, prev = 0;
    if (P > 0)
        for (size_t i = 0; i < m; i++) {
            double recall = t[i] / P, precision = t[i] / (t[i] + f[i]);
            ap += (recall - prev) * precision;
            prev = recall;
        }
    return ap;
}

/* One-vs-rest ROC-AUC, macro or weighted by support (kn_metric_roc_auc_ovr). */
static double ovr(const boot_plan *p, boot_work *w, int weighted)
{
    double sum = 0, weight = 0;
    for (size_t c = 0; c < p->k_ovr; c++) {
        size_t m = curve_points(p, w, &p->ovr[c], w->t, w->f);
        double support = m ? w->t[m - 1] : 0;
        double auc = auc_points(w->t, w->f, m, w->terms);
        if (isnan(auc)) return NAN; /* one class undefined: the whole */
        sum += weighted ? auc * support : auc;
        weight += support;
    }
    return weighted ? sum / weight : sum / (double)p->k_ovr;
}

/* Median absolute error of the resample (kn_metric_median_ae). */
static double median_ae(const boot_plan *p, const boot_work *w)
{
    const double *wt = p->d->w;
    size_t n = p->n;
    if (!wt) { /* np.median: the middle one, or the mean of the middle two */
        size_t hi = n / 2, lo = n % 2 ? hi : hi - 1, cum = 0;
        double a = NAN;
        for (size_t r = 0; r < n; r++) {
            uint32_t c = w->cnt[p->err_row[r]];
            if (!c) continue;
            cum += c; /* ranks cum - c .. cum - 1 hold this error */
            if (cum > lo && isnan(a)) a = p->err[r];
            if (cum > hi) return n % 2 ? p->err[r] : (a + p->err[r]) / 2;
        }
        return NAN;
    }
    /* sklearn's _weighted_percentile at 50 as kn_metric_median_ae takes it:
       the first error whose cumulative weight reaches half the total. Which
       error is first can turn on the last bit of the sums, so they add the
       copies' weights in the metric's own order: by error, then by draw
       (the copies counting-sorted by their error's rank). */
    uint32_t *at = w->at;
    double *sw = w->sorted_w, total = 0, cum = 0;
    size_t G = p->n_groups, g = 0;
    memset(at, 0, (G + 1) * sizeof *at);
    for (size_t i = 0; i < n; i++) at[p->err_group[w->idx[i]] + 1]++;
    for (size_t q = 0; q < G; q++) at[q + 1] += at[q];
    for (size_t i = 0; i < n; i++) {
        size_t j = w->idx[i];
        sw[at[p->err_group[j]]++] = wt[j];
    }
    /* at[q]: the end of error q's copies */
    for (size_t i = 0; i < n; i++) total += sw[i];
    if (!(total > 0)) return NAN;
    double half = 0.5 * total;
    for (size_t i = 0; i < n; i++) {
        cum += sw[i];
        while (at[g] <= i) g++;
        if (cum >= half) break;
    }
    return p->err_value[g];
}

/* The metric on the resample's rows copied (once per resample). */
static double plain_value(const boot_plan *p, boot_work *w, const boot_metric *bm,
                          kn_metric_data *taken, int *have_taken)
{
    double v;
    if (!*have_taken) kn__take(p->d, w->idx, p->n, &w->b, taken);
    *have_taken = 1;
    return kn_metric_compute(bm->name, taken, &v) == KN_OK ? v : NAN;
}

/* The k scores of resample r into vals[m * reps + r]. */
static void resample(const boot_plan *p, boot_work *w, size_t r, size_t reps, double *vals)
{
    const kn_metric_data *d = p->d;
    draw(p, w, r);
    kn_metric_data taken, lab;
    int have_taken = 0, have_lab = 0;
    double roc = NAN, ap = NAN;
    for (size_t m = 0; m < p->k; m++) {
        const boot_metric *bm = &p->m[m];
        double v = NAN;
        boot_kind kind = bm->kind;
        if (kind == BOOT_ROWS && w->q < 2) kind = BOOT_PLAIN; /* one row drawn n times */
        switch (kind) {
        case BOOT_PLAIN:
            v = plain_value(p, w, bm, &taken, &have_taken);
            break;
        case BOOT_LABELS:
            if (!have_lab) cells(p, w, &lab);
            have_lab = 1;
            if (bm->vt->compute(&lab, &v) != KN_OK) v = NAN;
            break;
        case BOOT_MEAN:
            v = mean_of(w, bm);
            break;
        case BOOT_ROWS: {
            for (size_t q = 0; q < w->q; q++) {
                w->ry[q] = d->y[w->nz[q]];
                w->rp[q] = d->pred[w->nz[q]];
            }
            kn_metric_data rows = {
                .n = w->q, .w = w->cw, .y = w->ry, .pred = w->rp, .positive = d->positive};
            if (bm->vt->compute(&rows, &v) != KN_OK) v = NAN;
            break;
        }
        case BOOT_ROC:
        case BOOT_AP:
            if (w->points == (size_t)-1) {
                w->points = curve_points(p, w, &p->binary, w->t, w->f);
                /* the steps first: the area turns t and f into rates */
                ap = p->need_ap ? ap_points(w->t, w->f, w->points) : NAN;
                roc = p->need_roc ? auc_points(w->t, w->f, w->points, w->terms) : NAN;
            }
            v = kind == BOOT_ROC ? roc : ap;
            break;
        case BOOT_OVR:
            v = ovr(p, w, bm->weighted);
            break;
        case BOOT_MEDIAN:
            v = median_ae(p, w);
            break;
        }
        vals[m * reps + r] = v;
    }
}

kn_status kn__bootstrap_scores(const kn_metric_data *d, const char *const *names, size_t k,
                               uint64_t seed, size_t reps, int plain, double *vals)
{
    if (!k || !reps) return KN_OK;
    boot_plan p;
    kn_status e = plan_make(d, names, k, seed, plain, &p);
    if (e != KN_OK) return e;
#pragma omp parallel
    {
        boot_work w;
        kn_status mine = work_alloc(&p, &w);
#pragma omp for schedule(static)
        for (size_t r = 0; r < reps; r++)
            if (mine == KN_OK) resample(&p, &w, r, reps, vals);
        if (mine == KN_OK) work_free(&w);
        if (mine != KN_OK) {
#pragma omp critical(kn_bootstrap_scores)
            e = mine;
        }
    }
    plan_free(&p);
    return e;
}
