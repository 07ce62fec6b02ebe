/* Shared state and helpers of the kiln command line (the only code that
 * parses argv or prints for people). */
#ifndef KILN_CLI_H
#define KILN_CLI_H

#include "kiln/io.h"
#include "kiln/param.h"
#include "kiln/progress.h"

#include <jansson.h>
#include <stdio.h>

typedef struct cli_globals {
    int json;                 /* --json: machine output on stdout */
    int quiet;                /* --quiet: no progress, warnings only */
    int verbose;              /* --verbose: debug logs */
    int log_json;             /* --log-format json */
    int64_t threads;          /* --threads N (0 = all) */
    const char *log_format;   /* --log-format as given (NULL: not given) */
    const char *memory_limit; /* --memory-limit as given (NULL: not given) */
    int version, help;        /* --version, -h/--help */
    const char *program;      /* how to run this binary again: argv[0] when it has a
                                 path (build/kiln), else "kiln" (found on PATH) */
} cli_globals;

extern cli_globals cli;

/* Exit codes. CLI_FAIL is what went wrong for most commands; commands that
 * tell failures apart (kiln validate: 1 = rules violated) use CLI_ERROR for
 * input that cannot be read and internal errors. CLI_DONE (never an exit
 * status): the parser already did what was asked (--help); exit 0. */
enum { CLI_DONE = -1, CLI_OK = 0, CLI_FAIL = 1, CLI_USAGE = 2, CLI_ERROR = 3 };

/* ---- options as tables (cli_opts.c) ----
 *
 * A command declares its options once, as a table over its own options
 * struct; cli_parse fills the struct from argv (never editing argv), and
 * `kiln help CMD` prints the option list from the same table, so what is
 * documented is what is parsed. Values go through the parameter machinery
 * (kiln/param.h) for their type and bounds. */
typedef enum {
    CLI_FLAG = 1, /* --name: int field set to 1 */
    CLI_VALUE,    /* --name V or --name=V, at most once */
    CLI_LIST,     /* --name V, repeatable: a cli_list field */
    CLI_ARG,      /* a positional argument; `name` is its metavar */
} cli_opt_kind;

typedef enum {
    CLI_T_TEXT = 0, /* const char * field */
    CLI_T_INT,      /* int64_t field, checked against [min, max] */
    CLI_T_NUM,      /* double field, checked against [min, max] */
    CLI_T_CHOICE,   /* const char * field, one of `choices` ("a|b") */
    CLI_T_SEED,     /* uint64_t field: 0 to 2^64 - 1 */
    CLI_T_READ,     /* kn_read_opts field: --read name=value and --NAME VALUE */
} cli_opt_type;

/* Values of a repeatable option, in order (pointers into argv). The array
 * lives until the process exits. */
typedef struct cli_list {
    const char **v;
    size_t n;
} cli_list;

typedef struct cli_opt {
    const char *name; /* long name without "--"; CLI_ARG: the metavar; NULL ends */
    char short_name;  /* '-o' style alias, or 0 */
    cli_opt_kind kind;
    cli_opt_type type;
    size_t offset;       /* of the field in the options struct */
    const char *def;     /* default as text (CLI_VALUE), or NULL */
    double min, max;     /* CLI_T_INT, CLI_T_NUM: inclusive bounds */
    const char *choices; /* CLI_T_CHOICE: "a|b|c" */
    const char *metavar; /* what the value is, for help: "FILE" */
    const char *doc;     /* one line for help */
    int required;
} cli_opt;

#define CLI__F(T, f, FT) KN__PARAM_FIELD(T, f, FT)
#define CLI_OPT_FLAG(T, f, name, doc)                                                              \
    {                                                                                              \
        name, 0, CLI_FLAG, CLI_T_TEXT, CLI__F(T, f, int), NULL, 0, 0, NULL, NULL, doc, 0           \
    }
#define CLI_OPT_TEXT(T, f, name, mv, doc)                                                          \
    {                                                                                              \
        name, 0, CLI_VALUE, CLI_T_TEXT, CLI__F(T, f, const char *), NULL, 0, 0, NULL, mv, doc, 0   \
    }
