/* Times one-row inference in process for bench/serve_inproc, through the
 * public API only:
 *   bench_serve_inproc ARTIFACT.kiln ROWS.csv REPS [row]
 * loads the artifact's pipeline and input schema (relaxed for one request
 * as kiln serve relaxes it: no table rules), turns each row of ROWS.csv
 * into a one-row frame of the fitted input columns (what kiln serve's
 * body parser gives), then times per row, REPS rows cycling through them:
 *   frame  kn_schema_validate + kn_pipeline_transform + kn_model_predict
 *          (+ _proba for a classifier): the frame path kiln serve took per
 *          request (and kn_pipeline_predict on one row before the row path);
 *   pred   kn_pipeline_predict alone on the one-row frame (now the row
 *          path without a schema);
 *   row    kn_row_predict with the schema (prediction and probabilities).
 * Checks that row and frame give bit-identical results on every row and
 * prints JSON: per path the median and p99 microseconds per row. With
 * "row", only the row path runs (for a profile). */
#include "bench_util.h"
#include "kiln/artifact.h"
#include "kiln/io.h"
#include "kiln/mem.h"
#include "kiln/pipeline.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void die(const char *what)
{
    fprintf(stderr, "bench_serve_inproc: %s: %s\n", what, kn_last_error());
    exit(1);
}

/* Row r of src as a one-row frame of the pipeline's input columns. */
static kn_frame *one_row(const kn_pipeline *p, const kn_frame *src, size_t r)
{
    const kn_steps_input *in = kn_pipeline_input(p);
    const char *target = kn_pipeline_target(p);
    kn_frame *f;
    if (kn_frame_new(&f) != KN_OK) die("frame");
    for (size_t j = 0; j < in->n_cols; j++)
        if (!target || strcmp(in->names[j], target))
            if (kn_frame_add_column(f, in->names[j], in->types[j], NULL) != KN_OK) die("column");
    if (kn_frame_resize(f, 1) != KN_OK) die("resize");
    for (size_t j = 0; j < kn_frame_n_cols(f); j++) {
        kn_column *c = kn_frame_col(f, j);
        size_t k;
        if (kn_frame_find(src, kn_column_name(c), &k) != KN_OK) die("input column");
        kn_column *s = kn_frame_col(src, k);
        if (kn_column_type(c) != kn_column_type(s)) die("a column's type");
        if (kn_column_type(c) == KN_COL_NUMERIC) {
            kn_column_f64(c)[0] = kn_column_f64(s)[r];
        } else if (kn_column_type(c) == KN_COL_TIMESTAMP) {
            kn_column_ts(c)[0] = kn_column_ts(s)[r];
        } else if (kn_column_type(c) == KN_COL_INT64) {
            kn_column_i64(c)[0] = kn_column_i64(s)[r];
        } else if (kn_column_type(c) == KN_COL_STRING) {
            size_t len;
            const char *t = kn_column_str(s, r, &len);
            if (t && kn_column_set_str(c, 0, t, len) != KN_OK) die("string");
        } else if (kn_column_type(c) == KN_COL_CATEGORICAL) {
            size_t len = 0;
            int32_t out;
            const char *t = NULL;
            if (kn_column_codes(s)[r] >= 0) t = kn_column_level(s, kn_column_codes(s)[r], &len);
            if (t && kn_column_intern(c, t, len, &out) == KN_OK) kn_column_codes(c)[0] = out;
        }
    }
    return f;
}

/* As kiln serve relaxes the schema for a request: no table rules, and the
 * columns that are not inputs (the target) free. */
static void relax(kn_schema *s, const kn_pipeline *p)
{
    const char *target = kn_pipeline_target(p);
    s->min_rows = s->max_rows = 0;
    for (size_t i = 0; i < s->n_keys; i++) kn_free(s->keys[i]);
    s->n_keys = 0;
    for (size_t i = 0; i < s->n_cols; i++) {
        kn_schema_column *c = &s->cols[i];
        c->unique = 0;
        if (c->max_missing > 0) c->max_missing = 1;
        if (target && !strcmp(c->name, target)) {
            c->required = 0;
            c->max_missing = 1;
            c->has_min = c->has_max = 0;
        }
    }
}

static void stats(const char *name, double *t, size_t n, int last)
{
    qsort(t, n, sizeof *t, bench_cmp_double);
    printf("  \"%s\": {\"median_us\": %.3f, \"p99_us\": %.3f}%s\n", name, t[n / 2] * 1e6,
           t[(size_t)((double)n * 0.99)] * 1e6, last ? "" : ",");
}

