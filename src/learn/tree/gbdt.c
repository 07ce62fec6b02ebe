/* Histogram gradient boosting (as LightGBM, XGBoost tree_method=hist and
 * scikit-learn's HistGradientBoosting): features binned once (bins.h),
 * each round one tree per class grown on the loss's gradients and
 * hessians (hist_tree.h), leaf values shrunk by the learning rate.
 *
 * Objectives: log_loss (binary: one logit; more classes: softmax, one tree
 * per class and round), squared_error, poisson (log link), absolute_error
 * (trees grown on the gradient's sign, leaf values then set to the median
 * residual of their rows, as scikit-learn and LightGBM do) and huber
 * (residuals beyond a per-round quantile of |y - f| count linearly). Rows may be
 * subsampled per round and features per tree (seeded). With
 * early_stopping_rounds > 0, a seeded validation_fraction of the rows is
 * held out and boosting stops when its loss has not improved for that many
 * rounds; the model keeps the best round. Missing values go to the side
 * each split learned. A prediction may use the first rounds only
 * (kn_predict_opts.rounds, or the predict_rounds parameter saved with the
 * model): trees are stored round-major. */
#include "kiln/progress.h"
#include "core/ctx-impl.h"
#include "kiln/ctx.h"
#include "kiln/log.h"
#include "kiln/mem.h"
#include "kiln/model.h"
#include "kiln/rng.h"
#include "learn/tree/bins.h"
#include "learn/tree/gbdt-impl.h"
#include "learn/tree/flat_forest.h"
#include "learn/tree/hist_tree.h"
#include "learn/learn-impl.h"
#include "learn/tree/logloss.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* max_delta_step's default for softmax (see the parameter) */
#define SOFTMAX_DELTA_STEP 4.0

static const kn_param_def gbdt_defs[] = {
    KN_PARAM_ENUM(gbdt_params, objective, "log_loss",
                  "log_loss|squared_error|poisson|absolute_error|huber",
                  "log_loss: classification (binary or softmax); the others regress"),
    KN_PARAM_DOUBLE(gbdt_params, huber_quantile, "0.9", 1e-6, 1,
                    "huber: residuals beyond this quantile of |y - f| (each round) count "
                    "linearly"),
    KN_PARAM_INT(gbdt_params, n_estimators, "100", 1, 1000000, "boosting rounds"),
    KN_PARAM_DOUBLE(gbdt_params, learning_rate, "0.1", 1e-12, 1e6, "shrinkage of each tree"),
    KN_PARAM_INT(gbdt_params, max_leaves, "31", 0, 1 << 24,
                 "leaves per tree at most (0: no limit; growth is best-first)"),
    KN_PARAM_INT(gbdt_params, max_depth, "0", 0, 64, "depth per tree at most (0: no limit)"),
    KN_PARAM_INT(gbdt_params, min_samples_leaf, "20", 1, 1e15, "rows per leaf at least"),
    KN_PARAM_DOUBLE(gbdt_params, min_child_weight, "1e-3", 0, 1e300,
                    "hessian sum per leaf at least"),
    KN_PARAM_DOUBLE(gbdt_params, l2, "0", 0, 1e300, "L2 penalty on leaf values (lambda)"),
    KN_PARAM_DOUBLE(gbdt_params, l1, "0", 0, 1e300, "L1 penalty on leaf values (alpha)"),
    KN_PARAM_DOUBLE(gbdt_params, min_split_gain, "0", 0, 1e300,
                    "a split must gain more than this (gamma)"),
    /* softmax on tiny classes: their hessians p (1 - p) vanish, and with
     * l2 = 0 a leaf of a dozen rows at p = 0.001 steps by -G / H = 1,000,
     * after which one class wins everywhere (balanced accuracy 1/k, as
     * scikit-learn's HistGradientBoosting there); a bound of 4 logits
     * keeps the step sane and leaves ordinary leaves alone */
    KN_PARAM_DOUBLE(gbdt_params, max_delta_step, "-1", -1, 1e300,
                    "largest leaf value before the learning rate: bounds Newton steps where "
                    "hessians are tiny (0: no limit; -1: 4 for softmax, no limit otherwise)"),
    KN_PARAM_INT(gbdt_params, max_bins, "255", 2, 255, "bins per feature (quantiles)"),
    KN_PARAM_DOUBLE(gbdt_params, subsample, "1", 1e-9, 1, "share of rows drawn for each round"),
    KN_PARAM_DOUBLE(gbdt_params, colsample, "1", 1e-9, 1, "share of features drawn for each tree"),
    KN_PARAM_INT(gbdt_params, early_stopping_rounds, "0", 0, 1000000,
                 "stop after this many rounds without improvement on the validation rows "
                 "(0: off)"),
    KN_PARAM_DOUBLE(gbdt_params, validation_fraction, "0.1", 1e-9, 0.9,
                    "share of rows held out for early stopping"),
    KN_PARAM_DOUBLE(gbdt_params, tol, "1e-7", 0, 1e300,
                    "a validation loss must fall by more than this to count as better"),
    KN__CLASS_WEIGHT(gbdt_params),
    KN_PARAM_INT(gbdt_params, seed, "0", 0, 1e15, "seed of the sampling and the binning sample"),
    KN_PARAM_STRING(gbdt_params, monotone, "",
                    "monotone constraints: 1 (prediction never falls as the feature grows), "
                    "-1 (never rises) or 0, one per feature (1,0,-1) or by name (age:1,debt:-1)"),
    KN_PARAM_ENUM(gbdt_params, importance, "gain", "gain|split",
                  "feature importance: total split gain, or the number of splits"),
    KN_PARAM_INT(gbdt_params, predict_rounds, "0", 0, 1e15,
                 "predict with the first this many rounds (staged prediction; 0: all)"),
    KN_PARAM_END};

