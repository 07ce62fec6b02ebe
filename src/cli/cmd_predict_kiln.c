/* kiln predict / eval with a .kiln artifact: raw rows are read with the
 * pipeline's input types, checked against the artifact's input schema
 * (rows that break it are reported and quarantined or dropped, never
 * scored), then the pipeline's steps and model run on the rows kept. */
#include "cli/cli_predict.h"
#include "kiln/artifact.h"
#include "kiln/log.h"
#include "kiln/mem.h"
#include "kiln/pipeline.h"
#include "kiln/schema.h"
#include "kiln/stage.h"

#include <stdlib.h>
#include <string.h>

enum { SHOWN_ROWS = 5 }; /* rows named in a report, per violation */

/* What predict and eval share: the artifact, its pipeline and schema, the
 * rows read and the rows kept after the schema. */
typedef struct loaded {
    kn_artifact *art;
    kn_pipeline *p;
    const kn_model *m;
    kn_schema *schema; /* NULL: the artifact has none */
    kn_frame *f, *kept;
    kn_validation *v;
    rejected_rows rej;
    uint64_t *data_row; /* per row of f: its 1-based data row in the file */
    size_t *kept_rows;  /* rows of f kept, n_kept of them */
    size_t n_kept;
    int verified;
} loaded;

static void loaded_free(loaded *l)
{
    kn_artifact_free(l->art);
    kn_pipeline_free(l->p);
    kn_schema_free(l->schema);
    kn_frame_free(l->f);
    kn_frame_free(l->kept);
    kn_validation_free(l->v);
    kn_free(l->rej.v);
    kn_free(l->data_row);
    kn_free(l->kept_rows);
}

/* The library says "signature does not match the public key"; name the key file. */
static void print_load_error(const char *cmd, const char *key)
{
    const char *msg = kn_last_error(), *at = strstr(msg, "the public key");
    if (kn_last_status() == KN_ERR_SIGNATURE && key && at) {
        size_t head = (size_t)(at - msg) + strlen("the public key");
        cli_error("%s: %.*s %s%s", cmd, (int)head, msg, key, msg + head);
    } else {
        cli_error("%s: %s", cmd, msg);
    }
}

/* The reader declarations: every input column of the pipeline with its
 * fitted type, the --keep columns as text unless they are inputs. */
static kn_status read_rows(loaded *l, const char *data, kn_read_opts *o, char (*keep)[256],
                           size_t n_keep)
{
    const kn_steps_input *in = kn_pipeline_input(l->p);
    size_t n_in = in ? in->n_cols : 0, k = 0;
    kn_col_decl *d = kn_malloc((n_in + n_keep + 1) * sizeof *d);
    if (!d) return KN_ERR_NOMEM;
    for (size_t j = 0; j < n_in; j++) d[k++] = (kn_col_decl){in->names[j], in->types[j]};
    for (size_t i = 0; i < n_keep; i++) {
        size_t j = 0;
        while (j < n_in && strcmp(in->names[j], keep[i])) j++;
        if (j == n_in) d[k++] = (kn_col_decl){keep[i], KN_COL_STRING};
    }
    o->decls = d;
    o->n_decls = k;
    o->on_reject = note_rejected;
    o->on_reject_user = &l->rej;
    kn_read_report rep;
    kn_status e = cli_read_frame(data, o, &l->f, &rep);
    o->decls = NULL;
    o->n_decls = 0;
    kn_free(d);
    if (e == KN_OK && l->rej.nomem) e = KN_ERR_NOMEM;
    if (e != KN_OK) return e;
    size_t n = kn_frame_n_rows(l->f), r = 0;
    l->data_row = kn_malloc((n ? n : 1) * sizeof *l->data_row);
    if (!l->data_row) return KN_ERR_NOMEM;
    uint64_t row = 1;
    for (size_t i = 0; i < n; i++, row++) {
        while (r < l->rej.n && l->rej.v[r] == row) r++, row++;
        l->data_row[i] = row;
    }
    return KN_OK;
}

