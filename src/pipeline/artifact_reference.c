/* The artifact's drift reference (KN_ART_REFERENCE, kiln/drift_ref.h):
 * built from the rows a pipeline was fitted on when the artifact is
 * written. */
#include "kiln/artifact.h"
#include "kiln/codec.h"
#include "kiln/drift_ref.h"
#include "kiln/mem.h"
#include "kiln/model.h"
#include "kiln/rng.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

enum { ROWS_VERSION = 1 };
#define ROWS_SEED 0x726f7773u /* "rows": the sample does not depend on any user seed */

/* p's input columns without its target and weight (new array of borrowed
 * names, kn_free). */
/* Whether rows marks column `name` ignored (a spec's ignore:, --ignore):
 * the model never reads it, so its drift is no news (an id column drifts
 * in every batch) and the anomaly forest must not see it. */
static int ignored(const kn_frame *rows, const char *name)
{
    size_t j;
    return kn_frame_find(rows, name, &j) == KN_OK &&
           kn_column_role(kn_frame_col(rows, j)) == KN_ROLE_IGNORE;
}

static kn_status input_names(const kn_pipeline *p, const kn_frame *rows, const char ***names,
                             size_t *n)
{
    const kn_steps_input *in = kn_pipeline_input(p);
    if (!in) return kn_fail(KN_ERR_INVALID, "the pipeline has no input to keep a reference of");
    const char *target = kn_pipeline_target(p), *weight = kn_pipeline_weight(p);
    *names = kn_malloc((in->n_cols + 1) * sizeof **names);
    if (!*names) return KN_ERR_NOMEM;
    *n = 0;
    for (size_t j = 0; j < in->n_cols; j++)
        if (!(target && !strcmp(in->names[j], target)) &&
            !(weight && !strcmp(in->names[j], weight)) && !ignored(rows, in->names[j]))
            (*names)[(*n)++] = in->names[j];
    return KN_OK;
}

/* p's predictions on rows, into r; a classifier's scores
 * (kn_drift_class_score) too. */
static kn_status add_predictions(kn_drift_ref *r, const kn_pipeline *p, const kn_frame *rows)
{
    const kn_model *m = kn_pipeline_model(p);
    if (!m || !kn_frame_n_rows(rows)) return KN_OK;
    double *y = NULL, *proba = NULL;
    size_t n = 0, np = 0,
           k = kn_model_task(m) == KN_TASK_CLASSIFICATION ? kn_model_n_classes(m) : 0;
    const char **classes = k ? kn_calloc(k, sizeof *classes) : NULL;
    kn_status e = k && !classes ? KN_ERR_NOMEM : KN_OK;
    for (size_t c = 0; e == KN_OK && c < k; c++) classes[c] = kn_model_class(m, c);
    if (e == KN_OK) e = kn_pipeline_predict(p, rows, &y, &n);
    if (e == KN_OK) e = kn_drift_ref_add_predictions(r, y, n, classes, k);
    if (e == KN_OK && k >= 2) e = kn_pipeline_predict_proba(p, rows, &proba, &np);
    if (e == KN_OK && k >= 2) { /* the scores, in y's room */
        for (size_t i = 0; i < n && i < np; i++) y[i] = kn_drift_class_score(proba + i * k, k);
        e = kn_drift_ref_add_scores(r, y, n < np ? n : np);
    }
    kn_free(y);
    kn_free(proba);
    kn_free(classes);
    return e;
}

static int cmp_size(const void *x, const void *y)
{
    size_t a = *(const size_t *)x, b = *(const size_t *)y;
    return (a > b) - (a < b);
}

/* KN_ART_REFERENCE_ROWS: the numeric inputs among names of a sample of rows. */
static kn_status set_rows(kn_artifact *a, const kn_frame *rows, const char **names, size_t n_names)
{
    size_t n = kn_frame_n_rows(rows),
           m = n < KN_ART_REFERENCE_ROWS_MAX ? n : KN_ART_REFERENCE_ROWS_MAX;
    size_t *pick = kn_malloc((n ? n : 1) * sizeof *pick),
           *cols = kn_malloc((n_names + 1) * sizeof *cols);
    size_t k = 0;
    kn_wbuf w = {0};
    kn_status e = pick && cols ? KN_OK : KN_ERR_NOMEM;
    for (size_t j = 0; e == KN_OK && j < n_names; j++) {
        size_t at = 0;
        if (kn_frame_find(rows, names[j], &at) != KN_OK) continue;
        kn_col_type t = kn_column_type(kn_frame_col(rows, at));
        if (t == KN_COL_NUMERIC || t == KN_COL_INT64) cols[k++] = at;
    }
    if (e == KN_OK && k) {
        /* the first m of a seeded Fisher-Yates shuffle, back in row order */
        kn_rng r;
        kn_rng_init(&r, ROWS_SEED);
        for (size_t i = 0; i < n; i++) pick[i] = i;
        for (size_t i = 0; m < n && i < m; i++) {
            size_t j = i + (size_t)kn_rng_below(&r, (uint64_t)(n - i)), t = pick[i];
            pick[i] = pick[j];
            pick[j] = t;
        }
        qsort(pick, m, sizeof *pick, cmp_size);
        kn_wbuf_u32(&w, ROWS_VERSION);
        kn_wbuf_u64(&w, (uint64_t)n);
        kn_wbuf_u64(&w, (uint64_t)m);
        kn_wbuf_u32(&w, (uint32_t)k);
        for (size_t j = 0; j < k; j++) kn_wbuf_str(&w, kn_column_name(kn_frame_col(rows, cols[j])));
        for (size_t j = 0; j < k; j++) {
            const kn_column *c = kn_frame_col(rows, cols[j]);
            for (size_t i = 0; i < m; i++)
                kn_wbuf_f64(&w,
                            kn_column_is_missing(c, pick[i]) ? NAN : kn_column_number(c, pick[i]));
        }
        e = kn_wbuf_status(&w);
        if (e == KN_OK) e = kn_artifact_set(a, KN_ART_REFERENCE_ROWS, w.p, w.n);
    }
    kn_wbuf_free(&w);
    kn_free(pick);
    kn_free(cols);
    return e;
}

