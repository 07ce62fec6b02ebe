/* k-nearest-neighbour search (see learn/neighbors/kdtree.h). */
#include "learn/neighbors/kdtree.h"

#include "kiln/mem.h"
#include "core/ctx-impl.h"

#include <cblas.h>
#include <math.h>
#include <string.h>

/* Distance between two rows of p values. */
static double distance(const double *a, const double *b, size_t p, kn_distance metric)
{
    double s = 0;
    if (metric == KN_DIST_MANHATTAN) {
        for (size_t j = 0; j < p; j++) s += fabs(a[j] - b[j]);
        return s;
    }
    for (size_t j = 0; j < p; j++) s += (a[j] - b[j]) * (a[j] - b[j]);
    return sqrt(s);
}

/* The best k so far, sorted ascending by (distance, index). */
typedef struct best {
    size_t k, count;
    size_t *idx;
    double *dist;
} best;

static int before(double d1, size_t i1, double d2, size_t i2)
{
    return d1 < d2 || (d1 == d2 && i1 < i2);
}

static void offer(best *b, size_t i, double d)
{
    if (b->count == b->k && !before(d, i, b->dist[b->k - 1], b->idx[b->k - 1])) return;
    size_t pos = b->count < b->k ? b->count++ : b->k - 1;
    while (pos > 0 && before(d, i, b->dist[pos - 1], b->idx[pos - 1])) {
        b->dist[pos] = b->dist[pos - 1];
        b->idx[pos] = b->idx[pos - 1];
        pos--;
    }
    b->dist[pos] = d;
    b->idx[pos] = i;
}

static double worst(const best *b)
{
    return b->count < b->k ? INFINITY : b->dist[b->k - 1];
}

/* ---- the tree ---- */

static void swap(size_t *a, size_t *b)
{
    size_t t = *a;
    *a = *b;
    *b = t;
}

/* Reorder idx[lo, hi) so that position mid holds the point whose value in
 * dim would be there if sorted (quickselect, middle-of-three pivot). */
static void select_median(const kn__kdtree *t, size_t *idx, size_t lo, size_t hi, size_t mid,
                          size_t dim)
{
    const double *x = t->x;
    size_t p = t->p;
    while (hi - lo > 1) {
        size_t a = lo, b = lo + (hi - lo) / 2, c = hi - 1;
        double va = x[idx[a] * p + dim], vb = x[idx[b] * p + dim], vc = x[idx[c] * p + dim];
        size_t piv = (va < vb) == (vb < vc) ? b : (vb < va) == (va < vc) ? a : c;
        double pv = x[idx[piv] * p + dim];
        swap(&idx[piv], &idx[hi - 1]);
        size_t store = lo;
        for (size_t i = lo; i < hi - 1; i++)
            if (x[idx[i] * p + dim] < pv) swap(&idx[i], &idx[store++]);
        swap(&idx[store], &idx[hi - 1]);
        if (store == mid) return;
        if (mid < store)
            hi = store;
        else
            lo = store + 1;
    }
}

static kn_status build(kn__kdtree *t, size_t start, size_t end, size_t leaf, size_t *cap)
{
    if (t->n_nodes == *cap) {
        size_t nc = *cap * 2;
        kn__kdnode *nn = kn_realloc(t->node, nc * sizeof *nn);
        if (!nn) return KN_ERR_NOMEM;
        t->node = nn;
        *cap = nc;
    }
    size_t me = t->n_nodes++;
    kn__kdnode *nd = &t->node[me];
    memset(nd, 0, sizeof *nd);
    nd->start = start;
    nd->end = end;
    if (end - start <= leaf) return KN_OK;
    size_t dim = 0;
    double spread = -1;
    for (size_t j = 0; j < t->p; j++) {
        double lo = INFINITY, hi = -INFINITY;
        for (size_t i = start; i < end; i++) {
            double v = t->x[t->idx[i] * t->p + j];
            lo = fmin(lo, v);
            hi = fmax(hi, v);
        }
        if (hi - lo > spread) spread = hi - lo, dim = j;
    }
    if (spread <= 0) return KN_OK; /* all points equal: a leaf */
    size_t mid = start + (end - start) / 2;
    select_median(t, t->idx, start, end, mid, dim);
    double split = t->x[t->idx[mid] * t->p + dim];
    kn_status e = build(t, start, mid, leaf, cap);
    size_t left = me + 1, right = t->n_nodes;
    if (e == KN_OK) e = build(t, mid, end, leaf, cap);
    nd = &t->node[me]; /* the array may have moved */
    nd->left = left;
    nd->right = right;
    nd->dim = dim;
    nd->split = split;
    return e;
}

kn_status kn__kdtree_build(kn__kdtree *t, const double *x, size_t n, size_t p, size_t leaf_size)
{
    memset(t, 0, sizeof *t);
    t->x = x;
    t->n = n;
    t->p = p;
    size_t cap = 64;
    t->idx = kn_malloc((n ? n : 1) * sizeof *t->idx);
    t->node = kn_malloc(cap * sizeof *t->node);
    if (!t->idx || !t->node) {
        kn__kdtree_free(t);
        return KN_ERR_NOMEM;
    }
    for (size_t i = 0; i < n; i++) t->idx[i] = i;
    kn_status e = build(t, 0, n, leaf_size ? leaf_size : 1, &cap);
    if (e != KN_OK) kn__kdtree_free(t);
    return e;
}

void kn__kdtree_free(kn__kdtree *t)
{
    kn_free(t->idx);
    kn_free(t->node);
    memset(t, 0, sizeof *t);
}

