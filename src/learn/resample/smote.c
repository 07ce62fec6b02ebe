/* The SMOTE family (resample.h): synthetic rows for the classes the
 * sampling strategy grows, each on the segment between a row of the class
 * and one of its k nearest neighbours within the class (Chawla et al.
 * 2002), as imbalanced-learn 0.10 draws them:
 *
 * smote: base rows and neighbours drawn uniformly over the class's rows x
 * k_neighbors, the position on the segment uniform in [0, 1).
 * borderline_smote (kind borderline-1, Han et al. 2005): base rows only
 * from the class's rows "in danger": of their m_neighbors nearest rows of
 * any class, at least half but not all belong to other classes.
 * smote_nc (Chawla et al. 2002, SMOTE-NC): numeric and categorical
 * features; distances add each categorical feature one-hot encoded at half
 * the median standard deviation of the minority class's numeric features;
 * a synthetic row's category is the most frequent among the base row's k
 * neighbours (ties drawn at random).
 * adasyn (He et al. 2008): the count drawn from each row of the class is
 * proportional to the share of other classes among its n_neighbors nearest
 * rows of any class (rounded half to even, so the total can differ a
 * little from the wanted count, as imbalanced-learn's).
 *
 * Synthetic rows follow the original ones and copy the other columns of
 * their base row (weights, ids). Draws come from the stream (seed, class
 * index). Missing values in the numeric features are refused. */
#include "learn/resample/resample.h"
#include "prep/prep-impl.h"
#include "kiln/log.h"
#include "kiln/mem.h"
#include "kiln/rng.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

enum { SMOTE, BORDERLINE, SMOTE_NC, ADASYN };

/* A class's rows and their points (row-major, dimension q). */
typedef struct class_rows {
    size_t n;
    size_t *row; /* index in the data */
    double *z;   /* n x q */
} class_rows;

static void class_free(class_rows *c)
{
    kn_free(c->row);
    kn_free(c->z);
    memset(c, 0, sizeof *c);
}

static kn_status class_of(const kn__rs_data *d, const double *z, size_t q, size_t c,
                          class_rows *out)
{
    memset(out, 0, sizeof *out);
    out->row = kn_malloc(d->count[c] * sizeof *out->row);
    out->z = kn_malloc(d->count[c] * q * sizeof *out->z);
    if (!out->row || !out->z) {
        class_free(out);
        return KN_ERR_NOMEM;
    }
    for (size_t i = 0; i < d->n; i++)
        if ((size_t)d->y[i] == c) {
            out->row[out->n] = i;
            memcpy(out->z + out->n * q, z + i * q, q * sizeof *z);
            out->n++;
        }
    return KN_OK;
}

