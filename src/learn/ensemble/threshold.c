/* tuned_threshold: a binary classifier (`base`, any registered model with
 * probabilities) whose decision threshold on the positive class's
 * probability is tuned on validation rows for a chosen objective, as
 * scikit-learn's TunedThresholdClassifierCV does:
 *
 *   f1                   the threshold of the largest F1;
 *   recall_at_precision  the largest recall whose precision is at least
 *                        min_precision (none reaches it: the most precise
 *                        threshold, with a warning);
 *   cost                 the least expected cost cost_fp x false positives +
 *                        cost_fn x false negatives (a cost matrix with free
 *                        correct decisions).
 *
 * The validation rows are the training rows' out-of-fold predictions: the
 * rows are dealt into `folds` stratified folds (a seeded shuffle per
 * class), a copy of the base is fitted on the other folds and predicts
 * each fold; the threshold is chosen on those predictions; then the base
 * is fitted on all rows. The model saves the threshold with the base, so
 * `kiln predict` and serving apply it: a row is positive when its
 * probability is at least the threshold. Probabilities are the base's. */
#include "kiln/log.h"
#include "kiln/mem.h"
#include "kiln/model.h"
#include "kiln/rng.h"
#include "learn/ensemble/members.h"
#include "learn/learn-impl.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

typedef struct thr_params {
    const char *base, *base_params, *positive_class;
    int objective;
    double min_precision, cost_fp, cost_fn;
    int64_t folds, seed;
} thr_params;

enum { OBJ_F1, OBJ_RECALL_AT_PRECISION, OBJ_COST };

static const kn_param_def thr_defs[] = {
    KN_PARAM_STRING(thr_params, base, "logistic_regression",
                    "the classifier whose threshold is tuned: any model with probabilities"),
    KN_PARAM_STRING(thr_params, base_params, "",
                    "the base model's parameters, name=value separated by commas"),
    KN_PARAM_ENUM(thr_params, objective, "f1", "f1|recall_at_precision|cost",
                  "what the threshold optimises on the validation rows"),
    KN_PARAM_DOUBLE(thr_params, min_precision, "0.9", 0, 1,
                    "recall_at_precision: the precision the threshold must keep"),
    KN_PARAM_DOUBLE(thr_params, cost_fp, "1", 0, 1e300, "cost: the cost of a false positive"),
    KN_PARAM_DOUBLE(thr_params, cost_fn, "1", 0, 1e300, "cost: the cost of a false negative"),
    KN_PARAM_STRING_AKA(thr_params, positive_class, "", "positive",
                        "the positive class the threshold is tuned for (default: the second of "
                        "the sorted labels; the older name positive= is accepted); scoring takes "
                        "it as the positive class too, and a different --positive-class is an "
                        "error"),
    KN_PARAM_INT(thr_params, folds, "5", 2, 100, "stratified folds of the validation predictions"),
    KN_PARAM_INT(thr_params, seed, "0", 0, 1e15, "seed of the fold shuffle"),
    KN_PARAM_END};

typedef struct thr_state {
    size_t pos;       /* the positive class's index */
    double threshold; /* positive when its probability >= threshold */
    double score;     /* the objective at the threshold, on the validation rows */
    kn_model *base;
} thr_state;

static void thr_free(void *v)
{
    thr_state *s = v;
    if (!s) return;
    kn_model_free(s->base);
    kn_free(s);
}

static kn_status thr_validate(const void *params)
{
    const thr_params *par = params;
    if (par->objective == OBJ_COST && !(par->cost_fp > 0 || par->cost_fn > 0))
        return kn_fail(KN_ERR_INVALID, "cost_fp and cost_fn are both 0: give a positive cost");
    kn_model *probe = NULL;
    kn_task task = KN_TASK_CLASSIFICATION;
    kn_status e = kn__member_new(par->base, par->base_params, "base", "base_params", &task, &probe);
    if (e == KN_OK && !kn__member_has_proba(probe))
        e = kn_fail(KN_ERR_INVALID,
                    "base=%s gives no probabilities, so it has no threshold to tune; choose a "
                    "model with probabilities",
                    par->base);
    kn_model_free(probe);
    return e;
}

