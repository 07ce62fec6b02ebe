/* kiln prep IN OUT --step NAME[:param=value;...] ...: fit steps (a pipeline
 * without a model) on IN and write the transformed frame; kiln prep
 * SPEC.yaml runs a spec; kiln transform replays saved steps. */
#include "cli/cli.h"
#include "kiln/mem.h"
#include "kiln/pipeline.h"
#include "kiln/prep_spec.h"
#include "kiln/registry.h"
#include "kiln/stage.h"
#include "kiln/step.h"

#include <string.h>

/* Write *f to `out` as the "write" stage. */
static int write_frame(const kn_frame *f, const char *out)
{
    int rc = CLI_OK;
    kn_stage_begin("write");
    if (kn_frame_write(f, out, NULL) != KN_OK) {
        cli_error("%s", kn_last_error());
        rc = CLI_FAIL;
    }
    kn_stage_end();
    return rc;
}

/* Apply fitted steps to *f as the "transform" stage, then write the result
 * to `out`. */
static int transform_steps(kn_step **steps, size_t n, kn_frame **f, const char *out)
{
    int rc = CLI_OK;
    kn_stage_begin("transform");
    for (size_t k = 0; k < n; k++) {
        kn_frame *g;
        if (kn_step_transform(steps[k], *f, &g) != KN_OK) {
            cli_error("%s", kn_last_error());
            rc = CLI_FAIL;
            break;
        }
        kn_frame_free(*f);
        *f = g;
    }
    kn_stage_end();
    return rc == CLI_OK ? write_frame(*f, out) : rc;
}

/* Replace *f by its rows without duplicates (over `keys`, a comma list, or all columns). */
static int dedupe_rows(kn_frame **f, const char *keys, int keep_last, size_t *removed)
{
    size_t n = 0, n_keys = 1;
    for (const char *p = keys; p && *p; p++) n_keys += *p == ',';
    size_t *idx = kn_malloc(n_keys * sizeof *idx);
    char *buf = keys ? kn_strdup(keys) : NULL;
    if (!idx || (keys && !buf)) {
        kn_free(idx);
        kn_free(buf);
        cli_error("%s", kn_last_error());
        return CLI_FAIL;
    }
    char *save = NULL;
    for (char *p = buf ? strtok_r(buf, ",", &save) : NULL; p; p = strtok_r(NULL, ",", &save)) {
        if (kn_frame_find(*f, p, &idx[n]) != KN_OK) {
            cli_error("--dedupe-keys: %s", kn_last_error());
            kn_free(idx);
            kn_free(buf);
            return CLI_USAGE;
        }
        n++;
    }
    kn_free(buf);
    kn_stage_begin("dedupe");
    kn_frame *g;
    kn_status s = kn_frame_dedupe(*f, keys ? idx : NULL, n, keep_last, &g, removed);
    kn_free(idx);
    kn_stage_end();
    if (s != KN_OK) {
        cli_error("dedupe: %s", kn_last_error());
        return CLI_FAIL;
    }
    kn_frame_free(*f);
    *f = g;
    return CLI_OK;
}

static json_t *spec_report_json(const kn_prep_result *r)
{
    json_t *src = json_array(), *joins = json_array();
    for (size_t i = 0; i < r->n_sources; i++) {
        const kn_prep_source_report *x = &r->sources[i];
        json_t *o = json_pack("{s:s, s:I}", "name", x->name, "rows", (json_int_t)x->rows);
        if (x->used) json_object_set_new(o, "fallback_used", json_string(x->used));
        if (x->error) json_object_set_new(o, "error", json_string(x->error));
        if (x->watermark) json_object_set_new(o, "watermark", json_string(x->watermark));
        if (x->rows_before_since)
            json_object_set_new(o, "rows_before_since",
                                json_integer((json_int_t)x->rows_before_since));
        if (x->read.rows_read) json_object_set_new(o, "read", cli_read_report_json(&x->read));
        json_array_append_new(src, o);
    }
    for (size_t j = 0; j < r->n_joins; j++) {
        const kn_join_report *x = &r->joins[j];
        json_t *ex = json_array();
        for (size_t k = 0; k < x->n_examples; k++)
            json_array_append_new(ex, json_string(x->examples[k]));
        json_array_append_new(
            joins,
            json_pack("{s:I, s:I, s:I, s:I, s:I, s:o}", "left_rows", (json_int_t)x->left_rows,
                      "right_rows", (json_int_t)x->right_rows, "out_rows", (json_int_t)x->out_rows,
                      "left_unmatched", (json_int_t)x->left_unmatched, "right_unmatched",
                      (json_int_t)x->right_unmatched, "unmatched_examples", ex));
    }
    return json_pack("{s:o, s:o, s:I, s:I, s:I, s:I, s:I, s:I, s:I}", "sources", src, "joins",
                     joins, "rows_in", (json_int_t)r->rows_in, "rows_dropped",
                     (json_int_t)r->rows_dropped, "rows_quarantined",
                     (json_int_t)r->rows_quarantined, "rows_dropped_by_steps",
                     (json_int_t)r->rows_dropped_by_steps, "duplicates_removed",
                     (json_int_t)r->duplicates_removed, "rows_out",
                     (json_int_t)(r->frame ? kn_frame_n_rows(r->frame) : 0), "columns_out",
                     (json_int_t)(r->frame ? kn_frame_n_cols(r->frame) : 0));
}

