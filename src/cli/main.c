/* kiln: the command line. Global options may stand anywhere on the line. */
#include "cli/cli.h"
#include "kiln/init.h"
#include "kiln/tempfile.h"
#include "kiln/log.h"
#include "kiln/mem.h"
#include "kiln/registry.h"

#include <cblas.h>
#include <signal.h>
#include <stdlib.h>
#ifdef _OPENMP
#include <omp.h>
#endif
#include <string.h>
#include <unistd.h>

static const char main_usage[] =
    "kiln - tabular data to monitored models, in one binary\n"
    "\n"
    "usage: kiln [global options] <command> [options]\n"
    "\n"
    "commands:\n"
    "%s"
    "\n"
    "global options:\n"
    "  --json               machine-readable output (JSON) on stdout\n"
    "  -q, --quiet          no progress bar, only warnings and errors\n"
    "  -v, --verbose        debug logging\n"
    "  --log-format F       human (default) or json (JSON Lines on stderr)\n"
    "  --memory-limit SIZE  fail cleanly (KN_ERR_NOMEM) instead of allocating more than\n"
    "                       SIZE (e.g. 2G, 512M; also KILN_MEMORY_LIMIT); what it does\n"
    "                       not count: 'kiln help memory'\n"
    "  --threads N          worker threads (default: all cores)\n"
    "  --version            print the version\n"
    "\n"
    "'kiln help <command>' explains a command; 'kiln help readers' lists reader options.\n";

/* the spin count of idle OpenMP threads before they sleep (see main) */
#define KILN_GOMP_SPINCOUNT "10000"

static int cmd_help(int argc, char **argv);
static int cmd_version(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    if (cli.json)
        return cli_emit_json(
            json_pack("{s:s, s:s, s:[]}", "command", "version", "version", kn_version(), "stages"));
    printf("kiln %s\n", kn_version());
    return CLI_OK;
}

static const cli_command commands[] = {
    {"describe", "profile a data file: types, missing values, statistics, warnings", describe_usage,
     cmd_describe},
    {"convert", "convert between CSV, ARFF, LIBSVM, JSON Lines and .kfr", convert_usage,
     cmd_convert},
    {"prep", "fit preparation steps, or run a prep spec (sources, joins, validation)", prep_usage,
     cmd_prep},
    {"transform", "apply steps saved by 'kiln prep --save' to new data", transform_usage,
     cmd_transform},
    {"schema", "infer a data contract (YAML) from data", schema_usage, cmd_schema},
    {"validate", "check data against a schema; drop or quarantine offending rows", validate_usage,
     cmd_validate},
    {"train", "fit a model on a data file and save it", train_usage, cmd_train},
    {"predict", "apply a saved model to a data file", predict_usage, cmd_predict},
    {"eval", "score a saved model on labelled data", eval_usage, cmd_eval},
    {"cv", "cross-validate a model (steps fitted inside each fold)", cv_usage, cmd_cv},
    {"inspect", "show what a model, steps or frame file holds", inspect_usage, cmd_inspect},
    {"demo", "generate a demo dataset and describe it", demo_usage, cmd_demo},
    {"help", "explain a command",
     "usage: kiln help [command|readers|steps|models|model NAME|memory]\n", cmd_help},
    {"version", "print the version", "usage: kiln version\n", cmd_version},
};
#define N_COMMANDS (sizeof commands / sizeof *commands)

static void print_main_usage(FILE *fp)
{
    char list[2048] = "";
    size_t used = 0;
    for (size_t i = 0; i < N_COMMANDS; i++)
        used += (size_t)snprintf(list + used, sizeof list - used, "  %-10s %s\n", commands[i].name,
                                 commands[i].summary);
    fprintf(fp, main_usage, list);
}

static void print_reader_params(void)
{
    printf("reader options (any command that reads data; --name value or --param name=value):\n");
    for (const kn_param_def *d = kn_read_params(); d->name; d++) {
        char opt[64];
        snprintf(opt, sizeof opt, "--%s", d->name);
        for (char *p = opt + 2; *p; p++)
            if (*p == '_') *p = '-';
        printf("  %-18s %-7s %s", opt, kn_param_type_name(d->type), d->doc);
        if (d->type == KN_PARAM_T_ENUM) printf(" (%s)", d->choices);
        printf(" [default: %s]\n", d->def[0] ? d->def : "\"\"");
    }
    printf("\nformats:\n");
    for (size_t i = 0; i < kn_registry_count(); i++) {
        const kn_component *c = kn_registry_at(i);
        if (c->kind == KN_COMP_READER) printf("  %-8s %s\n", c->name, c->doc);
    }
}

/* Components of a kind (only the one named `only`, when not NULL) with their
 * parameter tables. Returns how many were printed. */
