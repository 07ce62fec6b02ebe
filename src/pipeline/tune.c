/* Hyperparameter search (kiln/tune.h): configurations from the strategy,
 * each cross-validated by kn_cv_run in its own run context; batches of
 * trials run `jobs` at a time. */
#include "core/ctx-impl.h"
#include "kiln/ctx.h"
#include "kiln/log.h"
#include "kiln/mem.h"
#include "kiln/registry.h"
#include "kiln/stage.h"
#include "pipeline/pipeline-impl.h"
#include "pipeline/tune-impl.h"

#include <math.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#ifdef _OPENMP
#include <omp.h>
#endif

enum { GRID_MAX = 1000000, INT_GRID_MAX = 1000 };

void kn_tune_opts_default(kn_tune_opts *o)
{
    memset(o, 0, sizeof *o);
    o->strategy = KN_TUNE_RANDOM;
    o->trials = 20;
}

const char *kn_tune_strategy_name(kn_tune_strategy s)
{
    static const char *const names[] = {"random", "grid", "tpe", "halving", "hyperband"};
    return (unsigned)s < sizeof names / sizeof *names ? names[s] : "?";
}

/* Halving and Hyperband grow a resource between rungs. */
static int grows(kn_tune_strategy s)
{
    return s == KN_TUNE_HALVING || s == KN_TUNE_HYPERBAND;
}

