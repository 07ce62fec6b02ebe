/* kmeans: k-means clustering, fitted without a target
 * (KN_MODEL_UNSUPERVISED), as scikit-learn's KMeans (algorithm "lloyd").
 *
 * Seeding is greedy k-means++: the first centre a uniformly drawn row, each
 * next one the best (least total squared distance) of 2 + floor(ln k)
 * candidates drawn with probability proportional to the squared distance
 * to the nearest centre so far. Lloyd iterations assign each row to its
 * nearest centre and move each centre to its rows' mean; an empty cluster
 * takes the row farthest from its centre. They stop when no label changes
 * or when the summed squared centre shift is at most tol times the mean
 * feature variance (then rows are assigned once more). n_init runs, each
 * from stream (seed, run), keep the least inertia (sum of squared
 * distances to the nearest centre). predict gives the nearest centre's
 * index (0 .. k-1). The summary holds inertia, iterations of the kept run
 * and, for at most silhouette_rows training rows, the mean silhouette
 * (scikit-learn's silhouette_score: 0 for a row alone in its cluster).
 * algorithm=minibatch replaces seeding-then-Lloyd in each run by
 * kmeans_minibatch.c's run (scikit-learn's MiniBatchKMeans; iterations
 * then counts its steps). Runs go in parallel (OpenMP), each from its own
 * stream, so any thread count gives the same model. */
#include "core/ctx-impl.h"
#include "kiln/mem.h"
#include "kiln/metrics.h"
#include "kiln/model.h"
#include "kiln/rng.h"
#include "learn/learn-impl.h"
#include "learn/unsup/kmeans-impl.h"

#include <limits.h>
#include <math.h>
#include <stdint.h>
#include <string.h>

typedef struct km_params {
    int64_t n_clusters, n_init, max_iter, seed, silhouette_rows, batch_size, max_no_improvement;
    double tol, reassignment_ratio;
    int algorithm;
} km_params;

enum { KM_LLOYD = 0, KM_MINIBATCH = 1 };

static const kn_param_def km_defs[] = {
    KN_PARAM_INT(km_params, n_clusters, "8", 1, 1e9, "clusters (k)"),
    KN_PARAM_INT(km_params, n_init, "10", 1, 100000,
                 "runs from different k-means++ seeds; the least inertia is kept"),
    KN_PARAM_INT(km_params, max_iter, "300", 1, 1e9,
                 "Lloyd iterations per run at most (minibatch: passes over the rows)"),
    KN_PARAM_DOUBLE(km_params, tol, "1e-4", 0, 1e300,
                    "stop when the squared centre shift is at most tol x mean feature variance"),
    KN_PARAM_INT(km_params, seed, "0", 0, 1e15, "seed of the k-means++ draws"),
    KN_PARAM_ENUM(km_params, algorithm, "lloyd", "lloyd|minibatch",
                  "lloyd: full passes; minibatch: steps over random batches of batch_size rows "
                  "(faster on many rows, slightly higher inertia)"),
    KN_PARAM_INT(km_params, batch_size, "1024", 1, 1e9, "minibatch: rows per step"),
    KN_PARAM_INT(km_params, max_no_improvement, "10", 1, 1e9,
                 "minibatch: stop after this many steps without a better smoothed batch inertia"),
    KN_PARAM_DOUBLE(km_params, reassignment_ratio, "0.01", 0, 1,
                    "minibatch: centres given fewer rows than this x the most-used one move to "
                    "random rows (0: never)"),
    KN_PARAM_INT(km_params, silhouette_rows, "20000", 0, 1e9,
                 "compute the silhouette score at fit when the rows are at most this many "
                 "(its cost grows with rows squared; 0: never)"),
    KN_PARAM_END};

typedef struct km_state {
    size_t k, p;
    double *centre; /* k x p, row-major */
    double inertia, silhouette;
    size_t iterations;
} km_state;

static void km_free(void *v)
{
    km_state *s = v;
    if (!s) return;
    kn_free(s->centre);
    kn_free(s);
}