static kn_task gbdt_task(const kn_model *m)
{
    const gbdt_params *par = kn_model_params(m);
    return par->objective == OBJ_LOG_LOSS ? KN_TASK_CLASSIFICATION : KN_TASK_REGRESSION;
}

/* Gradients and hessians of row i's k raw scores f (weight w, label y). */
static inline void grad_hess(int objective, size_t k, const double *f, double y, double w,
                             double delta, double *g, double *h)
{
    if (objective == OBJ_ABSOLUTE) {
        g[0] = f[0] > y ? w : f[0] < y ? -w : 0;
        h[0] = w;
    } else if (objective == OBJ_HUBER) {
        g[0] = w * kn__at_most(kn__at_least(f[0] - y, -delta), delta);
        h[0] = w;
    } else if (objective == OBJ_SQUARED) {
        g[0] = w * (f[0] - y);
        h[0] = w;
    } else if (objective == OBJ_POISSON) {
        double mu = exp(f[0]);
        g[0] = w * (mu - y);
        h[0] = w * mu;
    } else if (k == 1)
        kn__logloss_row(f[0], y, w, g, h);
    else { /* g holds the exponentials until their sum is known */
        double mx = -INFINITY, sum = 0;
        for (size_t c = 0; c < k; c++) mx = f[c] > mx ? f[c] : mx;
        for (size_t c = 0; c < k; c++) sum += g[c] = exp(f[c] - mx);
        for (size_t c = 0; c < k; c++) {
            double pr = g[c] / sum;
            g[c] = w * (pr - (c == (size_t)y));
            h[c] = w * kn__at_least(pr * (1 - pr), 1e-16);
        }
    }
}

/* The loss of one row (for early stopping), weighted. */
static double row_loss(int objective, size_t k, const double *f, double y, double w, double delta)
{
    double r = fabs(f[0] - y);
    if (objective == OBJ_ABSOLUTE) return w * r;
    if (objective == OBJ_HUBER) return w * (r <= delta ? r * r / 2 : delta * (r - delta / 2));
    if (objective == OBJ_SQUARED) return w * (f[0] - y) * (f[0] - y) / 2;
    if (objective == OBJ_POISSON) return w * (exp(f[0]) - y * f[0]);
    if (k == 1) { /* log(1 + e^f) - y f */
        return w * (fmax(f[0], 0) + log1p(exp(-fabs(f[0]))) - y * f[0]);
    }
    double mx = -INFINITY, sum = 0;
    for (size_t c = 0; c < k; c++) mx = fmax(mx, f[c]);
    for (size_t c = 0; c < k; c++) sum += exp(f[c] - mx);
    /* sum >= 1: the largest score contributes exp(0) */
    // cppcheck-suppress invalidFunctionArg
    return w * (mx + log(sum) - f[(size_t)y]);
}

typedef struct wval {
    double v, w;
} wval;

static int by_v(const void *a, const void *b)
{
    double x = ((const wval *)a)->v, y = ((const wval *)b)->v;
    return (x > y) - (x < y);
}

/* The q-quantile of m weighted values (sorted in place): the first value
 * whose cumulative weight reaches q of the total; the median of unit
 * weights averages the two middle values (numpy's median), as
 * scikit-learn's absolute error does. */
static double wquantile(wval *v, size_t m, double q, int unit)
{
    if (m == 0) return 0;
    qsort(v, m, sizeof *v, by_v);
    if (unit && q == 0.5) return m % 2 ? v[m / 2].v : (v[m / 2 - 1].v + v[m / 2].v) / 2;
    double total = 0, cum = 0;
    for (size_t i = 0; i < m; i++) total += v[i].w;
    for (size_t i = 0; i < m; i++) {
        cum += v[i].w;
        if (cum >= q * total) return v[i].v;
    }
    return v[m - 1].v;
}

