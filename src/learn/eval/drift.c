/* Drift of a batch against reference rows, column by column (kiln/drift.h). */
#include "kiln/drift.h"
#include "kiln/mem.h"
#include "learn/eval/compare-impl.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

void kn_drift_opts_default(kn_drift_opts *o)
{
    o->alpha = 0.01;
    o->min_psi = 0.02;
    o->bins = 10;
    o->missing_change = 0.05;
    o->unseen_share = 0.01;
    o->ks_exact_cells = 0;
}

void kn_drift_col_free(kn_drift_col *c)
{
    kn_free(c->name);
    for (size_t i = 0; i < KN_DRIFT_UNSEEN_SHOWN; i++) kn_free(c->unseen_values[i]);
    memset(c, 0, sizeof *c);
}

void kn_drift_report_free(kn_drift_report *r)
{
    for (size_t i = 0; r->cols && i < r->n_cols; i++) kn_drift_col_free(&r->cols[i]);
    kn_free(r->cols);
    memset(r, 0, sizeof *r);
}

double kn_chi2_isf(double a, double df)
{
    if (!(a > 0 && a < 1) || !(df > 0)) return NAN;
    double lo = 0, hi = df + 10 * sqrt(2 * df) + 50;
    while (kn_chi2_sf(hi, df) > a) hi *= 2;
    for (int i = 0; i < 200 && hi - lo > 1e-12 * hi; i++) {
        double mid = (lo + hi) / 2;
        if (kn_chi2_sf(mid, df) > a)
            lo = mid;
        else
            hi = mid;
    }
    return (lo + hi) / 2;
}

double kn_js_distance(const double *p, const double *q, size_t k)
{
    double sp = 0, sq = 0, js = 0;
    for (size_t i = 0; i < k; i++) sp += p[i], sq += q[i];
    if (!(sp > 0) || !(sq > 0)) return NAN;
    for (size_t i = 0; i < k; i++) {
        double a = p[i] / sp, b = q[i] / sq, m = (a + b) / 2;
        if (a > 0) js += a * log(a / m);
        if (b > 0) js += b * log(b / m);
    }
    js /= 2;
    return sqrt(js > 0 ? js : 0);
}

kn_status kn_wasserstein(const double *a, size_t na, const double *b, size_t nb, double *out)
{
    size_t ma = 0, mb = 0;
    double *sa = kn__sorted_present(a, na, &ma), *sb = kn__sorted_present(b, nb, &mb);
    kn_status e = sa && sb ? KN_OK : KN_ERR_NOMEM;
    double ks = 0;
    *out = NAN;
    if (e == KN_OK && ma && mb) kn__ks_wasserstein_sorted(sa, ma, sb, mb, &ks, out);
    kn_free(sa), kn_free(sb);
    return e;
}

/* kn_chi2_isf bisects (up to 200 survival functions); every window of a
 * served model asks the same few (alpha, df): one per count of bins of its
 * numeric columns, its text columns' and its predictions'. Keep the last
 * ISF_MEMO of them (one entry missed on every change of df cost a
 * monitoring thread 5 % of its time). */
enum { ISF_MEMO = 8 };
static double chi2_isf_memo(double alpha, double df)
{
    static _Thread_local struct {
        double alpha, df, isf;
    } memo[ISF_MEMO];
    static _Thread_local unsigned filled, next;
    for (unsigned i = 0; i < filled; i++)
        if (memo[i].alpha == alpha && memo[i].df == df) return memo[i].isf;
    unsigned at = next;
    next = (next + 1) % ISF_MEMO;
    filled += filled < ISF_MEMO;
    memo[at].alpha = alpha, memo[at].df = df, memo[at].isf = kn_chi2_isf(alpha, df);
    return memo[at].isf;
}

static double psi_threshold(const kn_drift_opts *o, size_t n1, size_t n2, size_t bins)
{
    double t = o->min_psi;
    if (n1 && n2 && bins > 1) {
        double noise =
            (1 / (double)n1 + 1 / (double)n2) * chi2_isf_memo(o->alpha, (double)(bins - 1));
        if (noise > t) t = noise;
    }
    return t;
}

