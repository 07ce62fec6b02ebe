/* Ensembles of pipelines (kiln/pipeline.h): members, their fit (all rows,
 * or out-of-fold for stacking), the frame of their outputs that the
 * enclosing pipeline's model reads, their copies and their encoding. */
#include "kiln/ctx.h"
#include "kiln/mem.h"
#include "kiln/split.h"
#include "core/ctx-impl.h"
#include "core/threads.h"
#include "learn/ensemble/members.h"
#include "pipeline/pipeline-impl.h"

#include <stdio.h>
#include <string.h>

/* What a member gives per row. */
typedef enum { OUT_VALUE, OUT_CLASS, OUT_PROBA, OUT_PROBA_LAST } out_kind;

static const char *method_name(kn_ensemble_method m)
{
    switch (m) {
    case KN_ENSEMBLE_HARD_VOTE:
        return "hard_vote";
    case KN_ENSEMBLE_SOFT_VOTE:
        return "soft_vote";
    case KN_ENSEMBLE_MEAN:
        return "mean";
    case KN_ENSEMBLE_STACKING:
        return "stacking";
    default:
        return "none";
    }
}

kn_status kn_pipeline_add_member(kn_pipeline *p, kn_pipeline *member)
{
    if (!member) return kn_fail(KN_ERR_INVALID, "kn_pipeline_add_member: no member given");
    if (member == p || member->n_members) {
        if (member != p) kn_pipeline_free(member);
        return kn_fail(KN_ERR_INVALID, "a member of an ensemble is a pipeline of steps and a "
                                       "model, not an ensemble itself");
    }
    kn_pipeline **grown = kn_realloc(p->members, (p->n_members + 1) * sizeof *grown);
    if (!grown) {
        kn_pipeline_free(member);
        return KN_ERR_NOMEM;
    }
    p->members = grown;
    p->members[p->n_members++] = member;
    kn__pipeline_unfit(p);
    return KN_OK;
}

kn_status kn_pipeline_set_ensemble(kn_pipeline *p, kn_ensemble_method method, size_t folds,
                                   uint64_t seed)
{
    if (method < KN_ENSEMBLE_HARD_VOTE || method > KN_ENSEMBLE_STACKING)
        return kn_fail(KN_ERR_INVALID,
                       "ensemble method %d is not one of hard_vote (1), "
                       "soft_vote (2), mean (3), stacking (4)",
                       (int)method);
    if (method == KN_ENSEMBLE_STACKING && folds == 1)
        return kn_fail(KN_ERR_INVALID, "stacking folds: 1; out-of-fold outputs need at least 2");
    if (method != KN_ENSEMBLE_STACKING) {
        const char *set[2] = {method == KN_ENSEMBLE_HARD_VOTE ? "voting=hard" : "voting=soft",
                              "task=regression"};
        kn_status e =
            kn_pipeline_set_model_spec(p, "member_vote", set, method == KN_ENSEMBLE_MEAN ? 2 : 1);
        if (e != KN_OK) return e;
    }
    kn__pipeline_unfit(p);
    p->method = method;
    p->folds = folds ? folds : 5;
    p->seed = seed;
    return KN_OK;
}

kn_ensemble_method kn_pipeline_ensemble(const kn_pipeline *p)
{
    return p->method;
}

size_t kn_pipeline_folds(const kn_pipeline *p)
{
    return p->folds;
}

uint64_t kn_pipeline_seed(const kn_pipeline *p)
{
    return p->seed;
}

size_t kn_pipeline_n_members(const kn_pipeline *p)
{
    return p->n_members;
}

const kn_pipeline *kn_pipeline_member(const kn_pipeline *p, size_t i)
{
    return i < p->n_members ? p->members[i] : NULL;
}

void kn__ensemble_free(kn_pipeline *p)
{
    for (size_t t = 0; t < p->n_members; t++) kn_pipeline_free(p->members[t]);
    kn_free(p->members);
    p->members = NULL;
    p->n_members = 0;
}

static const char *task_word(kn_task t)
{
    return t == KN_TASK_CLASSIFICATION ? "a classifier" : "a regressor";
}

