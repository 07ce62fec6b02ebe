/* Resampling steps' shared pieces (resample.h) and the random samplers:
 *
 * random_over_sampler: every row is kept; each class the strategy names
 * gains rows drawn with replacement from its own rows until it has the
 * wanted count (imbalanced-learn's RandomOverSampler). The copies follow
 * the original rows, class by class.
 * random_under_sampler: each class the strategy names keeps the wanted
 * count of its rows, drawn without replacement (RandomUnderSampler); rows
 * stay in their original order.
 *
 * Draws come from the stream (seed, class index), so a class's draw does
 * not depend on the others. */
#include "learn/resample/resample.h"
#include "learn/neighbors/kdtree.h"
#include "prep/prep-impl.h"
#include "kiln/mem.h"
#include "kiln/rng.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void kn__rs_data_free(kn__rs_data *d)
{
    for (size_t c = 0; d->label && c < d->k; c++) kn_free(d->label[c]);
    kn_free(d->label);
    kn_free(d->y);
    kn_free(d->count);
    kn_free(d->x);
    memset(d, 0, sizeof *d);
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

typedef struct level_ref {
    const char *s;
    int32_t code;
} level_ref;

static int cmp_level(const void *a, const void *b)
{
    return strcmp(((const level_ref *)a)->s, ((const level_ref *)b)->s);
}

/* Classes of a numeric target: its distinct values, sorted. */
static kn_status numeric_classes(kn__rs_data *d, kn_column *c)
{
    const double *v = kn_column_f64(c);
    double *u = kn_malloc((d->n ? d->n : 1) * sizeof *u);
    if (!u) return KN_ERR_NOMEM;
    for (size_t i = 0; i < d->n; i++) {
        if (isnan(v[i]) || v[i] != floor(v[i])) {
            kn_free(u);
            if (isnan(v[i]))
                return kn_fail(KN_ERR_INVALID,
                               "%s: the target '%s' is missing at row %zu; drop those rows first",
                               d->step, kn_column_name(c), i + 1);
            return kn_fail(KN_ERR_INVALID,
                           "%s: the target '%s' holds %.15g at row %zu, not a class label: "
                           "resampling balances classes and needs a class target (a regression "
                           "target cannot be resampled)",
                           d->step, kn_column_name(c), v[i], i + 1);
        }
        u[i] = v[i];
    }
    qsort(u, d->n, sizeof *u, cmp_double);
    size_t k = 0;
    for (size_t i = 0; i < d->n; i++)
        if (!k || u[i] != u[k - 1]) u[k++] = u[i];
    d->k = k;
    d->label = kn_calloc(k ? k : 1, sizeof *d->label);
    kn_status e = d->label ? KN_OK : KN_ERR_NOMEM;
    for (size_t j = 0; e == KN_OK && j < k; j++) {
        char buf[40];
        snprintf(buf, sizeof buf, "%.17g", u[j]);
        if (!(d->label[j] = kn_strdup(buf))) e = KN_ERR_NOMEM;
    }
    for (size_t i = 0; e == KN_OK && i < d->n; i++) {
        const double *hit = bsearch(&v[i], u, k, sizeof *u, cmp_double);
        d->y[i] = (int32_t)(hit - u);
    }
    kn_free(u);
    return e;
}

/* Classes of a categorical target: its levels present, sorted by name. */
static kn_status level_classes(kn__rs_data *d, kn_column *c)
{
    const int32_t *code = kn_column_codes(c);
    size_t nl = kn_column_n_levels(c);
    int32_t *map = kn_malloc((nl ? nl : 1) * sizeof *map);
    level_ref *ref = kn_malloc((nl ? nl : 1) * sizeof *ref);
    kn_status e = map && ref ? KN_OK : KN_ERR_NOMEM;
    for (size_t l = 0; e == KN_OK && l < nl; l++) map[l] = -1;
    for (size_t i = 0; e == KN_OK && i < d->n; i++) {
        if (code[i] < 0)
            e = kn_fail(KN_ERR_INVALID,
                        "%s: the target '%s' is missing at row %zu; drop those rows first", d->step,
                        kn_column_name(c), i + 1);
        else
            map[code[i]] = 0;
    }
    size_t k = 0;
    for (size_t l = 0; e == KN_OK && l < nl; l++)
        if (map[l] == 0) ref[k++] = (level_ref){kn_column_level(c, (int32_t)l, NULL), (int32_t)l};
    if (e == KN_OK) qsort(ref, k, sizeof *ref, cmp_level);
    d->k = k;
    if (e == KN_OK && !(d->label = kn_calloc(k ? k : 1, sizeof *d->label))) e = KN_ERR_NOMEM;
    for (size_t j = 0; e == KN_OK && j < k; j++) {
        map[ref[j].code] = (int32_t)j;
        if (!(d->label[j] = kn_strdup(ref[j].s))) e = KN_ERR_NOMEM;
    }
    for (size_t i = 0; e == KN_OK && i < d->n; i++) d->y[i] = map[code[i]];
    kn_free(map);
    kn_free(ref);
    return e;
}

kn_status kn__rs_data_read(const kn_step *s, const kn_frame *x, const size_t *cols, size_t n_cols,
                           int features, kn__rs_data *d)
{
    memset(d, 0, sizeof *d);
    d->step = kn_step_name(s);
    d->n = kn_frame_n_rows(x);
    size_t t = 0, nc = kn_frame_n_cols(x);
    while (t < nc && kn_column_role(kn_frame_col(x, t)) != KN_ROLE_TARGET) t++;
    if (t == nc)
        return kn_fail(KN_ERR_INVALID,
                       "%s: resampling needs the target column (kiln prep --target COLUMN, or "
                       "a pipeline's target)",
                       d->step);
    kn_column *tc = kn_frame_col(x, t);
    if (kn_column_type(tc) != KN_COL_NUMERIC && kn_column_type(tc) != KN_COL_CATEGORICAL)
        return kn_fail(KN_ERR_TYPE, "%s: the target '%s' is %s; resampling needs class labels",
                       d->step, kn_column_name(tc), kn_col_type_name(kn_column_type(tc)));
    d->y = kn_malloc((d->n ? d->n : 1) * sizeof *d->y);
    if (!d->y) return KN_ERR_NOMEM;
    kn_status e =
        kn_column_type(tc) == KN_COL_NUMERIC ? numeric_classes(d, tc) : level_classes(d, tc);
    if (e == KN_OK && d->k < 2)
        e = kn_fail(KN_ERR_INVALID,
                    "%s: the target '%s' holds %zu class%s; resampling needs two "
                    "or more",
                    d->step, kn_column_name(tc), d->k, d->k == 1 ? "" : "es");
    if (e == KN_OK && !(d->count = kn_calloc(d->k, sizeof *d->count))) e = KN_ERR_NOMEM;
    for (size_t i = 0; e == KN_OK && i < d->n; i++) d->count[d->y[i]]++;
    if (e == KN_OK && features) {
        d->p = n_cols;
        if (!n_cols)
            e = kn_fail(KN_ERR_INVALID,
                        "%s: no numeric feature columns to measure distances on (encode "
                        "categorical ones first, e.g. the step onehot_encoder)",
                        d->step);
        else if (!(d->x = kn_malloc(d->n * n_cols * sizeof *d->x)))
            e = KN_ERR_NOMEM;
    }
    for (size_t j = 0; e == KN_OK && d->x && j < n_cols; j++) {
        kn_column *c = kn_frame_col(x, cols[j]);
        if (kn_column_type(c) != KN_COL_NUMERIC) {
            e = kn_fail(KN_ERR_TYPE,
                        "%s: column '%s' is %s; distances take numeric columns (smote_nc takes "
                        "categorical features by itself; encode others first)",
                        d->step, kn_column_name(c), kn_col_type_name(kn_column_type(c)));
            break;
        }
        const double *v = kn_column_f64(c);
        for (size_t i = 0; e == KN_OK && i < d->n; i++) {
            if (isnan(v[i]))
                e = kn_fail(KN_ERR_INVALID,
                            "%s: column '%s' is missing at row %zu; distances need every value "
                            "(put an imputer step, e.g. simple_imputer, before it)",
                            d->step, kn_column_name(c), i + 1);
            d->x[i * n_cols + j] = v[i];
        }
    }
    if (e != KN_OK) kn__rs_data_free(d);
    return e;
}

static size_t majority(const kn__rs_data *d)
{
    size_t best = 0;
    for (size_t c = 1; c < d->k; c++)
        if (d->count[c] > d->count[best]) best = c;
    return best;
}

static size_t minority(const kn__rs_data *d)
{
    size_t best = 0;
    for (size_t c = 1; c < d->k; c++)
        if (d->count[c] < d->count[best]) best = c;
    return best;
}

/* Explicit counts "label:count,...": every label a class of the target. */
static kn_status explicit_counts(const kn__rs_data *d, const char *spec, int kind, int64_t *want)
{
    const char *p = spec;
    while (*p) {
        const char *comma = strchr(p, ','), *end = comma ? comma : p + strlen(p);
        const char *colon = memchr(p, ':', (size_t)(end - p));
        char *stop = NULL;
        long long v = colon ? strtoll(colon + 1, &stop, 10) : -1;
        if (!colon || stop != end || v < 0)
            return kn_fail(KN_ERR_INVALID,
                           "%s: sampling_strategy '%s': write label:count pairs separated by "
                           "commas (yes:500,no:500)",
                           d->step, spec);
        size_t len = (size_t)(colon - p), c = 0;
        while (c < d->k && (strlen(d->label[c]) != len || strncmp(d->label[c], p, len))) c++;
        if (c == d->k)
            return kn_fail(KN_ERR_INVALID,
                           "%s: sampling_strategy names class '%.*s', which the target does not "
                           "hold (its classes: %s, %s%s)",
                           d->step, (int)len, p, d->label[0], d->label[1], d->k > 2 ? ", ..." : "");
        if (kind == KN__RS_OVER && (size_t)v < d->count[c])
            return kn_fail(KN_ERR_INVALID,
                           "%s: sampling_strategy asks %lld rows of class '%s', which has %zu: "
                           "over-sampling only adds rows",
                           d->step, v, d->label[c], d->count[c]);
        if (kind == KN__RS_UNDER && (size_t)v > d->count[c])
            return kn_fail(KN_ERR_INVALID,
                           "%s: sampling_strategy asks %lld rows of class '%s', which has %zu: "
                           "under-sampling only removes rows",
                           d->step, v, d->label[c], d->count[c]);
        want[c] = v;
        p = comma ? comma + 1 : end;
    }
    return KN_OK;
}

kn_status kn__rs_targets(const kn__rs_data *d, const char *strategy, int kind, int64_t *want)
{
    size_t big = majority(d), small = minority(d), k = d->k;
    for (size_t c = 0; c < k; c++) want[c] = -1;
    if (strchr(strategy, ':')) {
        if (kind == KN__RS_CLEAN)
            return kn_fail(KN_ERR_INVALID,
                           "%s: sampling_strategy: a cleaning step takes auto, majority, "
                           "not_minority, not_majority or all, not counts",
                           d->step);
        return explicit_counts(d, strategy, kind, want);
    }
    char *end = NULL;
    double ratio = strtod(strategy, &end);
    if (*strategy && !*end) {
        if (kind != KN__RS_CLEAN && k == 2 && !(ratio > 0 && ratio <= 1))
            return kn_fail(KN_ERR_INVALID,
                           "%s: sampling_strategy=%s: a ratio (minority rows over majority "
                           "rows after resampling) must lie in (0, 1], e.g. 0.5",
                           d->step, strategy);
        if (kind == KN__RS_CLEAN || k != 2 || !(ratio > 0 && ratio <= 1))
            return kn_fail(KN_ERR_INVALID,
                           "%s: sampling_strategy=%s: a ratio must lie in (0, 1] and needs two "
                           "classes (this target has %zu)%s",
                           d->step, strategy, k,
                           kind == KN__RS_CLEAN ? "; a cleaning step takes no ratio" : "");
        if (kind == KN__RS_OVER) {
            double n = floor((double)d->count[big] * ratio);
            if (n < (double)d->count[small])
                return kn_fail(KN_ERR_INVALID,
                               "%s: sampling_strategy=%s asks fewer minority rows (%.0f) than "
                               "there are (%zu): over-sampling only adds rows",
                               d->step, strategy, n, d->count[small]);
            want[small] = (int64_t)n;
        } else {
            double n = floor((double)d->count[small] / ratio);
            if (n > (double)d->count[big]) n = (double)d->count[big];
            want[big] = (int64_t)n;
        }
        return KN_OK;
    }
    int take_big = 0, take_small = 0, take_other = 0;
    if (!strcmp(strategy, "auto"))
        take_big = kind != KN__RS_OVER, take_small = kind == KN__RS_OVER, take_other = 1;
    else if (!strcmp(strategy, "minority"))
        take_small = 1;
    else if (!strcmp(strategy, "majority"))
        take_big = 1;
    else if (!strcmp(strategy, "not_minority"))
        take_big = take_other = 1;
    else if (!strcmp(strategy, "not_majority"))
        take_small = take_other = 1;
    else if (!strcmp(strategy, "all"))
        take_big = take_small = take_other = 1;
    else
        return kn_fail(KN_ERR_INVALID,
                       "%s: sampling_strategy '%s': give auto, minority, majority, not_minority, "
                       "not_majority, all, a ratio in (0, 1] or label:count pairs",
                       d->step, strategy);
    /* a strategy that names only the class the step cannot change would
     * leave every row as it is: refused, as imbalanced-learn refuses it */
    if (kind != KN__RS_CLEAN && !take_other &&
        (kind == KN__RS_OVER ? take_big && !take_small : take_small && !take_big))
        return kn_fail(KN_ERR_INVALID, "%s: sampling_strategy=%s would change no row (%s); give %s",
                       d->step, strategy,
                       kind == KN__RS_OVER
                           ? "over-sampling grows classes to the majority's count"
                           : "under-sampling shrinks classes to the minority's count",
                       kind == KN__RS_OVER ? "minority, not_majority, all or auto"
                                           : "majority, not_minority, all or auto");
    int64_t n = kind == KN__RS_OVER    ? (int64_t)d->count[big]
                : kind == KN__RS_UNDER ? (int64_t)d->count[small]
                                       : 0;
    for (size_t c = 0; c < k; c++)
        if (c == big ? take_big : c == small ? take_small : take_other) want[c] = n;
    return KN_OK;
}

kn_status kn__rs_build(const kn_frame *x, const size_t *idx, size_t m, const size_t *cols, size_t p,
                       const size_t *base, const double *syn, size_t n_new, const size_t *cat_cols,
                       size_t n_cat, const int32_t *cat_codes, kn_frame **out)
{
    size_t *all = kn_malloc((m + n_new ? m + n_new : 1) * sizeof *all);
    if (!all) return KN_ERR_NOMEM;
    if (m) memcpy(all, idx, m * sizeof *all);
    if (n_new) memcpy(all + m, base, n_new * sizeof *all);
    kn_frame *f = NULL;
    kn_status e = kn_frame_select_rows(x, all, m + n_new, &f);
    kn_free(all);
    if (e != KN_OK) return e;
    for (size_t j = 0; j < p && n_new; j++) {
        double *v = kn_column_f64(kn_frame_col(f, cols[j]));
        for (size_t r = 0; r < n_new; r++) v[m + r] = syn[r * p + j];
    }
    for (size_t j = 0; j < n_cat && n_new; j++) {
        int32_t *code = kn_column_codes(kn_frame_col(f, cat_cols[j]));
        for (size_t r = 0; r < n_new; r++) code[m + r] = cat_codes[r * n_cat + j];
    }
    *out = f;
    return KN_OK;
}

kn_status kn__rs_neighbours(const double *points, size_t n_points, size_t p, const double *q,
                            size_t m, const size_t *self, size_t k, size_t *nb)
{
    size_t kk = k + (self ? 1 : 0);
    if (kk > n_points) return kn_fail(KN_ERR_INTERNAL, "neighbours: k %zu > %zu", kk, n_points);
    kn__kdtree t = {0};
    size_t *idx = kn_malloc((m * kk > 0 ? m * kk : 1) * sizeof *idx);
    double *dist = kn_malloc((m * kk > 0 ? m * kk : 1) * sizeof *dist);
    /* the tree up to KN__KDTREE_MAX_DIM features, brute force (BLAS) beyond:
     * the same neighbours, found faster */
    int tree = p <= KN__KDTREE_MAX_DIM;
    kn_status e = idx && dist ? KN_OK : KN_ERR_NOMEM;
    if (e == KN_OK && tree) e = kn__kdtree_build(&t, points, n_points, p, 30);
    if (e == KN_OK)
        e = kn__knn_query(tree ? &t : NULL, points, n_points, p, KN_DIST_EUCLIDEAN, q, m, kk, idx,
                          dist);
    for (size_t i = 0; e == KN_OK && i < m; i++) {
        size_t o = 0;
        int skipped = !self;
        for (size_t j = 0; j < kk; j++) {
            size_t at = idx[i * kk + j];
            if (!skipped && at == self[i]) { /* the query itself, once */
                skipped = 1;
                continue;
            }
            if (o < k) nb[i * k + o++] = at;
        }
    }
    kn__kdtree_free(&t);
    kn_free(idx);
    kn_free(dist);
    return e;
}

kn_status kn__rs_fit(kn_step *s, const kn_frame *x, const size_t *cols, size_t n)
{
    (void)x, (void)cols, (void)n;
    return kn__mark_fitted(s); /* all the work is in resample, on the training rows */
}

kn_status kn__rs_identity(const kn_step *s, kn_frame *out, const size_t *cols, size_t n)
{
    (void)s, (void)out, (void)cols, (void)n;
    return KN_OK;
}

kn_status kn__rs_identity_row(const kn_step *s, kn_step_row *row, const size_t *cols, size_t n)
{
    (void)s, (void)row, (void)cols, (void)n;
    return KN_OK;
}

/* ---- random over- and under-sampling ---- */

static kn_status random_resample(const kn_step *s, const kn_frame *x, int kind, kn_frame **out)
{
    const kn__rs_params *par = kn_step_params(s);
    kn__rs_data d;
    kn_status e = kn__rs_data_read(s, x, NULL, 0, 0, &d);
    if (e != KN_OK) return e;
    int64_t *want = kn_malloc(d.k * sizeof *want);
    size_t *pos = kn_malloc(d.k * sizeof *pos), *rows = kn_malloc(d.n * sizeof *rows);
    size_t total = 0;
    e = want && pos && rows ? kn__rs_targets(&d, par->sampling_strategy, kind, want) : KN_ERR_NOMEM;
    /* the rows of each class, in order: rows[pos[c] .. pos[c] + count[c]) */
    for (size_t c = 0, at = 0; e == KN_OK && c < d.k; at += d.count[c], c++) pos[c] = at;
    for (size_t i = 0; e == KN_OK && i < d.n; i++) rows[pos[d.y[i]]++] = i;
    for (size_t c = 0; e == KN_OK && c < d.k; c++) {
        pos[c] -= d.count[c];
        total += want[c] < 0 ? d.count[c] : (size_t)want[c];
    }
    size_t *idx = e == KN_OK ? kn_malloc((total ? total : 1) * sizeof *idx) : NULL;
    uint8_t *keep = e == KN_OK ? kn_calloc(d.n ? d.n : 1, 1) : NULL;
    if (e == KN_OK && (!idx || !keep)) e = KN_ERR_NOMEM;
    size_t m = 0;
    if (e == KN_OK && kind == KN__RS_OVER) {
        for (size_t i = 0; i < d.n; i++) idx[m++] = i;
        for (size_t c = 0; c < d.k; c++) {
            if (want[c] < 0) continue;
            kn_rng rng;
            kn_rng_init_stream(&rng, (uint64_t)par->seed, c);
            for (size_t r = d.count[c]; r < (size_t)want[c]; r++)
                idx[m++] = rows[pos[c] + kn_rng_below(&rng, d.count[c])];
        }
    } else if (e == KN_OK) {
        for (size_t c = 0; c < d.k; c++) {
            size_t *cls = rows + pos[c], nc = d.count[c];
            size_t take = want[c] < 0 ? nc : (size_t)want[c];
            kn_rng rng;
            kn_rng_init_stream(&rng, (uint64_t)par->seed, c);
            for (size_t r = 0; r < take; r++) { /* the first `take` of a shuffle */
                size_t j = r + (size_t)kn_rng_below(&rng, nc - r), v = cls[r];
                cls[r] = cls[j];
                cls[j] = v;
                keep[cls[r]] = 1;
            }
        }
        for (size_t i = 0; i < d.n; i++)
            if (keep[i]) idx[m++] = i;
    }
    if (e == KN_OK) e = kn__rs_build(x, idx, m, NULL, 0, NULL, NULL, 0, NULL, 0, NULL, out);
    kn_free(idx);
    kn_free(keep);
    kn_free(want);
    kn_free(pos);
    kn_free(rows);
    kn__rs_data_free(&d);
    return e;
}

static kn_status over_resample(const kn_step *s, const kn_frame *x, const size_t *cols, size_t n,
                               kn_frame **out)
{
    (void)cols, (void)n;
    return random_resample(s, x, KN__RS_OVER, out);
}

static kn_status under_resample(const kn_step *s, const kn_frame *x, const size_t *cols, size_t n,
                                kn_frame **out)
{
    (void)cols, (void)n;
    return random_resample(s, x, KN__RS_UNDER, out);
}

#define STRATEGY_DOC_OVER                                                                          \
    "classes to grow: auto (all but the majority, to its count), minority, not_minority, "         \
    "not_majority, all, a ratio in (0, 1] (minority / majority after; two classes) or "            \
    "label:count pairs (yes:500)"
#define STRATEGY_DOC_UNDER                                                                         \
    "classes to shrink: auto (all but the minority, to its count), majority, not_minority, "       \
    "not_majority, all, a ratio in (0, 1] (minority / majority after; two classes) or "            \
    "label:count pairs (no:300)"

static const kn_param_def over_defs[] = {KN_STEP_COMMON_PARAMS(kn__rs_params),
                                         KN__RS_STRATEGY("auto", STRATEGY_DOC_OVER), KN__RS_SEED,
                                         KN_PARAM_END};
static const kn_param_def under_defs[] = {KN_STEP_COMMON_PARAMS(kn__rs_params),
                                          KN__RS_STRATEGY("auto", STRATEGY_DOC_UNDER), KN__RS_SEED,
                                          KN_PARAM_END};

KN__RS_VT(over_vt, over_resample);
KN__RS_VT(under_vt, under_resample);

const kn_component kn__random_over_sampler = {
    KN_COMP_STEP,
    "random_over_sampler",
    "fit time only: grow classes by copies of their rows drawn with replacement (training rows "
    "only; new rows pass through)",
    over_defs,
    sizeof(kn__rs_params),
    &over_vt};
const kn_component kn__random_under_sampler = {
    KN_COMP_STEP,
    "random_under_sampler",
    "fit time only: shrink classes to a draw of their rows without replacement (training rows "
    "only; new rows pass through)",
    under_defs,
    sizeof(kn__rs_params),
    &under_vt};