/* Row i of the row-major copy x against centre c. */
double kn__km_dist2(const double *x, size_t p, size_t i, const double *c)
{
    double s = 0;
    for (size_t j = 0; j < p; j++) {
        double d = x[i * p + j] - c[j];
        s += d * d;
    }
    return s;
}

size_t kn__km_nearest(const double *x, size_t p, size_t i, const double *cen, size_t k,
                      double *best)
{
    size_t b = 0;
    double bd = INFINITY;
    for (size_t c = 0; c < k; c++) {
        double d = kn__km_dist2(x, p, i, cen + c * p);
        if (d < bd) {
            bd = d;
            b = c;
        }
    }
    *best = bd;
    return b;
}

/* half[c]: half the distance from centre c to the nearest other. */
static void half_gaps(const double *cen, size_t k, size_t p, double *half)
{
    for (size_t c = 0; c < k; c++) {
        double m = INFINITY;
        for (size_t o = 0; o < k; o++) {
            if (o == c) continue;
            double t = 0;
            for (size_t j = 0; j < p; j++) {
                double v = cen[c * p + j] - cen[o * p + j];
                t += v * v;
            }
            if (t < m) m = t;
        }
        half[c] = 0.5 * sqrt(m);
    }
}

/* One run: seeding (unless seeded: cen, label and dist hold it) then
 * Lloyd. Returns the inertia; labels and centres in the buffers. */
