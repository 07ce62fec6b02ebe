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
#include <string.h>
#include <unistd.h>

extern char **environ;

static const char main_usage[] = "kiln - tabular data to monitored models, in one binary\n"
                                 "\n"
                                 "usage: kiln [global options] <command> [options]\n"
                                 "\n"
                                 "commands:\n";

/* the spin count of idle OpenMP threads before they sleep (see main) */
#define KILN_GOMP_SPINCOUNT "10000"

typedef struct help_args {
    const char *topic, *name;
} help_args;
static const cli_opt help_opts[] = {
    CLI_OPT_ARG(help_args, topic, "TOPIC", 0,
                "a command, or readers, steps, models, model NAME, metrics, memory"),
    CLI_OPT_ARG(help_args, name, "NAME", 0, "the model, with 'model'"), CLI_OPT_END};
static int cmd_help(int argc, char **argv);
static const cli_spec help_spec = {"help",
                                   "explain a command",
                                   "Explain a command, or list the reader options, the steps,\n"
                                   "the models (or one model's parameters), or what\n"
                                   "--memory-limit counts.\n",
                                   "  kiln help train\n  kiln help model gbdt\n",
                                   help_opts,
                                   0,
                                   cmd_help};

static const cli_opt version_opts[] = {CLI_OPT_END};
static int cmd_version(int argc, char **argv);
static const cli_spec version_spec = {
    "version", "print the version", "Print Kiln's version.\n", NULL, version_opts, 0, cmd_version};

static int cmd_version(int argc, char **argv)
{
    char none;
    int rc = cli_parse(&version_spec, argc, argv, &none, NULL);
    if (rc) return rc < 0 ? CLI_OK : rc;
    if (cli.json)
        return cli_emit_json(
            json_pack("{s:s, s:s, s:[]}", "command", "version", "version", kn_version(), "stages"));
    printf("kiln %s\n", kn_version());
    return CLI_OK;
}

/* The commands: adding one is a cmd_NAME.c with its cli_spec, and a line here. */
/* One command per line, so adding one is a one-line change. */
// clang-format off
static const cli_spec *const commands[] = {
    &describe_spec,
    &convert_spec,
    &prep_spec,
    &transform_spec,
    &schema_spec,
    &validate_spec,
    &train_spec,
    &predict_spec,
    &eval_spec,
    &cv_spec,
    &curve_spec,
    &tune_spec,
    &anomaly_spec,
    &cluster_spec,
    &compare_spec,
    &select_spec,
    &monitor_spec,
    &run_spec,
    &inspect_spec,
    &report_spec,
    &runs_spec,
    &models_spec,
    &lineage_spec,
    &serve_spec,
    &keys_spec,
    &keygen_spec,
    &demo_spec,
    &help_spec,
    &version_spec,
};
// clang-format on
#define N_COMMANDS (sizeof commands / sizeof *commands)

static void print_main_usage(FILE *fp)
{
    fputs(main_usage, fp);
    for (size_t i = 0; i < N_COMMANDS; i++)
        fprintf(fp, "  %-10s %s\n", commands[i]->name, commands[i]->summary);
    fputs("\nglobal options (before or after the command):\n", fp);
    cli_print_global_options(fp);
    fputs("\n'kiln help <command>' explains a command; 'kiln help readers' lists reader options.\n",
          fp);
}

