/* A batch against a fixed reference without sorting the batch
 * (compare-impl.h: kn__vs_ref, kn__ref_index_make). A server tests every
 * window of every numeric input against the same stored sample: sorting
 * each window and walking it beside the sample cost 24 us a column for
 * 1,000 normal rows against 2,001 values (bench/monitor_parts); placing
 * each value among the sample's (a guide of equal parts of the sample's
 * range, then a few halvings within one part, four values side by side)
 * and reading KS, the Wasserstein distance and the PSI off the counts per
 * gap costs 16.6 us (18 with the caches cold, as a server's window finds
 * them, against 26).
 *
 * On gap k, [ra[k - 1], ra[k]), the sample's CDF is k / m. With `below`
 * the batch's values under the gap and `ties` those equal to ra[k - 1],
 * the batch's CDF times m mb less the sample's is lo = (below + ties) m -
 * k mb at the gap's start and hi = (below + n) m - k mb at its end, so
 * KS's numerator is the largest |lo| or |hi| (exact integers: the same
 * bits as the walk). The integral over the gap is |lo| width when it holds
 * nothing but ties, plus for each other value x in it (ra[k] - x) m on
 * lo's side, unless lo and hi differ in sign: the CDFs cross inside, and
 * those few gaps are walked value by value. */
#include "kiln/mem.h"
#include "learn/eval/compare-impl.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

enum { PARTS_MAX = 1024 };

void kn__ref_index_free(kn__ref_index *x)
{
    kn_free(x->width), kn_free(x->guide), kn_free(x->bin_gap);
    memset(x, 0, sizeof *x);
}

/* The part of v: monotone in v, so a part's values all lie between the
 * values of the parts before and after it. */
static inline size_t part_of(const kn__ref_index *x, double v)
{
    double t = (v - x->lo) * x->scale, top = (double)(x->parts - 1);
    t = t < top ? t : top;
    t = t >= 0 ? t : 0;
    return (size_t)t;
}

kn_status kn__ref_index_make(kn__psi_ref *r)
{
    kn__ref_index *x = &r->index;
    memset(x, 0, sizeof *x);
    const double *ra = r->ra;
    size_t m = r->ma;
    if (!m || m > INT32_MAX || !isfinite(ra[0]) || !isfinite(ra[m - 1]))
        return KN_OK; /* not ready: such a reference is sorted and walked */
    size_t parts = 1;
    while (parts < m / 2 && parts < PARTS_MAX) parts *= 2;
    double span = ra[m - 1] - ra[0], scale = (double)parts / span;
    if (!(span > 0) || !isfinite(span) || !isfinite(scale)) parts = 1, scale = 0;
    x->parts = parts, x->lo = ra[0], x->scale = scale;
    x->width = kn_malloc((m + 1) * sizeof *x->width);
    x->guide = kn_calloc(parts + 1, sizeof *x->guide);
    x->bin_gap = kn_malloc((r->k + 2) * sizeof *x->bin_gap);
    if (!x->width || !x->guide || !x->bin_gap) {
        kn__ref_index_free(x);
        return KN_ERR_NOMEM;
    }
    x->width[0] = x->width[m] = 0;
    for (size_t k = 1; k < m; k++) x->width[k] = ra[k] - ra[k - 1];
    for (size_t i = 0; i < m; i++) x->guide[part_of(x, ra[i]) + 1]++;
    uint32_t most = 0;
    for (size_t p = 1; p <= parts; p++) {
        most = x->guide[p] > most ? x->guide[p] : most;
        x->guide[p] += x->guide[p - 1];
    }
    while (((uint64_t)1 << x->steps) <= most) x->steps++;
    /* a tie-free value in gap k falls in PSI bin #{edges <= ra[k - 1]}:
     * the bins start where the gaps pass an edge (edges are sample values) */
    size_t e = 0;
    x->bin_gap[0] = 0;
    for (size_t k = 1; k <= m; k++)
        while (e < r->k && r->edges[e] <= ra[k - 1]) x->bin_gap[++e] = (uint32_t)k;
    while (e < r->k) x->bin_gap[++e] = (uint32_t)(m + 1);
    x->bin_gap[r->k + 1] = (uint32_t)(m + 1);
    x->ready = 1;
    return KN_OK;
}

/* One halving of a search within [lo, hi): step up when the value at the
 * step is not above x; arithmetic on the comparisons, not a branch (GCC
 * made `cond ? nk : lo` a jump, mispredicted half the time). */
static inline size_t halve(const double *ra, size_t m, size_t lo, size_t hi, size_t step, double x)
{
    size_t nk = lo + step, j = nk - 1 < m ? nk - 1 : m - 1;
    return lo + step * ((size_t)(nk <= hi) & (size_t)(ra[j] <= x));
}

