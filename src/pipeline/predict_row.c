/* One row of raw text values through a fitted pipeline (kiln/pipeline.h):
 * the row becomes a one-row frame with the fitted column types, then is
 * predicted like any frame. */
#include "data/parse-impl.h"
#include "kiln/mem.h"
#include "pipeline/pipeline-impl.h"

#include <string.h>

/* Index of `name` among the fitted input columns, or (size_t)-1. */
static size_t input_index(const kn_steps_input *in, const char *name)
{
    for (size_t j = 0; j < in->n_cols; j++)
        if (!strcmp(in->names[j], name)) return j;
    return (size_t)-1;
}

/* Store text v (not missing) in row 0 of c, read as c's type. */
static kn_status put_value(kn_column *c, const char *v)
{
    size_t len = strlen(v);
    const char *p = v, *end = v + len;
    while (p < end && (*p == ' ' || *p == '\t')) p++;
    while (end > p && (end[-1] == ' ' || end[-1] == '\t')) end--;
    switch (kn_column_type(c)) {
    case KN_COL_NUMERIC: {
        double x;
        if (p == end || kn__parse_double(p, end, &x) != end) break;
        kn_column_f64(c)[0] = x;
        return KN_OK;
    }
    case KN_COL_INT64: {
        int64_t x;
        if (!kn__parse_int64(p, end, 1, &x)) break;
        kn_column_i64(c)[0] = x;
        return KN_OK;
    }
    case KN_COL_TIMESTAMP: {
        int64_t x;
        if (!kn__parse_timestamp(p, end, &x)) break;
        kn_column_ts(c)[0] = x;
        return KN_OK;
    }
    case KN_COL_CATEGORICAL: {
        int32_t code;
        kn_status e = kn_column_intern(c, v, len, &code);
        if (e == KN_OK) kn_column_codes(c)[0] = code;
        return e;
    }
    case KN_COL_STRING:
        return kn_column_set_str(c, 0, v, len);
    }
    return kn_fail(KN_ERR_PARSE,
                   "column '%s': '%s' does not read as %s, the type the pipeline was fitted with",
                   kn_column_name(c), v, kn_col_type_name(kn_column_type(c)));
}

/* The one-row frame of the fitted input columns; absent values missing. */
static kn_status row_frame(const kn_steps_input *in, const char *const *names,
                           const char *const *values, size_t n, kn_frame **out)
{
    kn_frame *f = NULL;
    kn_status e = kn_frame_new(&f);
    for (size_t j = 0; e == KN_OK && j < in->n_cols; j++)
        e = kn_frame_add_column(f, in->names[j], in->types[j], NULL);
    if (e == KN_OK) e = kn_frame_resize(f, 1);
    for (size_t i = 0; e == KN_OK && i < n; i++) {
        size_t j = input_index(in, names[i]);
        if (j == (size_t)-1)
            e = kn_fail(KN_ERR_INVALID,
                        "column '%s' is not one the pipeline was fitted on (%zu columns, "
                        "the first '%s')",
                        names[i], in->n_cols, in->n_cols ? in->names[0] : "");
        else if (values[i] && *values[i])
            e = put_value(kn_frame_col(f, j), values[i]);
    }
    if (e != KN_OK) {
        kn_frame_free(f);
        return e;
    }
    *out = f;
    return KN_OK;
}

kn_status kn_pipeline_predict_row(const kn_pipeline *p, const char *const *names,
                                  const char *const *values, size_t n, double *prediction,
                                  double *proba)
{
    if (!p->fitted || !p->model)
        return kn_fail(KN_ERR_INVALID, "predicting a row needs a fitted pipeline with a model");
    kn_frame *row = NULL, *prepared = NULL;
    double *pred = NULL, *pr = NULL;
    size_t got = 0;
    kn_status e = row_frame(p->input, names, values, n, &row);
    /* the steps run once; the model predicts and gives probabilities from it */
    if (e == KN_OK) e = kn_pipeline_transform(p, row, &prepared);
    if (e == KN_OK) e = kn_model_predict(p->model, prepared, &pred, &got);
    if (e == KN_OK) *prediction = pred[0];
    if (e == KN_OK && proba && kn_model_n_classes(p->model)) {
        e = kn_model_predict_proba(p->model, prepared, &pr, &got);
        if (e == KN_OK) memcpy(proba, pr, kn_model_n_classes(p->model) * sizeof *proba);
    }
    kn_free(pred);
    kn_free(pr);
    kn_frame_free(prepared);
    kn_frame_free(row);
    return e;
}
