/* Two samples of a table, column by column (kiln/compare.h). */
#include "learn/eval/compare-impl.h"
#include "core/sort-impl.h"
#include "kiln/mem.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

void kn_compare_opts_default(kn_compare_opts *o)
{
    o->alpha = 0.01;
    o->min_effect = 0.1;
    o->bins = 10;
}

void kn_compare_report_free(kn_compare_report *r)
{
    for (size_t i = 0; r->cols && i < r->n_cols; i++) kn_free(r->cols[i].name);
    kn_free(r->cols);
    memset(r, 0, sizeof *r);
}

/* ---- distributions ---- */

/* P(K > lambda) for the Kolmogorov distribution: the theta-function form
 * below 1.18, where the alternating series converges slowly. */
static double kolmogorov_sf(double lambda)
{
    if (lambda <= 0) return 1;
    double sum = 0;
    if (lambda < 1.18) {
        double k = M_PI * M_PI / (8 * lambda * lambda);
        for (int j = 1; j < 100; j += 2) {
            double t = exp(-(double)(j * j) * k);
            sum += t;
            if (t < 1e-17 * sum) break;
        }
        double cdf = sqrt(2 * M_PI) / lambda * sum;
        return cdf >= 1 ? 0 : 1 - cdf;
    }
    for (int j = 1; j < 100; j++) {
        double t = exp(-2.0 * j * j * lambda * lambda);
        sum += j % 2 ? t : -t;
        if (t < 1e-17) break;
    }
    sum *= 2;
    return sum < 0 ? 0 : sum > 1 ? 1 : sum;
}

/* The regularised upper incomplete gamma function Q(a, x): a power series
 * for P below x = a + 1, a continued fraction (Lentz) for Q above. */
static double gamma_q(double a, double x)
{
    if (!(x > 0)) return 1;
    double log_front = -x + a * log(x) - lgamma(a);
    if (x < a + 1) {
        double ap = a, del = 1 / a, sum = del;
        for (int n = 0; n < 1000; n++) {
            ap += 1;
            del *= x / ap;
            sum += del;
            if (fabs(del) < fabs(sum) * 1e-16) break;
        }
        double q = 1 - sum * exp(log_front);
        return q < 0 ? 0 : q;
    }
    const double tiny = 1e-300;
    double b = x + 1 - a, c = 1 / tiny, d = 1 / b, h = d;
    for (int i = 1; i < 1000; i++) {
        double an = -i * (i - a);
        b += 2;
        d = an * d + b;
        if (fabs(d) < tiny) d = tiny;
        c = b + an / c;
        if (fabs(c) < tiny) c = tiny;
        d = 1 / d;
        double del = d * c;
        h *= del;
        if (fabs(del - 1) < 1e-16) break;
    }
    return exp(log_front) * h;
}

double kn_chi2_sf(double x, double df)
{
    return df > 0 ? gamma_q(df / 2, x / 2) : NAN;
}

double *kn__sorted_present(const double *v, size_t n, size_t *m)
{
    double *s = kn_malloc((n ? n : 1) * sizeof *s);
    if (!s) return NULL;
    size_t k = 0;
    for (size_t i = 0; i < n; i++)
        if (!isnan(v[i])) s[k++] = v[i];
    kn__sort_doubles(s, k);
    *m = k;
    return s;
}

/* A walk over the merged values of sorted a and b (a's first on a tie):
 * after i of a and j of b, x the last value taken; the largest gap
 * numerator seen and the Wasserstein sum so far. */
typedef struct ks_walk {
    size_t i, j;
    double x, sum;
    int64_t most;
} ks_walk;

/* One value of a or b, the lesser, without a branch on the data (a
 * merge's comparisons are coin flips to the branch predictor): an
 * exhausted side reads as +inf. Before taking value v above the last
 * taken x, i and j count the values <= x, so |i nb - j na| / (na nb) is
 * the CDFs' gap there and on [x, v); a step within a run of equal values
 * adds a zero width and is no CDF point. The numerator is an exact
 * integer. */