kn_status kn__ensemble_check(const kn_pipeline *p, kn_task task)
{
    const char *how = method_name(p->method);
    if (p->method == KN_ENSEMBLE_NONE)
        return kn_fail(KN_ERR_INVALID,
                       "the pipeline has %zu members but no ensemble method "
                       "(hard_vote, soft_vote, mean or stacking)",
                       p->n_members);
    if (p->n_members < 2)
        return kn_fail(KN_ERR_INVALID,
                       "ensemble (%s): a list of %zu member; an ensemble needs at least two "
                       "(one pipeline needs no ensemble: give its steps and model directly)",
                       how, p->n_members);
    if (!p->model)
        return kn_fail(KN_ERR_INVALID,
                       "ensemble (%s) has no model to combine its members: "
                       "stacking needs its final model",
                       how);
    int votes = p->method == KN_ENSEMBLE_HARD_VOTE || p->method == KN_ENSEMBLE_SOFT_VOTE;
    if (votes && task == KN_TASK_REGRESSION)
        return kn_fail(KN_ERR_INVALID,
                       "ensemble method %s votes on classes, but '%s' is a regression target: "
                       "use method: mean (or task: classification for a target of class labels)",
                       how, p->target ? p->target : "?");
    if (p->method == KN_ENSEMBLE_MEAN && task == KN_TASK_CLASSIFICATION)
        return kn_fail(KN_ERR_INVALID,
                       "ensemble method mean averages values, but the ensemble classifies '%s': "
                       "use method: hard_vote or soft_vote",
                       p->target ? p->target : "?");
    int proba = task == KN_TASK_CLASSIFICATION && p->method != KN_ENSEMBLE_HARD_VOTE;
    for (size_t t = 0; t < p->n_members; t++) {
        const kn_pipeline *m = p->members[t];
        if (!m->model)
            return kn_fail(KN_ERR_INVALID,
                           "ensemble member %zu has no model: each member is "
                           "steps (optional) and a model",
                           t + 1);
        if (m->n_members)
            return kn_fail(KN_ERR_INVALID, "ensemble member %zu is an ensemble itself", t + 1);
        const kn_model_vt *vt = kn__model_vt(m->model);
        const char *name = kn_model_name(m->model);
        if (vt->flags & KN_MODEL_UNSUPERVISED)
            return kn_fail(KN_ERR_INVALID,
                           "ensemble member %zu (%s) is unsupervised; members learn the target",
                           t + 1, name);
        int follows = vt->task_param && !kn__model_task_set(m->model);
        if (!follows && kn_model_task(m->model) != task)
            return kn_fail(KN_ERR_INVALID, "ensemble member %zu (%s) is %s, but the ensemble is %s",
                           t + 1, name, task_word(kn_model_task(m->model)), task_word(task));
        if (proba && !kn__member_has_proba(m->model))
            return kn_fail(KN_ERR_INVALID,
                           "ensemble member %zu (%s) gives no class probabilities, which %s "
                           "needs: use method: hard_vote, or another model",
                           t + 1, name, how);
    }
    return KN_OK;
}

static out_kind out_of(const kn_pipeline *p, size_t k)
{
    if (!k) return OUT_VALUE;
    if (p->method == KN_ENSEMBLE_HARD_VOTE) return OUT_CLASS;
    return p->method == KN_ENSEMBLE_STACKING && k == 2 ? OUT_PROBA_LAST : OUT_PROBA;
}

static size_t out_width(out_kind o, size_t k)
{
    return o == OUT_PROBA ? k : 1;
}

/* Member m's outputs on the rows of x into cols[0 .. width) at the rows
 * at[] (NULL: row i at i). */
static kn_status member_outputs(const kn_pipeline *m, const kn_frame *x, out_kind o, size_t k,
                                double *const *cols, const size_t *at)
{
    double *v = NULL;
    size_t n = 0;
    int proba = o == OUT_PROBA || o == OUT_PROBA_LAST;
    kn_status e =
        proba ? kn_pipeline_predict_proba(m, x, &v, &n) : kn_pipeline_predict(m, x, &v, &n);
    if (e == KN_OK && n != kn_frame_n_rows(x))
        e = kn_fail(KN_ERR_INTERNAL, "a member gave %zu outputs for %zu rows", n,
                    kn_frame_n_rows(x));
    for (size_t i = 0; e == KN_OK && i < n; i++) {
        size_t r = at ? at[i] : i;
        if (o == OUT_PROBA)
            for (size_t c = 0; c < k; c++) cols[c][r] = v[i * k + c];
        else if (o == OUT_PROBA_LAST)
            cols[0][r] = v[i * k + 1];
        else
            cols[0][r] = v[i];
    }
    kn_free(v);
    return e;
}

