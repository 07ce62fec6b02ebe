/* kiln schema infer DATA and kiln validate DATA --schema S: data contracts. */
#include "cli/cli.h"
#include "kiln/mem.h"
#include "kiln/schema.h"
#include "kiln/stage.h"

#include <stdlib.h>
#include <string.h>

const char schema_usage[] =
    "usage: kiln schema infer DATA [-o SCHEMA.yaml] [--max-categories N] [reader options]\n"
    "\n"
    "Write a schema (a data contract in YAML) inferred from DATA: per column its\n"
    "type, presence, largest missing share (the observed one, rounded up to a\n"
    "whole percent; 0 means not nullable), numeric or time range, allowed\n"
    "categories (columns with at most N levels, default 50) and uniqueness for\n"
    "likely-ID columns. Edit it to state what the data must satisfy (rows:\n"
    "{min, max}, keys: [..], pattern:, on_violation: fail|drop|quarantine), then\n"
    "check new data with 'kiln validate'. Goes to standard output unless -o.\n"
    "\n"
    "examples:\n"
    "  kiln schema infer train.csv -o schema.yaml\n";

const char validate_usage[] =
    "usage: kiln validate DATA --schema SCHEMA.yaml [--on-violation fail|drop|quarantine]\n"
    "                     [--out KEPT] [--rejects FILE] [--json] [--overwrite-input]\n"
    "                     [reader options]\n"
    "\n"
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
    "exit status: 0 when nothing failed (clean, or every violation dropped or\n"
    "quarantined), 1 when a rule failed, 2 on usage errors.\n"
    "\n"
    "examples:\n"
    "  kiln validate new.csv --schema schema.yaml\n"
    "  kiln validate new.csv --schema schema.yaml --on-violation quarantine --out ok.csv\n";

static int cmd_schema_infer(int argc, char **argv)
{
    kn_read_opts o;
    kn_read_opts_default(&o);
    const char *in = NULL, *out = NULL;
    long max_cat = 50;
    for (int i = 2; i < argc; i++) {
        int r = cli_read_option(argc, argv, &i, &o);
        if (r < 0) return CLI_USAGE;
        if (r > 0) continue;
        if ((!strcmp(argv[i], "-o") || !strcmp(argv[i], "--out")) && i + 1 < argc)
            out = argv[++i];
        else if (!strcmp(argv[i], "--max-categories") && i + 1 < argc) {
            char *end;
            max_cat = strtol(argv[++i], &end, 10);
            if (*end || max_cat < 0)
                return cli_usage_error("schema", "--max-categories takes a count, got '%s'",
                                       argv[i]);
        } else if (argv[i][0] == '-' && argv[i][1])
            return cli_usage_error("schema", "unknown option %s", argv[i]);
        else if (!in)
            in = argv[i];
        else
            return cli_usage_error("schema", "one DATA file (got %s and %s)", in, argv[i]);
    }
    if (!in) return cli_usage_error("schema", "missing DATA");
    if (cli_refuse_overwrite("schema infer", &out, 1, &in, 1, -1) != CLI_OK) return CLI_USAGE;
    kn_frame *f = NULL;
    kn_read_report rep;
    if (cli_read_frame(in, &o, &f, &rep) != KN_OK) {
        cli_error("%s", kn_last_error());
        return CLI_FAIL;
    }
    kn_schema *s = NULL;
    char *yaml = NULL, comment[512];
    snprintf(comment, sizeof comment, "kiln schema inferred from %s (%zu rows)", in,
             kn_frame_n_rows(f));
    kn_status st = kn_schema_infer(f, (size_t)max_cat, &s);
    if (st == KN_OK) st = kn_schema_to_yaml(s, comment, &yaml);
    kn_frame_free(f);
    kn_schema_free(s);
    if (st != KN_OK) {
        cli_error("%s", kn_last_error());
        return CLI_FAIL;
    }
    int rc = CLI_OK;
    FILE *fp = out ? fopen(out, "w") : stdout;
    if (!fp || fputs(yaml, fp) < 0 || (out && fclose(fp) != 0)) {
        cli_error("cannot write %s", out ? out : "standard output");
        rc = CLI_FAIL;
    } else if (out && !cli.quiet)
        fprintf(stderr, "wrote the schema of %s to %s\n", in, out);
    kn_free(yaml);
    return rc;
}