/* KS, Wasserstein and PSI of two arrays (NaN: missing), na and nb cells. */
static kn_status numbers(const double *va, size_t na, const double *vb, size_t nb,
                         const kn_drift_opts *o, kn_drift_col *out, int *tested)
{
    size_t ma = 0, mb = 0, bins = 0;
    double *ra = kn__sorted_present(va, na, &ma), *rb = kn__sorted_present(vb, nb, &mb);
    kn_status e = ra && rb ? KN_OK : KN_ERR_NOMEM;
    if (e == KN_OK && ma && mb) {
        *tested = 1;
        double ks = 0;
        kn__ks_wasserstein_sorted(ra, ma, rb, mb, &ks, &out->wasserstein);
        e = kn__ks_p(ks, ma, mb, o->ks_exact_cells, &out->ks_d, &out->ks_p);
        out->p = out->ks_p;
        if (e == KN_OK) e = kn__psi_sorted(ra, ma, na, rb, mb, nb, o->bins, &out->psi, &bins);
        out->psi_threshold = psi_threshold(o, na, nb, bins);
        out->score = fmax(out->psi, out->ks_d);
    }
    kn_free(ra), kn_free(rb);
    return e;
}

static kn_status numeric(kn_column *a, size_t na, kn_column *b, size_t nb, const kn_drift_opts *o,
                         kn_drift_col *out, int *tested)
{
    double *va = kn_malloc((na ? na : 1) * sizeof *va), *vb = kn_malloc((nb ? nb : 1) * sizeof *vb);
    kn_status e = va && vb ? KN_OK : KN_ERR_NOMEM;
    for (size_t i = 0; e == KN_OK && i < na; i++)
        va[i] = kn_column_is_missing(a, i) ? NAN : kn_column_number(a, i);
    for (size_t i = 0; e == KN_OK && i < nb; i++)
        vb[i] = kn_column_is_missing(b, i) ? NAN : kn_column_number(b, i);
    if (e == KN_OK) e = numbers(va, na, vb, nb, o, out, tested);
    kn_free(va), kn_free(vb);
    return e;
}

/* Chi-square, JS and PSI of two rows of counts over k values. */
static void counts(const double *r, const double *c, size_t k, const kn_drift_opts *o,
                   kn_drift_col *out)
{
    double nr = 0, nc = 0;
    for (size_t i = 0; i < k; i++) nr += r[i], nc += c[i];
    out->categorical = 1;
    out->chi2 = kn__chi2_homogeneity(r, c, k, 1, &out->chi2_df);
    out->chi2_p = out->chi2_df ? kn_chi2_sf(out->chi2, (double)out->chi2_df) : 1;
    out->p = out->chi2_p;
    out->js = kn_js_distance(r, c, k);
    out->psi = kn__psi(r, c, k, nr, nc);
    out->psi_threshold = psi_threshold(o, (size_t)nr, (size_t)nc, out->chi2_df + 1);
    out->score = fmax(out->psi, isnan(out->js) ? 0 : out->js);
}

static kn_status categorical(kn_column *a, size_t na, kn_column *b, size_t nb,
                             const kn_drift_opts *o, kn_drift_col *out, int *tested)
{
    kn_text_counts t;
    kn_status e = kn__text_counts(a, na, b, nb, &t);
    if (e != KN_OK) return e;
    out->categorical = 1;
    if (t.k) {
        *tested = 1;
        double present = 0;
        counts(t.r, t.c, t.k, o, out);
        double unseen_cells = 0;
        for (size_t i = 0; i < t.k; i++) {
            if (!t.value[i]) continue;
            present += t.c[i];
            if (t.r[i] > 0 || t.c[i] <= 0) continue;
            if (out->unseen < KN_DRIFT_UNSEEN_SHOWN) {
                char *s = kn_malloc(t.len[i] + 1);
                if (!s) {
                    e = KN_ERR_NOMEM;
                    break;
                }
                memcpy(s, t.value[i], t.len[i]);
                s[t.len[i]] = 0;
                out->unseen_values[out->unseen] = s;
            }
            out->unseen++;
            unseen_cells += t.c[i];
        }
        out->unseen_frac = present > 0 ? unseen_cells / present : 0;
    }
    kn__text_counts_free(&t);
    return e;
}