/* The rows `rows[0..m)` of d as a new dense dataset (column-major). */
static kn_status rows_of(const kn_dataset *d, const size_t *rows, size_t m, kn_dataset *out,
                         double **x, double **y, double **w)
{
    size_t p = d->p;
    *x = kn_malloc((m * p > 0 ? m * p : 1) * sizeof **x);
    *y = kn_malloc((m ? m : 1) * sizeof **y);
    *w = d->w ? kn_malloc((m ? m : 1) * sizeof **w) : NULL;
    if (!*x || !*y || (d->w && !*w)) return KN_ERR_NOMEM;
    for (size_t j = 0; j < p; j++) {
        const double *c = kn_dataset_column(d, j);
        for (size_t r = 0; r < m; r++) (*x)[j * m + r] = c[rows[r]];
    }
    for (size_t r = 0; r < m; r++) {
        (*y)[r] = d->y[rows[r]];
        if (*w) (*w)[r] = d->w[rows[r]];
    }
    *out = (kn_dataset){.n = m,
                        .p = p,
                        .x = *x,
                        .y = *y,
                        .w = *w,
                        .names = d->names,
                        .n_classes = d->n_classes,
                        .classes = d->classes,
                        .n_levels = d->n_levels,
                        .levels = d->levels};
    return KN_OK;
}

/* fold[i]: row i's fold, stratified: each class's rows shuffled (stream
 * (seed, class)) and dealt in turn. */
static kn_status deal_folds(const kn_dataset *d, size_t k_folds, uint64_t seed, uint32_t *fold)
{
    uint32_t *rows = NULL;
    size_t *start = NULL, n_min = 0, next = 0;
    kn_status e = kn__class_rows(d, d->n_classes, &rows, &start, &n_min);
    if (e != KN_OK) return e;
    for (size_t c = 0; c < d->n_classes; c++) {
        uint32_t *r = rows + start[c];
        size_t nc = start[c + 1] - start[c];
        kn_rng rng;
        kn_rng_init_stream(&rng, seed, c);
        for (size_t i = nc; i > 1; i--) {
            size_t j = (size_t)kn_rng_below(&rng, i);
            uint32_t v = r[i - 1];
            r[i - 1] = r[j];
            r[j] = v;
        }
        for (size_t i = 0; i < nc; i++) fold[r[i]] = (uint32_t)(next++ % k_folds);
    }
    kn_free(rows);
    kn_free(start);
    return KN_OK;
}

/* The out-of-fold probability of the positive class for every row. */
static kn_status out_of_fold(const thr_params *par, const kn_dataset *d, size_t pos, double *oof)
{
    size_t n = d->n, K = (size_t)par->folds, k = d->n_classes;
    uint32_t *fold = kn_malloc(n * sizeof *fold);
    size_t *tr = kn_malloc(n * sizeof *tr), *te = kn_malloc(n * sizeof *te);
    double *proba = kn_malloc(n * k * sizeof *proba);
    kn_status e =
        fold && tr && te && proba ? deal_folds(d, K, (uint64_t)par->seed, fold) : KN_ERR_NOMEM;
    kn_task task = KN_TASK_CLASSIFICATION;
    for (size_t f = 0; e == KN_OK && f < K; f++) {
        size_t a = 0, b = 0;
        for (size_t i = 0; i < n; i++) {
            if (fold[i] == f)
                te[b++] = i;
            else
                tr[a++] = i;
        }
        kn_dataset dtr, dte;
        double *x1 = NULL, *y1 = NULL, *w1 = NULL, *x2 = NULL, *y2 = NULL, *w2 = NULL;
        kn_model *mb = NULL;
        e = rows_of(d, tr, a, &dtr, &x1, &y1, &w1);
        if (e == KN_OK) e = rows_of(d, te, b, &dte, &x2, &y2, &w2);
        if (e == KN_OK)
            e = kn__member_new(par->base, par->base_params, "base", "base_params", &task, &mb);
        if (e == KN_OK) e = kn__member_fit(mb, &dtr);
        if (e == KN_OK) e = kn__member_predict(mb, &dte, 1, proba);
        for (size_t r = 0; e == KN_OK && r < b; r++) oof[te[r]] = proba[r * k + pos];
        if (e != KN_OK) e = kn_fail_prefix(e, "tuned_threshold fold %zu (%s): ", f + 1, par->base);
        kn_model_free(mb);
        kn_free(x1), kn_free(y1), kn_free(w1), kn_free(x2), kn_free(y2), kn_free(w2);
    }
    kn_free(fold), kn_free(tr), kn_free(te), kn_free(proba);
    return e;
}

typedef struct scored {
    double p;
    int positive;
    double w;
} scored;

static int by_proba_desc(const void *a, const void *b)
{
    double x = ((const scored *)a)->p, y = ((const scored *)b)->p;
    return (x < y) - (x > y);
}

