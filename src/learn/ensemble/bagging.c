/* bagging: n_estimators copies of any registered model (`base`, with the
 * settings in base_params), each fitted on its own draw of the rows: a
 * bootstrap of max_samples x n rows, or without bootstrap a subsample of
 * that many distinct rows. Draw t comes from the random stream (seed, t),
 * members are fitted one after another, so the model is the same whatever
 * the thread count. A classifier averages its members' probabilities
 * (soft vote) when the base family gives them, else their votes' shares
 * (hard vote); a regressor averages their values. With oob_score, each row
 * is predicted by the members whose draw left it out, and the accuracy (or
 * R^2) over the rows that have such members is logged and kept in the fit
 * summary. Members are saved as whole model encodings (members.h). */
#include "kiln/log.h"
#include "kiln/mem.h"
#include "kiln/model.h"
#include "kiln/rng.h"
#include "learn/ensemble/members.h"
#include "learn/learn-impl.h"

#include <math.h>
#include <string.h>

typedef struct bag_params {
    const char *base, *base_params;
    int64_t n_estimators;
    double max_samples;
    int bootstrap, oob_score;
    int64_t seed;
    int task;
} bag_params;

enum { TASK_CLASSIFY, TASK_REGRESS };

static const kn_param_def bag_defs[] = {
    KN_PARAM_STRING(bag_params, base, "decision_tree",
                    "the model to bag: any registered model (`kiln help models`)"),
    KN_PARAM_STRING(bag_params, base_params, "",
                    "the base model's parameters, name=value separated by commas "
                    "(max_depth=3,min_samples_leaf=2); its defaults otherwise"),
    KN_PARAM_INT(bag_params, n_estimators, "10", 1, 1000000, "members (copies of the base)"),
    KN_PARAM_DOUBLE(bag_params, max_samples, "1", 1e-9, 1,
                    "rows drawn for each member, as a share of the rows"),
    KN_PARAM_BOOL(bag_params, bootstrap, "true",
                  "draw rows with replacement (false: a subsample of distinct rows)"),
    KN_PARAM_BOOL(bag_params, oob_score, "false",
                  "score each row with the members that did not draw it (needs bootstrap)"),
    KN_PARAM_INT(bag_params, seed, "0", 0, 1e15, "seed of the row draws"),
    KN_PARAM_ENUM(bag_params, task, "classification", "classification|regression",
                  "follows the target unless set"),
    KN_PARAM_END};

typedef struct bag_state {
    size_t k; /* classes; 0: regression */
    size_t n_members;
    kn_model **members;
    int soft, has_oob;
    double oob_score;
} bag_state;

static void bag_free(void *v)
{
    bag_state *s = v;
    if (!s) return;
    for (size_t t = 0; t < s->n_members; t++) kn_model_free(s->members[t]);
    kn_free(s->members);
    kn_free(s);
}

static kn_task bag_task(const kn_model *m)
{
    const bag_params *par = kn_model_params(m);
    return par->task == TASK_REGRESS ? KN_TASK_REGRESSION : KN_TASK_CLASSIFICATION;
}

static kn_status bag_validate(const void *params)
{
    const bag_params *par = params;
    if (par->oob_score && !par->bootstrap)
        return kn_fail(KN_ERR_INVALID,
                       "oob_score=true needs bootstrap=true (out-of-bag rows exist only when "
                       "each member draws a bootstrap sample)");
    kn_model *probe = NULL; /* the base's name and settings, before any work */
    kn_status e = kn__member_new(par->base, par->base_params, "base", "base_params", NULL, &probe);
    kn_model_free(probe);
    return e;
}

/* The sum of the members' class shares (or votes), or values, into acc
 * (n x width), for the rows of d; tmp holds n x width. */
