/* The one-row predictor (kiln/pipeline.h): a fitted pipeline prepared once
 * for rows of its input layout. Preparing runs the steps on a frame of no
 * rows to learn the columns each step sees (names, types, positions), so
 * that per row the schema check, the steps (transform_row) and the model
 * (a one-row dataset) work on flat arrays. Anything the row path does not
 * cover takes the frame path (kn_schema_validate, kn_pipeline_predict). */
#include "kiln/mem.h"
#include "learn/row-impl.h"
#include "pipeline/pipeline-impl.h"
#include "prep/row-impl.h"

#include <string.h>

/* columns (and features) a row holds without allocating; room a step may
 * take beyond its output while it works (it inserts before it removes) */
enum { ROW_STACK = 256, ROW_SLACK = 8 };

struct kn_row_predictor {
    const kn_pipeline *p;
    const kn_schema *schema;
    kn__row_check *check; /* the schema's row rules, or NULL */
    int fast;
    size_t n_in; /* the input layout */
    char **in_names;
    kn_col_type *in_types;
    size_t **step_cols;   /* per step: its fitted columns in the layout it sees */
    size_t width;         /* the most columns a row has between steps, + ROW_SLACK */
    size_t p_feat, *feat; /* the model's features in the last layout */
    size_t k;             /* classes (0: regression) */
};

void kn_row_predictor_free(kn_row_predictor *rp)
{
    if (!rp) return;
    kn__row_check_free(rp->check);
    for (size_t i = 0; i < rp->n_in; i++) kn_free(rp->in_names[i]);
    kn_free(rp->in_names);
    kn_free(rp->in_types);
    for (size_t k = 0; rp->step_cols && k < rp->p->n_steps; k++) kn_free(rp->step_cols[k]);
    kn_free(rp->step_cols);
    kn_free(rp->feat);
    kn_free(rp);
}

int kn_row_predictor_fast(const kn_row_predictor *rp)
{
    return rp->fast;
}

/* The input layout as a frame of no rows, and its names and types. */
static kn_status input_layout(kn_row_predictor *rp, kn_frame **out)
{
    const kn_steps_input *in = rp->p->input;
    const char *target = rp->p->target, *weight = rp->p->weight;
    kn_frame *f = NULL;
    kn_status e = kn_frame_new(&f);
    rp->in_names = kn_calloc(in->n_cols ? in->n_cols : 1, sizeof *rp->in_names);
    rp->in_types = kn_calloc(in->n_cols ? in->n_cols : 1, sizeof *rp->in_types);
    if (e == KN_OK && (!rp->in_names || !rp->in_types)) e = KN_ERR_NOMEM;
    for (size_t j = 0; e == KN_OK && j < in->n_cols; j++) {
        const char *name = in->names[j];
        if ((target && !strcmp(name, target)) || (weight && !strcmp(name, weight))) continue;
        if (!(rp->in_names[rp->n_in] = kn_strdup(name))) {
            e = KN_ERR_NOMEM;
            break;
        }
        rp->in_types[rp->n_in++] = in->types[j];
        e = kn_frame_add_column(f, name, in->types[j], NULL);
    }
    if (e != KN_OK) {
        kn_frame_free(f);
        return e;
    }
    *out = f;
    return KN_OK;
}

/* Learn each step's columns and the model's features on frames of no
 * rows; rp->fast stays 0 where the row path cannot stand in. */
static kn_status prepare(kn_row_predictor *rp, kn_frame *cur)
{
    const kn_pipeline *p = rp->p;
    rp->step_cols = kn_calloc(p->n_steps ? p->n_steps : 1, sizeof *rp->step_cols);
    if (!rp->step_cols) {
        kn_frame_free(cur);
        return KN_ERR_NOMEM;
    }
    kn_status e = KN_OK;
    int fast = 1;
    rp->width = kn_frame_n_cols(cur);
    for (size_t k = 0; e == KN_OK && fast && k < p->n_steps; k++) {
        size_t n = kn__step_n_fitted(p->steps[k]);
        kn_frame *next = NULL;
        if (!(rp->step_cols[k] = kn_malloc((n ? n : 1) * sizeof **rp->step_cols))) {
            e = KN_ERR_NOMEM;
            break;
        }
        fast = kn__step_row_columns(p->steps[k], cur, rp->step_cols[k]) == KN_OK &&
               kn_step_transform(p->steps[k], cur, &next) == KN_OK;
        kn_frame_free(cur);
        cur = next;
        if (cur && kn_frame_n_cols(cur) > rp->width) rp->width = kn_frame_n_cols(cur);
    }
    if (e == KN_OK && fast) {
        rp->p_feat = kn__model_n_features(p->model);
        if (!(rp->feat = kn_malloc((rp->p_feat ? rp->p_feat : 1) * sizeof *rp->feat)))
            e = KN_ERR_NOMEM;
        else
            fast = kn__model_row_features(p->model, cur, rp->feat) == KN_OK;
    }
    kn_frame_free(cur);
    rp->width += ROW_SLACK;
    rp->fast = fast && e == KN_OK;
    return e;
}