static double run_once(const double *x, const float *xs, size_t n, size_t p, size_t k,
                       const km_params *par, double tol, size_t run, int seeded, double *cen,
                       double *next, size_t *label, double *dist, const double *xn, size_t *count,
                       size_t *iters)
{
    kn_rng r;
    kn_rng_init_stream(&r, (uint64_t)par->seed, run);
    if (par->algorithm == KM_MINIBATCH) {
        kn__km_minibatch o = {(size_t)par->batch_size, (size_t)par->max_iter,
                              (size_t)par->max_no_improvement, par->reassignment_ratio};
        (void)next, (void)label, (void)dist, (void)count, (void)tol;
        return kn__km_minibatch_run(x, n, p, xn, k, &o, &r, cen, iters);
    }
    size_t chunks = kn__km_chunks(n);
    double *psum = kn_malloc(chunks * k * p * sizeof *psum);
    size_t *pcnt = kn_malloc(chunks * k * sizeof *pcnt);
    double *ub = kn_malloc(n * sizeof *ub), *lb = kn_malloc(n * sizeof *lb);
    double *half = kn_malloc(2 * k * sizeof *half), *move = half + k;
    if (!psum || !pcnt || !ub || !lb || !half ||
        (!seeded && kn__km_seed_pp(x, NULL, xs, n, p, k, &r, cen, dist, label) != KN_OK)) {
        kn_free(psum), kn_free(pcnt), kn_free(ub), kn_free(lb), kn_free(half);
        return NAN;
    }
    /* the seeding leaves each row's nearest centre and its exact squared
     * distance: the first assignment, with no bound on the others yet */
#pragma omp parallel for schedule(static) if (n >= 32768)
    for (size_t i = 0; i < n; i++) {
        ub[i] = sqrt(kn__km_dist2(x, p, i, cen + label[i] * p));
        lb[i] = 0;
    }
    size_t it = 0;
    int strict = 0;
    for (; it < (size_t)par->max_iter; it++) {
        int changed = it == 0;
        if (it > 0) {
            half_gaps(cen, k, p, half);
            if (kn__km_assign_bounded(x, n, p, xn, cen, k, label, ub, lb, half, 0, &changed, psum,
                                      pcnt) != KN_OK) {
                kn_free(psum), kn_free(pcnt), kn_free(ub), kn_free(lb), kn_free(half);
                return NAN;
            }
        }
        if (!changed) {
            strict = 1;
            break;
        }
        /* per-chunk sums: from scratch once, then moved row by row */
        if (it == 0) kn__km_sums(x, n, p, k, label, psum, pcnt);
        memset(next, 0, k * p * sizeof *next);
        memset(count, 0, k * sizeof *count);
        for (size_t ch = 0; ch < chunks; ch++) { /* in chunk order: the same bits on any threads */
            for (size_t v = 0; v < k * p; v++) next[v] += psum[ch * k * p + v];
            for (size_t c = 0; c < k; c++) count[c] += pcnt[ch * k + c];
        }
        int empty = 0;
        for (size_t c = 0; c < k; c++) empty |= count[c] == 0;
        if (empty) /* each row's squared distance to its (nearest) centre */
            for (size_t i = 0; i < n; i++) dist[i] = kn__km_dist2(x, p, i, cen + label[i] * p);
        for (size_t c = 0; c < k; c++) {
            if (count[c]) {
                for (size_t j = 0; j < p; j++) next[c * p + j] /= (double)count[c];
                continue;
            }
            /* empty: the row farthest from its centre moves here */
            size_t far = 0;
            for (size_t i = 1; i < n; i++)
                if (dist[i] > dist[far]) far = i;
            memcpy(next + c * p, x + far * p, p * sizeof *next);
            dist[far] = 0;
        }
        double shift = 0, max1 = 0, max2 = 0;
        size_t arg1 = 0;
        for (size_t c = 0; c < k; c++) {
            double m = 0;
            for (size_t j = 0; j < p; j++) {
                double d = next[c * p + j] - cen[c * p + j];
                m += d * d;
            }
            shift += m;
            move[c] = sqrt(m);
            if (move[c] > max1) {
                max2 = max1;
                max1 = move[c];
                arg1 = c;
            } else if (move[c] > max2)
                max2 = move[c];
        }
        for (size_t i = 0; i < n; i++) { /* the bounds follow the centres */
            ub[i] += move[label[i]];
            lb[i] -= label[i] == arg1 ? max2 : max1;
        }
        memcpy(cen, next, k * p * sizeof *cen);
        if (shift <= tol) {
            it++;
            break;
        }
    }
    /* the last assignment, to the final centres: the bounds still hold, so
     * only the rows they cannot settle are tested */
    int moved;
    half_gaps(cen, k, p, half);
    kn_status e =
        kn__km_assign_bounded(x, n, p, xn, cen, k, label, ub, lb, half, 0, &moved, NULL, NULL);
    kn_free(psum), kn_free(pcnt), kn_free(ub), kn_free(lb), kn_free(half);
    if (e != KN_OK) return NAN;
#pragma omp parallel for schedule(static) if (n >= 32768)
    for (size_t i = 0; i < n; i++) dist[i] = kn__km_dist2(x, p, i, cen + label[i] * p);
    double inertia = 0;
    for (size_t i = 0; i < n; i++) inertia += dist[i];
    *iters = strict ? it + 1 : it;
    return inertia;
}

/* The registered metric silhouette of the labels (NaN where it is
 * undefined, e.g. every row in one cluster). */
static double silhouette(const double *x, size_t n, size_t p, const size_t *label, size_t k)
{
    int32_t *lab = kn_malloc(n * sizeof *lab);
    double *xc = kn_malloc((n * p + 1) * sizeof *xc), v = NAN; /* column-major, as metrics take */
    if (lab && xc) {
        for (size_t i = 0; i < n; i++) lab[i] = (int32_t)label[i];
        for (size_t i = 0; i < n; i++)
            for (size_t j = 0; j < p; j++) xc[j * n + i] = x[i * p + j];
        kn_metric_data d = {.n = n, .pred_class = lab, .k = k, .positive = -1, .x = xc, .p = p};
        if (kn_metric_compute("silhouette", &d, &v) != KN_OK) v = NAN;
    }
    kn_free(lab), kn_free(xc);
    return v;
}

