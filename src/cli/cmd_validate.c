/* kiln validate DATA --schema S: check data against its contract. */
#include "cli/cli.h"
#include "kiln/mem.h"
#include "kiln/schema.h"
#include "kiln/stage.h"

#include <stdlib.h>
#include <string.h>

/* Declare the schema's types to the reader (unless --types was given), each
 * as "?name:type", so a column the data lacks is the schema's "required"
 * rule to judge, not a read error. A column name with ',' cannot be said in
 * the option: then every type is left to the reader, and the schema's type
 * rule still checks it. */
static kn_status declare_types(const kn_schema *s, kn_read_opts *o)
{
    if (o->types[0]) return KN_OK;
    size_t need = 1;
    for (size_t j = 0; j < s->n_cols; j++) {
        if (strchr(s->cols[j].name, ',')) return KN_OK;
        need += strlen(s->cols[j].name) + strlen(kn_col_type_name(s->cols[j].type)) + 3;
    }
    char *spec = kn_malloc(need);
    if (!spec) return KN_ERR_NOMEM;
    size_t len = 0;
    spec[0] = '\0';
    for (size_t j = 0; j < s->n_cols; j++)
        len += (size_t)snprintf(spec + len, need - len, "%s?%s:%s", len ? "," : "", s->cols[j].name,
                                kn_col_type_name(s->cols[j].type));
    kn_status e = kn_param_set_value(kn_read_params(), o, "types", spec);
    kn_free(spec);
    return e;
}

static json_t *violations_json(const kn_validation *v)
{
    json_t *a = json_array();
    for (size_t i = 0; i < v->n_violations; i++) {
        const kn_violation *x = &v->violations[i];
        json_t *ex = json_array();
        for (size_t k = 0; k < x->n_examples; k++)
            json_array_append_new(ex, json_integer((json_int_t)x->examples[k] + 1));
        char *detail = cli_flag_text(x->detail); /* the flags that the fix names */
        json_array_append_new(a, json_pack("{s:o, s:s, s:s, s:I, s:o, s:s}", "column",
                                           x->column ? json_string(x->column) : json_null(), "rule",
                                           x->rule, "detail", detail ? detail : x->detail, "count",
                                           (json_int_t)x->count, "example_rows", ex, "policy",
                                           kn_policy_name(x->policy)));
        free(detail);
    }
    return a;
}

static void print_violations(const char *in, const char *schema, const kn_validation *v)
{
    char a[32];
    printf("%s: %s rows checked against %s: %zu violation%s\n", in,
           cli_thousands(v->rows, a, sizeof a), schema, v->n_violations,
           v->n_violations == 1 ? "" : "s");
    for (size_t i = 0; i < v->n_violations; i++) {
        const kn_violation *x = &v->violations[i];
        char *detail = cli_flag_text(x->detail);
        printf("  %-20s %-11s %9s %-4s %s", x->column ? x->column : "(table)", x->rule,
               cli_thousands(x->count, a, sizeof a), x->count == 1 ? "row" : "rows",
               detail ? detail : x->detail);
        free(detail);
        if (x->n_examples && x->row_rule) {
            printf(" (row%s", x->n_examples > 1 ? "s" : "");
            for (size_t k = 0; k < x->n_examples; k++)
                printf("%s %llu", k ? "," : "", (unsigned long long)x->examples[k] + 1);
            printf("%s)", x->count > x->n_examples ? ", ..." : "");
        }
        printf(" [%s]\n", kn_policy_name(x->policy));
    }
}

/* The rows of f taken by the schema, with _row and _violation columns first. */
static kn_status write_rejects(const kn_frame *f, const kn_validation *v, const char *path)
{
    kn_frame *q = NULL;
    kn_status e = kn_validation_quarantined(f, v, NULL, &q);
    if (e == KN_OK) e = kn_frame_write(q, path, NULL);
    kn_frame_free(q);
    return e;
}