kn_status kn_row_predictor_new(const kn_pipeline *p, const kn_schema *schema,
                               kn_row_predictor **out)
{
    if (!p->fitted || !p->model || !p->input)
        return kn_fail(KN_ERR_INVALID,
                       "a row predictor needs a fitted pipeline with a model; fit it first");
    if (p->n_members)
        return kn_fail(KN_ERR_UNSUPPORTED, "a pipeline of member pipelines (an ensemble) predicts "
                                           "rows through frames: kn_pipeline_predict");
    kn_row_predictor *rp = kn_calloc(1, sizeof *rp);
    if (!rp) return KN_ERR_NOMEM;
    rp->p = p;
    rp->schema = schema;
    rp->k = kn_model_n_classes(p->model);
    kn_frame *layout = NULL;
    kn_status e = input_layout(rp, &layout);
    if (e == KN_OK && schema) e = kn__row_check_new(schema, layout, &rp->check);
    if (e == KN_OK)
        e = prepare(rp, layout); /* takes layout */
    else
        kn_frame_free(layout);
    if (e != KN_OK) {
        kn_row_predictor_free(rp);
        return e;
    }
    *out = rp;
    return KN_OK;
}

/* f laid out as the input: the same columns, names and types, in order. */
static int same_layout(const kn_row_predictor *rp, const kn_frame *f)
{
    if (kn_frame_n_cols(f) != rp->n_in) return 0;
    for (size_t j = 0; j < rp->n_in; j++) {
        const kn_column *c = kn_frame_col(f, j);
        if (kn_column_type(c) != rp->in_types[j] || strcmp(kn_column_name(c), rp->in_names[j]))
            return 0;
    }
    return 1;
}

/* The frame path on row `row` alone. */
static kn_status frame_path(const kn_row_predictor *rp, const kn_frame *f, size_t row, int checked,
                            double *prediction, double *proba, kn_validation **report)
{
    kn_frame *one = NULL;
    const kn_frame *use = f;
    double *v = NULL;
    size_t n = 0;
    kn_status e = KN_OK;
    if (kn_frame_n_rows(f) != 1) {
        e = kn_frame_select_rows(f, &row, 1, &one);
        use = one;
    }
    if (e == KN_OK && rp->schema && !checked) {
        kn_validation *v1 = NULL;
        e = kn_schema_validate(rp->schema, use, &v1);
        if (e == KN_OK && v1->n_violations) {
            const kn_violation *x = &v1->violations[0];
            e = kn_fail(KN_ERR_INVALID, "column '%s' breaks the input schema (rule %s): %s",
                        x->column ? x->column : "", x->rule, x->detail);
            if (report)
                *report = v1;
            else
                kn_validation_free(v1);
            v1 = NULL;
        }
        kn_validation_free(v1);
    }
    if (e == KN_OK && prediction) e = kn__pipeline_predict_frames(rp->p, use, NULL, 0, &v, &n);
    if (e == KN_OK && prediction) *prediction = v[0];
    kn_free(v);
    v = NULL;
    if (e == KN_OK && proba && rp->k) e = kn__pipeline_predict_frames(rp->p, use, NULL, 1, &v, &n);
    if (e == KN_OK && proba && rp->k) memcpy(proba, v, rp->k * sizeof *proba);
    kn_free(v);
    kn_frame_free(one);
    return e;
}

