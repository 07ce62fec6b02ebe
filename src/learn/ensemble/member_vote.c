/* member_vote: the combiner of a pipeline ensemble's vote (kiln/pipeline.h,
 * kn_pipeline_set_ensemble). Its features are the member pipelines'
 * outputs, member after member: with voting=soft each member's k class
 * probabilities, with voting=hard each member's predicted class index, for
 * a regression each member's value. A classifier's probabilities are the
 * mean probabilities (soft) or the vote shares (hard) and its prediction
 * their first largest (ties: the first class, as scikit-learn's
 * VotingClassifier); a regressor predicts the mean. Nothing is learned
 * beyond the classes: the fit checks the layout. */
#include "kiln/mem.h"
#include "kiln/model.h"
#include "learn/learn-impl.h"

#include <math.h>
#include <string.h>

typedef struct mvote_params {
    int voting, task;
} mvote_params;

enum { MVOTE_HARD, MVOTE_SOFT };
enum { MVOTE_CLASSIFY, MVOTE_REGRESS };

static const kn_param_def mvote_defs[] = {
    KN_PARAM_ENUM(mvote_params, voting, "soft", "hard|soft",
                  "hard: the most voted class; soft: the largest mean probability"),
    KN_PARAM_ENUM(mvote_params, task, "classification", "classification|regression",
                  "follows the target unless set (regression: the mean of the values)"),
    KN_PARAM_END};

typedef struct mvote_state {
    size_t k, n_members;
    int soft;
} mvote_state;

static kn_task mvote_task(const kn_model *m)
{
    const mvote_params *par = kn_model_params(m);
    return par->task == MVOTE_REGRESS ? KN_TASK_REGRESSION : KN_TASK_CLASSIFICATION;
}

static kn_status mvote_validate(const void *params)
{
    const mvote_params *par = params;
    if (par->task == MVOTE_REGRESS && par->voting == MVOTE_HARD)
        return kn_fail(KN_ERR_INVALID,
                       "voting=hard votes on classes, but task=regression: a regression "
                       "ensemble takes the mean of its members (voting=soft)");
    return KN_OK;
}

static kn_status mvote_fit(kn_model *m, const kn_dataset *d)
{
    const mvote_params *par = kn_model_params(m);
    int classify = kn_model_task(m) == KN_TASK_CLASSIFICATION;
    size_t k = classify ? d->n_classes : 0;
    int soft = classify && par->voting == MVOTE_SOFT;
    size_t width = soft ? k : 1;
    for (size_t j = 0; j < d->p; j++) /* the outputs' columns, as ensembles name them */
        if (!d->names || strncmp(d->names[j], "member", 6))
            return kn_fail(KN_ERR_INVALID,
                           "member_vote combines the outputs of an ensemble's member pipelines, "
                           "not feature '%s': write a spec's ensemble: (method hard_vote, "
                           "soft_vote or mean), or use the voting model",
                           d->names ? d->names[j] : "?");
    if (!d->p || !width || d->p % width)
        return kn_fail(KN_ERR_INVALID,
                       "member_vote: %zu features are not whole members' outputs (%zu each); it "
                       "combines the members of a pipeline ensemble",
                       d->p, width);
    for (size_t i = 0; classify && !soft && i < d->n * d->p; i++) {
        double v = d->x ? d->x[i] : d->col[i / d->n][i % d->n];
        if (!(v >= 0 && v < (double)k && v == floor(v)))
            return kn_fail(KN_ERR_INVALID,
                           "member_vote: voting=hard takes class indices, got %.17g", v);
    }
    mvote_state *s = kn_calloc(1, sizeof *s);
    if (!s) return KN_ERR_NOMEM;
    s->k = k;
    s->soft = soft;
    s->n_members = d->p / width;
    kn_model_set_state(m, s);
    return KN_OK;
}

static double value(const kn_dataset *d, size_t j, size_t i)
{
    return d->x ? d->x[j * d->n + i] : d->col[j][i];
}

static kn_status mvote_check(const mvote_state *s, const kn_dataset *d)
{
    size_t width = s->soft ? s->k : 1;
    if (d->p != s->n_members * width)
        return kn_fail(KN_ERR_INVALID, "member_vote: %zu features, fitted on %zu", d->p,
                       s->n_members * width);
    return KN_OK;
}