static void col_init(kn_drift_col *out, size_t na, size_t nb)
{
    memset(out, 0, sizeof *out);
    out->ks_d = out->ks_p = out->wasserstein = out->chi2 = out->chi2_p = out->js = NAN;
    out->psi = out->psi_threshold = out->p = out->p_adjusted = NAN;
    out->n_ref = na;
    out->n_cur = nb;
}

static void opts_of(const kn_drift_opts *o_in, kn_drift_opts *o)
{
    kn_drift_opts_default(o);
    if (o_in) *o = *o_in;
    if (o->bins < 2) o->bins = 2;
}

kn_status kn_drift_numbers(const char *name, const double *a, size_t na, const double *b, size_t nb,
                           const kn_drift_opts *o_in, kn_drift_col *out, int *tested)
{
    kn_drift_opts o;
    opts_of(o_in, &o);
    col_init(out, na, nb);
    *tested = 0;
    size_t ma = 0, mb = 0;
    for (size_t i = 0; i < na; i++) ma += (size_t)isnan(a[i]);
    for (size_t i = 0; i < nb; i++) mb += (size_t)isnan(b[i]);
    out->missing_ref = na ? (double)ma / (double)na : 0;
    out->missing_cur = nb ? (double)mb / (double)nb : 0;
    kn_status e = numbers(a, na, b, nb, &o, out, tested);
    out->p_adjusted = out->p;
    if (e == KN_OK && !(out->name = kn_strdup(name))) e = KN_ERR_NOMEM;
    if (e != KN_OK) kn_drift_col_free(out);
    return e;
}

kn_status kn_drift_numbers_sample(const char *name, const double *sample, size_t m,
                                  size_t n_present, size_t na, const double *b, size_t nb,
                                  const kn_drift_opts *o_in, kn_drift_col *out, int *tested)
{
    return kn__drift_numbers_sample_psi(name, sample, m, n_present, na, b, nb, o_in, NULL, out,
                                        tested);
}

kn_status kn__drift_numbers_sample_psi(const char *name, const double *sample, size_t m,
                                       size_t n_present, size_t na, const double *b, size_t nb,
                                       const kn_drift_opts *o_in, const kn__psi_ref *pr,
                                       kn_drift_col *out, int *tested)
{
    if ((m == 0) != (n_present == 0) || m > n_present || n_present > na)
        return kn_fail(KN_ERR_INVALID,
                       "kn_drift_numbers_sample: a sample of %zu of %zu present values among "
                       "%zu cells",
                       m, n_present, na);
    kn_drift_opts o;
    opts_of(o_in, &o);
    col_init(out, na, nb);
    *tested = 0;
    out->missing_ref = na ? (double)(na - n_present) / (double)na : 0;
    int ready = pr && pr->bins == o.bins && pr->na == na && pr->ra == sample && pr->ma == m;
    size_t mb = 0, bins = 0;
    double ks = 0;
    int done = 0;
    double *rb = NULL;
    kn_status e = KN_OK;
    if (ready && m) /* the reference's bins and sample: no sort of b */
        e = kn__vs_ref(pr, b, nb, &mb, &ks, &out->wasserstein, &out->psi, &bins, &done);
    if (e == KN_OK && !done) {
        if (!(rb = kn__sorted_present(b, nb, &mb))) return KN_ERR_NOMEM;
        if (m && mb) {
            kn__ks_wasserstein_sorted(sample, m, rb, mb, &ks, &out->wasserstein);
            if (ready)
                e = kn__psi_with_ref(pr, rb, mb, nb, &out->psi, &bins);
            else
                e = kn__psi_sample(sample, m, n_present, na, rb, mb, nb, o.bins, &out->psi, &bins);
        }
    }
    out->missing_cur = nb ? (double)(nb - mb) / (double)nb : 0;
    if (e == KN_OK && m && mb) {
        *tested = 1;
        e = kn__ks_p(ks, n_present, mb, o.ks_exact_cells, &out->ks_d, &out->ks_p);
        out->p = out->ks_p;
        out->psi_threshold = psi_threshold(&o, na, nb, bins);
        out->score = fmax(out->psi, out->ks_d);
    }
    kn_free(rb);
    out->p_adjusted = out->p;
    if (e == KN_OK && !(out->name = kn_strdup(name))) e = KN_ERR_NOMEM;
    if (e != KN_OK) kn_drift_col_free(out);
    return e;
}

