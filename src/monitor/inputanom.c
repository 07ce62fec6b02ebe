/* Input anomalies (kiln/inputanom.h): an isolation forest on a reference
 * sample of a model's training rows, its contamination threshold, and the
 * per-window test of the share of rows past it. */
#include "kiln/inputanom.h"
#include "kiln/distrib.h"
#include "kiln/mem.h"
#include "kiln/model.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct kn_inputanom {
    kn_model *m;
    char **names; /* the columns scored */
    double *fill; /* their reference medians */
    size_t n_cols, n_ref, k_ref;
    double contamination, threshold, ref_share;
    uint64_t seed;
};

static int cmp_double(const void *x, const void *y)
{
    double a = *(const double *)x, b = *(const double *)y;
    return (a > b) - (a < b);
}

void kn_inputanom_free(kn_inputanom *a)
{
    if (!a) return;
    kn_model_free(a->m);
    for (size_t j = 0; a->names && j < a->n_cols; j++) kn_free(a->names[j]);
    kn_free(a->names);
    kn_free(a->fill);
    kn_free(a);
}

/* The scored columns of src as a numeric frame, missing cells filled. */
static kn_status numeric_frame(const kn_inputanom *a, const kn_frame *src, kn_frame **out)
{
    size_t n = kn_frame_n_rows(src);
    kn_frame *f = NULL;
    kn_status e = kn_frame_new(&f);
    for (size_t j = 0; e == KN_OK && j < a->n_cols; j++) {
        size_t at = 0;
        kn_column *c = NULL;
        e = kn_frame_find(src, a->names[j], &at);
        if (e == KN_OK) e = kn_frame_add_column(f, a->names[j], KN_COL_NUMERIC, &c);
        if (e == KN_OK && j == 0) e = kn_frame_resize(f, n);
        if (e != KN_OK) break;
        const kn_column *s = kn_frame_col(src, at);
        double *x = kn_column_f64(c);
        for (size_t i = 0; i < n; i++) {
            double v = kn_column_is_missing(s, i) ? NAN : kn_column_number(s, i);
            x[i] = isfinite(v) ? v : a->fill[j];
        }
    }
    if (e != KN_OK) {
        kn_frame_free(f);
        return e;
    }
    *out = f;
    return KN_OK;
}

kn_status kn_inputanom_score(const kn_inputanom *a, const kn_frame *src, double **scores, size_t *n)
{
    *scores = NULL;
    *n = 0;
    kn_frame *f = NULL;
    kn_status e = numeric_frame(a, src, &f);
    if (e == KN_OK) e = kn_model_predict(a->m, f, scores, n);
    kn_frame_free(f);
    return e;
}

kn_status kn_inputanom_fit(const kn_frame *ref, const kn_col_decl *decls, size_t n_decls,
                           double contamination, uint64_t seed, kn_inputanom **out)
{
    *out = NULL;
    if (!(contamination > 0 && contamination < 1))
        return kn_fail(KN_ERR_INVALID, "input anomalies: contamination %g is not between 0 and 1",
                       contamination);
    size_t n_ref = kn_frame_n_rows(ref), n_scored = 0;
    kn_inputanom *a = kn_calloc(1, sizeof *a);
    double *tmp = kn_malloc((n_ref ? n_ref : 1) * sizeof *tmp), *ref_score = NULL;
    kn_frame *f = NULL;
    kn_status e = a && tmp ? KN_OK : KN_ERR_NOMEM;
    if (e == KN_OK) {
        a->names = kn_calloc(n_decls + 1, sizeof *a->names);
        a->fill = kn_calloc(n_decls + 1, sizeof *a->fill);
        if (!a->names || !a->fill) e = KN_ERR_NOMEM;
    }
    /* the numeric inputs the reference holds values of, and their medians */
    for (size_t j = 0; e == KN_OK && j < n_decls; j++) {
        size_t at = 0;
        if ((decls[j].type != KN_COL_NUMERIC && decls[j].type != KN_COL_INT64) ||
            kn_frame_find(ref, decls[j].name, &at) != KN_OK)
            continue;
        const kn_column *c = kn_frame_col(ref, at);
        size_t m = 0;
        for (size_t i = 0; i < n_ref; i++) {
            double v = kn_column_is_missing(c, i) ? NAN : kn_column_number(c, i);
            if (isfinite(v)) tmp[m++] = v;
        }
        if (!m) continue;
        qsort(tmp, m, sizeof *tmp, cmp_double);
        if (!(a->names[a->n_cols] = kn_strdup(decls[j].name))) {
            e = KN_ERR_NOMEM;
            break;
        }
        a->fill[a->n_cols++] = m % 2 ? tmp[m / 2] : (tmp[m / 2 - 1] + tmp[m / 2]) / 2;
    }
    if (e == KN_OK && !a->n_cols)
        e = kn_fail(KN_ERR_INVALID,
                    "the model has no numeric input column with values in the reference; the "
                    "isolation forest scores numeric columns only");
    if (e == KN_OK && n_ref < 16)
        e = kn_fail(KN_ERR_INVALID,
                    "the reference has %zu rows; the isolation forest needs at least 16 to fit "
                    "on",
                    n_ref);
    char set[64];
    snprintf(set, sizeof set, "seed=%llu", (unsigned long long)seed);
    if (e == KN_OK) e = kn_model_new("isolation_forest", &a->m);
    if (e == KN_OK) e = kn_model_set(a->m, set);
    if (e == KN_OK) e = kn_model_set(a->m, "predict_output=score");
    if (e == KN_OK) e = numeric_frame(a, ref, &f);
    if (e == KN_OK) e = kn_model_fit(a->m, f, NULL, NULL);
    if (e == KN_OK) e = kn_model_predict(a->m, f, &ref_score, &n_scored);
    kn_frame_free(f);
    if (e == KN_OK && n_scored != n_ref)
        e = kn_fail(KN_ERR_INTERNAL, "input anomalies: %zu scores for %zu reference rows", n_scored,
                    n_ref);
    if (e == KN_OK) {
        /* the contamination quantile of the reference's scores (linear
         * between order statistics); lower scores are more anomalous */
        memcpy(tmp, ref_score, n_ref * sizeof *tmp);
        qsort(tmp, n_ref, sizeof *tmp, cmp_double);
        double h = contamination * (double)(n_ref - 1);
        size_t lo = (size_t)h;
        a->threshold =
            lo + 1 < n_ref ? tmp[lo] + (h - (double)lo) * (tmp[lo + 1] - tmp[lo]) : tmp[lo];
        a->k_ref = kn_inputanom_count(a, ref_score, n_ref);
        a->n_ref = n_ref;
        a->ref_share = (double)a->k_ref / (double)n_ref;
        a->contamination = contamination;
        a->seed = seed;
    }
    kn_free(tmp);
    kn_free(ref_score);
    if (e != KN_OK) {
        kn_inputanom_free(a);
        return e;
    }
    *out = a;
    return KN_OK;
}