static void spec_report_print(const kn_prep_spec *s, const kn_prep_result *r)
{
    for (size_t i = 0; i < r->n_sources; i++) {
        const kn_prep_source_report *x = &r->sources[i];
        fprintf(stderr, "source %-16s %10llu rows", x->name, (unsigned long long)x->rows);
        if (x->used) fprintf(stderr, " (from fallback '%s'; it failed: %s)", x->used, x->error);
        if (x->rows_before_since)
            fprintf(stderr, " (%llu read, %llu at or below the watermark)",
                    (unsigned long long)x->rows_before_since,
                    (unsigned long long)(x->rows_before_since - x->rows));
        if (x->watermark) fprintf(stderr, " watermark now %s", x->watermark);
        fputc('\n', stderr);
    }
    for (size_t j = 0; j < r->n_joins; j++)
        fprintf(
            stderr,
            "join with %-13s %10llu rows out; %llu left rows unmatched, %llu right rows unused\n",
            s->joins[j].with, (unsigned long long)r->joins[j].out_rows,
            (unsigned long long)r->joins[j].left_unmatched,
            (unsigned long long)r->joins[j].right_unmatched);
    if (r->validation)
        fprintf(stderr, "validation: %zu violations; %llu rows dropped, %llu quarantined\n",
                r->validation->n_violations, (unsigned long long)r->rows_dropped,
                (unsigned long long)r->rows_quarantined);
    if (s->dedupe)
        fprintf(stderr, "dedupe: %llu duplicate rows removed\n",
                (unsigned long long)r->duplicates_removed);
    fprintf(stderr,
            "rows: %llu in = %llu out + %llu dropped + %llu quarantined + %llu duplicates + %llu "
            "dropped by steps\n",
            (unsigned long long)r->rows_in,
            (unsigned long long)(r->frame ? kn_frame_n_rows(r->frame) : 0),
            (unsigned long long)r->rows_dropped, (unsigned long long)r->rows_quarantined,
            (unsigned long long)r->duplicates_removed,
            (unsigned long long)r->rows_dropped_by_steps);
    if (r->frame)
        fprintf(stderr, "wrote %zu rows x %zu columns to %s%s%s\n", kn_frame_n_rows(r->frame),
                kn_frame_n_cols(r->frame), s->output, s->save ? "; fitted steps to " : "",
                s->save ? s->save : "");
}

typedef struct prep_args {
    const char *in, *out, *save, *dedupe_keys, *keep, *since;
    int dedupe, full, overwrite_input, in_memory;
    cli_list steps;
    kn_read_opts read;
} prep_args;

static const cli_opt prep_opts[] = {
    CLI_OPT_ARG(prep_args, in, "IN", 1, "the data file, or a prep spec (.yaml or .yml)"),
    CLI_OPT_ARG(prep_args, out, "OUT", 0, "the prepared data (without a spec)"),
    CLI_OPT_LIST(prep_args, steps, "step", "NAME[:p=v;...]",
                 "a step to fit, in order ('kiln help steps')"),
    CLI_OPT_TEXT(prep_args, save, "save", "STEPS.kst", "write the fitted steps"),
    CLI_OPT_FLAG(prep_args, dedupe, "dedupe", "remove duplicate rows first"),
    CLI_OPT_TEXT(prep_args, dedupe_keys, "dedupe-keys", "COLUMNS",
                 "rows equal in these columns are duplicates (implies --dedupe)"),
    CLI_OPT_CHOICE(prep_args, keep, "keep", "first|last", "which duplicate stays (default first)"),
    CLI_OPT_TEXT(prep_args, since, "since", "VALUE", "with a spec: the watermark for this run"),
    CLI_OPT_FLAG(prep_args, full, "full", "with a spec: ignore the watermarks"),
    CLI_OPT_FLAG(prep_args, overwrite_input, "overwrite-input",
                 "allow an output to replace an input"),
    CLI_OPT_FLAG(prep_args, in_memory, "in-memory",
                 "with a spec: read every source whole (no group-by or join over a file "
                 "read by batches; for comparisons)"),
    CLI_OPT_READ(prep_args, read),
    CLI_OPT_END};