/* n x k probabilities (a classifier) or n means (a regressor). */
static kn_status mvote_proba(const kn_model *m, const kn_dataset *d, double *out)
{
    const mvote_state *s = kn_model_state(m);
    kn_status e = mvote_check(s, d);
    if (e != KN_OK) return e;
    size_t n = d->n, k = s->k, T = s->n_members;
    memset(out, 0, n * (k ? k : 1) * sizeof *out);
    for (size_t t = 0; t < T; t++)
        for (size_t i = 0; i < n; i++) {
            if (!k)
                out[i] += value(d, t, i);
            else if (s->soft)
                for (size_t c = 0; c < k; c++) out[i * k + c] += value(d, t * k + c, i);
            else {
                double v = value(d, t, i);
                if (!(v >= 0 && v < (double)k))
                    return kn_fail(KN_ERR_INVALID, "member_vote: member %zu gave class %.17g",
                                   t + 1, v);
                out[i * k + (size_t)v] += 1;
            }
        }
    for (size_t i = 0; i < n * (k ? k : 1); i++) out[i] /= (double)T;
    return KN_OK;
}

static kn_status mvote_predict(const kn_model *m, const kn_dataset *d, double *out)
{
    const mvote_state *s = kn_model_state(m);
    if (!s->k) return mvote_proba(m, d, out);
    double *v = kn_malloc((d->n ? d->n * s->k : 1) * sizeof *v);
    if (!v) return KN_ERR_NOMEM;
    kn_status e = mvote_proba(m, d, v);
    if (e == KN_OK) kn__argmax_rows(v, d->n, s->k, out);
    kn_free(v);
    return e;
}

/* u32 version (1), u64 classes, u32 soft, u64 members. */
static kn_status mvote_save(const kn_model *m, kn_wbuf *w)
{
    const mvote_state *s = kn_model_state(m);
    kn_wbuf_u32(w, 1);
    kn_wbuf_u64(w, s->k);
    kn_wbuf_u32(w, (uint32_t)s->soft);
    kn_wbuf_u64(w, s->n_members);
    return kn_wbuf_status(w);
}

static kn_status mvote_load(kn_model *m, kn_rbuf *r)
{
    uint32_t version = 0, soft = 0;
    uint64_t k = 0, T = 0;
    kn_status e = kn_rbuf_u32(r, &version);
    if (e == KN_OK) e = kn_rbuf_u64(r, &k);
    if (e == KN_OK) e = kn_rbuf_u32(r, &soft);
    if (e == KN_OK) e = kn_rbuf_u64(r, &T);
    if (e != KN_OK) return e;
    size_t width = soft ? (size_t)k : 1;
    if (version != 1 || k != kn_model_n_classes(m) || soft > 1 || (soft && !k) || T < 1 ||
        T > kn_model_n_features(m) || T * width != kn_model_n_features(m))
        return kn_fail(KN_ERR_CORRUPT, "%s: bad member_vote header", r->what);
    mvote_state *s = kn_calloc(1, sizeof *s);
    if (!s) return KN_ERR_NOMEM;
    s->k = (size_t)k;
    s->soft = (int)soft;
    s->n_members = (size_t)T;
    kn_model_set_state(m, s);
    return KN_OK;
}

static const kn_model_vt mvote_vt = {
    .task = KN_TASK_CLASSIFICATION,
    .fit = mvote_fit,
    .predict = mvote_predict,
    .predict_proba = mvote_proba,
    .free_state = kn_free,
    .save = mvote_save,
    .load = mvote_load,
    .flags = KN_MODEL_PREDICT_ARGMAX,
    .task_of = mvote_task,
    .task_param = "task",
    .classify_value = "classification",
    .regress_value = "regression",
    .validate = mvote_validate,
};

const kn_component kn__member_vote = {
    KN_COMP_MODEL,
    "member_vote",
    "the vote (or mean) of a pipeline ensemble's members over their outputs; made by a "
    "spec's ensemble: (method hard_vote, soft_vote or mean)",
    mvote_defs,
    sizeof(mvote_params),
    &mvote_vt};
