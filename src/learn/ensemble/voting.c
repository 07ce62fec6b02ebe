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
#include "kiln/split.h"
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
                    "models=%s: needs at least 2 models, separated by ';' "
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
    if (e == KN_OK) e = kn__members_load(r, m, T, (int)soft, s->members, &s->n_members);
    if (e != KN_OK) {
        vote_free(s);
        return e;
    }
    kn_model_set_state(m, s);
    return KN_OK;
}

/* The columns every listed model takes (text, missing values), the
 * ensemble takes. */
static unsigned vote_flags_of(const kn_model *m)
{
    const vote_params *par = kn_model_params(m);
    return kn__members_list_flags(par->models);
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
    .flags_of = vote_flags_of,
};

const kn_component kn__voting = {
    KN_COMP_MODEL,
    "voting",
    "a hard or soft vote (or, for regression, the mean) over a list of models of any family",
    vote_defs,
    sizeof(vote_params),
    &vote_vt};

/* stacking: the listed models' out-of-fold predictions (cv folds:
 * stratified for a classifier, k-fold for a regressor, unshuffled, as
 * scikit-learn's) become the features of a final model (`final`, with
 * final_params; auto: logistic_regression for a classifier, ridge for a
 * regressor); then the listed models are fitted again on all the rows. A
 * classifier's model that gives probabilities adds k columns (one for two
 * classes: the second class's), else its predicted class; a regressor's
 * its value. Saved as the listed models, then the final one. */
typedef struct stack_params {
    const char *models, *final, *final_params;
    int64_t cv;
    int task;
} stack_params;

static const kn_param_def stack_defs[] = {
    KN_PARAM_STRING(stack_params, models, "",
                    "two or more models separated by ';', each NAME or NAME:p=v,p=v "
                    "(logistic_regression:C=0.5;decision_tree:max_depth=3;gaussian_nb)"),
    KN_PARAM_STRING(stack_params, final, "auto",
                    "the model fitted on their out-of-fold predictions (auto: "
                    "logistic_regression, or ridge for regression)"),
    KN_PARAM_STRING(stack_params, final_params, "",
                    "the final model's parameters, name=value separated by commas"),
    KN_PARAM_INT(stack_params, cv, "5", 2, 1000000, "folds of the out-of-fold predictions"),
    KN_PARAM_ENUM(stack_params, task, "classification", "classification|regression",
                  "follows the target unless set"),
    KN_PARAM_END};

typedef struct stack_state {
    size_t k, q, n_members;
    kn_model **members;
    kn_model *final;
    char **names; /* q meta-feature names */
} stack_state;

static void stack_free(void *v)
{
    stack_state *s = v;
    if (!s) return;
    for (size_t t = 0; t < s->n_members; t++) kn_model_free(s->members[t]);
    kn_free(s->members);
    kn_model_free(s->final);
    for (size_t j = 0; s->names && j < s->q; j++) kn_free(s->names[j]);
    kn_free(s->names);
    kn_free(s);
}

static kn_task stack_task(const kn_model *m)
{
    const stack_params *par = kn_model_params(m);
    return par->task == TASK_REGRESS ? KN_TASK_REGRESSION : KN_TASK_CLASSIFICATION;
}

static const char *final_name(const stack_params *par, kn_task task)
{
    if (strcmp(par->final, "auto")) return par->final;
    return task == KN_TASK_CLASSIFICATION ? "logistic_regression" : "ridge";
}

static kn_status stack_validate(const void *params)
{
    const stack_params *par = params;
    kn_model **ms = NULL, *fin = NULL;
    size_t n = 0;
    kn_status e = make_members(par->models, NULL, &ms, &n);
    for (size_t i = 0; i < n; i++) kn_model_free(ms[i]);
    kn_free(ms);
    if (e == KN_OK)
        e = kn__member_new(final_name(par, KN_TASK_CLASSIFICATION), par->final_params, "final",
                           "final_params", NULL, &fin);
    kn_model_free(fin);
    return e;
}