/* #{ra <= v[l]} for four values side by side: each within its part, in
 * `steps` halvings that depend on the index only (no branch on the data,
 * and the four chains of loads overlap). */
static inline void locate4(const kn__ref_index *x, const double *ra, size_t m, const double *v,
                           uint32_t *k)
{
    size_t p0 = part_of(x, v[0]), p1 = part_of(x, v[1]), p2 = part_of(x, v[2]),
           p3 = part_of(x, v[3]);
    size_t lo0 = x->guide[p0], lo1 = x->guide[p1], lo2 = x->guide[p2], lo3 = x->guide[p3];
    size_t hi0 = x->guide[p0 + 1], hi1 = x->guide[p1 + 1], hi2 = x->guide[p2 + 1],
           hi3 = x->guide[p3 + 1];
    for (unsigned s = x->steps; s-- > 0;) {
        size_t step = (size_t)1 << s;
        lo0 = halve(ra, m, lo0, hi0, step, v[0]);
        lo1 = halve(ra, m, lo1, hi1, step, v[1]);
        lo2 = halve(ra, m, lo2, hi2, step, v[2]);
        lo3 = halve(ra, m, lo3, hi3, step, v[3]);
    }
    k[0] = (uint32_t)lo0, k[1] = (uint32_t)lo1, k[2] = (uint32_t)lo2, k[3] = (uint32_t)lo3;
}

/* The integral of |j m - c| over gap k (c = k mb) walked over its values
 * xs[0..n), sorted here (a gap holds a few); j starts at the values below
 * the gap. */
static double walk_gap(const double *ra, size_t k, double c, double j, double fm, double *xs,
                       size_t n)
{
    for (size_t i = 1; i < n; i++) { /* insertion sort */
        double t = xs[i];
        size_t at = i;
        for (; at > 0 && xs[at - 1] > t; at--) xs[at] = xs[at - 1];
        xs[at] = t;
    }
    double x = ra[k - 1], sum = 0;
    for (size_t s = 0; s < n; s++, j++) {
        if (xs[s] > x) sum += fabs(c - j * fm) * (xs[s] - x), x = xs[s];
    }
    return sum + fabs(c - j * fm) * (ra[k] - x);
}

/* The PSI bin of gap k: its last bin starting at or before it. */
static size_t bin_of_gap(const kn__psi_ref *r, size_t k)
{
    size_t b = 0;
    while (b + 1 <= r->k && r->index.bin_gap[b + 1] <= k) b++;
    return b;
}

/* KS's numerator, the Wasserstein integral (times m mb) and the PSI counts
 * of the batch v (mb values, value i in gap at[i]): see the top. below,
 * ties, fill: m + 2 zeros; slot, list: mb of room (the values of the
 * gaps where the CDFs cross, each gap's in its place of the sorted order;
 * those gaps). */