static inline void ks_step(ks_walk *w, const double *a, size_t na, const double *b, size_t nb)
{
    size_t i = w->i, j = w->j;
    double va = i < na ? a[i < na ? i : na - 1] : INFINITY;
    double vb = j < nb ? b[j < nb ? j : nb - 1] : INFINITY;
    int take_a = (i < na) & ((j >= nb) | (va <= vb)); /* +inf values are data too */
    double v = va < vb ? va : vb; /* (a minsd) the value taken, whichever side */
    int64_t g = (int64_t)i * (int64_t)nb - (int64_t)j * (int64_t)na;
    g = g < 0 ? -g : g;
    w->most = v > w->x && g > w->most ? g : w->most;
    w->sum += v > w->x ? (double)g * (v - w->x) : 0; /* (-inf - -inf would be NaN) */
    w->i = i + (size_t)take_a;
    w->j = j + (size_t)!take_a;
    w->x = v;
}

/* The walk's state after d of the na + nb steps (the merge path's split:
 * a[i - 1] is among the first d taken when b[d - i] is not less). */
static ks_walk ks_walk_at(const double *a, size_t na, const double *b, size_t nb, size_t d)
{
    size_t lo = d > nb ? d - nb : 0, hi = d < na ? d : na;
    while (lo < hi) {
        size_t mid = lo + (hi - lo + 1) / 2;
        if (d - mid >= nb || a[mid - 1] <= b[d - mid])
            lo = mid;
        else
            hi = mid - 1;
    }
    ks_walk w = {lo, d - lo, a[0] < b[0] ? a[0] : b[0], 0, 0};
    if (d) { /* the last value taken: the greater of the last of each side */
        double xa = lo ? a[lo - 1] : -INFINITY, xb = d - lo ? b[d - lo - 1] : -INFINITY;
        w.x = xa > xb ? xa : xb;
    }
    return w;
}

enum { KS_LANES = 4 };

void kn__ks_wasserstein_sorted(const double *a, size_t na, const double *b, size_t nb, double *ks,
                               double *w)
{
    /* The merge cut in KS_LANES stretches of equal length walked side by
     * side: each step waits on the last (its index), so one walk is bound
     * by that chain; four independent ones overlap. The largest gap is
     * the largest of the stretches'; the sum adds theirs in order. */
    size_t total = na + nb, lanes = total >= 64 ? KS_LANES : 1, len = total / lanes;
    ks_walk lane[KS_LANES];
    for (size_t k = 0; k < lanes; k++) lane[k] = ks_walk_at(a, na, b, nb, k * len);
    if (lanes == KS_LANES)
        for (size_t step = 0; step < len; step++)
            for (size_t k = 0; k < KS_LANES; k++) ks_step(&lane[k], a, na, b, nb);
    else
        for (size_t step = 0; step < len; step++) ks_step(&lane[0], a, na, b, nb);
    for (size_t step = lanes * len; step < total; step++) /* the last stretch's rest */
        ks_step(&lane[lanes - 1], a, na, b, nb);
    int64_t most = 0;
    double sum = 0;
    for (size_t k = 0; k < lanes; k++) {
        most = lane[k].most > most ? lane[k].most : most;
        sum += lane[k].sum;
    }
    double cells = (double)na * (double)nb;
    *ks = (double)most / cells;
    *w = sum / cells;
}

double kn__ks_sorted(const double *a, size_t na, const double *b, size_t nb)
{
    double ks, w;
    kn__ks_wasserstein_sorted(a, na, b, nb, &ks, &w);
    return ks;
}

static double ks_p(double d, size_t na, size_t nb)
{
    double en = (double)na * (double)nb / (double)(na + nb), s = sqrt(en);
    return kolmogorov_sf((s + 0.12 + 0.11 / s) * d);
}

void kn_ks_2samp(const double *a, size_t na, const double *b, size_t nb, double *d, double *p)
{
    size_t ma = 0, mb = 0;
    double *sa = kn__sorted_present(a, na, &ma), *sb = kn__sorted_present(b, nb, &mb);
    *d = *p = NAN;
    if (sa && sb && ma && mb) {
        *d = kn__ks_sorted(sa, ma, sb, mb);
        *p = ks_p(*d, ma, mb);
    }
    kn_free(sa);
    kn_free(sb);
}

double kn__psi(const double *r, const double *c, size_t k, double nr, double nc)
{
    double psi = 0;
    for (size_t i = 0; i < k; i++) {
        double a = nr > 0 ? r[i] / nr : 0, b = nc > 0 ? c[i] / nc : 0;
        if (a < 1e-4) a = 1e-4;
        if (b < 1e-4) b = 1e-4;
        psi += (b - a) * log(b / a);
    }
    return psi;
}

