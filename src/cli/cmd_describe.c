/* kiln describe FILE: a data profile for people (table) or machines (--json). */
#include "cli/cli.h"
#include "kiln/json.h"
#include "kiln/mem.h"
#include "kiln/profile.h"
#include "kiln/stage.h"

#include <math.h>
#include <string.h>

typedef struct describe_args {
    const char *path;
    kn_read_opts read;
} describe_args;

static const cli_opt describe_opts[] = {
    CLI_OPT_ARG(describe_args, path, "FILE", 1, "the data file ('-': CSV on standard input)"),
    CLI_OPT_READ(describe_args, read), CLI_OPT_END};

const cli_spec describe_spec = {
    "describe",
    "profile a data file: types, missing values, statistics, warnings",
    "Profile a data file: rows and columns; per column its type, missing share,\n"
    "min/max/mean/std and quantiles (p1, p25, p50, p75, p99) for numbers and\n"
    "times, distinct count and top values for categories; constant columns,\n"
    "likely ID columns, duplicate rows, and warnings (high missing share, high\n"
    "cardinality, skew, infinite values, and a text column of numbers or ISO\n"
    "dates but for a few cells, such as an unlisted missing marker 'n/a': the\n"
    "cells, their rows and the --missing that reads them as missing; numbers\n"
    "written with thousands separators or a decimal comma, which are read as\n"
    "text unless --thousands / --decimal say how they are written). In the table, newlines, tabs "
    "and other control characters in names\n"
    "and values show escaped (\\n, \\t, \\xNN), and names over 24 and values\n"
    "over 20 characters end in an ellipsis; --json keeps every value whole.\n"
    "FILE may be CSV, ARFF, LIBSVM, JSON Lines or .kfr (by extension or\n"
    "--format); '-' reads CSV from standard input.\n"
    "\n"
    "The read never drops rows silently: the summary states rows read, kept,\n"
    "skipped and quarantined. Malformed rows fail the read with file:line:column\n"
    "unless --on-bad-rows skip|quarantine is given.\n"
    "\n"
    "With --json the profile, the read report and per-stage resources\n"
    "(stages: [{name, wall_s, cpu_s, peak_rss_bytes}]) go to stdout as JSON.\n"
    "\n"
    "'kiln help readers' lists the reader options (delimiter, header, missing,\n"
    "types, on-bad-rows, quarantine, ...).\n",
    "  kiln describe data.csv\n"
    "  kiln describe data.csv --on-bad-rows quarantine --json\n"
    "  kiln describe raw.txt --read delimiter=';' --types zip:categorical\n",
    describe_opts,
    1,
    cmd_describe};

static const char *num(double v, char *buf, size_t cap)
{
    if (isnan(v))
        snprintf(buf, cap, "-");
    else
        snprintf(buf, cap, "%.6g", v);
    return buf;
}

/* Timestamps print as dates (with the time of day when the range is under a week). */
static const char *when(double us, int with_time, char *buf, size_t cap)
{
    if (isnan(us)) return num(us, buf, cap);
    char full[48];
    kn_timestamp_format((int64_t)us, full, sizeof full);
    snprintf(buf, cap, "%.*s", with_time ? 19 : 10, full);
    return buf;
}

/* Column names wider than this, and top values wider than TOP_WIDTH, are
 * cut with an ellipsis (--json keeps them whole). */
enum { NAME_WIDTH = 24, TOP_WIDTH = 20 };