/* The row path: KN_ERR_UNSUPPORTED when the row must take the frame path. */
static kn_status row_path(const kn_row_predictor *rp, const kn_frame *f, size_t r, kn_step_row *row,
                          double *x, const double **col, double *prediction, double *proba)
{
    row->n = rp->n_in;
    for (size_t j = 0; j < rp->n_in; j++) {
        kn_column *c = kn_frame_col(f, j);
        row->type[j] = rp->in_types[j];
        row->text[j] = NULL;
        row->num[j] = 0;
        row->i64[j] = 0;
        switch (rp->in_types[j]) {
        case KN_COL_NUMERIC:
            row->num[j] = kn_column_f64(c)[r];
            break;
        case KN_COL_CATEGORICAL: {
            int32_t code = kn_column_codes(c)[r];
            if (code >= 0) row->text[j] = kn_column_level(c, code, NULL);
            break;
        }
        case KN_COL_TIMESTAMP:
            row->i64[j] = kn_column_ts(c)[r];
            break;
        case KN_COL_INT64:
            row->i64[j] = kn_column_i64(c)[r];
            break;
        case KN_COL_STRING: /* not carried: no row step reads one */
            break;
        }
    }
    kn_status e = KN_OK;
    for (size_t k = 0; e == KN_OK && k < rp->p->n_steps; k++)
        e = kn__step_transform_row(rp->p->steps[k], row, rp->step_cols[k]);
    if (e != KN_OK) return KN_ERR_UNSUPPORTED;
    e = kn__model_predict_row(rp->p->model, row, rp->feat, x, col, prediction,
                              rp->k ? proba : NULL);
    return e == KN_OK ? KN_OK : KN_ERR_UNSUPPORTED;
}

kn_status kn_row_predict(const kn_row_predictor *rp, const kn_frame *f, size_t row,
                         double *prediction, double *proba, kn_validation **report)
{
    if (report) *report = NULL;
    if (row >= kn_frame_n_rows(f))
        return kn_fail(KN_ERR_RANGE, "row %zu of a frame of %zu rows", row, kn_frame_n_rows(f));
    if (!rp->fast || !same_layout(rp, f))
        return frame_path(rp, f, row, 0, prediction, proba, report);
    int checked = 0;
    if (rp->check && !kn__row_check_pass(rp->check, f, row)) {
        /* the rules as validate states them; a row that passes after all goes on */
        kn_frame *one = NULL;
        kn_validation *v = NULL;
        kn_status e = kn_frame_n_rows(f) == 1 ? KN_OK : kn_frame_select_rows(f, &row, 1, &one);
        if (e == KN_OK) e = kn_schema_validate(rp->schema, one ? one : f, &v);
        kn_frame_free(one);
        if (e != KN_OK) return e;
        int bad = v->n_violations != 0;
        kn_validation_free(v);
        if (bad) return frame_path(rp, f, row, 0, prediction, proba, report);
        checked = 1;
    }
    int heap = rp->width > ROW_STACK || rp->p_feat > ROW_STACK;
    double num_s[ROW_STACK], x_s[ROW_STACK];
    const char *text_s[ROW_STACK];
    kn_col_type type_s[ROW_STACK];
    int64_t i64_s[ROW_STACK];
    const double *col_s[ROW_STACK];
    kn_step_row r = {0, rp->width, type_s, num_s, text_s, i64_s};
    double *x = x_s;
    const double **col = col_s;
    if (heap) {
        r.type = kn_malloc(rp->width * sizeof *r.type);
        r.num = kn_malloc(rp->width * sizeof *r.num);
        r.text = kn_malloc(rp->width * sizeof *r.text);
        r.i64 = kn_malloc(rp->width * sizeof *r.i64);
        x = kn_malloc((rp->p_feat ? rp->p_feat : 1) * sizeof *x);
        col = kn_malloc((rp->p_feat ? rp->p_feat : 1) * sizeof *col);
    }
    kn_status e = !heap || (r.type && r.num && r.text && r.i64 && x && col)
                      ? row_path(rp, f, row, &r, x, col, prediction, proba)
                      : KN_ERR_NOMEM;
    if (heap) {
        kn_free(r.type);
        kn_free(r.num);
        kn_free(r.text);
        kn_free(r.i64);
        kn_free(x);
        kn_free(col);
    }
    if (e == KN_ERR_UNSUPPORTED)
        e = frame_path(rp, f, row, checked || rp->check != NULL, prediction, proba, report);
    return e;
}