double kn__chi2_homogeneity(const double *r, const double *c, size_t k, int yates, size_t *df)
{
    double nr = 0, nc = 0, stat = 0;
    size_t used = 0;
    for (size_t i = 0; i < k; i++) nr += r[i], nc += c[i], used += r[i] + c[i] > 0;
    double n = nr + nc, fix = yates && used == 2 ? 0.5 : 0;
    for (size_t i = 0; i < k; i++) {
        double col = r[i] + c[i];
        if (col <= 0) continue;
        double er = col * nr / n, ec = col * nc / n;
        double dr = fabs(r[i] - er), dc = fabs(c[i] - ec);
        dr -= dr < fix ? dr : fix;
        dc -= dc < fix ? dc : fix;
        stat += dr * dr / er + dc * dc / ec;
    }
    *df = used ? used - 1 : 0;
    return stat;
}

/* Chi-square test of homogeneity of two rows of counts over k values. */
static void chi2_two(const double *r, const double *c, size_t k, kn_compare_col *out)
{
    double nr = 0, nc = 0;
    size_t df = 0;
    for (size_t i = 0; i < k; i++) nr += r[i], nc += c[i];
    double n = nr + nc, stat = kn__chi2_homogeneity(r, c, k, 0, &df);
    out->test = "chi2";
    out->statistic = stat;
    out->effect = n > 0 ? sqrt(stat / n) : NAN; /* Cramér's V of a 2 x k table */
    out->p = df ? kn_chi2_sf(stat, (double)df) : 1;
    out->psi = kn__psi(r, c, k, nr, nc);
}

kn_status kn__psi_sorted(const double *ra, size_t ma, size_t na, const double *rb, size_t mb,
                         size_t nb, size_t bins, double *psi, size_t *n_bins)
{
    return kn__psi_sample(ra, ma, ma, na, rb, mb, nb, bins, psi, n_bins);
}

void kn__psi_ref_free(kn__psi_ref *r)
{
    kn_free(r->edges), kn_free(r->cr);
    kn__ref_index_free(&r->index);
    memset(r, 0, sizeof *r);
}

kn_status kn__psi_ref_make(const double *ra, size_t ma, size_t na_present, size_t na, size_t bins,
                           kn__psi_ref *out)
{
    memset(out, 0, sizeof *out);
    out->edges = kn_malloc((bins + 1) * sizeof *out->edges);
    out->cr = kn_calloc(bins + 2, sizeof *out->cr);
    if (!out->edges || !out->cr) {
        kn__psi_ref_free(out);
        return KN_ERR_NOMEM;
    }
    out->bins = bins;
    out->na = na;
    out->ra = ra;
    out->ma = ma;
    size_t k = 0; /* the reference's quantile edges (distinct) */
    for (size_t q = 1; q < bins; q++) {
        double x = ra[(size_t)((double)q / (double)bins * (double)(ma - 1))];
        if (!k || x > out->edges[k - 1]) out->edges[k++] = x;
    }
    out->k = k;
    size_t lo = 0; /* the first edge >= value: values ascend, so does it */
    for (size_t i = 0; i < ma; i++) {
        while (lo < k && out->edges[lo] < ra[i]) lo++;
        out->cr[lo]++;
    }
    out->cr[k + 1] = (double)(na - na_present); /* missing */
    if (na_present != ma) /* a sample: its counts stand for na_present values */
        for (size_t i = 0; i <= k; i++) out->cr[i] *= (double)na_present / (double)ma;
    kn_status e = kn__ref_index_make(out);
    if (e != KN_OK) kn__psi_ref_free(out);
    return e;
}

kn_status kn__psi_with_ref(const kn__psi_ref *r, const double *rb, size_t mb, size_t nb,
                           double *psi, size_t *n_bins)
{
    size_t k = r->k;
    double *cc = kn_calloc(k + 2, sizeof *cc);
    if (!cc) return KN_ERR_NOMEM;
    size_t lo = 0;
    for (size_t i = 0; i < mb; i++) {
        while (lo < k && r->edges[lo] < rb[i]) lo++;
        cc[lo]++;
    }
    cc[k + 1] = (double)(nb - mb); /* missing */
    *psi = kn__psi(r->cr, cc, k + 2, (double)r->na, (double)nb);
    *n_bins = k + 1 + (r->cr[k + 1] + cc[k + 1] > 0);
    kn_free(cc);
    return KN_OK;
}