static void distances(const kn__psi_ref *r, const double *v, const uint32_t *at, size_t mb,
                      uint32_t *below, uint32_t *ties, uint32_t *fill, double *slot, uint32_t *list,
                      double *most_out, double *sum_out, double *cc)
{
    const kn__ref_index *x = &r->index;
    const double *ra = r->ra, *width = x->width;
    size_t m = r->ma, n_cross = 0, n_ties = 0;
    double fm = (double)m, fmb = (double)mb, most = 0, sum = 0;
    for (size_t i = 0; i < mb; i++) {
        size_t k = at[i];
        below[k + 1]++;
        if (k && ra[k - 1] == v[i]) ties[k]++, n_ties++;
    }
    for (size_t k = 1; k <= m + 1; k++) below[k] += below[k - 1];
    /* every gap as if it held only its ties: the batch's CDF (times m)
     * less the sample's is lo throughout; an empty gap (width 0) has no
     * point of either CDF */
    for (size_t k = 1; k < m; k++) {
        double c = (double)k * fmb, lo = (double)(below[k] + ties[k]) * fm - c,
               hi = (double)below[k + 1] * fm - c;
        double g = fabs(lo) > fabs(hi) ? fabs(lo) : fabs(hi);
        g = width[k] > 0 ? g : 0;
        most = g > most ? g : most;
        sum += fabs(lo) * width[k];
    }
    double g0 = (double)below[1] * fm, gm = fabs((double)(below[m] + ties[m]) * fm - fm * fmb);
    most = g0 > most ? g0 : most;
    most = gm > most ? gm : most;
    for (size_t i = 0; i < mb; i++) { /* the values: their distances, or the crossings */
        size_t k = at[i];
        if (k == 0) {
            sum += fm * (ra[0] - v[i]);
            continue;
        }
        if (k == m) {
            sum += fm * (v[i] - ra[m - 1]);
            continue;
        }
        double c = (double)k * fmb, lo = (double)(below[k] + ties[k]) * fm - c,
               hi = (double)below[k + 1] * fm - c;
        /* without branches: whether the CDFs cross in the gap, or lo's
         * sign, is a coin flip to the predictor where they run close */
        int cross = (lo < 0) & (hi > 0); /* the gap's, so all of its values' */
        slot[below[k] + fill[k]] = v[i]; /* read only for a crossing gap */
        list[n_cross] = (uint32_t)k;
        n_cross += (size_t)(cross & (fill[k] == 0));
        fill[k] += (uint32_t)cross;
        double d = (lo >= 0 ? fm : -fm) * (ra[k] - v[i]);
        sum += (cross | (v[i] == ra[k - 1])) ? 0 : d; /* a tie is in lo already */
    }
    for (size_t s = 0; s < n_cross; s++) { /* in any order: each gap's integral is its own */
        size_t k = list[s];
        double c = (double)k * fmb;
        sum += walk_gap(ra, k, c, (double)below[k], fm, slot + below[k], fill[k]) -
               fabs((double)(below[k] + ties[k]) * fm - c) * width[k];
    }
    /* PSI: a value x falls in bin #{edges < x}: gap k's bin, one less for a
     * tie with an edge (the edges are values of the sample) */
    for (size_t b = 0; b <= r->k; b++)
        cc[b] = (double)(below[x->bin_gap[b + 1]] - below[x->bin_gap[b]]);
    for (size_t i = 0; n_ties && i < mb; i++) {
        size_t k = at[i];
        if (!k || ra[k - 1] != v[i]) continue;
        size_t b = bin_of_gap(r, k);
        if (b && r->edges[b - 1] == ra[k - 1]) cc[b]--, cc[b - 1]++;
    }
    *most_out = most, *sum_out = sum;
}

kn_status kn__vs_ref(const kn__psi_ref *r, const double *b, size_t nb, size_t *mb_out, double *ks,
                     double *w, double *psi, size_t *n_bins, int *done)
{
    *done = 0;
    const kn__ref_index *x = &r->index;
    const double *ra = r->ra;
    size_t m = r->ma, mb = 0;
    /* the numerators must be exact in a double */
    if (!x->ready || nb > INT32_MAX || (double)m * (double)nb >= 9007199254740992.0) return KN_OK;
    double *v = kn_malloc((nb + 4) * sizeof *v), *cc = kn_calloc(r->k + 2, sizeof *cc);
    uint32_t *at = kn_malloc((nb + 4) * sizeof *at);
    double *slot = kn_malloc((nb ? nb : 1) * sizeof *slot);
    uint32_t *list = kn_malloc((nb ? nb : 1) * sizeof *list), *gaps = NULL;
    kn_status e = v && cc && at && slot && list ? KN_OK : KN_ERR_NOMEM;
    /* the searches read the sample and the guide at random: ask for all
     * of their lines at once (a server's window finds them out of cache) */
    for (size_t i = 0; i < m; i += 8) __builtin_prefetch(ra + i);
    for (size_t i = 0; i <= x->parts; i += 16) __builtin_prefetch(x->guide + i);
    for (size_t i = 0; e == KN_OK && i < nb; i++) {
        if (isnan(b[i])) continue;
        if (!isfinite(b[i])) goto out; /* +-inf: the walk knows their widths */
        v[mb++] = b[i];
    }
    if (e != KN_OK || !mb) goto out;
    for (size_t i = mb; i < mb + 4; i++) v[i] = ra[0]; /* the last four's padding */
    for (size_t i = 0; i < mb; i += 4) locate4(x, ra, m, v + i, at + i);
    double most = 0, sum = 0;
    if (!(gaps = kn_calloc(3 * (m + 2), sizeof(uint32_t)))) {
        e = KN_ERR_NOMEM;
        goto out;
    }
    distances(r, v, at, mb, gaps, gaps + m + 2, gaps + 2 * (m + 2), slot, list, &most, &sum, cc);
    cc[r->k + 1] = (double)(nb - mb); /* missing */
    double cells = (double)m * (double)mb;
    *ks = most / cells;
    *w = sum / cells;
    *psi = kn__psi(r->cr, cc, r->k + 2, (double)r->na, (double)nb);
    *n_bins = r->k + 1 + (r->cr[r->k + 1] + cc[r->k + 1] > 0);
    *mb_out = mb;
    *done = 1;
out:
    kn_free(v), kn_free(cc), kn_free(at), kn_free(slot), kn_free(list), kn_free(gaps);
    return e;
}
