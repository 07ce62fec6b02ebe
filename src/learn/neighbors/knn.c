/* k-nearest neighbours, as scikit-learn's KNeighborsClassifier and
 * KNeighborsRegressor: the model keeps the training rows; a prediction
 * takes the k nearest (Euclidean or Manhattan) and votes (classes) or
 * averages (regression), each neighbour counting 1 (uniform) or 1/distance
 * (distance; when some neighbours are at distance 0, only they count).
 * Ties in the vote go to the first class in sorted order. The search is a
 * k-d tree for up to 15 features and brute force through BLAS beyond
 * (algorithm=auto), both exact, with equal distances ordered by training
 * row. The tree is rebuilt on load, not saved. */
#include "kiln/mem.h"
#include "kiln/model.h"
#include "learn/neighbors/kdtree.h"
#include "learn/learn-impl.h"

#include <math.h>
#include <string.h>

typedef struct knn_params {
    int64_t n_neighbors;
    int weights, algorithm, metric;
    int64_t leaf_size;
} knn_params;

enum { W_UNIFORM, W_DISTANCE };
enum { ALG_AUTO, ALG_BRUTE, ALG_KD_TREE };

static const kn_param_def knn_defs[] = {
    KN_PARAM_INT(knn_params, n_neighbors, "5", 1, 100000, "neighbours that vote (k)"),
    KN_PARAM_ENUM(knn_params, weights, "uniform", "uniform|distance",
                  "distance: a neighbour's say is 1 / its distance"),
    KN_PARAM_ENUM(knn_params, algorithm, "auto", "auto|brute|kd_tree",
                  "auto: k-d tree up to 15 features, brute force (BLAS) beyond"),
    KN_PARAM_ENUM(knn_params, metric, "euclidean", "euclidean|manhattan", "distance between rows"),
    KN_PARAM_INT(knn_params, leaf_size, "30", 1, 100000, "points per k-d tree leaf"),
    KN_PARAM_END};

typedef struct knn_state {
    size_t n, p, k; /* training rows, features, classes (0: regression) */
    double *x;      /* n x p, row-major */
    double *y;      /* target or class index */
    int has_tree;
    kn__kdtree tree;
} knn_state;

static void knn_free(void *v)
{
    knn_state *s = v;
    if (!s) return;
    kn__kdtree_free(&s->tree);
    kn_free(s->x);
    kn_free(s->y);
    kn_free(s);
}

static kn_status knn_index(knn_state *s, const knn_params *par)
{
    int tree =
        par->algorithm == ALG_KD_TREE || (par->algorithm == ALG_AUTO && s->p <= KN__KDTREE_MAX_DIM);
    s->has_tree = 0;
    if (!tree) return KN_OK;
    kn_status e = kn__kdtree_build(&s->tree, s->x, s->n, s->p, (size_t)par->leaf_size);
    s->has_tree = e == KN_OK;
    return e;
}

static kn_status knn_fit(kn_model *m, const kn_dataset *d)
{
    const knn_params *par = kn_model_params(m);
    if ((size_t)par->n_neighbors > d->n)
        return kn_fail(KN_ERR_INVALID, "%s: n_neighbors=%lld but only %zu training rows",
                       kn_model_name(m), (long long)par->n_neighbors, d->n);
    if (d->w)
        return kn_fail(KN_ERR_UNSUPPORTED,
                       "%s: sample weights are not supported (neighbours vote as rows)",
                       kn_model_name(m));
    knn_state *s = kn_calloc(1, sizeof *s);
    if (!s) return KN_ERR_NOMEM;
    s->n = d->n;
    s->p = d->p;
    s->k = d->n_classes;
    s->x = kn_malloc((d->n * d->p > 0 ? d->n * d->p : 1) * sizeof *s->x);
    s->y = kn_malloc((d->n ? d->n : 1) * sizeof *s->y);
    kn_status e = s->x && s->y ? KN_OK : KN_ERR_NOMEM;
    for (size_t j = 0; e == KN_OK && j < d->p; j++)
        for (size_t i = 0; i < d->n; i++) s->x[i * d->p + j] = d->x[j * d->n + i];
    if (e == KN_OK) memcpy(s->y, d->y, d->n * sizeof *s->y);
    if (e == KN_OK) e = knn_index(s, par);
    if (e != KN_OK) {
        knn_free(s);
        return e;
    }
    kn_model_set_state(m, s);
    return KN_OK;
}

/* Neighbour weights of one query row into w (k values). */
static void neighbour_weights(const double *dist, size_t k, int mode, double *w)
{
    int exact = 0;
    for (size_t j = 0; j < k; j++) exact |= dist[j] == 0;
    for (size_t j = 0; j < k; j++)
        w[j] = mode == W_UNIFORM ? 1 : exact ? (dist[j] == 0) : 1 / dist[j];
}

