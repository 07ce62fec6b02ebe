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
#include <stdlib.h>
#include <string.h>

typedef struct target_params {
    kn_step_common common;
    char target[KN_PARAM_STR_MAX];
    int64_t folds;
    double smoothing;
    int64_t seed;
} target_params;

static const kn_param_def target_defs[] = {
    KN_STEP_COMMON_PARAMS_CATEGORICAL(target_params),
    KN_PARAM_STRING(target_params, target, "", "the numeric target column (required)"),
    KN_PARAM_INT(target_params, folds, "5", 2, 100, "folds of the out-of-fold training encoding"),
    KN_PARAM_DOUBLE(target_params, smoothing, "10", 0, 1e12,
                    "weight of the prior mean, in rows (0: plain category means)"),
    KN_PARAM_INT(target_params, seed, "0", 0, INT64_MAX, "seed of the fold shuffle"),
    KN_PARAM_END};

typedef struct target_column {
    size_t n; /* levels, sorted */
    char **level;
    double *enc; /* per level */
} target_column;

typedef struct target_state {
    size_t n;
    double prior;
    target_column *cols;
} target_state;

static void target_free(void *p)
{
    target_state *s = p;
    if (!s) return;
    for (size_t i = 0; i < s->n; i++) {
        for (size_t l = 0; l < s->cols[i].n; l++) kn_free(s->cols[i].level[l]);
        kn_free(s->cols[i].level);
        kn_free(s->cols[i].enc);
    }
    kn_free(s->cols);
    kn_free(s);
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static kn_status target_values(const kn_step *st, const kn_frame *x, const double **y)
{
    const target_params *p = kn_step_params(st);
    size_t j;
    if (!p->target[0])
        return kn_fail(KN_ERR_INVALID, "%s: name the target column (target=COLUMN)",
                       kn_step_name(st));
    if (kn_frame_find(x, p->target, &j) != KN_OK)
        return kn_fail_prefix(KN_ERR_NOT_FOUND, "%s: target: ", kn_step_name(st));
    kn_column *c = kn_frame_col(x, j);
    if (kn_column_type(c) != KN_COL_NUMERIC)
        return kn_fail(KN_ERR_TYPE,
                       "%s: target '%s' is %s; it must be numeric (0/1 for a binary "
                       "class)",
                       kn_step_name(st), p->target, kn_col_type_name(kn_column_type(c)));
    *y = kn_column_f64(c);
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
    kn_status e = target_values(st, x, &y);
    if (e != KN_OK) return e;
    size_t rows = kn_frame_n_rows(x), k = 0;
    double total = 0;
    for (size_t r = 0; r < rows; r++)
        if (!isnan(y[r])) {
            total += y[r];
            k++;
        }
    if (!k) return kn_fail(KN_ERR_INVALID, "%s: the target has no values", kn_step_name(st));
    target_state *s = kn_calloc(1, sizeof *s);
    if (!s || !(s->cols = kn_calloc(n ? n : 1, sizeof *s->cols))) {
        kn_free(s);
        return KN_ERR_NOMEM;
    }
    s->n = n;
    s->prior = total / (double)k;
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
        double *count = kn_malloc((2 * nl + 1) * sizeof *count);
        target_column *tc = &s->cols[i];
        tc->level = kn_calloc(nl + 1, sizeof *tc->level);
        tc->enc = kn_calloc(nl + 1, sizeof *tc->enc);
        if (!count || !tc->level || !tc->enc) {
            kn_free(count);
            e = KN_ERR_NOMEM;
            break;
        }
        level_stats(c, y, rows, count, count + nl, nl);
        /* levels seen with a target, sorted; encodings follow the same order */
        for (size_t l = 0; e == KN_OK && l < nl; l++) {
            if (!count[l]) continue;
            if (!(tc->level[tc->n] = kn_strdup(kn_column_level(c, (int32_t)l, NULL)))) {
                e = KN_ERR_NOMEM;
                break;
            }
            tc->enc[tc->n++] = smoothed(count[nl + l], count[l], s->prior, p->smoothing);
        }
        /* sort levels and encodings together: sort (level, enc) pairs by level */
        for (size_t a = 1; e == KN_OK && a < tc->n; a++)
            for (size_t b = a; b > 0 && strcmp(tc->level[b - 1], tc->level[b]) > 0; b--) {
                char *t = tc->level[b];
                tc->level[b] = tc->level[b - 1];
                tc->level[b - 1] = t;
                double v = tc->enc[b];
                tc->enc[b] = tc->enc[b - 1];
                tc->enc[b - 1] = v;
            }
        kn_free(count);
    }
    if (e != KN_OK) {
        target_free(s);
        return e;
    }
    kn_step_set_state(st, s);
    return KN_OK;
}