/* The starting raw scores: the best constant for the loss. */
static kn_status initial_scores(const gbdt_state *s, const kn_dataset *d, const double *w,
                                const uint32_t *rows, size_t m)
{
    double sw = 0, sy = 0;
    double *cls = kn_calloc(s->k, sizeof *cls);
    if (!cls) return KN_ERR_NOMEM;
    for (size_t t = 0; t < m; t++) {
        size_t i = rows[t];
        sw += w[i];
        sy += w[i] * d->y[i];
        if (s->objective == OBJ_LOG_LOSS && s->k > 1) cls[(size_t)d->y[i]] += w[i];
    }
    double mean = sw > 0 ? sy / sw : 0;
    kn_status e = KN_OK;
    if (s->objective == OBJ_SQUARED)
        s->init[0] = mean;
    else if (s->objective == OBJ_ABSOLUTE || s->objective == OBJ_HUBER) {
        wval *v = kn_malloc((m ? m : 1) * sizeof *v);
        if (!v) e = KN_ERR_NOMEM;
        for (size_t t = 0; v && t < m; t++) v[t] = (wval){d->y[rows[t]], w[rows[t]]};
        if (v) s->init[0] = wquantile(v, m, 0.5, d->w == NULL);
        kn_free(v);
    } else if (s->objective == OBJ_POISSON) {
        if (!(mean > 0))
            e = kn_fail(KN_ERR_INVALID, "gbdt: objective=poisson needs a positive mean target");
        else
            s->init[0] = log(mean);
    } else if (s->k == 1) {
        double pr = fmin(fmax(mean, 1e-15), 1 - 1e-15);
        s->init[0] = log(pr / (1 - pr));
    } else
        for (size_t c = 0; c < s->k; c++) s->init[c] = log(fmax(cls[c] / sw, 1e-15));
    kn_free(cls);
    return e;
}

/* Knuth's selection sampling: marks exactly want of n items (at least one
 * when n > 0), each subset equally likely; returns the count. */
static size_t choose(size_t n, size_t want, kn_rng *rng, uint8_t *mask)
{
    size_t got = 0;
    if (want == 0 && n > 0) want = 1;
    for (size_t i = 0; i < n; i++) {
        mask[i] = got < want && (double)(n - i) * kn_rng_uniform(rng) < (double)(want - got);
        got += mask[i];
    }
    return got;
}

/* The monotone parameter as one constraint per feature (NULL: none). */
static kn_status parse_monotone(const char *spec, const kn_dataset *d, int8_t **out)
{
    *out = NULL;
    if (!*spec) return KN_OK;
    int8_t *c = kn_calloc(d->p ? d->p : 1, 1);
    if (!c) return KN_ERR_NOMEM;
    int named = strchr(spec, ':') != NULL;
    size_t at = 0;
    for (const char *t = spec; *t;) {
        size_t len = strcspn(t, ","), j = at;
        const char *val = t;
        if (named) {
            const char *colon = memchr(t, ':', len);
            if (!colon) {
                kn_free(c);
                return kn_fail(KN_ERR_INVALID, "monotone: '%.*s' needs the form name:1", (int)len,
                               t);
            }
            for (j = 0; j < d->p; j++)
                if (strlen(d->names[j]) == (size_t)(colon - t) &&
                    !memcmp(d->names[j], t, (size_t)(colon - t)))
                    break;
            if (j == d->p) {
                kn_free(c);
                return kn_fail(KN_ERR_INVALID, "monotone: no feature named '%.*s'",
                               (int)(colon - t), t);
            }
            val = colon + 1;
        }
        size_t vlen = len - (size_t)(val - t);
        int v = vlen == 1 && *val == '1'                      ? 1
                : vlen == 1 && *val == '0'                    ? 0
                : vlen == 2 && val[0] == '-' && val[1] == '1' ? -1
                                                              : 2;
        if (v == 2 || j >= d->p) {
            kn_free(c);
            if (v == 2)
                return kn_fail(KN_ERR_INVALID, "monotone: '%.*s' is not 1, 0 or -1", (int)vlen,
                               val);
            return kn_fail(KN_ERR_INVALID, "monotone: more values than the %zu features", d->p);
        }
        c[j] = (int8_t)v;
        at++;
        t += len + (t[len] == ',');
    }
    if (!named && at != d->p) {
        kn_free(c);
        return kn_fail(KN_ERR_INVALID,
                       "monotone: %zu values for %zu features; give one per feature or use "
                       "name:value pairs",
                       at, d->p);
    }
    *out = c;
    return KN_OK;
}

typedef struct fit_work {
    uint8_t *codes;
    double *w, *f; /* weights; n x k scores (class-major) */
    float *g, *h;  /* n x k gradients and hessians (single precision: a memory-bound pass) */
    double w_max;  /* the largest weight of a training row */
    uint32_t *train, *val, *sample, *rows;
    uint8_t *allowed, *in_sample, *allowed_rows; /* features; rows by index; train rows */
    size_t n_train, n_val;
    int unit_weights; /* every row's weight is 1 */
    double delta;     /* huber: this round's threshold */
    int8_t *monotone; /* per feature, or NULL */
    int16_t (*scratch_q)[2];
    uint32_t *scratch_rows;    /* the tree grower's, kept between trees */
    uint8_t *codes_by_feature; /* the codes transposed (p x n) */
    int shared;                /* codes and codes_by_feature are a fit share's */
    wval *resid;               /* absolute error and huber: n residuals */
} fit_work;

/* The rows binned: the bins, the codes (n x p) and the codes transposed
 * (p x n, with 3 bytes of slack: a partition may read any code as a
 * dword). */
typedef struct binned {
    kn__bins bins;
    uint8_t *codes, *by_feature;
} binned;

static void binned_free(void *v)
{
    binned *b = v;
    if (!b) return;
    kn__bins_free(&b->bins);
    kn_free(b->codes);
    kn_free(b->by_feature);
    kn_free(b);
}