const cli_spec prep_spec = {
    "prep",
    "fit preparation steps, or run a prep spec (sources, joins, validation)",
    "With a spec (YAML): read its sources (files, SQLite, PostgreSQL, HTTP(S), and\n"
    "group-by aggregates of other sources), build one frame (from, union, joins),\n"
    "validate it against the schema (rows dropped or quarantined as the schema\n"
    "says), remove duplicates, fit the steps, and write the output, the fitted\n"
    "steps (save:) and the incremental watermarks (state:). Sources with since:\n"
    "COLUMN read only rows above the last run's watermark; --since VALUE sets the\n"
    "watermark for this run, --full ignores it. A failing source falls back to its\n"
    "fallback: source when it has one. Every row is accounted for in the report.\n"
    "The spec format is documented in include/kiln/prep_spec.h and README.md.\n"
    "\n"
    "Without a spec:\n"
    "Fit each step on IN in order (each on the output of the one before) and write\n"
    "the transformed frame to OUT (format from its extension). Parameters of a\n"
    "step follow its name after ':' and are separated by ';'. 'kiln help steps'\n"
    "lists the steps and their parameters. --save writes the fitted steps to a\n"
    "file that 'kiln transform' replays on new data. --dedupe first removes\n"
    "duplicate rows (equal in every column, or in the --dedupe-keys columns),\n"
    "keeping the first occurrence (or the last), and reports how many went.\n"
    "\n"
    "--target COLUMN (target: in a spec) names the column a model will learn:\n"
    "no step takes it by default or through type:/match: selections, naming it\n"
    "in columns= is an error, and it goes to OUT unchanged. The saved steps\n"
    "record it with the type of every input column, so 'kiln transform' reads\n"
    "new data with the fitted types and works on data without the target.\n"
    "OUT and STEPS.kst may not be IN (the same file by any name), nor a spec's\n"
    "output one of its sources, unless --overwrite-input is given.\n",
    "  kiln prep raw.csv clean.csv --target price --step simple_imputer:strategy=median \\\n"
    "      --step standard_scaler --save steps.kst\n"
    "  kiln prep raw.csv out.kfr --step 'robust_scaler:columns=age,income;q_low=10;q_high=90'\n",
    prep_opts,
    1,
    cmd_prep};

static int run_prep_spec(const prep_args *a, uint64_t given)
{
    static const char *const steps_only[] = {"OUT",         "step", "save", "dedupe",
                                             "dedupe-keys", "keep", "read"};
    for (size_t k = 0; k < sizeof steps_only / sizeof *steps_only; k++)
        if (cli_given(&prep_spec, given, steps_only[k]))
            return cli_usage_error("prep",
                                   "with a spec, the options are --since VALUE, --full, "
                                   "--overwrite-input and --in-memory (got %s%s)",
                                   k ? "--" : "", k ? steps_only[k] : a->out);
    const char *path = a->in;
    kn_prep_options o = {a->since, a->full, cli.threads, a->overwrite_input, 0, a->in_memory, 0};
    kn_prep_spec *s;
    if (kn_prep_spec_load(path, &s) != KN_OK) {
        cli_error("%s", kn_last_error());
        return CLI_FAIL;
    }
    if (!s->output) {
        cli_error("%s: the spec has a model and no output:; train it with `kiln run %s`, or "
                  "add output: FILE to prepare data only",
                  path, path);
        kn_prep_spec_free(s);
        return CLI_FAIL;
    }
    kn_prep_result *r = NULL;
    kn_status e = kn_prep_run(s, &o, &r);
    int rc = CLI_OK;
    if (e != KN_OK) {
        cli_error("%s", kn_last_error());
        rc = CLI_FAIL;
    }
    if (cli.json && r) {
        json_t *j = spec_report_json(r);
        json_object_set_new(j, "command", json_string("prep"));
        json_object_set_new(j, "input", json_string(path));
        json_object_set_new(j, "ok", json_boolean(e == KN_OK));
        json_object_set_new(j, "stages", cli_stages_json());
        cli_emit_json(j);
    } else if (r && !cli.quiet && e == KN_OK)
        spec_report_print(s, r);
    kn_prep_result_free(r);
    kn_prep_spec_free(s);
    return rc;
}