/* A new frame of x's target and weight columns (those it has) and T x
 * width numeric columns named after the members (and classes), each of n
 * rows; *cols receives their values to fill (borrowed from the frame). */
static kn_status outputs_frame(const kn_pipeline *p, const kn_frame *x, size_t width, out_kind o,
                               const kn_model *classes, kn_frame **out, double ***cols)
{
    size_t keep[2], n_keep = 0, j, n = kn_frame_n_rows(x), q = p->n_members * width;
    if (p->target && kn_frame_find(x, p->target, &j) == KN_OK) keep[n_keep++] = j;
    if (p->weight && kn_frame_find(x, p->weight, &j) == KN_OK) keep[n_keep++] = j;
    kn_frame *f = NULL;
    double **c = kn_calloc(q ? q : 1, sizeof *c);
    kn_status e = c ? KN_OK : KN_ERR_NOMEM;
    if (e == KN_OK) e = n_keep ? kn_frame_select_cols(x, keep, n_keep, &f) : kn_frame_new(&f);
    for (size_t t = 0; e == KN_OK && t < p->n_members; t++)
        for (size_t w = 0; e == KN_OK && w < width; w++) {
            char name[300];
            size_t cls = o == OUT_PROBA_LAST ? 1 : w;
            if (o == OUT_PROBA || o == OUT_PROBA_LAST)
                snprintf(name, sizeof name, "member%zu:%.250s", t + 1,
                         kn_model_class(classes, cls));
            else
                snprintf(name, sizeof name, "member%zu", t + 1);
            kn_column *col = NULL;
            e = kn_frame_add_column(f, name, KN_COL_NUMERIC, &col);
            if (e == KN_OK && kn_frame_n_rows(f) != n) e = kn_frame_resize(f, n);
            if (e == KN_OK) kn_column_set_role(col, KN_ROLE_FEATURE);
        }
    for (size_t i = 0; e == KN_OK && i < q; i++) c[i] = kn_column_f64(kn_frame_col(f, n_keep + i));
    if (e != KN_OK) {
        kn_frame_free(f);
        kn_free(c);
        return e;
    }
    *out = f;
    *cols = c;
    return KN_OK;
}

/* The classes of p's members (0 for a regression) and the model that names
 * them: the first member's (fitted). */
static size_t member_classes(const kn_pipeline *p, kn_task task)
{
    return task == KN_TASK_CLASSIFICATION ? kn_model_n_classes(p->members[0]->model) : 0;
}

kn_status kn__ensemble_outputs(const kn_pipeline *p, const kn_frame *x, kn_frame **out)
{
    *out = NULL;
    if (p->n_members < 1 || !p->model)
        return kn_fail(KN_ERR_INVALID, "the pipeline has no members to give outputs");
    kn_task task = kn_model_task(p->model);
    size_t k = member_classes(p, task);
    out_kind o = out_of(p, k);
    size_t width = out_width(o, k);
    kn_frame *f = NULL;
    double **cols = NULL;
    kn_status e = outputs_frame(p, x, width, o, p->members[0]->model, &f, &cols);
    for (size_t t = 0; e == KN_OK && t < p->n_members; t++) {
        const kn_model *mm = p->members[t]->model;
        if (k && kn_model_n_classes(mm) != k)
            e = kn_fail(KN_ERR_CORRUPT, "ensemble member %zu has %zu classes, member 1 has %zu",
                        t + 1, kn_model_n_classes(mm), k);
        if (e == KN_OK) e = member_outputs(p->members[t], x, o, k, cols + t * width, NULL);
        if (e != KN_OK) e = kn_fail_prefix(e, "ensemble member %zu: ", t + 1);
    }
    kn_free(cols);
    if (e != KN_OK) {
        kn_frame_free(f);
        return e;
    }
    *out = f;
    return KN_OK;
}

/* Stacking's folds of x's rows (stratified for a classifier, shuffled by
 * p's seed); *k the classes (0 for a regression). */