/* Check the rows against the schema; the rows kept go into l->kept. */
static kn_status check_rows(loaded *l, const char *path)
{
    size_t n = kn_frame_n_rows(l->f);
    l->kept_rows = kn_malloc((n ? n : 1) * sizeof *l->kept_rows);
    if (!l->kept_rows) return KN_ERR_NOMEM;
    size_t len = 0;
    const char *text = kn_artifact_get(l->art, KN_ART_SCHEMA, &len);
    kn_status e = KN_OK;
    if (text) {
        char *what = kn_sprintf("%s (input schema)", path);
        e = what ? kn_schema_parse(text, len, what, &l->schema) : KN_ERR_NOMEM;
        kn_free(what);
        kn_stage_begin("validate");
        if (e == KN_OK) e = kn_schema_validate(l->schema, l->f, &l->v);
        kn_stage_end();
    }
    if (e != KN_OK) return e;
    for (size_t i = 0; i < n; i++)
        if (!l->v || !l->v->row_fate || !l->v->row_fate[i]) l->kept_rows[l->n_kept++] = i;
    return kn_frame_select_rows(l->f, l->kept_rows, l->n_kept, &l->kept);
}

static int load(const char *cmd, const char *path, const apply_args *a, kn_read_opts *o,
                char (*keep)[256], size_t n_keep, loaded *l)
{
    unsigned char pk[KN_ARTIFACT_PUBLIC_KEY_BYTES];
    kn_status e = KN_OK;
    if (a->verify_key && kn_artifact_key_load(a->verify_key, 0, pk) != KN_OK) {
        cli_error("%s: --verify-key: %s", cmd, kn_last_error());
        return CLI_FAIL;
    }
    kn_stage_begin("load");
    e = kn_artifact_read(path, a->verify_key ? pk : NULL, &l->art);
    if (e == KN_OK) e = kn_artifact_pipeline(l->art, &l->p);
    kn_stage_end();
    if (e != KN_OK) {
        print_load_error(cmd, a->verify_key);
        return CLI_FAIL;
    }
    l->verified = a->verify_key != NULL;
    l->m = kn_pipeline_model(l->p);
    if (!l->m)
        e = kn_fail(KN_ERR_INVALID,
                    "%s holds preparation steps only, no model: nothing to predict (use "
                    "kiln transform for steps)",
                    path);
    if (e == KN_OK && a->proba && kn_model_task(l->m) != KN_TASK_CLASSIFICATION)
        e = kn_fail(KN_ERR_INVALID,
                    "--proba: %s holds a regression model (it predicts values, not classes), "
                    "so it has no class probabilities; drop --proba",
                    path);
    /* new data is read with the reader settings the training data had */
    if (e == KN_OK) e = cli_read_as_trained(cmd, l->art, NULL, o);
    if (e == KN_OK) e = read_rows(l, a->data, o, keep, n_keep);
    if (e == KN_OK) e = check_rows(l, path);
    if (e != KN_OK) {
        cli_error("%s: %s", cmd, kn_last_error());
        return CLI_FAIL;
    }
    return CLI_OK;
}

/* The schema's report on stderr: each violation with its first rows. */
static void print_violations(const char *cmd, const char *data, const loaded *l)
{
    const kn_validation *v = l->v;
    fprintf(stderr, "%s: %s breaks the artifact's input schema (%llu rows checked):\n", cmd, data,
            (unsigned long long)v->rows);
    for (size_t i = 0; i < v->n_violations; i++) {
        const kn_violation *x = &v->violations[i];
        char *detail = cli_flag_text(x->detail);
        fprintf(stderr, "  %s %s, %llu row%s [%s]: %s", x->column ? x->column : "(table)", x->rule,
                (unsigned long long)x->count, x->count == 1 ? "" : "s", kn_policy_name(x->policy),
                detail ? detail : x->detail);
        free(detail);
        if (x->row_rule && x->n_examples) {
            fprintf(stderr, " (row%s", x->n_examples > 1 ? "s" : "");
            for (size_t k = 0; k < x->n_examples && k < SHOWN_ROWS; k++)
                fprintf(stderr, "%s %llu", k ? "," : "",
                        (unsigned long long)l->data_row[x->examples[k]]);
            fprintf(stderr, "%s)", x->count > x->n_examples ? ", ..." : "");
        }
        fputc('\n', stderr);
    }
}