static int is_spec(const char *p)
{
    size_t n = strlen(p);
    return (n > 5 && !strcmp(p + n - 5, ".yaml")) || (n > 4 && !strcmp(p + n - 4, ".yml"));
}

int cmd_prep(int argc, char **argv)
{
    prep_args a = {0};
    uint64_t given = 0;
    int rc = cli_parse(&prep_spec, argc, argv, &a, &given);
    if (rc) return rc < 0 ? CLI_OK : rc;
    if (is_spec(a.in)) return run_prep_spec(&a, given);
    if (a.since || a.full)
        return cli_usage_error("prep", "--%s goes with a spec (kiln prep SPEC.yaml)",
                               a.since ? "since" : "full");
    kn_read_opts o = a.read;
    const char *in = a.in, *out = a.out, *save = a.save, *dedupe_keys = a.dedupe_keys;
    int dedupe = a.dedupe || a.dedupe_keys, keep_last = a.keep && !strcmp(a.keep, "last"),
        overwrite_input = a.overwrite_input;
    kn_pipeline *p = NULL; /* the steps, fitted on IN */
    if (kn_pipeline_new(&p) != KN_OK) rc = cli_usage_error("prep", "out of memory");
    for (size_t k = 0; rc == CLI_OK && k < a.steps.n; k++)
        if (kn_pipeline_add_step_spec(p, a.steps.v[k]) != KN_OK) {
            cli_error("--%s%s", kn_last_error(),
                      kn_last_status() == KN_ERR_NOT_FOUND ? "; 'kiln help steps' lists them" : "");
            rc = CLI_USAGE;
        }
    size_t n_steps = p ? kn_pipeline_n_steps(p) : 0;
    if (rc == CLI_OK && !out) rc = cli_usage_error("prep", "need IN and OUT");
    if (rc == CLI_OK && !n_steps && !dedupe)
        rc = cli_usage_error("prep", "give at least one --step (or --dedupe)");
    const char *outs[2] = {out, save};
    if (rc == CLI_OK) rc = cli_refuse_overwrite("prep", outs, 2, &in, 1, overwrite_input);
    kn_frame *f = NULL;
    kn_read_report rep;
    if (rc == CLI_OK && cli_read_frame(in, &o, &f, &rep) != KN_OK) {
        cli_error("%s", kn_last_error());
        rc = CLI_FAIL;
    }
    /* how IN was read, for kiln transform to read new data the same way */
    char *read_text = NULL;
    size_t read_len = 0;
    if (rc == CLI_OK && save && kn_read_settings_format(&o, f, &read_text, &read_len) != KN_OK) {
        cli_error("%s", kn_last_error());
        rc = CLI_FAIL;
    }
    size_t removed = 0;
    if (rc == CLI_OK && dedupe) rc = dedupe_rows(&f, dedupe_keys, keep_last, &removed);
    if (rc == CLI_OK) {
        kn_frame *g = NULL;
        kn_stage_begin("prep");
        if (kn_pipeline_fit(p, f, &g) != KN_OK) {
            cli_error("%s", kn_last_error());
            rc = CLI_FAIL;
        } else {
            kn_frame_free(f);
            f = g;
        }
        kn_stage_end();
    }
    if (rc == CLI_OK) rc = write_frame(f, out);
    if (rc == CLI_OK && save &&
        kn_steps_save_with_read(kn_pipeline_steps(p), n_steps, kn_pipeline_input(p), read_text,
                                save) != KN_OK) {
        cli_error("%s", kn_last_error());
        rc = CLI_FAIL;
    }
    kn_free(read_text);
    if (rc == CLI_OK && cli.json)
        rc = cli_emit_json(
            json_pack("{s:s, s:s, s:s, s:o, s:I, s:I, s:I, s:o, s:o}", "command", "prep", "input",
                      in, "output", out, "steps_file", save ? json_string(save) : json_null(),
                      "rows", (json_int_t)kn_frame_n_rows(f), "columns",
                      (json_int_t)kn_frame_n_cols(f), "duplicates_removed", (json_int_t)removed,
                      "read", cli_read_report_json(&rep), "stages", cli_stages_json()));
    else if (rc == CLI_OK && !cli.quiet) {
        if (dedupe) fprintf(stderr, "%zu duplicate rows removed\n", removed);
        fprintf(stderr, "wrote %zu rows x %zu columns to %s\n", kn_frame_n_rows(f),
                kn_frame_n_cols(f), out);
    }
    kn_pipeline_free(p);
    kn_frame_free(f);
    return rc;
}

