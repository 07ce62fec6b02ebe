/* adaboost: discrete AdaBoost in its multi-class form SAMME (Zhu, Zou,
 * Rosset and Hastie 2009) over shallow decision trees (the decision_tree
 * model, max_depth deep, made and fitted as ensemble members). Row weights
 * start as the sample weights (1 without) over their sum; round t fits a
 * tree on them, takes its weighted error err, and gives it the weight
 * learning_rate x (log((1 - err) / err) + log(k - 1)); the rows it got
 * wrong are scaled by exp(that weight), then all are normalised. A tree
 * with no error ends the fit (weight 1); one no better than chance
 * (err >= 1 - 1/k) is dropped and ends it, or fails the fit when it is the
 * first. Prediction: each class's summed weight of the trees that chose
 * it, over the total weight (the decision); probabilities are the softmax
 * of the decision / (k - 1). Tree t has seed = seed + t; rounds run in
 * order, so the model is the same whatever the thread count. */
#include "kiln/log.h"
#include "kiln/mem.h"
#include "kiln/model.h"
#include "learn/ensemble/members.h"
#include "learn/learn-impl.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

typedef struct ada_params {
    int64_t n_estimators;
    double learning_rate;
    int64_t max_depth, min_samples_leaf, seed;
    const char *class_weight;
} ada_params;

static const kn_param_def ada_defs[] = {
    KN_PARAM_INT(ada_params, n_estimators, "50", 1, 1000000, "boosting rounds (trees) at most"),
    KN_PARAM_DOUBLE(ada_params, learning_rate, "1", 0, 1e300,
                    "above 0: shrinks each tree's weight (and the reweighting)"),
    KN_PARAM_INT(ada_params, max_depth, "1", 1, 100000,
                 "depth of each tree (1: stumps, one split)"),
    KN_PARAM_INT(ada_params, min_samples_leaf, "1", 1, 1e15, "rows per leaf of a tree at least"),
    KN_PARAM_INT(ada_params, seed, "0", 0, 1e15, "seed of the trees (ties between splits)"),
    KN__CLASS_WEIGHT(ada_params),
    KN_PARAM_END};

typedef struct ada_state {
    size_t k, n_members;
    kn_model **members;
    double *alpha; /* each member's weight */
} ada_state;

static void ada_free(void *v)
{
    ada_state *s = v;
    if (!s) return;
    for (size_t t = 0; t < s->n_members; t++) kn_model_free(s->members[t]);
    kn_free(s->members);
    kn_free(s->alpha);
    kn_free(s);
}

static kn_status ada_validate(const void *params)
{
    const ada_params *par = params;
    if (!(par->learning_rate > 0))
        return kn_fail(KN_ERR_INVALID, "learning_rate=0: give a rate above 0 (1: no shrinking)");
    return KN_OK;
}

static kn_status new_tree(const ada_params *par, size_t t, kn_model **out)
{
    char settings[160];
    snprintf(settings, sizeof settings,
             "criterion=gini,max_depth=%lld,min_samples_leaf=%lld,seed=%lld",
             (long long)par->max_depth, (long long)par->min_samples_leaf,
             (long long)(par->seed + (int64_t)t));
    kn_task task = KN_TASK_CLASSIFICATION;
    return kn__member_new("decision_tree", settings, "base", "the tree settings", &task, out);
}

