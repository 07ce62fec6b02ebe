/* pca: principal component analysis. Fit centres the selected numeric columns
 * and takes their thin SVD through LAPACK (dgesvd, right singular vectors
 * only); transform replaces those columns by the scores on the first k
 * components, named <prefix>1..<prefix>k, at the place of the first one.
 * Signs follow scikit-learn's convention (each component's score with the
 * largest magnitude on the training rows is positive), so results agree
 * with sklearn.decomposition.PCA including sign. The explained variance and
 * its ratio per component are logged at fit and kept in the state. */
#include "kiln/log.h"
#include "kiln/mem.h"
#include "kiln/step.h"
#include "prep/prep-impl.h"

#include <lapacke.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

typedef struct pca_params {
    kn_step_common common;
    int64_t n_components;
    double variance;
    int whiten;
    const char *prefix;
} pca_params;

static const kn_param_def pca_defs[] = {
    KN_STEP_COMMON_PARAMS(pca_params),
    KN_PARAM_INT(pca_params, n_components, "0", 0, 1000000,
                 "components to keep (0: all, or as `variance` decides)"),
    KN_PARAM_DOUBLE(pca_params, variance, "0", 0, 1,
                    "keep the fewest components explaining more than this fraction (0: off)"),
    KN_PARAM_BOOL(pca_params, whiten, "false", "divide scores by the component's std"),
    KN_PARAM_STRING(pca_params, prefix, "pc", "output column names: prefix1, prefix2, ..."),
    KN_PARAM_END};

typedef struct pca_state {
    size_t p, k;
    double *mean;       /* p */
    double *components; /* k x p, row-major */
    double *variance;   /* k: explained variance (ddof 1) */
    double *ratio;      /* k: fraction of the total variance */
    double *divisor;    /* k: sqrt(variance) when whitening, else 1 */
} pca_state;

static void pca_free(void *p)
{
    pca_state *s = p;
    if (!s) return;
    kn_free(s->mean);
    kn_free(s->components);
    kn_free(s->variance);
    kn_free(s->ratio);
    kn_free(s->divisor);
    kn_free(s);
}

static kn_status pca_alloc(size_t p, size_t k, pca_state **out)
{
    pca_state *s = kn_calloc(1, sizeof *s);
    if (!s) return KN_ERR_NOMEM;
    s->p = p;
    s->k = k;
    s->mean = kn_calloc(p ? p : 1, sizeof *s->mean);
    s->components = kn_calloc((k * p) > 0 ? k * p : 1, sizeof *s->components);
    s->variance = kn_calloc(k ? k : 1, sizeof *s->variance);
    s->ratio = kn_calloc(k ? k : 1, sizeof *s->ratio);
    s->divisor = kn_calloc(k ? k : 1, sizeof *s->divisor);
    if (!s->mean || !s->components || !s->variance || !s->ratio || !s->divisor) {
        pca_free(s);
        return KN_ERR_NOMEM;
    }
    *out = s;
    return KN_OK;
}

/* Numeric, no missing values (PCA has no meaning for a gap: impute first). */
static kn_status check_column(const kn_step *st, kn_column *c, size_t rows)
{
    if (kn_column_type(c) != KN_COL_NUMERIC)
        return kn_fail(KN_ERR_TYPE, "%s: column '%s' is %s; it takes numeric columns",
                       kn_step_name(st), kn_column_name(c), kn_col_type_name(kn_column_type(c)));
    const double *v = kn_column_f64(c);
    for (size_t r = 0; r < rows; r++)
        if (isnan(v[r]))
            return kn_fail(KN_ERR_INVALID,
                           "%s: column '%s', row %zu is missing; PCA needs complete rows "
                           "(put simple_imputer before it)",
                           kn_step_name(st), kn_column_name(c), r + 1);
    return KN_OK;
}

/* How many components to keep, from the parameters and the variance ratios. */
static size_t choose_k(const pca_params *p, const double *ratio, size_t m)
{
    if (p->variance > 0) {
        double cum = 0;
        for (size_t i = 0; i < m; i++) {
            cum += ratio[i];
            if (cum > p->variance) return i + 1;
        }
        return m;
    }
    return p->n_components > 0 && (size_t)p->n_components < m ? (size_t)p->n_components : m;
}

