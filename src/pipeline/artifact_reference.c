/* The artifact's drift reference (KN_ART_REFERENCE, kiln/drift_ref.h):
 * built from the rows a pipeline was fitted on when the artifact is
 * written. */
#include "kiln/artifact.h"
#include "kiln/drift_ref.h"
#include "kiln/mem.h"
#include "kiln/model.h"

#include <string.h>

/* p's input columns without its target and weight (new array of borrowed
 * names, kn_free). */
static kn_status input_names(const kn_pipeline *p, const char ***names, size_t *n)
{
    const kn_steps_input *in = kn_pipeline_input(p);
    if (!in) return kn_fail(KN_ERR_INVALID, "the pipeline has no input to keep a reference of");
    const char *target = kn_pipeline_target(p), *weight = kn_pipeline_weight(p);
    *names = kn_malloc((in->n_cols + 1) * sizeof **names);
    if (!*names) return KN_ERR_NOMEM;
    *n = 0;
    for (size_t j = 0; j < in->n_cols; j++)
        if (!(target && !strcmp(in->names[j], target)) &&
            !(weight && !strcmp(in->names[j], weight)))
            (*names)[(*n)++] = in->names[j];
    return KN_OK;
}

/* p's predictions on rows, into r. */
static kn_status add_predictions(kn_drift_ref *r, const kn_pipeline *p, const kn_frame *rows)
{
    const kn_model *m = kn_pipeline_model(p);
    if (!m || !kn_frame_n_rows(rows)) return KN_OK;
    double *y = NULL;
    size_t n = 0, k = kn_model_task(m) == KN_TASK_CLASSIFICATION ? kn_model_n_classes(m) : 0;
    const char **classes = k ? kn_calloc(k, sizeof *classes) : NULL;
    kn_status e = k && !classes ? KN_ERR_NOMEM : KN_OK;
    for (size_t c = 0; e == KN_OK && c < k; c++) classes[c] = kn_model_class(m, c);
    if (e == KN_OK) e = kn_pipeline_predict(p, rows, &y, &n);
    if (e == KN_OK) e = kn_drift_ref_add_predictions(r, y, n, classes, k);
    kn_free(y);
    kn_free(classes);
    return e;
}

kn_status kn_artifact_set_reference(kn_artifact *a, const kn_pipeline *p, const kn_frame *rows)
{
    if (!a || !p || !rows)
        return kn_fail(KN_ERR_INVALID, "kn_artifact_set_reference: no artifact, pipeline or rows");
    const char **names = NULL;
    size_t n = 0, held = 0, len = 0;
    kn_drift_ref *r = NULL;
    unsigned char *buf = NULL;
    kn_status e = input_names(p, &names, &n);
    if (e == KN_OK) e = kn_drift_ref_build(rows, names, n, &r);
    if (e == KN_OK && !kn_artifact_get(a, KN_ART_HELDOUT, &held)) e = add_predictions(r, p, rows);
    if (e == KN_OK) e = kn_drift_ref_encode(r, &buf, &len);
    if (e == KN_OK) e = kn_artifact_set(a, KN_ART_REFERENCE, buf, len);
    kn_free(buf);
    kn_drift_ref_free(r);
    kn_free(names);
    return e;
}