static kn_status bin_rows(const gbdt_params *par, const kn_dataset *d, binned *b)
{
    size_t n = d->n, p = d->p;
    kn_status e = kn__bins_fit(&b->bins, d, (size_t)par->max_bins, 200000, (uint64_t)par->seed);
    if (e == KN_OK) e = kn__bins_apply(&b->bins, d, &b->codes);
    if (e == KN_OK && !(b->by_feature = kn_calloc(n * p + 3, 1))) e = KN_ERR_NOMEM;
    if (e != KN_OK) return e;
#pragma omp parallel for schedule(static) if (n * p > 100000)
    for (size_t j = 0; j < p; j++)
        for (size_t i = 0; i < n; i++) b->by_feature[j * n + i] = b->codes[i * p + j];
    return KN_OK;
}

/* d's rows binned: from the model's fit share when a fit of the same rows
 * binned them alike (the bins depend on the feature values, max_bins and,
 * when rows are sampled for them, the seed), else binned here (and left in
 * the share). *own: binned here, not shared (the caller frees it). */
static kn_status bins_for(kn__fit_share *share, const gbdt_params *par, const kn_dataset *d,
                          const binned **out, binned **own)
{
    *own = NULL;
    /* (the sample of rows the edges come from: 200,000) */
    uint64_t key[6] = {0x67626474u /* "gbdt" */,
                       (uint64_t)par->max_bins,
                       d->n > 200000 ? (uint64_t)par->seed : 0,
                       d->n,
                       d->p,
                       d->n_levels != NULL};
    if (share && (*out = kn__fit_share_get(share, key, sizeof key))) return KN_OK;
    kn_ctx *prev = share ? kn__ctx_swap(kn__fit_share_ctx(share)) : NULL;
    binned *b = kn_calloc(1, sizeof *b);
    kn_status e = b ? bin_rows(par, d, b) : KN_ERR_NOMEM;
    if (share) kn__ctx_swap(prev);
    if (e != KN_OK) {
        binned_free(b);
        return e;
    }
    if (share) {
        binned *kept = kn__fit_share_put(share, key, sizeof key, b, binned_free);
        if (kept) {
            *out = kept;
            return KN_OK;
        }
        return bins_for(NULL, par, d, out, own); /* (not stored: binned again, owned) */
    }
    *out = *own = b;
    return KN_OK;
}

static void work_free(fit_work *w)
{
    if (!w->shared) kn_free(w->codes), kn_free(w->codes_by_feature);
    kn_free(w->w), kn_free(w->f), kn_free(w->g), kn_free(w->h);
    kn_free(w->train), kn_free(w->val), kn_free(w->sample), kn_free(w->rows);
    kn_free(w->allowed), kn_free(w->in_sample), kn_free(w->allowed_rows), kn_free(w->resid);
    kn_free(w->monotone), kn_free(w->scratch_q), kn_free(w->scratch_rows);
}

/* Row weights (sample weights times class weights) and the train /
 * validation split. */
static kn_status prepare(const gbdt_params *par, const kn_dataset *d, size_t classes, fit_work *w)
{
    size_t n = d->n;
    w->w = kn_malloc(n * sizeof *w->w);
    w->train = kn_malloc(n * sizeof *w->train);
    w->val = kn_malloc(n * sizeof *w->val);
    if (!w->w || !w->train || !w->val) return KN_ERR_NOMEM;
    kn_status e = kn__row_weights(d, classes >= 2 ? par->class_weight : NULL, 1, w->w);
    if (e != KN_OK) return e;
    w->unit_weights = 1;
    w->w_max = 0;
    for (size_t i = 0; i < n; i++) {
        w->unit_weights &= w->w[i] == 1;
        w->w_max = w->w[i] > w->w_max ? w->w[i] : w->w_max;
    }
    w->n_train = w->n_val = 0;
    if (par->early_stopping_rounds > 0) {
        kn_rng rng;
        kn_rng_init_stream(&rng, (uint64_t)par->seed, 0x7661); /* "va" */
        uint8_t *held = kn_malloc(n ? n : 1);
        if (!held) return KN_ERR_NOMEM;
        choose(n, (size_t)llround(par->validation_fraction * (double)n), &rng, held);
        for (size_t i = 0; i < n; i++)
            if (held[i])
                w->val[w->n_val++] = (uint32_t)i;
            else
                w->train[w->n_train++] = (uint32_t)i;
        kn_free(held);
        if (w->n_val == 0 || w->n_train < 2)
            return kn_fail(KN_ERR_INVALID,
                           "gbdt: validation_fraction=%g of %zu rows leaves no validation or "
                           "training rows; lower it or turn early stopping off",
                           par->validation_fraction, n);
    } else
        for (size_t i = 0; i < n; i++) w->train[w->n_train++] = (uint32_t)i;
    return KN_OK;
}

static double validation_loss(const gbdt_state *s, const kn_dataset *d, const fit_work *w)
{
    double loss = 0, sw = 0, *f = kn_malloc(s->k * sizeof *f);
    if (!f) return NAN;
    for (size_t t = 0; t < w->n_val; t++) {
        size_t i = w->val[t];
        for (size_t c = 0; c < s->k; c++) f[c] = w->f[c * d->n + i];
        loss += row_loss(s->objective, s->k, f, d->y[i], w->w[i], w->delta);
        sw += w->w[i];
    }
    kn_free(f);
    return sw > 0 ? loss / sw : 0;
}

