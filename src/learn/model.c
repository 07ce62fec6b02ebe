/* The generic model: parameters, the design matrix, fit/predict around a
 * vtable, the .kmd file (see kiln/model.h). */
#include "kiln/init.h"
#include "kiln/container.h"
#include "kiln/log.h"
#include "kiln/mem.h"
#include "kiln/model.h"
#include "kiln/registry.h"
#include "learn/learn-impl.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct kn_model {
    const kn_component *comp;
    void *params;
    void *state;
    char *target;
    size_t p;
    char **features;
    size_t n_classes;
    char **classes;
    size_t *n_levels; /* per feature (0: numeric), or NULL */
    char ***levels;
    int task_set; /* the task parameter (vt->task_param) was set by name */
    /* provenance (format 3): rows fitted on (0: not recorded), the Kiln
     * version that wrote a loaded file (NULL: not recorded or not loaded),
     * recorded scores and the rows they were computed on */
    size_t train_rows;
    char *saved_by;
    size_t metric_rows, n_metrics;
    char **metric_name;
    double *metric_value;
};

static const char kmd_magic[8] = {'K', 'I', 'L', 'N', 'M', 'D', 'L', '\0'};
/* 2: categorical features' levels after the classes; 3: after the model's
 * state, the provenance record: Kiln version (string), training rows (u64),
 * the rows the scores were computed on (u64), u64 score count, each score's
 * name (string) and value (f64) */
#define KMD_VERSION 3

static void free_levels(size_t *n_levels, char ***levels, size_t p)
{
    for (size_t j = 0; levels && j < p; j++) {
        for (size_t l = 0; levels[j] && l < n_levels[j]; l++) kn_free(levels[j][l]);
        kn_free(levels[j]);
    }
    kn_free(levels);
    kn_free(n_levels);
}

static void forget_metrics(kn_model *m)
{
    for (size_t i = 0; i < m->n_metrics; i++) kn_free(m->metric_name[i]);
    kn_free(m->metric_name);
    kn_free(m->metric_value);
    m->metric_name = NULL;
    m->metric_value = NULL;
    m->n_metrics = m->metric_rows = 0;
}

static void unfit(kn_model *m)
{
    forget_metrics(m);
    kn_free(m->saved_by);
    m->saved_by = NULL;
    m->train_rows = 0;
    const kn_model_vt *vt = m->comp->vt;
    if (m->state && vt->free_state) vt->free_state(m->state);
    m->state = NULL;
    for (size_t j = 0; j < m->p; j++) kn_free(m->features[j]);
    kn_free(m->features);
    kn_free(m->target);
    for (size_t c = 0; c < m->n_classes; c++) kn_free(m->classes[c]);
    kn_free(m->classes);
    m->classes = NULL;
    m->n_classes = 0;
    free_levels(m->n_levels, m->levels, m->p);
    m->n_levels = NULL;
    m->levels = NULL;
    m->features = NULL;
    m->target = NULL;
    m->p = 0;
}

kn_status kn_model_new(const char *name, kn_model **out)
{
    kn_learn_register();
    const kn_component *c = kn_registry_find(KN_COMP_MODEL, name);
    if (!c) return kn_last_status();
    kn_model *m = kn_calloc(1, sizeof *m);
    if (!m || !(m->params = kn_calloc(1, c->params_size ? c->params_size : 1))) {
        kn_free(m);
        return KN_ERR_NOMEM;
    }
    m->comp = c;
    kn_status st = kn_param_defaults(c->params, m->params);
    if (st != KN_OK) {
        kn_model_free(m);
        return st;
    }
    *out = m;
    return KN_OK;
}

void kn_model_free(kn_model *m)
{
    if (!m) return;
    unfit(m);
    kn_free(m->params);
    kn_free(m);
}

kn_status kn_model_set(kn_model *m, const char *name_eq_value)
{
    kn_status st = kn_param_set(m->comp->params, m->params, name_eq_value);
    if (st != KN_OK) return kn_fail_prefix(st, "model '%s': ", m->comp->name);
    const char *tp = ((const kn_model_vt *)m->comp->vt)->task_param;
    size_t tl = tp ? strlen(tp) : 0;
    if (tp && !strncmp(name_eq_value, tp, tl) && name_eq_value[tl] == '=') m->task_set = 1;
    if (strncmp(name_eq_value, "predict_", 8) != 0) unfit(m);
    return KN_OK;
}

const char *kn_model_name(const kn_model *m)
{
    return m->comp->name;
}

kn_task kn_model_task(const kn_model *m)
{
    const kn_model_vt *vt = m->comp->vt;
    return vt->task_of ? vt->task_of(m) : vt->task;
}

const void *kn_model_params(const kn_model *m)
{
    return m->params;
}

const void *kn_model_state(const kn_model *m)
{
    return m->state;
}

void kn_model_set_state(kn_model *m, void *state)
{
    const kn_model_vt *vt = m->comp->vt;
    if (m->state && vt->free_state) vt->free_state(m->state);
    m->state = state;
}

size_t kn_model_n_features(const kn_model *m)
{
    return m->p;
}

const char *kn_model_feature(const kn_model *m, size_t j)
{
    return j < m->p ? m->features[j] : NULL;
}