static kn_status km_fit(kn_model *m, const kn_dataset *d)
{
    const km_params *par = kn_model_params(m);
    size_t n = d->n, p = d->p, k = (size_t)par->n_clusters, runs = (size_t)par->n_init;
    if (k > n)
        return kn_fail(KN_ERR_INVALID,
                       "kmeans: n_clusters=%zu is more than the %zu rows; choose at most %zu", k, n,
                       n);
    if (n > INT_MAX || k > INT_MAX || p > INT_MAX) /* the BLAS counts in int */
        return kn_fail(KN_ERR_INVALID,
                       "kmeans: %zu rows, %zu features, %zu clusters: each must be at most %d; "
                       "sample the rows",
                       n, p, k, INT_MAX);
    /* the k-means++ seeding's float copy, shared by the runs (mini-batch
     * seeds from samples of its own). One Lloyd run (share) seeds first,
     * on a float copy in the first half of x's space, candidates read from
     * the columns; x is made there after: 80 MB fewer fresh pages at
     * 1,000,000 x 20, which this machine clears at about 1 GB/s. */
    int share = par->algorithm == KM_LLOYD && runs == 1;
    double *x = kn_malloc((n * p + 1) * sizeof *x), *xn = kn_malloc((n + 1) * sizeof *xn);
    float *xs = share                        ? (float *)(void *)x
                : par->algorithm == KM_LLOYD ? kn_malloc((n * p + 1) * sizeof *xs)
                                             : NULL;
    const double **col = kn_malloc((p + 1) * sizeof *col);
    if (!x || !xn || !col || (par->algorithm == KM_LLOYD && !xs)) {
        kn_free(x), kn_free(xn), kn_free(share ? NULL : xs), kn_free((void *)col);
        return KN_ERR_NOMEM;
    }
    double var = 0, *cvar = kn_malloc((p + 1) * sizeof *cvar);
    if (!cvar) {
        kn_free(x), kn_free(xn), kn_free(share ? NULL : xs), kn_free((void *)col);
        return KN_ERR_NOMEM;
    }
    for (size_t j = 0; j < p; j++) col[j] = kn_dataset_column(d, j);
#pragma omp parallel for schedule(dynamic, 1) if (n >= 32768)
    for (size_t j = 0; j < p; j++) { /* each column's variance, added in column order below */
        double mean = 0, ss = 0;
        for (size_t i = 0; i < n; i++) mean += col[j][i];
        mean /= (double)n;
        for (size_t i = 0; i < n; i++) ss += (col[j][i] - mean) * (col[j][i] - mean);
        cvar[j] = ss / (double)n;
    }
    for (size_t j = 0; j < p; j++) var += cvar[j];
    kn_free(cvar);
    double tol = par->tol * (p ? var / (double)p : 0);
    double *sdist = NULL, *scen = NULL;
    size_t *slabel = NULL;
    kn_status first = KN_OK;
    if (share) { /* the seeding, then x in its float copy's place */
        sdist = kn_malloc(n * sizeof *sdist), slabel = kn_malloc(n * sizeof *slabel);
        scen = kn_malloc(k * p * sizeof *scen);
        first = sdist && slabel && scen ? KN_OK : KN_ERR_NOMEM;
#pragma omp parallel for schedule(static) if (n >= 32768)
        for (size_t b = 0; b < (n + 255) / 256; b++) {
            size_t lo = b * 256, hi = lo + 256 < n ? lo + 256 : n;
            for (size_t j = 0; first == KN_OK && j < p; j++)
                for (size_t i = lo; i < hi; i++) xs[i * p + j] = (float)col[j][i];
        }
        kn_rng r;
        kn_rng_init_stream(&r, (uint64_t)par->seed, 0); /* as run 0 of run_once */
        if (first == KN_OK) first = kn__km_seed_pp(NULL, col, xs, n, p, k, &r, scen, sdist, slabel);
        xs = NULL; /* x's space from here */
    }
    /* row-major, a block of rows at a time so the rows stay in cache */
#pragma omp parallel for schedule(static) if (n >= 32768)
    for (size_t b = 0; b < (n + 255) / 256; b++) {
        size_t lo = b * 256, hi = lo + 256 < n ? lo + 256 : n;
        for (size_t j = 0; j < p; j++)
            for (size_t i = lo; i < hi; i++) x[i * p + j] = col[j][i];
        if (xs)
            for (size_t v = lo * p; v < hi * p; v++) xs[v] = (float)x[v];
        for (size_t i = lo; i < hi; i++) { /* the squared norms (kn__km_norms), rows in cache */
            double q = 0;
            for (size_t j = 0; j < p; j++) q += x[i * p + j] * x[i * p + j];
            xn[i] = q;
        }
    }
    kn_free((void *)col);
    double *cen_all = kn_malloc(runs * k * p * sizeof *cen_all);
    double *inertia = kn_malloc(runs * sizeof *inertia);
    size_t *iters = kn_malloc(runs * sizeof *iters);
    if (first == KN_OK && !(cen_all && inertia && iters)) first = KN_ERR_NOMEM;
    if (first == KN_OK && share) memcpy(cen_all, scen, k * p * sizeof *cen_all);
    kn_ctx *ctx = kn_ctx_current();
    int failed = first != KN_OK;
#pragma omp parallel if (runs > 1)
    {
        kn_ctx *prev = kn__ctx_swap(ctx);
        /* share: one run, the seeding's buffers */
        double *next = kn_malloc(k * p * sizeof *next),
               *dist = share ? sdist : kn_malloc(n * sizeof *dist);
        size_t *label = share ? slabel : kn_malloc(n * sizeof *label),
               *count = kn_malloc(k * sizeof *count);
        int ok = next && dist && label && count;
#pragma omp for schedule(dynamic, 1)
        for (size_t r = 0; r < runs; r++) {
            int stop;
#pragma omp atomic read
            stop = failed;
            if (stop) continue;
            kn_status e = ok ? kn_ctx_check() : KN_ERR_NOMEM;
            if (e == KN_OK) {
                inertia[r] = run_once(x, xs, n, p, k, par, tol, r, share, cen_all + r * k * p, next,
                                      label, dist, xn, count, &iters[r]);
                if (isnan(inertia[r])) e = KN_ERR_NOMEM;
            }
            if (e != KN_OK) {
#pragma omp critical(kmeans_fail)
                {
                    if (!failed) first = e;
                    failed = 1;
                }
            }
        }
        kn_free(next), kn_free(count);
        if (!share) kn_free(dist), kn_free(label);
        kn__ctx_swap(prev);
    }
    km_state *s = NULL;
    size_t *label = NULL;
    if (first == KN_OK) {
        size_t best = 0;
        for (size_t r = 1; r < runs; r++)
            if (inertia[r] < inertia[best]) best = r;
        s = kn_calloc(1, sizeof *s);
        if (s) s->centre = kn_malloc(k * p * sizeof *s->centre);
        label = kn_malloc(n * sizeof *label);
        if (!s || !s->centre || !label) first = KN_ERR_NOMEM;
        if (first == KN_OK) {
            s->k = k;
            s->p = p;
            memcpy(s->centre, cen_all + best * k * p, k * p * sizeof *s->centre);
            s->inertia = inertia[best];
            s->iterations = iters[best];
            s->silhouette = NAN;
            if (par->silhouette_rows > 0 && n <= (size_t)par->silhouette_rows && k > 1 && k < n) {
                double *dd = kn_malloc(n * sizeof *dd);
                if (dd && kn__km_assign(x, n, p, xn, s->centre, k, label, dd) == KN_OK)
                    s->silhouette = silhouette(x, n, p, label, k);
                kn_free(dd);
            }
        }
    }
    kn_free(label);
    kn_free(x), kn_free(xn), kn_free(xs), kn_free(cen_all), kn_free(inertia), kn_free(iters);
    kn_free(sdist), kn_free(slabel), kn_free(scen);
    if (first != KN_OK) {
        km_free(s);
        return first == KN_ERR_CANCELLED ? kn_ctx_check() : first;
    }
    kn_model_set_state(m, s);
    return KN_OK;
}

