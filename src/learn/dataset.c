/* Frames to the design matrix models fit on (kn_dataset, kiln/model.h):
 * feature selection, numeric checks, class indices of the target,
 * categorical features as level indices. */
#include "kiln/mem.h"
#include "learn/learn-impl.h"
#include "data/text_numbers-impl.h"
#include "learn/model-impl.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void kn__free_levels(size_t *n_levels, char ***levels, size_t p)
{
    for (size_t j = 0; levels && j < p; j++) {
        for (size_t l = 0; levels[j] && l < n_levels[j]; l++) kn_free(levels[j][l]);
        kn_free(levels[j]);
    }
    kn_free(levels);
    kn_free(n_levels);
}

void kn_dataset_free(kn_dataset *d)
{
    if (!d) return;
    kn_free(d->x);
    kn_free(d->col);
    kn__free_levels(d->n_levels, d->levels, d->p);
    kn_free(d->level_x);
    kn_free(d->y);
    kn_free(d->w);
    for (size_t j = 0; j < d->p; j++) kn_free(d->names[j]);
    kn_free(d->names);
    for (size_t c = 0; c < d->n_classes; c++) kn_free(d->classes[c]);
    kn_free(d->classes);
    kn_free(d);
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
                                 "the step simple_imputer)",
                                 what, name, i + 1);
        else if (isinf(v[i]))
            return kn_fail(KN_ERR_INVALID,
                           "%s '%s', row %zu is %s; models take finite numbers: correct it at "
                           "its source, or clip it with the step "
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
                       "or give it the id role, or make it a number (rounded) with the step "
                       "'coerce:columns=%s;to=numeric'",
                       what, kn_column_name(c), kn_column_name(c));
    if (kn_column_type(c) == KN_COL_TIMESTAMP && !strcmp(what, "feature"))
        return kn_fail(KN_ERR_TYPE,
                       "feature '%s' is a timestamp; models take numeric columns: turn it into "
                       "calendar features with the step 'datetime_features:columns=%s;keep=false' "
                       "(before the model, or in each fold of a cross-validation), or leave it "
                       "out with the ignore role for %s",
                       kn_column_name(c), kn_column_name(c), kn_column_name(c));
    kn__text_numbers tn;
    if (kn_column_type(c) != KN_COL_NUMERIC && kn__text_numbers_scan(c, n, &tn) && !tn.times &&
        !tn.others)
        return kn_fail(KN_ERR_TYPE,
                       "%s '%s' is %s, though its %llu values here are all numbers: declared so, "
                       "or read as text for a value elsewhere in the file that is not a number "
                       "('kiln describe FILE' names it); read that value as missing (--missing) "
                       "or correct it, or encode the column (e.g. the step onehot_encoder)",
                       what, kn_column_name(c), kn_col_type_name(kn_column_type(c)),
                       (unsigned long long)tn.cells);
    if (kn_column_type(c) != KN_COL_NUMERIC && kn__text_numbers_scan(c, n, &tn) && !tn.times) {
        char said[256], miss[256];
        return kn_fail(KN_ERR_TYPE,
                       "%s '%s' is %s only because %llu of its %llu values %s not a number: %s. "
                       "A missing-value marker? Read it as missing (--missing '%s', or in a "
                       "spec read: {missing: ...}); else correct the cell%s",
                       what, kn_column_name(c), kn_col_type_name(kn_column_type(c)),
                       (unsigned long long)tn.others, (unsigned long long)tn.cells,
                       tn.others == 1 ? "is" : "are", kn__text_numbers_say(&tn, said, sizeof said),
                       kn__text_numbers_missing(&tn, miss, sizeof miss), tn.others == 1 ? "" : "s");
    }
    /* text with too many distinct values to be a category: onehot_encoder
     * (categorical columns only) would pass it by and this error come back */
    if (kn_column_type(c) == KN_COL_STRING && !strcmp(what, "feature"))
        return kn_fail(KN_ERR_TYPE,
                       "feature '%s' is string (text with too many distinct values to be a "
                       "category, so onehot_encoder passes it by); models take numeric columns: "
                       "leave it out with the ignore role for %s; if its values are codes that "
                       "repeat (IDs, postcodes), hash them (e.g. the step "
                       "hashing_encoder:columns=%s); free text needs numeric features made "
                       "before Kiln (it has no bag-of-words or TF-IDF step)",
                       kn_column_name(c), kn_column_name(c), kn_column_name(c));
    if (kn_column_type(c) != KN_COL_NUMERIC)
        return kn_fail(KN_ERR_TYPE,
                       "%s '%s' is %s; models take numeric columns (encode categories first, "
                       "e.g. the step onehot_encoder)",
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
kn_status kn__build_dataset(const kn_frame *f, const char *target, const char *weight,
                            const char *const *names, size_t n_names, kn_task task, unsigned flags,
                            const kn_model *fitted, kn_dataset **out)
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
        char hint[160];
        if (kn_frame_find(f, target, &jt) != KN_OK)
            e = kn_fail(KN_ERR_NOT_FOUND, "target column '%s' is not in the data%s", target,
                        kn_frame_did_you_mean(f, target, hint, sizeof hint));
        else if (!(d->y = kn_malloc((n ? n : 1) * sizeof *d->y)))
            e = KN_ERR_NOMEM;
        else if (task == KN_TASK_CLASSIFICATION)
            e = classes_of(kn_frame_col(f, jt), n, d);
        else
            e = take_numeric(kn_frame_col(f, jt), n, "target", 0, d->y);
    }
    if (e == KN_OK && weight) {
        char hint[160];
        if (kn_frame_find(f, weight, &jt) != KN_OK)
            e = kn_fail(KN_ERR_NOT_FOUND, "weight column '%s' is not in the data%s", weight,
                        kn_frame_did_you_mean(f, weight, hint, sizeof hint));
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
    return kn__build_dataset(f, target, weight, names, n_names, task, 0, NULL, out);
}