static kn_status write_kept(const kn_frame *f, const kn_validation *v, const char *path,
                            size_t *kept)
{
    size_t n = 0, *rows = kn_malloc((v->rows ? v->rows : 1) * sizeof *rows);
    if (!rows) return KN_ERR_NOMEM;
    for (size_t r = 0; r < v->rows; r++)
        if (!v->row_fate || !v->row_fate[r]) rows[n++] = r;
    *kept = n;
    kn_frame *g;
    kn_status e = kn_frame_select_rows(f, rows, n, &g);
    if (e == KN_OK) {
        e = kn_frame_write(g, path, NULL);
        kn_frame_free(g);
    }
    kn_free(rows);
    return e;
}

typedef struct validate_args {
    const char *in, *schema, *out, *rejects, *on_violation;
    int has_policy, overwrite_input;
    kn_policy policy;
    kn_read_opts read;
} validate_args;

static const cli_opt validate_opts[] = {
    CLI_OPT_ARG(validate_args, in, "DATA", 1, "the data to check"),
    CLI_OPT_NEED(validate_args, schema, "schema", "SCHEMA.yaml",
                 "the schema ('kiln schema infer')"),
    CLI_OPT_CHOICE(validate_args, on_violation, "on-violation", "fail|drop|quarantine",
                   "what row rules do to offending rows (default: the schema's policy)"),
    CLI_OPT_TEXT(validate_args, out, "out", "KEPT", "write the rows kept"),
    CLI_OPT_TEXT(validate_args, rejects, "rejects", "FILE",
                 "where quarantined rows go (default DATA.invalid.csv)"),
    CLI_OPT_FLAG(validate_args, overwrite_input, "overwrite-input",
                 "allow --out to replace DATA or the schema"),
    CLI_OPT_READ(validate_args, read),
    CLI_OPT_END};

const cli_spec validate_spec = {
    "validate",
    "check data against a schema; drop or quarantine offending rows",
    "Check DATA against a schema and report every violated rule with the number\n"
    "of offending rows and the first example rows (data rows counted from 1 among\n"
    "the rows the reader kept). Row rules (missing, min, max, categories, pattern,\n"
    "unique, keys) follow the policy of the column or the schema, or\n"
    "--on-violation when given: fail, drop the rows (counted), or quarantine them\n"
    "into --rejects (default DATA.invalid.csv: the row's values with _row and\n"
    "_violation columns). Column rules (required, type, max_missing, rows) always\n"
    "fail. --out writes the rows kept (never over DATA or the schema, unless\n"
    "--overwrite-input). Every row is accounted for:\n"
    "  rows read = kept + skipped by the reader + quarantined by the reader\n"
    "              + dropped + quarantined by the schema\n"
    "The schema's column types are declared to the reader, so a value that does\n"
    "not parse is a bad row (see --on-bad-rows) rather than a changed type.\n"
    "\n"
    "exit status:\n"
    "  0  nothing failed (clean, or every violation dropped or quarantined)\n"
    "  1  a rule failed (the report lists the violations)\n"
    "  2  usage error: an unknown option, a bad option value, a missing argument\n"
    "  3  DATA or the schema cannot be used: a missing or unreadable file, a\n"
    "     malformed row under --on-bad-rows fail, a schema that does not parse\n"
    "     (file:line:column), an output that cannot be written, or an internal\n"
    "     error\n",
    "  kiln validate new.csv --schema schema.yaml\n"
    "  kiln validate new.csv --schema schema.yaml --on-violation quarantine --out ok.csv\n",
    validate_opts,
    1,
    cmd_validate};

static int parse_validate(int argc, char **argv, kn_read_opts *o, validate_args *a)
{
    int rc = cli_parse(&validate_spec, argc, argv, a, NULL);
    if (rc) return rc;
    *o = a->read;
    if (a->on_violation) {
        a->has_policy = 1;
        if (kn_policy_parse(a->on_violation, &a->policy) != KN_OK)
            return cli_usage_error("validate", "--on-violation %s: %s", a->on_violation,
                                   kn_last_error());
    }
    const char *outs[2] = {a->out, a->rejects}, *ins[2] = {a->in, a->schema};
    return cli_refuse_overwrite("validate", outs, 2, ins, 2, a->overwrite_input);
}

