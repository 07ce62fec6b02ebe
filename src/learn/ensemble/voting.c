/* voting: a vote over a list of models of any families, each fitted on
 * all the rows. The list (`models`) names them separated by semicolons,
 * each optionally with its parameters after a colon, comma-separated:
 * "logistic_regression:C=0.5;decision_tree:max_depth=3;gaussian_nb".
 * A classifier takes the most voted class (hard; ties: the first class)
 * or the largest mean probability (soft; every model must give
 * probabilities); its probabilities are the vote shares (hard) or the
 * mean probabilities (soft). A regressor takes the mean of the values.
 * Members are fitted in list order and saved as whole model encodings
 * (members.h). */
#include "kiln/mem.h"
#include "kiln/model.h"
#include "learn/ensemble/members.h"
#include "learn/learn-impl.h"

#include <stdio.h>
#include <string.h>

typedef struct vote_params {
    const char *models;
    int voting, task;
} vote_params;

enum { VOTE_HARD, VOTE_SOFT };
enum { TASK_CLASSIFY, TASK_REGRESS };

static const kn_param_def vote_defs[] = {
    KN_PARAM_STRING(vote_params, models, "",
                    "two or more models separated by ';', each NAME or NAME:p=v,p=v "
                    "(logistic_regression:C=0.5;decision_tree:max_depth=3;gaussian_nb)"),
    KN_PARAM_ENUM(vote_params, voting, "hard", "hard|soft",
                  "hard: the most voted class; soft: the largest mean probability"),
    KN_PARAM_ENUM(vote_params, task, "classification", "classification|regression",
                  "follows the target unless set"),
    KN_PARAM_END};

typedef struct vote_state {
    size_t k, n_members;
    int soft;
    kn_model **members;
} vote_state;

static void vote_free(void *v)
{
    vote_state *s = v;
    if (!s) return;
    for (size_t t = 0; t < s->n_members; t++) kn_model_free(s->members[t]);
    kn_free(s->members);
    kn_free(s);
}

static kn_task vote_task(const kn_model *m)
{
    const vote_params *par = kn_model_params(m);
    return par->task == TASK_REGRESS ? KN_TASK_REGRESSION : KN_TASK_CLASSIFICATION;
}

/* The models of the list, made (task NULL: as they are); *n receives how
 * many. */
static kn_status make_members(const char *list, const kn_task *task, kn_model ***out, size_t *n)
{
    char *copy = kn_strdup(list);
    if (!copy) return KN_ERR_NOMEM;
    size_t cap = 1;
    for (const char *c = list; *c; c++) cap += *c == ';';
    kn_model **ms = kn_calloc(cap, sizeof *ms);
    kn_status e = ms ? KN_OK : KN_ERR_NOMEM;
    size_t m = 0;
    for (char *item = copy, *next; e == KN_OK && item; item = next) {
        next = strchr(item, ';');
        if (next) *next++ = '\0';
        while (*item == ' ') item++;
        if (!*item) continue;
        char *settings = strchr(item, ':');
        if (settings) *settings++ = '\0';
        char what[200];
        snprintf(what, sizeof what, "models (%.100s's parameters)", item);
        e = kn__member_new(item, settings ? settings : "", "models", what, task, &ms[m]);
        if (e == KN_OK) m++;
    }
    kn_free(copy);
    if (e == KN_OK && m < 2)
        e = kn_fail(KN_ERR_INVALID,
                    "models=%s: a vote needs at least 2 models, separated by ';' "
                    "(logistic_regression;decision_tree:max_depth=3)",
                    list);
    if (e != KN_OK) {
        for (size_t i = 0; i < m; i++) kn_model_free(ms[i]);
        kn_free(ms);
        return e;
    }
    *out = ms;
    *n = m;
    return KN_OK;
}

static kn_status vote_validate(const void *params)
{
    const vote_params *par = params;
    kn_model **ms = NULL;
    size_t n = 0;
    kn_status e = make_members(par->models, NULL, &ms, &n);
    for (size_t i = 0; e == KN_OK && i < n; i++)
        if (par->voting == VOTE_SOFT && !kn__member_has_proba(ms[i]))
            e = kn_fail(KN_ERR_INVALID,
                        "voting=soft: model '%s' of models gives no probabilities; use "
                        "voting=hard or leave it out",
                        kn_model_name(ms[i]));
    for (size_t i = 0; i < n; i++) kn_model_free(ms[i]);
    kn_free(ms);
    return e;
}

static kn_status vote_fit(kn_model *m, const kn_dataset *d)
{
    const vote_params *par = kn_model_params(m);
    kn_task task = kn_model_task(m);
    vote_state *s = kn_calloc(1, sizeof *s);
    if (!s) return KN_ERR_NOMEM;
    s->k = task == KN_TASK_CLASSIFICATION ? d->n_classes : 0;
    s->soft = s->k && par->voting == VOTE_SOFT;
    kn_status e = make_members(par->models, &task, &s->members, &s->n_members);
    for (size_t t = 0; e == KN_OK && t < s->n_members; t++) {
        e = kn__member_fit(s->members[t], d);
        if (e != KN_OK)
            e = kn_fail_prefix(e, "voting model %zu (%s): ", t + 1, kn_model_name(s->members[t]));
    }
    if (e != KN_OK) {
        vote_free(s);
        return e;
    }
    kn_model_set_state(m, s);
    return KN_OK;
}

