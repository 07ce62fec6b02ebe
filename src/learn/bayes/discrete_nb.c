/* Naive Bayes for discrete features, as scikit-learn computes them:
 *   multinomial_nb  counts (non-negative values): per class, the smoothed
 *                   share of each feature in the class's total count;
 *                   score = sum_j x_j log theta_cj
 *   bernoulli_nb    presence (x > binarize): per class, the smoothed
 *                   probability that a feature is present, absent
 *                   features counting too
 *   categorical_nb  category codes 0, 1, ... per feature (e.g. from
 *                   ordinal_encoder): per class and feature, the smoothed
 *                   frequency of each category
 * Smoothing adds alpha to every count (alpha below 1e-10 is raised to
 * 1e-10, as sklearn does). Class priors are the (weighted) class shares,
 * or uniform with fit_prior=false. Bernoulli is the categorical model over
 * two categories (absent, present), which is what sklearn's formula is.
 * A category code never seen in training (above the largest one) scores
 * as an unseen category, alpha / (class total + alpha * categories),
 * where sklearn would fail. */
#include "kiln/mem.h"
#include "kiln/model.h"
#include "learn/learn-impl.h"

#include <math.h>
#include <string.h>

enum { NB_MULTINOMIAL, NB_BERNOULLI, NB_CATEGORICAL };

typedef struct dnb_params {
    double alpha;
    int fit_prior;
    double binarize;
    const char *class_weight;
} dnb_params;

static const kn_param_def multinomial_defs[] = {
    KN_PARAM_DOUBLE(dnb_params, alpha, "1", 0, 1e300, "additive (Laplace) smoothing"),
    KN_PARAM_BOOL(dnb_params, fit_prior, "true", "class priors from the data (false: uniform)"),
    KN__CLASS_WEIGHT(dnb_params), KN_PARAM_END};

static const kn_param_def bernoulli_defs[] = {
    KN_PARAM_DOUBLE(dnb_params, alpha, "1", 0, 1e300, "additive (Laplace) smoothing"),
    KN_PARAM_BOOL(dnb_params, fit_prior, "true", "class priors from the data (false: uniform)"),
    KN_PARAM_DOUBLE(dnb_params, binarize, "0", -1e300, 1e300,
                    "a feature is present when its value exceeds this"),
    KN__CLASS_WEIGHT(dnb_params), KN_PARAM_END};

#define categorical_defs multinomial_defs

typedef struct dnb_state {
    int kind;
    size_t k, p;
    double binarize;
    uint32_t *ncat; /* categories per feature (categorical, bernoulli: 2) */
    size_t *offset; /* start of feature j's block in a class row */
    size_t width;   /* table columns: p (multinomial) or sum of ncat */
    double *table;  /* k x width, log probabilities */
    double *unseen; /* k x p: log score of an unseen category (categorical) */
    double *log_prior;
} dnb_state;

static void dnb_free(void *v)
{
    dnb_state *s = v;
    if (!s) return;
    kn_free(s->ncat);
    kn_free(s->offset);
    kn_free(s->table);
    kn_free(s->unseen);
    kn_free(s->log_prior);
    kn_free(s);
}

/* Allocates the arrays once kind, k, p and ncat (when categorical) are set. */
static kn_status dnb_alloc_tables(dnb_state *s)
{
    size_t k = s->k, p = s->p;
    s->offset = kn_calloc(p + 1, sizeof *s->offset);
    if (!s->offset) return KN_ERR_NOMEM;
    s->width = 0;
    for (size_t j = 0; j < p; j++) {
        s->offset[j] = s->width;
        s->width += s->kind == NB_MULTINOMIAL ? 1 : s->ncat[j];
    }
    s->table = kn_calloc(k * s->width + 1, sizeof *s->table);
    s->unseen = kn_calloc(k * p + 1, sizeof *s->unseen);
    s->log_prior = kn_calloc(k + 1, sizeof *s->log_prior);
    return s->table && s->unseen && s->log_prior ? KN_OK : KN_ERR_NOMEM;
}

/* The category of x for feature j: bernoulli 0/1, categorical the code
 * (SIZE_MAX when beyond the trained ones). */
static size_t category(const dnb_state *s, size_t j, double x)
{
    if (s->kind == NB_BERNOULLI) return x > s->binarize;
    return x >= 0 && x < (double)s->ncat[j] && x == floor(x) ? (size_t)x : SIZE_MAX;
}

static kn_status check_values(const kn_model *m, int kind, const kn_dataset *d)
{
    for (size_t j = 0; j < d->p; j++)
        for (size_t i = 0; i < d->n; i++) {
            double x = d->x[j * d->n + i];
            if (kind == NB_MULTINOMIAL && x < 0)
                return kn_fail(KN_ERR_INVALID,
                               "%s: feature '%s', row %zu is %g; counts must be >= 0",
                               kn_model_name(m), d->names[j], i + 1, x);
            if (kind == NB_CATEGORICAL && (x < 0 || x != floor(x) || x > 1e9))
                return kn_fail(KN_ERR_INVALID,
                               "%s: feature '%s', row %zu is %g; categories must be codes 0, 1, "
                               "2, ... (encode with ordinal_encoder)",
                               kn_model_name(m), d->names[j], i + 1, x);
        }
    return KN_OK;
}