static kn_status stack_folds(const kn_pipeline *p, const kn_frame *x, kn_task task, kn_folds *folds,
                             size_t *k)
{
    size_t n = kn_frame_n_rows(x);
    int32_t *lab = NULL;
    kn_split_opts so;
    kn_split_opts_default(&so);
    so.kind = task == KN_TASK_CLASSIFICATION ? KN_SPLIT_STRATIFIED : KN_SPLIT_KFOLD;
    so.folds = p->folds;
    so.shuffle = 1;
    so.seed = p->seed;
    *k = 0;
    kn_status e = KN_OK;
    if (task == KN_TASK_CLASSIFICATION) e = kn_split_labels(x, p->target, &lab, k);
    size_t *count = e == KN_OK && *k ? kn_calloc(*k, sizeof *count) : NULL, smallest = n;
    if (e == KN_OK && *k && !count) e = KN_ERR_NOMEM;
    for (size_t i = 0; count && i < n; i++) count[lab[i]]++;
    for (size_t c = 0; count && c < *k; c++) smallest = count[c] < smallest ? count[c] : smallest;
    kn_free(count);
    if (e == KN_OK && *k && smallest < p->folds)
        e = kn_fail(KN_ERR_INVALID,
                    "stacking's %zu out-of-fold folds: a class of '%s' has only %zu of these %zu "
                    "training rows, fewer than the folds; lower the ensemble's folds or merge "
                    "rare classes",
                    p->folds, p->target, smallest, n);
    else if (e == KN_OK)
        e = kn_split_folds(n, lab, &so, folds);
    if (e != KN_OK && !strstr(kn_last_error(), "stacking's"))
        e = kn_fail_prefix(e, "stacking's %zu folds: ", p->folds);
    kn_free(lab);
    return e;
}

/* One fit of an ensemble's fit: member `member` on fold `fold`'s training
 * rows, its outputs on the fold's test rows written into the out-of-fold
 * columns; or (fold == the folds' count) the member itself on all rows. */
typedef struct fit_task {
    size_t fold, member;
    kn_pipeline *m; /* a fold's clone (owned), or the member (borrowed) */
    kn_status status;
    char *error;
} fit_task;

static kn_status run_task(const kn_pipeline *p, const kn_frame *x, const kn_folds *folds, size_t k,
                          out_kind o, double *oof, fit_task *tk)
{
    if (tk->fold == folds->k) {
        kn_status e = kn_pipeline_fit(tk->m, x, NULL);
        return e == KN_OK ? e : kn_fail_prefix(e, "ensemble member %zu: ", tk->member + 1);
    }
    const kn_fold *fd = &folds->fold[tk->fold];
    size_t n = kn_frame_n_rows(x), width = out_width(o, k);
    kn_frame *train = NULL, *test = NULL;
    double **cols = kn_malloc(width * sizeof *cols);
    kn_status e = cols ? KN_OK : KN_ERR_NOMEM;
    for (size_t c = 0; cols && c < width; c++) cols[c] = oof + (tk->member * width + c) * n;
    if (e == KN_OK) e = kn_frame_select_rows(x, fd->train, fd->n_train, &train);
    if (e == KN_OK) e = kn_frame_select_rows(x, fd->test, fd->n_test, &test);
    if (e == KN_OK) e = kn_pipeline_fit(tk->m, train, NULL);
    if (e == KN_OK && k && kn_model_n_classes(tk->m->model) != k)
        e = kn_fail(KN_ERR_INVALID,
                    "the training rows hold %zu of the %zu classes of '%s': use fewer folds "
                    "(folds: N) or more rows of the rare classes",
                    kn_model_n_classes(tk->m->model), k, p->target);
    if (e == KN_OK) e = member_outputs(tk->m, test, o, k, cols, fd->test);
    if (e != KN_OK)
        e = kn_fail_prefix(e, "stacking fold %zu of %zu, member %zu: ", tk->fold + 1, folds->k,
                           tk->member + 1);
    kn_free(cols);
    kn_frame_free(train);
    kn_frame_free(test);
    return e;
}

/* Fits every member on all of x and, with folds, a copy of every member
 * on each fold's training rows, its outputs on the fold's test rows into
 * oof (members x width columns of n rows). The fits are independent: they
 * run at once on the threads here (each fit then on one thread; the same
 * results on any count), and the first failure in task order is the
 * error. */