/* Classifiers: class probabilities (n x classes); regressors: predictions. */
static kn_status knn_apply(const kn_model *m, const kn_dataset *d, double *out)
{
    const knn_params *par = kn_model_params(m);
    const knn_state *s = kn_model_state(m);
    size_t n = d->n, p = s->p, k = (size_t)par->n_neighbors;
    double *q = kn_malloc((n * p > 0 ? n * p : 1) * sizeof *q);
    double *dist = kn_malloc((n * k > 0 ? n * k : 1) * sizeof *dist);
    size_t *idx = kn_malloc((n * k > 0 ? n * k : 1) * sizeof *idx);
    double *wp = kn_malloc(k * sizeof *wp);
    kn_status e = q && dist && idx && wp ? KN_OK : KN_ERR_NOMEM;
    for (size_t j = 0; e == KN_OK && j < p; j++)
        for (size_t i = 0; i < n; i++) q[i * p + j] = d->x[j * n + i];
    if (e == KN_OK)
        e = kn__knn_query(s->has_tree ? &s->tree : NULL, s->x, s->n, p, (kn_distance)par->metric, q,
                          n, k, idx, dist);
    for (size_t i = 0; e == KN_OK && i < n; i++) {
        neighbour_weights(dist + i * k, k, par->weights, wp);
        double total = 0;
        for (size_t j = 0; j < k; j++) total += wp[j];
        if (s->k == 0) {
            double sum = 0;
            for (size_t j = 0; j < k; j++) sum += wp[j] * s->y[idx[i * k + j]];
            out[i] = sum / total;
            continue;
        }
        double *row = out + i * s->k;
        for (size_t c = 0; c < s->k; c++) row[c] = 0;
        for (size_t j = 0; j < k; j++) row[(size_t)s->y[idx[i * k + j]]] += wp[j];
        for (size_t c = 0; c < s->k; c++) row[c] /= total;
    }
    kn_free(q);
    kn_free(dist);
    kn_free(idx);
    kn_free(wp);
    return e;
}

static kn_status knn_predict(const kn_model *m, const kn_dataset *d, double *out)
{
    const knn_state *s = kn_model_state(m);
    if (s->k == 0) return knn_apply(m, d, out);
    double *pr = kn_malloc((d->n ? d->n * s->k : 1) * sizeof *pr);
    if (!pr) return KN_ERR_NOMEM;
    kn_status e = knn_apply(m, d, pr);
    if (e == KN_OK) kn__argmax_rows(pr, d->n, s->k, out);
    kn_free(pr);
    return e;
}

static kn_status knn_save(const kn_model *m, kn_wbuf *w)
{
    const knn_state *s = kn_model_state(m);
    kn_wbuf_u64(w, s->n);
    kn_wbuf_u64(w, s->p);
    kn_wbuf_u64(w, s->k);
    kn_wbuf_f64s(w, s->x, s->n * s->p);
    kn_wbuf_f64s(w, s->y, s->n);
    return KN_OK;
}

static kn_status knn_load(kn_model *m, kn_rbuf *r)
{
    uint64_t n = 0, p = 0, k = 0;
    kn_status e = kn_rbuf_u64(r, &n);
    if (e == KN_OK) e = kn_rbuf_u64(r, &p);
    if (e == KN_OK) e = kn_rbuf_u64(r, &k);
    if (e == KN_OK &&
        (p != kn_model_n_features(m) || k != kn_model_n_classes(m) ||
         n > (size_t)(r->end - r->p) / 8 || (p && n > (size_t)(r->end - r->p) / 8 / p)))
        return kn_fail(KN_ERR_CORRUPT, "%s: neighbour state does not match the model", r->what);
    if (e != KN_OK) return e;
    knn_state *s = kn_calloc(1, sizeof *s);
    if (!s) return KN_ERR_NOMEM;
    s->n = (size_t)n;
    s->p = (size_t)p;
    s->k = (size_t)k;
    s->x = kn_malloc((s->n * s->p > 0 ? s->n * s->p : 1) * sizeof *s->x);
    s->y = kn_malloc((s->n ? s->n : 1) * sizeof *s->y);
    e = s->x && s->y ? kn_rbuf_bytes(r, s->x, s->n * s->p * sizeof *s->x) : KN_ERR_NOMEM;
    if (e == KN_OK) e = kn_rbuf_bytes(r, s->y, s->n * sizeof *s->y);
    for (size_t i = 0; e == KN_OK && k && i < s->n; i++)
        if (!(s->y[i] >= 0 && s->y[i] < (double)k))
            e = kn_fail(KN_ERR_CORRUPT, "%s: a class index is out of range", r->what);
    const knn_params *par = kn_model_params(m);
    if (e == KN_OK && (size_t)par->n_neighbors > s->n)
        e = kn_fail(KN_ERR_CORRUPT, "%s: fewer rows than n_neighbors", r->what);
    if (e == KN_OK) e = knn_index(s, par);
    if (e != KN_OK) {
        knn_free(s);
        return e;
    }
    kn_model_set_state(m, s);
    return KN_OK;
}

static const kn_model_vt knn_classifier_vt = {.task = KN_TASK_CLASSIFICATION,
                                              .fit = knn_fit,
                                              .predict = knn_predict,
                                              .predict_proba = knn_apply,
                                              .free_state = knn_free,
                                              .save = knn_save,
                                              .load = knn_load,
                                              .other_task_model = "knn_regressor"};
static const kn_model_vt knn_regressor_vt = {.task = KN_TASK_REGRESSION,
                                             .fit = knn_fit,
                                             .predict = knn_predict,
                                             .free_state = knn_free,
                                             .save = knn_save,
                                             .load = knn_load,
                                             .other_task_model = "knn_classifier"};

const kn_component kn__knn_classifier = {
    KN_COMP_MODEL, "knn_classifier",   "k-nearest neighbours vote (k-d tree or BLAS brute force)",
    knn_defs,      sizeof(knn_params), &knn_classifier_vt};
const kn_component kn__knn_regressor = {
    KN_COMP_MODEL, "knn_regressor",    "k-nearest neighbours mean (k-d tree or BLAS brute force)",
    knn_defs,      sizeof(knn_params), &knn_regressor_vt};