static void print_reader_params(void)
{
    printf("reader options (any command that reads data; --read name=value or --name value):\n");
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
    help_args a = {0};
    int rc = cli_parse(&help_spec, argc, argv, &a, NULL);
    if (rc) return rc < 0 ? CLI_OK : rc;
    if (!a.topic) {
        print_main_usage(stdout);
        return CLI_OK;
    }
    if (strcmp(a.topic, "model") && a.name) { /* a subcommand: kiln help runs compare */
        for (size_t i = 0; i < N_COMMANDS; i++)
            if (strcmp(commands[i]->name, a.topic) == 0) {
                char *sub_argv[] = {(char *)a.topic, (char *)a.name, "--help", NULL};
                return commands[i]->run(3, sub_argv);
            }
        return cli_usage_error("help", "too many arguments (%s)", a.name);
    }
    if (strcmp(a.topic, "readers") == 0 || strcmp(a.topic, "read") == 0) {
        print_reader_params();
        return CLI_OK;
    }
    if (strcmp(a.topic, "memory") == 0) {
        fputs(memory_help, stdout);
        return CLI_OK;
    }
    if (strcmp(a.topic, "steps") == 0) {
        printf("steps (kiln prep --step NAME:param=value;...):\n");
        print_components(KN_COMP_STEP, NULL);
        return CLI_OK;
    }
    if (strcmp(a.topic, "metrics") == 0) {
        printf("metrics (kiln cv --metrics a,b; kiln tune --metric; a run spec's evaluation: "
               "metrics: [..]):\n");
        for (size_t i = 0; i < kn_registry_count(); i++) {
            const kn_component *c = kn_registry_at(i);
            if (c->kind == KN_COMP_METRIC) printf("  %-26s %s\n", c->name, c->doc);
        }
        return CLI_OK;
    }
    if (strcmp(a.topic, "models") == 0 || (strcmp(a.topic, "model") == 0 && !a.name)) {
        printf("models (kiln train --model NAME --param name=value ...; the registry of "
               "trained models is 'kiln models --help'):\n");
        print_components(KN_COMP_MODEL, NULL);
        return CLI_OK;
    }
    if (strcmp(a.topic, "model") == 0) {
        if (print_components(KN_COMP_MODEL, a.name)) return CLI_OK;
        cli_error("no model named '%s'; 'kiln help models' lists them", a.name);
        return CLI_USAGE;
    }
    for (size_t i = 0; i < N_COMMANDS; i++)
        if (strcmp(commands[i]->name, a.topic) == 0) {
            cli_print_help(commands[i], stdout);
            return CLI_OK;
        }
    cli_error("no command named '%s'; 'kiln help' lists them", a.topic);
    return CLI_USAGE;
}