static kn_status fit_members(kn_pipeline *p, const kn_frame *x, const kn_folds *folds, size_t k,
                             out_kind o, double *oof)
{
    size_t T = p->n_members, F = folds ? folds->k : 0, n_tasks = (F + 1) * T;
    kn_folds none = {0};
    fit_task *tasks = kn_calloc(n_tasks, sizeof *tasks);
    if (!tasks) return KN_ERR_NOMEM;
    kn_status e = KN_OK;
    for (size_t i = 0; i < n_tasks; i++) { /* fold by fold, then the members themselves */
        tasks[i] = (fit_task){.fold = i / T, .member = i % T};
        if (i / T == F)
            tasks[i].m = p->members[i % T];
        else if (e == KN_OK)
            e = kn_pipeline_clone(p->members[i % T], 0, &tasks[i].m);
    }
    int threads = kn__threads_here();
    if ((size_t)threads > n_tasks) threads = (int)n_tasks;
    if (threads < 1) threads = 1;
    kn_ctx *ctx = kn_ctx_current(); /* the fits run in the caller's context */
    if (e == KN_OK) {
#pragma omp parallel for schedule(dynamic, 1) num_threads(threads)
        for (size_t i = 0; i < n_tasks; i++) {
            kn_ctx *prev = kn__ctx_swap(ctx);
            fit_task *tk = &tasks[i];
            tk->status = kn_ctx_check();
            if (tk->status == KN_OK)
                tk->status = run_task(p, x, folds ? folds : &none, k, o, oof, tk);
            if (tk->status != KN_OK) tk->error = kn_strdup(kn_last_error());
            if (tk->fold < F) { /* a fold's copy is done with */
                kn_pipeline_free(tk->m);
                tk->m = NULL;
            }
            kn__ctx_swap(prev);
        }
    }
    for (size_t i = 0; e == KN_OK && i < n_tasks; i++)
        if (tasks[i].status != KN_OK)
            e = tasks[i].error ? kn_fail(tasks[i].status, "%s", tasks[i].error) : tasks[i].status;
    for (size_t i = 0; i < n_tasks; i++) {
        if (tasks[i].fold < F) kn_pipeline_free(tasks[i].m);
        kn_free(tasks[i].error);
    }
    kn_free(tasks);
    return e;
}

kn_status kn__ensemble_fit(kn_pipeline *p, const kn_frame *x)
{
    kn_status e = p->model ? kn_model_choose_task(p->model, x, p->target, NULL) : KN_OK;
    if (e != KN_OK && p->method == KN_ENSEMBLE_MEAN)
        e = kn_fail_prefix(e, "ensemble method mean averages values (hard_vote or soft_vote "
                              "for classes): ");
    kn_task task = p->model ? kn_model_task(p->model) : KN_TASK_REGRESSION;
    if (e == KN_OK) e = kn__ensemble_check(p, task);
    /* members learn the ensemble's target, as its task */
    for (size_t t = 0; e == KN_OK && t < p->n_members; t++) {
        kn_pipeline *m = p->members[t];
        e = kn_pipeline_set_target(m, p->target, p->weight);
        if (e == KN_OK && kn__model_vt(m->model)->task_param && !kn__model_task_set(m->model))
            e = kn_model_set_task(m->model, task);
    }
    int stacking = p->method == KN_ENSEMBLE_STACKING;
    kn_folds folds = {0};
    size_t k = 0, n = kn_frame_n_rows(x);
    if (e == KN_OK && stacking) e = stack_folds(p, x, task, &folds, &k);
    out_kind o = out_of(p, k);
    size_t q = p->n_members * out_width(o, k);
    double *oof = e == KN_OK && stacking ? kn_calloc(q * n > 0 ? q * n : 1, sizeof *oof) : NULL;
    if (e == KN_OK && stacking && !oof) e = KN_ERR_NOMEM;
    if (e == KN_OK) e = fit_members(p, x, stacking ? &folds : NULL, k, o, oof);
    kn_frame *meta = NULL;
    double **cols = NULL;
    if (e == KN_OK && stacking) { /* named by the fitted members' classes */
        e = outputs_frame(p, x, out_width(o, k), o, p->members[0]->model, &meta, &cols);
        for (size_t j = 0; e == KN_OK && j < q; j++) memcpy(cols[j], oof + j * n, n * sizeof *oof);
    } else if (e == KN_OK)
        e = kn__ensemble_outputs(p, x, &meta);
    kn_free(cols);
    kn_free(oof);
    kn_folds_free(&folds);
    if (e == KN_OK) e = kn_ctx_check();
    if (e == KN_OK) {
        e = kn_model_fit(p->model, meta, p->target, p->weight);
        if (e != KN_OK)
            e = kn_fail_prefix(e, "ensemble (%s) model %s: ", method_name(p->method),
                               kn_model_name(p->model));
    }
    kn_frame_free(meta);
    return e;
}