static kn_status ada_fit(kn_model *m, const kn_dataset *d)
{
    const ada_params *par = kn_model_params(m);
    size_t n = d->n, k = d->n_classes, T = (size_t)par->n_estimators;
    if (k < 2)
        return kn_fail(KN_ERR_INVALID, "adaboost: the target has %zu class; it needs at least 2",
                       k);
    ada_state *s = kn_calloc(1, sizeof *s);
    if (!s) return KN_ERR_NOMEM;
    s->k = k;
    s->members = kn_calloc(T, sizeof *s->members);
    s->alpha = kn_calloc(T, sizeof *s->alpha);
    double *w = kn_malloc(n * sizeof *w), *pred = kn_malloc(n * sizeof *pred);
    kn_status e = s->members && s->alpha && w && pred ? KN_OK : KN_ERR_NOMEM;
    double sum = 0;
    if (e == KN_OK) e = kn__row_weights(d, par->class_weight, 1, w);
    for (size_t i = 0; e == KN_OK && i < n; i++) sum += w[i];
    if (e == KN_OK && !(sum > 0))
        e = kn_fail(KN_ERR_INVALID, "adaboost: the sample weights sum to %g; give positive ones",
                    sum);
    for (size_t i = 0; e == KN_OK && i < n; i++) w[i] /= sum;
    kn_dataset sub = *d;
    sub.w = w;
    for (size_t t = 0; e == KN_OK && t < T; t++) {
        kn_model *tree = NULL;
        e = new_tree(par, t, &tree);
        if (e == KN_OK) e = kn__member_fit(tree, &sub);
        if (e == KN_OK) e = kn__member_predict(tree, d, 0, pred);
        if (e != KN_OK) {
            kn_model_free(tree);
            e = kn_fail_prefix(e, "adaboost round %zu: ", t + 1);
            break;
        }
        double wrong = 0, all = 0;
        for (size_t i = 0; i < n; i++) {
            all += w[i];
            if (pred[i] != d->y[i]) wrong += w[i];
        }
        double err = all > 0 ? wrong / all : 0;
        if (!(err > 0)) { /* a perfect tree: it alone decides */
            s->members[t] = tree;
            s->alpha[t] = 1;
            s->n_members = t + 1;
            break;
        }
        if (err >= 1 - 1.0 / (double)k) { /* no better than chance */
            kn_model_free(tree);
            if (t == 0)
                e = kn_fail(KN_ERR_INVALID,
                            "adaboost: the first tree is no better than chance (weighted error "
                            "%.4g); deepen the trees (max_depth) or check the target",
                            err);
            break;
        }
        double alpha = par->learning_rate * (log((1 - err) / err) + log((double)k - 1));
        s->members[t] = tree;
        s->alpha[t] = alpha;
        s->n_members = t + 1;
        if (t + 1 == T) break;
        sum = 0;
        for (size_t i = 0; i < n; i++) {
            if (pred[i] != d->y[i] && w[i] > 0) w[i] *= exp(alpha);
            sum += w[i];
        }
        if (!isfinite(sum) || !(sum > 0)) {
            kn_log(KN_LOG_WARN,
                   "adaboost: the row weights overflowed after %zu rounds; stopped "
                   "there (a smaller learning_rate goes further)",
                   t + 1);
            break;
        }
        for (size_t i = 0; i < n; i++) w[i] /= sum;
    }
    kn_free(w);
    kn_free(pred);
    if (e != KN_OK) {
        ada_free(s);
        return e;
    }
    if (s->n_members < T)
        kn_log(KN_LOG_INFO, "adaboost: stopped after %zu of %zu rounds", s->n_members, T);
    kn_model_set_state(m, s);
    return KN_OK;
}

/* The decision (n x k): each class's share of the members' total weight. */
static kn_status decision(const ada_state *s, const kn_dataset *d, double *out)
{
    size_t n = d->n, k = s->k;
    double *pred = kn_malloc((n ? n : 1) * sizeof *pred), total = 0;
    if (!pred) return KN_ERR_NOMEM;
    memset(out, 0, n * k * sizeof *out);
    kn_status e = KN_OK;
    for (size_t t = 0; e == KN_OK && t < s->n_members; t++) {
        e = kn__member_predict(s->members[t], d, 0, pred);
        for (size_t i = 0; e == KN_OK && i < n; i++) out[i * k + (size_t)pred[i]] += s->alpha[t];
        total += s->alpha[t];
    }
    for (size_t i = 0; total > 0 && i < n * k; i++) out[i] /= total;
    kn_free(pred);
    return e;
}

static kn_status ada_proba(const kn_model *m, const kn_dataset *d, double *out)
{
    const ada_state *s = kn_model_state(m);
    kn_status e = decision(s, d, out);
    if (e != KN_OK) return e;
    for (size_t i = 0; i < d->n * s->k; i++) out[i] /= (double)(s->k - 1);
    kn__softmax_rows(out, d->n, s->k);
    return KN_OK;
}

