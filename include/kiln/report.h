/* Kiln's HTML report: one self-contained file (inline CSS and SVG, no
 * scripts, no network) that shows what a run made: a summary; ROC and
 * precision-recall curves, the confusion matrix and the calibration curve
 * (classification); residuals against predictions and their histogram
 * (regression); feature importance; the CV score of each fold; the data
 * profile; the quarantine summary; resources and cost per stage; and a
 * model card (intended use, data, metrics beside the baseline, limits,
 * lineage). Figures are drawn by Kiln's own code from the artifact's
 * held-out predictions; a section without data says so in one line.
 *
 *     kn_artifact *a = NULL;
 *     kn_artifact_read("model.kiln", NULL, &a);
 *     kn_report_opts o;
 *     kn_report_opts_default(&o);
 *     o.run = record;                       // kn_store_run_get, or NULL
 *     kn_report_write(a, &o, "report.html");
 *
 * The same artifact and run record give the same bytes.
 *
 * Threading: every function works only on what it is given.
 */
#ifndef KILN_REPORT_H
#define KILN_REPORT_H

#include "kiln/artifact.h"
#include "kiln/store.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct kn_report_opts {
    const char *title;        /* page heading; NULL: "Kiln report: MODEL predicting TARGET" */
    const char *source;       /* what was reported (a file, RUN or MODEL@vN), shown in
                                 the summary; NULL: left out */
    const kn_run_record *run; /* the store's record of the run (resources, cost, run
                                 id), or NULL: those sections say they need one */
} kn_report_opts;

KN_API void kn_report_opts_default(kn_report_opts *o);

/* The report as HTML text. Returns a new string in *html (NUL-terminated,
 * *len bytes without the NUL; len may be NULL); free with kn_free(). A
 * damaged section (JSON that does not parse, held-out predictions that do
 * not decode) is KN_ERR_CORRUPT naming the section. */
KN_API kn_status kn_report_render(const kn_artifact *a, const kn_report_opts *o, char **html,
                                  size_t *len);
/* Render and write to path (a temporary file renamed into place). */
KN_API kn_status kn_report_write(const kn_artifact *a, const kn_report_opts *o, const char *path);

/* The monitoring report of `model` (as kiln monitor check --record named
 * it) from the store's monitoring tables: the PSI of the columns that
 * moved most over the recorded checks, every column's worst PSI and
 * drifted checks, the predictions' PSI over the checks, and the alert
 * history; one self-contained HTML page with inline SVG. A model with no
 * recorded check is KN_ERR_NOT_FOUND. Returns a new string as
 * kn_report_render does (kn_free). */
KN_API kn_status kn_report_monitor(kn_store *s, const char *model, char **html, size_t *len);

#ifdef __cplusplus
}
#endif
#endif