struct kn_drift_numref {
    double *ra; /* the present values, sorted */
    size_t ma, na;
    kn__psi_ref pr; /* bins == 0: none (no present value) */
};

kn_status kn_drift_numref_new(const double *a, size_t na, const kn_drift_opts *o_in,
                              kn_drift_numref **out)
{
    kn_drift_opts o;
    opts_of(o_in, &o);
    *out = NULL;
    kn_drift_numref *r = kn_calloc(1, sizeof *r);
    if (!r) return KN_ERR_NOMEM;
    r->na = na;
    r->ra = kn__sorted_present(a, na, &r->ma);
    kn_status e = r->ra ? KN_OK : KN_ERR_NOMEM;
    if (e == KN_OK && r->ma) e = kn__psi_ref_make(r->ra, r->ma, r->ma, na, o.bins, &r->pr);
    if (e != KN_OK) {
        kn_drift_numref_free(r);
        return e;
    }
    *out = r;
    return KN_OK;
}

void kn_drift_numref_free(kn_drift_numref *r)
{
    if (!r) return;
    if (r->pr.bins) kn__psi_ref_free(&r->pr);
    kn_free(r->ra);
    kn_free(r);
}

size_t kn_drift_numref_bytes(const kn_drift_numref *r)
{
    if (!r) return 0;
    size_t b = sizeof *r + r->ma * sizeof(double);
    if (r->pr.bins) {
        b += (r->pr.bins + 1 + r->pr.k + 2) * sizeof(double);       /* edges, counts */
        b += kn__ref_index_bytes(&r->pr.index) + (r->pr.k + 2) * 4; /* and its PSI bins' gaps */
    }
    return b;
}

kn_status kn_drift_numbers_vs(const char *name, const kn_drift_numref *r, const double *b,
                              size_t nb, const kn_drift_opts *o, kn_drift_col *out, int *tested)
{
    return kn__drift_numbers_sample_psi(name, r->ra, r->ma, r->ma, r->na, b, nb, o,
                                        r->pr.bins ? &r->pr : NULL, out, tested);
}

kn_status kn_drift_decide_predictions(kn_drift_col *pred, int pred_tested, kn_drift_col *score,
                                      int score_tested, const kn_drift_opts *o)
{
    kn_drift_col both[2];
    size_t n = 0, nd = 0;
    if (pred_tested) both[n++] = *pred;
    if (score_tested) both[n++] = *score;
    if (!n) return KN_OK;
    kn_status e = kn_drift_decide(both, n, o, &nd); /* sets fields; the pointers stay theirs */
    n = 0;
    if (pred_tested) *pred = both[n++];
    if (score_tested) *score = both[n++];
    return e;
}

double kn_drift_class_score(const double *proba, size_t k)
{
    if (!proba || k < 2) return NAN;
    if (k == 2) return proba[1];
    double top = proba[0];
    for (size_t c = 1; c < k; c++) top = proba[c] > top ? proba[c] : top;
    return top;
}

kn_status kn_drift_counts(const char *name, const double *r, const double *c, size_t k,
                          const kn_drift_opts *o_in, kn_drift_col *out)
{
    kn_drift_opts o;
    opts_of(o_in, &o);
    double nr = 0, nc = 0;
    for (size_t i = 0; i < k; i++) nr += r[i], nc += c[i];
    col_init(out, (size_t)nr, (size_t)nc);
    counts(r, c, k, &o, out);
    out->p_adjusted = out->p;
    if (!(out->name = kn_strdup(name))) return KN_ERR_NOMEM;
    return KN_OK;
}