static kn_status ada_predict(const kn_model *m, const kn_dataset *d, double *out)
{
    const ada_state *s = kn_model_state(m);
    double *v = kn_malloc((d->n > 0 ? d->n * s->k : 1) * sizeof *v);
    if (!v) return KN_ERR_NOMEM;
    kn_status e = decision(s, d, v);
    if (e == KN_OK) kn__argmax_rows(v, d->n, s->k, out);
    kn_free(v);
    return e;
}

static kn_status ada_summary(const kn_model *m, kn_fit_summary *out)
{
    const ada_state *s = kn_model_state(m);
    out->n_stats = 1;
    out->stat_name[0] = "trees";
    out->stat[0] = (double)s->n_members;
    return KN_OK;
}

/* u32 version (1), u64 classes, u64 members, their weights, the members. */
static kn_status ada_save(const kn_model *m, kn_wbuf *w)
{
    const ada_state *s = kn_model_state(m);
    kn_wbuf_u32(w, 1);
    kn_wbuf_u64(w, s->k);
    kn_wbuf_u64(w, s->n_members);
    kn_wbuf_f64s(w, s->alpha, s->n_members);
    kn_status e = kn_wbuf_status(w);
    for (size_t t = 0; e == KN_OK && t < s->n_members; t++) e = kn__member_save(s->members[t], w);
    return e;
}

static kn_status ada_load(kn_model *m, kn_rbuf *r)
{
    uint32_t version = 0;
    uint64_t k = 0;
    size_t T = 0;
    kn_status e = kn_rbuf_u32(r, &version);
    if (e == KN_OK) e = kn_rbuf_u64(r, &k);
    if (e == KN_OK) e = kn_rbuf_count(r, 8, &T);
    if (e != KN_OK) return e;
    if (version != 1 || k < 2 || k != kn_model_n_classes(m) || T == 0)
        return kn_fail(KN_ERR_CORRUPT, "%s: bad adaboost header", r->what);
    ada_state *s = kn_calloc(1, sizeof *s);
    if (!s) return KN_ERR_NOMEM;
    s->k = (size_t)k;
    s->members = kn_calloc(T, sizeof *s->members);
    s->alpha = kn_calloc(T, sizeof *s->alpha);
    if (!s->members || !s->alpha) e = KN_ERR_NOMEM;
    for (size_t t = 0; e == KN_OK && t < T; t++) {
        e = kn_rbuf_f64(r, &s->alpha[t]);
        if (e == KN_OK && !isfinite(s->alpha[t]))
            e = kn_fail(KN_ERR_CORRUPT, "%s: a tree weight is not finite", r->what);
    }
    for (size_t t = 0; e == KN_OK && t < T; t++) {
        e = kn__member_load(r, &s->members[t]);
        if (e != KN_OK) break;
        s->n_members = t + 1;
        const kn_model *mb = s->members[t];
        if (strcmp(kn_model_name(mb), "decision_tree") || kn_model_n_classes(mb) != k ||
            kn_model_n_features(mb) != kn_model_n_features(m))
            e = kn_fail(KN_ERR_CORRUPT, "%s: an adaboost tree does not match the model", r->what);
    }
    if (e != KN_OK) {
        ada_free(s);
        return e;
    }
    kn_model_set_state(m, s);
    return KN_OK;
}

/* The columns its trees take (text, missing values), adaboost takes. */
static unsigned ada_flags_of(const kn_model *m)
{
    (void)m;
    return kn__member_base_flags("decision_tree");
}

static const kn_model_vt ada_vt = {
    .task = KN_TASK_CLASSIFICATION,
    .fit = ada_fit,
    .predict = ada_predict,
    .predict_proba = ada_proba,
    .free_state = ada_free,
    .save = ada_save,
    .load = ada_load,
    .summary = ada_summary,
    .flags = KN_MODEL_PREDICT_ARGMAX,
    .flags_of = ada_flags_of,
    .other_task_model = "gbdt",
    .validate = ada_validate,
};

const kn_component kn__adaboost = {
    KN_COMP_MODEL,
    "adaboost",
    "AdaBoost (SAMME, discrete) over shallow decision trees; classification",
    ada_defs,
    sizeof(ada_params),
    &ada_vt};