size_t kn_model_feature_levels(const kn_model *m, size_t j)
{
    return m->n_levels && j < m->p ? m->n_levels[j] : 0;
}

const char *kn_model_target(const kn_model *m)
{
    return m->target;
}

void kn_dataset_free(kn_dataset *d)
{
    if (!d) return;
    kn_free(d->x);
    kn_free(d->col);
    free_levels(d->n_levels, d->levels, d->p);
    kn_free(d->level_x);
    kn_free(d->y);
    kn_free(d->w);
    for (size_t j = 0; j < d->p; j++) kn_free(d->names[j]);
    kn_free(d->names);
    for (size_t c = 0; c < d->n_classes; c++) kn_free(d->classes[c]);
    kn_free(d->classes);
    kn_free(d);
}

void kn__warn_not_converged(const char *model, int iterations, int64_t max_iter, double grad,
                            double tol)
{
    if (iterations >= max_iter)
        kn_log(KN_LOG_WARN,
               "%s did not converge: it used all max_iter=%lld iterations (largest gradient "
               "%.3g > tol %g); raise max_iter (e.g. --param max_iter=%lld) or standardise the "
               "features",
               model, (long long)max_iter, grad, tol, (long long)max_iter * 10);
    else
        kn_log(KN_LOG_WARN,
               "%s did not converge: its line search stalled after %d of max_iter=%lld "
               "iterations (largest gradient %.3g > tol %g); more iterations will not help: "
               "standardise the features, or raise tol",
               model, iterations, (long long)max_iter, grad, tol);
}

/* The first missing (unless allowed) or infinite value of v, if any, as
 * the error for the user. */
static kn_status refuse_missing_or_inf(const double *v, size_t n, const char *what,
                                       const char *name, int allow_missing)
{
    for (size_t i = 0; i < n; i++)
        if (isnan(v[i]) && !allow_missing)
            return !strcmp(what, "target")
                       ? kn_fail(KN_ERR_INVALID, "target '%s', row %zu is missing; %s", name, i + 1,
                                 KN__MISSING_TARGET_FIX)
                       : kn_fail(KN_ERR_INVALID,
                                 "%s '%s', row %zu is missing; impute it first (e.g. "
                                 "kiln prep --step simple_imputer)",
                                 what, name, i + 1);
        else if (isinf(v[i]))
            return kn_fail(KN_ERR_INVALID,
                           "%s '%s', row %zu is %s; models take finite numbers: correct it at "
                           "its source, or clip it with kiln prep IN OUT --step "
                           "'outlier_clip:columns=%s' (every value beyond the IQR fences is "
                           "clipped)",
                           what, name, i + 1, v[i] > 0 ? "inf" : "-inf", name);
    return KN_OK;
}

/* A numeric column's values into dst (or only checked, dst NULL), refusing
 * missing ones unless allowed. The copy and the check run branch-free
 * (vectorised); the row is found only on failure. */
static kn_status take_numeric(kn_column *c, size_t n, const char *what, int allow_missing,
                              double *dst)
{
    if (kn_column_type(c) == KN_COL_INT64) /* integers beyond 2^53: an identifier, mostly */
        return kn_fail(KN_ERR_TYPE,
                       "%s '%s' is int64 (integers beyond 2^53, usually an identifier); drop it "
                       "or give it the id role, or make it a number (rounded) with kiln prep "
                       "--step 'coerce:columns=%s;to=numeric'",
                       what, kn_column_name(c), kn_column_name(c));
    if (kn_column_type(c) == KN_COL_TIMESTAMP && !strcmp(what, "feature"))
        return kn_fail(KN_ERR_TYPE,
                       "feature '%s' is a timestamp; models take numeric columns: turn it into "
                       "calendar features with the step 'datetime_features:columns=%s;keep=false' "
                       "(kiln prep IN OUT --step ..., or kiln cv --step ...), or leave it out "
                       "with --ignore %s",
                       kn_column_name(c), kn_column_name(c), kn_column_name(c));
    if (kn_column_type(c) != KN_COL_NUMERIC)
        return kn_fail(KN_ERR_TYPE,
                       "%s '%s' is %s; models take numeric columns (encode categories first, "
                       "e.g. kiln prep --step onehot_encoder)",
                       what, kn_column_name(c), kn_col_type_name(kn_column_type(c)));
    const double *v = kn_column_f64(c);
    int missing = 0, inf = 0;
    for (size_t i = 0; i < n; i++) {
        missing |= v[i] != v[i];
        inf |= fabs(v[i]) == INFINITY;
    }
    if (dst) memcpy(dst, v, n * sizeof *dst);
    return (missing && !allow_missing) || inf
               ? refuse_missing_or_inf(v, n, what, kn_column_name(c), allow_missing)
               : KN_OK;
}

kn_status kn__refuse_missing(const kn_dataset *d)
{
    kn_status e = KN_OK;
    for (size_t j = 0; e == KN_OK && j < d->p; j++)
        e = refuse_missing_or_inf(kn_dataset_column(d, j), d->n, "feature", d->names[j], 0);
    return e;
}

/* The feature columns into x (column-major), or, with x NULL, only
 * checked (numeric; nothing missing unless allowed); in parallel over
 * columns. The error of the first failing column wins, whatever the
 * schedule. */