static void log_sink(kn_log_level level, const char *msg, void *user)
{
    (void)user;
    cli_progress_done(); /* a log line replaces a progress line */
    char *text = cli_flag_text(msg);
    if (cli.log_json)
        cli_log_json(
            json_pack("{s:s, s:s}", "level", kn_log_level_name(level), "msg", text ? text : msg));
    else
        fprintf(stderr, "kiln: %s: %s\n", kn_log_level_name(level), text ? text : msg);
    free(text);
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

/* OpenMP's idle threads spin on their CPU between parallel regions (libgomp:
 * up to 300,000 spins) before they sleep. On a machine where other work runs,
 * a spinning thread takes the CPU from the thread that holds the work, and a
 * fit with many short regions (small data, per-node histograms) slows several
 * times (measured, docs/PERFORMANCE.md: gbdt on 4,000 x 50 at 2 threads 2-6 s
 * spinning, 0.5 s sleeping, while a compiler ran). So unless the user chose
 * (OMP_WAIT_POLICY, GOMP_SPINCOUNT), the binary runs with a short spin.
 * Likewise OpenBLAS, which the binary runs on one thread (blas_single_thread
 * below): unless OPENBLAS_NUM_THREADS is set, its constructor starts a server
 * thread per further core, which spins (sched_yield) for about 0.1 s after
 * start-up: a third of the CPU time of a 178-row run.
 *
 * Both libraries read their settings from the environment in their ELF
 * constructors, before main, and the C library installs the environment
 * array it was started with only after the executable's pre-initialisers
 * (.preinit_array: they run before any library's constructor), so a setenv()
 * there is lost. What a pre-initialiser can do is change the entries of that
 * array: kiln lends the slots of variables no library reads at start-up
 * (below) to the two settings and gives them back first thing in main, so
 * the libraries load once, with the settings (before, kiln ran itself again:
 * a second start of its ~50 libraries, 35-40 ms CPU per command). Where no
 * such slot is free (an empty environment), main runs itself again with the
 * settings set, as before. A library user sets these for its own process. */
static const char *const lendable[] = {"_=", "SHLVL=", "OLDPWD=", "PWD=", "SHELL=", "TERM="};

enum { LENT_SPIN, LENT_BLAS, N_LENT };
static struct {
    char **slot;      /* the environment entry lent, NULL when none */
    char *owner;      /* its own text, put back in main */
    const char *text; /* the setting it held meanwhile */
} lent[N_LENT];
static int preinit_ran; /* lend_env_slots ran (a platform may have no pre-initialisers) */
static int need_spin;   /* the wait policy was not chosen and no slot was lent */

static int env_has(char **envp, const char *prefix)
{
    size_t n = strlen(prefix);
    for (char **e = envp; e && *e; e++)
        if (!strncmp(*e, prefix, n)) return 1;
    return 0;
}

static void lend_env_slots(int argc, char **argv, char **envp)
{
    (void)argc;
    (void)argv;
    static char spin[] = "GOMP_SPINCOUNT=" KILN_GOMP_SPINCOUNT;
    static char blas[] = "OPENBLAS_NUM_THREADS=1";
    int want[N_LENT] = {!env_has(envp, "OMP_WAIT_POLICY=") && !env_has(envp, "GOMP_SPINCOUNT="),
                        !env_has(envp, "OPENBLAS_NUM_THREADS=")};
    char *text[N_LENT] = {spin, blas};
    preinit_ran = 1;
    need_spin = want[LENT_SPIN];
    size_t next = 0;
    for (int k = 0; k < N_LENT; k++) {
        if (!want[k]) continue;
        for (; next < sizeof lendable / sizeof *lendable && !lent[k].slot; next++)
            for (char **e = envp; e && *e; e++)
                if (!strncmp(*e, lendable[next], strlen(lendable[next]))) {
                    lent[k].slot = e;
                    lent[k].owner = *e;
                    lent[k].text = text[k];
                    *e = text[k];
                    break;
                }
        if (k == LENT_SPIN && lent[k].slot) need_spin = 0;
    }
}

/* glibc runs the executable's pre-initialisers before every library's
 * constructor (an ASan build's own comes first); where they are not run at
 * all, preinit_ran stays 0 and main starts again as it used to. */
__attribute__((used, section(".preinit_array"))) static void (*const lend_env_at_start)(
    int, char **, char **) = lend_env_slots;

/* Puts the lent entries back, wherever the environment array is by now (a
 * constructor's setenv() may have copied it). */
static void return_env_slots(void)
{
    for (int k = 0; k < N_LENT; k++) {
        if (!lent[k].slot) continue;
        for (char **e = environ; e && *e; e++)
            if (*e == lent[k].text) *e = lent[k].owner;
        if (*lent[k].slot == lent[k].text) *lent[k].slot = lent[k].owner;
        lent[k].slot = NULL;
    }
}

/* Where no slot could be lent: the settings go into the environment and the
 * binary runs itself again (libgomp reads them when it loads), once.
 * Commands that open no parallel region skip that second start. The first
 * word not an option is taken as the command; a global option's value there
 * only means running again. */
static void choose_openmp_wait_policy(char **argv)
{
    static const char *const serial[] = {"runs", "models", "lineage", "keys", "version", "help"};
    if (preinit_ran && !need_spin) return;
    for (char **a = argv + 1; *a; a++)
        if ((*a)[0] != '-') {
            for (size_t i = 0; i < sizeof serial / sizeof *serial; i++)
                if (!strcmp(*a, serial[i])) return;
            break;
        }
    if (getenv("OMP_WAIT_POLICY") || getenv("GOMP_SPINCOUNT")) return;
    if (setenv("GOMP_SPINCOUNT", KILN_GOMP_SPINCOUNT, 1) != 0) return;
    if (!getenv("OPENBLAS_NUM_THREADS")) setenv("OPENBLAS_NUM_THREADS", "1", 1);
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
    return_env_slots();
    choose_openmp_wait_policy(argv);
    kn_mem_tune_process();
    blas_single_thread();
    kn_init();
    kn_log_set(log_sink, NULL);
    kn_progress_set_sink(cli_fit_progress, NULL);
    /* the commands a command suggests run as this one was run: after make
     * demo that is build/kiln, which is not on PATH */
    cli.program = argc > 0 && strchr(argv[0], '/') ? argv[0] : "kiln";
    int at = argc;
    if (cli_parse_globals(argc, argv, &at) != CLI_OK) return CLI_USAGE;
    remove_temp_files_on_signals();
    if (cli.version) {
        cli.version = 0;
        return cmd_version(1, (char *[]){"version", NULL});
    }
    if (at >= argc) {
        if (cli.help) {
            print_main_usage(stdout);
            return CLI_OK;
        }
        print_main_usage(stderr);
        return CLI_USAGE;
    }
    for (size_t i = 0; i < N_COMMANDS; i++)
        if (strcmp(commands[i]->name, argv[at]) == 0) {
            int rc = commands[i]->run(argc - at, argv + at);
            cli_progress_done();
            return rc;
        }
    cli_error("unknown command '%s'; 'kiln help' lists the commands", argv[at]);
    return CLI_USAGE;
}