static kn_status add_member(const bag_state *s, const kn_model *mb, const kn_dataset *d,
                            double *tmp, double *acc)
{
    size_t n = d->n, k = s->k;
    kn_status e = kn__member_predict(mb, d, s->soft, tmp);
    if (e != KN_OK) return e;
    if (s->soft)
        for (size_t i = 0; i < n * k; i++) acc[i] += tmp[i];
    else if (k)
        for (size_t i = 0; i < n; i++) acc[i * k + (size_t)tmp[i]] += 1;
    else
        for (size_t i = 0; i < n; i++) acc[i] += tmp[i];
    return KN_OK;
}

/* The out-of-bag score: accuracy of the first largest share, or R^2, over
 * the rows some member left out (seen[i] > 0); NaN when there are none. */
static double oob_of(const bag_state *s, const kn_dataset *d, const double *acc, const size_t *seen,
                     size_t *rows)
{
    size_t n = d->n, k = s->k, m = 0;
    double hit = 0, mean = 0, ss_res = 0, ss_tot = 0;
    for (size_t i = 0; i < n; i++) {
        if (!seen[i]) continue;
        m++;
        if (k) {
            size_t best = 0;
            for (size_t c = 1; c < k; c++)
                if (acc[i * k + c] > acc[i * k + best]) best = c;
            hit += best == (size_t)d->y[i];
        } else
            mean += d->y[i];
    }
    *rows = m;
    if (!m) return NAN;
    if (k) return hit / (double)m;
    mean /= (double)m;
    for (size_t i = 0; i < n; i++) {
        if (!seen[i]) continue;
        double r = d->y[i] - acc[i] / (double)seen[i], t = d->y[i] - mean;
        ss_res += r * r;
        ss_tot += t * t;
    }
    return ss_tot > 0 ? 1 - ss_res / ss_tot : NAN;
}

/* Member t's rows: count[i] copies of row i (a bootstrap, or 0/1 for a
 * subsample), drawn from the stream (seed, t). */
static void draw_rows(const bag_params *par, size_t t, size_t n, size_t n_draw, uint32_t *count,
                      uint32_t *perm)
{
    kn_rng rng;
    kn_rng_init_stream(&rng, (uint64_t)par->seed, t);
    memset(count, 0, n * sizeof *count);
    if (par->bootstrap) {
        for (size_t i = 0; i < n_draw; i++) count[kn_rng_below(&rng, n)]++;
        return;
    }
    for (size_t i = 0; i < n; i++) perm[i] = (uint32_t)i;
    for (size_t i = 0; i < n_draw; i++) { /* the first n_draw of a shuffle */
        size_t j = i + (size_t)kn_rng_below(&rng, n - i);
        uint32_t v = perm[i];
        perm[i] = perm[j];
        perm[j] = v;
        count[perm[i]] = 1;
    }
}

/* EasyEnsemble's draw for member t: n_min rows of each class, without
 * replacement (imbalanced-learn's RandomUnderSampler), from the stream
 * (seed, t); by_class/start from kn__class_rows. */
static void draw_balanced(const bag_params *par, size_t t, size_t n, size_t k,
                          const uint32_t *by_class, const size_t *start, size_t n_min,
                          uint32_t *count, uint32_t *perm)
{
    kn_rng rng;
    kn_rng_init_stream(&rng, (uint64_t)par->seed, t);
    memset(count, 0, n * sizeof *count);
    for (size_t c = 0; c < k; c++) {
        size_t nc = start[c + 1] - start[c];
        memcpy(perm, by_class + start[c], nc * sizeof *perm);
        for (size_t i = 0; i < n_min; i++) {
            size_t j = i + (size_t)kn_rng_below(&rng, nc - i);
            uint32_t v = perm[i];
            perm[i] = perm[j];
            perm[j] = v;
            count[perm[i]] = 1;
        }
    }
}