#define CLI_OPT_NEED(T, f, name, mv, doc)                                                          \
    {                                                                                              \
        name, 0, CLI_VALUE, CLI_T_TEXT, CLI__F(T, f, const char *), NULL, 0, 0, NULL, mv, doc, 1   \
    }
#define CLI_OPT_INT(T, f, name, mv, def, lo, hi, doc)                                              \
    {                                                                                              \
        name, 0, CLI_VALUE, CLI_T_INT, CLI__F(T, f, int64_t), def, lo, hi, NULL, mv, doc, 0        \
    }
#define CLI_OPT_NUM(T, f, name, mv, def, lo, hi, doc)                                              \
    {                                                                                              \
        name, 0, CLI_VALUE, CLI_T_NUM, CLI__F(T, f, double), def, lo, hi, NULL, mv, doc, 0         \
    }
#define CLI_OPT_CHOICE(T, f, name, choices, doc)                                                   \
    {                                                                                              \
        name, 0, CLI_VALUE, CLI_T_CHOICE, CLI__F(T, f, const char *), NULL, 0, 0, choices, NULL,   \
            doc, 0                                                                                 \
    }
#define CLI_OPT_SEED(T, f, name, def, doc)                                                         \
    {                                                                                              \
        name, 0, CLI_VALUE, CLI_T_SEED, CLI__F(T, f, uint64_t), def, 0, 0, NULL, "S", doc, 0       \
    }
#define CLI_OPT_LIST(T, f, name, mv, doc)                                                          \
    {                                                                                              \
        name, 0, CLI_LIST, CLI_T_TEXT, CLI__F(T, f, cli_list), NULL, 0, 0, NULL, mv, doc, 0        \
    }
#define CLI_OPT_READ(T, f)                                                                         \
    {                                                                                              \
        "read", 0, CLI_LIST, CLI_T_READ, CLI__F(T, f, kn_read_opts), NULL, 0, 0, NULL,             \
            "NAME=VALUE",                                                                          \
            "a reader option, e.g. delimiter=';' or header=no (repeatable; each is also --NAME "   \
            "VALUE; "                                                                              \
            "'kiln help readers' lists them)",                                                     \
            0                                                                                      \
    }
#define CLI_OPT_ARG(T, f, mv, required, doc)                                                       \
    {                                                                                              \
        mv, 0, CLI_ARG, CLI_T_TEXT, CLI__F(T, f, const char *), NULL, 0, 0, NULL, mv, doc,         \
            required                                                                               \
    }
#define CLI_OPT_END                                                                                \
    {                                                                                              \
        NULL, 0, 0, 0, 0, NULL, 0, 0, NULL, NULL, NULL, 0                                          \
    }

/* A command: its name, options and the hand-written part of its help. */
typedef struct cli_spec {
    const char *name;
    const char *summary;  /* one line for 'kiln help' */
    const char *about;    /* what it does (paragraphs, each line ending in \n) */
    const char *examples; /* "  kiln ...\n" lines, or NULL */
    const cli_opt *opts;
    int param_reads; /* --param name=value: the deprecated spelling of --read */
    int (*run)(int argc, char **argv);
} cli_spec;

/* Fill obj (the command's options struct, zeroed by the caller) from argv
 * (argv[0] is the command's name) by spec's table: defaults first, then
 * each option; global options may stand anywhere. Errors (unknown option,
 * with the nearest name; missing value; bad or out-of-range number; an
 * option given twice; a missing required option or argument) print one
 * line naming the command and return CLI_USAGE. --help prints the help and
 * returns CLI_DONE. When `given` is not NULL, bit i says table entry i was
 * given. Applies the global options before returning CLI_OK. */
int cli_parse(const cli_spec *spec, int argc, char **argv, void *obj, uint64_t *given);
/* Whether the option `name` of spec was given (from cli_parse's `given`). */
int cli_given(const cli_spec *spec, uint64_t given, const char *name);
/* The help of a command: usage line, about, the option table, examples. */
void cli_print_help(const cli_spec *spec, FILE *fp);
/* The global options, one per line, from their table. */
void cli_print_global_options(FILE *fp);
/* Parse the global options that stand before the command name; *cmd_at is
 * set to the index of the command name (argc when none). CLI_OK or CLI_USAGE. */
int cli_parse_globals(int argc, char **argv, int *cmd_at);
/* Apply the global options (log level, threads, memory limit). */
int cli_apply_globals(void);