static kn_status vote_proba(const kn_model *m, const kn_dataset *d, double *out)
{
    const vote_state *s = kn_model_state(m);
    size_t n = d->n, k = s->k, width = k ? k : 1;
    double *tmp = kn_malloc((n * width > 0 ? n * width : 1) * sizeof *tmp);
    if (!tmp) return KN_ERR_NOMEM;
    memset(out, 0, n * width * sizeof *out);
    kn_status e = KN_OK;
    for (size_t t = 0; e == KN_OK && t < s->n_members; t++) {
        e = kn__member_predict(s->members[t], d, s->soft, tmp);
        if (e != KN_OK) break;
        if (s->soft)
            for (size_t i = 0; i < n * k; i++) out[i] += tmp[i];
        else if (k)
            for (size_t i = 0; i < n; i++) out[i * k + (size_t)tmp[i]] += 1;
        else
            for (size_t i = 0; i < n; i++) out[i] += tmp[i];
    }
    for (size_t i = 0; i < n * width; i++) out[i] /= (double)s->n_members;
    kn_free(tmp);
    return e;
}

static kn_status vote_predict(const kn_model *m, const kn_dataset *d, double *out)
{
    const vote_state *s = kn_model_state(m);
    if (!s->k) return vote_proba(m, d, out);
    double *v = kn_malloc((d->n > 0 ? d->n * s->k : 1) * sizeof *v);
    if (!v) return KN_ERR_NOMEM;
    kn_status e = vote_proba(m, d, v);
    if (e == KN_OK) kn__argmax_rows(v, d->n, s->k, out);
    kn_free(v);
    return e;
}

/* u32 version (1), u64 classes, u32 soft, u64 members, the members. */
static kn_status vote_save(const kn_model *m, kn_wbuf *w)
{
    const vote_state *s = kn_model_state(m);
    kn_wbuf_u32(w, 1);
    kn_wbuf_u64(w, s->k);
    kn_wbuf_u32(w, (uint32_t)s->soft);
    kn_wbuf_u64(w, s->n_members);
    kn_status e = kn_wbuf_status(w);
    for (size_t t = 0; e == KN_OK && t < s->n_members; t++) e = kn__member_save(s->members[t], w);
    return e;
}

static kn_status vote_load(kn_model *m, kn_rbuf *r)
{
    uint32_t version = 0, soft = 0;
    uint64_t k = 0;
    size_t T = 0;
    kn_status e = kn_rbuf_u32(r, &version);
    if (e == KN_OK) e = kn_rbuf_u64(r, &k);
    if (e == KN_OK) e = kn_rbuf_u32(r, &soft);
    if (e == KN_OK) e = kn_rbuf_count(r, 8, &T);
    if (e != KN_OK) return e;
    if (version != 1 || k != kn_model_n_classes(m) || soft > 1 || (soft && !k) || T < 2)
        return kn_fail(KN_ERR_CORRUPT, "%s: bad voting header", r->what);
    vote_state *s = kn_calloc(1, sizeof *s);
    if (!s) return KN_ERR_NOMEM;
    s->k = (size_t)k;
    s->soft = (int)soft;
    if (!(s->members = kn_calloc(T, sizeof *s->members))) e = KN_ERR_NOMEM;
    for (size_t t = 0; e == KN_OK && t < T; t++) {
        e = kn__member_load(r, &s->members[t]);
        if (e != KN_OK) break;
        s->n_members = t + 1;
        e = kn__member_check(m, s->members[t], r->what);
        if (e == KN_OK && soft && !kn__member_has_proba(s->members[t]))
            e = kn_fail(KN_ERR_CORRUPT, "%s: a soft-voting member without probabilities", r->what);
    }
    if (e != KN_OK) {
        vote_free(s);
        return e;
    }
    kn_model_set_state(m, s);
    return KN_OK;
}

static const kn_model_vt vote_vt = {
    .task = KN_TASK_CLASSIFICATION,
    .fit = vote_fit,
    .predict = vote_predict,
    .predict_proba = vote_proba,
    .free_state = vote_free,
    .save = vote_save,
    .load = vote_load,
    .flags = KN_MODEL_PREDICT_ARGMAX,
    .task_of = vote_task,
    .task_param = "task",
    .classify_value = "classification",
    .regress_value = "regression",
    .validate = vote_validate,
};

const kn_component kn__voting = {
    KN_COMP_MODEL,
    "voting",
    "a hard or soft vote (or, for regression, the mean) over a list of models of any family",
    vote_defs,
    sizeof(vote_params),
    &vote_vt};