static kn_status take_features(const kn_frame *f, const size_t *cols, size_t p, size_t n,
                               int allow_missing, const size_t *skip, double *x)
{
    long first_bad = (long)p;
#pragma omp parallel for schedule(static) if (n * p > 100000) reduction(min : first_bad)
    for (long j = 0; j < (long)p; j++) {
        if (skip && skip[j]) continue; /* categorical, taken as levels */
        kn_column *c = kn_frame_col(f, cols[j]);
        const double *v = kn_column_type(c) == KN_COL_NUMERIC ? kn_column_f64(c) : NULL;
        int missing = !v, inf = 0;
        if (v && x) {
            double *dst = x + (size_t)j * n;
            for (size_t i = 0; i < n; i++) {
                dst[i] = v[i];
                missing |= v[i] != v[i];
                inf |= fabs(v[i]) == INFINITY;
            }
        } else if (!allow_missing) /* (borrowed columns a model takes as they are: no pass) */
            for (size_t i = 0; v && i < n; i++) {
                missing |= v[i] != v[i];
                inf |= fabs(v[i]) == INFINITY;
            }
        if ((!v || (missing && !allow_missing) || inf) && j < first_bad) first_bad = j;
    }
    if (first_bad == (long)p) return KN_OK;
    /* again on one thread, for the message (kn_fail is per thread) */
    kn_column *c = kn_frame_col(f, cols[first_bad]);
    return take_numeric(c, n, "feature", allow_missing, x ? x + first_bad * n : NULL);
}

