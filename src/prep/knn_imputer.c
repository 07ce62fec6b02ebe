/* knn_imputer: fills a missing cell with the mean of that column over the
 * n_neighbors nearest training rows that have it (scikit-learn's KNNImputer).
 * Distances use the selected columns present in both rows, scaled up for the
 * missing ones: sqrt(p / present * sum of squared differences); a row pair
 * with no column in common has no distance and is a donor of last resort.
 * weights=distance weighs donors by 1/distance (exact matches alone when
 * some donor is at distance 0). A cell with no usable donor gets the column's
 * training mean. The step keeps the training rows (as KNNImputer does):
 * brute force, cost rows-with-gaps x training rows x columns. */
#include "kiln/mem.h"
#include "kiln/step.h"
#include "prep/prep-impl.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

typedef struct knn_params {
    kn_step_common common;
    int64_t n_neighbors;
    int weights;
} knn_params;

static const kn_param_def knn_defs[] = {
    KN_STEP_COMMON_PARAMS(knn_params),
    KN_PARAM_INT(knn_params, n_neighbors, "5", 1, 1000, "donors averaged per missing cell"),
    KN_PARAM_ENUM(knn_params, weights, "uniform", "uniform|distance",
                  "donor weights: equal, or 1/distance"),
    KN_PARAM_END};

typedef struct knn_state {
    size_t p, rows;
    double *x;    /* rows x p, row-major, NaN = missing */
    double *mean; /* p: training means, the last resort */
} knn_state;

static void knn_free(void *v)
{
    knn_state *s = v;
    if (!s) return;
    kn_free(s->x);
    kn_free(s->mean);
    kn_free(s);
}

static kn_status knn_fit(kn_step *st, const kn_frame *x, const size_t *cols, size_t p)
{
    size_t rows = kn_frame_n_rows(x);
    for (size_t j = 0; j < p; j++)
        if (kn_column_type(kn_frame_col(x, cols[j])) != KN_COL_NUMERIC)
            return kn_fail(KN_ERR_TYPE, "%s: column '%s' is not numeric", kn_step_name(st),
                           kn_column_name(kn_frame_col(x, cols[j])));
    knn_state *s = kn_calloc(1, sizeof *s);
    if (!s) return KN_ERR_NOMEM;
    s->p = p;
    s->rows = rows;
    s->x = kn_malloc(((rows * p) > 0 ? rows * p : 1) * sizeof *s->x);
    s->mean = kn_calloc(p ? p : 1, sizeof *s->mean);
    if (!s->x || !s->mean) {
        knn_free(s);
        return KN_ERR_NOMEM;
    }
    for (size_t j = 0; j < p; j++) {
        const double *v = kn_column_f64(kn_frame_col(x, cols[j]));
        double sum = 0;
        size_t k = 0;
        for (size_t r = 0; r < rows; r++) {
            s->x[r * p + j] = v[r];
            if (!isnan(v[r])) {
                sum += v[r];
                k++;
            }
        }
        s->mean[j] = k ? sum / (double)k : NAN;
    }
    kn_step_set_state(st, s);
    return KN_OK;
}

typedef struct donor {
    double d; /* NaN: no column in common */
    size_t row;
} donor;

static int cmp_donor(const void *a, const void *b)
{
    const donor *x = a, *y = b;
    int nx = isnan(x->d), ny = isnan(y->d);
    if (nx != ny) return nx - ny;
    if (!nx && x->d != y->d) return x->d < y->d ? -1 : 1;
    return (x->row > y->row) - (x->row < y->row);
}

/* Distance from q (p values) to every training row into dist. */
static void distances(const knn_state *s, const double *q, double *dist)
{
    size_t p = s->p;
    for (size_t t = 0; t < s->rows; t++) {
        const double *y = s->x + t * p;
        double sum = 0;
        size_t present = 0;
        for (size_t j = 0; j < p; j++)
            if (!isnan(q[j]) && !isnan(y[j])) {
                double d = q[j] - y[j];
                sum += d * d;
                present++;
            }
        dist[t] = present ? sqrt((double)p / (double)present * sum) : NAN;
    }
}

