/* Successive halving and Hyperband (kiln/tune.h): random configurations
 * on rungs of a growing resource (a model parameter such as n_estimators,
 * or a share of the training rows); the best 1/eta of a rung go on. The
 * driver (tune.c) runs each rung as a batch. */
#include "kiln/core.h"
#include "kiln/registry.h"
#include "kiln/log.h"
#include "kiln/mem.h"
#include "kiln/rng.h"
#include "pipeline/tune-impl.h"
#include "pipeline/tune_search-impl.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The rung's trials (indices into res) sorted best first (insertion sort:
 * rungs are small). */
static void rank_rung(const kn__tune_search *s, size_t *idx, size_t n)
{
    for (size_t i = 1; i < n; i++)
        for (size_t j = i;
             j > 0 && kn__tune_by_score(&s->res->trial[idx[j]], &s->res->trial[idx[j - 1]], s) < 0;
             j--) {
            size_t t = idx[j];
            idx[j] = idx[j - 1];
            idx[j - 1] = t;
        }
}

/* A rung whose cut falls inside a tie promotes by trial number, not by
 * score: say so, with the likely cause when the whole rung ties (a resource
 * too small for the model to learn anything: gbdt on a few rows makes no
 * split and every configuration scores the constant's). idx: the rung's
 * trials best first, ok of them finished; keep go on. */
static void warn_tied_cut(const kn__tune_search *s, const size_t *idx, size_t keep, size_t ok,
                          size_t rung, double res)
{
    if (keep == 0 || keep >= ok) return;
    double cut = kn__tune_loss(s, &s->res->trial[idx[keep - 1]]);
    if (kn__tune_loss(s, &s->res->trial[idx[keep]]) != cut) return;
    size_t tied = 0;
    for (size_t j = 0; j < ok; j++) tied += kn__tune_loss(s, &s->res->trial[idx[j]]) == cut;
    char what[64];
    if (s->resource)
        snprintf(what, sizeof what, "%s=%.4g", s->resource, res);
    else
        snprintf(what, sizeof what, "%.3g %% of each fold's training rows", 100 * res);
    const double score = s->res->trial[idx[keep - 1]].score;
    if (tied == ok)
        kn_log(KN_LOG_WARN,
               "halving rung %zu (%s): all %zu trials score %s %.6g, so which %zu go on is "
               "decided by trial number, not by score: the rung's resource is likely too "
               "small for the model to learn (a constant's score); start from a larger one "
               "(fewer --trials or a smaller --eta, or resource n_estimators)",
               rung, what, ok, s->res->metric, score, keep);
    else
        kn_log(KN_LOG_WARN,
               "halving rung %zu (%s): %zu trials tie at %s %.6g across the cut (%zu of %zu go "
               "on): trial number decides which",
               rung, what, tied, s->res->metric, score, keep, ok);
}

/* The resource's largest value: the cv params' value, else the table's default. */
static kn_status halving_max(const kn__tune_search *s, double *max)
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
static size_t halving_rungs(const kn__tune_search *s, double eta, double max, size_t n0)
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
static kn_status halving_bracket(kn__tune_search *s, size_t bracket, size_t n0, size_t rungs,
                                 double max, double eta, size_t first, size_t *next_id,
                                 int *stopped)
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
        kn_tune_trial *b = kn__tune_new_batch(s, n_live);
        if (!b) e = KN_ERR_NOMEM;
        for (size_t j = 0; e == KN_OK && j < n_live; j++) {
            b[j].id = *next_id + j;
            b[j].rung = rung;
            b[j].bracket = bracket;
            b[j].resource = res;
            memcpy(b[j].x, x0 + live[j] * s->sp->n, s->sp->n * sizeof *x0);
        }
        size_t before = s->res->n;
        if (e == KN_OK) e = kn__tune_run_batch(s, b, n_live);
        kn__tune_free_batch(b, n_live);
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
        if (rung + 1 < rungs) warn_tied_cut(s, idx, keep, ok, rung, res);
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

kn_status kn__tune_halving(kn__tune_search *s)
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
kn_status kn__tune_hyperband(kn__tune_search *s)
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