int main(int argc, char **argv)
{
    if (argc != 4 && argc != 5) {
        fprintf(stderr, "usage: bench_serve_inproc ARTIFACT.kiln ROWS.csv REPS [row]\n");
        return 2;
    }
    size_t reps = (size_t)atol(argv[3]);
    kn_artifact *art;
    kn_pipeline *p;
    kn_schema *schema = NULL;
    if (kn_artifact_read(argv[1], NULL, &art) != KN_OK) die(argv[1]);
    if (kn_artifact_pipeline(art, &p) != KN_OK) die("pipeline");
    size_t len;
    const char *text = kn_artifact_get(art, KN_ART_SCHEMA, &len);
    if (text && kn_schema_parse(text, len, "schema", &schema) != KN_OK) die("schema");
    if (schema) relax(schema, p);
    /* the rows read with the fitted types, as kiln predict reads them */
    const kn_steps_input *in = kn_pipeline_input(p);
    kn_col_decl *decls = malloc(in->n_cols * sizeof *decls);
    for (size_t j = 0; j < in->n_cols; j++) decls[j] = (kn_col_decl){in->names[j], in->types[j]};
    kn_read_opts ro;
    kn_read_opts_default(&ro);
    ro.decls = decls;
    ro.n_decls = in->n_cols;
    kn_frame *src;
    kn_read_report rep;
    if (kn_frame_read(argv[2], &ro, &src, &rep) != KN_OK) die(argv[2]);
    size_t n = kn_frame_n_rows(src);
    kn_frame **rows = malloc(n * sizeof *rows);
    for (size_t r = 0; r < n; r++) rows[r] = one_row(p, src, r);
    const kn_model *m = kn_pipeline_model(p);
    size_t k = kn_model_task(m) == KN_TASK_CLASSIFICATION ? kn_model_n_classes(m) : 0;
    kn_row_predictor *rp;
    if (kn_row_predictor_new(p, schema, &rp) != KN_OK) die("row predictor");
    double *tf = malloc(reps * sizeof *tf), *tp = malloc(reps * sizeof *tp),
           *tr = malloc(reps * sizeof *tr), proba[64], sink = 0;
    size_t differ = 0, all = argc == 4;        /* "row": the row path alone (for a profile) */
    for (size_t i = 0; all && i < reps; i++) { /* the frame path */
        const kn_frame *f = rows[i % n];
        double t0 = bench_now(), *pred = NULL, *pr = NULL;
        size_t got;
        kn_validation *v = NULL;
        if (schema && kn_schema_validate(schema, f, &v) != KN_OK) die("validate");
        if (v && v->n_violations) die("a row breaks the schema");
        kn_validation_free(v);
        kn_frame *prepared = NULL;
        if (kn_pipeline_transform(p, f, &prepared) != KN_OK) die("transform");
        if (kn_model_predict(m, prepared, &pred, &got) != KN_OK) die("predict");
        if (k && kn_model_predict_proba(m, prepared, &pr, &got) != KN_OK) die("proba");
        kn_frame_free(prepared);
        tf[i] = bench_now() - t0;
        double y;
        if (kn_row_predict(rp, f, 0, &y, proba, NULL) != KN_OK) die("row predict");
        differ += memcmp(&y, pred, sizeof y) != 0 || (k && memcmp(proba, pr, k * sizeof *pr));
        sink += pred[0];
        kn_free(pred);
        kn_free(pr);
    }
    for (size_t i = 0; i < reps; i++) {
        if (!all) {
            tf[i] = tp[i] = 0;
            continue;
        }
        double t0 = bench_now(), *pred = NULL;
        size_t got;
        if (kn_pipeline_predict(p, rows[i % n], &pred, &got) != KN_OK) die("predict");
        tp[i] = bench_now() - t0;
        sink += pred[0];
        kn_free(pred);
    }
    for (size_t i = 0; i < reps; i++) {
        double t0 = bench_now(), y;
        if (kn_row_predict(rp, rows[i % n], 0, &y, k ? proba : NULL, NULL) != KN_OK)
            die("row predict");
        tr[i] = bench_now() - t0;
        sink += y;
    }
    printf("{\n  \"rows\": %zu, \"reps\": %zu, \"row_path\": %d, \"differ\": %zu, \"sink\": %g,\n",
           n, reps, kn_row_predictor_fast(rp), differ, sink);
    stats("frame", tf, reps, 0);
    stats("pred", tp, reps, 0);
    stats("row", tr, reps, 1);
    printf("}\n");
    kn_row_predictor_free(rp);
    for (size_t r = 0; r < n; r++) kn_frame_free(rows[r]);
    free(rows);
    free(tf);
    free(tp);
    free(tr);
    kn_frame_free(src);
    free(decls);
    kn_schema_free(schema);
    kn_pipeline_free(p);
    kn_artifact_free(art);
    return differ != 0;
}