/* One round: k trees on the gradients of the sampled training rows, their
 * leaf values added to every row's scores. */
static kn_status boost_round(gbdt_state *s, const gbdt_params *par, const kn_dataset *d,
                             const kn__bins *bins, fit_work *w, size_t round, size_t *node_cap)
{
    size_t n = d->n, p = d->p, k = s->k;
    if (s->objective == OBJ_HUBER) { /* the huber_quantile of the absolute residuals */
        for (size_t t = 0; t < w->n_train; t++) {
            size_t i = w->train[t];
            w->resid[t] = (wval){fabs(d->y[i] - w->f[i]), w->w[i]};
        }
        w->delta = wquantile(w->resid, w->n_train, par->huber_quantile, 0);
    }
    /* Single output: the gradients' largest magnitudes found on the way;
     * binary log loss, every training row in the tree: quantised on the way
     * too, at the scales of its bounds (|g| <= w, h <= w / 4), sparing the
     * grower a pass over the rows. */
    double g_max = 0, h_max = 0, ig = 0, ih = 0, g_scale = 0, h_scale = 0;
    int sampled = par->subsample < 1;
    int quantised = k == 1 && s->objective == OBJ_LOG_LOSS && !sampled;
    if (quantised) {
        kn__grow_data scales = {.n = n, .p = p, .codes_by_feature = w->codes_by_feature};
        kn__quant_scales(&scales, w->n_train, w->w_max, w->w_max / 4, &g_scale, &h_scale);
        ig = 1 / g_scale, ih = 1 / h_scale;
    }
    const uint32_t *train = w->n_train == n ? NULL : w->train; /* NULL: every row, in order */
    const double *wt = w->unit_weights ? NULL : w->w;
    if (k == 1 && s->objective == OBJ_LOG_LOSS && !train) {
        /* rows in order: in fixed slices (vectorised), maxima merged */
        size_t slices = (n + 65535) / 65536;
#pragma omp parallel for schedule(static) reduction(max : g_max, h_max) if (n > 100000)
        for (size_t b = 0; b < slices; b++) {
            size_t i0 = b * 65536, len = n - i0 < 65536 ? n - i0 : 65536;
            kn__logloss_grads(w->f + i0, d->y + i0, wt ? wt + i0 : NULL, len, w->g + i0, w->h + i0,
                              quantised ? w->scratch_q + i0 : NULL, ig, ih, &g_max, &h_max);
        }
    } else if (k == 1) { /* scores in place */
#pragma omp parallel for schedule(static) reduction(max : g_max, h_max) if (w->n_train > 10000)
        for (size_t t = 0; t < w->n_train; t++) {
            size_t i = train ? train[t] : t;
            double g, h;
            grad_hess(s->objective, 1, w->f + i, d->y[i], wt ? wt[i] : 1, w->delta, &g, &h);
            w->g[i] = (float)g, w->h[i] = (float)h;
            if (quantised) {
                w->scratch_q[i][0] = kn__quantise(w->g[i], ig);
                w->scratch_q[i][1] = kn__quantise(w->h[i], ih);
            }
            double ga = fabs(g), ha = fabs(h);
            g_max = ga > g_max ? ga : g_max;
            h_max = ha > h_max ? ha : h_max;
        }
    } else
#pragma omp parallel for schedule(static) if (w->n_train > 10000)
        for (size_t t = 0; t < w->n_train; t++) {
            size_t i = w->train[t];
            double buf[3 * 256], *fi = buf;
            double *big = NULL;
            if (k > 256) fi = big = kn_malloc(3 * k * sizeof *big);
            if (!fi) continue; /* cannot happen below 256 classes */
            double *gi = fi + k, *hi = gi + k;
            for (size_t c = 0; c < k; c++) fi[c] = w->f[c * n + i];
            grad_hess(s->objective, k, fi, d->y[i], w->w[i], w->delta, gi, hi);
            for (size_t c = 0; c < k; c++)
                w->g[c * n + i] = (float)gi[c], w->h[c * n + i] = (float)hi[c];
            kn_free(big);
        }
    kn_rng rng;
    kn_rng_init_stream(&rng, (uint64_t)par->seed, 1 + round);
    /* the round's rows: w->sample and, by row, w->in_sample (without
     * sampling, every training row, set once) */
    size_t m = w->n_train;
    if (sampled || round == 0) {
        memset(w->in_sample, 0, n);
        m = 0;
        if (sampled)
            choose(w->n_train, (size_t)llround(par->subsample * (double)w->n_train), &rng,
                   w->allowed_rows);
        for (size_t t = 0; t < w->n_train; t++)
            if (!sampled || w->allowed_rows[t]) {
                w->sample[m++] = w->train[t];
                w->in_sample[w->train[t]] = 1;
            }
    }
    kn__grow_params gp = {.max_leaves = (size_t)par->max_leaves,
                          .max_depth = (size_t)par->max_depth,
                          .min_samples_leaf = (size_t)par->min_samples_leaf,
                          .min_child_weight = par->min_child_weight,
                          .l1 = par->l1,
                          .l2 = par->l2,
                          .min_split_gain = par->min_split_gain,
                          .max_delta_step = par->max_delta_step >= 0 ? par->max_delta_step
                                            : k > 1                  ? SOFTMAX_DELTA_STEP
                                                                     : 0,
                          .shrinkage = par->learning_rate};
    kn_status e = KN_OK;
    for (size_t c = 0; e == KN_OK && c < k; c++) {
        const uint8_t *allowed = NULL;
        if (par->colsample < 1) { /* the features of this tree */
            choose(p, (size_t)llround(par->colsample * (double)p), &rng, w->allowed);
            allowed = w->allowed;
        }
        kn__grow_data gd = {.n = n,
                            .p = p,
                            .codes = w->codes,
                            .bins = bins,
                            .feature_allowed = allowed,
                            .monotone = w->monotone,
                            .n_levels = d->n_levels,
                            .scratch_q = w->scratch_q,
                            .scratch_rows = w->scratch_rows,
                            /* every training row in the tree: their maxima are the tree's */
                            .known_max = k == 1 && m == w->n_train,
                            .g_max = g_max,
                            .h_max = h_max,
                            .quantised = quantised,
                            .g_scale = g_scale,
                            .h_scale = h_scale,
                            .codes_by_feature = w->codes_by_feature};
#pragma omp parallel for schedule(static) if (m > 100000)
        for (size_t b = 0; b < m; b += 65536)
            memcpy(w->rows + b, w->sample + b, (m - b < 65536 ? m - b : 65536) * sizeof *w->rows);
        kn__tree_out t;
        e = kn__grow_tree(&gd, &gp, w->rows, m, w->g + c * n, w->h + c * n, &t);
        if (e != KN_OK) break;
        double *fc = w->f + c * n;
        if (s->objective == OBJ_ABSOLUTE) /* leaf values: the median residual */
            for (size_t l = 0; l < t.n_leaves; l++) {
                const kn__leaf_rows *lr = &t.leaves[l];
                wval *v = w->resid + lr->begin;
                for (uint32_t r = lr->begin; r < lr->end; r++)
                    v[r - lr->begin] = (wval){d->y[w->rows[r]] - fc[w->rows[r]], w->w[w->rows[r]]};
                t.nodes[lr->node].value =
                    par->learning_rate * wquantile(v, lr->end - lr->begin, 0.5, d->w == NULL);
            }
#pragma omp parallel for schedule(dynamic) if (m > 50000)
        for (size_t l = 0; l < t.n_leaves; l++) { /* disjoint rows */
            double v = t.nodes[t.leaves[l].node].value;
            for (uint32_t r = t.leaves[l].begin; r < t.leaves[l].end; r++) fc[w->rows[r]] += v;
        }
        /* rows outside the sample (and validation rows) walk the tree */
        if (m < n) {
#pragma omp parallel for schedule(static) if (n > 10000)
            for (size_t i = 0; i < n; i++)
                if (!w->in_sample[i])
                    fc[i] += t.nodes[kn__tree_leaf_codes(t.nodes, t.sets, w->codes + i * p)].value;
        }
        e = kn__gbdt_add_tree(s, node_cap, &t);
        kn__tree_out_free(&t);
    }
    return e;
}

