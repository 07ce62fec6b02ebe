/* kiln monitor check against the artifact's drift reference
 * (KN_ART_REFERENCE, kiln/drift_ref.h) when no --reference is given. */
#include "cli/cli_monitor.h"
#include "kiln/artifact.h"
#include "kiln/mem.h"
#include "kiln/model.h"

#include <math.h>
#include <string.h>

kn_status cli_monitor_ref_load(const kn_artifact *art, const char *path, kn_drift_ref **out)
{
    *out = NULL;
    size_t len = 0;
    const void *bytes = kn_artifact_get(art, KN_ART_REFERENCE, &len);
    if (!bytes) return KN_OK;
    char *what = kn_sprintf("%s (drift reference)", path);
    kn_status e = what ? kn_drift_ref_decode(bytes, len, what, out) : KN_ERR_NOMEM;
    kn_free(what);
    return e;
}

kn_status cli_monitor_ref_predictions(const kn_drift_ref *r, const kn_model *m, const double *yc,
                                      size_t nc, const kn_drift_opts *o, kn_drift_col *out,
                                      int *tested)
{
    *tested = 0;
    long j = kn_drift_ref_find(r, "(prediction)", KN_DRIFT_REF_PREDICTION);
    if (j < 0) return KN_OK;
    if (!kn_drift_ref_text(r, (size_t)j)) {
        if (kn_model_task(m) == KN_TASK_CLASSIFICATION) return KN_OK;
        return kn_drift_ref_numbers(r, (size_t)j, yc, nc, o, out, tested);
    }
    if (kn_model_task(m) != KN_TASK_CLASSIFICATION) return KN_OK;
    /* the stored counts per class label, in the model's class order */
    size_t k = kn_model_n_classes(m), kept = 0;
    const char *const *values = NULL;
    const size_t *lens = NULL;
    const uint64_t *counts = NULL;
    kn_drift_ref_levels(r, (size_t)j, &kept, &values, &lens, &counts, NULL, NULL);
    double *rc = kn_calloc(k + 1, sizeof *rc), *cc = kn_calloc(k + 1, sizeof *cc);
    kn_status e = rc && cc ? KN_OK : KN_ERR_NOMEM;
    for (size_t c = 0; e == KN_OK && c < k; c++) {
        const char *label = kn_model_class(m, c);
        for (size_t v = 0; label && v < kept; v++)
            if (!strcmp(values[v], label)) rc[c] = (double)counts[v];
    }
    for (size_t i = 0; e == KN_OK && i < nc; i++)
        if (yc[i] >= 0 && yc[i] < (double)k) cc[(size_t)yc[i]]++;
    if (e == KN_OK) e = kn_drift_counts("(prediction)", rc, cc, k, o, out);
    *tested = e == KN_OK;
    kn_free(rc), kn_free(cc);
    return e;
}
