/* target_encoder: replaces each category by a smoothed mean of the target
 * over the rows with that category,
 *     enc(level) = (sum of target + smoothing * prior) / (count + smoothing)
 * where prior is the target's mean; unknown levels and missing cells get the
 * prior. On the training data itself (kn_step_fit_transform, which `kiln prep`
 * uses) the encoding is out of fold: rows are dealt into `folds` folds by a
 * seeded shuffle and each row is encoded with the statistics of the other
 * folds only, so a row's own target never leaks into its feature. New data
 * (transform) gets the encodings of all training rows. The target must be
 * numeric (0/1 for a binary class). */
#include "kiln/mem.h"
#include "kiln/rng.h"
#include "kiln/step.h"
#include "prep/prep-impl.h"

#include <math.h>
#include <string.h>

typedef struct target_params {
    kn_step_common common;
    const char *target;
    int64_t folds;
    double smoothing;
    int64_t seed;
} target_params;

static const kn_param_def target_defs[] = {
    KN_STEP_COMMON_PARAMS_CATEGORICAL(target_params),
    KN_PARAM_STRING(target_params, target, "",
                    "the target column: numeric, or two classes (1 for the one that sorts last; "
                    "default: the data's target column)"),
    KN_PARAM_INT(target_params, folds, "5", 2, 100, "folds of the out-of-fold training encoding"),
    KN_PARAM_DOUBLE(target_params, smoothing, "10", 0, 1e12,
                    "weight of the prior mean, in rows (0: plain category means)"),
    KN_PARAM_INT(target_params, seed, "0", 0, 1e15, "seed of the fold shuffle"),
    KN_PARAM_END};

/* The target as numbers: a numeric column as it is; a categorical one with
 * two classes as 1 for the class that sorts last (the positive class, as
 * scikit-learn's classes_[1]) and 0 for the other, into *owned (the
 * caller frees it). */
static kn_status target_values(const kn_step *st, const kn_frame *x, const double **y,
                               double **owned)
{
    const target_params *p = kn_step_params(st);
    size_t j = kn_frame_n_cols(x);
    *owned = NULL;
    if (!p->target[0]) { /* the frame's target (kiln prep --target) */
        for (j = 0; j < kn_frame_n_cols(x); j++)
            if (kn_column_role(kn_frame_col(x, j)) == KN_ROLE_TARGET) break;
        if (j == kn_frame_n_cols(x))
            return kn_fail(KN_ERR_INVALID,
                           "%s: name the target column (target=COLUMN, or reader option "
                           "target=COLUMN)",
                           kn_step_name(st));
    } else if (kn_frame_find(x, p->target, &j) != KN_OK)
        return kn_fail_prefix(KN_ERR_NOT_FOUND, "%s: target: ", kn_step_name(st));
    kn_column *c = kn_frame_col(x, j);
    if (kn_column_type(c) == KN_COL_NUMERIC) {
        *y = kn_column_f64(c);
        return KN_OK;
    }
    size_t rows = kn_frame_n_rows(x),
           nl = kn_column_type(c) == KN_COL_CATEGORICAL ? kn_column_n_levels(c) : 0;
    const int32_t *code = nl ? kn_column_codes(c) : NULL;
    /* the classes present (a fold may hold fewer levels than the dictionary) */
    int32_t cls[2] = {-1, -1};
    size_t k = 0;
    for (size_t r = 0; code && r < rows && k <= 2; r++)
        if (code[r] >= 0 && code[r] != cls[0] && (k < 2 || code[r] != cls[1])) {
            if (k < 2) cls[k] = code[r];
            k++;
        }
    if (!nl || k > 2)
        return kn_fail(KN_ERR_TYPE,
                       "%s: target '%s' is %s%s; it must be numeric or have two classes (for "
                       "more classes, encode one class against the rest: a 0/1 column as "
                       "target=COLUMN)",
                       kn_step_name(st), kn_column_name(c), kn_col_type_name(kn_column_type(c)),
                       k > 2 ? " with more than two classes" : "");
    int32_t positive = cls[0];
    if (k == 2 && strcmp(kn_column_level(c, cls[1], NULL), kn_column_level(c, cls[0], NULL)) > 0)
        positive = cls[1];
    double *v = kn_malloc((rows ? rows : 1) * sizeof *v);
    if (!v) return KN_ERR_NOMEM;
    for (size_t r = 0; r < rows; r++) v[r] = code[r] < 0 ? NAN : code[r] == positive ? 1.0 : 0.0;
    *y = *owned = v;
    return KN_OK;
}

static double smoothed(double sum, double count, double prior, double m)
{
    return count + m > 0 ? (sum + m * prior) / (count + m) : prior;
}

/* Per code of c: count and target sum over the rows with a target. */
static void level_stats(kn_column *c, const double *y, size_t rows, double *count, double *sum,
                        size_t n_levels)
{
    memset(count, 0, n_levels * sizeof *count);
    memset(sum, 0, n_levels * sizeof *sum);
    const int32_t *code = kn_column_codes(c);
    for (size_t r = 0; r < rows; r++) {
        if (code[r] < 0 || isnan(y[r])) continue;
        count[code[r]]++;
        sum[code[r]] += y[r];
    }
}