int cmd_schema(int argc, char **argv)
{
    if (argc < 2 || strcmp(argv[1], "infer"))
        return cli_usage_error("schema", "the subcommand is 'infer' (kiln schema infer DATA)");
    return cmd_schema_infer(argc, argv);
}

/* Declare the schema's types to the reader (unless --types was given). */
static void declare_types(const kn_schema *s, kn_read_opts *o)
{
    if (o->types[0]) return;
    size_t len = 0;
    for (size_t j = 0; j < s->n_cols; j++) {
        const char *t = kn_col_type_name(s->cols[j].type);
        size_t need = strlen(s->cols[j].name) + strlen(t) + 2;
        if (strchr(s->cols[j].name, ',') || strchr(s->cols[j].name, ':') ||
            len + need >= sizeof o->types) {
            o->types[0] = '\0'; /* cannot say it in one option: let the reader infer */
            return;
        }
        len += (size_t)snprintf(o->types + len, sizeof o->types - len, "%s%s:%s", len ? "," : "",
                                s->cols[j].name, t);
    }
}

static json_t *violations_json(const kn_validation *v)
{
    json_t *a = json_array();
    for (size_t i = 0; i < v->n_violations; i++) {
        const kn_violation *x = &v->violations[i];
        json_t *ex = json_array();
        for (size_t k = 0; k < x->n_examples; k++)
            json_array_append_new(ex, json_integer((json_int_t)x->examples[k] + 1));
        json_array_append_new(a,
                              json_pack("{s:o, s:s, s:s, s:I, s:o, s:s}", "column",
                                        x->column ? json_string(x->column) : json_null(), "rule",
                                        x->rule, "detail", x->detail, "count", (json_int_t)x->count,
                                        "example_rows", ex, "policy", kn_policy_name(x->policy)));
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
        printf("  %-20s %-11s %9s %-4s %s", x->column ? x->column : "(table)", x->rule,
               cli_thousands(x->count, a, sizeof a), x->count == 1 ? "row" : "rows", x->detail);
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
    size_t n = 0, *rows = kn_malloc((v->rows_quarantined ? v->rows_quarantined : 1) * sizeof *rows);
    if (!rows) return KN_ERR_NOMEM;
    for (size_t r = 0; r < v->rows; r++)
        if (v->row_fate && v->row_fate[r] &&
            v->violations[v->row_fate[r] - 1].policy == KN_POLICY_QUARANTINE)
            rows[n++] = r;
    kn_frame *q = NULL;
    kn_status e = kn_frame_select_rows(f, rows, n, &q);
    kn_column *rc = NULL, *why = NULL;
    if (e == KN_OK) e = kn_frame_insert_column(q, 0, "_row", KN_COL_NUMERIC, &rc);
    if (e == KN_OK) e = kn_frame_insert_column(q, 1, "_violation", KN_COL_STRING, &why);
    for (size_t i = 0; e == KN_OK && i < n; i++) {
        const kn_violation *x = &v->violations[v->row_fate[rows[i]] - 1];
        char buf[1400];
        int len = snprintf(buf, sizeof buf, "%s %s: %s", x->column ? x->column : "(table)", x->rule,
                           x->detail);
        kn_column_f64(rc)[i] = (double)rows[i] + 1;
        e = kn_column_set_str(why, i, buf, (size_t)len < sizeof buf ? (size_t)len : sizeof buf - 1);
    }
    if (e == KN_OK) e = kn_frame_write(q, path, NULL);
    kn_frame_free(q);
    kn_free(rows);
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
    const char *in, *schema, *out, *rejects;
    int has_policy, overwrite_input;
    kn_policy policy;
} validate_args;

static int parse_validate(int argc, char **argv, kn_read_opts *o, validate_args *a)
{
    for (int i = 1; i < argc; i++) {
        int r = cli_read_option(argc, argv, &i, o);
        if (r < 0) return CLI_USAGE;
        if (r > 0) continue;
        if (!strcmp(argv[i], "--schema") && i + 1 < argc)
            a->schema = argv[++i];
        else if (!strcmp(argv[i], "--out") && i + 1 < argc)
            a->out = argv[++i];
        else if (!strcmp(argv[i], "--rejects") && i + 1 < argc)
            a->rejects = argv[++i];
        else if (!strcmp(argv[i], "--overwrite-input"))
            a->overwrite_input = 1;
        else if (!strcmp(argv[i], "--on-violation") && i + 1 < argc) {
            a->has_policy = 1;
            if (kn_policy_parse(argv[++i], &a->policy) != KN_OK)
                return cli_usage_error("validate",
                                       "--on-violation takes fail, drop or "
                                       "quarantine, got '%s'",
                                       argv[i]);
        } else if (argv[i][0] == '-' && argv[i][1])
            return cli_usage_error("validate", "unknown option %s", argv[i]);
        else if (!a->in)
            a->in = argv[i];
        else
            return cli_usage_error("validate", "one DATA file (got %s and %s)", a->in, argv[i]);
    }
    if (!a->in) return cli_usage_error("validate", "missing DATA");
    if (!a->schema) return cli_usage_error("validate", "missing --schema SCHEMA.yaml");
    const char *outs[2] = {a->out, a->rejects}, *ins[2] = {a->in, a->schema};
    return cli_refuse_overwrite("validate", outs, 2, ins, 2, a->overwrite_input);
}

int cmd_validate(int argc, char **argv)
{
    kn_read_opts o;
    kn_read_opts_default(&o);
    validate_args a = {0};
    int rc = parse_validate(argc, argv, &o, &a);
    if (rc != CLI_OK) return rc;
    kn_schema *s;
    if (kn_schema_load(a.schema, &s) != KN_OK) {
        cli_error("%s", kn_last_error());
        return CLI_FAIL;
    }
    if (a.has_policy) {
        s->policy = a.policy;
        for (size_t j = 0; j < s->n_cols; j++) s->cols[j].has_policy = 0;
    }
    declare_types(s, &o);
    kn_frame *f = NULL;
    kn_read_report rep;
    kn_validation *v = NULL;
    if (cli_read_frame(a.in, &o, &f, &rep) != KN_OK) {
        cli_error("%s", kn_last_error());
        kn_schema_free(s);
        return CLI_FAIL;
    }
    kn_stage_begin("validate");
    kn_status st = kn_schema_validate(s, f, &v);
    kn_stage_end();
    char rejects[KN_PARAM_STR_MAX + 16];
    snprintf(rejects, sizeof rejects, "%s", a.rejects ? a.rejects : "");
    if (!a.rejects) snprintf(rejects, sizeof rejects, "%s.invalid.csv", a.in);
    size_t kept = v ? v->rows - v->rows_dropped - v->rows_quarantined : 0;
    if (st == KN_OK && v->rows_quarantined) st = write_rejects(f, v, rejects);
    if (st == KN_OK && a.out) st = write_kept(f, v, a.out, &kept);
    if (st != KN_OK) {
        cli_error("%s", kn_last_error());
        rc = CLI_FAIL;
    } else if (cli.json) {
        json_t *j =
            json_pack("{s:s, s:s, s:s, s:b, s:I, s:I, s:I, s:I, s:o, s:o, s:o}", "command",
                      "validate", "file", a.in, "schema", a.schema, "clean", v->n_violations == 0,
                      "rows", (json_int_t)v->rows, "rows_kept", (json_int_t)kept, "rows_dropped",
                      (json_int_t)v->rows_dropped, "rows_quarantined",
                      (json_int_t)v->rows_quarantined, "violations", violations_json(v), "read",
                      cli_read_report_json(&rep), "stages", cli_stages_json());
        if (v->rows_quarantined) json_object_set_new(j, "rejects_file", json_string(rejects));
        rc = cli_emit_json(j);
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
    if (rc == CLI_OK && v->failed) rc = CLI_FAIL;
    kn_validation_free(v);
    kn_frame_free(f);
    kn_schema_free(s);
    return rc;
}