static size_t print_components(kn_component_kind kind, const char *only)
{
    size_t shown = 0;
    for (size_t i = 0; i < kn_registry_count(); i++) {
        const kn_component *c = kn_registry_at(i);
        if (c->kind != kind || (only && strcmp(c->name, only))) continue;
        shown++;
        printf("\n  %s: %s\n", c->name, c->doc);
        int width = 14; /* names aligned in a column as wide as the longest */
        for (const kn_param_def *d = c->params; d && d->name; d++)
            if ((int)strlen(d->name) > width) width = (int)strlen(d->name);
        for (const kn_param_def *d = c->params; d && d->name; d++) {
            printf("    %-*s %-7s %s", width, d->name, kn_param_type_name(d->type), d->doc);
            if (d->type == KN_PARAM_T_ENUM) printf(" (%s)", d->choices);
            printf(" [default: %s]\n", d->def[0] ? d->def : "\"\"");
        }
    }
    return shown;
}

static const char memory_help[] =
    "--memory-limit SIZE (or KILN_MEMORY_LIMIT=SIZE; e.g. 512M, 2G)\n"
    "\n"
    "The limit bounds the memory Kiln allocates for its own data: frames and\n"
    "columns, dictionaries, prepared features, bins and histograms, trees, model\n"
    "and step buffers, cross-validation folds. An allocation that would take that\n"
    "total past SIZE fails: the command stops with an out-of-memory error naming\n"
    "its stage, and no output file is left half written.\n"
    "\n"
    "Not counted, so the process's resident size (RSS) can exceed SIZE by:\n"
    "  - the program, its libraries and its threads' stacks (about 15 MB);\n"
    "  - the pages of the input file while it is read: the reader maps the file,\n"
    "    so up to its size (the kernel can drop them again under pressure);\n"
    "  - what libraries allocate themselves: OpenBLAS work buffers (linear models,\n"
    "    PCA, kNN), jansson (--json output, profiles), libyaml (specs), zstd (.kfr),\n"
    "    SQLite, libpq and libcurl (sources);\n"
    "  - memory the C allocator keeps after Kiln frees it (a few MB per thread).\n"
    "Measured (tests/integration/test_memory_limit.sh checks it on every run):\n"
    "peak RSS <= SIZE + the input file's size + 48 MB for describe, convert,\n"
    "train and cv. The stage records (--json 'stages') give each stage's peak\n"
    "RSS beside Kiln's own peak ('peak_alloc_bytes').\n";

static int cmd_help(int argc, char **argv)
{
    if (argc < 2) {
        print_main_usage(stdout);
        return CLI_OK;
    }
    if (strcmp(argv[1], "readers") == 0 || strcmp(argv[1], "read") == 0) {
        print_reader_params();
        return CLI_OK;
    }
    if (strcmp(argv[1], "memory") == 0) {
        fputs(memory_help, stdout);
        return CLI_OK;
    }
    if (strcmp(argv[1], "steps") == 0) {
        printf("steps (kiln prep --step NAME:param=value;...):\n");
        print_components(KN_COMP_STEP, NULL);
        return CLI_OK;
    }
    if (strcmp(argv[1], "models") == 0 || (strcmp(argv[1], "model") == 0 && argc < 3)) {
        printf("models (kiln train --model NAME --param name=value ...):\n");
        print_components(KN_COMP_MODEL, NULL);
        return CLI_OK;
    }
    if (strcmp(argv[1], "model") == 0) {
        if (print_components(KN_COMP_MODEL, argv[2])) return CLI_OK;
        cli_error("no model named '%s'; 'kiln help models' lists them", argv[2]);
        return CLI_USAGE;
    }
    for (size_t i = 0; i < N_COMMANDS; i++)
        if (strcmp(commands[i].name, argv[1]) == 0) {
            fputs(commands[i].usage, stdout);
            return CLI_OK;
        }
    cli_error("no command named '%s'; 'kiln help' lists them", argv[1]);
    return CLI_USAGE;
}

static void log_sink(kn_log_level level, const char *msg, void *user)
{
    (void)user;
    cli_progress_done(); /* a log line replaces a progress line */
    if (cli.log_json) {
        cli_log_json(json_pack("{s:s, s:s}", "level", kn_log_level_name(level), "msg", msg));
        return;
    }
    fprintf(stderr, "kiln: %s: %s\n", kn_log_level_name(level), msg);
}

/* SIGINT, SIGTERM, SIGHUP: remove the temporary files of writes in
 * progress (their targets keep their old contents), then die of the signal
 * as the shell expects (exit status 128 + signal). */
static void on_fatal_signal(int sig)
{
    kn_temp_remove_all();
    signal(sig, SIG_DFL);
    raise(sig);
}

static void remove_temp_files_on_signals(void)
{
    const int sigs[] = {SIGINT, SIGTERM, SIGHUP};
    for (size_t i = 0; i < sizeof sigs / sizeof *sigs; i++) {
        struct sigaction sa, old;
        memset(&sa, 0, sizeof sa);
        sa.sa_handler = on_fatal_signal;
        sigemptyset(&sa.sa_mask);
        /* a signal ignored by the parent (nohup, background jobs) stays ignored */
        if (sigaction(sigs[i], NULL, &old) == 0 && old.sa_handler != SIG_IGN)
            sigaction(sigs[i], &sa, NULL);
    }
}