/* Feature columns: the named ones, or every numeric feature except target and weight. */
static kn_status pick_features(const kn_frame *f, const char *target, const char *weight,
                               const char *const *names, size_t n_names, size_t **cols, size_t *p)
{
    size_t cap = (names && n_names > kn_frame_n_cols(f) ? n_names : kn_frame_n_cols(f)) + 1, k = 0;
    size_t *v = kn_malloc(cap * sizeof *v);
    if (!v) return KN_ERR_NOMEM;
    if (names) {
        for (size_t j = 0; j < n_names; j++)
            if (kn_frame_find(f, names[j], &v[k++]) != KN_OK) {
                kn_free(v);
                return kn_fail(KN_ERR_NOT_FOUND,
                               "the model was trained on column '%s', which the data lacks",
                               names[j]);
            }
    } else
        for (size_t j = 0; j < kn_frame_n_cols(f); j++) {
            kn_column *c = kn_frame_col(f, j);
            const char *nm = kn_column_name(c);
            if ((target && !strcmp(nm, target)) || (weight && !strcmp(nm, weight))) continue;
            if (kn_column_role(c) != KN_ROLE_FEATURE) continue;
            v[k++] = j;
        }
    *cols = v;
    *p = k;
    return KN_OK;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

typedef struct level_rank {
    const char *text;
    int32_t code;
} level_rank;

static int by_text(const void *a, const void *b)
{
    return strcmp(((const level_rank *)a)->text, ((const level_rank *)b)->text);
}

#define MAX_CLASSES 1000

/* Class labels of the target column c (sorted: numbers by value, text by
 * bytes) and each row's class index, in O(n log k). */
static kn_status classes_of(kn_column *c, size_t n, kn_dataset *d)
{
    const char *name = kn_column_name(c);
    kn_col_type t = kn_column_type(c);
    if (t != KN_COL_NUMERIC && t != KN_COL_CATEGORICAL)
        return kn_fail(KN_ERR_TYPE, "target '%s' is %s; a class target is categorical or numeric",
                       name, kn_col_type_name(t));
    for (size_t i = 0; i < n; i++)
        if (kn_column_is_missing(c, i))
            return kn_fail(KN_ERR_INVALID, "target '%s', row %zu is missing; %s", name, i + 1,
                           KN__MISSING_TARGET_FIX);
    size_t k = 0;
    kn_status e = KN_OK;
    char **lab = NULL;
    if (t == KN_COL_NUMERIC) {
        const double *v = kn_column_f64(c);
        double u[MAX_CLASSES + 1]; /* the distinct values so far, sorted */
        for (size_t i = 0; i < n && k <= MAX_CLASSES; i++) {
            size_t lo = 0, hi = k; /* binary search, insert when new */
            while (lo < hi) {
                size_t mid = (lo + hi) / 2;
                if (u[mid] < v[i])
                    lo = mid + 1;
                else
                    hi = mid;
            }
            if (lo < k && u[lo] == v[i]) continue;
            memmove(u + lo + 1, u + lo, (k - lo) * sizeof *u);
            u[lo] = v[i];
            k++;
        }
        if (k > MAX_CLASSES)
            e = kn_fail(KN_ERR_INVALID,
                        "target '%s' has over %d classes; is it a regression target?", name,
                        MAX_CLASSES);
        if (e == KN_OK && !(lab = kn_calloc(k + 1, sizeof *lab))) e = KN_ERR_NOMEM;
        for (size_t q = 0; e == KN_OK && q < k; q++) {
            char buf[40];
            snprintf(buf, sizeof buf, "%.17g", u[q]);
            if (!(lab[q] = kn_strdup(buf))) e = KN_ERR_NOMEM;
        }
        for (size_t i = 0; e == KN_OK && i < n; i++) {
            const double *hit = bsearch(&v[i], u, k, sizeof *u, cmp_double);
            d->y[i] = (double)(hit - u);
        }
    } else {
        size_t levels = kn_column_n_levels(c);
        const int32_t *codes = kn_column_codes(c);
        level_rank *lr = kn_malloc((levels ? levels : 1) * sizeof *lr);
        int32_t *rank = kn_calloc(levels ? levels : 1, sizeof *rank);
        if (!lr || !rank) e = KN_ERR_NOMEM;
        for (size_t i = 0; e == KN_OK && i < n; i++) rank[codes[i]] = 1;
        for (size_t l = 0; e == KN_OK && l < levels; l++)
            if (rank[l]) lr[k++] = (level_rank){kn_column_level(c, (int32_t)l, NULL), (int32_t)l};
        if (e == KN_OK && k > MAX_CLASSES)
            e = kn_fail(KN_ERR_INVALID,
                        "target '%s' has over %d classes; is it a regression target?", name,
                        MAX_CLASSES);
        if (e == KN_OK) qsort(lr, k, sizeof *lr, by_text);
        if (e == KN_OK && !(lab = kn_calloc(k + 1, sizeof *lab))) e = KN_ERR_NOMEM;
        for (size_t q = 0; e == KN_OK && q < k; q++) {
            rank[lr[q].code] = (int32_t)q;
            if (!(lab[q] = kn_strdup(lr[q].text))) e = KN_ERR_NOMEM;
        }
        for (size_t i = 0; e == KN_OK && i < n; i++) d->y[i] = (double)rank[codes[i]];
        kn_free(lr);
        kn_free(rank);
    }
    if (e == KN_OK && k < 2)
        e = kn_fail(KN_ERR_INVALID,
                    "target '%s' has a single class ('%s'); a classifier needs at least two", name,
                    k ? lab[0] : "");
    d->classes = lab;
    d->n_classes = lab ? k : 0;
    return e;
}

/* Categorical feature columns as level indices (flag TAKES_CATEGORICAL):
 * when fitting (n_levels NULL) the frame's levels, in code order; when
 * predicting, the fitted levels, each row's text looked up among them
 * (unseen: NaN, as missing, or with unseen_index the level count). Fills
 * d->n_levels, levels, level_x, col. */
static kn_status take_levels(const kn_frame *f, const size_t *cols, const size_t *fit_n_levels,
                             char **const *fit_levels, int unseen_index, kn_dataset *d)
{
    size_t n = d->n, p = d->p, n_cat = 0;
    for (size_t j = 0; j < p; j++) {
        kn_col_type t = kn_column_type(kn_frame_col(f, cols[j]));
        int was = fit_n_levels && fit_n_levels[j];
        if (was && t != KN_COL_CATEGORICAL)
            return kn_fail(KN_ERR_TYPE,
                           "feature '%s' was categorical when the model was fitted; "
                           "here it is %s",
                           d->names[j], kn_col_type_name(t));
        n_cat += (fit_n_levels ? was : t == KN_COL_CATEGORICAL);
    }
    if (!n_cat) return KN_OK;
    d->n_levels = kn_calloc(p, sizeof *d->n_levels);
    d->levels = kn_calloc(p, sizeof *d->levels);
    d->level_x = kn_malloc((n ? n * n_cat : 1) * sizeof *d->level_x);
    if (!d->n_levels || !d->levels || !d->level_x) return KN_ERR_NOMEM;
    size_t at = 0;
    for (size_t j = 0; j < p; j++) {
        kn_column *c = kn_frame_col(f, cols[j]);
        if (fit_n_levels ? !fit_n_levels[j] : kn_column_type(c) != KN_COL_CATEGORICAL) continue;
        size_t here = kn_column_n_levels(c), L = fit_n_levels ? fit_n_levels[j] : here;
        double *map = kn_malloc((here ? here : 1) * sizeof *map), *v = d->level_x + at * n;
        d->levels[j] = kn_calloc(L ? L : 1, sizeof **d->levels);
        if (!map || !d->levels[j]) {
            kn_free(map);
            return KN_ERR_NOMEM;
        }
        d->n_levels[j] = L;
        for (size_t l = 0; l < L; l++) {
            size_t len;
            const char *text =
                fit_n_levels ? fit_levels[j][l] : kn_column_level(c, (int32_t)l, &len);
            if (!(d->levels[j][l] = kn_strdup(text))) {
                kn_free(map);
                return KN_ERR_NOMEM;
            }
        }
        for (size_t code = 0; code < here; code++) { /* this frame's code -> level index */
            size_t len;
            const char *text = kn_column_level(c, (int32_t)code, &len);
            map[code] = unseen_index ? (double)L : NAN;
            for (size_t l = 0; l < L; l++)
                if (!strcmp(d->levels[j][l], text)) {
                    map[code] = (double)l;
                    break;
                }
        }
        const int32_t *codes = kn_column_codes(c);
        for (size_t i = 0; i < n; i++)
            v[i] = codes[i] >= 0 && (size_t)codes[i] < here ? map[codes[i]] : NAN;
        kn_free(map);
        d->col[j] = v;
        at++;
    }
    return KN_OK;
}

/* The dataset of kn_dataset_from_frame; flags (KN_MODEL_*): with
 * READS_COLUMNS the feature columns are the frame's own (x NULL, col set);
 * with TAKES_MISSING missing feature values stay (NaN). */
static kn_status build_dataset(const kn_frame *f, const char *target, const char *weight,
                               const char *const *names, size_t n_names, kn_task task,
                               unsigned flags, const kn_model *fitted, kn_dataset **out)
{
    int borrow = (flags & (KN_MODEL_READS_COLUMNS | KN_MODEL_TAKES_CATEGORICAL)) != 0;
    size_t n = kn_frame_n_rows(f), *cols = NULL, p = 0;
    kn_status e = pick_features(f, target, weight, names, n_names, &cols, &p);
    if (e != KN_OK) return e;
    if (!p) {
        kn_free(cols);
        return kn_fail(KN_ERR_INVALID, "no feature columns (every column is the target, a "
                                       "weight or not a feature)");
    }
    kn_dataset *d = kn_calloc(1, sizeof *d);
    if (!d) {
        kn_free(cols);
        return KN_ERR_NOMEM;
    }
    d->n = n;
    d->p = p;
    if (borrow)
        d->col = kn_calloc(p, sizeof *d->col);
    else
        d->x = kn_malloc((n * p > 0 ? n * p : 1) * sizeof *d->x);
    d->names = kn_calloc(p, sizeof *d->names);
    if (!(d->x || d->col) || !d->names) e = KN_ERR_NOMEM;
    for (size_t j = 0; e == KN_OK && j < p; j++)
        if (!(d->names[j] = kn_strdup(kn_column_name(kn_frame_col(f, cols[j]))))) e = KN_ERR_NOMEM;
    /* categorical features: when fitting, any; when predicting, the fitted ones */
    if (e == KN_OK && (flags & KN_MODEL_TAKES_CATEGORICAL) && (!fitted || fitted->n_levels))
        e = take_levels(f, cols, fitted ? fitted->n_levels : NULL,
                        fitted ? (char **const *)fitted->levels : NULL,
                        (flags & KN_MODEL_UNSEEN_LEVEL) != 0, d);
    /* a fit that finds missing values itself reads borrowed columns unscanned */
    int unscanned = borrow && !fitted && (flags & KN_MODEL_FINDS_MISSING);
    if (e == KN_OK)
        e = take_features(f, cols, p, n, (flags & KN_MODEL_TAKES_MISSING) || unscanned, d->n_levels,
                          d->x);
    for (size_t j = 0; e == KN_OK && borrow && j < p; j++)
        if (!d->n_levels || !d->n_levels[j]) d->col[j] = kn_column_f64(kn_frame_col(f, cols[j]));
    size_t jt;
    if (e == KN_OK && target) {
        if (kn_frame_find(f, target, &jt) != KN_OK)
            e = kn_fail(KN_ERR_NOT_FOUND, "target column '%s' is not in the data", target);
        else if (!(d->y = kn_malloc((n ? n : 1) * sizeof *d->y)))
            e = KN_ERR_NOMEM;
        else if (task == KN_TASK_CLASSIFICATION)
            e = classes_of(kn_frame_col(f, jt), n, d);
        else
            e = take_numeric(kn_frame_col(f, jt), n, "target", 0, d->y);
    }
    if (e == KN_OK && weight) {
        if (kn_frame_find(f, weight, &jt) != KN_OK)
            e = kn_fail(KN_ERR_NOT_FOUND, "weight column '%s' is not in the data", weight);
        else if (!(d->w = kn_malloc((n ? n : 1) * sizeof *d->w)))
            e = KN_ERR_NOMEM;
        else
            e = take_numeric(kn_frame_col(f, jt), n, "weight", 0, d->w);
        for (size_t i = 0; e == KN_OK && i < n; i++)
            if (d->w[i] < 0)
                e = kn_fail(KN_ERR_INVALID, "weight '%s', row %zu is negative", weight, i + 1);
    }
    kn_free(cols);
    if (e != KN_OK) {
        kn_dataset_free(d);
        return e;
    }
    *out = d;
    return KN_OK;
}

kn_status kn_dataset_from_frame(const kn_frame *f, const char *target, const char *weight,
                                const char *const *names, size_t n_names, kn_task task,
                                kn_dataset **out)
{
    return build_dataset(f, target, weight, names, n_names, task, 0, NULL, out);
}

int kn__model_task_set(const kn_model *m)
{
    return m->task_set;
}

const kn_model_vt *kn__model_vt(const kn_model *m)
{
    return (const kn_model_vt *)m->comp->vt;
}

kn_status kn_model_fit(kn_model *m, const kn_frame *f, const char *target, const char *weight)
{
    unfit(m);
    if (!target)
        return kn_fail(KN_ERR_INVALID, "model '%s': name the target column", m->comp->name);
    const kn_model_vt *vt = m->comp->vt;
    kn_dataset *d;
    kn_status e = kn_model_choose_task(m, f, target, NULL);
    if (e != KN_OK) return e;
    e = build_dataset(f, target, weight, NULL, 0, kn_model_task(m), vt->flags, NULL, &d);
    if (e != KN_OK) return kn_fail_prefix(e, "model '%s': ", m->comp->name);
    if (d->n < 2) e = kn_fail(KN_ERR_INVALID, "model '%s': needs at least 2 rows", m->comp->name);
    if (e == KN_OK) e = vt->fit(m, d);
    if (e == KN_OK) {
        m->target = kn_strdup(target);
        m->train_rows = d->n;
        m->features = d->names;
        m->p = d->p;
        m->classes = d->classes;
        m->n_classes = d->n_classes;
        m->n_levels = d->n_levels;
        m->levels = d->levels;
        d->n_levels = NULL;
        d->levels = NULL;
        d->names = NULL;
        d->p = 0;
        d->classes = NULL;
        d->n_classes = 0;
        if (!m->target) e = KN_ERR_NOMEM;
    }
    kn_dataset_free(d);
    if (e != KN_OK) unfit(m);
    return e;
}

size_t kn_model_n_classes(const kn_model *m)
{
    return m->n_classes;
}

const char *kn_model_class(const kn_model *m, size_t c)
{
    return c < m->n_classes ? m->classes[c] : NULL;
}

static kn_status apply(const kn_model *m, const kn_frame *f, int proba, double **out, size_t *n)
{
    if (!m->state) return kn_fail(KN_ERR_INVALID, "model '%s' is not fitted", m->comp->name);
    const kn_model_vt *vt = m->comp->vt;
    if (proba && !vt->predict_proba)
        return kn_fail(KN_ERR_UNSUPPORTED, "model '%s' gives no probabilities", m->comp->name);
    kn_dataset *d;
    kn_status e = build_dataset(f, NULL, NULL, (const char *const *)m->features, m->p,
                                kn_model_task(m), vt->flags, m, &d);
    if (e != KN_OK) return kn_fail_prefix(e, "predict: ");
    size_t width = proba ? m->n_classes : 1;
    double *v = kn_malloc((d->n ? d->n * width : 1) * sizeof *v);
    e = v ? (proba ? vt->predict_proba(m, d, v) : vt->predict(m, d, v)) : KN_ERR_NOMEM;
    if (e == KN_OK) {
        *out = v;
        *n = d->n;
    } else
        kn_free(v);
    kn_dataset_free(d);
    return e;
}

kn_status kn_model_predict(const kn_model *m, const kn_frame *f, double **out, size_t *n)
{
    return apply(m, f, 0, out, n);
}

kn_status kn_model_predict_proba(const kn_model *m, const kn_frame *f, double **out, size_t *n)
{
    return apply(m, f, 1, out, n);
}

kn_status kn_model_summary(const kn_model *m, kn_fit_summary *out)
{
    const kn_model_vt *vt = m->comp->vt;
    memset(out, 0, sizeof *out);
    if (!m->state) return kn_fail(KN_ERR_INVALID, "model '%s' is not fitted", m->comp->name);
    if (!vt->summary)
        return kn_fail(KN_ERR_UNSUPPORTED, "model '%s' has no fit summary", m->comp->name);
    return vt->summary(m, out);
}

size_t kn_model_coef_rows(const kn_model *m)
{
    const kn_model_vt *vt = m->comp->vt;
    if (!m->state || !vt->coefficients) return 0;
    return vt->coef_rows ? vt->coef_rows(m) : 1;
}

kn_status kn_model_coefficients(const kn_model *m, double *coef, double *intercept)
{
    const kn_model_vt *vt = m->comp->vt;
    if (!m->state) return kn_fail(KN_ERR_INVALID, "model '%s' is not fitted", m->comp->name);
    if (!vt->coefficients)
        return kn_fail(KN_ERR_UNSUPPORTED, "model '%s' has no coefficients", m->comp->name);
    return vt->coefficients(m, coef, intercept);
}

int kn_model_has_importances(const kn_model *m)
{
    const kn_model_vt *vt = m->comp->vt;
    return m->state && vt->importances;
}

kn_status kn_model_importances(const kn_model *m, double *out)
{
    const kn_model_vt *vt = m->comp->vt;
    if (!m->state) return kn_fail(KN_ERR_INVALID, "model '%s' is not fitted", m->comp->name);
    if (!vt->importances)
        return kn_fail(KN_ERR_UNSUPPORTED, "model '%s' has no feature importances", m->comp->name);
    return vt->importances(m, out);
}

kn_status kn_model_save(const kn_model *m, const char *path)
{
    if (!m->state)
        return kn_fail(KN_ERR_INVALID, "model '%s' is not fitted; fit it before saving",
                       m->comp->name);
    kn_wbuf w = {0};
    kn_wbuf_str(&w, m->comp->name);
    size_t n_params = 0;
    for (const kn_param_def *d = m->comp->params; d->name; d++) n_params++;
    kn_wbuf_u64(&w, n_params);
    kn_status e = KN_OK;
    for (const kn_param_def *d = m->comp->params; e == KN_OK && d->name; d++) {
        char *item = kn_param_format(d, m->params);
        if (!item) {
            e = kn_last_status();
            break;
        }
        kn_wbuf_str(&w, item);
        kn_free(item);
    }
    kn_wbuf_str(&w, m->target);
    kn_wbuf_u64(&w, m->p);
    for (size_t j = 0; j < m->p; j++) kn_wbuf_str(&w, m->features[j]);
    kn_wbuf_u64(&w, m->n_classes);
    for (size_t c = 0; c < m->n_classes; c++) kn_wbuf_str(&w, m->classes[c]);
    size_t n_cat = 0; /* version 2: categorical features and their levels */
    for (size_t j = 0; m->n_levels && j < m->p; j++) n_cat += m->n_levels[j] > 0;
    kn_wbuf_u64(&w, n_cat);
    for (size_t j = 0; m->n_levels && j < m->p; j++) {
        if (!m->n_levels[j]) continue;
        kn_wbuf_u64(&w, j);
        kn_wbuf_u64(&w, m->n_levels[j]);
        for (size_t l = 0; l < m->n_levels[j]; l++) kn_wbuf_str(&w, m->levels[j][l]);
    }
    const kn_model_vt *vt = m->comp->vt;
    /* version 3: the model's own state framed by its length, so that the
     * state may end in optional sections (a forest's level sets) and the
     * provenance record after it is never mistaken for one */
    kn_wbuf state = {0};
    if (e == KN_OK) e = vt->save(m, &state);
    if (e == KN_OK) e = kn_wbuf_status(&state);
    kn_wbuf_u64(&w, state.n);
    kn_wbuf_bytes(&w, state.p, state.n);
    kn_wbuf_free(&state);
    kn_wbuf_str(&w, kn_version()); /* version 3: provenance */
    kn_wbuf_u64(&w, m->train_rows);
    kn_wbuf_u64(&w, m->metric_rows);
    kn_wbuf_u64(&w, m->n_metrics);
    for (size_t i = 0; i < m->n_metrics; i++) {
        kn_wbuf_str(&w, m->metric_name[i]);
        kn_wbuf_f64(&w, m->metric_value[i]);
    }
    if (e == KN_OK) e = kn_container_write(path, kmd_magic, KMD_VERSION, &w);
    kn_wbuf_free(&w);
    return e;
}

/* A counted list of non-empty strings; *n counts those read (for freeing). */
static kn_status read_names(kn_rbuf *r, const char *what, char ***out, size_t *n)
{
    size_t count = 0;
    kn_status e = kn_rbuf_count(r, 8, &count);
    if (e == KN_OK && !(*out = kn_calloc(count ? count : 1, sizeof **out))) e = KN_ERR_NOMEM;
    for (size_t i = 0; e == KN_OK && i < count; i++) {
        e = kn_rbuf_str(r, &(*out)[i]);
        *n = i + 1;
        if (e == KN_OK && !(*out)[i])
            e = kn_fail(KN_ERR_CORRUPT, "%s: a %s has no name", r->what, what);
    }
    return e;
}

/* Version 2: the categorical features' levels. */
static kn_status read_levels(kn_rbuf *r, kn_model *m)
{
    size_t n_cat = 0;
    kn_status e = kn_rbuf_count(r, 16, &n_cat);
    if (e != KN_OK || n_cat == 0) return e;
    if (n_cat > m->p)
        return kn_fail(KN_ERR_CORRUPT, "%s: more categorical than all features", r->what);
    m->n_levels = kn_calloc(m->p, sizeof *m->n_levels);
    m->levels = kn_calloc(m->p, sizeof *m->levels);
    if (!m->n_levels || !m->levels) return KN_ERR_NOMEM;
    for (size_t k = 0; e == KN_OK && k < n_cat; k++) {
        uint64_t j = 0;
        size_t got = 0;
        e = kn_rbuf_u64(r, &j);
        if (e == KN_OK && (j >= m->p || m->levels[j]))
            e = kn_fail(KN_ERR_CORRUPT, "%s: bad categorical feature index", r->what);
        if (e != KN_OK) break;
        e = read_names(r, "level", &m->levels[j], &got);
        m->n_levels[j] = got; /* what was read, for freeing */
        if (e == KN_OK && got == 0)
            e = kn_fail(KN_ERR_CORRUPT, "%s: a categorical feature without levels", r->what);
    }
    return e;
}

/* Version 3: the provenance record after the state. */
static kn_status read_provenance(kn_rbuf *r, kn_model *m)
{
    uint64_t train_rows = 0, metric_rows = 0;
    size_t n = 0;
    kn_status e = kn_rbuf_str(r, &m->saved_by);
    if (e == KN_OK) e = kn_rbuf_u64(r, &train_rows);
    if (e == KN_OK) e = kn_rbuf_u64(r, &metric_rows);
    if (e == KN_OK) e = kn_rbuf_count(r, 16, &n);
    if (e == KN_OK && (!(m->metric_name = kn_calloc(n ? n : 1, sizeof *m->metric_name)) ||
                       !(m->metric_value = kn_calloc(n ? n : 1, sizeof *m->metric_value))))
        e = KN_ERR_NOMEM;
    for (size_t i = 0; e == KN_OK && i < n; i++) {
        e = kn_rbuf_str(r, &m->metric_name[i]);
        m->n_metrics = i + 1; /* what was read, for freeing */
        if (e == KN_OK && !m->metric_name[i])
            e = kn_fail(KN_ERR_CORRUPT, "%s: a recorded score has no name", r->what);
        if (e == KN_OK) e = kn_rbuf_f64(r, &m->metric_value[i]);
    }
    m->train_rows = (size_t)train_rows;
    m->metric_rows = (size_t)metric_rows;
    return e;
}

/* Version 3: the state, framed by its length, read by the model alone. */
static kn_status load_framed_state(kn_rbuf *r, kn_model *m)
{
    size_t len = 0;
    kn_status e = kn_rbuf_count(r, 1, &len);
    if (e != KN_OK) return e;
    kn_rbuf state = kn_rbuf_init(r->p, len, r->what);
    r->p += len;
    e = ((const kn_model_vt *)m->comp->vt)->load(m, &state);
    if (e == KN_OK && kn_rbuf_left(&state))
        e = kn_fail(KN_ERR_CORRUPT, "%s: trailing bytes after the model's state", r->what);
    return e;
}

static kn_status decode(kn_rbuf *r, uint32_t version, kn_model **out)
{
    char *name = NULL;
    kn_model *m = NULL;
    kn_status e = kn_rbuf_str(r, &name);
    if (e == KN_OK && !name) e = kn_fail(KN_ERR_CORRUPT, "%s: the model has no name", r->what);
    if (e == KN_OK) e = kn_model_new(name, &m);
    kn_free(name);
    size_t n_params = 0;
    if (e == KN_OK) e = kn_rbuf_count(r, 8, &n_params);
    for (size_t k = 0; e == KN_OK && k < n_params; k++) {
        char *item = NULL;
        e = kn_rbuf_str(r, &item);
        if (e == KN_OK && item) e = kn_param_set(m->comp->params, m->params, item);
        kn_free(item);
    }
    if (e == KN_OK) e = kn_rbuf_str(r, &m->target);
    if (e == KN_OK && !m->target) e = kn_fail(KN_ERR_CORRUPT, "%s: no target name", r->what);
    if (e == KN_OK) e = read_names(r, "feature", &m->features, &m->p);
    if (e == KN_OK) e = read_names(r, "class", &m->classes, &m->n_classes);
    if (e == KN_OK && version >= 2) e = read_levels(r, m);
    size_t k = m ? m->n_classes : 0;
    const kn_model_vt *vt = m ? m->comp->vt : NULL;
    int classifies = e == KN_OK && kn_model_task(m) == KN_TASK_CLASSIFICATION;
    if (e == KN_OK && classifies != (k >= 2))
        e = kn_fail(KN_ERR_CORRUPT, "%s: %zu classes for a %s model", r->what, k,
                    classifies ? "classification" : "regression");
    if (e == KN_OK && version < 3) e = vt->load(m, r); /* the state ran to the end */
    if (e == KN_OK && version >= 3) e = load_framed_state(r, m);
    if (e == KN_OK && version >= 3) e = read_provenance(r, m);
    if (e == KN_OK && kn_rbuf_left(r))
        e = kn_fail(KN_ERR_CORRUPT, "%s: trailing bytes after the model", r->what);
    if (e != KN_OK) {
        kn_model_free(m);
        return e;
    }
    *out = m;
    return KN_OK;
}

kn_status kn_model_load(const char *path, kn_model **out)
{
    char *buf = NULL;
    kn_rbuf r;
    uint32_t version;
    kn_status e = kn_container_read(path, kmd_magic, "model file", KMD_VERSION, &buf, &r, &version);
    if (e == KN_OK) e = decode(&r, version, out);
    kn_free(buf);
    return e;
}

size_t kn_model_train_rows(const kn_model *m)
{
    return m->train_rows;
}

const char *kn_model_saved_by(const kn_model *m)
{
    return m->saved_by;
}

kn_status kn_model_record_metrics(kn_model *m, size_t rows, const char *const *names,
                                  const double *values, size_t n)
{
    if (!m->state) return kn_fail(KN_ERR_INVALID, "model '%s' is not fitted", m->comp->name);
    forget_metrics(m);
    m->metric_name = kn_calloc(n ? n : 1, sizeof *m->metric_name);
    m->metric_value = kn_calloc(n ? n : 1, sizeof *m->metric_value);
    kn_status e = m->metric_name && m->metric_value ? KN_OK : KN_ERR_NOMEM;
    for (size_t i = 0; e == KN_OK && i < n; i++) {
        m->metric_value[i] = values[i];
        m->n_metrics = i + 1;
        if (!(m->metric_name[i] = kn_strdup(names[i]))) e = KN_ERR_NOMEM;
    }
    if (e != KN_OK) {
        forget_metrics(m);
        return e;
    }
    m->metric_rows = rows;
    return KN_OK;
}

size_t kn_model_n_metrics(const kn_model *m)
{
    return m->n_metrics;
}

size_t kn_model_metric_rows(const kn_model *m)
{
    return m->metric_rows;
}

const char *kn_model_metric(const kn_model *m, size_t i, double *value)
{
    if (i >= m->n_metrics) return NULL;
    if (value) *value = m->metric_value[i];
    return m->metric_name[i];
}
