/* The live score of a window of predictions joined to their true labels:
 * the one scoring kiln monitor feedback (labels joined to the prediction
 * log) and the server's POST /v2/models/{name}/feedback share.
 *
 *     kn_live_row rows[] = {{.correct = 1, .positive = 1, .score = 0.9},
 *                           {.correct = 0, .positive = 0, .score = 0.7}};
 *     double acc, auc;
 *     kn_live_score(KN_LIVE_ACCURACY, rows, 2, &acc);   // 0.5
 *     kn_live_score(KN_LIVE_ROC_AUC, rows, 2, &auc);    // 1
 *
 * A row is one prediction and its label, as the caller joined them: for
 * a classifier whether the predicted label equals the true one (accuracy)
 * and, for a binary one, whether the truth is the positive class with the
 * predicted probability of that class (ROC-AUC; NaN: not known); for a
 * regression the true and predicted values (RMSE, MAE). Rows whose needed
 * fields are NaN are left out; a window with none left (or ROC-AUC with a
 * single class, or a row without a probability) scores NaN.
 *
 * Threading: no state; any thread.
 */
#ifndef KILN_LIVESCORE_H
#define KILN_LIVESCORE_H

#include "kiln/core.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum {
    KN_LIVE_ACCURACY = 0,
    KN_LIVE_ROC_AUC = 1,
    KN_LIVE_RMSE = 2,
    KN_LIVE_MAE = 3,
} kn_live_metric;

typedef struct kn_live_row {
    int correct;  /* classifier: the predicted label is the true one */
    int positive; /* binary: the truth is the positive class */
    double score; /* binary: the predicted probability of the positive class, or NaN */
    double truth; /* regression: the true value, or NaN */
    double value; /* regression: the predicted value, or NaN */
} kn_live_row;

/* The metric named s ("accuracy", "roc_auc", "rmse", "mae") into *out;
 * KN_ERR_INVALID for any other name. */
KN_API kn_status kn_live_metric_parse(const char *s, kn_live_metric *out);
/* Its name (static). */
KN_API const char *kn_live_metric_name(kn_live_metric m);
/* Whether a lower value is better (RMSE, MAE). */
KN_API int kn_live_metric_lower_better(kn_live_metric m);

/* The metric over rows[0..n) into *out (NaN when the window cannot be
 * scored, see above). KN_ERR_NOMEM when out of memory. */
KN_API kn_status kn_live_score(kn_live_metric metric, const kn_live_row *rows, size_t n,
                               double *out);

/* The record of a window of live scores (kiln monitor feedback --record,
 * kiln serve --feedback-ring with --record-windows), one shape for both so
 * kiln monitor report draws them alike: {"live": {"window", "version",
 * "scope", "rows", "metric" (the headline's name), "value", "test" (its
 * test score, null when the artifact has none), "scores": {name: value}
 * (the metrics scored: not NaN)}}. New (json_decref); NULL out of memory. */
KN_API struct json_t *kn_live_record_json(uint64_t window, const char *version, const char *scope,
                                          uint64_t rows, kn_live_metric headline,
                                          const double *live, const double *test);

#ifdef __cplusplus
}
#endif

#endif