static void proba_of(const gbdt_state *s, const double *z, size_t n, double *out);

/* The model's outputs on its training rows, as gbdt_proba (log loss) or
 * gbdt_predict (regression) gives them, from the rows' raw scores f (n x
 * k, class-major): the same sums of the same leaf values in the same tree
 * order (a row's codes reach the leaf its raw values reach), so the same
 * bits. Left with the model when asked for and every round run is kept
 * and predicted with (no early stopping's cut, no predict_rounds). */
static kn_status keep_fit_output(kn_model *m, const gbdt_state *s, const gbdt_params *par,
                                 const kn_dataset *d, const double *f, size_t rounds_run)
{
    size_t n = d->n, k = s->k, width = s->objective != OBJ_LOG_LOSS ? 1 : k == 1 ? 2 : k;
    if (!kn__model_wants_fit_output(m) || s->rounds != rounds_run ||
        (par->predict_rounds && (size_t)par->predict_rounds < s->rounds) ||
        (s->objective == OBJ_LOG_LOSS && d->n_classes != width))
        return KN_OK;
    double *out = kn_malloc((n ? n * width : 1) * sizeof *out);
    if (!out) return KN_ERR_NOMEM;
    if (s->objective == OBJ_LOG_LOSS)
        proba_of(s, f, n, out);
    else
        for (size_t i = 0; i < n; i++) out[i] = s->objective == OBJ_POISSON ? exp(f[i]) : f[i];
    kn__model_set_fit_output(m, out, n);
    return KN_OK;
}