static kn_status dnb_fit_rows(kn_model *m, const kn_dataset *d, int kind)
{
    const dnb_params *par = kn_model_params(m);
    size_t n = d->n, p = d->p, k = d->n_classes;
    kn_status e = check_values(m, kind, d);
    if (e != KN_OK) return e;
    dnb_state *s = kn_calloc(1, sizeof *s);
    double *class_w = kn_calloc(k, sizeof *class_w);
    if (!s || !class_w || !(s->ncat = kn_calloc(p + 1, sizeof *s->ncat))) {
        dnb_free(s);
        kn_free(class_w);
        return KN_ERR_NOMEM;
    }
    s->kind = kind;
    s->k = k;
    s->p = p;
    s->binarize = kind == NB_BERNOULLI ? par->binarize : 0;
    for (size_t j = 0; j < p; j++) {
        double mx = 0;
        for (size_t i = 0; kind == NB_CATEGORICAL && i < n; i++) mx = fmax(mx, d->x[j * n + i]);
        s->ncat[j] = kind == NB_BERNOULLI ? 2 : (uint32_t)mx + 1;
    }
    e = dnb_alloc_tables(s);
    double alpha = fmax(par->alpha, 1e-10), total = 0;
    for (size_t i = 0; e == KN_OK && i < n; i++) {
        double w = d->w ? d->w[i] : 1;
        size_t c = (size_t)d->y[i];
        class_w[c] += w;
        total += w;
        double *row = s->table + c * s->width; /* counts first, logs after */
        for (size_t j = 0; j < p; j++) {
            double x = d->x[j * n + i];
            if (kind == NB_MULTINOMIAL)
                row[j] += w * x;
            else
                row[s->offset[j] + category(s, j, x)] += w;
        }
    }
    for (size_t c = 0; e == KN_OK && c < k; c++) {
        double *row = s->table + c * s->width;
        if (kind == NB_MULTINOMIAL) {
            double sum = 0;
            for (size_t j = 0; j < p; j++) sum += row[j] + alpha;
            for (size_t j = 0; j < p; j++) row[j] = log(row[j] + alpha) - log(sum);
        } else
            for (size_t j = 0; j < p; j++) {
                double denom = log(class_w[c] + alpha * s->ncat[j]);
                for (size_t t = 0; t < s->ncat[j]; t++)
                    row[s->offset[j] + t] = log(row[s->offset[j] + t] + alpha) - denom;
                s->unseen[c * p + j] = log(alpha) - denom;
            }
        s->log_prior[c] = par->fit_prior ? log(class_w[c] / total) : -log((double)k);
    }
    kn_free(class_w);
    if (e != KN_OK) {
        dnb_free(s);
        return e;
    }
    kn_model_set_state(m, s);
    return KN_OK;
}

/* The fit with class_weight applied to the rows' weights. */
static kn_status dnb_fit_kind(kn_model *m, const kn_dataset *d, int kind)
{
    const dnb_params *par = kn_model_params(m);
    kn_dataset dw;
    double *w = NULL;
    kn_status e = kn__class_weighted(d, par->class_weight, &dw, &w);
    if (e == KN_OK) e = dnb_fit_rows(m, &dw, kind);
    kn_free(w);
    return e;
}

/* Joint log likelihood, n x k row-major. */
static void dnb_jll(const dnb_state *s, const kn_dataset *d, double *out)
{
    size_t n = d->n, k = s->k, p = s->p;
    for (size_t i = 0; i < n; i++)
        for (size_t c = 0; c < k; c++) out[i * k + c] = s->log_prior[c];
    for (size_t j = 0; j < p; j++) {
        const double *x = d->x + j * n;
        for (size_t c = 0; c < k; c++) {
            const double *row = s->table + c * s->width;
            for (size_t i = 0; i < n; i++) {
                if (s->kind == NB_MULTINOMIAL) {
                    out[i * k + c] += x[i] * row[j];
                    continue;
                }
                size_t t = category(s, j, x[i]);
                out[i * k + c] += t == SIZE_MAX ? s->unseen[c * p + j] : row[s->offset[j] + t];
            }
        }
    }
}

static kn_status dnb_proba(const kn_model *m, const kn_dataset *d, double *out)
{
    const dnb_state *s = kn_model_state(m);
    dnb_jll(s, d, out);
    kn__softmax_rows(out, d->n, s->k);
    return KN_OK;
}

static kn_status dnb_predict(const kn_model *m, const kn_dataset *d, double *out)
{
    const dnb_state *s = kn_model_state(m);
    double *j = kn_malloc((d->n ? d->n * s->k : 1) * sizeof *j);
    if (!j) return KN_ERR_NOMEM;
    dnb_jll(s, d, j);
    kn__argmax_rows(j, d->n, s->k, out);
    kn_free(j);
    return KN_OK;
}

