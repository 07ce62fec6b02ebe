/* Internal: one hyperparameter search under way, shared by the driver
 * (tune.c: kn_tune_run, the trials and their batches) and the strategies
 * (tune_grid.c, tune_random.c, tune_tpe.c, tune_halving.c). A strategy
 * proposes configurations and hands each batch to kn__tune_run_batch; the
 * driver picks the best at the end. */
#ifndef KILN_TUNE_SEARCH_IMPL_H
#define KILN_TUNE_SEARCH_IMPL_H

#include "kiln/tune.h"
#include "pipeline/pipeline-impl.h"

#include <pthread.h>

struct kn__tune_progress; /* pruning: a trial's running fold means (tune.c) */

typedef struct kn__tune_search {
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
    struct kn__tune_progress *prog; /* n_prog, by trial id */
    size_t n_prog;
    size_t started;       /* trials started (under kn_tune_cb): the budgets spare the first */
    kn__fit_share *share; /* what the trials' fits of a fold share (one frame, the same folds) */
} kn__tune_search;

/* The strategies: each runs its whole search into s->res. */
kn_status kn__tune_grid(kn__tune_search *s);
kn_status kn__tune_random(kn__tune_search *s);
kn_status kn__tune_tpe(kn__tune_search *s);
kn_status kn__tune_halving(kn__tune_search *s);
kn_status kn__tune_hyperband(kn__tune_search *s);

/* m trials with x allocated (s->sp->n values each), the rest zero; NULL
 * when out of memory. Free with kn__tune_free_batch(). */
kn_tune_trial *kn__tune_new_batch(const kn__tune_search *s, size_t m);
void kn__tune_free_batch(kn_tune_trial *b, size_t m);
/* Evaluate m proposed trials (x owned by each, id, rung, resource set),
 * appended to s->res in id order; those not started (a budget, a cancel)
 * are dropped. The batch's trials are moved out or released. */
kn_status kn__tune_run_batch(kn__tune_search *s, kn_tune_trial *batch, size_t m);

/* Whether two configurations are equal (NaN, inactive, equal to NaN). */
int kn__tune_same_x(const kn_tune_space *sp, const double *a, const double *b);
/* A trial's score as a loss: lower is better. */
double kn__tune_loss(const kn__tune_search *s, const kn_tune_trial *t);
/* Order: OK trials first, by loss, then by id. */
int kn__tune_by_score(const kn_tune_trial *a, const kn_tune_trial *b, const kn__tune_search *s);

#endif