kn_status kn_artifact_reference_rows(const kn_artifact *a, const char *what, kn_frame **out,
                                     uint64_t *from)
{
    *out = NULL;
    size_t len = 0;
    const void *bytes = a ? kn_artifact_get(a, KN_ART_REFERENCE_ROWS, &len) : NULL;
    if (!what) what = "the artifact";
    if (!bytes) return kn_fail(KN_ERR_NOT_FOUND, "%s holds no sample of its training rows", what);
    char *where = kn_sprintf("%s (reference rows)", what);
    if (!where) return KN_ERR_NOMEM;
    kn_rbuf b = kn_rbuf_init(bytes, len, where);
    uint32_t version = 0, k = 0;
    uint64_t n = 0, m = 0;
    kn_frame *f = NULL;
    char *name = NULL;
    kn_status e = kn_rbuf_u32(&b, &version);
    if (e == KN_OK) e = kn_rbuf_u64(&b, &n);
    if (e == KN_OK) e = kn_rbuf_u64(&b, &m);
    if (e == KN_OK) e = kn_rbuf_u32(&b, &k);
    if (e == KN_OK && version > ROWS_VERSION)
        e = kn_fail(KN_ERR_VERSION, "%s: version %u is newer than this kiln reads (%u)", where,
                    version, (unsigned)ROWS_VERSION);
    if (e == KN_OK && (version == 0 || m > n || m > KN_ART_REFERENCE_ROWS_MAX || k == 0 ||
                       k > kn_rbuf_left(&b) / 8))
        e = kn_fail(KN_ERR_CORRUPT, "%s: bad header (version %u, %llu of %llu rows, %u columns)",
                    where, version, (unsigned long long)m, (unsigned long long)n, k);
    if (e == KN_OK) e = kn_frame_new(&f);
    for (uint32_t j = 0; e == KN_OK && j < k; j++) {
        kn_column *c = NULL;
        size_t at = 0;
        e = kn_rbuf_str(&b, &name);
        if (e == KN_OK && !name) e = kn_fail(KN_ERR_CORRUPT, "%s: column %u has no name", where, j);
        if (e == KN_OK && kn_frame_find(f, name, &at) == KN_OK)
            e = kn_fail(KN_ERR_CORRUPT, "%s: column '%s' twice", where, name);
        if (e == KN_OK) e = kn_frame_add_column(f, name, KN_COL_NUMERIC, &c);
        if (e == KN_OK && j == 0) e = kn_frame_resize(f, (size_t)m);
        kn_free(name);
        name = NULL;
    }
    for (uint32_t j = 0; e == KN_OK && j < k; j++) {
        size_t cnt = 0;
        double *x = kn_column_f64(kn_frame_col(f, j));
        if (kn_rbuf_left(&b) / 8 < m) {
            e = kn_fail(KN_ERR_CORRUPT, "%s: truncated values of column %u", where, j);
            break;
        }
        for (cnt = 0; e == KN_OK && cnt < m; cnt++) e = kn_rbuf_f64(&b, &x[cnt]);
    }
    if (e == KN_OK && kn_rbuf_left(&b))
        e = kn_fail(KN_ERR_CORRUPT, "%s: %zu bytes after the values", where, kn_rbuf_left(&b));
    kn_free(where);
    if (e != KN_OK) {
        kn_frame_free(f);
        return e;
    }
    if (from) *from = n;
    *out = f;
    return KN_OK;
}

kn_status kn_artifact_set_reference(kn_artifact *a, const kn_pipeline *p, const kn_frame *rows)
{
    if (!a || !p || !rows)
        return kn_fail(KN_ERR_INVALID, "kn_artifact_set_reference: no artifact, pipeline or rows");
    const char **names = NULL;
    size_t n = 0, held = 0, len = 0;
    kn_drift_ref *r = NULL;
    unsigned char *buf = NULL;
    kn_status e = input_names(p, rows, &names, &n);
    if (e == KN_OK) e = kn_drift_ref_build(rows, names, n, &r);
    if (e == KN_OK && !kn_artifact_get(a, KN_ART_HELDOUT, &held)) e = add_predictions(r, p, rows);
    if (e == KN_OK) e = kn_drift_ref_encode(r, &buf, &len);
    if (e == KN_OK) e = kn_artifact_set(a, KN_ART_REFERENCE, buf, len);
    if (e == KN_OK) e = set_rows(a, rows, names, n);
    kn_free(buf);
    kn_drift_ref_free(r);
    kn_free(names);
    return e;
}
