/* kiln schema infer DATA: write a data contract (YAML) inferred from data. */
#include "cli/cli.h"
#include "kiln/tempfile.h"
#include "kiln/mem.h"
#include "kiln/schema.h"
#include "kiln/stage.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* A bound as JSON: a number, an ISO-8601 time for timestamps, or the text
 * "inf"/"-inf" (JSON has no infinities). */
static json_t *bound_json(kn_col_type type, double v)
{
    if (type == KN_COL_TIMESTAMP) {
        char t[48];
        kn_timestamp_format((int64_t)v, t, sizeof t);
        return json_string(t);
    }
    return isfinite(v) ? json_real(v) : json_string(v > 0 ? "inf" : "-inf");
}

static json_t *schema_json(const kn_schema *s)
{
    json_t *cols = json_array();
    for (size_t j = 0; j < s->n_cols; j++) {
        const kn_schema_column *c = &s->cols[j];
        json_t *o =
            json_pack("{s:s, s:s, s:b, s:f}", "name", c->name, "type", kn_col_type_name(c->type),
                      "required", c->required, "max_missing", c->max_missing);
        if (c->has_min) json_object_set_new(o, "min", bound_json(c->type, c->min));
        if (c->has_max) json_object_set_new(o, "max", bound_json(c->type, c->max));
        if (c->categories) {
            json_t *cat = json_array();
            for (size_t i = 0; i < c->n_categories; i++)
                json_array_append_new(cat, json_string(c->categories[i]));
            json_object_set_new(o, "categories", cat);
        }
        if (c->pattern) json_object_set_new(o, "pattern", json_string(c->pattern));
        if (c->unique) json_object_set_new(o, "unique", json_true());
        json_array_append_new(cols, o);
    }
    return json_pack("{s:i, s:s, s:o}", "version", 1, "on_violation", kn_policy_name(s->policy),
                     "columns", cols);
}

/* Every column left without a value rule, and why: on stderr and as JSON. */
static json_t *report_unconstrained(const kn_schema *s)
{
    json_t *a = json_array();
    for (size_t j = 0; j < s->n_cols; j++) {
        const kn_schema_column *c = &s->cols[j];
        if (!c->unconstrained) continue;
        fputs("kiln: warning: column '", stderr);
        cli_put_cell(stderr, c->name, cli_cell_width(c->name), 0);
        fprintf(stderr, "' has no %s rule: %s\n",
                c->type == KN_COL_NUMERIC || c->type == KN_COL_TIMESTAMP ? "range" : "category",
                c->unconstrained);
        json_array_append_new(
            a, json_pack("{s:s, s:s}", "column", c->name, "reason", c->unconstrained));
    }
    return a;
}

/* text to path (atomically: a temporary file renamed into place) or stdout */
static int write_text(const char *path, const char *text)
{
    char *tmp = path ? kn_temp_path(path) : NULL;
    FILE *fp = !path ? stdout : tmp ? fopen(tmp, "w") : NULL;
    int bad = !fp || fputs(text, fp) < 0;
    if (path && fp && fclose(fp) != 0) bad = 1;
    if (path && !bad && kn_temp_commit(tmp, path) != KN_OK) {
        cli_error("%s", kn_last_error());
        return CLI_FAIL;
    }
    if (path && bad) kn_temp_discard(tmp);
    if (bad) cli_error("cannot write %s", path ? path : "standard output");
    return bad ? CLI_FAIL : CLI_OK;
}

typedef struct schema_args {
    const char *sub, *in, *out;
    int64_t max_categories;
    kn_read_opts read;
} schema_args;

static const cli_opt schema_opts[] = {
    CLI_OPT_ARG(schema_args, sub, "infer", 1, "the subcommand (the only one: infer)"),
    CLI_OPT_ARG(schema_args, in, "DATA", 1, "the data to infer the schema from"),
    {"out", 'o', CLI_VALUE, CLI_T_TEXT, CLI__F(schema_args, out, const char *), NULL, 0, 0, NULL,
     "SCHEMA.yaml", "write the schema there (default: standard output)", 0},
    CLI_OPT_INT(schema_args, max_categories, "max-categories", "N", "50", 0, 1e9,
                "text columns with more levels may be left unconstrained"),
    CLI_OPT_READ(schema_args, read),
    CLI_OPT_END};

