/* kiln monitor check --anomalies and kiln monitor anomalies: a batch's
 * rows scored by the input-anomaly detector of kiln/inputanom.h, windows
 * of them tested, and the results as JSON and text (cli_anomalies.h). */
#include "cli/cli_anomalies.h"
#include "kiln/inputanom.h"
#include "kiln/mem.h"

#include <stdio.h>

struct cli_anomalies {
    kn_inputanom *a;
    double *score; /* the batch's rows */
    size_t n_cur, n_windows;
    double alpha;
    kn_inputanom_test_kind test;
};

void cli_anomalies_free(cli_anomalies *a)
{
    if (!a) return;
    kn_inputanom_free(a->a);
    kn_free(a->score);
    kn_free(a);
}

kn_status cli_anomalies_new(const kn_frame *ref, const kn_frame *cur, const kn_col_decl *decls,
                            size_t n_decls, double contamination, uint64_t seed, double alpha,
                            size_t n_windows, cli_anomalies **out)
{
    *out = NULL;
    cli_anomalies *a = kn_calloc(1, sizeof *a);
    if (!a) return KN_ERR_NOMEM;
    kn_status e = kn_inputanom_fit(ref, decls, n_decls, contamination, seed, &a->a);
    if (e == KN_OK) e = kn_inputanom_score(a->a, cur, &a->score, &a->n_cur);
    if (e != KN_OK) {
        cli_anomalies_free(a);
        return e;
    }
    a->alpha = alpha;
    a->n_windows = n_windows ? n_windows : 1;
    a->test = KN_INPUTANOM_BINOMIAL;
    *out = a;
    return KN_OK;
}

void cli_anomalies_set_predictive(cli_anomalies *a)
{
    a->test = KN_INPUTANOM_BETA_BINOMIAL;
}

json_t *cli_anomalies_window(const cli_anomalies *a, size_t from, size_t to, int *flagged)
{
    kn_inputanom_window w;
    size_t k = kn_inputanom_count(a->a, a->score + from, to - from);
    kn_inputanom_test(a->a, to - from, k, a->test, a->alpha / (double)a->n_windows, &w);
    *flagged = w.flagged;
    return json_pack("{s:I, s:I, s:o, s:o, s:o, s:b}", "rows", (json_int_t)w.rows, "anomalous_rows",
                     (json_int_t)w.anomalous_rows, "share", json_real(w.share), "reference_share",
                     json_real(w.reference_share), "p", json_real(w.p), "flagged", w.flagged);
}

json_t *cli_anomalies_json(const cli_anomalies *a)
{
    json_t *cols = json_array();
    for (size_t j = 0; j < kn_inputanom_n_cols(a->a); j++)
        json_array_append_new(cols, json_string(kn_inputanom_col(a->a, j)));
    size_t k_ref = 0, n_ref = kn_inputanom_reference_rows(a->a, &k_ref);
    json_t *j = json_pack("{s:s, s:o, s:I, s:o, s:o, s:o, s:I, s:o}", "model", "isolation_forest",
                          "columns", cols, "seed", (json_int_t)kn_inputanom_seed(a->a),
                          "contamination", json_real(kn_inputanom_contamination(a->a)), "threshold",
                          json_real(kn_inputanom_threshold(a->a)), "reference_share",
                          json_real(kn_inputanom_reference_share(a->a)), "reference_rows",
                          (json_int_t)n_ref, "alpha", json_real(a->alpha));
    if (a->test == KN_INPUTANOM_BETA_BINOMIAL) {
        json_object_set_new(j, "test", json_string("beta-binomial"));
        json_object_set_new(j, "reference_anomalous_rows", json_integer((json_int_t)k_ref));
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