kn_status kn__ensemble_copy(const kn_pipeline *from, kn_pipeline *to)
{
    for (size_t t = 0; t < from->n_members; t++) {
        kn_pipeline *m = NULL;
        kn_status e = kn_pipeline_clone(from->members[t], 0, &m);
        if (e == KN_OK) e = kn_pipeline_add_member(to, m);
        if (e != KN_OK) return e;
    }
    to->method = from->method;
    to->folds = from->folds;
    to->seed = from->seed;
    kn__pipeline_unfit(to);
    return KN_OK;
}

kn_status kn__ensemble_encode(const kn_pipeline *p, kn_wbuf *w)
{
    kn_wbuf_u32(w, (uint32_t)p->method);
    kn_wbuf_u64(w, p->folds);
    kn_wbuf_u64(w, p->seed);
    kn_wbuf_u64(w, p->n_members);
    kn_status e = kn_wbuf_status(w);
    for (size_t t = 0; e == KN_OK && t < p->n_members; t++) {
        unsigned char *buf = NULL;
        size_t len = 0;
        e = kn_pipeline_encode(p->members[t], &buf, &len);
        if (e == KN_OK) {
            kn_wbuf_u64(w, len);
            kn_wbuf_bytes(w, buf, len);
            e = kn_wbuf_status(w);
        }
        kn_free(buf);
    }
    return e;
}

kn_status kn__ensemble_decode(kn_rbuf *r, kn_pipeline *p)
{
    uint32_t method = 0;
    uint64_t folds = 0, seed = 0;
    size_t T = 0;
    kn_status e = kn_rbuf_u32(r, &method);
    if (e == KN_OK) e = kn_rbuf_u64(r, &folds);
    if (e == KN_OK) e = kn_rbuf_u64(r, &seed);
    if (e == KN_OK) e = kn_rbuf_count(r, 8, &T);
    if (e != KN_OK) return e;
    if (method < KN_ENSEMBLE_HARD_VOTE || method > KN_ENSEMBLE_STACKING || T < 2 || folds < 2 ||
        !p->model)
        return kn_fail(KN_ERR_CORRUPT, "%s: bad ensemble header (method %u, %zu members)", r->what,
                       method, T);
    p->method = (kn_ensemble_method)method;
    p->folds = (size_t)folds;
    p->seed = seed;
    for (size_t t = 0; e == KN_OK && t < T; t++) {
        uint64_t len = 0;
        kn_pipeline *m = NULL;
        e = kn_rbuf_u64(r, &len);
        if (e == KN_OK && len > kn_rbuf_left(r))
            e = kn_fail(KN_ERR_CORRUPT, "%s: member %zu's %llu bytes run past the end", r->what,
                        t + 1, (unsigned long long)len);
        if (e == KN_OK) { /* a member is format 1 (no members): no nesting to recurse into */
            kn_rbuf head = kn_rbuf_init(r->p, (size_t)len, r->what);
            uint32_t version = 0;
            e = kn_rbuf_u32(&head, &version);
            if (e == KN_OK && version != 1)
                e = kn_fail(KN_ERR_CORRUPT,
                            "%s: member %zu has pipeline format %u (members are "
                            "format 1)",
                            r->what, t + 1, version);
        }
        if (e == KN_OK) e = kn_pipeline_decode(r->p, (size_t)len, r->what, &m);
        if (e == KN_OK) {
            r->p += len; /* checked against what is left above */
            if (!m->model || m->n_members)
                e = kn_fail(KN_ERR_CORRUPT, "%s: member %zu is not steps and a model", r->what,
                            t + 1);
            if (e == KN_OK)
                e = kn_pipeline_add_member(p, m);
            else
                kn_pipeline_free(m);
        }
    }
    kn_task task = kn_model_task(p->model);
    size_t k = task == KN_TASK_CLASSIFICATION ? kn_model_n_classes(p->model) : 0;
    for (size_t t = 0; e == KN_OK && t < p->n_members; t++) {
        const kn_model *mm = p->members[t]->model;
        if (kn_model_task(mm) != task || (k && kn_model_n_classes(mm) != k))
            e = kn_fail(KN_ERR_CORRUPT,
                        "%s: member %zu's task or classes differ from the "
                        "ensemble's",
                        r->what, t + 1);
    }
    return e;
}