kn_status kn__psi_sample(const double *ra, size_t ma, size_t na_present, size_t na,
                         const double *rb, size_t mb, size_t nb, size_t bins, double *psi,
                         size_t *n_bins)
{
    kn__psi_ref r;
    kn_status e = kn__psi_ref_make(ra, ma, na_present, na, bins, &r);
    if (e == KN_OK) e = kn__psi_with_ref(&r, rb, mb, nb, psi, n_bins);
    kn__psi_ref_free(&r);
    return e;
}

/* ---- columns ---- */

static kn_status numeric_col(kn_column *a, size_t na, kn_column *b, size_t nb, size_t bins,
                             kn_compare_col *out)
{
    double *va = kn_malloc((na ? na : 1) * sizeof *va), *vb = kn_malloc((nb ? nb : 1) * sizeof *vb);
    double *ra = NULL, *rb = NULL;
    kn_status e = va && vb ? KN_OK : KN_ERR_NOMEM;
    size_t ma = 0, mb = 0, k = 0;
    for (size_t i = 0; e == KN_OK && i < na; i++)
        va[i] = kn_column_is_missing(a, i) ? NAN : kn_column_number(a, i);
    for (size_t i = 0; e == KN_OK && i < nb; i++)
        vb[i] = kn_column_is_missing(b, i) ? NAN : kn_column_number(b, i);
    if (e == KN_OK) {
        ra = kn__sorted_present(va, na, &ma);
        rb = kn__sorted_present(vb, nb, &mb);
        if (!ra || !rb) e = KN_ERR_NOMEM;
    }
    if (e == KN_OK && ma && mb) {
        out->test = "ks";
        out->statistic = out->effect = kn__ks_sorted(ra, ma, rb, mb);
        out->p = ks_p(out->statistic, ma, mb);
        out->n_ref = ma;
        out->n_cur = mb;
        e = kn__psi_sorted(ra, ma, na, rb, mb, nb, bins, &out->psi, &k);
    } else if (e == KN_OK)
        out->test = NULL; /* nothing to compare */
    kn_free(va), kn_free(vb), kn_free(ra), kn_free(rb);
    return e;
}

typedef struct text_cell {
    const char *s;
    size_t len;
    int side;
} text_cell;

static int by_text(const void *x, const void *y)
{
    const text_cell *a = x, *b = y;
    size_t n = a->len < b->len ? a->len : b->len;
    int c = memcmp(a->s, b->s, n);
    return c ? c : (a->len > b->len) - (a->len < b->len);
}

/* The text of row i of c (categorical or string), or NULL when missing. */
static const char *text_at(kn_column *c, size_t i, size_t *len)
{
    if (kn_column_is_missing(c, i)) return NULL;
    if (kn_column_type(c) == KN_COL_CATEGORICAL)
        return kn_column_level(c, kn_column_codes(c)[i], len);
    return kn_column_str(c, i, len);
}

kn_status kn__text_counts(kn_column *a, size_t na, kn_column *b, size_t nb, kn_text_counts *out)
{
    memset(out, 0, sizeof *out);
    size_t n = na + nb, m = 0;
    text_cell *cells = kn_malloc((n ? n : 1) * sizeof *cells);
    out->r = kn_calloc(n + 1, sizeof *out->r);
    out->c = kn_calloc(n + 1, sizeof *out->c);
    out->value = kn_calloc(n + 1, sizeof *out->value);
    out->len = kn_calloc(n + 1, sizeof *out->len);
    if (!cells || !out->r || !out->c || !out->value || !out->len) {
        kn_free(cells);
        kn__text_counts_free(out);
        return KN_ERR_NOMEM;
    }
    double miss[2] = {0, 0};
    for (size_t i = 0; i < n; i++) {
        int side = i >= na;
        size_t len = 0;
        const char *s = text_at(side ? b : a, side ? i - na : i, &len);
        if (!s)
            miss[side]++;
        else
            cells[m++] = (text_cell){s, len, side};
    }
    qsort(cells, m, sizeof *cells, by_text);
    size_t k = 0;
    for (size_t i = 0; i < m; k++) { /* one count pair per distinct value */
        size_t j = i;
        out->value[k] = cells[i].s;
        out->len[k] = cells[i].len;
        while (j < m && !by_text(&cells[i], &cells[j])) (cells[j].side ? out->c : out->r)[k]++, j++;
        i = j;
    }
    if (miss[0] || miss[1]) out->r[k] = miss[0], out->c[k] = miss[1], k++;
    out->k = k;
    kn_free(cells);
    return KN_OK;
}