static kn_status gbdt_fit(kn_model *m, const kn_dataset *d)
{
    const gbdt_params *par = kn_model_params(m);
    size_t n = d->n, p = d->p,
           k = par->objective == OBJ_LOG_LOSS && d->n_classes > 2 ? d->n_classes : 1;
    if (n > UINT32_MAX) return kn_fail(KN_ERR_INVALID, "gbdt: at most 2^32 - 1 rows");
    if (par->objective == OBJ_POISSON)
        for (size_t i = 0; i < n; i++)
            if (d->y[i] < 0)
                return kn_fail(KN_ERR_INVALID,
                               "gbdt: objective=poisson needs a target >= 0 (row %zu is %g)", i + 1,
                               d->y[i]);
    gbdt_state *s = kn_calloc(1, sizeof *s);
    fit_work w = {0};
    const binned *bd = NULL;
    binned *own = NULL;
    if (!s) return KN_ERR_NOMEM;
    s->p = p;
    s->k = k;
    s->objective = par->objective;
    size_t max_trees = (size_t)par->n_estimators * k, node_cap = 0;
    s->init = kn_calloc(k, sizeof *s->init);
    s->offset = kn_calloc(max_trees + 1, sizeof *s->offset);
    kn_status e = s->init && s->offset ? KN_OK : KN_ERR_NOMEM;
    if (e == KN_OK) e = prepare(par, d, d->n_classes, &w);
    if (e == KN_OK) e = parse_monotone(par->monotone, d, &w.monotone);
    if (e == KN_OK && w.monotone && k > 1)
        e = kn_fail(KN_ERR_INVALID,
                    "gbdt: monotone constraints need one tree per round: "
                    "regression or binary classification (this target has %zu "
                    "classes)",
                    k);
    if (e == KN_OK) e = bins_for(kn__model_fit_share(m), par, d, &bd, &own);
    if (e == KN_OK) {
        w.codes = bd->codes;
        w.codes_by_feature = bd->by_feature;
        w.shared = 1; /* (bd's: freed below, with own) */
        w.f = kn_malloc(n * k * sizeof *w.f);
        w.g = kn_malloc(n * k * sizeof *w.g);
        w.h = kn_malloc(n * k * sizeof *w.h);
        w.sample = kn_malloc(n * sizeof *w.sample);
        w.rows = kn_malloc(n * sizeof *w.rows);
        w.allowed = kn_malloc(p);
        w.in_sample = kn_malloc(n);
        w.allowed_rows = kn_malloc(n);
        w.scratch_q = kn_malloc(n * sizeof *w.scratch_q);
        w.scratch_rows = kn_malloc(2 * n * sizeof *w.scratch_rows);
        if (par->objective == OBJ_ABSOLUTE || par->objective == OBJ_HUBER)
            w.resid = kn_malloc(n * sizeof *w.resid);
        if (!w.f || !w.g || !w.h || !w.sample || !w.rows || !w.allowed || !w.in_sample ||
            !w.allowed_rows || !w.scratch_q || !w.scratch_rows ||
            (!w.resid && (par->objective == OBJ_ABSOLUTE || par->objective == OBJ_HUBER)))
            e = KN_ERR_NOMEM;
    }
    if (e == KN_OK) e = initial_scores(s, d, w.w, w.train, w.n_train);
    for (size_t c = 0; e == KN_OK && c < k; c++)
        for (size_t i = 0; i < n; i++) w.f[c * n + i] = s->init[c];
    double best = INFINITY;
    size_t best_round = 0, round = 0;
    kn_progress progress;
    kn_progress_begin(&progress, "gbdt", "round", (uint64_t)par->n_estimators);
    for (; e == KN_OK && round < (size_t)par->n_estimators; round++) {
        e = kn_ctx_check();
        if (e == KN_OK) e = boost_round(s, par, d, &bd->bins, &w, round, &node_cap);
        kn_progress_step(&progress, 1);
        if (e != KN_OK || !w.n_val) continue;
        double loss = validation_loss(s, d, &w);
        kn_log(KN_LOG_DEBUG, "gbdt: round %zu, validation loss %.8g", round + 1, loss);
        if (loss < best - par->tol) {
            best = loss;
            best_round = round;
        } else if (round - best_round >= (size_t)par->early_stopping_rounds) {
            round++;
            break;
        }
    }
    kn_progress_end(&progress);
    if (e == KN_OK) {
        s->rounds = w.n_val ? best_round + 1 : round;
        s->n_trees = s->rounds * k;
        if (w.n_val)
            kn_log(KN_LOG_INFO, "gbdt: %zu rounds run, best validation loss %.6g at round %zu",
                   round, best, best_round + 1);
        e = keep_fit_output(m, s, par, d, w.f, round);
    }
    work_free(&w);
    binned_free(own);
    if (e == KN_OK && !s->n_sets)
        e = kn__flat_build(&s->flat, s->nodes, s->offset, s->n_trees, NULL, 1, k);
    if (e != KN_OK) {
        kn__gbdt_free(s);
        return e;
    }
    kn_model_set_state(m, s);
    return KN_OK;
}

/* Raw scores (n x k, class-major) of d's rows from the first `rounds`
 * rounds (0: all). */