/* The threshold (one of the probabilities: positive when p >= it) that
 * optimises the objective; *score its value. Ties: the highest threshold. */
static kn_status choose(const thr_params *par, const kn_dataset *d, size_t pos, const double *oof,
                        double *threshold, double *score)
{
    size_t n = d->n;
    scored *s = kn_malloc(n * sizeof *s);
    if (!s) return KN_ERR_NOMEM;
    double P = 0, N = 0;
    for (size_t i = 0; i < n; i++) {
        s[i] = (scored){oof[i], (size_t)d->y[i] == pos, d->w ? d->w[i] : 1};
        if (s[i].positive)
            P += s[i].w;
        else
            N += s[i].w;
    }
    qsort(s, n, sizeof *s, by_proba_desc);
    double tp = 0, fp = 0, best = NAN, best_t = INFINITY, best_prec = -1, prec_t = INFINITY,
           prec_recall = 0;
    for (size_t i = 0; i < n; i++) {
        if (s[i].positive)
            tp += s[i].w;
        else
            fp += s[i].w;
        if (i + 1 < n && s[i + 1].p == s[i].p) continue; /* a threshold takes all its ties */
        double fn = P - tp, v, prec = tp + fp > 0 ? tp / (tp + fp) : 0;
        if (par->objective == OBJ_F1)
            v = 2 * tp + fp + fn > 0 ? 2 * tp / (2 * tp + fp + fn) : 0;
        else if (par->objective == OBJ_COST)
            v = -(par->cost_fp * fp + par->cost_fn * fn);
        else
            v = prec >= par->min_precision && P > 0 ? tp / P : NAN;
        if (prec > best_prec) best_prec = prec, prec_t = s[i].p, prec_recall = P > 0 ? tp / P : 0;
        if (!isnan(v) && (isnan(best) || v > best)) best = v, best_t = s[i].p;
    }
    /* cost: predicting no positive at all is a choice too */
    if (par->objective == OBJ_COST && !(best > -(par->cost_fn * P))) {
        best = -(par->cost_fn * P);
        best_t = INFINITY;
    }
    if (isnan(best)) {
        kn_log(KN_LOG_WARN,
               "tuned_threshold: no threshold keeps precision %g on the validation rows (the "
               "most precise reaches %.4g); using that one",
               par->min_precision, best_prec);
        best_t = prec_t;
        best = prec_recall; /* that threshold's recall (was 0 whatever it caught) */
    }
    kn_free(s);
    *threshold = best_t;
    *score = par->objective == OBJ_COST ? -best : best;
    (void)N;
    return KN_OK;
}

static kn_status positive_index(const thr_params *par, const kn_dataset *d, size_t *pos)
{
    if (d->n_classes != 2)
        return kn_fail(KN_ERR_INVALID,
                       "tuned_threshold needs two classes (the target has %zu): a threshold "
                       "splits one class's probability",
                       d->n_classes);
    *pos = 1;
    if (!*par->positive_class) return KN_OK;
    for (*pos = 0; *pos < 2 && strcmp(d->classes[*pos], par->positive_class); (*pos)++) continue;
    if (*pos == 2)
        return kn_fail(KN_ERR_INVALID,
                       "positive_class=%s is not a class of the target (its classes: %s, %s)",
                       par->positive_class, d->classes[0], d->classes[1]);
    return KN_OK;
}

static kn_status thr_fit(kn_model *m, const kn_dataset *d)
{
    const thr_params *par = kn_model_params(m);
    size_t pos = 1;
    kn_status e = positive_index(par, d, &pos);
    if (e != KN_OK) return e;
    double *oof = kn_malloc((d->n ? d->n : 1) * sizeof *oof);
    thr_state *s = kn_calloc(1, sizeof *s);
    kn_task task = KN_TASK_CLASSIFICATION;
    e = oof && s ? out_of_fold(par, d, pos, oof) : KN_ERR_NOMEM;
    if (e == KN_OK) e = choose(par, d, pos, oof, &s->threshold, &s->score);
    if (e == KN_OK)
        e = kn__member_new(par->base, par->base_params, "base", "base_params", &task, &s->base);
    if (e == KN_OK) e = kn__member_fit(s->base, d);
    kn_free(oof);
    if (e != KN_OK) {
        thr_free(s);
        return e;
    }
    s->pos = pos;
    kn_log(KN_LOG_INFO, "tuned_threshold: %s >= %.6g (validation %s %.6g)", d->classes[pos],
           s->threshold,
           par->objective == OBJ_F1     ? "f1"
           : par->objective == OBJ_COST ? "cost"
                                        : "recall",
           s->score);
    kn_model_set_state(m, s);
    return KN_OK;
}