void kn__text_counts_free(kn_text_counts *t)
{
    kn_free(t->r), kn_free(t->c), kn_free(t->value), kn_free(t->len);
    memset(t, 0, sizeof *t);
}

static kn_status text_col(kn_column *a, size_t na, kn_column *b, size_t nb, kn_compare_col *out)
{
    kn_text_counts t;
    kn_status e = kn__text_counts(a, na, b, nb, &t);
    if (e != KN_OK) return e;
    out->n_ref = na;
    out->n_cur = nb;
    if (t.k) chi2_two(t.r, t.c, t.k, out);
    kn__text_counts_free(&t);
    return KN_OK;
}

typedef struct p_at {
    double p;
    size_t i;
} p_at;

static int by_p(const void *x, const void *y)
{
    const p_at *a = x, *b = y;
    if (a->p != b->p) return (a->p > b->p) - (a->p < b->p);
    return (a->i > b->i) - (a->i < b->i);
}

kn_status kn__bh_adjust(double *p, size_t m)
{
    p_at *by = kn_malloc((m ? m : 1) * sizeof *by);
    if (!by) return KN_ERR_NOMEM;
    for (size_t i = 0; i < m; i++) by[i] = (p_at){p[i], i};
    qsort(by, m, sizeof *by, by_p);
    double run = 1;
    for (size_t i = m; i-- > 0;) {
        double adj = by[i].p * (double)m / (double)(i + 1);
        if (adj < run) run = adj;
        p[by[i].i] = run;
    }
    kn_free(by);
    return KN_OK;
}

kn_status kn_compare_frames(const kn_frame *ref, const kn_frame *cur, const kn_compare_opts *o_in,
                            kn_compare_report *out)
{
    memset(out, 0, sizeof *out);
    kn_compare_opts o;
    kn_compare_opts_default(&o);
    if (o_in) o = *o_in;
    if (o.bins < 2) o.bins = 2;
    size_t nc = kn_frame_n_cols(ref), na = kn_frame_n_rows(ref), nb = kn_frame_n_rows(cur);
    out->cols = kn_calloc(nc ? nc : 1, sizeof *out->cols);
    if (!out->cols) return KN_ERR_NOMEM;
    kn_status e = KN_OK;
    for (size_t j = 0; e == KN_OK && j < nc; j++) {
        kn_column *a = kn_frame_col(ref, j), *b;
        size_t jb;
        const char *name = kn_column_name(a);
        if (kn_frame_find(cur, name, &jb) != KN_OK) continue;
        b = kn_frame_col(cur, jb);
        kn_col_type ta = kn_column_type(a), tb = kn_column_type(b);
        int text_a = ta == KN_COL_CATEGORICAL || ta == KN_COL_STRING,
            text_b = tb == KN_COL_CATEGORICAL || tb == KN_COL_STRING;
        if (text_a != text_b) {
            e = kn_fail(KN_ERR_TYPE,
                        "column '%s' is %s in the reference and %s in the other rows; read both "
                        "with the same types",
                        name, kn_col_type_name(ta), kn_col_type_name(tb));
            break;
        }
        kn_compare_col *c = &out->cols[out->n_cols];
        memset(c, 0, sizeof *c);
        c->p = c->p_adjusted = c->statistic = c->effect = c->psi = NAN;
        e = text_a ? text_col(a, na, b, nb, c) : numeric_col(a, na, b, nb, o.bins, c);
        if (e != KN_OK || !c->test) continue;
        if (!(c->name = kn_strdup(name))) e = KN_ERR_NOMEM;
        out->n_cols++;
    }
    if (e != KN_OK) {
        kn_compare_report_free(out);
        return e;
    }
    /* Benjamini-Hochberg over the columns tested */
    size_t m = out->n_cols;
    double *p = kn_malloc((m ? m : 1) * sizeof *p);
    for (size_t i = 0; p && i < m; i++) p[i] = out->cols[i].p;
    if (!p || kn__bh_adjust(p, m) != KN_OK) {
        kn_free(p);
        kn_compare_report_free(out);
        return KN_ERR_NOMEM;
    }
    for (size_t i = 0; i < m; i++) out->cols[i].p_adjusted = p[i];
    kn_free(p);
    for (size_t i = 0; i < m; i++) {
        kn_compare_col *c = &out->cols[i];
        c->flagged =
            c->p_adjusted < o.alpha && (c->effect >= o.min_effect || c->psi >= o.min_effect);
        out->n_flagged += (size_t)c->flagged;
    }
    return KN_OK;
}