/* Print "kiln: <msg>" (and kn_last_error() when msg is NULL) as an error. */
void cli_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* "kiln: error: CMD: <msg>; see 'kiln help CMD'" (cmd "kiln": a global
 * option before the command); returns CLI_USAGE. */
int cli_usage_error(const char *cmd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* A library message with the flags that set the parameters it names
 * ("reader option types" -> "--types"; the table is in cli_common.c).
 * Returns a new string (free()); NULL when out of memory. */
char *cli_flag_text(const char *msg);
/* Set by commands that run a spec: library messages then name the spec's
 * keys (evaluation: cv: folds) instead of flags. */
extern int cli_spec_context;

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

/* The reader options given on the command line: bit k for the k-th of
 * kn_read_params() (cli_parse sets them; --NAME VALUE and --read NAME=VALUE). */
extern uint64_t cli_read_given;
/* o (the command's reader options) set to read new data for something
 * fitted as its training data was read: the settings recorded in artifact
 * a (its READ section), or when a is NULL in s (a steps file's; NULL or a
 * NULL text: recorded before settings were), replace o's except those the
 * command line gave; a note on stderr names each given setting that
 * overrides a different recorded one. o borrows a or s until its read ends
 * (kn_read_settings_apply). */
struct kn_artifact;
kn_status cli_read_as_trained(const char *cmd, const struct kn_artifact *a,
                              const kn_read_settings *s, kn_read_opts *o);
/* Record in model m (saved as a .kmd, format 4) the reader settings o read
 * its training rows f with, so that predict and eval replay them. */
struct kn_model;
kn_status cli_model_keep_read(struct kn_model *m, const kn_read_opts *o, const kn_frame *f);
/* Read FILE with the command's reader options as the "read" stage. */
kn_status cli_read_frame(const char *path, kn_read_opts *o, kn_frame **f, kn_read_report *rep);
/* s[0..n), a token or column of the recorded reader settings' "level="
 * lines (%-escaped: kiln/io.h, kn_read_settings_format), with its %XX
 * escapes undone into buf, cut to fit cap bytes with its NUL; returns its
 * length (an escaped NUL stays in it). */
size_t cli_read_unescape(const char *s, size_t n, char *buf, size_t cap);
json_t *cli_read_report_json(const kn_read_report *r);
void cli_print_read_report(FILE *fp, const char *path, const kn_read_report *r);
/* How pandas' read_csv reads a missing token as a text cell, for notes:
 * "; pandas reads it as NaN", ... or "" (static). */
const char *cli_token_pandas(const char *token);
struct kn_profile;
void cli_print_profile(FILE *fp, const struct kn_profile *p);

/* A model's scores as {"rows": n, name: value, ...} (new reference), and as
 * one line "what (n rows):  name value ..." on stdout for people. */
struct kn_scores;
json_t *cli_scores_json(const struct kn_scores *sc);
/* cli_print_scores, naming the column the slices (if any) are by. */
void cli_print_scores_sliced(const char *what, const struct kn_scores *s, const char *slice_by);
/* v as a JSON number, or null for NaN and infinities. */
json_t *cli_json_num(double v);
void cli_print_scores(const char *what, const struct kn_scores *s);
void cli_scores_meaning_json(json_t *j, const char *roc_auc_average, const char *positive_class);
void cli_print_scores_meaning(const char *roc_auc_average, const char *positive_class);
/* A classifier's per-class table (kn_scores.class_*): precision, recall,
 * F1 and support of each of the model's classes, as lines for people and
 * as "per_class": [{"class": label, ...}] for machines (NULL: none). */
struct kn_model;
void cli_print_per_class(const struct kn_model *m, const struct kn_scores *s);
json_t *cli_per_class_json(const struct kn_model *m, const struct kn_scores *s);
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

/* A --model value as a file path. A value naming an existing file is that
 * file; otherwise a registered model (NAME@production, NAME@staging,
 * NAME@vN, NAME) in the store cli_store_dir names (a command's --store;
 * NULL: $KILN_STORE, else ./kiln-store); errors say to give a path or a
 * registered name. *path is new (kn_free). */
extern const char *cli_store_dir;
kn_status cli_resolve_model(const char *ref, char **path);
/* Whether path is a .kiln artifact (by its name, or its first 8 bytes). */
int cli_is_artifact(const char *path);

/* The store commands (cli_store.c): open the store (an error printed and
 * CLI_FAIL when it cannot be), print kn_last_error() and close it, a time
 * as "2026-12-06 05:40:00" (UTC), and run the subcommand argv[1] among
 * subs (named "top sub"; their run gets argv from the subcommand on). */
struct kn_store;
int cli_store_open(const char *dir, int create, struct kn_store **s);
int cli_store_fail(struct kn_store *s);
const char *cli_store_time(double t, char *buf, size_t cap);
/* A run record as JSON (cmd_runs.c). New reference. */
struct kn_run_record;
json_t *cli_run_json(const struct kn_run_record *r);
extern const cli_spec runs_compare_spec;
int cli_subcommand(const cli_spec *top, const cli_spec *const *subs, size_t n, int argc,
                   char **argv);

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
int cmd_curve(int argc, char **argv);
int cmd_compare(int argc, char **argv);
int cmd_compare_models(int argc, char **argv);
int cmd_select(int argc, char **argv);
int cmd_monitor(int argc, char **argv);
int cmd_inspect(int argc, char **argv);
int cmd_run(int argc, char **argv);
int cmd_report(int argc, char **argv);
int cmd_keygen(int argc, char **argv);
int cmd_anomaly(int argc, char **argv);
/* The help's account of the label warning (cli_unsup.c's label_like). */
#define CLI_LABEL_LIKE_HELP                                                                        \
    "A numeric column that looks like a label is used as a feature, with a\n"                      \
    "warning naming it and the fix (--labels COLUMN or --ignore COLUMN): one\n"                    \
    "named target, label, class, y, outcome or response, or one named quality,\n"                  \
    "grade, rating, score, rank, churn, default, survived, fraud, species or\n"                    \
    "diagnosis that holds 2 to 20 whole numbers (fewer than half the rows); a\n"                   \
    "name matches alone or as its last _ word (wine_quality), in any case.\n"
/* kiln anomaly and kiln cluster (cli_unsup.c): the model `name` with the
 * --param values (validated when asked), CLI_OK or the exit code, printed;
 * then fitted without a target on data's rows (--ignore'd columns and the
 * labels column, when not NULL, left out), in the stage "fit". */
struct kn_model;
int cli_unsupervised_model(const char *name, const cli_list *params, int validate,
                           struct kn_model **m);
kn_status cli_unsupervised_fit(struct kn_model *m, const char *data, kn_read_opts *o,
                               const char *ignore, const char *labels, kn_frame **f);
int cmd_cluster(int argc, char **argv);
int cli_inspect_artifact(const char *path); /* cmd_inspect_kiln.c */
/* cmd_inspect.c: {name: value} of a component's parameters (defs: its
 * table) in table order, a new object; and such an object printed as
 * name=value, ... wrapped before 80 columns after `indent` columns already
 * printed, with a newline. */
json_t *cli_params_json(const kn_param_def *defs, const void *params);
void cli_print_params(const json_t *params, int indent);
int cmd_runs(int argc, char **argv);
int cmd_models(int argc, char **argv);
int cmd_lineage(int argc, char **argv);
int cmd_serve(int argc, char **argv);
int cmd_keys(int argc, char **argv);
int cmd_tune(int argc, char **argv);
extern const cli_spec tune_spec;
extern const cli_spec describe_spec, convert_spec, demo_spec, prep_spec, transform_spec,
    schema_spec, validate_spec, train_spec, predict_spec, eval_spec, cv_spec, inspect_spec;
/* one per line, so adding a command is a one-line change */
extern const cli_spec run_spec;
extern const cli_spec report_spec;
extern const cli_spec keygen_spec;
extern const cli_spec runs_spec;
extern const cli_spec models_spec;
extern const cli_spec lineage_spec;
extern const cli_spec serve_spec;
extern const cli_spec keys_spec;
extern const cli_spec curve_spec;
extern const cli_spec anomaly_spec;
extern const cli_spec cluster_spec;
extern const cli_spec compare_spec, compare_models_spec;
extern const cli_spec select_spec;
extern const cli_spec monitor_spec;

#endif
