/* Shared state and helpers of the kiln command line (the only code that
 * parses argv or prints for people). */
#ifndef KILN_CLI_H
#define KILN_CLI_H

#include "kiln/io.h"
#include "kiln/progress.h"

#include <jansson.h>
#include <stdio.h>

typedef struct cli_globals {
    int json;        /* --json: machine output on stdout */
    int quiet;       /* --quiet: no progress, warnings only */
    int verbose;     /* --verbose: debug logs */
    int log_json;    /* --log-format json */
    int64_t threads; /* --threads N (0 = all) */
} cli_globals;

extern cli_globals cli;

typedef struct cli_command {
    const char *name;
    const char *summary;
    const char *usage; /* full help text */
    int (*run)(int argc, char **argv);
} cli_command;

/* Exit codes. CLI_FAIL is what went wrong for most commands; commands that
 * tell failures apart (kiln validate: 1 = rules violated) use CLI_ERROR for
 * input that cannot be read and internal errors. */
enum { CLI_OK = 0, CLI_FAIL = 1, CLI_USAGE = 2, CLI_ERROR = 3 };

/* Print "kiln: <msg>" (and kn_last_error() when msg is NULL) as an error. */
void cli_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
int cli_usage_error(const char *cmd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Reader options from --name value / --name=value (dashes or underscores) and
 * --param name=value. Consumes what it knows; returns 1 when argv[*i] was a
 * reader option, 0 when not, -1 on a bad value (message printed). */
int cli_read_option(int argc, char **argv, int *i, kn_read_opts *o);

/* A seed option's value: a whole number from 0 to 2^64 - 1; else a usage
 * error (CLI_USAGE) naming the command and the value. */
int cli_parse_seed(const char *cmd, const char *v, uint64_t *out);
/* Progress bar on stderr for reads (TTY only, not with --quiet). */
void cli_progress(uint64_t done, uint64_t total, void *user);
void cli_progress_done(void);
/* The sink of training progress (kn_progress_set_sink): a line on a
 * terminal ("gbdt: round 120 of 300, 3.1 s, about 4.6 s left"), JSON
 * events with --log-format json (at most one a second), nothing with
 * --quiet. */
void cli_fit_progress(const kn_progress_event *ev, void *user);
/* One --log-format json line on stderr: {"ts": now} followed by fields
 * (a new reference, taken; NULL writes the time alone). */
void cli_log_json(json_t *fields);
/* The stages recorded so far as a JSON array. New reference. */
json_t *cli_stages_json(void);
/* One line per stage on stderr for people. */
void cli_print_stages(FILE *fp);
/* Print a JSON value on stdout (pretty, sorted by insertion) and free it. */
int cli_emit_json(json_t *v);
/* Write a JSON value to a file (one member per line); 0, or -1 on failure. */
int cli_write_json_file(const json_t *v, const char *path);
/* "1,234,567" */
const char *cli_thousands(uint64_t v, char *buf, size_t cap);
/* "12.3 MB" */
const char *cli_bytes(uint64_t v, char *buf, size_t cap);

/* A value as a table shows it (cli_cell.c): newlines, tabs, backslashes and
 * other control bytes escaped (\n, \t, \\, \xNN); width in characters.
 * cli_put_cell prints at most `width` characters, ending a longer value
 * with an ellipsis, and pads with spaces to `width` when pad is set. */
size_t cli_cell_width(const char *s);
void cli_put_cell(FILE *fp, const char *s, size_t width, int pad);

/* Read FILE with the command's reader options as the "read" stage. */
kn_status cli_read_frame(const char *path, kn_read_opts *o, kn_frame **f, kn_read_report *rep);
json_t *cli_read_report_json(const kn_read_report *r);
void cli_print_read_report(FILE *fp, const char *path, const kn_read_report *r);
struct kn_profile;
void cli_print_profile(FILE *fp, const struct kn_profile *p);

/* A model's scores as {"rows": n, name: value, ...} (new reference), and as
 * one line "what (n rows):  name value ..." on stdout for people. */
struct kn_scores;
json_t *cli_scores_json(const struct kn_scores *sc);
void cli_print_scores(const char *what, const struct kn_scores *s);
void cli_scores_meaning_json(json_t *j, const char *roc_auc_average, const char *positive_class);
void cli_print_scores_meaning(const char *roc_auc_average, const char *positive_class);
/* Rows whose `target` is missing: with drop (--drop-missing-target) *f is
 * replaced by a frame without them (a note says how many went); without,
 * they are an error naming the first row and the option. */
kn_status cli_target_rows(kn_frame **f, const char *target, int drop);
/* An infinite value in a numeric feature column or the target of f: an
 * error naming the column and the row (checked before a split, so the row
 * is the data's, not a part's). */
kn_status cli_refuse_infinite(const kn_frame *f, const char *target);

/* Mark the comma-separated columns as ignored (not features). */
kn_status cli_ignore_columns(kn_frame *f, const char *list);

/* Outputs that would replace inputs: when an output names the same file as an
 * input (kn_same_file: by device and inode, so "./x.csv" or a link to x.csv
 * match), print why and return CLI_USAGE, unless overwrite_input > 0 (the
 * command's --overwrite-input; -1: the command has no such option). NULL
 * entries are skipped. */
int cli_refuse_overwrite(const char *cmd, const char *const *outputs, size_t n_out,
                         const char *const *inputs, size_t n_in, int overwrite_input);

int cmd_describe(int argc, char **argv);
int cmd_convert(int argc, char **argv);
int cmd_demo(int argc, char **argv);
int cmd_prep(int argc, char **argv);
int cmd_transform(int argc, char **argv);
int cmd_schema(int argc, char **argv);
int cmd_validate(int argc, char **argv);
int cmd_train(int argc, char **argv);
int cmd_predict(int argc, char **argv);
int cmd_eval(int argc, char **argv);
int cmd_cv(int argc, char **argv);
int cmd_inspect(int argc, char **argv);
extern const char describe_usage[], convert_usage[], demo_usage[], prep_usage[], transform_usage[],
    schema_usage[], validate_usage[], train_usage[], predict_usage[], eval_usage[], cv_usage[],
    inspect_usage[];

#endif