/* Replace column pos by the numeric values v (same name and role). */
static kn_status replace(kn_frame *out, size_t pos, double **v)
{
    kn_column *c = kn_frame_col(out, pos), *d;
    char *name = kn_strdup(kn_column_name(c));
    kn_role role = kn_column_role(c);
    kn_status e = name ? kn_frame_insert_column(out, pos + 1, "\x01kiln-target", KN_COL_NUMERIC, &d)
                       : KN_ERR_NOMEM;
    if (e == KN_OK) {
        kn_column_set_role(d, role);
        *v = kn_column_f64(d);
        e = kn_frame_remove_column(out, pos);
    }
    if (e == KN_OK) e = kn_frame_rename_column(out, pos, name);
    kn_free(name);
    return e;
}

static kn_status target_apply(const kn_step *st, kn_frame *out, const size_t *cols, size_t n)
{
    const target_state *s = kn_step_state(st);
    size_t rows = kn_frame_n_rows(out);
    for (size_t i = 0; i < n; i++) {
        const target_column *tc = &s->cols[i];
        kn_column *c = kn_frame_col(out, cols[i]);
        size_t nl = kn_column_n_levels(c);
        double *map = kn_malloc((nl + 1) * sizeof *map);
        if (!map) return KN_ERR_NOMEM;
        for (size_t l = 0; l < nl; l++) {
            const char *t = kn_column_level(c, (int32_t)l, NULL);
            char **hit = bsearch(&t, tc->level, tc->n, sizeof *tc->level, cmp_str);
            map[l] = hit ? tc->enc[hit - tc->level] : s->prior;
        }
        int32_t *code = kn_malloc((rows ? rows : 1) * sizeof *code);
        double *v;
        kn_status e = code ? KN_OK : KN_ERR_NOMEM;
        if (e == KN_OK) memcpy(code, kn_column_codes(c), rows * sizeof *code);
        if (e == KN_OK) e = replace(out, cols[i], &v);
        for (size_t r = 0; e == KN_OK && r < rows; r++)
            v[r] = code[r] < 0 ? s->prior : map[code[r]];
        kn_free(code);
        kn_free(map);
        if (e != KN_OK) return e;
    }
    return KN_OK;
}

/* Training output: each row encoded from the other folds' rows. */
static kn_status target_fit_transform(const kn_step *st, const kn_frame *x, kn_frame *out,
                                      const size_t *cols, size_t n)
{
    const target_params *p = kn_step_params(st);
    const double *y;
    kn_status e = target_values(st, x, &y);
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
        e = replace(out, cols[i], &v);
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
    return e;
}

static kn_status target_save(const kn_step *st, kn_wbuf *w)
{
    const target_state *s = kn_step_state(st);
    kn_wbuf_u64(w, s->n);
    kn_wbuf_f64(w, s->prior);
    for (size_t i = 0; i < s->n; i++) {
        kn_wbuf_u64(w, s->cols[i].n);
        for (size_t l = 0; l < s->cols[i].n; l++) kn_wbuf_str(w, s->cols[i].level[l]);
        kn_wbuf_f64s(w, s->cols[i].enc, s->cols[i].n);
    }
    return KN_OK;
}

static kn_status target_load(kn_step *st, kn_rbuf *r, size_t n)
{
    kn_status e = kn__state_count(r, n, "target_encoder");
    if (e != KN_OK) return e;
    target_state *s = kn_calloc(1, sizeof *s);
    if (!s || !(s->cols = kn_calloc(n ? n : 1, sizeof *s->cols))) {
        kn_free(s);
        return KN_ERR_NOMEM;
    }
    s->n = n;
    e = kn_rbuf_f64(r, &s->prior);
    for (size_t i = 0; i < n && e == KN_OK; i++) {
        target_column *tc = &s->cols[i];
        size_t count = 0;
        e = kn_rbuf_count(r, 8, &count);
        if (e == KN_OK && !(tc->level = kn_calloc(count + 1, sizeof *tc->level))) e = KN_ERR_NOMEM;
        for (size_t l = 0; l < count && e == KN_OK; l++) {
            e = kn_rbuf_str(r, &tc->level[l]);
            if (e != KN_OK) break;
            tc->n = l + 1;
            if (!tc->level[l] || (l && strcmp(tc->level[l - 1], tc->level[l]) >= 0))
                e = kn_fail(KN_ERR_CORRUPT, "%s: target encoder levels out of order", r->what);
        }
        if (e == KN_OK) e = kn__decode_f64s(r, tc->n, &tc->enc);
    }
    if (e != KN_OK) {
        target_free(s);
        return e;
    }
    kn_step_set_state(st, s);
    return KN_OK;
}

static const kn_step_vt target_vt = {
    KN_COL_CATEGORICAL, target_fit, target_apply,        target_free, target_save,
    target_load,        0,          target_fit_transform};

const kn_component kn__target_encoder = {
    KN_COMP_STEP,
    "target_encoder",
    "smoothed target mean per category, out of fold on the training data",
    target_defs,
    sizeof(target_params),
    &target_vt};
