/* kiln monitor check --anomalies: the share of a batch's rows an isolation
 * forest fitted on the reference finds anomalous, per window, against the
 * reference's own share (cli_anomalies.h). */
#include "cli/cli_anomalies.h"
#include "kiln/distrib.h"
#include "kiln/mem.h"
#include "kiln/model.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct cli_anomalies {
    kn_model *m;
    const char **names; /* the columns scored (borrowed from the decls) */
    double *fill;       /* their reference medians */
    size_t n_cols, n_ref, n_cur, n_windows;
    double contamination, threshold, ref_share, alpha;
    size_t k_ref;   /* the reference rows past the threshold */
    int predictive; /* the beta-binomial test (cli_anomalies_set_predictive) */
    uint64_t seed;
    double *score; /* the batch's rows */
};

static int cmp_double(const void *x, const void *y)
{
    double a = *(const double *)x, b = *(const double *)y;
    return (a > b) - (a < b);
}

void cli_anomalies_free(cli_anomalies *a)
{
    if (!a) return;
    kn_model_free(a->m);
    kn_free((void *)a->names);
    kn_free(a->fill);
    kn_free(a->score);
    kn_free(a);
}

/* The scored columns of src as a numeric frame, missing cells filled. */
static kn_status numeric_frame(const cli_anomalies *a, const kn_frame *src, kn_frame **out)
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

static kn_status score(cli_anomalies *a, const kn_frame *src, double **out)
{
    kn_frame *f = NULL;
    size_t n = 0;
    kn_status e = numeric_frame(a, src, &f);
    if (e == KN_OK) e = kn_model_predict(a->m, f, out, &n);
    kn_frame_free(f);
    return e;
}

kn_status cli_anomalies_new(const kn_frame *ref, const kn_frame *cur, const kn_col_decl *decls,
                            size_t n_decls, double contamination, uint64_t seed, double alpha,
                            size_t n_windows, cli_anomalies **out)
{
    *out = NULL;
    size_t n_ref = kn_frame_n_rows(ref);
    cli_anomalies *a = kn_calloc(1, sizeof *a);
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
        a->fill[a->n_cols] = m % 2 ? tmp[m / 2] : (tmp[m / 2 - 1] + tmp[m / 2]) / 2;
        a->names[a->n_cols++] = decls[j].name;
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
    kn_frame_free(f);
    if (e == KN_OK) e = score(a, ref, &ref_score);
    if (e == KN_OK) e = score(a, cur, &a->score);
    if (e == KN_OK) {
        /* the contamination quantile of the reference's scores (linear
         * between order statistics); lower scores are more anomalous */
        memcpy(tmp, ref_score, n_ref * sizeof *tmp);
        qsort(tmp, n_ref, sizeof *tmp, cmp_double);
        double h = contamination * (double)(n_ref - 1);
        size_t lo = (size_t)h;
        a->threshold =
            lo + 1 < n_ref ? tmp[lo] + (h - (double)lo) * (tmp[lo + 1] - tmp[lo]) : tmp[lo];
        size_t k = 0;
        for (size_t i = 0; i < n_ref; i++) k += ref_score[i] < a->threshold;
        a->ref_share = (double)k / (double)n_ref;
        a->k_ref = k;
        a->n_ref = n_ref;
        a->n_cur = kn_frame_n_rows(cur);
        a->contamination = contamination;
        a->seed = seed;
        a->alpha = alpha;
        a->n_windows = n_windows ? n_windows : 1;
    }
    kn_free(tmp);
    kn_free(ref_score);
    if (e != KN_OK) {
        cli_anomalies_free(a);
        return e;
    }
    *out = a;
    return KN_OK;
}

void cli_anomalies_set_predictive(cli_anomalies *a)
{
    a->predictive = 1;
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

json_t *cli_anomalies_window(const cli_anomalies *a, size_t from, size_t to, int *flagged)
{
    size_t n = to - from, k = 0;
    for (size_t i = from; i < to; i++) k += a->score[i] < a->threshold;
    /* binomial: P(X >= k), X binomial(n, the reference share): the share of
     * a window of n reference-like rows; at least 1 / (reference rows + 1).
     * predictive: the reference share is itself a count of n_ref rows, so
     * the window's share is beta-binomial with the reference's posterior
     * (Jeffreys prior): Beta(k_ref + 1/2, n_ref - k_ref + 1/2) */
    double q =
        a->ref_share > 1 / (double)(a->n_ref + 1) ? a->ref_share : 1 / (double)(a->n_ref + 1);
    double p = a->predictive
                   ? betabinom_sf(k, n, (double)a->k_ref + 0.5, (double)(a->n_ref - a->k_ref) + 0.5)
               : k ? kn_incbeta((double)k, (double)(n - k) + 1, q) /* I_q(k, n - k + 1) */
                   : 1;
    double share = n ? (double)k / (double)n : 0;
    *flagged = n && share > a->ref_share && p < a->alpha / (double)a->n_windows;
    return json_pack("{s:I, s:I, s:o, s:o, s:o, s:b}", "rows", (json_int_t)n, "anomalous_rows",
                     (json_int_t)k, "share", json_real(share), "reference_share",
                     json_real(a->ref_share), "p", json_real(p), "flagged", *flagged);
}

json_t *cli_anomalies_json(const cli_anomalies *a)
{
    json_t *cols = json_array();
    for (size_t j = 0; j < a->n_cols; j++) json_array_append_new(cols, json_string(a->names[j]));
    json_t *j = json_pack("{s:s, s:o, s:I, s:o, s:o, s:o, s:I, s:o}", "model", "isolation_forest",
                          "columns", cols, "seed", (json_int_t)a->seed, "contamination",
                          json_real(a->contamination), "threshold", json_real(a->threshold),
                          "reference_share", json_real(a->ref_share), "reference_rows",
                          (json_int_t)a->n_ref, "alpha", json_real(a->alpha));
    if (a->predictive) {
        json_object_set_new(j, "test", json_string("beta-binomial"));
        json_object_set_new(j, "reference_anomalous_rows", json_integer((json_int_t)a->k_ref));
    }
    return j;
}

void cli_anomalies_print(const json_t *w)
{
    printf(" anomalies %.1f%% of rows (reference %.1f%%, p %.3g)%s",
           100 * json_real_value(json_object_get(w, "share")),
           100 * json_real_value(json_object_get(w, "reference_share")),
           json_real_value(json_object_get(w, "p")),
           json_is_true(json_object_get(w, "flagged")) ? ": ANOMALOUS" : "");
}
