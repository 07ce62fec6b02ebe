/* Mini-batch k-means (Sculley, "Web-Scale K-Means Clustering", 2010), as
 * scikit-learn's MiniBatchKMeans: k-means++ seeding on a sample of
 * max(3 x batch, 3 x k) rows (at most all of them) drawn with replacement,
 * then max_iter x n / batch steps. Each step draws batch rows with
 * replacement, assigns them to the nearest centre as it stands, and moves
 * each centre c that got rows to the mean of everything it has been given
 * so far: centre = (centre x w_c + sum of its new rows) / (w_c + count),
 * w_c += count. While a centre has had no rows, or after every 10 x k
 * drawn rows, centres with w_c below reassign_ratio x the largest w (at
 * most half a batch of them) move to distinct rows of the batch drawn
 * uniformly, taking the least w of the others. The run stops early when
 * the smoothed batch inertia (per row; weight 2 batch / (n + 1), the first
 * step left out) has not improved for no_improvement steps. The inertia
 * returned is over all rows. */
#include "kiln/mem.h"
#include "learn/unsup/kmeans-impl.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

typedef struct mb_weight {
    double w;
    size_t c;
} mb_weight;

static int by_weight(const void *a, const void *b)
{
    const mb_weight *x = a, *y = b;
    if (x->w != y->w) return x->w < y->w ? -1 : 1;
    return x->c < y->c ? -1 : x->c > y->c;
}

/* Centres with too little weight move to distinct rows of the batch. */
static void reassign(const double *x, size_t p, size_t k, const size_t *rows, size_t batch,
                     double ratio, kn_rng *r, double *cen, double *w, mb_weight *order,
                     size_t *pick)
{
    double top = 0;
    for (size_t c = 0; c < k; c++)
        if (w[c] > top) top = w[c];
    size_t moved = 0, most = batch / 2;
    for (size_t c = 0; c < k; c++) {
        order[c].w = w[c];
        order[c].c = c;
        moved += w[c] < ratio * top;
    }
    if (moved == 0) return;
    qsort(order, k, sizeof *order, by_weight); /* the lightest first */
    if (moved > most) moved = most;
    if (moved == 0 || moved == k) return;
    double rest = INFINITY; /* the least weight of the centres that stay */
    for (size_t t = moved; t < k; t++)
        if (order[t].w < rest) rest = order[t].w;
    for (size_t b = 0; b < batch; b++) pick[b] = b;
    for (size_t t = 0; t < moved; t++) { /* distinct batch rows, partial Fisher-Yates */
        size_t j = t + (size_t)kn_rng_below(r, batch - t), tmp = pick[t];
        pick[t] = pick[j];
        pick[j] = tmp;
        size_t c = order[t].c, row = rows[pick[t]];
        memcpy(cen + c * p, x + row * p, p * sizeof *cen);
        w[c] = rest;
    }
}

double kn__km_minibatch_run(const double *x, size_t n, size_t p, const double *xn, size_t k,
                            const kn__km_minibatch *o, kn_rng *r, double *cen, size_t *steps)
{
    size_t batch = o->batch, init = 3 * batch;
    if (init < 3 * k) init = 3 * k;
    if (init > n) init = n;
    size_t big = init > batch ? init : batch;
    double *sample = kn_malloc((init * p + 1) * sizeof *sample);
    double *scratch = kn_malloc((init + 1) * sizeof *scratch);
    double *sum = kn_malloc((k * p + 1) * sizeof *sum), *w = kn_calloc(k, sizeof *w);
    double *row = kn_malloc((p + 1) * sizeof *row);
    size_t *rows = kn_malloc(big * sizeof *rows);
    size_t *count = kn_malloc(k * sizeof *count), *pick = kn_malloc(big * sizeof *pick);
    mb_weight *order = kn_malloc(k * sizeof *order);
    double inertia = NAN;
    if (!sample || !scratch || !sum || !w || !row || !rows || !count || !pick || !order) goto done;

    for (size_t i = 0; i < init; i++) rows[i] = (size_t)kn_rng_below(r, n);
    for (size_t f = 0; f < p; f++)
        for (size_t i = 0; i < init; i++) sample[i * p + f] = x[rows[i] * p + f];
    if (kn__km_seed_pp(sample, NULL, NULL, init, p, k, r, cen, scratch, rows) != KN_OK) goto done;

    size_t total = o->max_iter * n / batch, step = 0, since_reassign = 0, stale = 0;
    if (total == 0) total = 1;
    double alpha = 2.0 * (double)batch / ((double)n + 1), ewa = NAN, ewa_min = INFINITY;
    if (alpha > 1) alpha = 1;
    for (; step < total; step++) {
        for (size_t b = 0; b < batch; b++) rows[b] = (size_t)kn_rng_below(r, n);
        memset(sum, 0, k * p * sizeof *sum);
        memset(count, 0, k * sizeof *count);
        double batch_inertia = 0;
        for (size_t b = 0; b < batch; b++) {
            memcpy(row, x + rows[b] * p, p * sizeof *row);
            double d;
            size_t c = kn__km_nearest(row, p, 0, cen, k, &d);
            batch_inertia += d;
            count[c]++;
            for (size_t f = 0; f < p; f++) sum[c * p + f] += row[f];
        }
        int empty = 0;
        for (size_t c = 0; c < k; c++) {
            if (count[c]) {
                double *cc = cen + c * p, tw = w[c] + (double)count[c];
                for (size_t f = 0; f < p; f++) cc[f] = (cc[f] * w[c] + sum[c * p + f]) / tw;
                w[c] = tw;
            }
            empty |= w[c] == 0;
        }
        since_reassign += batch;
        if (o->reassign_ratio > 0 && (empty || since_reassign >= 10 * k)) {
            since_reassign = 0;
            reassign(x, p, k, rows, batch, o->reassign_ratio, r, cen, w, order, pick);
        }
        if (step == 0) continue; /* the first batch's inertia is the seeding's */
        batch_inertia /= (double)batch;
        ewa = isnan(ewa) ? batch_inertia : ewa * (1 - alpha) + batch_inertia * alpha;
        if (ewa < ewa_min) {
            ewa_min = ewa;
            stale = 0;
        } else if (++stale >= o->no_improvement) {
            step++;
            break;
        }
    }
    *steps = step;
    size_t *all = kn_malloc(n * sizeof *all);
    double *dist = kn_malloc(n * sizeof *dist);
    if (all && dist && kn__km_assign(x, n, p, xn, cen, k, all, dist) == KN_OK) {
        inertia = 0;
        for (size_t i = 0; i < n; i++) inertia += dist[i];
    }
    kn_free(all), kn_free(dist);
done:
    kn_free(sample), kn_free(scratch), kn_free(sum), kn_free(w), kn_free(row);
    kn_free(rows), kn_free(count), kn_free(pick), kn_free(order);
    return inertia;
}
