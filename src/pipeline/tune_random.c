/* Random search (kiln/tune.h): --trials configurations drawn from the
 * space, each from its own stream (seed, trial), without repeats where the
 * space is discrete; run as one batch by the driver (tune.c). */
#include "kiln/log.h"
#include "kiln/mem.h"
#include "kiln/rng.h"
#include "pipeline/tune-impl.h"
#include "pipeline/tune_search-impl.h"

#include <math.h>
#include <stdint.h>
#include <string.h>

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
static int draw_new(const kn__tune_search *s, draw_pool *dp, int discrete, const kn_tune_trial *b,
                    size_t j, double *x)
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
        for (size_t i = 0; i < j && !dup; i++) dup = kn__tune_same_x(s->sp, b[i].x, x);
        if (!dup) return 1;
        kn__tune_sample(s->sp, &r, x);
    }
    return 0;
}

kn_status kn__tune_random(kn__tune_search *s)
{
    size_t m = s->o->trials;
    kn_tune_trial *b = kn__tune_new_batch(s, m);
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
    if (e == KN_OK) e = kn__tune_run_batch(s, b, made);
    /* (after the trials: a budget or a cancel that stopped them first is
     * the reason given) */
    if (e == KN_OK && exhausted && !s->res->stopped) s->res->stopped = 4;
    if (b) kn__tune_free_batch(b, m);
    if (b) pool_free(&dp);
    return e;
}