/* Columns member mb adds. */
static size_t member_width(const stack_state *s, const kn_model *mb)
{
    if (!s->k || !kn__member_has_proba(mb)) return 1;
    return s->k == 2 ? 1 : s->k;
}

/* Member mb's columns for d's rows into z (column-major, ld rows apart),
 * at rows `at` (NULL: 0..n). */
static kn_status member_columns(const stack_state *s, const kn_model *mb, const kn_dataset *d,
                                double *z, size_t ld, const size_t *at)
{
    size_t n = d->n, k = s->k, w = member_width(s, mb);
    int proba = k && kn__member_has_proba(mb);
    double *v = kn_malloc((n > 0 ? n * (proba ? k : 1) : 1) * sizeof *v);
    if (!v) return KN_ERR_NOMEM;
    kn_status e = kn__member_predict(mb, d, proba, v);
    for (size_t i = 0; e == KN_OK && i < n; i++) {
        size_t r = at ? at[i] : i;
        for (size_t c = 0; c < w; c++) z[c * ld + r] = proba ? v[i * k + (k == 2 ? 1 : c)] : v[i];
    }
    kn_free(v);
    return e;
}

/* The rows `rows` of d as a new dense dataset (names and classes borrowed). */
static kn_status take_rows(const kn_dataset *d, const size_t *rows, size_t nr, kn_dataset *out)
{
    *out = (kn_dataset){.n = nr,
                        .p = d->p,
                        .names = d->names,
                        .n_classes = d->n_classes,
                        .classes = d->classes,
                        .n_levels = d->n_levels,
                        .levels = d->levels};
    out->x = kn_malloc((nr * d->p > 0 ? nr * d->p : 1) * sizeof *out->x);
    out->y = d->y ? kn_malloc((nr > 0 ? nr : 1) * sizeof *out->y) : NULL;
    out->w = d->w ? kn_malloc((nr > 0 ? nr : 1) * sizeof *out->w) : NULL;
    if (!out->x || (d->y && !out->y) || (d->w && !out->w)) return KN_ERR_NOMEM;
    for (size_t j = 0; j < d->p; j++) {
        const double *col = kn_dataset_column(d, j);
        for (size_t i = 0; i < nr; i++) out->x[j * nr + i] = col[rows[i]];
    }
    for (size_t i = 0; i < nr; i++) {
        if (d->y) out->y[i] = d->y[rows[i]];
        if (d->w) out->w[i] = d->w[rows[i]];
    }
    return KN_OK;
}

static void drop_rows(kn_dataset *d)
{
    kn_free(d->x);
    kn_free(d->y);
    kn_free(d->w);
}

static kn_status meta_names(stack_state *s)
{
    if (!(s->names = kn_calloc(s->q, sizeof *s->names))) return KN_ERR_NOMEM;
    size_t j = 0;
    for (size_t t = 0; t < s->n_members; t++)
        for (size_t c = 0, w = member_width(s, s->members[t]); c < w; c++, j++) {
            char buf[64];
            snprintf(buf, sizeof buf, "model%zu_%zu", t + 1, c + 1);
            if (!(s->names[j] = kn_strdup(buf))) return KN_ERR_NOMEM;
        }
    return KN_OK;
}