/* The rows the schema quarantined, with _row (data row) and _violation first. */
static kn_status write_rejects(const loaded *l, const char *path)
{
    kn_frame *q = NULL;
    kn_status e = kn_validation_quarantined(l->f, l->v, l->data_row, &q);
    if (e == KN_OK) e = kn_frame_write(q, path, NULL);
    kn_frame_free(q);
    return e;
}

/* Report the schema's findings; write the quarantined rows. CLI_OK, or
 * CLI_FAIL when a rule failed (nothing is scored then). */
static int apply_schema(const char *cmd, const apply_args *a, const loaded *l, char **rejects)
{
    *rejects = NULL;
    if (!l->v || !l->v->n_violations) return CLI_OK;
    print_violations(cmd, a->data, l);
    if (l->v->failed) {
        cli_error("%s: the rows of %s break the input schema of %s (policy fail); nothing was "
                  "scored: fix the data",
                  cmd, a->data, a->model);
        return CLI_FAIL;
    }
    if (l->v->rows_quarantined) {
        *rejects = a->rejects ? kn_strdup(a->rejects) : kn_sprintf("%s.invalid.csv", a->data);
        if (!*rejects || write_rejects(l, *rejects) != KN_OK) {
            cli_error("%s: %s", cmd, kn_last_error());
            return CLI_FAIL;
        }
    }
    fprintf(stderr, "%s: %llu row(s) quarantined%s%s and %llu dropped: they are not scored\n", cmd,
            (unsigned long long)l->v->rows_quarantined, *rejects ? " into " : "",
            *rejects ? *rejects : "", (unsigned long long)l->v->rows_dropped);
    return CLI_OK;
}

/* The output frame: kept columns, the data row when rows were set aside,
 * the prediction and the class probabilities. */
static kn_status build_output(const loaded *l, const apply_args *a, char (*keep)[256],
                              size_t n_keep, kn_frame **out)
{
    double *pred = NULL, *proba = NULL;
    size_t n = 0, n2 = 0, k = kn_model_n_classes(l->m);
    kn_frame *res = NULL;
    kn_stage_begin("predict");
    kn_status e = kn_pipeline_predict(l->p, l->kept, &pred, &n);
    if (e == KN_OK && a->proba) e = kn_pipeline_predict_proba(l->p, l->kept, &proba, &n2);
    kn_stage_end();
    if (e == KN_OK) e = keep_columns(l->kept, keep, n_keep, &res);
    if (e == KN_OK && kn_frame_n_rows(res) != n) e = kn_frame_resize(res, n);
    if (e == KN_OK && n < kn_frame_n_rows(l->f) + l->rej.n) {
        kn_column *c = NULL;
        e = kn_frame_insert_column(res, 0, "row", KN_COL_NUMERIC, &c);
        for (size_t i = 0; e == KN_OK && i < n; i++)
            kn_column_f64(c)[i] = (double)l->data_row[l->kept_rows[i]];
    }
    if (e == KN_OK) e = add_predictions(l->m, pred, res);
    for (size_t c = 0; e == KN_OK && a->proba && c < k; c++) {
        char *name = kn_sprintf("proba_%s", kn_model_class(l->m, c));
        kn_column *col;
        e = name ? kn_frame_add_column(res, name, KN_COL_NUMERIC, &col) : KN_ERR_NOMEM;
        kn_free(name);
        for (size_t i = 0; e == KN_OK && i < n; i++) kn_column_f64(col)[i] = proba[i * k + c];
    }
    kn_free(pred);
    kn_free(proba);
    if (e != KN_OK) {
        kn_frame_free(res);
        return e;
    }
    *out = res;
    return KN_OK;
}