/* Flip component i so that its largest-magnitude training score is positive. */
static void orient(const kn_frame *x, const size_t *cols, const double *mean, double *comp,
                   size_t p)
{
    size_t rows = kn_frame_n_rows(x);
    double best = -1, sign = 1;
    for (size_t r = 0; r < rows; r++) {
        double score = 0;
        for (size_t j = 0; j < p; j++)
            score += (kn_column_f64(kn_frame_col(x, cols[j]))[r] - mean[j]) * comp[j];
        if (fabs(score) > best) {
            best = fabs(score);
            sign = score < 0 ? -1 : 1;
        }
    }
    if (sign < 0)
        for (size_t j = 0; j < p; j++) comp[j] = -comp[j];
}

/* Centre the columns into a column-major n x p matrix and take its SVD. */
static kn_status svd(const kn_step *st, const kn_frame *x, const size_t *cols, size_t p,
                     double *mean, double *sv, double *vt, size_t m)
{
    size_t rows = kn_frame_n_rows(x);
    double *a = kn_malloc(rows * p * sizeof *a), *work = kn_malloc((m ? m : 1) * sizeof *work);
    if (!a || !work) {
        kn_free(a);
        kn_free(work);
        return KN_ERR_NOMEM;
    }
    for (size_t j = 0; j < p; j++) {
        const double *v = kn_column_f64(kn_frame_col(x, cols[j]));
        double sum = 0;
        for (size_t r = 0; r < rows; r++) sum += v[r];
        mean[j] = sum / (double)rows;
        for (size_t r = 0; r < rows; r++) a[j * rows + r] = v[r] - mean[j];
    }
    lapack_int info = LAPACKE_dgesvd(LAPACK_COL_MAJOR, 'N', 'S', (lapack_int)rows, (lapack_int)p, a,
                                     (lapack_int)rows, sv, NULL, 1, vt, (lapack_int)m, work);
    kn_free(a);
    kn_free(work);
    if (info != 0)
        return kn_fail(KN_ERR_INVALID, "%s: the SVD did not converge (LAPACK dgesvd info %d)",
                       kn_step_name(st), (int)info);
    return KN_OK;
}

static void log_variance(const kn_step *st, const pca_state *s)
{
    char buf[512];
    size_t len = 0;
    double total = 0;
    for (size_t i = 0; i < s->k; i++) total += s->ratio[i];
    for (size_t i = 0; i < s->k && i < 10 && len < sizeof buf - 32; i++)
        len += (size_t)snprintf(buf + len, sizeof buf - len, "%s%.1f%%", i ? ", " : "",
                                100 * s->ratio[i]);
    kn_log(KN_LOG_INFO, "%s: %zu of %zu components explain %.1f%% of the variance (%s%s)",
           kn_step_name(st), s->k, s->p, 100 * total, buf, s->k > 10 ? ", ..." : "");
}

static kn_status pca_fit(kn_step *st, const kn_frame *x, const size_t *cols, size_t p)
{
    const pca_params *par = kn_step_params(st);
    size_t rows = kn_frame_n_rows(x);
    for (size_t j = 0; j < p; j++) {
        kn_status e = check_column(st, kn_frame_col(x, cols[j]), rows);
        if (e != KN_OK) return e;
    }
    if (rows < 2 || p == 0)
        return kn_fail(KN_ERR_RANGE, "%s: needs at least 2 rows and 1 column (got %zu x %zu)",
                       kn_step_name(st), rows, p);
    size_t m = rows < p ? rows : p;
    double *mean = kn_malloc(p * sizeof *mean), *sv = kn_malloc(m * sizeof *sv);
    double *vt = kn_malloc(m * p * sizeof *vt);
    pca_state *s = NULL;
    kn_status e = mean && sv && vt ? svd(st, x, cols, p, mean, sv, vt, m) : KN_ERR_NOMEM;
    double total = 0;
    for (size_t i = 0; e == KN_OK && i < m; i++) total += sv[i] * sv[i];
    double ratio[m];
    for (size_t i = 0; e == KN_OK && i < m; i++) ratio[i] = total > 0 ? sv[i] * sv[i] / total : 0;
    size_t k = e == KN_OK ? choose_k(par, ratio, m) : 0;
    if (e == KN_OK) e = pca_alloc(p, k, &s);
    if (e == KN_OK) {
        memcpy(s->mean, mean, p * sizeof *mean);
        for (size_t i = 0; i < k; i++) {
            for (size_t j = 0; j < p; j++) s->components[i * p + j] = vt[j * m + i];
            orient(x, cols, mean, s->components + i * p, p);
            s->variance[i] = sv[i] * sv[i] / (double)(rows - 1);
            s->ratio[i] = ratio[i];
            s->divisor[i] = par->whiten ? kn__nonzero_scale(sqrt(s->variance[i])) : 1;
        }
        log_variance(st, s);
        kn_step_set_state(st, s);
    }
    kn_free(mean);
    kn_free(sv);
    kn_free(vt);
    return e;
}