static kn_status bag_fit_kind(kn_model *m, const kn_dataset *d, int balanced)
{
    const bag_params *par = kn_model_params(m);
    kn_task task = kn_model_task(m);
    size_t n = d->n, p = d->p, T = (size_t)par->n_estimators;
    size_t n_draw = (size_t)floor(par->max_samples * (double)n);
    if (n_draw < 1) n_draw = 1;
    size_t k = task == KN_TASK_CLASSIFICATION ? d->n_classes : 0, width = k ? k : 1;
    uint32_t *by_class = NULL;
    size_t *start = NULL, n_min = 0;
    if (balanced && k < 2)
        return kn_fail(KN_ERR_INVALID, "%s balances classes: it needs a class target",
                       kn_model_name(m));
    if (balanced) {
        kn_status e = kn__class_rows(d, k, &by_class, &start, &n_min);
        if (e != KN_OK) return e;
        n_draw = n_min * k;
    }
    bag_state *s = kn_calloc(1, sizeof *s);
    if (!s) return KN_ERR_NOMEM;
    s->k = k;
    s->members = kn_calloc(T, sizeof *s->members);
    uint32_t *count = kn_malloc(n * sizeof *count), *perm = kn_malloc(n * sizeof *perm);
    double *x = kn_malloc((n_draw * p > 0 ? n_draw * p : 1) * sizeof *x);
    double *y = kn_malloc(n_draw * sizeof *y);
    double *w = d->w ? kn_malloc(n_draw * sizeof *w) : NULL;
    double *acc = par->oob_score ? kn_calloc(n * width, sizeof *acc) : NULL;
    double *tmp = par->oob_score ? kn_malloc(n * width * sizeof *tmp) : NULL;
    size_t *seen = par->oob_score ? kn_calloc(n, sizeof *seen) : NULL;
    kn_status e = KN_OK;
    if (!s->members || !count || !perm || !x || !y || (d->w && !w) ||
        (par->oob_score && (!acc || !tmp || !seen)))
        e = KN_ERR_NOMEM;
    for (size_t t = 0; e == KN_OK && t < T; t++) {
        if (balanced)
            draw_balanced(par, t, n, k, by_class, start, n_min, count, perm);
        else
            draw_rows(par, t, n, n_draw, count, perm);
        size_t r = 0;
        for (size_t i = 0; i < n; i++)
            for (uint32_t c = 0; c < count[i]; c++, r++) {
                for (size_t j = 0; j < p; j++) x[j * n_draw + r] = kn_dataset_column(d, j)[i];
                y[r] = d->y[i];
                if (w) w[r] = d->w[i];
            }
        kn_dataset sub = {.n = r,
                          .p = p,
                          .x = x,
                          .y = y,
                          .w = w,
                          .names = d->names,
                          .n_classes = d->n_classes,
                          .classes = d->classes,
                          .n_levels = d->n_levels,
                          .levels = d->levels};
        e = kn__member_new(par->base, par->base_params, "base", "base_params", &task,
                           &s->members[t]);
        if (e != KN_OK) break;
        s->n_members = t + 1;
        if (t == 0) s->soft = k && kn__member_has_proba(s->members[0]);
        e = kn__member_fit(s->members[t], &sub);
        if (e != KN_OK) {
            e = kn_fail_prefix(e, "bagging member %zu (%s): ", t + 1, par->base);
            break;
        }
        if (!par->oob_score) continue;
        double *part = kn_calloc(n * width, sizeof *part);
        if (!part) {
            e = KN_ERR_NOMEM;
            break;
        }
        e = add_member(s, s->members[t], d, tmp, part);
        for (size_t i = 0; e == KN_OK && i < n; i++) {
            if (count[i]) continue;
            seen[i]++;
            for (size_t c = 0; c < width; c++) acc[i * width + c] += part[i * width + c];
        }
        kn_free(part);
    }
    if (e == KN_OK && par->oob_score) {
        size_t rows = 0;
        s->has_oob = 1;
        s->oob_score = oob_of(s, d, acc, seen, &rows);
        if (rows < n)
            kn_log(KN_LOG_WARN,
                   "bagging: %zu of %zu rows were drawn by every member and have no out-of-bag "
                   "prediction; the out-of-bag score leaves them out (more n_estimators fixes it)",
                   n - rows, n);
        kn_log(KN_LOG_INFO, "bagging: out-of-bag %s %.6g on %zu rows", k ? "accuracy" : "R^2",
               s->oob_score, rows);
    }
    kn_free(count);
    kn_free(perm);
    kn_free(x);
    kn_free(y);
    kn_free(w);
    kn_free(acc);
    kn_free(tmp);
    kn_free(seen);
    kn_free(by_class);
    kn_free(start);
    if (e != KN_OK) {
        bag_free(s);
        return e;
    }
    kn_model_set_state(m, s);
    return KN_OK;
}