void cli_print_profile(FILE *fp, const kn_profile *p)
{
    size_t w = 6;
    for (size_t j = 0; j < p->n_cols; j++) {
        size_t cw = cli_cell_width(p->cols[j].name);
        if (cw > w) w = cw;
    }
    if (w > NAME_WIDTH) w = NAME_WIDTH;
    fprintf(fp, "%-*s  %-11s %7s %9s %11s %11s %11s %11s %11s %11s %11s\n", (int)w, "column",
            "type", "missing", "distinct", "min", "p1", "p25", "p50", "p75", "p99", "max");
    for (size_t j = 0; j < p->n_cols; j++) {
        const kn_col_profile *c = &p->cols[j];
        char a[9][32];
        cli_put_cell(fp, c->name, w, 1);
        fprintf(fp, "  %-11s %6.1f%% %9llu", kn_col_type_name(c->type), 100 * c->missing_frac,
                (unsigned long long)c->distinct);
        if (c->type == KN_COL_TIMESTAMP) {
            int t = c->max - c->min < 7 * 86400e6;
            fprintf(fp, " %11s %11s %11s %11s %11s %11s %11s", when(c->min, t, a[0], 32),
                    when(c->p1, t, a[1], 32), when(c->p25, t, a[2], 32), when(c->p50, t, a[3], 32),
                    when(c->p75, t, a[4], 32), when(c->p99, t, a[5], 32),
                    when(c->max, t, a[6], 32));
        } else if (c->type == KN_COL_INT64) { /* exact extremes */
            fprintf(fp, " %11lld %11s %11s %11s %11s %11s %11lld", (long long)c->min_i64,
                    num(c->p1, a[1], 32), num(c->p25, a[2], 32), num(c->p50, a[3], 32),
                    num(c->p75, a[4], 32), num(c->p99, a[5], 32), (long long)c->max_i64);
        } else if (c->type == KN_COL_NUMERIC) {
            fprintf(fp, " %11s %11s %11s %11s %11s %11s %11s", num(c->min, a[0], 32),
                    num(c->p1, a[1], 32), num(c->p25, a[2], 32), num(c->p50, a[3], 32),
                    num(c->p75, a[4], 32), num(c->p99, a[5], 32), num(c->max, a[6], 32));
            fprintf(fp, "  mean %s std %s", num(c->mean, a[7], 32), num(c->std, a[8], 32));
            if (c->infinite) fprintf(fp, "  [%llu inf]", (unsigned long long)c->infinite);
        } else {
            fprintf(fp, "  top:");
            for (size_t t = 0; t < c->n_top && t < 3; t++) {
                fputc(' ', fp);
                cli_put_cell(fp, c->top[t].value, TOP_WIDTH, 0);
                fprintf(fp, " (%llu)", (unsigned long long)c->top[t].count);
            }
        }
        if (c->constant) fprintf(fp, "  [constant]");
        if (c->likely_id) fprintf(fp, "  [id?]");
        fputc('\n', fp);
    }
    char d[32];
    fprintf(fp, "\nduplicate rows: %s\n", cli_thousands(p->duplicate_rows, d, sizeof d));
    if (p->n_warnings) {
        fprintf(fp, "warnings:\n");
        for (size_t i = 0; i < p->n_warnings; i++) {
            fputs("  - ", fp);
            cli_put_cell(fp, p->warnings[i], cli_cell_width(p->warnings[i]), 0);
            fputc('\n', fp);
        }
    }
}

json_t *cli_read_report_json(const kn_read_report *r)
{
    json_t *o =
        json_pack("{s:I, s:I, s:I, s:I, s:I, s:I}", "rows_read", (json_int_t)r->rows_read,
                  "rows_kept", (json_int_t)r->rows_kept, "rows_skipped",
                  (json_int_t)r->rows_skipped, "rows_quarantined", (json_int_t)r->rows_quarantined,
                  "type_restarts", (json_int_t)r->type_restarts, "bytes", (json_int_t)r->bytes);
    if (r->quarantine_path[0])
        json_object_set_new(o, "quarantine_file", json_string(r->quarantine_path));
    json_t *notes = json_array();
    for (size_t i = 0; i < r->n_token_notes; i++) {
        const kn_token_note *n = &r->token_notes[i];
        json_array_append_new(notes, json_pack("{s:s, s:s, s:I, s:b}", "column", n->column, "token",
                                               n->token, "cells", (json_int_t)n->cells,
                                               "kept_as_level", n->kept));
    }
    json_object_set_new(o, "missing_tokens", notes);
    if (r->token_notes_left_out)
        json_object_set_new(o, "missing_tokens_left_out",
                            json_integer((json_int_t)r->token_notes_left_out));
    return o;
}