static json_t *schema_json(const loaded *l, const char *rejects)
{
    if (!l->schema) return json_null();
    json_t *j = json_pack("{s:I, s:I, s:I}", "rows_checked", (json_int_t)l->v->rows,
                          "rows_quarantined", (json_int_t)l->v->rows_quarantined, "rows_dropped",
                          (json_int_t)l->v->rows_dropped);
    json_t *vs = json_array();
    for (size_t i = 0; i < l->v->n_violations; i++) {
        const kn_violation *x = &l->v->violations[i];
        json_t *ex = json_array();
        for (size_t k = 0; x->row_rule && k < x->n_examples; k++)
            json_array_append_new(ex, json_integer((json_int_t)l->data_row[x->examples[k]]));
        json_array_append_new(vs,
                              json_pack("{s:o, s:s, s:s, s:I, s:o, s:s}", "column",
                                        x->column ? json_string(x->column) : json_null(), "rule",
                                        x->rule, "detail", x->detail, "count", (json_int_t)x->count,
                                        "example_rows", ex, "policy", kn_policy_name(x->policy)));
    }
    json_object_set_new(j, "violations", vs);
    json_object_set_new(j, "rejects_file", rejects ? json_string(rejects) : json_null());
    return j;
}

int predict_artifact(const char *path, const apply_args *a, kn_read_opts *o, char (*keep)[256],
                     size_t n_keep)
{
    if (a->rounds) return cli_usage_error("predict", "--rounds is for .kmd models");
    loaded l = {0};
    char *rejects = NULL;
    kn_frame *res = NULL;
    int rc = load("predict", path, a, o, keep, n_keep, &l);
    if (rc == CLI_OK) rc = apply_schema("predict", a, &l, &rejects);
    if (rc == CLI_OK) {
        int to_stdout = !strcmp(a->out, "-");
        kn_status e = build_output(&l, a, keep, n_keep, &res);
        if (e == KN_OK) e = kn_frame_write(res, a->out, to_stdout ? "csv" : NULL);
        size_t n = res ? kn_frame_n_rows(res) : 0;
        if (e != KN_OK) {
            cli_error("predict: %s", kn_last_error());
            rc = CLI_FAIL;
        } else if (cli.json) {
            rc = cli_emit_json(json_pack(
                "{s:s, s:s, s:s, s:s, s:b, s:b, s:I, s:I, s:o, s:o}", "command", "predict", "input",
                a->data, "model_file", path, "output", a->out, "signed", kn_artifact_signed(l.art),
                "verified", l.verified, "rows", (json_int_t)n, "rows_set_aside",
                (json_int_t)(l.rej.n + kn_frame_n_rows(l.f) - l.n_kept), "schema",
                schema_json(&l, rejects), "stages", cli_stages_json()));
        } else if (!cli.quiet) {
            fprintf(stderr, "wrote %zu predictions to %s\n", n,
                    to_stdout ? "standard output" : a->out);
            if (n < kn_frame_n_rows(l.f) + l.rej.n)
                fprintf(stderr,
                        "%zu input row(s) set aside have no prediction; the 'row' column "
                        "gives each prediction's data row\n",
                        kn_frame_n_rows(l.f) + l.rej.n - n);
        }
    }
    kn_free(rejects);
    kn_frame_free(res);
    loaded_free(&l);
    return rc;
}

/* The positive class the artifact's metrics were computed with (its METRICS
 * section), as a new string (kn_free), or NULL. */
static char *recorded_positive_class(const kn_artifact *art)
{
    size_t len = 0;
    const char *text = kn_artifact_get(art, KN_ART_METRICS, &len);
    json_t *j = text ? json_loadb(text, len, 0, NULL) : NULL;
    const json_t *pc = json_object_get(j, "positive_class");
    char *label = json_is_string(pc) ? kn_strdup(json_string_value(pc)) : NULL;
    json_decref(j);
    return label;
}

/* eval on the very bytes the model was fitted on (a lineage source of the
 * artifact has the data file's BLAKE2b hash): its training rows are among
 * the rows scored, so the scores flatter the model. Warned, not refused
 * (scoring the training rows on purpose, e.g. to compare with the train
 * score, is legitimate). */