static double clock_seconds(clockid_t id)
{
    struct timespec t;
    if (clock_gettime(id, &t) != 0) return 0;
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

static double now_seconds(void)
{
    return clock_seconds(CLOCK_MONOTONIC);
}

void kn_tune_trial_release(kn_tune_trial *t)
{
    if (!t) return;
    kn_free(t->x);
    for (size_t i = 0; i < t->n_params; i++) kn_free(t->params[i]);
    kn_free(t->params);
    kn_free(t->verdict_text);
    kn_free(t->error);
    kn_free(t->fold_score);
    memset(t, 0, sizeof *t);
}

kn_status kn_tune_trial_set_folds(kn_tune_trial *t, const double *score, size_t n)
{
    double *v = kn_malloc((n ? n : 1) * sizeof *v);
    if (!v) return KN_ERR_NOMEM;
    if (n) memcpy(v, score, n * sizeof *v);
    kn_free(t->fold_score);
    t->fold_score = v;
    t->n_folds = n;
    return KN_OK;
}

void kn_tune_result_free(kn_tune_result *r)
{
    for (size_t i = 0; r && i < r->n; i++) kn_tune_trial_release(&r->trial[i]);
    if (r) {
        kn_free(r->trial);
        memset(r, 0, sizeof *r);
        r->best = SIZE_MAX;
    }
}

/* t->x set: t->params as "name=value" of the active dims. */
static kn_status trial_params(const kn_tune_space *sp, kn_tune_trial *t)
{
    if (!(t->params = kn_calloc(sp->n ? sp->n : 1, sizeof *t->params))) return KN_ERR_NOMEM;
    for (size_t i = 0; i < sp->n; i++) {
        if (isnan(t->x[i])) continue;
        char v[128], kv[512];
        kn__tune_value_text(&sp->dim[i], t->x[i], v, sizeof v);
        snprintf(kv, sizeof kv, "%s=%s", sp->dim[i].name, v);
        if (!(t->params[t->n_params] = kn_strdup(kv))) return KN_ERR_NOMEM;
        t->n_params++;
    }
    return KN_OK;
}

kn_status kn_tune_trial_from_text(const kn_tune_space *sp, size_t id, const char *const *params,
                                  size_t n_params, double score, double std, double train,
                                  double seconds, kn_trial_status status, size_t rung,
                                  double resource, kn_tune_trial *out)
{
    kn_tune_trial t = {.id = id,
                       .score = score,
                       .std = std,
                       .train = train,
                       .baseline = NAN,
                       .seconds = seconds,
                       .status = status,
                       .rung = rung,
                       .resource = resource};
    kn_status e = (t.x = kn_malloc((sp->n ? sp->n : 1) * sizeof *t.x)) ? KN_OK : KN_ERR_NOMEM;
    for (size_t i = 0; e == KN_OK && i < sp->n; i++) t.x[i] = NAN;
    for (size_t p = 0; e == KN_OK && p < n_params; p++) {
        const char *eq = strchr(params[p], '=');
        size_t i = sp->n;
        for (size_t d = 0; eq && d < sp->n; d++)
            if (strlen(sp->dim[d].name) == (size_t)(eq - params[p]) &&
                !strncmp(sp->dim[d].name, params[p], (size_t)(eq - params[p])))
                i = d;
        if (i == sp->n) {
            e = kn_fail(KN_ERR_INVALID, "trial %zu: '%s' is not a parameter of the space", id,
                        params[p]);
            break;
        }
        const kn__dim *d = &sp->dim[i];
        if (d->kind == KN__DIM_CHOICE) {
            for (size_t k = 0; k < d->n_choices; k++)
                if (!strcmp(d->choices[k], eq + 1)) t.x[i] = (double)k;
        } else {
            char *end = NULL;
            double v = strtod(eq + 1, &end);
            if (end != eq + 1 && !*end && v >= d->lo && v <= d->hi) t.x[i] = v;
        }
        if (isnan(t.x[i]))
            e = kn_fail(KN_ERR_INVALID, "trial %zu: %s is outside the space", id, params[p]);
    }
    if (e == KN_OK) e = trial_params(sp, &t);
    if (e == KN_OK && !(t.verdict_text = kn_strdup(""))) e = KN_ERR_NOMEM;
    if (e != KN_OK) {
        kn_tune_trial_release(&t);
        return e;
    }
    *out = t;
    return KN_OK;
}

static kn_status trial_copy(const kn_tune_space *sp, const kn_tune_trial *src, kn_tune_trial *dst)
{
    *dst = *src;
    dst->x = NULL, dst->params = NULL, dst->n_params = 0, dst->verdict_text = dst->error = NULL;
    dst->fold_score = NULL, dst->n_folds = 0;
    if (!(dst->x = kn_malloc((sp->n ? sp->n : 1) * sizeof *dst->x))) return KN_ERR_NOMEM;
    memcpy(dst->x, src->x, sp->n * sizeof *dst->x);
    kn_status e = trial_params(sp, dst);
    if (e == KN_OK && !(dst->verdict_text = kn_strdup(src->verdict_text ? src->verdict_text : "")))
        e = KN_ERR_NOMEM;
    if (e == KN_OK && src->error && !(dst->error = kn_strdup(src->error))) e = KN_ERR_NOMEM;
    if (e == KN_OK && src->fold_score)
        e = kn_tune_trial_set_folds(dst, src->fold_score, src->n_folds);
    return e;
}

/* Pruning: per trial id, the running means of its fold losses (lower is
 * better) so far, and whether it has ended. */
typedef struct progress {
    double *mean;
    size_t n, cap;
    int settled;
} progress;

typedef struct search {
    const kn_frame *f;
    const kn_cv_spec *cv;
    const kn_tune_space *sp;
    const kn_tune_opts *o;
    kn_tune_result *res;
    size_t cap;
    kn_ctx *parent;
    double t0;
    int jobs;
    const char *resource; /* halving, hyperband: the parameter, or NULL for rows */
    kn_status cb_status;
    int prune;
    pthread_mutex_t mu; /* guards prog; cond: a trial reported a fold or ended */
    pthread_cond_t cond;
    progress *prog; /* n_prog, by trial id */
    size_t n_prog;
    size_t started;       /* trials started (under kn_tune_cb): the budgets spare the first */
    kn__fit_share *share; /* what the trials' fits of a fold share (one frame, the same folds) */
} search;

/* Append a running mean to p (under s->mu). */
static kn_status progress_push(progress *p, double mean)
{
    if (p->n == p->cap) {
        size_t cap = p->cap ? 2 * p->cap : 8;
        double *m = kn_realloc(p->mean, cap * sizeof *m);
        if (!m) return KN_ERR_NOMEM;
        p->mean = m, p->cap = cap;
    }
    p->mean[p->n++] = mean;
    return KN_OK;
}

static void settle(search *s, size_t id)
{
    if (!s->prune) return;
    pthread_mutex_lock(&s->mu);
    s->prog[id].settled = 1;
    pthread_cond_broadcast(&s->cond);
    pthread_mutex_unlock(&s->mu);
}

static int by_value(const void *p, const void *q)
{
    double a = *(const double *)p, b = *(const double *)q;
    return (a > b) - (a < b);
}

enum { PRUNE_STARTUP = 5 }; /* reference trials needed before any pruning */

typedef struct trial_prune {
    search *s;
    size_t id;
    double sum; /* of the fold losses so far */
} trial_prune;

/* kn_cv_fold_fn: the median rule (kiln/tune.h). */
static int prune_fold(size_t fold, size_t k, double score, int higher_is_better, void *user)
{
    trial_prune *tp = user;
    search *s = tp->s;
    tp->sum += higher_is_better ? -score : score;
    double mean = tp->sum / (double)(fold + 1);
    int stop = 0;
    pthread_mutex_lock(&s->mu);
    progress *me = &s->prog[tp->id];
    kn_status e = me->n == fold ? progress_push(me, mean) : KN_ERR_INTERNAL;
    pthread_cond_broadcast(&s->cond);
    if (e == KN_OK && fold + 1 < k && tp->id >= PRUNE_STARTUP) {
        /* wait for every smaller id to pass this fold or end */
        for (size_t j = 0; j < tp->id;) {
            if (s->prog[j].settled || s->prog[j].n > fold)
                j++;
            else
                pthread_cond_wait(&s->cond, &s->mu);
        }
        double *ref = kn_malloc(tp->id * sizeof *ref);
        size_t n = 0;
        for (size_t j = 0; ref && j < tp->id; j++)
            if (s->prog[j].n > fold) ref[n++] = s->prog[j].mean[fold];
        if (n >= PRUNE_STARTUP) {
            qsort(ref, n, sizeof *ref, by_value);
            double median = n % 2 ? ref[n / 2] : 0.5 * (ref[n / 2 - 1] + ref[n / 2]);
            stop = mean > median;
        }
        kn_free(ref);
    }
    pthread_mutex_unlock(&s->mu);
    return stop;
}

static int same_x(const kn_tune_space *sp, const double *a, const double *b)
{
    for (size_t i = 0; i < sp->n; i++)
        if (!(a[i] == b[i] || (isnan(a[i]) && isnan(b[i])))) return 0;
    return 1;
}

static const kn_tune_trial *prior_trial(const search *s, size_t id)
{
    for (size_t i = 0; i < s->o->n_prior; i++)
        if (s->o->prior[i].id == id) return &s->o->prior[i];
    return NULL;
}

/* Cross-validate trial t (x, id, resource set) in its own context. */
static kn_status run_trial(search *s, kn_tune_trial *t)
{
    const kn_cv_spec *cv = s->cv;
    kn_cv_spec c = *cv;
    char res_kv[96];
    size_t np = cv->n_params + t->n_params + 1;
    const char **params = kn_malloc(np * sizeof *params);
    if (!params) return KN_ERR_NOMEM;
    np = 0;
    for (size_t i = 0; i < cv->n_params; i++) params[np++] = cv->params[i];
    for (size_t i = 0; i < t->n_params; i++) params[np++] = t->params[i];
    if (grows(s->o->strategy)) {
        if (s->resource) {
            snprintf(res_kv, sizeof res_kv, "%s=%.0f", s->resource, t->resource);
            params[np++] = res_kv;
        } else if (t->resource < 1) {
            /* a rung's share of each fold's training rows is a seeded random
             * sample of them, not the first rows (a file sorted by class
             * would give a lower rung a single class) */
            c.train_fraction = t->resource;
            c.shuffle_train_rows = 1;
        }
    }
    c.params = params;
    c.n_params = np;
    c.threads = 0;
    trial_prune tp = {.s = s, .id = t->id};
    if (s->prune) c.on_fold = prune_fold, c.fold_user = &tp;
    kn_ctx *ctx = NULL;
    kn_status e = kn_ctx_new(&ctx);
    double t0 = now_seconds();
    kn_cv_result r = {0};
    /* one job: the trial has the process; more: its thread runs all its folds */
    clockid_t cpu_clock = s->jobs > 1 ? CLOCK_THREAD_CPUTIME_ID : CLOCK_PROCESS_CPUTIME_ID;
    double cpu0 = clock_seconds(cpu_clock);
    if (e == KN_OK) {
        kn_ctx_set_seed(ctx, s->o->seed ^ (0x9e3779b97f4a7c15ull * (t->id + 1)));
        kn_ctx *prev = kn_ctx_enter(ctx);
        if (kn_log_get_level() == KN_LOG_INFO) /* per-fold news: only with --verbose */
            kn_log_set_level(KN_LOG_WARN);
        e = kn__cv_run_shared(s->f, &c, s->share, &r);
        if (e != KN_OK && !(t->error = kn_strdup(kn_last_error()))) e = KN_ERR_NOMEM;
        kn_ctx_leave(prev);
        kn_ctx_free(ctx);
    }
    t->seconds = now_seconds() - t0;
    t->cpu_seconds = clock_seconds(cpu_clock) - cpu0;
    t->cost = t->cpu_seconds / 3600 * s->o->core_hour +
              (double)kn_rss_now_bytes() / 1e9 / s->jobs * t->seconds / 3600 * s->o->gb_hour;
    kn_free(params);
    if (e == KN_ERR_NOMEM) return e;
    if (e != KN_OK) {
        t->status = KN_TRIAL_FAILED;
        t->score = t->std = t->train = t->baseline = NAN;
        return (t->verdict_text = kn_strdup("")) ? KN_OK : KN_ERR_NOMEM;
    }
    t->status = r.n_scores && isfinite(r.mean[0]) ? KN_TRIAL_OK : KN_TRIAL_FAILED;
    if (t->status == KN_TRIAL_OK && r.stopped) t->status = KN_TRIAL_PRUNED;
    t->n_folds = 0;
    if (r.n_scores && !(t->fold_score = kn_malloc(r.k * sizeof *t->fold_score))) {
        kn_cv_result_free(&r);
        return KN_ERR_NOMEM;
    }
    for (size_t i = 0; r.n_scores && i < r.k; i++)
        t->fold_score[t->n_folds++] = r.score[i * r.n_scores];
    if (t->status == KN_TRIAL_FAILED && !t->error)
        t->error = kn_strdup("the score is not a number on some fold");
    t->score = r.n_scores ? r.mean[0] : NAN;
    t->std = r.n_scores ? r.std[0] : NAN;
    t->train = r.has_train && r.n_scores ? r.train_mean[0] : NAN;
    t->baseline = r.n_scores ? r.baseline_mean[0] : NAN;
    t->verdict = r.verdict;
    t->verdict_text = kn_strdup(r.verdict_text);
#pragma omp critical(kn_tune_metric)
    if (!s->res->metric && r.n_scores) {
        s->res->metric = r.name[0];
        s->res->higher_is_better = r.higher_is_better[0];
    }
    kn_cv_result_free(&r);
    return t->verdict_text ? KN_OK : KN_ERR_NOMEM;
}

static int should_stop(search *s)
{
    if (s->cb_status != KN_OK) return 1;
    if (kn_ctx_cancelled(s->parent)) {
        s->res->stopped = 2;
        return 1;
    }
    /* a budget stops further trials: the first one always runs, so a search
     * has a result however small its budget */
    if (!s->started && !s->res->n) return 0;
    if (s->o->max_seconds > 0 && now_seconds() - s->t0 >= s->o->max_seconds) {
        if (!s->res->stopped) s->res->stopped = 1;
        return 1;
    }
    if (s->o->max_cost > 0 && s->res->cost >= s->o->max_cost) {
        if (!s->res->stopped) s->res->stopped = 3;
        return 1;
    }
    return 0;
}

/* Evaluate m proposed trials (x owned by each, id, rung, resource set),
 * appended to the result in id order; those not started (a budget, a
 * cancel) are dropped. */
static kn_status run_batch(search *s, kn_tune_trial *batch, size_t m)
{
    kn_status e = KN_OK;
    int *ran = kn_calloc(m ? m : 1, sizeof *ran);
    kn_status *st = kn_calloc(m ? m : 1, sizeof *st);
    if (!ran || !st) e = KN_ERR_NOMEM;
    for (size_t j = 0; e == KN_OK && j < m; j++) {
        e = trial_params(s->sp, &batch[j]);
        const kn_tune_trial *p = e == KN_OK ? prior_trial(s, batch[j].id) : NULL;
        if (!p) continue;
        if (!same_x(s->sp, p->x, batch[j].x) || p->rung != batch[j].rung ||
            p->bracket != batch[j].bracket)
            e = kn_fail(KN_ERR_INVALID,
                        "the trials file's trial %zu differs from this search's: resume with the "
                        "same data, --space, --strategy, --trials and --seed",
                        p->id);
        else {
            kn_tune_trial_release(&batch[j]);
            e = trial_copy(s->sp, p, &batch[j]);
            s->res->cost += isfinite(p->cost) ? p->cost : 0;
            ran[j] = 1;
            s->started++; /* a resumed trial counts as run */
        }
    }
    for (size_t j = 0; e == KN_OK && s->prune && j < m; j++)
        if (batch[j].id >= s->n_prog) {
            size_t n = batch[j].id + 1;
            progress *p = kn_realloc(s->prog, n * sizeof *p);
            if (!p) {
                e = KN_ERR_NOMEM;
                break;
            }
            memset(p + s->n_prog, 0, (n - s->n_prog) * sizeof *p);
            s->prog = p, s->n_prog = n;
        }
    /* a resumed trial's folds count as if it had run */
    for (size_t j = 0; e == KN_OK && s->prune && j < m; j++) {
        if (!ran[j]) continue;
        const kn_tune_trial *t = &batch[j];
        double sum = 0;
        int hib = s->res->higher_is_better;
        for (size_t i = 0; e == KN_OK && i < t->n_folds && t->fold_score; i++) {
            sum += hib ? -t->fold_score[i] : t->fold_score[i];
            e = progress_push(&s->prog[t->id], sum / (double)(i + 1));
        }
        s->prog[t->id].settled = 1;
    }
    int jobs = s->jobs;
    if (e == KN_OK) {
        kn_ctx *parent = s->parent;
#pragma omp parallel for schedule(dynamic, 1) num_threads(jobs) if (jobs > 1)
        for (size_t j = 0; j < m; j++) {
            kn_ctx *prev = kn__ctx_swap(parent);
            int stop;
#pragma omp critical(kn_tune_cb)
            {
                stop = ran[j] ? 0 : should_stop(s);
                if (!ran[j] && !stop) s->started++;
            }
            if (!ran[j] && stop) settle(s, batch[j].id);
            if (!ran[j] && !stop) {
                st[j] = run_trial(s, &batch[j]);
                settle(s, batch[j].id);
                ran[j] = 1;
                if (st[j] == KN_OK) {
#pragma omp critical(kn_tune_cb)
                    {
                        s->res->cost += batch[j].cost;
                        if (s->o->on_trial && s->cb_status == KN_OK)
                            s->cb_status = s->o->on_trial(&batch[j], s->o->user);
                    }
                    if (batch[j].status == KN_TRIAL_OK)
                        kn_log(KN_LOG_INFO, "trial %zu: %.6g +- %.3g in %.2f s", batch[j].id,
                               batch[j].score, batch[j].std, batch[j].seconds);
                    else if (batch[j].status == KN_TRIAL_PRUNED)
                        kn_log(KN_LOG_INFO, "trial %zu: pruned after %zu folds (%.6g)", batch[j].id,
                               batch[j].n_folds, batch[j].score);
                }
            }
            kn__ctx_swap(prev);
        }
        for (size_t j = 0; j < m && e == KN_OK; j++)
            if (st[j] != KN_OK) e = st[j];
        if (e == KN_OK && s->cb_status != KN_OK) e = s->cb_status;
    }
    if (e == KN_OK && s->res->n + m > s->cap) {
        size_t cap = (s->res->n + m) * 2;
        kn_tune_trial *t = kn_realloc(s->res->trial, cap * sizeof *t);
        if (!t) e = KN_ERR_NOMEM;
        if (t) s->res->trial = t, s->cap = cap;
    }
    for (size_t j = 0; j < m; j++) {
        if (e == KN_OK && ran[j]) {
            s->res->trial[s->res->n++] = batch[j];
            memset(&batch[j], 0, sizeof batch[j]);
        } else
            kn_tune_trial_release(&batch[j]);
    }
    kn_free(ran);
    kn_free(st);
    return e;
}

static kn_tune_trial *new_batch(const search *s, size_t m)
{
    kn_tune_trial *b = kn_calloc(m ? m : 1, sizeof *b);
    for (size_t j = 0; b && j < m; j++)
        if (!(b[j].x = kn_malloc((s->sp->n ? s->sp->n : 1) * sizeof *b[j].x))) {
            for (size_t i = 0; i < j; i++) kn_free(b[i].x);
            kn_free(b);
            return NULL;
        }
    return b;
}

static void free_batch(kn_tune_trial *b, size_t m)
{
    for (size_t j = 0; b && j < m; j++) kn_tune_trial_release(&b[j]);
    kn_free(b);
}

/* Random search draws without repeats where the space is discrete (every
 * parameter a choice or an int range): a configuration's key is its
 * mixed-radix index (a choice's index, an int's offset from lo; 0 for an
 * inactive parameter), so equal configurations have equal keys. */
typedef struct draw_pool {
    size_t nd;
    double *radix;  /* per dim: its count of values */
    double total;   /* the product of the counts (keys 0 .. total-1) */
    size_t *pool;   /* the canonical keys not drawn yet, in pool[0 .. n) */
    size_t n;       /* (pool NULL: the space is too large to list) */
    size_t *where;  /* key -> its position in pool (SIZE_MAX: drawn, or not canonical) */
    size_t n_canon; /* distinct configurations (when listed) */
} draw_pool;

enum { RANDOM_LIST_MAX = 1000000, RANDOM_REDRAWS = 64, RANDOM_REDRAWS_UNLISTED = 1000 };

static double key_of(const kn_tune_space *sp, const draw_pool *dp, const double *x)
{
    double key = 0;
    for (size_t d = 0; d < dp->nd; d++) {
        double idx = isnan(x[d])                         ? 0
                     : sp->dim[d].kind == KN__DIM_CHOICE ? x[d]
                                                         : x[d] - sp->dim[d].lo;
        key = key * dp->radix[d] + idx;
    }
    return key;
}

/* The configuration of a key; 0 when it is not canonical (an inactive
 * parameter with an index other than 0: the same configuration as another key). */
static int x_of(const kn_tune_space *sp, const draw_pool *dp, size_t key, double *x)
{
    for (size_t d = dp->nd; d-- > 0;) {
        size_t r = (size_t)dp->radix[d], idx = key % r;
        key /= r;
        x[d] = sp->dim[d].kind == KN__DIM_CHOICE ? (double)idx : sp->dim[d].lo + (double)idx;
    }
    for (size_t d = 0; d < dp->nd; d++)
        if (!kn__tune_active(sp, x, d)) {
            double first = sp->dim[d].kind == KN__DIM_CHOICE ? 0 : sp->dim[d].lo;
            if (x[d] != first) return 0;
            x[d] = NAN;
        }
    return 1;
}

/* 1 when every dim is discrete (dp then set up; listed when small enough). */
static kn_status pool_init(const kn_tune_space *sp, draw_pool *dp, int *discrete)
{
    memset(dp, 0, sizeof *dp);
    *discrete = 0;
    dp->nd = sp->n;
    dp->total = 1;
    for (size_t d = 0; d < sp->n; d++)
        if (sp->dim[d].kind != KN__DIM_CHOICE && sp->dim[d].kind != KN__DIM_INT) return KN_OK;
    if (!(dp->radix = kn_malloc((sp->n ? sp->n : 1) * sizeof *dp->radix))) return KN_ERR_NOMEM;
    for (size_t d = 0; d < sp->n; d++) {
        const kn__dim *k = &sp->dim[d];
        dp->radix[d] = k->kind == KN__DIM_CHOICE ? (double)k->n_choices : k->hi - k->lo + 1;
        dp->total *= dp->radix[d];
    }
    *discrete = 1;
    if (dp->total > RANDOM_LIST_MAX) return KN_OK;
    size_t total = (size_t)dp->total;
    double *x = kn_malloc((sp->n ? sp->n : 1) * sizeof *x);
    dp->pool = kn_malloc((total ? total : 1) * sizeof *dp->pool);
    dp->where = kn_malloc((total ? total : 1) * sizeof *dp->where);
    if (!x || !dp->pool || !dp->where) {
        kn_free(x);
        return KN_ERR_NOMEM;
    }
    for (size_t key = 0; key < total; key++) {
        dp->where[key] = SIZE_MAX;
        if (x_of(sp, dp, key, x)) dp->where[key] = dp->n, dp->pool[dp->n++] = key;
    }
    dp->n_canon = dp->n;
    kn_free(x);
    return KN_OK;
}

static void pool_free(draw_pool *dp)
{
    kn_free(dp->radix);
    kn_free(dp->pool);
    kn_free(dp->where);
}

/* Take key out of the pool (swap with the last). */
static void pool_take(draw_pool *dp, size_t key)
{
    size_t at = dp->where[key], last = dp->pool[dp->n - 1];
    dp->pool[at] = last;
    dp->where[last] = at;
    dp->where[key] = SIZE_MAX;
    dp->n--;
}

/* Trial j's configuration: drawn from stream (seed, j); in a discrete space
 * redrawn from the same stream while it repeats an earlier trial's, and
 * after RANDOM_REDRAWS repeats taken uniformly from the configurations not
 * drawn yet. Returns 0 when no new configuration is left (or, in a space
 * too large to list, none was found in RANDOM_REDRAWS_UNLISTED draws). */
static int draw_new(const search *s, draw_pool *dp, int discrete, const kn_tune_trial *b, size_t j,
                    double *x)
{
    kn_rng r;
    kn_rng_init_stream(&r, s->o->seed, j);
    kn__tune_sample(s->sp, &r, x);
    if (!discrete) return 1; /* a continuous value repeats with probability 0 */
    if (dp->pool) {
        if (!dp->n) return 0;
        for (int t = 0; t < RANDOM_REDRAWS; t++) {
            size_t key = (size_t)key_of(s->sp, dp, x);
            if (dp->where[key] != SIZE_MAX) {
                pool_take(dp, key);
                return 1;
            }
            kn__tune_sample(s->sp, &r, x);
        }
        size_t key = dp->pool[kn_rng_below(&r, dp->n)];
        pool_take(dp, key);
        x_of(s->sp, dp, key, x);
        return 1;
    }
    for (int t = 0; t < RANDOM_REDRAWS_UNLISTED; t++) {
        int dup = 0;
        for (size_t i = 0; i < j && !dup; i++) dup = same_x(s->sp, b[i].x, x);
        if (!dup) return 1;
        kn__tune_sample(s->sp, &r, x);
    }
    return 0;
}

static kn_status random_search(search *s)
{
    size_t m = s->o->trials;
    kn_tune_trial *b = new_batch(s, m);
    draw_pool dp;
    int discrete = 0;
    kn_status e = b ? pool_init(s->sp, &dp, &discrete) : KN_ERR_NOMEM;
    size_t made = 0;
    for (; e == KN_OK && made < m; made++) {
        b[made].id = made;
        if (!draw_new(s, &dp, discrete, b, made, b[made].x)) break;
    }
    int exhausted = e == KN_OK && made < m;
    if (exhausted) {
        if (dp.pool)
            kn_log(KN_LOG_INFO,
                   "random search: the space holds %zu distinct configurations, fewer than the "
                   "%zu trials: running each once",
                   made, m);
        else
            kn_log(KN_LOG_INFO,
                   "random search: no configuration not tried yet in %d draws after %zu trials: "
                   "stopping there",
                   RANDOM_REDRAWS_UNLISTED, made);
    }
    if (e == KN_OK) e = run_batch(s, b, made);
    /* (after the trials: a budget or a cancel that stopped them first is
     * the reason given) */
    if (e == KN_OK && exhausted && !s->res->stopped) s->res->stopped = 4;
    if (b) free_batch(b, m);
    if (b) pool_free(&dp);
    return e;
}

/* The values of dim d on the grid into v (at most cap); their count. */
static kn_status grid_values(const kn__dim *d, double *v, size_t cap, size_t *n)
{
    *n = 0;
    if (d->kind == KN__DIM_CHOICE) {
        for (size_t k = 0; k < d->n_choices && *n < cap; k++) v[(*n)++] = (double)k;
        return KN_OK;
    }
    if (d->kind == KN__DIM_INT && !d->grid) {
        if (d->hi - d->lo + 1 > INT_GRID_MAX)
            return kn_fail(KN_ERR_INVALID,
                           "grid search: %s: int: [%g, %g] has more than %d values; give grid: N "
                           "points",
                           d->name, d->lo, d->hi, INT_GRID_MAX);
        for (double x = d->lo; x <= d->hi && *n < cap; x++) v[(*n)++] = x;
        return KN_OK;
    }
    if (!d->grid)
        return kn_fail(KN_ERR_INVALID,
                       "grid search: %s is a continuous range: give its points, e.g. {%s: [%g, "
                       "%g], grid: 5}, or search it with --strategy random or tpe",
                       d->name, d->kind == KN__DIM_LOG ? "log" : "uniform", d->lo, d->hi);
    for (size_t k = 0; k < d->grid && *n < cap; k++) {
        double u = (double)k / (double)(d->grid - 1), x;
        if (d->kind == KN__DIM_LOG || d->log)
            x = exp(log(d->lo) + u * (log(d->hi) - log(d->lo)));
        else
            x = d->lo + u * (d->hi - d->lo);
        if (d->kind == KN__DIM_INT) x = floor(x + 0.5);
        if (k + 1 == d->grid) x = d->hi;
        if (*n && v[*n - 1] == x) continue;
        v[(*n)++] = x;
    }
    return KN_OK;
}

static kn_status grid_search(search *s)
{
    const kn_tune_space *sp = s->sp;
    size_t nd = sp->n, total = 1;
    size_t *len = kn_calloc(nd ? nd : 1, sizeof *len), *at = kn_calloc(nd ? nd : 1, sizeof *at);
    double **vals = kn_calloc(nd ? nd : 1, sizeof *vals);
    kn_status e = len && at && vals ? KN_OK : KN_ERR_NOMEM;
    for (size_t d = 0; e == KN_OK && d < nd; d++) {
        size_t cap = sp->dim[d].kind == KN__DIM_CHOICE ? sp->dim[d].n_choices
                     : sp->dim[d].grid                 ? sp->dim[d].grid
                                                       : INT_GRID_MAX;
        if (!(vals[d] = kn_malloc(cap * sizeof **vals))) e = KN_ERR_NOMEM;
        if (e == KN_OK) e = grid_values(&sp->dim[d], vals[d], cap, &len[d]);
        if (e == KN_OK && (total *= len[d]) > GRID_MAX)
            e = kn_fail(KN_ERR_INVALID,
                        "grid search: the grid has more than %d points: use fewer grid: points "
                        "or --strategy random",
                        GRID_MAX);
    }
    /* every combination, the last dim fastest; a conditional dim's values
     * collapse where it is inactive, so keep the first of equal configs */
    double *xs = e == KN_OK ? kn_malloc(total * (nd ? nd : 1) * sizeof *xs) : NULL;
    size_t m = 0;
    if (e == KN_OK && !xs) e = KN_ERR_NOMEM;
    for (size_t c = 0; e == KN_OK && c < total; c++) {
        double *x = xs + m * nd;
        for (size_t d = 0; d < nd; d++) x[d] = vals[d][at[d]];
        for (size_t d = 0; d < nd; d++)
            if (!kn__tune_active(sp, x, d)) x[d] = NAN;
        int dup = 0;
        for (size_t p = 0; p < m && !dup; p++) dup = same_x(sp, xs + p * nd, x);
        if (!dup) m++;
        for (size_t d = nd; d-- > 0;) {
            if (++at[d] < len[d]) break;
            at[d] = 0;
        }
    }
    if (e == KN_OK && s->o->trials && s->o->trials < m) m = s->o->trials;
    kn_tune_trial *b = e == KN_OK ? new_batch(s, m) : NULL;
    if (e == KN_OK && !b) e = KN_ERR_NOMEM;
    for (size_t j = 0; e == KN_OK && j < m; j++) {
        b[j].id = j;
        memcpy(b[j].x, xs + j * nd, nd * sizeof *xs);
    }
    if (e == KN_OK) e = run_batch(s, b, m);
    free_batch(b, m);
    kn_free(xs);
    for (size_t d = 0; vals && d < nd; d++) kn_free(vals[d]);
    kn_free(vals);
    kn_free(len);
    kn_free(at);
    return e;
}

/* Lower is better. */
static double loss_of(const search *s, const kn_tune_trial *t)
{
    return s->res->higher_is_better ? -t->score : t->score;
}

static kn_status tpe_search(search *s)
{
    size_t batch = s->o->batch ? s->o->batch : 2, startup = s->o->startup ? s->o->startup : 10;
    kn_status e = KN_OK;
    for (size_t next = 0;
         e == KN_OK && next < s->o->trials && !s->res->stopped && !kn_ctx_cancelled(s->parent);) {
        size_t m = s->o->trials - next < batch ? s->o->trials - next : batch;
        /* the finished OK trials so far (ids below next) */
        size_t n = 0;
        const double **xs = kn_malloc((s->res->n + 1) * sizeof *xs);
        double *loss = kn_malloc((s->res->n + 1) * sizeof *loss);
        kn_tune_trial *b = new_batch(s, m);
        if (!xs || !loss || !b) e = KN_ERR_NOMEM;
        for (size_t i = 0; e == KN_OK && i < s->res->n; i++)
            if (s->res->trial[i].status != KN_TRIAL_FAILED) { /* pruned: by its folds */
                xs[n] = s->res->trial[i].x;
                loss[n++] = loss_of(s, &s->res->trial[i]);
            }
        for (size_t j = 0; e == KN_OK && j < m; j++) {
            kn_rng r;
            b[j].id = next + j;
            kn_rng_init_stream(&r, s->o->seed, b[j].id);
            if (b[j].id < startup || n < 2)
                kn__tune_sample(s->sp, &r, b[j].x);
            else
                kn__tpe_propose(s->sp, xs, loss, n, &r, b[j].x);
        }
        size_t before = s->res->n;
        if (e == KN_OK) e = run_batch(s, b, m);
        free_batch(b, m);
        kn_free(xs);
        kn_free(loss);
        if (e == KN_OK && s->res->n - before < m) break; /* a budget stopped it */
        next += m;
    }
    return e;
}

static int by_score(const void *p, const void *q, const search *s)
{
    const kn_tune_trial *a = p, *b = q;
    int oa = a->status == KN_TRIAL_OK, ob = b->status == KN_TRIAL_OK;
    if (oa != ob) return ob - oa;
    double la = loss_of(s, a), lb = loss_of(s, b);
    if (oa && la != lb) return la < lb ? -1 : 1;
    return (a->id > b->id) - (a->id < b->id);
}

/* The rung's trials (indices into res) sorted best first (insertion sort:
 * rungs are small). */
static void rank_rung(const search *s, size_t *idx, size_t n)
{
    for (size_t i = 1; i < n; i++)
        for (size_t j = i;
             j > 0 && by_score(&s->res->trial[idx[j]], &s->res->trial[idx[j - 1]], s) < 0; j--) {
            size_t t = idx[j];
            idx[j] = idx[j - 1];
            idx[j - 1] = t;
        }
}

/* The resource's largest value: the cv params' value, else the table's default. */
static kn_status halving_max(const search *s, double *max)
{
    if (!s->resource) {
        *max = 1;
        return KN_OK;
    }
    size_t len = strlen(s->resource);
    for (size_t i = s->cv->n_params; i-- > 0;)
        if (!strncmp(s->cv->params[i], s->resource, len) && s->cv->params[i][len] == '=') {
            *max = strtod(s->cv->params[i] + len + 1, NULL);
            return *max >= 1 ? KN_OK
                             : kn_fail(KN_ERR_INVALID, "%s: %s must be 1 or more",
                                       kn_tune_strategy_name(s->o->strategy), s->resource);
        }
    const kn_component *c = kn_registry_find(KN_COMP_MODEL, s->sp->model);
    const kn_param_def *d = c ? kn_param_find(c->params, s->resource) : NULL;
    if (!d || d->type != KN_PARAM_T_INT)
        return kn_fail(KN_ERR_INVALID,
                       "%s: '%s' is not an integer parameter of %s; give --resource "
                       "n_estimators (or max_iter, ...) or rows",
                       kn_tune_strategy_name(s->o->strategy), s->resource, s->sp->model);
    *max = strtod(d->def, NULL);
    return KN_OK;
}

/* Rungs that n0 configurations allow: the largest count with eta^(rungs - 1)
 * <= n0 and, for a parameter, max / eta^(rungs - 1) >= 1 (at most 16). */
static size_t halving_rungs(const search *s, double eta, double max, size_t n0)
{
    size_t rungs = 1;
    while (rungs < 16 && pow(eta, (double)rungs) <= (double)n0 &&
           (s->resource ? max / pow(eta, (double)rungs) >= 1 : 1))
        rungs++;
    return rungs;
}

/* One run of successive halving (Hyperband's bracket `bracket`): n0 random
 * configurations, configuration j drawn from the stream (seed, first + j),
 * on `rungs` rungs whose resource grows by eta up to max; the best 1/eta
 * of a rung go on. Trial ids go on from *next_id; *stopped: a budget or a
 * cancel left trials unstarted. */
static kn_status halving_bracket(search *s, size_t bracket, size_t n0, size_t rungs, double max,
                                 double eta, size_t first, size_t *next_id, int *stopped)
{
    kn_status e = KN_OK;
    double *x0 = kn_malloc(n0 * (s->sp->n ? s->sp->n : 1) * sizeof *x0);
    size_t *live = kn_malloc(n0 * sizeof *live), n_live = n0;
    if (!x0 || !live) e = KN_ERR_NOMEM;
    for (size_t j = 0; e == KN_OK && j < n0; j++) {
        kn_rng r;
        kn_rng_init_stream(&r, s->o->seed, first + j);
        kn__tune_sample(s->sp, &r, x0 + j * s->sp->n);
        live[j] = j;
    }
    for (size_t rung = 0; e == KN_OK && rung < rungs && n_live; rung++) {
        double res = max * pow(eta, (double)rung - (double)(rungs - 1));
        if (s->resource) res = floor(res + 0.5) < 1 ? 1 : floor(res + 0.5);
        kn_tune_trial *b = new_batch(s, n_live);
        if (!b) e = KN_ERR_NOMEM;
        for (size_t j = 0; e == KN_OK && j < n_live; j++) {
            b[j].id = *next_id + j;
            b[j].rung = rung;
            b[j].bracket = bracket;
            b[j].resource = res;
            memcpy(b[j].x, x0 + live[j] * s->sp->n, s->sp->n * sizeof *x0);
        }
        size_t before = s->res->n;
        if (e == KN_OK) e = run_batch(s, b, n_live);
        free_batch(b, n_live);
        if (e == KN_OK && s->res->n - before < n_live) *stopped = 1;
        if (e != KN_OK || *stopped) break;
        *next_id += n_live;
        /* rank this rung's trials; the best 1/eta go on */
        size_t *idx = kn_malloc(n_live * sizeof *idx);
        if (!idx) {
            e = KN_ERR_NOMEM;
            break;
        }
        for (size_t j = 0; j < n_live; j++) idx[j] = before + j;
        rank_rung(s, idx, n_live);
        size_t keep = (size_t)ceil((double)n_live / eta), ok = 0;
        for (size_t j = 0; j < n_live; j++) ok += s->res->trial[idx[j]].status == KN_TRIAL_OK;
        if (keep > ok) keep = ok;
        size_t *nl = kn_malloc((keep ? keep : 1) * sizeof *nl);
        for (size_t j = 0; nl && j < keep; j++) nl[j] = live[idx[j] - before];
        kn_free(idx);
        if (!nl) {
            e = KN_ERR_NOMEM;
            break;
        }
        kn_free(live);
        live = nl;
        n_live = rung + 1 < rungs ? keep : 0;
    }
    kn_free(x0);
    kn_free(live);
    return e;
}

static kn_status halving_search(search *s)
{
    double eta = s->o->eta > 1 ? s->o->eta : 3, max = 0;
    kn_status e = halving_max(s, &max);
    if (e != KN_OK) return e;
    size_t n0 = s->o->trials, next_id = 0;
    int stopped = 0;
    return halving_bracket(s, 0, n0, halving_rungs(s, eta, max, n0), max, eta, 0, &next_id,
                           &stopped);
}

/* Hyperband: s_max + 1 rungs as halving would run --trials configurations;
 * bracket s = s_max..0 is halving of ceil((s_max + 1) / (s + 1) * eta^s)
 * configurations on s + 1 rungs from max / eta^s up to max. The brackets
 * draw from consecutive streams and number their trials on, in order. */
static kn_status hyperband_search(search *s)
{
    double eta = s->o->eta > 1 ? s->o->eta : 3, max = 0;
    kn_status e = halving_max(s, &max);
    if (e != KN_OK) return e;
    size_t s_max = halving_rungs(s, eta, max, s->o->trials) - 1, next_id = 0, first = 0;
    int stopped = 0;
    for (size_t b = s_max + 1; e == KN_OK && !stopped && b-- > 0;) {
        /* (the product is an integer for an integer eta: 1e-9 spares its rounding) */
        double n = (double)(s_max + 1) / (double)(b + 1) * pow(eta, (double)b);
        size_t n0 = (size_t)ceil(n - 1e-9);
        kn_log(KN_LOG_INFO, "hyperband: bracket %zu, %zu configurations from resource %.4g", b, n0,
               max / pow(eta, (double)b));
        e = halving_bracket(s, b, n0, b + 1, max, eta, first, &next_id, &stopped);
        first += n0;
    }
    return e;
}

static int by_id(const void *p, const void *q)
{
    const kn_tune_trial *a = p, *b = q;
    return (a->id > b->id) - (a->id < b->id);
}

kn_status kn_tune_run(const kn_frame *f, const kn_cv_spec *cv, const kn_tune_space *sp,
                      const kn_tune_opts *o, kn_tune_result *out)
{
    memset(out, 0, sizeof *out);
    out->best = SIZE_MAX;
    if (!f || !cv || !sp || !o) return kn_fail(KN_ERR_INVALID, "kn_tune_run: missing argument");
    if (o->strategy != KN_TUNE_GRID && o->trials == 0)
        return kn_fail(KN_ERR_INVALID, "a search needs at least one trial (--trials 1 or more)");
    if (strcmp(cv->model, sp->model))
        return kn_fail(KN_ERR_INVALID, "the space was checked against %s, not %s", sp->model,
                       cv->model);
    if (o->n_prior && o->prior_metric) {
        out->metric = o->prior_metric;
        out->higher_is_better = o->prior_higher_is_better;
    }
    search s = {.f = f, .cv = cv, .sp = sp, .o = o, .res = out, .parent = kn_ctx_current()};
    s.t0 = now_seconds();
    int threads = o->threads;
#ifdef _OPENMP
    if (threads <= 0) threads = omp_get_max_threads();
#endif
    if (threads < 1) threads = 1;
    s.jobs = o->jobs > 0 ? o->jobs : 1;
    if (s.jobs > threads) {
        kn_log(KN_LOG_INFO, "%d trials at a time would oversubscribe %d threads: running %d",
               s.jobs, threads, threads);
        s.jobs = threads;
    }
    if (grows(o->strategy)) {
        const kn_component *c = kn_registry_find(KN_COMP_MODEL, sp->model);
        s.resource = o->resource && !strcmp(o->resource, "rows") ? NULL : o->resource;
        if (!o->resource && c && kn_param_find(c->params, "n_estimators"))
            s.resource = "n_estimators";
        if (s.resource && kn_tune_space_has(sp, s.resource))
            return kn_fail(KN_ERR_INVALID,
                           "%s: %s is the resource: take it out of the space (its largest "
                           "value is --param %s=N)",
                           kn_tune_strategy_name(o->strategy), s.resource, s.resource);
    }
    s.prune = o->prune && !grows(o->strategy);
    if (s.prune) {
        pthread_mutex_init(&s.mu, NULL);
        pthread_cond_init(&s.cond, NULL);
    }
    if (kn__fit_share_new(&s.share) != KN_OK) s.share = NULL; /* (only sharing is lost) */
    kn_status e;
    switch (o->strategy) {
    case KN_TUNE_GRID:
        e = grid_search(&s);
        break;
    case KN_TUNE_TPE:
        e = tpe_search(&s);
        break;
    case KN_TUNE_HALVING:
        e = halving_search(&s);
        break;
    case KN_TUNE_HYPERBAND:
        e = hyperband_search(&s);
        break;
    default:
        e = random_search(&s);
        break;
    }
    kn__fit_share_free(s.share);
    if (s.prune) {
        for (size_t i = 0; i < s.n_prog; i++) kn_free(s.prog[i].mean);
        kn_free(s.prog);
        pthread_cond_destroy(&s.cond);
        pthread_mutex_destroy(&s.mu);
    }
    if (e != KN_OK) {
        kn_tune_result_free(out);
        return e;
    }
    if (kn_ctx_cancelled(s.parent)) out->stopped = 2;
    if (out->n) qsort(out->trial, out->n, sizeof *out->trial, by_id);
    /* the best on the top rung; Hyperband's: at the largest resource, any bracket */
    int by_resource = o->strategy == KN_TUNE_HYPERBAND;
    double top = 0;
    for (size_t i = 0; i < out->n; i++) {
        const kn_tune_trial *t = &out->trial[i];
        double level = by_resource ? t->resource : (double)t->rung;
        if (t->status == KN_TRIAL_OK && level > top) top = level;
    }
    for (size_t i = 0; i < out->n; i++) {
        const kn_tune_trial *t = &out->trial[i];
        if (t->status != KN_TRIAL_OK || (by_resource ? t->resource : (double)t->rung) != top)
            continue;
        if (out->best == SIZE_MAX || by_score(t, &out->trial[out->best], &s) < 0) out->best = i;
    }
    return KN_OK;
}