static kn_status pca_apply(const kn_step *st, kn_frame *out, const size_t *cols, size_t p)
{
    const pca_params *par = kn_step_params(st);
    const pca_state *s = kn_step_state(st);
    size_t rows = kn_frame_n_rows(out);
    for (size_t j = 0; j < p; j++) {
        kn_status e = check_column(st, kn_frame_col(out, cols[j]), rows);
        if (e != KN_OK) return e;
    }
    size_t pos = cols[0];
    for (size_t j = 1; j < p; j++)
        if (cols[j] < pos) pos = cols[j];
    /* Scores go into new columns inserted after the inputs, which then go. */
    size_t last = pos;
    for (size_t j = 0; j < p; j++)
        if (cols[j] > last) last = cols[j];
    for (size_t i = 0; i < s->k; i++) {
        char *name = kn_sprintf("%s%zu", par->prefix, i + 1);
        if (!name) return KN_ERR_NOMEM;
        kn_column *c;
        kn_status e = kn_frame_insert_column(out, last + 1 + i, name, KN_COL_NUMERIC, &c);
        kn_free(name);
        if (e != KN_OK) return e;
        double *score = kn_column_f64(c);
        memset(score, 0, rows * sizeof *score);
        const double *comp = s->components + i * p;
        for (size_t j = 0; j < p; j++) {
            const double *v = kn_column_f64(kn_frame_col(out, cols[j]));
            double mu = s->mean[j], w = comp[j];
            for (size_t r = 0; r < rows; r++) score[r] += (v[r] - mu) * w;
        }
        if (s->divisor[i] != 1)
            for (size_t r = 0; r < rows; r++) score[r] /= s->divisor[i];
    }
    size_t order[p];
    kn__order_desc(cols, p, order);
    for (size_t j = 0; j < p; j++) {
        kn_status e = kn_frame_remove_column(out, cols[order[j]]);
        if (e != KN_OK) return e;
    }
    return KN_OK;
}

static kn_status pca_save(const kn_step *st, kn_wbuf *w)
{
    const pca_state *s = kn_step_state(st);
    kn_wbuf_u64(w, s->p);
    kn_wbuf_u64(w, s->k);
    kn_wbuf_f64s(w, s->mean, s->p);
    kn_wbuf_f64s(w, s->components, s->k * s->p);
    kn_wbuf_f64s(w, s->variance, s->k);
    kn_wbuf_f64s(w, s->ratio, s->k);
    kn_wbuf_f64s(w, s->divisor, s->k);
    return KN_OK;
}

static kn_status pca_load(kn_step *st, kn_rbuf *r, size_t p)
{
    uint64_t k = 0;
    kn_status e = kn__state_count(r, p, "pca");
    if (e == KN_OK) e = kn_rbuf_u64(r, &k);
    if (e == KN_OK && (k == 0 || k > p))
        return kn_fail(KN_ERR_CORRUPT, "%s: pca state keeps %llu components of %zu columns",
                       r->what, (unsigned long long)k, p);
    if (e != KN_OK) return e;
    pca_state *s = kn_calloc(1, sizeof *s);
    if (!s) return KN_ERR_NOMEM;
    s->p = p;
    s->k = (size_t)k;
    e = kn__decode_f64s(r, p, &s->mean);
    if (e == KN_OK) e = kn__decode_f64s(r, s->k * p, &s->components);
    if (e == KN_OK) e = kn__decode_f64s(r, s->k, &s->variance);
    if (e == KN_OK) e = kn__decode_f64s(r, s->k, &s->ratio);
    if (e == KN_OK) e = kn__decode_f64s(r, s->k, &s->divisor);
    if (e != KN_OK) {
        pca_free(s);
        return e;
    }
    kn_step_set_state(st, s);
    return KN_OK;
}

static const kn_step_vt pca_vt = {.default_type = KN_COL_NUMERIC,
                                  .fit = pca_fit,
                                  .transform = pca_apply,
                                  .free_state = pca_free,
                                  .save = pca_save,
                                  .load = pca_load};

const kn_component kn__pca = {KN_COMP_STEP,
                              "pca",
                              "principal components (SVD through LAPACK), explained variance",
                              pca_defs,
                              sizeof(pca_params),
                              &pca_vt};