static kn_status km_predict(const kn_model *m, const kn_dataset *d, double *out)
{
    const km_state *s = kn_model_state(m);
    size_t n = d->n, p = s->p;
    const double **col = kn_malloc((p ? p : 1) * sizeof *col);
    double *row = kn_malloc((p ? p : 1) * sizeof *row);
    if (!col || !row) {
        kn_free((void *)col), kn_free(row);
        return KN_ERR_NOMEM;
    }
    for (size_t j = 0; j < p; j++) col[j] = kn_dataset_column(d, j);
    for (size_t i = 0; i < n; i++) {
        for (size_t j = 0; j < p; j++) row[j] = col[j][i];
        double dd;
        out[i] = (double)kn__km_nearest(row, p, 0, s->centre, s->k, &dd);
    }
    kn_free((void *)col), kn_free(row);
    return KN_OK;
}

static kn_status km_summary(const kn_model *m, kn_fit_summary *out)
{
    const km_state *s = kn_model_state(m);
    memset(out, 0, sizeof *out);
    out->n_stats = 4;
    out->stat_name[0] = "inertia";
    out->stat[0] = s->inertia;
    out->stat_name[1] = "silhouette";
    out->stat[1] = s->silhouette;
    out->stat_name[2] = "iterations";
    out->stat[2] = (double)s->iterations;
    out->stat_name[3] = "clusters";
    out->stat[3] = (double)s->k;
    return KN_OK;
}