int cmd_validate(int argc, char **argv)
{
    kn_read_opts o;
    kn_read_opts_default(&o);
    validate_args a = {0};
    int rc = parse_validate(argc, argv, &o, &a);
    if (rc) return rc < 0 ? CLI_OK : rc;
    kn_schema *s;
    if (kn_schema_load(a.schema, &s) != KN_OK) {
        cli_error("%s", kn_last_error());
        return CLI_ERROR;
    }
    if (a.has_policy) {
        s->policy = a.policy;
        for (size_t j = 0; j < s->n_cols; j++) s->cols[j].has_policy = 0;
    }
    if (declare_types(s, &o) != KN_OK) {
        cli_error("%s", kn_last_error());
        kn_schema_free(s);
        return CLI_ERROR;
    }
    kn_frame *f = NULL;
    kn_read_report rep;
    kn_validation *v = NULL;
    if (cli_read_frame(a.in, &o, &f, &rep) != KN_OK) {
        cli_error("%s", kn_last_error());
        kn_schema_free(s);
        return CLI_ERROR;
    }
    kn_stage_begin("validate");
    kn_status st = kn_schema_validate(s, f, &v);
    kn_stage_end();
    char *rejects = a.rejects ? kn_strdup(a.rejects) : kn_sprintf("%s.invalid.csv", a.in);
    if (!rejects) st = KN_ERR_NOMEM;
    size_t kept = v ? v->rows - v->rows_dropped - v->rows_quarantined : 0;
    if (st == KN_OK && v->rows_quarantined) st = write_rejects(f, v, rejects);
    if (st == KN_OK && a.out) st = write_kept(f, v, a.out, &kept);
    if (st != KN_OK) {
        cli_error("%s", kn_last_error());
        rc = CLI_ERROR;
    } else if (cli.json) {
        json_t *j =
            json_pack("{s:s, s:s, s:s, s:b, s:I, s:I, s:I, s:I, s:o, s:o, s:o}", "command",
                      "validate", "input", a.in, "schema", a.schema, "clean", v->n_violations == 0,
                      "rows", (json_int_t)v->rows, "rows_kept", (json_int_t)kept, "rows_dropped",
                      (json_int_t)v->rows_dropped, "rows_quarantined",
                      (json_int_t)v->rows_quarantined, "violations", violations_json(v), "read",
                      cli_read_report_json(&rep), "stages", cli_stages_json());
        if (a.out) json_object_set_new(j, "output", json_string(a.out));
        if (v->rows_quarantined) json_object_set_new(j, "rejects_file", json_string(rejects));
        if (cli_emit_json(j) != CLI_OK) rc = CLI_ERROR;
    } else {
        print_violations(a.in, a.schema, v);
        char b[6][32];
        printf("rows: %s read = %s kept + %s skipped + %s quarantined by the reader + %s "
               "dropped + %s quarantined by the schema",
               cli_thousands(rep.rows_read, b[0], 32), cli_thousands(kept, b[1], 32),
               cli_thousands(rep.rows_skipped, b[2], 32),
               cli_thousands(rep.rows_quarantined, b[3], 32),
               cli_thousands(v->rows_dropped, b[4], 32),
               cli_thousands(v->rows_quarantined, b[5], 32));
        if (v->rows_quarantined) printf(" (see %s)", rejects);
        putchar('\n');
    }
    if (rc == CLI_OK && fflush(stdout) != 0) {
        cli_error("cannot write the report to standard output");
        rc = CLI_ERROR;
    }
    if (rc == CLI_OK && v->failed) rc = CLI_FAIL;
    kn_free(rejects);
    kn_validation_free(v);
    kn_frame_free(f);
    kn_schema_free(s);
    return rc;
}