static kn_status bag_fit(kn_model *m, const kn_dataset *d)
{
    return bag_fit_kind(m, d, 0);
}

static kn_status easy_fit(kn_model *m, const kn_dataset *d)
{
    return bag_fit_kind(m, d, 1);
}

static kn_status bag_proba(const kn_model *m, const kn_dataset *d, double *out)
{
    const bag_state *s = kn_model_state(m);
    size_t n = d->n, width = s->k ? s->k : 1;
    double *tmp = kn_malloc((n * width > 0 ? n * width : 1) * sizeof *tmp);
    if (!tmp) return KN_ERR_NOMEM;
    memset(out, 0, n * width * sizeof *out);
    kn_status e = KN_OK;
    for (size_t t = 0; e == KN_OK && t < s->n_members; t++)
        e = add_member(s, s->members[t], d, tmp, out);
    for (size_t i = 0; i < n * width; i++) out[i] /= (double)s->n_members;
    kn_free(tmp);
    return e;
}

static kn_status bag_predict(const kn_model *m, const kn_dataset *d, double *out)
{
    const bag_state *s = kn_model_state(m);
    if (!s->k) return bag_proba(m, d, out);
    double *v = kn_malloc((d->n > 0 ? d->n * s->k : 1) * sizeof *v);
    if (!v) return KN_ERR_NOMEM;
    kn_status e = bag_proba(m, d, v);
    if (e == KN_OK) kn__argmax_rows(v, d->n, s->k, out);
    kn_free(v);
    return e;
}

static kn_status bag_summary(const kn_model *m, kn_fit_summary *out)
{
    const bag_state *s = kn_model_state(m);
    out->n_stats = 0;
    out->stat_name[out->n_stats] = "members";
    out->stat[out->n_stats++] = (double)s->n_members;
    if (s->has_oob) {
        out->stat_name[out->n_stats] = s->k ? "oob_accuracy" : "oob_r2";
        out->stat[out->n_stats++] = s->oob_score;
    }
    return KN_OK;
}

/* u32 version (1), u64 classes, u32 soft, u32 has_oob, f64 oob score, u64
 * members, then each member (members.h). */
static kn_status bag_save(const kn_model *m, kn_wbuf *w)
{
    const bag_state *s = kn_model_state(m);
    kn_wbuf_u32(w, 1);
    kn_wbuf_u64(w, s->k);
    kn_wbuf_u32(w, (uint32_t)s->soft);
    kn_wbuf_u32(w, (uint32_t)s->has_oob);
    kn_wbuf_f64(w, s->oob_score);
    kn_wbuf_u64(w, s->n_members);
    kn_status e = kn_wbuf_status(w);
    for (size_t t = 0; e == KN_OK && t < s->n_members; t++) e = kn__member_save(s->members[t], w);
    return e;
}