const char *cli_token_pandas(const char *token)
{
    /* pandas 1.5's read_csv na_values (pandas._libs.parsers.STR_NA_VALUES) */
    static const char *const na[] = {"NA",   "N/A",    "NaN",      "nan",     "null",     "NULL",
                                     "n/a",  "#N/A",   "#N/A N/A", "#NA",     "<NA>",     "-NaN",
                                     "-nan", "1.#IND", "-1.#IND",  "1.#QNAN", "-1.#QNAN", NULL};
    for (size_t k = 0; na[k]; k++)
        if (!strcmp(token, na[k])) return "; pandas reads it as NaN";
    if (!strcmp(token, "None")) return "; pandas 2 reads it as NaN, pandas 1.5 as text";
    return "";
}

void cli_print_read_report(FILE *fp, const char *path, const kn_read_report *r)
{
    char a[32], b[32], c[32], d[32];
    fprintf(fp, "%s: rows read %s, kept %s, skipped %s, quarantined %s", path,
            cli_thousands(r->rows_read, a, sizeof a), cli_thousands(r->rows_kept, b, sizeof b),
            cli_thousands(r->rows_skipped, c, sizeof c),
            cli_thousands(r->rows_quarantined, d, sizeof d));
    if (r->rows_quarantined) fprintf(fp, " (see %s)", r->quarantine_path);
    fputc('\n', fp);
    /* what each missing token did, per column */
    for (size_t i = 0; i < r->n_token_notes; i++) {
        const kn_token_note *n = &r->token_notes[i];
        if (n->kept)
            fprintf(fp,
                    "  column '%s': '%s' kept as a category level in %s cells (frequent in this "
                    "text column, so a value here%s; --missing-in-text always reads it as "
                    "missing)\n",
                    n->column, n->token, cli_thousands(n->cells, a, sizeof a),
                    cli_token_pandas(n->token));
        else
            fprintf(fp, "  column '%s': %s cells '%s' read as missing\n", n->column,
                    cli_thousands(n->cells, a, sizeof a), n->token);
    }
    if (r->token_notes_left_out)
        fprintf(fp, "  (%llu more column/token counts left out)\n",
                (unsigned long long)r->token_notes_left_out);
}

/* Read FILE with the command's reader options, as the "read" stage. */
kn_status cli_read_frame(const char *path, kn_read_opts *o, kn_frame **f, kn_read_report *rep)
{
    if (!o->threads) o->threads = cli.threads;
    o->progress = cli_progress;
    kn_stage_begin("read");
    kn_status s = kn_frame_read(path, o, f, rep);
    kn_stage_end();
    cli_progress_done();
    return s;
}

int cmd_describe(int argc, char **argv)
{
    describe_args args = {0};
    int rc = cli_parse(&describe_spec, argc, argv, &args, NULL);
    if (rc) return rc < 0 ? CLI_OK : rc;
    const char *path = args.path;
    kn_read_opts o = args.read;
    kn_frame *f = NULL;
    kn_read_report rep;
    if (cli_read_frame(path, &o, &f, &rep) != KN_OK) {
        cli_error("%s", kn_last_error());
        return CLI_FAIL;
    }
    kn_profile *p = NULL;
    kn_stage_begin("profile");
    kn_status s = kn_profile_compute(f, &p);
    kn_stage_end();
    if (s != KN_OK) {
        cli_error("profiling %s: %s", path, kn_last_error());
        kn_frame_free(f);
        return CLI_FAIL;
    }
    if (cli.json) {
        json_t *out = json_pack("{s:s, s:s, s:o, s:o, s:o}", "command", "describe", "input", path,
                                "read", cli_read_report_json(&rep), "profile", kn_profile_json(p),
                                "stages", cli_stages_json());
        rc = cli_emit_json(out);
    } else {
        char a[32], b[32];
        printf("%s: %s rows x %zu columns (%s)\n", path, cli_thousands(p->rows, a, sizeof a),
               p->n_cols, cli_bytes(rep.bytes, b, sizeof b));
        cli_print_read_report(stdout, path, &rep);
        putchar('\n');
        cli_print_profile(stdout, p);
        if (!cli.quiet) {
            printf("\nstages:\n");
            cli_print_stages(stdout);
        }
    }
    kn_profile_free(p);
    kn_frame_free(f);
    return rc;
}