kn_status kn_drift_column(kn_column *a, size_t na, kn_column *b, size_t nb,
                          const kn_drift_opts *o_in, kn_drift_col *out, int *tested)
{
    kn_drift_opts o;
    opts_of(o_in, &o);
    col_init(out, na, nb);
    *tested = 0;
    size_t ma = 0, mb = 0;
    for (size_t i = 0; i < na; i++) ma += (size_t)kn_column_is_missing(a, i);
    for (size_t i = 0; i < nb; i++) mb += (size_t)kn_column_is_missing(b, i);
    out->missing_ref = na ? (double)ma / (double)na : 0;
    out->missing_cur = nb ? (double)mb / (double)nb : 0;
    kn_col_type ta = kn_column_type(a), tb = kn_column_type(b);
    int text_a = ta == KN_COL_CATEGORICAL || ta == KN_COL_STRING,
        text_b = tb == KN_COL_CATEGORICAL || tb == KN_COL_STRING;
    if (text_a != text_b)
        return kn_fail(KN_ERR_TYPE,
                       "column '%s' is %s in the reference and %s in the batch; read both with "
                       "the same types",
                       kn_column_name(a), kn_col_type_name(ta), kn_col_type_name(tb));
    kn_status e = text_a ? categorical(a, na, b, nb, &o, out, tested)
                         : numeric(a, na, b, nb, &o, out, tested);
    out->p_adjusted = out->p;
    if (e == KN_OK && !(out->name = kn_strdup(kn_column_name(a)))) e = KN_ERR_NOMEM;
    if (e != KN_OK) kn_drift_col_free(out);
    return e;
}

kn_status kn_drift_decide(kn_drift_col *cols, size_t n, const kn_drift_opts *o_in,
                          size_t *n_drifted)
{
    kn_drift_opts o;
    kn_drift_opts_default(&o);
    if (o_in) o = *o_in;
    double *p = kn_malloc((n ? n : 1) * sizeof *p);
    if (!p) return KN_ERR_NOMEM;
    for (size_t i = 0; i < n; i++) p[i] = isnan(cols[i].p) ? 1 : cols[i].p;
    kn_status e = kn__bh_adjust(p, n);
    *n_drifted = 0;
    for (size_t i = 0; e == KN_OK && i < n; i++) {
        kn_drift_col *c = &cols[i];
        c->p_adjusted = p[i];
        double p1 = c->missing_ref, p2 = c->missing_cur, n1 = (double)c->n_ref,
               n2 = (double)c->n_cur, pool = n1 + n2 > 0 ? (p1 * n1 + p2 * n2) / (n1 + n2) : 0;
        double se = n1 > 0 && n2 > 0 ? sqrt(pool * (1 - pool) * (1 / n1 + 1 / n2)) : 0;
        c->why = NULL;
        if (c->p_adjusted < o.alpha && c->psi > c->psi_threshold)
            c->why = "distribution";
        else if (fabs(p2 - p1) >= o.missing_change && fabs(p2 - p1) > 3 * se)
            c->why = "missing";
        else if (c->unseen && c->unseen_frac >= o.unseen_share)
            c->why = "unseen";
        c->drifted = c->why != NULL;
        *n_drifted += (size_t)c->drifted;
    }
    kn_free(p);
    return e;
}

kn_status kn_drift_frames(const kn_frame *ref, const kn_frame *cur, const kn_drift_opts *o,
                          kn_drift_report *out)
{
    memset(out, 0, sizeof *out);
    size_t nc = kn_frame_n_cols(ref), na = kn_frame_n_rows(ref), nb = kn_frame_n_rows(cur);
    out->cols = kn_calloc(nc ? nc : 1, sizeof *out->cols);
    if (!out->cols) return KN_ERR_NOMEM;
    kn_status e = KN_OK;
    for (size_t j = 0; e == KN_OK && j < nc; j++) {
        kn_column *a = kn_frame_col(ref, j);
        size_t jb;
        if (kn_frame_find(cur, kn_column_name(a), &jb) != KN_OK) continue;
        int tested = 0;
        kn_drift_col *c = &out->cols[out->n_cols];
        e = kn_drift_column(a, na, kn_frame_col(cur, jb), nb, o, c, &tested);
        if (e == KN_OK && tested)
            out->n_cols++;
        else if (e == KN_OK)
            kn_drift_col_free(c);
    }
    if (e == KN_OK) e = kn_drift_decide(out->cols, out->n_cols, o, &out->n_drifted);
    if (e != KN_OK) kn_drift_report_free(out);
    return e;
}