static kn_status dnb_save(const kn_model *m, kn_wbuf *w)
{
    const dnb_state *s = kn_model_state(m);
    kn_wbuf_u32(w, (uint32_t)s->kind);
    kn_wbuf_u64(w, s->k);
    kn_wbuf_u64(w, s->p);
    kn_wbuf_f64(w, s->binarize);
    for (size_t j = 0; j < s->p; j++) kn_wbuf_u32(w, s->ncat[j]);
    kn_wbuf_f64s(w, s->table, s->k * s->width);
    kn_wbuf_f64s(w, s->unseen, s->k * s->p);
    kn_wbuf_f64s(w, s->log_prior, s->k);
    return KN_OK;
}

static kn_status dnb_load(kn_model *m, kn_rbuf *r)
{
    uint32_t kind = 0;
    uint64_t k = 0, p = 0;
    kn_status e = kn_rbuf_u32(r, &kind);
    if (e == KN_OK) e = kn_rbuf_u64(r, &k);
    if (e == KN_OK) e = kn_rbuf_u64(r, &p);
    if (e == KN_OK &&
        (kind > NB_CATEGORICAL || k != kn_model_n_classes(m) || p != kn_model_n_features(m)))
        return kn_fail(KN_ERR_CORRUPT, "%s: naive Bayes state does not match the model's shape",
                       r->what);
    if (e != KN_OK) return e;
    dnb_state *s = kn_calloc(1, sizeof *s);
    if (!s || !(s->ncat = kn_calloc((size_t)p + 1, sizeof *s->ncat))) {
        dnb_free(s);
        return KN_ERR_NOMEM;
    }
    s->kind = (int)kind;
    s->k = (size_t)k;
    s->p = (size_t)p;
    e = kn_rbuf_f64(r, &s->binarize);
    for (size_t j = 0; e == KN_OK && j < s->p; j++) {
        e = kn_rbuf_u32(r, &s->ncat[j]);
        if (e == KN_OK && s->kind != NB_MULTINOMIAL && (s->ncat[j] == 0 || s->ncat[j] > 1u << 30))
            e = kn_fail(KN_ERR_CORRUPT, "%s: a feature has %u categories", r->what, s->ncat[j]);
    }
    size_t cells = 0, left = (size_t)(r->end - r->p) / sizeof(double);
    for (size_t j = 0; e == KN_OK && j < s->p; j++)
        cells += s->kind == NB_MULTINOMIAL ? 1 : s->ncat[j];
    if (e == KN_OK && (cells > left || (s->k && cells * s->k > left)))
        e = kn_fail(KN_ERR_CORRUPT, "%s: naive Bayes tables larger than the file", r->what);
    if (e == KN_OK) e = dnb_alloc_tables(s);
    if (e == KN_OK) e = kn_rbuf_bytes(r, s->table, s->k * s->width * sizeof *s->table);
    if (e == KN_OK) e = kn_rbuf_bytes(r, s->unseen, s->k * s->p * sizeof *s->unseen);
    if (e == KN_OK) e = kn_rbuf_bytes(r, s->log_prior, s->k * sizeof *s->log_prior);
    if (e != KN_OK) {
        dnb_free(s);
        return e;
    }
    kn_model_set_state(m, s);
    return KN_OK;
}

static kn_status multinomial_fit(kn_model *m, const kn_dataset *d)
{
    return dnb_fit_kind(m, d, NB_MULTINOMIAL);
}
static kn_status bernoulli_fit(kn_model *m, const kn_dataset *d)
{
    return dnb_fit_kind(m, d, NB_BERNOULLI);
}
static kn_status categorical_fit(kn_model *m, const kn_dataset *d)
{
    return dnb_fit_kind(m, d, NB_CATEGORICAL);
}

#define DNB_VT(fit_fn)                                                                             \
    {                                                                                              \
        .task = KN_TASK_CLASSIFICATION, .fit = fit_fn, .predict = dnb_predict,                     \
        .predict_proba = dnb_proba, .free_state = dnb_free, .save = dnb_save, .load = dnb_load     \
    }
static const kn_model_vt multinomial_vt = DNB_VT(multinomial_fit),
                         bernoulli_vt = DNB_VT(bernoulli_fit),
                         categorical_vt = DNB_VT(categorical_fit);

const kn_component kn__multinomial_nb = {
    KN_COMP_MODEL,    "multinomial_nb",   "naive Bayes for counts (word counts, event tallies)",
    multinomial_defs, sizeof(dnb_params), &multinomial_vt};
const kn_component kn__bernoulli_nb = {
    KN_COMP_MODEL,  "bernoulli_nb",     "naive Bayes for binary (present/absent) features",
    bernoulli_defs, sizeof(dnb_params), &bernoulli_vt};
const kn_component kn__categorical_nb = {
    KN_COMP_MODEL,    "categorical_nb",   "naive Bayes for category codes (ordinal-encoded)",
    categorical_defs, sizeof(dnb_params), &categorical_vt};
