/* Hyperparameter search (kiln/tune.h), the driver: configurations from the
 * strategy (tune_grid.c, tune_random.c, tune_tpe.c, tune_halving.c), each
 * cross-validated by kn_cv_run in its own run context; batches of trials
 * run `jobs` at a time; the median rule's pruning; the best trial. */
#include "core/ctx-impl.h"
#include "kiln/ctx.h"
#include "kiln/log.h"
#include "kiln/mem.h"
#include "kiln/registry.h"
#include "kiln/stage.h"
#include "pipeline/pipeline-impl.h"
#include "pipeline/tune-impl.h"
#include "pipeline/tune_search-impl.h"

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
typedef struct kn__tune_progress {
    double *mean;
    size_t n, cap;
    int settled;
} progress;

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

static void settle(kn__tune_search *s, size_t id)
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
    kn__tune_search *s;
    size_t id;
    double sum; /* of the fold losses so far */
} trial_prune;

/* kn_cv_fold_fn: the median rule (kiln/tune.h). */
static int prune_fold(size_t fold, size_t k, double score, int higher_is_better, void *user)
{
    trial_prune *tp = user;
    kn__tune_search *s = tp->s;
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

int kn__tune_same_x(const kn_tune_space *sp, const double *a, const double *b)
{
    for (size_t i = 0; i < sp->n; i++)
        if (!(a[i] == b[i] || (isnan(a[i]) && isnan(b[i])))) return 0;
    return 1;
}

static const kn_tune_trial *prior_trial(const kn__tune_search *s, size_t id)
{
    for (size_t i = 0; i < s->o->n_prior; i++)
        if (s->o->prior[i].id == id) return &s->o->prior[i];
    return NULL;
}

/* Cross-validate trial t (x, id, resource set) in its own context. */
static kn_status run_trial(kn__tune_search *s, kn_tune_trial *t)
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

static int should_stop(kn__tune_search *s)
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
kn_status kn__tune_run_batch(kn__tune_search *s, kn_tune_trial *batch, size_t m)
{
    kn_status e = KN_OK;
    int *ran = kn_calloc(m ? m : 1, sizeof *ran);
    kn_status *st = kn_calloc(m ? m : 1, sizeof *st);
    if (!ran || !st) e = KN_ERR_NOMEM;
    for (size_t j = 0; e == KN_OK && j < m; j++) {
        e = trial_params(s->sp, &batch[j]);
        const kn_tune_trial *p = e == KN_OK ? prior_trial(s, batch[j].id) : NULL;
        if (!p) continue;
        if (!kn__tune_same_x(s->sp, p->x, batch[j].x) || p->rung != batch[j].rung ||
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

kn_tune_trial *kn__tune_new_batch(const kn__tune_search *s, size_t m)
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

void kn__tune_free_batch(kn_tune_trial *b, size_t m)
{
    for (size_t j = 0; b && j < m; j++) kn_tune_trial_release(&b[j]);
    kn_free(b);
}

/* Lower is better. */
double kn__tune_loss(const kn__tune_search *s, const kn_tune_trial *t)
{
    return s->res->higher_is_better ? -t->score : t->score;
}

int kn__tune_by_score(const kn_tune_trial *a, const kn_tune_trial *b, const kn__tune_search *s)
{
    int oa = a->status == KN_TRIAL_OK, ob = b->status == KN_TRIAL_OK;
    if (oa != ob) return ob - oa;
    double la = kn__tune_loss(s, a), lb = kn__tune_loss(s, b);
    if (oa && la != lb) return la < lb ? -1 : 1;
    return (a->id > b->id) - (a->id < b->id);
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
    kn__tune_search s = {
        .f = f, .cv = cv, .sp = sp, .o = o, .res = out, .parent = kn_ctx_current()};
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
        e = kn__tune_grid(&s);
        break;
    case KN_TUNE_TPE:
        e = kn__tune_tpe(&s);
        break;
    case KN_TUNE_HALVING:
        e = kn__tune_halving(&s);
        break;
    case KN_TUNE_HYPERBAND:
        e = kn__tune_hyperband(&s);
        break;
    default:
        e = kn__tune_random(&s);
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
        if (out->best == SIZE_MAX || kn__tune_by_score(t, &out->trial[out->best], &s) < 0)
            out->best = i;
    }
    return KN_OK;
}