size_t kn_inputanom_count(const kn_inputanom *a, const double *scores, size_t n)
{
    size_t k = 0;
    for (size_t i = 0; i < n; i++) k += scores[i] < a->threshold;
    return k;
}

/* P(X >= k), X beta-binomial(n, alpha, beta): sum of the pmf over the
 * smaller tail, in logs (lgamma). */
static double betabinom_sf(size_t k, size_t n, double al, double be)
{
    if (k == 0) return 1;
    if (k > n) return 0;
    double lb = lgamma(al) + lgamma(be) - lgamma(al + be), mean = (double)n * al / (al + be);
    int upper = (double)k > mean;
    double sum = 0;
    for (size_t j = upper ? k : 0; j < (upper ? n + 1 : k); j++) {
        double x = (double)j, m = (double)(n - j);
        double lp = lgamma((double)n + 1) - lgamma(x + 1) - lgamma(m + 1) + lgamma(x + al) +
                    lgamma(m + be) - lgamma((double)n + al + be) - lb;
        sum += exp(lp);
    }
    return upper ? sum : 1 - sum;
}

void kn_inputanom_test(const kn_inputanom *a, size_t n, size_t k, kn_inputanom_test_kind test,
                       double alpha, kn_inputanom_window *out)
{
    /* binomial: P(X >= k), X binomial(n, the reference share): the share of
     * a window of n reference-like rows; at least 1 / (reference rows + 1).
     * beta-binomial: the reference share is itself a count of n_ref rows,
     * so the window's count is beta-binomial with the reference's
     * posterior (Jeffreys prior): Beta(k_ref + 1/2, n_ref - k_ref + 1/2) */
    double q =
        a->ref_share > 1 / (double)(a->n_ref + 1) ? a->ref_share : 1 / (double)(a->n_ref + 1);
    double p = test == KN_INPUTANOM_BETA_BINOMIAL
                   ? betabinom_sf(k, n, (double)a->k_ref + 0.5, (double)(a->n_ref - a->k_ref) + 0.5)
               : k ? kn_incbeta((double)k, (double)(n - k) + 1, q) /* I_q(k, n - k + 1) */
                   : 1;
    out->rows = n;
    out->anomalous_rows = k;
    out->share = n ? (double)k / (double)n : 0;
    out->reference_share = a->ref_share;
    out->p = p;
    out->flagged = n && out->share > a->ref_share && p < alpha;
}

size_t kn_inputanom_n_cols(const kn_inputanom *a)
{
    return a->n_cols;
}

const char *kn_inputanom_col(const kn_inputanom *a, size_t j)
{
    return j < a->n_cols ? a->names[j] : NULL;
}

double kn_inputanom_threshold(const kn_inputanom *a)
{
    return a->threshold;
}

double kn_inputanom_reference_share(const kn_inputanom *a)
{
    return a->ref_share;
}

size_t kn_inputanom_reference_rows(const kn_inputanom *a, size_t *anomalous)
{
    if (anomalous) *anomalous = a->k_ref;
    return a->n_ref;
}

double kn_inputanom_contamination(const kn_inputanom *a)
{
    return a->contamination;
}

uint64_t kn_inputanom_seed(const kn_inputanom *a)
{
    return a->seed;
}