static kn_status stack_fit(kn_model *m, const kn_dataset *d)
{
    const stack_params *par = kn_model_params(m);
    kn_task task = kn_model_task(m);
    size_t n = d->n;
    stack_state *s = kn_calloc(1, sizeof *s);
    if (!s) return KN_ERR_NOMEM;
    s->k = task == KN_TASK_CLASSIFICATION ? d->n_classes : 0;
    kn_status e = make_members(par->models, &task, &s->members, &s->n_members);
    for (size_t t = 0; e == KN_OK && t < s->n_members; t++) s->q += member_width(s, s->members[t]);
    if (e == KN_OK) e = meta_names(s);
    double *z = e == KN_OK ? kn_malloc((n * s->q > 0 ? n * s->q : 1) * sizeof *z) : NULL;
    int32_t *labels = s->k ? kn_malloc((n > 0 ? n : 1) * sizeof *labels) : NULL;
    if (e == KN_OK && (!z || (s->k && !labels))) e = KN_ERR_NOMEM;
    kn_folds folds = {0};
    if (e == KN_OK && (size_t)par->cv > n)
        e = kn_fail(KN_ERR_INVALID, "stacking: cv=%lld folds for %zu rows; lower cv",
                    (long long)par->cv, n);
    if (e == KN_OK) {
        kn_split_opts o;
        kn_split_opts_default(&o);
        o.kind = s->k ? KN_SPLIT_STRATIFIED : KN_SPLIT_KFOLD;
        o.folds = (size_t)par->cv;
        for (size_t i = 0; s->k && i < n; i++) labels[i] = (int32_t)d->y[i];
        e = kn_split_folds(n, labels, &o, &folds);
        if (e != KN_OK) e = kn_fail_prefix(e, "stacking, cv=%lld: ", (long long)par->cv);
    }
    for (size_t f = 0; e == KN_OK && f < folds.k; f++) {
        const kn_fold *fd = &folds.fold[f];
        kn_dataset tr = {0}, te = {0};
        e = take_rows(d, fd->train, fd->n_train, &tr);
        if (e == KN_OK) e = take_rows(d, fd->test, fd->n_test, &te);
        for (size_t t = 0, col = 0; e == KN_OK && t < s->n_members; t++) {
            kn_model *c = NULL;
            e = kn_model_clone(s->members[t], 0, &c);
            if (e == KN_OK) e = kn__member_fit(c, &tr);
            if (e == KN_OK) e = member_columns(s, c, &te, z + col * n, n, fd->test);
            if (e != KN_OK)
                e = kn_fail_prefix(e, "stacking fold %zu, model %zu (%s): ", f + 1, t + 1,
                                   kn_model_name(s->members[t]));
            col += member_width(s, s->members[t]);
            kn_model_free(c);
        }
        drop_rows(&tr);
        drop_rows(&te);
    }
    kn_folds_free(&folds);
    for (size_t t = 0; e == KN_OK && t < s->n_members; t++) {
        e = kn__member_fit(s->members[t], d);
        if (e != KN_OK)
            e = kn_fail_prefix(e, "stacking model %zu (%s): ", t + 1, kn_model_name(s->members[t]));
    }
    if (e == KN_OK)
        e = kn__member_new(final_name(par, task), par->final_params, "final", "final_params", &task,
                           &s->final);
    if (e == KN_OK) {
        kn_dataset meta = {.n = n,
                           .p = s->q,
                           .x = z,
                           .y = d->y,
                           .w = d->w,
                           .names = s->names,
                           .n_classes = d->n_classes,
                           .classes = d->classes};
        e = kn__member_fit(s->final, &meta);
        if (e != KN_OK)
            e = kn_fail_prefix(e, "stacking, final model %s: ", kn_model_name(s->final));
    }
    kn_free(z);
    kn_free(labels);
    if (e != KN_OK) {
        stack_free(s);
        return e;
    }
    kn_model_set_state(m, s);
    return KN_OK;
}

static kn_status stack_apply(const kn_model *m, const kn_dataset *d, int proba, double *out)
{
    const stack_state *s = kn_model_state(m);
    size_t n = d->n;
    double *z = kn_malloc((n * s->q > 0 ? n * s->q : 1) * sizeof *z);
    if (!z) return KN_ERR_NOMEM;
    kn_status e = KN_OK;
    for (size_t t = 0, col = 0; e == KN_OK && t < s->n_members; t++) {
        e = member_columns(s, s->members[t], d, z + col * n, n, NULL);
        col += member_width(s, s->members[t]);
    }
    kn_dataset meta = {.n = n,
                       .p = s->q,
                       .x = z,
                       .names = s->names,
                       .n_classes = d->n_classes,
                       .classes = d->classes};
    if (e == KN_OK) e = kn__member_predict(s->final, &meta, proba, out);
    kn_free(z);
    return e;
}