static kn_status target_fit(kn_step *st, const kn_frame *x, const size_t *cols, size_t n)
{
    const target_params *p = kn_step_params(st);
    const double *y;
    double *owned;
    kn_status e = target_values(st, x, &y, &owned);
    if (e != KN_OK) return e;
    size_t rows = kn_frame_n_rows(x), k = 0;
    double total = 0;
    for (size_t r = 0; r < rows; r++)
        if (!isnan(y[r])) {
            total += y[r];
            k++;
        }
    kn__lv_state *s = NULL;
    if (!k) e = kn_fail(KN_ERR_INVALID, "%s: the target has no values", kn_step_name(st));
    double prior = k ? total / (double)k : 0;
    if (e == KN_OK && !(s = kn__lv_new(n, prior, prior))) /* unknown, missing: the prior */
        e = KN_ERR_NOMEM;
    for (size_t i = 0; i < n && e == KN_OK; i++) {
        kn_column *c = kn_frame_col(x, cols[i]);
        if (kn_column_type(c) != KN_COL_CATEGORICAL || !strcmp(kn_column_name(c), p->target)) {
            e = kn_fail(KN_ERR_TYPE, "%s: column '%s' is %s; it encodes categorical features",
                        kn_step_name(st), kn_column_name(c),
                        !strcmp(kn_column_name(c), p->target)
                            ? "the target"
                            : kn_col_type_name(kn_column_type(c)));
            break;
        }
        size_t nl = kn_column_n_levels(c);
        double *count = kn_malloc((3 * nl + 1) * sizeof *count), *sum = count + nl;
        if (!count) {
            e = KN_ERR_NOMEM;
            break;
        }
        double *enc = sum + nl;
        level_stats(c, y, rows, count, sum, nl);
        for (size_t l = 0; l < nl; l++) enc[l] = smoothed(sum[l], count[l], prior, p->smoothing);
        e = kn__lv_set(&s->cols[i], c, enc, count); /* levels seen with a target */
        kn_free(count);
    }
    kn_free(owned);
    if (e != KN_OK) {
        kn__lv_free(s);
        return e;
    }
    kn_step_set_state(st, s);
    return KN_OK;
}

/* Training output: each row encoded from the other folds' rows. */
static kn_status target_fit_transform(const kn_step *st, const kn_frame *x, kn_frame *out,
                                      const size_t *cols, size_t n)
{
    const target_params *p = kn_step_params(st);
    const double *y;
    double *owned;
    kn_status e = target_values(st, x, &y, &owned);
    if (e != KN_OK) return e;
    size_t rows = kn_frame_n_rows(x), k = (size_t)p->folds;
    int *fold = kn_malloc((rows ? rows : 1) * sizeof *fold);
    size_t *perm = kn_malloc((rows ? rows : 1) * sizeof *perm);
    double *fsum = kn_calloc(k, sizeof *fsum), *fcount = kn_calloc(k, sizeof *fcount);
    if (!fold || !perm || !fsum || !fcount) e = KN_ERR_NOMEM;
    kn_rng rng;
    kn_rng_init(&rng, (uint64_t)p->seed);
    for (size_t r = 0; e == KN_OK && r < rows; r++) perm[r] = r;
    for (size_t r = rows; e == KN_OK && r > 1; r--) { /* Fisher-Yates */
        size_t j = (size_t)kn_rng_below(&rng, r);
        size_t t = perm[r - 1];
        perm[r - 1] = perm[j];
        perm[j] = t;
    }
    for (size_t r = 0; e == KN_OK && r < rows; r++) fold[perm[r]] = (int)(r % k);
    double total = 0, count = 0;
    for (size_t r = 0; e == KN_OK && r < rows; r++)
        if (!isnan(y[r])) {
            fsum[fold[r]] += y[r];
            fcount[fold[r]]++;
            total += y[r];
            count++;
        }
    for (size_t i = 0; i < n && e == KN_OK; i++) {
        kn_column *c = kn_frame_col(x, cols[i]);
        size_t nl = kn_column_n_levels(c);
        double *all = kn_malloc((4 * nl + 1) * sizeof *all), *v = NULL;
        if (!all) {
            e = KN_ERR_NOMEM;
            break;
        }
        double *acount = all, *asum = all + nl, *fc = all + 2 * nl, *fs = all + 3 * nl;
        level_stats(c, y, rows, acount, asum, nl);
        e = kn__lv_replace(out, cols[i], &v);
        for (size_t f = 0; e == KN_OK && f < k; f++) {
            /* the other folds' statistics: everything minus this fold */
            memset(fc, 0, nl * sizeof *fc);
            memset(fs, 0, nl * sizeof *fs);
            const int32_t *code = kn_column_codes(c);
            for (size_t r = 0; r < rows; r++)
                if (fold[r] == (int)f && code[r] >= 0 && !isnan(y[r])) {
                    fc[code[r]]++;
                    fs[code[r]] += y[r];
                }
            double rest = count - fcount[f];
            double prior = rest > 0 ? (total - fsum[f]) / rest : total / count;
            for (size_t r = 0; r < rows; r++) {
                if (fold[r] != (int)f) continue;
                int32_t l = code[r];
                v[r] = l < 0 ? prior
                             : smoothed(asum[l] - fs[l], acount[l] - fc[l], prior, p->smoothing);
            }
        }
        kn_free(all);
    }
    kn_free(fold);
    kn_free(perm);
    kn_free(fsum);
    kn_free(fcount);
    kn_free(owned);
    return e;
}

static const kn_step_vt target_vt = {.default_type = KN_COL_CATEGORICAL,
                                     .fit = target_fit,
                                     .transform = kn__lv_apply,
                                     .free_state = kn__lv_free,
                                     .save = kn__lv_save,
                                     .load = kn__lv_load,
                                     .fit_transform = target_fit_transform};

const kn_component kn__target_encoder = {
    KN_COMP_STEP,
    "target_encoder",
    "smoothed target mean per category, out of fold on the training data",
    target_defs,
    sizeof(target_params),
    &target_vt};
