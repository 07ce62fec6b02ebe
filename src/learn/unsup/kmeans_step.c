/* kmeans_features: a prep step that fits k-means (the kmeans model, so the
 * same seeding, Lloyd or mini-batch runs and best of n_init) on the selected
 * numeric columns and adds one column per centre: each row's Euclidean
 * distance to it (scikit-learn's KMeans.transform), named <prefix>1 ..
 * <prefix>k, after the last input column. keep=false drops the inputs.
 * As a step it is fitted on the training rows only (inside each CV fold),
 * saved with the pipeline and applied at predict. It lives in the learn
 * layer because it fits a model; kn_learn_register registers it. */
#include "kiln/mem.h"
#include "kiln/model.h"
#include "kiln/step.h"
#include "learn/learn-impl.h"
#include "learn/unsup/kmeans-impl.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

typedef struct kmf_params {
    kn_step_common common;
    int64_t n_clusters, n_init, max_iter, seed, batch_size;
    double tol;
    int algorithm, keep;
    const char *prefix;
} kmf_params;

static const kn_param_def kmf_defs[] = {
    KN_STEP_COMMON_PARAMS(kmf_params),
    KN_PARAM_INT(kmf_params, n_clusters, "8", 1, 1e9, "clusters (k): the columns added"),
    KN_PARAM_INT(kmf_params, n_init, "10", 1, 100000, "k-means runs; the least inertia is kept"),
    KN_PARAM_INT(kmf_params, max_iter, "300", 1, 1e9, "iterations per run at most"),
    KN_PARAM_DOUBLE(kmf_params, tol, "1e-4", 0, 1e300, "Lloyd's stopping tolerance (kmeans)"),
    KN_PARAM_INT(kmf_params, seed, "0", 0, 1e15, "seed of the k-means++ draws"),
    KN_PARAM_ENUM(kmf_params, algorithm, "lloyd", "lloyd|minibatch", "as kmeans' algorithm"),
    KN_PARAM_INT(kmf_params, batch_size, "1024", 1, 1e9, "minibatch: rows per step"),
    KN_PARAM_BOOL(kmf_params, keep, "true", "keep the input columns beside the distances"),
    KN_PARAM_STRING(kmf_params, prefix, "kmeans_dist",
                    "output column names: prefix1, prefix2, ..."),
    KN_PARAM_END};

typedef struct kmf_state {
    size_t k, p;
    double *centre; /* k x p, row-major */
} kmf_state;

static void kmf_free(void *v)
{
    kmf_state *s = v;
    if (!s) return;
    kn_free(s->centre);
    kn_free(s);
}

/* Numeric, no missing values. */
static kn_status check_columns(const kn_step *st, const kn_frame *x, const size_t *cols, size_t p)
{
    size_t rows = kn_frame_n_rows(x);
    for (size_t j = 0; j < p; j++) {
        kn_column *c = kn_frame_col(x, cols[j]);
        if (kn_column_type(c) != KN_COL_NUMERIC)
            return kn_fail(KN_ERR_TYPE, "%s: column '%s' is %s; it takes numeric columns",
                           kn_step_name(st), kn_column_name(c),
                           kn_col_type_name(kn_column_type(c)));
        const double *v = kn_column_f64(c);
        for (size_t r = 0; r < rows; r++)
            if (isnan(v[r]))
                return kn_fail(KN_ERR_INVALID,
                               "%s: column '%s', row %zu is missing; k-means needs complete rows "
                               "(put simple_imputer before it)",
                               kn_step_name(st), kn_column_name(c), r + 1);
    }
    return KN_OK;
}

static kn_status set_param(kn_model *m, const char *name, const kn_param_def *defs, const void *par)
{
    char text[96], buf[128];
    kn_status e = kn_param_get_text(kn_param_find(defs, name), par, text, sizeof text);
    if (e != KN_OK) return e;
    snprintf(buf, sizeof buf, "%s=%s", name, text);
    return kn_model_set(m, buf);
}

static kn_status kmf_fit(kn_step *st, const kn_frame *x, const size_t *cols, size_t p)
{
    const kmf_params *par = kn_step_params(st);
    size_t rows = kn_frame_n_rows(x);
    kn_status e = check_columns(st, x, cols, p);
    if (e != KN_OK) return e;
    if (p == 0)
        return kn_fail(KN_ERR_INVALID, "%s: no columns to cluster; name numeric columns",
                       kn_step_name(st));
    if ((size_t)par->n_clusters > rows)
        return kn_fail(KN_ERR_INVALID,
                       "%s: n_clusters=%lld is more than the %zu training rows; choose at most %zu",
                       kn_step_name(st), (long long)par->n_clusters, rows, rows);
    static const char *const pass[] = {"n_clusters", "n_init",    "max_iter",  "tol",
                                       "seed",       "algorithm", "batch_size"};
    kn_model *m = NULL;
    kn_frame *sub = NULL;
    kmf_state *s = NULL;
    e = kn_model_new("kmeans", &m);
    for (size_t i = 0; e == KN_OK && i < sizeof pass / sizeof *pass; i++)
        e = set_param(m, pass[i], kmf_defs, par);
    if (e == KN_OK) e = kn_model_set(m, "silhouette_rows=0");
    if (e == KN_OK) e = kn_frame_select_cols(x, cols, p, &sub);
    for (size_t j = 0; e == KN_OK && j < p; j++)
        kn_column_set_role(kn_frame_col(sub, j), KN_ROLE_FEATURE);
    if (e == KN_OK) e = kn_model_fit(m, sub, NULL, NULL);
    size_t k = 0, mp = 0;
    const double *cen = e == KN_OK ? kn__kmeans_centres(m, &k, &mp) : NULL;
    if (e == KN_OK && (!cen || mp != p))
        e = kn_fail(KN_ERR_INTERNAL, "%s: the fitted k-means has no centres", kn_step_name(st));
    if (e == KN_OK && !(s = kn_calloc(1, sizeof *s))) e = KN_ERR_NOMEM;
    if (e == KN_OK && !(s->centre = kn_malloc(k * p * sizeof *s->centre))) e = KN_ERR_NOMEM;
    if (e == KN_OK) {
        s->k = k;
        s->p = p;
        memcpy(s->centre, cen, k * p * sizeof *cen);
        kn_step_set_state(st, s);
        s = NULL;
    }
    kmf_free(s);
    kn_frame_free(sub);
    kn_model_free(m);
    return e == KN_OK ? e : kn_fail_prefix(e, "%s: ", kn_step_name(st));
}