static kn_status stack_predict(const kn_model *m, const kn_dataset *d, double *out)
{
    return stack_apply(m, d, 0, out);
}

static kn_status stack_proba(const kn_model *m, const kn_dataset *d, double *out)
{
    return stack_apply(m, d, 1, out);
}

/* u32 version (1), u64 classes, u64 models, the models, the final model. */
static kn_status stack_save(const kn_model *m, kn_wbuf *w)
{
    const stack_state *s = kn_model_state(m);
    kn_wbuf_u32(w, 1);
    kn_wbuf_u64(w, s->k);
    kn_wbuf_u64(w, s->n_members);
    kn_status e = kn_wbuf_status(w);
    for (size_t t = 0; e == KN_OK && t < s->n_members; t++) e = kn__member_save(s->members[t], w);
    if (e == KN_OK) e = kn__member_save(s->final, w);
    return e;
}

static kn_status stack_load(kn_model *m, kn_rbuf *r)
{
    uint32_t version = 0;
    uint64_t k = 0;
    size_t T = 0;
    kn_status e = kn_rbuf_u32(r, &version);
    if (e == KN_OK) e = kn_rbuf_u64(r, &k);
    if (e == KN_OK) e = kn_rbuf_count(r, 8, &T);
    if (e != KN_OK) return e;
    if (version != 1 || k != kn_model_n_classes(m) || T < 2)
        return kn_fail(KN_ERR_CORRUPT, "%s: bad stacking header", r->what);
    stack_state *s = kn_calloc(1, sizeof *s);
    if (!s) return KN_ERR_NOMEM;
    s->k = (size_t)k;
    if (!(s->members = kn_calloc(T, sizeof *s->members))) e = KN_ERR_NOMEM;
    for (size_t t = 0; e == KN_OK && t < T; t++) {
        e = kn__member_load(r, &s->members[t]);
        if (e != KN_OK) break;
        s->n_members = t + 1;
        e = kn__member_check(m, s->members[t], r->what);
        if (e == KN_OK) s->q += member_width(s, s->members[t]);
    }
    if (e == KN_OK) e = kn__member_load(r, &s->final);
    if (e == KN_OK &&
        (kn_model_n_features(s->final) != s->q || kn_model_n_classes(s->final) != s->k ||
         kn_model_task(s->final) != kn_model_task(m)))
        e = kn_fail(KN_ERR_CORRUPT, "%s: the stacking's final model does not match it", r->what);
    if (e == KN_OK) e = meta_names(s);
    if (e != KN_OK) {
        stack_free(s);
        return e;
    }
    kn_model_set_state(m, s);
    return KN_OK;
}

/* The columns every listed model takes, stacking takes (its final model
 * reads their predictions, numbers). */
static unsigned stack_flags_of(const kn_model *m)
{
    const stack_params *par = kn_model_params(m);
    return kn__members_list_flags(par->models);
}

static const kn_model_vt stack_vt = {
    .task = KN_TASK_CLASSIFICATION,
    .fit = stack_fit,
    .predict = stack_predict,
    .predict_proba = stack_proba,
    .free_state = stack_free,
    .save = stack_save,
    .load = stack_load,
    .task_of = stack_task,
    .task_param = "task",
    .classify_value = "classification",
    .regress_value = "regression",
    .validate = stack_validate,
    .flags_of = stack_flags_of,
};

const kn_component kn__stacking = {
    KN_COMP_MODEL,
    "stacking",
    "stacking: a list of models of any family, their out-of-fold predictions into a final "
    "model",
    stack_defs,
    sizeof(stack_params),
    &stack_vt};