/* Descend the near side first; visit the far side only when the splitting
 * plane is closer than the current k-th distance. */
static void search(const kn__kdtree *t, size_t node, const double *q, kn_distance metric, best *b)
{
    const kn__kdnode *nd = &t->node[node];
    if (!nd->left) {
        for (size_t i = nd->start; i < nd->end; i++) {
            size_t r = t->idx[i];
            offer(b, r, distance(q, t->x + r * t->p, t->p, metric));
        }
        return;
    }
    double diff = q[nd->dim] - nd->split;
    size_t near = diff < 0 ? nd->left : nd->right, far = diff < 0 ? nd->right : nd->left;
    search(t, near, q, metric, b);
    /* not >: a point exactly at the plane's distance may tie and win on index,
     * and a NaN (an infinite coordinate) must not prune */
    if (b->count < b->k || !(fabs(diff) > worst(b))) search(t, far, q, metric, b);
}

/* Queries per GEMM block: at most 128, fewer when the points are many, so
 * that a block's distances (block x n) stay near 2 MiB and in cache. */
#define BLOCK_MAX 128
#define BLOCK_CELLS 262144

/* Brute force for queries [q0, q1): squared distances by one GEMM per block,
 * then exact distances for the candidates. */
static void brute_block(const double *x, const double *xnorm, size_t n, size_t p,
                        kn_distance metric, const double *q, size_t q0, size_t q1, size_t k,
                        size_t *nb_idx, double *nb_dist, double *d2)
{
    size_t m = q1 - q0;
    if (metric == KN_DIST_EUCLIDEAN)
        cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (int)m, (int)n, (int)p, -2.0,
                    q + q0 * p, (int)p, x, (int)p, 0.0, d2, (int)n);
    for (size_t r = 0; r < m; r++) {
        const double *qr = q + (q0 + r) * p;
        best b = {k, 0, nb_idx + (q0 + r) * k, nb_dist + (q0 + r) * k};
        if (metric == KN_DIST_MANHATTAN) {
            for (size_t i = 0; i < n; i++) offer(&b, i, distance(qr, x + i * p, p, metric));
            continue;
        }
        double qn = 0;
        for (size_t j = 0; j < p; j++) qn += qr[j] * qr[j];
        /* candidates by the GEMM estimate (below 0 or NaN counts as 0), widened
         * by its rounding margin: first the k-th smallest estimate, kept in
         * top[0..k) ascending, then every row within the margin of it */
        const double *dr = d2 + r * n;
        double *top = b.dist; /* b is empty until the exact pass */
        size_t have = 0;
        for (size_t i = 0; i < n; i++) {
            double v = dr[i] + qn + xnorm[i];
            v = v > 0 ? v : 0;
            if (have == k && !(v < top[k - 1])) continue;
            size_t pos = have < k ? have++ : k - 1;
            for (; pos > 0 && v < top[pos - 1]; pos--) top[pos] = top[pos - 1];
            top[pos] = v;
        }
        double margin = 1e-9 * (qn + top[k - 1]) + 1e-300;
        double limit = top[k - 1] + margin;
        b.count = 0;
        for (size_t i = 0; i < n; i++)
            if (!(dr[i] + qn + xnorm[i] > limit)) offer(&b, i, distance(qr, x + i * p, p, metric));
        if (b.count < k) { /* infinite or NaN values defeat the estimate: scan exactly */
            b.count = 0;
            for (size_t i = 0; i < n; i++) offer(&b, i, distance(qr, x + i * p, p, metric));
        }
    }
}

kn_status kn__knn_query(const kn__kdtree *tree, const double *x, size_t n, size_t p,
                        kn_distance metric, const double *q, size_t m, size_t k, size_t *nb_idx,
                        double *nb_dist)
{
    if (k == 0 || k > n)
        return kn_fail(KN_ERR_INVALID, "k-nearest neighbours: %zu neighbours asked of %zu points",
                       k, n);
    if (tree) {
#pragma omp parallel for schedule(dynamic, 64) if (m > 64)
        for (size_t r = 0; r < m; r++) {
            best b = {k, 0, nb_idx + r * k, nb_dist + r * k};
            search(tree, 0, q + r * p, metric, &b);
        }
        return KN_OK;
    }
    double *xnorm = kn_malloc((n ? n : 1) * sizeof *xnorm);
    if (!xnorm) return KN_ERR_NOMEM;
    for (size_t i = 0; i < n; i++) {
        double s = 0;
        for (size_t j = 0; j < p; j++) s += x[i * p + j] * x[i * p + j];
        xnorm[i] = s;
    }
    size_t block = n ? BLOCK_CELLS / n : BLOCK_MAX;
    block = block < 8 ? 8 : block > BLOCK_MAX ? BLOCK_MAX : block;
    size_t blocks = (m + block - 1) / block;
    int failed = 0;
    kn_ctx *run = kn_ctx_current(); /* workers' scratch is the caller's */
#pragma omp parallel if (blocks > 1)
    {
        double *d2 = kn__malloc_in(run, block * (n ? n : 1) * sizeof *d2);
        if (!d2) {
#pragma omp atomic write
            failed = 1;
        }
#pragma omp for schedule(dynamic, 1)
        for (size_t bl = 0; bl < blocks; bl++) {
            if (!d2) continue;
            size_t q0 = bl * block, q1 = q0 + block < m ? q0 + block : m;
            brute_block(x, xnorm, n, p, metric, q, q0, q1, k, nb_idx, nb_dist, d2);
        }
        kn_free(d2);
    }
    kn_free(xnorm);
    return failed ? KN_ERR_NOMEM : KN_OK;
}