const cli_spec schema_spec = {
    "schema",
    "infer a data contract (YAML) from data",
    "Write a schema (a data contract in YAML) inferred from DATA: per column its\n"
    "type, presence, largest missing share (the observed one, rounded up to a\n"
    "whole percent; 0 means not nullable), numeric or time range, uniqueness for\n"
    "likely-ID columns, and the allowed categories of every text column (its\n"
    "levels in order of first appearance). A text column with more than N levels\n"
    "(default 50) of which more than half of the values occur only once looks\n"
    "like free text or an identifier: its levels are not recorded, a comment in\n"
    "the schema says so, and a warning on standard error (and 'unconstrained' in\n"
    "--json) names every column left without a value rule and why. Edit the\n"
    "schema to state what the data must satisfy (rows: {min, max}, keys: [..],\n"
    "pattern:, on_violation: fail|drop|quarantine), then check new data with\n"
    "'kiln validate'. The YAML goes to standard output unless -o; with --json,\n"
    "standard output holds a JSON report with the schema instead.\n",
    "  kiln schema infer train.csv -o schema.yaml\n"
    "  kiln --json schema infer train.csv -o schema.yaml\n",
    schema_opts,
    1,
    cmd_schema};

int cmd_schema(int argc, char **argv)
{
    schema_args a = {0};
    if (argc < 2 || (argv[1][0] != '-' && strcmp(argv[1], "infer")))
        return cli_usage_error("schema", "the subcommand is 'infer' (kiln schema infer DATA)");
    int rc = cli_parse(&schema_spec, argc, argv, &a, NULL);
    if (rc) return rc < 0 ? CLI_OK : rc;
    if (strcmp(a.sub, "infer"))
        return cli_usage_error("schema", "the subcommand is 'infer' (kiln schema infer DATA)");
    kn_read_opts o = a.read;
    const char *in = a.in, *out = a.out;
    int64_t max_cat = a.max_categories;
    if (cli_refuse_overwrite("schema infer", &out, 1, &in, 1, -1) != CLI_OK) return CLI_USAGE;
    kn_frame *f = NULL;
    kn_read_report rep;
    if (cli_read_frame(in, &o, &f, &rep) != KN_OK) {
        cli_error("%s", kn_last_error());
        return CLI_FAIL;
    }
    kn_schema *s = NULL;
    char *yaml = NULL;
    size_t rows = kn_frame_n_rows(f);
    size_t clen = strlen(in) + 64;
    char *comment = kn_malloc(clen);
    kn_status st = comment ? KN_OK : KN_ERR_NOMEM;
    if (st == KN_OK) {
        snprintf(comment, clen, "kiln schema inferred from %s (%zu rows)", in, rows);
        for (char *q = comment; *q; q++)
            if (*q == '\n' || *q == '\r') *q = ' '; /* the comment is one line */
        kn_stage_begin("infer");
        st = kn_schema_infer(f, (size_t)max_cat, &s);
        kn_stage_end();
    }
    if (st == KN_OK) st = kn_schema_to_yaml(s, comment, &yaml);
    kn_free(comment);
    kn_frame_free(f);
    if (st != KN_OK) {
        cli_error("%s", kn_last_error());
        rc = CLI_FAIL;
    }
    json_t *unconstrained = rc == CLI_OK ? report_unconstrained(s) : NULL;
    if (rc == CLI_OK && (out || !cli.json)) rc = write_text(out, yaml);
    if (rc == CLI_OK && out && !cli.quiet && !cli.json)
        fprintf(stderr, "wrote the schema of %s to %s\n", in, out);
    /* a missing token kept as a level is a category of the schema: say so */
    for (size_t i = 0; rc == CLI_OK && !cli.quiet && !cli.json && i < rep.n_token_notes; i++)
        if (rep.token_notes[i].kept)
            fprintf(stderr,
                    "schema infer: column '%s': '%s' (%llu cells) is read as a category level, "
                    "not missing (frequent in this text column%s); --missing-in-text always "
                    "reads it as missing\n",
                    rep.token_notes[i].column, rep.token_notes[i].token,
                    (unsigned long long)rep.token_notes[i].cells,
                    cli_token_pandas(rep.token_notes[i].token));
    if (rc == CLI_OK && cli.json) {
        json_t *j = json_pack("{s:s, s:s, s:I, s:o, s:o, s:o, s:o, s:o}", "command", "schema infer",
                              "input", in, "rows", (json_int_t)rows, "output",
                              out ? json_string(out) : json_null(), "schema", schema_json(s),
                              "unconstrained", unconstrained, "read", cli_read_report_json(&rep),
                              "stages", cli_stages_json());
        unconstrained = NULL;
        rc = cli_emit_json(j);
    }
    json_decref(unconstrained);
    kn_schema_free(s);
    kn_free(yaml);
    return rc;
}