static void warn_training_data(const loaded *l, const apply_args *a)
{
    const char *model = a->model, *data = a->data;
    size_t len = 0;
    const char *text = kn_artifact_get(l->art, KN_ART_LINEAGE, &len);
    json_t *lin = text ? json_loadb(text, len, 0, NULL) : NULL;
    const json_t *sources = json_object_get(lin, "sources");
    char hex[65];
    if (!json_array_size(sources) || !strcmp(data, "-") ||
        kn_artifact_hash_file(data, hex) != KN_OK) {
        json_decref(lin);
        return;
    }
    for (size_t i = 0; i < json_array_size(sources); i++) {
        const json_t *src = json_array_get(sources, i);
        const char *h = json_string_value(json_object_get(src, "hash"));
        if (!h || strcmp(h, hex)) continue;
        text = kn_artifact_get(l->art, KN_ART_METRICS, &len);
        json_t *met = text ? json_loadb(text, len, 0, NULL) : NULL;
        const json_t *train = json_object_get(json_object_get(met, "rows"), "train");
        char rows[64] = "its training rows are";
        if (json_is_integer(train))
            snprintf(rows, sizeof rows, "its %lld training rows are",
                     (long long)json_integer_value(train));
        kn_log(KN_LOG_WARN,
               "eval: %s holds the bytes %s was fitted on (its source '%s'): %s among the rows "
               "scored, so these scores are optimistic; score rows the model has not seen (its "
               "held-out test scores: kiln inspect %s%s%s)",
               data, model, json_string_value(json_object_get(src, "name")), rows, model,
               a->store ? " --store " : "", a->store ? a->store : "");
        json_decref(met);
        break;
    }
    json_decref(lin);
}

int eval_artifact(const char *path, const apply_args *a, kn_read_opts *o)
{
    if (a->rounds || a->curves || a->importance)
        return cli_usage_error("eval", "%s is for .kmd models",
                               a->rounds   ? "--rounds"
                               : a->curves ? "--curves"
                                           : "--importance");
    loaded l = {0};
    char *rejects = NULL;
    kn_scores sc = {0};
    kn_score_opts so = {.weight = a->weight, .positive_class = a->positive_class};
    int rc = load("eval", path, a, o, NULL, 0, &l);
    if (rc == CLI_OK) warn_training_data(&l, a);
    char *positive = rc == CLI_OK && !a->positive_class ? recorded_positive_class(l.art) : NULL;
    if (positive) so.positive_class = positive;
    if (rc == CLI_OK) rc = apply_schema("eval", a, &l, &rejects);
    if (rc == CLI_OK) {
        kn_status e = cli_target_rows(&l.kept, kn_pipeline_target(l.p), a->drop_missing_target);
        if (e == KN_OK) eval_score_opts(a, kn_frame_n_rows(l.kept), &so);
        kn_stage_begin("score");
        if (e == KN_OK) e = kn_pipeline_score(l.p, l.kept, &so, &sc);
        kn_stage_end();
        if (e != KN_OK) {
            cli_error("eval: %s", kn_last_error());
            rc = CLI_FAIL;
        } else if (cli.json) {
            json_t *s = cli_scores_json(&sc);
            json_object_set_new(s, "command", json_string("eval"));
            json_t *pc = cli_per_class_json(l.m, &sc);
            if (pc) json_object_set_new(s, "per_class", pc);
            json_object_set_new(s, "model", json_string(kn_model_name(l.m)));
            json_object_set_new(s, "input", json_string(a->data));
            json_object_set_new(s, "model_file", json_string(path));
            json_object_set_new(s, "signed", json_boolean(kn_artifact_signed(l.art)));
            json_object_set_new(s, "verified", json_boolean(l.verified));
            json_object_set_new(s, "schema", schema_json(&l, rejects));
            json_object_set_new(s, "stages", cli_stages_json());
            rc = cli_emit_json(s);
        } else {
            cli_print_scores_sliced(kn_model_name(l.m), &sc, a->slice_by);
            cli_print_per_class(l.m, &sc);
        }
    }
    kn_scores_free(&sc);
    kn_free(positive);
    kn_free(rejects);
    loaded_free(&l);
    return rc;
}