static kn_status km_save(const kn_model *m, kn_wbuf *w)
{
    const km_state *s = kn_model_state(m);
    kn_wbuf_u64(w, s->k);
    kn_wbuf_u64(w, s->p);
    kn_wbuf_u64(w, s->iterations);
    kn_wbuf_f64(w, s->inertia);
    kn_wbuf_f64(w, s->silhouette);
    kn_wbuf_f64s(w, s->centre, s->k * s->p);
    return kn_wbuf_status(w);
}

static kn_status km_load(kn_model *m, kn_rbuf *r)
{
    uint64_t k, p, it;
    kn_status e = kn_rbuf_u64(r, &k);
    if (e == KN_OK) e = kn_rbuf_u64(r, &p);
    if (e == KN_OK) e = kn_rbuf_u64(r, &it);
    if (e != KN_OK) return e;
    if (p != kn_model_n_features(m) || k == 0 || (p && k > kn_rbuf_left(r) / 8 / p))
        return kn_fail(KN_ERR_CORRUPT, "%s: k-means header is damaged", r->what);
    km_state *s = kn_calloc(1, sizeof *s);
    if (s) s->centre = kn_malloc((k * p + 1) * sizeof *s->centre);
    if (!s || !s->centre) {
        km_free(s);
        return KN_ERR_NOMEM;
    }
    s->k = k;
    s->p = p;
    s->iterations = it;
    e = kn_rbuf_f64(r, &s->inertia);
    if (e == KN_OK) e = kn_rbuf_f64(r, &s->silhouette);
    for (size_t v = 0; e == KN_OK && v < k * p; v++) e = kn_rbuf_f64(r, &s->centre[v]);
    if (e != KN_OK) {
        km_free(s);
        return e;
    }
    kn_model_set_state(m, s);
    return KN_OK;
}

static const kn_model_vt km_vt = {.task = KN_TASK_REGRESSION,
                                  .fit = km_fit,
                                  .predict = km_predict,
                                  .free_state = km_free,
                                  .save = km_save,
                                  .load = km_load,
                                  .summary = km_summary,
                                  .flags = KN_MODEL_READS_COLUMNS | KN_MODEL_UNSUPERVISED |
                                           KN_MODEL_CLUSTERS};

const kn_component kn__kmeans = {KN_COMP_MODEL,
                                 "kmeans",
                                 "k-means clustering (k-means++ seeding, Lloyd or mini-batch "
                                 "iterations, best of n_init runs; 'kiln cluster')",
                                 km_defs,
                                 sizeof(km_params),
                                 &km_vt};

const double *kn__kmeans_centres(const kn_model *m, size_t *k, size_t *p)
{
    const km_state *s = kn_model_state(m);
    if (!s) return NULL;
    *k = s->k;
    *p = s->p;
    return s->centre;
}