/* Categorical feature columns (SMOTE-NC): every feature-role one. */
static kn_status categorical_features(const kn_frame *x, size_t **cols, size_t *n)
{
    size_t nc = kn_frame_n_cols(x), m = 0;
    *cols = kn_malloc((nc ? nc : 1) * sizeof **cols);
    if (!*cols) return KN_ERR_NOMEM;
    for (size_t j = 0; j < nc; j++) {
        kn_column *c = kn_frame_col(x, j);
        if (kn_column_role(c) == KN_ROLE_FEATURE && kn_column_type(c) == KN_COL_CATEGORICAL)
            (*cols)[m++] = j;
    }
    *n = m;
    return KN_OK;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* SMOTE-NC's points: the numeric features, then each categorical feature
 * one-hot at half the median standard deviation (over the numeric
 * features) of the minority class. *q receives the dimension. */
static kn_status mixed_points(const kn__rs_data *d, const kn_frame *x, const size_t *cat,
                              size_t n_cat, double **out, size_t *q)
{
    size_t p = d->p, n = d->n, small = 0, width = p, m = 0;
    for (size_t c = 1; c < d->k; c++)
        if (d->count[c] < d->count[small]) small = c;
    for (size_t j = 0; j < n_cat; j++) width += kn_column_n_levels(kn_frame_col(x, cat[j]));
    double *sd = kn_malloc((p ? p : 1) * sizeof *sd), *z = kn_calloc(n * width, sizeof *z);
    if (!sd || !z) {
        kn_free(sd), kn_free(z);
        return KN_ERR_NOMEM;
    }
    for (size_t j = 0; j < p; j++) { /* population std over the minority's rows */
        double mean = 0, ss = 0;
        m = 0;
        for (size_t i = 0; i < n; i++)
            if ((size_t)d->y[i] == small) mean += d->x[i * p + j], m++;
        mean /= (double)m;
        for (size_t i = 0; i < n; i++)
            if ((size_t)d->y[i] == small) ss += (d->x[i * p + j] - mean) * (d->x[i * p + j] - mean);
        sd[j] = sqrt(ss / (double)m);
    }
    qsort(sd, p, sizeof *sd, cmp_double);
    double med = p % 2 ? sd[p / 2] : 0.5 * (sd[p / 2 - 1] + sd[p / 2]);
    double v = med > 0 ? med / 2 : 0.5; /* all constant: categories still count */
    for (size_t i = 0; i < n; i++) {
        memcpy(z + i * width, d->x + i * p, p * sizeof *z);
        size_t at = p;
        for (size_t j = 0; j < n_cat; j++) {
            kn_column *c = kn_frame_col(x, cat[j]);
            int32_t code = kn_column_codes(c)[i];
            if (code >= 0) z[i * width + at + (size_t)code] = v;
            at += kn_column_n_levels(c);
        }
    }
    kn_free(sd);
    *out = z;
    *q = width;
    return KN_OK;
}

/* The most frequent category of categorical column col among the k
 * neighbours (data indices), ties drawn at random; -1 if all missing. */
static int32_t vote(kn_column *col, const size_t *nb, size_t k, int32_t *tally, kn_rng *rng)
{
    size_t nl = kn_column_n_levels(col);
    const int32_t *code = kn_column_codes(col);
    memset(tally, 0, nl * sizeof *tally);
    int32_t best = 0, ties = 0, pick = -1;
    for (size_t j = 0; j < k; j++)
        if (code[nb[j]] >= 0) tally[code[nb[j]]]++;
    for (size_t l = 0; l < nl; l++) best = tally[l] > best ? tally[l] : best;
    if (!best) return -1;
    for (size_t l = 0; l < nl; l++) ties += tally[l] == best;
    int32_t r = (int32_t)kn_rng_below(rng, (uint64_t)ties);
    for (size_t l = 0; l < nl && pick < 0; l++)
        if (tally[l] == best && r-- == 0) pick = (int32_t)l;
    return pick;
}

/* Rows in danger (borderline-1): of their m nearest rows of any class
 * (self excluded), m/2 <= others < m. danger[] receives positions in cr. */
static kn_status in_danger(const kn__rs_data *d, const double *z, size_t q, size_t c,
                           const class_rows *cr, size_t m, size_t *danger, size_t *n_danger)
{
    size_t *nb = kn_malloc((cr->n * m > 0 ? cr->n * m : 1) * sizeof *nb);
    if (!nb) return KN_ERR_NOMEM;
    kn_status e = kn__rs_neighbours(z, d->n, q, cr->z, cr->n, cr->row, m, nb);
    *n_danger = 0;
    for (size_t i = 0; e == KN_OK && i < cr->n; i++) {
        size_t others = 0;
        for (size_t j = 0; j < m; j++) others += (size_t)d->y[nb[i * m + j]] != c;
        if (2 * others >= m && others < m) danger[(*n_danger)++] = i;
    }
    kn_free(nb);
    return e;
}

/* ADASYN's count per row of the class: proportional to the share of other
 * classes among its k nearest rows of any class. */
static kn_status adasyn_counts(const kn__rs_data *d, const double *z, size_t q, size_t c,
                               const class_rows *cr, size_t k, size_t n_gen, size_t *gen,
                               size_t *total)
{
    size_t *nb = kn_malloc(cr->n * k * sizeof *nb);
    double *ratio = kn_malloc(cr->n * sizeof *ratio);
    kn_status e =
        nb && ratio ? kn__rs_neighbours(z, d->n, q, cr->z, cr->n, cr->row, k, nb) : KN_ERR_NOMEM;
    double sum = 0;
    for (size_t i = 0; e == KN_OK && i < cr->n; i++) {
        size_t others = 0;
        for (size_t j = 0; j < k; j++) others += (size_t)d->y[nb[i * k + j]] != c;
        ratio[i] = (double)others / (double)k;
        sum += ratio[i];
    }
    if (e == KN_OK && !(sum > 0))
        e = kn_fail(KN_ERR_INVALID,
                    "%s: no row of class '%s' has a neighbour of another class among its %zu "
                    "nearest: ADASYN has nothing to weigh (use smote)",
                    d->step, d->label[c], k);
    *total = 0;
    for (size_t i = 0; e == KN_OK && i < cr->n; i++) {
        gen[i] = (size_t)rint(ratio[i] / sum * (double)n_gen);
        *total += gen[i];
    }
    kn_free(nb);
    kn_free(ratio);
    return e;
}

/* The synthetic rows of class c: n_gen of them (ADASYN: sum of gen[]), into
 * base/syn/cats at offset *at. */
static kn_status grow_class(const kn_step *s, const kn__rs_data *d, const double *z, size_t q,
                            size_t c, size_t n_gen, int kind, const kn_frame *x, const size_t *cat,
                            size_t n_cat, size_t *base, double *syn, int32_t *cats, size_t *at)
{
    const kn__rs_params *par = kn_step_params(s);
    size_t k = (size_t)(kind == ADASYN ? par->n_neighbors : par->k_neighbors), p = d->p;
    class_rows cr;
    kn_status e = class_of(d, z, q, c, &cr);
    if (e != KN_OK) return e;
    if (cr.n <= k) {
        class_free(&cr);
        return kn_fail(KN_ERR_INVALID,
                       "%s: class '%s' has %zu rows; synthesising from %zu neighbours needs "
                       "more (lower %s)",
                       d->step, d->label[c], d->count[c], k,
                       kind == ADASYN ? "n_neighbors" : "k_neighbors");
    }
    size_t *src = kn_malloc(cr.n * sizeof *src), n_src = cr.n; /* candidate base positions */
    size_t *nb = kn_malloc(cr.n * k * sizeof *nb), *gen = NULL;
    size_t nl_max = 1;
    for (size_t j = 0; j < n_cat; j++) {
        size_t nl = kn_column_n_levels(kn_frame_col(x, cat[j]));
        nl_max = nl > nl_max ? nl : nl_max;
    }
    int32_t *tally = kn_malloc(nl_max * sizeof *tally);
    size_t *nbr = kn_malloc(k * sizeof *nbr);
    if (!src || !nb || !tally || !nbr) e = KN_ERR_NOMEM;
    for (size_t i = 0; e == KN_OK && i < cr.n; i++) src[i] = i;
    if (e == KN_OK && kind == BORDERLINE) {
        size_t m = (size_t)par->m_neighbors;
        if (m >= d->n)
            e = kn_fail(KN_ERR_INVALID, "%s: m_neighbors=%zu needs more than %zu rows", d->step, m,
                        d->n);
        if (e == KN_OK) e = in_danger(d, z, q, c, &cr, m, src, &n_src);
        if (e == KN_OK && !n_src) {
            kn_log(KN_LOG_WARN,
                   "%s: no row of class '%s' is in danger (near the border of other classes): "
                   "no rows added",
                   d->step, d->label[c]);
            n_gen = 0;
        }
    }
    if (e == KN_OK && kind == ADASYN) {
        size_t ka = (size_t)par->n_neighbors;
        if (ka >= d->n)
            e = kn_fail(KN_ERR_INVALID, "%s: n_neighbors=%zu needs more than %zu rows", d->step, ka,
                        d->n);
        if (e == KN_OK && !(gen = kn_malloc(cr.n * sizeof *gen))) e = KN_ERR_NOMEM;
        if (e == KN_OK) e = adasyn_counts(d, z, q, c, &cr, ka, n_gen, gen, &n_gen);
    }
    /* each row's k nearest of its own class (itself excluded) */
    size_t *me = e == KN_OK && n_gen ? kn_malloc(cr.n * sizeof *me) : NULL;
    if (e == KN_OK && n_gen && !me) e = KN_ERR_NOMEM;
    for (size_t i = 0; me && i < cr.n; i++) me[i] = i;
    if (e == KN_OK && n_gen) e = kn__rs_neighbours(cr.z, cr.n, q, cr.z, cr.n, me, k, nb);
    kn_free(me);
    kn_rng rng;
    kn_rng_init_stream(&rng, (uint64_t)par->seed, c);
    size_t next = 0; /* ADASYN: the row whose samples come next */
    for (size_t r = 0; e == KN_OK && r < n_gen; r++) {
        size_t pos, col;
        if (kind == ADASYN) {
            while (!gen[next]) next++;
            gen[next]--;
            pos = next;
            col = (size_t)kn_rng_below(&rng, k);
        } else {
            size_t u = (size_t)kn_rng_below(&rng, (uint64_t)(n_src * k));
            pos = src[u / k];
            col = u % k;
        }
        double step = kn_rng_uniform(&rng);
        const double *a = d->x + cr.row[pos] * p, *b = d->x + cr.row[nb[pos * k + col]] * p;
        size_t o = *at + r;
        base[o] = cr.row[pos];
        for (size_t j = 0; j < p; j++) syn[o * p + j] = a[j] + step * (b[j] - a[j]);
        for (size_t t = 0; n_cat && t < k; t++) nbr[t] = cr.row[nb[pos * k + t]]; /* as rows */
        for (size_t j = 0; j < n_cat; j++)
            cats[o * n_cat + j] = vote(kn_frame_col(x, cat[j]), nbr, k, tally, &rng);
    }
    *at += n_gen;
    kn_free(src);
    kn_free(nb);
    kn_free(gen);
    kn_free(tally);
    kn_free(nbr);
    class_free(&cr);
    return e;
}

static kn_status smote_kind(const kn_step *s, const kn_frame *x, const size_t *cols, size_t n,
                            int kind, kn_frame **out)
{
    const kn__rs_params *par = kn_step_params(s);
    kn__rs_data d;
    size_t *cat = NULL, n_cat = 0, q = n;
    kn_status e = kn__rs_data_read(s, x, cols, n, 0, &d); /* the target first */
    kn__rs_data_free(&d);
    if (e == KN_OK) e = categorical_features(x, &cat, &n_cat);
    if (e == KN_OK && n_cat && kind != SMOTE_NC)
        e = kn_fail(KN_ERR_INVALID,
                    "%s: feature '%s' is categorical; use smote_nc for numeric and categorical "
                    "features, or encode it first, e.g. the step onehot_encoder",
                    kn_step_name(s), kn_column_name(kn_frame_col(x, cat[0])));
    if (e == KN_OK && kind == SMOTE_NC && !n_cat)
        e = kn_fail(KN_ERR_INVALID,
                    "%s: the data has no categorical feature; use smote for numeric features",
                    kn_step_name(s));
    if (e == KN_OK && kind == SMOTE_NC && !n)
        e = kn_fail(KN_ERR_INVALID, "%s: the data has no numeric feature; SMOTE-NC needs one",
                    kn_step_name(s));
    if (e == KN_OK) e = kn__rs_data_read(s, x, cols, n, 1, &d);
    if (e != KN_OK) {
        kn_free(cat);
        return e;
    }
    double *z = d.x, *mixed = NULL;
    if (kind == SMOTE_NC && (e = mixed_points(&d, x, cat, n_cat, &mixed, &q)) == KN_OK) z = mixed;
    int64_t *want = kn_malloc(d.k * sizeof *want);
    size_t total = 0, *idx = NULL, *base = NULL, at = 0;
    double *syn = NULL;
    int32_t *cats = NULL;
    if (e == KN_OK)
        e = want ? kn__rs_targets(&d, par->sampling_strategy, KN__RS_OVER, want) : KN_ERR_NOMEM;
    /* room for the wanted rows (ADASYN's rounding may add one per row) */
    for (size_t c = 0; e == KN_OK && c < d.k; c++)
        if (want[c] > (int64_t)d.count[c])
            total += (size_t)want[c] - d.count[c] + (kind == ADASYN ? d.count[c] : 0);
    if (e == KN_OK) {
        idx = kn_malloc((d.n ? d.n : 1) * sizeof *idx);
        base = kn_malloc((total ? total : 1) * sizeof *base);
        syn = kn_malloc((total * d.p > 0 ? total * d.p : 1) * sizeof *syn);
        cats = kn_malloc((total * n_cat > 0 ? total * n_cat : 1) * sizeof *cats);
        if (!idx || !base || !syn || !cats) e = KN_ERR_NOMEM;
    }
    for (size_t i = 0; e == KN_OK && i < d.n; i++) idx[i] = i;
    for (size_t c = 0; e == KN_OK && c < d.k; c++)
        if (want[c] > (int64_t)d.count[c])
            e = grow_class(s, &d, z, q, c, (size_t)want[c] - d.count[c], kind, x, cat, n_cat, base,
                           syn, cats, &at);
    if (e == KN_OK) e = kn__rs_build(x, idx, d.n, cols, d.p, base, syn, at, cat, n_cat, cats, out);
    kn_free(idx), kn_free(base), kn_free(syn), kn_free(cats), kn_free(want), kn_free(cat);
    kn_free(mixed);
    kn__rs_data_free(&d);
    return e;
}

static kn_status smote_resample(const kn_step *s, const kn_frame *x, const size_t *cols, size_t n,
                                kn_frame **out)
{
    return smote_kind(s, x, cols, n, SMOTE, out);
}

static kn_status borderline_resample(const kn_step *s, const kn_frame *x, const size_t *cols,
                                     size_t n, kn_frame **out)
{
    return smote_kind(s, x, cols, n, BORDERLINE, out);
}

static kn_status nc_resample(const kn_step *s, const kn_frame *x, const size_t *cols, size_t n,
                             kn_frame **out)
{
    return smote_kind(s, x, cols, n, SMOTE_NC, out);
}

static kn_status adasyn_resample(const kn_step *s, const kn_frame *x, const size_t *cols, size_t n,
                                 kn_frame **out)
{
    return smote_kind(s, x, cols, n, ADASYN, out);
}

#define STRATEGY_DOC                                                                               \
    "classes to grow: auto (all but the majority, to its count), minority, not_minority, "         \
    "not_majority, all, a ratio in (0, 1] (minority / majority after; two classes) or "            \
    "label:count pairs (yes:500)"
#define K_NEIGHBORS                                                                                \
    KN_PARAM_INT(kn__rs_params, k_neighbors, "5", 1, 1000,                                         \
                 "nearest rows of the same class a synthetic row may lie towards")

static const kn_param_def smote_defs[] = {KN_STEP_COMMON_PARAMS(kn__rs_params),
                                          KN__RS_STRATEGY("auto", STRATEGY_DOC), K_NEIGHBORS,
                                          KN__RS_SEED, KN_PARAM_END};
static const kn_param_def borderline_defs[] = {
    KN_STEP_COMMON_PARAMS(kn__rs_params),
    KN__RS_STRATEGY("auto", STRATEGY_DOC),
    K_NEIGHBORS,
    KN_PARAM_INT(kn__rs_params, m_neighbors, "10", 1, 1000,
                 "nearest rows of any class that decide whether a row is in danger"),
    KN__RS_SEED,
    KN_PARAM_END};
static const kn_param_def adasyn_defs[] = {
    KN_STEP_COMMON_PARAMS(kn__rs_params), KN__RS_STRATEGY("auto", STRATEGY_DOC),
    KN_PARAM_INT(kn__rs_params, n_neighbors, "5", 1, 1000,
                 "nearest rows (of any class for the weights, of the class for the segments)"),
    KN__RS_SEED, KN_PARAM_END};

KN__RS_VT(smote_vt, smote_resample);
KN__RS_VT(borderline_vt, borderline_resample);
KN__RS_VT(nc_vt, nc_resample);
KN__RS_VT(adasyn_vt, adasyn_resample);

const kn_component kn__smote = {KN_COMP_STEP,
                                "smote",
                                "fit time only: synthetic rows between a class's rows and their "
                                "nearest neighbours in the class (numeric features)",
                                smote_defs,
                                sizeof(kn__rs_params),
                                &smote_vt};
const kn_component kn__borderline_smote = {
    KN_COMP_STEP,
    "borderline_smote",
    "fit time only: SMOTE from the class's rows near other classes (borderline-1)",
    borderline_defs,
    sizeof(kn__rs_params),
    &borderline_vt};
const kn_component kn__smote_nc = {KN_COMP_STEP,
                                   "smote_nc",
                                   "fit time only: SMOTE for numeric and categorical features "
                                   "(categories by the neighbours' vote)",
                                   smote_defs,
                                   sizeof(kn__rs_params),
                                   &nc_vt};
const kn_component kn__adasyn = {KN_COMP_STEP,
                                 "adasyn",
                                 "fit time only: SMOTE with more synthetic rows near other "
                                 "classes (ADASYN)",
                                 adasyn_defs,
                                 sizeof(kn__rs_params),
                                 &adasyn_vt};
