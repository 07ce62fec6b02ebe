/* kiln monitor check --anomalies (cli_anomalies.c): kiln/inputanom.h's isolation forest
 * fitted on the reference rows' numeric input columns (seeded), a
 * threshold at the reference scores' contamination quantile, and per
 * window of the batch the share of rows scoring past it, flagged when a
 * one-sided binomial test puts it above the reference's share. */
#ifndef KILN_CLI_ANOMALIES_H
#define KILN_CLI_ANOMALIES_H

#include "cli/cli.h"
#include "kiln/frame.h"
#include "kiln/io.h"

typedef struct cli_anomalies cli_anomalies;

/* Fit on ref's numeric columns among decls (missing cells: the
 * reference's median), score ref and cur. alpha: the false alarm rate
 * over all n_windows windows (Bonferroni). */
kn_status cli_anomalies_new(const kn_frame *ref, const kn_frame *cur, const kn_col_decl *decls,
                            size_t n_decls, double contamination, uint64_t seed, double alpha,
                            size_t n_windows, cli_anomalies **out);
/* Test each window's share with the beta-binomial predictive distribution
 * of the reference's count (k_ref of n_ref rows past the threshold; Jeffreys
 * prior) instead of a binomial at the reference's share: a small reference
 * (the artifact's sample of its training rows) leaves its share uncertain,
 * and a binomial would take that uncertainty for drift in large windows. */
void cli_anomalies_set_predictive(cli_anomalies *a);
/* Rows [from, to) of the batch: a new JSON object (rows, anomalous_rows,
 * share, reference_share, p, flagged); *flagged 1 when flagged. */
json_t *cli_anomalies_window(const cli_anomalies *a, size_t from, size_t to, int *flagged);
/* The columns scored, the threshold and the reference share (new JSON). */
json_t *cli_anomalies_json(const cli_anomalies *a);
/* One line for people: " anomalies 12.0% (reference 1.0%): FLAGGED". */
void cli_anomalies_print(const json_t *window);
void cli_anomalies_free(cli_anomalies *a);

#endif