static kn_status thr_proba(const kn_model *m, const kn_dataset *d, double *out)
{
    const thr_state *s = kn_model_state(m);
    return kn__member_predict(s->base, d, 1, out);
}

static kn_status thr_predict(const kn_model *m, const kn_dataset *d, double *out)
{
    const thr_state *s = kn_model_state(m);
    double *v = kn_malloc((d->n ? d->n * 2 : 1) * sizeof *v);
    if (!v) return KN_ERR_NOMEM;
    kn_status e = kn__member_predict(s->base, d, 1, v);
    for (size_t i = 0; e == KN_OK && i < d->n; i++)
        out[i] = v[i * 2 + s->pos] >= s->threshold ? (double)s->pos : (double)(1 - s->pos);
    kn_free(v);
    return e;
}

static kn_status thr_summary(const kn_model *m, kn_fit_summary *out)
{
    const thr_state *s = kn_model_state(m);
    const thr_params *par = kn_model_params(m);
    out->n_stats = 2;
    out->stat_name[0] = "threshold";
    out->stat[0] = s->threshold;
    out->stat_name[1] = par->objective == OBJ_F1     ? "validation_f1"
                        : par->objective == OBJ_COST ? "validation_cost"
                                                     : "validation_recall";
    out->stat[1] = s->score;
    return KN_OK;
}

static const char *thr_own_positive(const kn_model *m)
{
    return ((const thr_params *)kn_model_params(m))->positive_class;
}

/* u32 version (1), u64 positive class, f64 threshold, f64 score, the base. */
static kn_status thr_save(const kn_model *m, kn_wbuf *w)
{
    const thr_state *s = kn_model_state(m);
    kn_wbuf_u32(w, 1);
    kn_wbuf_u64(w, s->pos);
    kn_wbuf_f64(w, s->threshold);
    kn_wbuf_f64(w, s->score);
    kn_status e = kn_wbuf_status(w);
    return e == KN_OK ? kn__member_save(s->base, w) : e;
}

static kn_status thr_load(kn_model *m, kn_rbuf *r)
{
    uint32_t version = 0;
    uint64_t pos = 0;
    thr_state *s = kn_calloc(1, sizeof *s);
    if (!s) return KN_ERR_NOMEM;
    kn_status e = kn_rbuf_u32(r, &version);
    if (e == KN_OK) e = kn_rbuf_u64(r, &pos);
    if (e == KN_OK) e = kn_rbuf_f64(r, &s->threshold);
    if (e == KN_OK) e = kn_rbuf_f64(r, &s->score);
    if (e == KN_OK &&
        (version != 1 || pos > 1 || kn_model_n_classes(m) != 2 || isnan(s->threshold)))
        e = kn_fail(KN_ERR_CORRUPT, "%s: bad tuned_threshold header", r->what);
    if (e == KN_OK) e = kn__member_load(r, &s->base);
    if (e == KN_OK) e = kn__member_check(m, s->base, r->what);
    if (e == KN_OK && !kn__member_has_proba(s->base))
        e = kn_fail(KN_ERR_CORRUPT, "%s: the tuned_threshold base gives no probabilities", r->what);
    if (e != KN_OK) {
        thr_free(s);
        return e;
    }
    s->pos = (size_t)pos;
    kn_model_set_state(m, s);
    return KN_OK;
}

/* The columns the base takes (text, missing values), the wrapper takes. */
static unsigned thr_flags_of(const kn_model *m)
{
    const thr_params *par = kn_model_params(m);
    return kn__member_base_flags(par->base);
}

static const kn_model_vt thr_vt = {
    .task = KN_TASK_CLASSIFICATION,
    .fit = thr_fit,
    .predict = thr_predict,
    .predict_proba = thr_proba,
    .free_state = thr_free,
    .save = thr_save,
    .load = thr_load,
    .summary = thr_summary,
    .validate = thr_validate,
    .own_positive = thr_own_positive,
    .flags_of = thr_flags_of,
};

const kn_component kn__tuned_threshold = {
    KN_COMP_MODEL,
    "tuned_threshold",
    "a binary classifier (base) whose decision threshold is tuned on out-of-fold validation "
    "predictions for f1, recall at a precision, or a cost; saved and applied at predict",
    thr_defs,
    sizeof(thr_params),
    &thr_vt};