static void order_desc(const size_t *cols, size_t n, size_t *order)
{
    for (size_t i = 0; i < n; i++) order[i] = i;
    for (size_t i = 1; i < n; i++)
        for (size_t j = i; j > 0 && cols[order[j]] > cols[order[j - 1]]; j--) {
            size_t t = order[j];
            order[j] = order[j - 1];
            order[j - 1] = t;
        }
}

static kn_status kmf_apply(const kn_step *st, kn_frame *out, const size_t *cols, size_t p)
{
    const kmf_params *par = kn_step_params(st);
    const kmf_state *s = kn_step_state(st);
    size_t rows = kn_frame_n_rows(out);
    kn_status e = check_columns(st, out, cols, p);
    if (e != KN_OK) return e;
    size_t last = cols[0];
    for (size_t j = 1; j < p; j++)
        if (cols[j] > last) last = cols[j];
    const double **in = kn_malloc(p * sizeof *in);
    double **dist = kn_malloc(s->k * sizeof *dist);
    if (!in || !dist) e = KN_ERR_NOMEM;
    for (size_t j = 0; e == KN_OK && j < p; j++) in[j] = kn_column_f64(kn_frame_col(out, cols[j]));
    for (size_t c = 0; e == KN_OK && c < s->k; c++) {
        char *name = kn_sprintf("%s%zu", par->prefix, c + 1);
        kn_column *col = NULL;
        e = name ? kn_frame_insert_column(out, last + 1 + c, name, KN_COL_NUMERIC, &col)
                 : KN_ERR_NOMEM;
        kn_free(name);
        if (e == KN_OK) dist[c] = kn_column_f64(col);
    }
    for (size_t r = 0; e == KN_OK && r < rows; r++)
        for (size_t c = 0; c < s->k; c++) {
            const double *cc = s->centre + c * p;
            double d2 = 0;
            for (size_t j = 0; j < p; j++) {
                double d = in[j][r] - cc[j];
                d2 += d * d;
            }
            dist[c][r] = sqrt(d2);
        }
    kn_free((void *)in);
    kn_free(dist);
    if (e == KN_OK && !par->keep) {
        size_t *order = kn_malloc(p * sizeof *order);
        if (!order) return KN_ERR_NOMEM;
        order_desc(cols, p, order);
        for (size_t j = 0; e == KN_OK && j < p; j++)
            e = kn_frame_remove_column(out, cols[order[j]]);
        kn_free(order);
    }
    return e;
}

static kn_status kmf_save(const kn_step *st, kn_wbuf *w)
{
    const kmf_state *s = kn_step_state(st);
    kn_wbuf_u64(w, s->p);
    kn_wbuf_u64(w, s->k);
    kn_wbuf_f64s(w, s->centre, s->k * s->p);
    return kn_wbuf_status(w);
}

static kn_status kmf_load(kn_step *st, kn_rbuf *r, size_t p)
{
    uint64_t sp = 0, k = 0;
    kn_status e = kn_rbuf_u64(r, &sp);
    if (e == KN_OK) e = kn_rbuf_u64(r, &k);
    if (e != KN_OK) return e;
    if (sp != p || k == 0 || (p && k > kn_rbuf_left(r) / 8 / p))
        return kn_fail(KN_ERR_CORRUPT, "%s: kmeans_features state is damaged", r->what);
    kmf_state *s = kn_calloc(1, sizeof *s);
    if (s) s->centre = kn_malloc((k * p + 1) * sizeof *s->centre);
    if (!s || !s->centre) {
        kmf_free(s);
        return KN_ERR_NOMEM;
    }
    s->k = k;
    s->p = p;
    for (size_t v = 0; e == KN_OK && v < k * p; v++) e = kn_rbuf_f64(r, &s->centre[v]);
    if (e != KN_OK) {
        kmf_free(s);
        return e;
    }
    kn_step_set_state(st, s);
    return KN_OK;
}

static const kn_step_vt kmf_vt = {.default_type = KN_COL_NUMERIC,
                                  .fit = kmf_fit,
                                  .transform = kmf_apply,
                                  .free_state = kmf_free,
                                  .save = kmf_save,
                                  .load = kmf_load};

const kn_component kn__kmeans_features = {
    KN_COMP_STEP,
    "kmeans_features",
    "k-means on the selected columns; adds each row's distance to every centre",
    kmf_defs,
    sizeof(kmf_params),
    &kmf_vt};