/* The value for column j of a row whose distances are dist. */
static double impute(const knn_params *par, const knn_state *s, const double *dist, size_t j,
                     donor *pool)
{
    size_t n = 0, usable = 0;
    for (size_t t = 0; t < s->rows; t++)
        if (!isnan(s->x[t * s->p + j])) {
            pool[n++] = (donor){dist[t], t};
            usable += !isnan(dist[t]);
        }
    if (!usable) return s->mean[j];
    size_t k = (size_t)par->n_neighbors < n ? (size_t)par->n_neighbors : n;
    qsort(pool, n, sizeof *pool, cmp_donor);
    int exact = 0;
    for (size_t i = 0; i < k; i++) exact |= pool[i].d == 0;
    double num = 0, den = 0;
    for (size_t i = 0; i < k; i++) {
        double w = 1;
        if (par->weights) w = exact ? pool[i].d == 0 : isnan(pool[i].d) ? 0 : 1 / pool[i].d;
        num += w * s->x[pool[i].row * s->p + j];
        den += w;
    }
    return den > 0 ? num / den : s->mean[j];
}

static kn_status knn_apply(const kn_step *st, kn_frame *out, const size_t *cols, size_t p)
{
    const knn_params *par = kn_step_params(st);
    const knn_state *s = kn_step_state(st);
    size_t rows = kn_frame_n_rows(out);
    double **col = kn_malloc((p ? p : 1) * sizeof *col);
    double *q = kn_malloc((p ? p : 1) * sizeof *q), *fill = kn_malloc((p ? p : 1) * sizeof *fill);
    double *dist = kn_malloc((s->rows ? s->rows : 1) * sizeof *dist);
    donor *pool = kn_malloc((s->rows ? s->rows : 1) * sizeof *pool);
    kn_status e = col && q && fill && dist && pool ? KN_OK : KN_ERR_NOMEM;
    for (size_t j = 0; e == KN_OK && j < p; j++) col[j] = kn_column_f64(kn_frame_col(out, cols[j]));
    for (size_t r = 0; e == KN_OK && r < rows; r++) {
        int gaps = 0;
        for (size_t j = 0; j < p; j++) gaps |= isnan(q[j] = col[j][r]);
        if (!gaps) continue;
        distances(s, q, dist);
        /* from the row as it was: imputing one cell must not move the others' donors */
        for (size_t j = 0; j < p; j++) fill[j] = isnan(q[j]) ? impute(par, s, dist, j, pool) : q[j];
        for (size_t j = 0; j < p; j++) col[j][r] = fill[j];
    }
    kn_free(col);
    kn_free(q);
    kn_free(fill);
    kn_free(dist);
    kn_free(pool);
    return e;
}

static kn_status knn_save(const kn_step *st, kn_wbuf *w)
{
    const knn_state *s = kn_step_state(st);
    kn_wbuf_u64(w, s->p);
    kn_wbuf_u64(w, s->rows);
    kn_wbuf_f64s(w, s->mean, s->p);
    kn_wbuf_f64s(w, s->x, s->rows * s->p);
    return KN_OK;
}

static kn_status knn_load(kn_step *st, kn_rbuf *r, size_t p)
{
    uint64_t rows = 0;
    kn_status e = kn__state_count(r, p, "knn_imputer");
    if (e == KN_OK) e = kn_rbuf_u64(r, &rows);
    /* the matrix must fit in what is left of the file */
    if (e == KN_OK && p && rows > (uint64_t)(r->end - r->p) / 8 / p)
        return kn_fail(KN_ERR_CORRUPT, "%s: knn_imputer state claims %llu rows", r->what,
                       (unsigned long long)rows);
    if (e != KN_OK) return e;
    knn_state *s = kn_calloc(1, sizeof *s);
    if (!s) return KN_ERR_NOMEM;
    s->p = p;
    s->rows = (size_t)rows;
    e = kn__decode_f64s(r, p, &s->mean);
    if (e == KN_OK) e = kn__decode_f64s(r, s->rows * p, &s->x);
    if (e != KN_OK) {
        knn_free(s);
        return e;
    }
    kn_step_set_state(st, s);
    return KN_OK;
}

static const kn_step_vt knn_vt = {.default_type = KN_COL_NUMERIC,
                                  .fit = knn_fit,
                                  .transform = knn_apply,
                                  .free_state = knn_free,
                                  .save = knn_save,
                                  .load = knn_load};

const kn_component kn__knn_imputer = {
    KN_COMP_STEP, "knn_imputer",      "fill gaps with the mean of the nearest rows' values",
    knn_defs,     sizeof(knn_params), &knn_vt};