/* Take the global options out of argv (they may stand anywhere). */
static int parse_globals(int *argc, char **argv)
{
    int out = 1;
    const char *limit = getenv("KILN_MEMORY_LIMIT");
    for (int i = 1; i < *argc; i++) {
        const char *a = argv[i];
        if (!strcmp(a, "--json"))
            cli.json = 1;
        else if (!strcmp(a, "-q") || !strcmp(a, "--quiet"))
            cli.quiet = 1;
        else if (!strcmp(a, "-v") || !strcmp(a, "--verbose"))
            cli.verbose = 1;
        else if (!strcmp(a, "--version"))
            argv[out++] = "version";
        else if (!strcmp(a, "-h") || !strcmp(a, "--help"))
            argv[out++] = "help";
        else if (!strcmp(a, "--log-format") || !strncmp(a, "--log-format=", 13)) {
            const char *v = a[12] == '=' ? a + 13 : (i + 1 < *argc ? argv[++i] : "");
            if (!strcmp(v, "json"))
                cli.log_json = 1;
            else if (!strcmp(v, "human"))
                cli.log_json = 0;
            else {
                cli_error("--log-format must be human or json, got '%s'", v);
                return -1;
            }
        } else if (!strcmp(a, "--memory-limit") || !strncmp(a, "--memory-limit=", 15)) {
            limit = a[14] == '=' ? a + 15 : (i + 1 < *argc ? argv[++i] : "");
        } else if (!strcmp(a, "--threads") || !strncmp(a, "--threads=", 10)) {
            const char *v = a[9] == '=' ? a + 10 : (i + 1 < *argc ? argv[++i] : "");
            char *end;
            long n = strtol(v, &end, 10);
            if (!*v || *end || n < 0 || n > 1024) {
                cli_error("--threads expects a number from 0 to 1024, got '%s'", v);
                return -1;
            }
            cli.threads = n;
        } else
            argv[out++] = argv[i];
    }
    *argc = out;
    argv[out] = NULL;
    if (limit && *limit) {
        uint64_t bytes;
        if (kn_mem_parse_size(limit, &bytes) != KN_OK) {
            cli_error("memory limit: %s", kn_last_error());
            return -1;
        }
        kn_mem_set_limit(bytes);
    }
    return 0;
}

/* OpenMP's idle threads spin on their CPU between parallel regions (libgomp:
 * up to 300,000 spins) before they sleep. On a machine where other work runs,
 * a spinning thread takes the CPU from the thread that holds the work, and a
 * fit with many short regions (small data, per-node histograms) slows several
 * times (measured, docs/PERFORMANCE.md: gbdt on 4,000 x 50 at 2 threads 2-6 s
 * spinning, 0.5 s sleeping, while a compiler ran). libgomp reads its policy
 * once, when it loads, before main: so unless the user chose one
 * (OMP_WAIT_POLICY, GOMP_SPINCOUNT), the binary runs itself again once with
 * a short spin. A library user sets these variables for its own process. */
static void choose_openmp_wait_policy(char **argv)
{
    if (getenv("OMP_WAIT_POLICY") || getenv("GOMP_SPINCOUNT")) return;
    if (setenv("GOMP_SPINCOUNT", KILN_GOMP_SPINCOUNT, 1) != 0) return;
    execv("/proc/self/exe", argv); /* returns only on failure: go on as we are */
}

/* Kiln parallelises with OpenMP: over row blocks around BLAS calls, over
 * folds, over trees. OpenBLAS's own threads fight those (two callers at
 * once spin on its server lock: a multinomial fit on Fashion-MNIST took
 * minutes instead of seconds), so the kiln binary runs BLAS on one thread
 * unless OPENBLAS_NUM_THREADS says otherwise. It is a setting of the whole
 * process, so the library leaves it to the application. */
static void blas_single_thread(void)
{
    if (!getenv("OPENBLAS_NUM_THREADS")) openblas_set_num_threads(1);
}

int main(int argc, char **argv)
{
    choose_openmp_wait_policy(argv);
    kn_mem_tune_process();
    blas_single_thread();
    kn_init();
    if (parse_globals(&argc, argv) != 0) return CLI_USAGE;
    remove_temp_files_on_signals();
#ifdef _OPENMP
    /* --threads is the budget of every parallel region, nested ones
     * included (cross-validation divides it among its folds) */
    if (cli.threads > 0) omp_set_num_threads((int)cli.threads);
#endif
    kn_log_set(log_sink, NULL);
    kn_progress_set_sink(cli_fit_progress, NULL);
    kn_log_set_level(cli.verbose ? KN_LOG_DEBUG : cli.quiet ? KN_LOG_WARN : KN_LOG_INFO);
    if (argc < 2) {
        print_main_usage(stderr);
        return CLI_USAGE;
    }
    for (size_t i = 0; i < N_COMMANDS; i++)
        if (strcmp(commands[i].name, argv[1]) == 0) {
            int rc = commands[i].run(argc - 1, argv + 1);
            cli_progress_done();
            return rc;
        }
    cli_error("unknown command '%s'; 'kiln help' lists the commands", argv[1]);
    return CLI_USAGE;
}