static kn_status bag_load(kn_model *m, kn_rbuf *r)
{
    uint32_t version = 0, soft = 0, has_oob = 0;
    uint64_t k = 0;
    size_t T = 0;
    kn_status e = kn_rbuf_u32(r, &version);
    if (e == KN_OK) e = kn_rbuf_u64(r, &k);
    if (e == KN_OK) e = kn_rbuf_u32(r, &soft);
    if (e == KN_OK) e = kn_rbuf_u32(r, &has_oob);
    if (e != KN_OK) return e;
    if (version != 1 || k != kn_model_n_classes(m) || soft > 1 || has_oob > 1 || (soft && !k))
        return kn_fail(KN_ERR_CORRUPT, "%s: bad bagging header", r->what);
    bag_state *s = kn_calloc(1, sizeof *s);
    if (!s) return KN_ERR_NOMEM;
    s->k = (size_t)k;
    s->soft = (int)soft;
    s->has_oob = (int)has_oob;
    e = kn_rbuf_f64(r, &s->oob_score);
    if (e == KN_OK) e = kn_rbuf_count(r, 8, &T);
    if (e == KN_OK && T == 0) e = kn_fail(KN_ERR_CORRUPT, "%s: bagging without members", r->what);
    if (e == KN_OK && !(s->members = kn_calloc(T, sizeof *s->members))) e = KN_ERR_NOMEM;
    if (e == KN_OK) e = kn__members_load(r, m, T, (int)soft, s->members, &s->n_members);
    if (e != KN_OK) {
        bag_free(s);
        return e;
    }
    kn_model_set_state(m, s);
    return KN_OK;
}

/* The columns the base takes (text, missing values), bagging takes. */
static unsigned bag_flags_of(const kn_model *m)
{
    const bag_params *par = kn_model_params(m);
    return kn__member_base_flags(par->base);
}

static const kn_model_vt bag_vt = {
    .task = KN_TASK_CLASSIFICATION,
    .fit = bag_fit,
    .predict = bag_predict,
    .predict_proba = bag_proba,
    .free_state = bag_free,
    .save = bag_save,
    .load = bag_load,
    .summary = bag_summary,
    .flags = KN_MODEL_PREDICT_ARGMAX,
    .task_of = bag_task,
    .task_param = "task",
    .classify_value = "classification",
    .regress_value = "regression",
    .validate = bag_validate,
    .flags_of = bag_flags_of,
};

const kn_component kn__bagging = {
    KN_COMP_MODEL,
    "bagging",
    "bagging of any model (base, base_params): members on bootstrap draws, soft or hard vote "
    "or mean, out-of-bag score",
    bag_defs,
    sizeof(bag_params),
    &bag_vt};

/* EasyEnsemble (Liu, Wu & Zhou 2009; imbalanced-learn's
 * EasyEnsembleClassifier): bagging whose members (AdaBoost by default)
 * each fit on every class under-sampled to the smallest one, without
 * replacement; members average their probabilities. */
static const kn_param_def easy_defs[] = {
    KN_PARAM_STRING(bag_params, base, "adaboost",
                    "the model fitted on each balanced subset: any registered classifier"),
    KN_PARAM_STRING(bag_params, base_params, "",
                    "the base model's parameters, name=value separated by commas "
                    "(n_estimators=50,learning_rate=1); its defaults otherwise"),
    KN_PARAM_INT(bag_params, n_estimators, "10", 1, 1000000, "members (balanced subsets)"),
    KN_PARAM_INT(bag_params, seed, "0", 0, 1e15, "seed of the under-sampling draws"), KN_PARAM_END};

static const kn_model_vt easy_vt = {
    .task = KN_TASK_CLASSIFICATION,
    .fit = easy_fit,
    .predict = bag_predict,
    .predict_proba = bag_proba,
    .free_state = bag_free,
    .save = bag_save,
    .load = bag_load,
    .summary = bag_summary,
    .flags = KN_MODEL_PREDICT_ARGMAX,
    .validate = bag_validate,
    .flags_of = bag_flags_of,
};

const kn_component kn__easy_ensemble = {
    KN_COMP_MODEL,
    "easy_ensemble",
    "EasyEnsemble for imbalanced classes: AdaBoost (or base) members, each on every class "
    "under-sampled to the smallest",
    easy_defs,
    sizeof(bag_params),
    &easy_vt};