static kn_status raw_scores(const gbdt_state *s, size_t rounds, const kn_dataset *d, double *out)
{
    kn__flat_forest first = s->flat; /* trees are round-major: a prefix is the first rounds */
    first.n_trees = rounds && rounds < s->rounds ? rounds * s->k : s->n_trees;
    size_t n = d->n, k = s->k;
    const double **col = kn_malloc(s->p * sizeof *col);
    if (!col) return KN_ERR_NOMEM;
    for (size_t j = 0; j < s->p; j++) col[j] = kn_dataset_column(d, j);
    for (size_t c = 0; c < k; c++)
        for (size_t i = 0; i < n; i++) out[c * n + i] = s->init[c];
    kn_status e = KN_OK;
    if (s->n_sets) { /* categorical splits: each row walks the trees */
#pragma omp parallel for schedule(static) if (n * first.n_trees > 100000)
        for (size_t i = 0; i < n; i++)
            for (size_t t = 0; t < first.n_trees; t++) {
                const kn__node *tree = s->nodes + s->offset[t];
                out[(t % k) * n + i] += tree[kn__tree_leaf_raw(tree, s->sets, col, i)].value;
            }
    } else
        e = kn__flat_predict(&first, col, s->p, n, out);
    kn_free(col);
    return e;
}

/* The rounds a prediction uses: the call's, else the predict_rounds
 * parameter (0: all). */
static size_t rounds_of(const kn_model *m, const kn_predict_opts *o)
{
    const gbdt_params *par = kn_model_params(m);
    return o->rounds ? o->rounds : (size_t)par->predict_rounds;
}

/* Log loss: the probabilities (n x classes, row-major) of n rows' raw
 * scores z (n x k, class-major). */
static void proba_of(const gbdt_state *s, const double *z, size_t n, double *out)
{
    size_t k = s->k;
    for (size_t i = 0; i < n; i++) {
        if (k == 1) {
            double p1 = 1 / (1 + exp(-z[i]));
            out[2 * i] = 1 - p1;
            out[2 * i + 1] = p1;
        } else
            for (size_t c = 0; c < k; c++) out[i * k + c] = z[c * n + i];
    }
    if (k > 1) kn__softmax_rows(out, n, k);
}

static kn_status gbdt_proba(const kn_model *m, const kn_dataset *d, const kn_predict_opts *o,
                            double *out)
{
    const gbdt_state *s = kn_model_state(m);
    size_t n = d->n, k = s->k;
    if (s->objective != OBJ_LOG_LOSS)
        return kn_fail(KN_ERR_UNSUPPORTED, "gbdt: a regression objective gives no probabilities");
    double *z = kn_malloc((n ? n * k : 1) * sizeof *z);
    kn_status e = z ? raw_scores(s, rounds_of(m, o), d, z) : KN_ERR_NOMEM;
    if (e == KN_OK) proba_of(s, z, n, out);
    kn_free(z);
    return e;
}

static kn_status gbdt_predict(const kn_model *m, const kn_dataset *d, const kn_predict_opts *o,
                              double *out)
{
    const gbdt_state *s = kn_model_state(m);
    size_t n = d->n;
    if (s->objective != OBJ_LOG_LOSS) {
        kn_status e = raw_scores(s, rounds_of(m, o), d, out);
        if (e == KN_OK && s->objective == OBJ_POISSON)
            for (size_t i = 0; i < n; i++) out[i] = exp(out[i]);
        return e;
    }
    size_t classes = s->k == 1 ? 2 : s->k;
    double *pr = kn_malloc((n ? n * classes : 1) * sizeof *pr);
    if (!pr) return KN_ERR_NOMEM;
    kn_status e = gbdt_proba(m, d, o, pr);
    if (e == KN_OK) kn__argmax_rows(pr, n, classes, out);
    kn_free(pr);
    return e;
}

static kn_status gbdt_predict_plain(const kn_model *m, const kn_dataset *d, double *out)
{
    const kn_predict_opts none = {0};
    return gbdt_predict(m, d, &none, out);
}

static kn_status gbdt_proba_plain(const kn_model *m, const kn_dataset *d, double *out)
{
    const kn_predict_opts none = {0};
    return gbdt_proba(m, d, &none, out);
}

static kn_status gbdt_predict_with(const kn_model *m, const kn_dataset *d, const kn_predict_opts *o,
                                   int proba, double *out)
{
    return proba ? gbdt_proba(m, d, o, out) : gbdt_predict(m, d, o, out);
}

static const kn_model_vt gbdt_vt = {.task = KN_TASK_CLASSIFICATION,
                                    .fit = gbdt_fit,
                                    .predict = gbdt_predict_plain,
                                    .predict_proba = gbdt_proba_plain,
                                    .predict_with = gbdt_predict_with,
                                    .free_state = kn__gbdt_free,
                                    .save = kn__gbdt_save,
                                    .load = kn__gbdt_load,
                                    .importances = kn__gbdt_importance,
                                    .flags = KN_MODEL_READS_COLUMNS | KN_MODEL_TAKES_MISSING |
                                             KN_MODEL_TAKES_CATEGORICAL | KN_MODEL_PREDICT_ARGMAX,
                                    .task_of = gbdt_task,
                                    .task_param = "objective",
                                    .classify_value = "log_loss",
                                    .regress_value = "squared_error"};

const kn_component kn__gbdt = {KN_COMP_MODEL,
                               "gbdt",
                               "histogram gradient boosting (binary, softmax, squared error, "
                               "Poisson; missing values native)",
                               gbdt_defs,
                               sizeof(gbdt_params),
                               &gbdt_vt};