/* Reader declarations from the steps' input record (borrowed names). */
static kn_col_decl *input_decls(const kn_steps_input *in)
{
    kn_col_decl *d = kn_malloc((in->n_cols ? in->n_cols : 1) * sizeof *d);
    for (size_t j = 0; d && j < in->n_cols; j++) d[j] = (kn_col_decl){in->names[j], in->types[j]};
    return d;
}

typedef struct transform_args {
    const char *steps, *in, *out;
    int overwrite_input;
    kn_read_opts read;
} transform_args;

static const cli_opt transform_opts[] = {
    CLI_OPT_ARG(transform_args, steps, "STEPS.kst", 1, "steps saved by 'kiln prep --save'"),
    CLI_OPT_ARG(transform_args, in, "IN", 1, "the new data"),
    CLI_OPT_ARG(transform_args, out, "OUT", 1, "the transformed data"),
    CLI_OPT_FLAG(transform_args, overwrite_input, "overwrite-input",
                 "allow OUT to replace IN or STEPS.kst"),
    CLI_OPT_READ(transform_args, read),
    CLI_OPT_END};

const cli_spec transform_spec = {
    "transform",
    "apply steps saved by 'kiln prep --save' to new data",
    "Apply steps fitted and saved by 'kiln prep --save' to new data, without\n"
    "refitting: the output equals what the steps produced in memory. Columns the\n"
    "steps were fitted on must be present; IN is read with the types they had at\n"
    "fit time (not guessed again from IN's rows), so a small batch, an empty\n"
    "column or category codes that look like numbers read as they did then.\n"
    "The target named at fit time (--target) is not needed, and passes through\n"
    "unchanged when present. OUT may not be IN or STEPS.kst unless\n"
    "--overwrite-input is given.\n",
    NULL,
    transform_opts,
    1,
    cmd_transform};

int cmd_transform(int argc, char **argv)
{
    transform_args a = {0};
    int rc = cli_parse(&transform_spec, argc, argv, &a, NULL);
    if (rc) return rc < 0 ? CLI_OK : rc;
    kn_read_opts o = a.read;
    const char *file = a.steps, *in = a.in, *out = a.out;
    int overwrite_input = a.overwrite_input;
    const char *ins[2] = {in, file};
    if (cli_refuse_overwrite("transform", &out, 1, ins, 2, overwrite_input) != CLI_OK)
        return CLI_USAGE;
    kn_step **steps = NULL;
    kn_steps_input *input = NULL;
    size_t n = 0;
    char *read_text = NULL;
    if (kn_steps_load_with_read(file, &steps, &n, &input, &read_text) != KN_OK) {
        cli_error("%s", kn_last_error());
        return CLI_FAIL;
    }
    kn_col_decl *decls = input ? input_decls(input) : NULL;
    rc = input && !decls ? CLI_FAIL : CLI_OK;
    /* IN is read as the steps' input was (the settings recorded in STEPS.kst) */
    kn_read_settings rs = {read_text, read_text ? strlen(read_text) : 0};
    if (rc == CLI_OK && cli_read_as_trained("transform", NULL, &rs, &o) != KN_OK) {
        cli_error("transform: %s: %s", file, kn_last_error());
        rc = CLI_FAIL;
    }
    if (decls) {
        o.decls = decls;
        o.n_decls = input->n_cols;
    }
    kn_frame *f = NULL;
    kn_read_report rep;
    if (rc == CLI_OK && cli_read_frame(in, &o, &f, &rep) != KN_OK) {
        cli_error("%s", kn_last_error());
        rc = CLI_FAIL;
    }
    size_t j;
    if (rc == CLI_OK && input && input->target && kn_frame_find(f, input->target, &j) == KN_OK)
        kn_column_set_role(kn_frame_col(f, j), KN_ROLE_TARGET);
    kn_clear_error();
    if (rc == CLI_OK) rc = transform_steps(steps, n, &f, out);
    if (rc == CLI_OK && cli.json)
        rc = cli_emit_json(json_pack("{s:s, s:s, s:s, s:s, s:I, s:I, s:o}", "command", "transform",
                                     "input", in, "steps_file", file, "output", out, "rows",
                                     (json_int_t)kn_frame_n_rows(f), "columns",
                                     (json_int_t)kn_frame_n_cols(f), "stages", cli_stages_json()));
    for (size_t k = 0; k < n; k++) kn_step_free(steps[k]);
    kn_free(steps);
    kn_free(decls);
    kn_free(read_text);
    kn_steps_input_free(input);
    kn_frame_free(f);
    return rc;
}
