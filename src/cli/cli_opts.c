/* Options as tables: one parser and one help printer for every command
 * (the tables are in the cmd_*.c files, the global options here). */
#include "cli/cli.h"
#include "kiln/log.h"
#include "kiln/mem.h"
#include "kiln/names.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#ifdef _OPENMP
#include <omp.h>
#endif

#define G(f) offsetof(cli_globals, f)
static const cli_opt global_opts[] = {
    {"json", 0, CLI_FLAG, CLI_T_TEXT, G(json), NULL, 0, 0, NULL, NULL,
     "machine-readable output (JSON) on stdout", 0},
    {"quiet", 'q', CLI_FLAG, CLI_T_TEXT, G(quiet), NULL, 0, 0, NULL, NULL,
     "no progress bar, only warnings and errors", 0},
    {"verbose", 'v', CLI_FLAG, CLI_T_TEXT, G(verbose), NULL, 0, 0, NULL, NULL, "debug logging", 0},
    {"log-format", 0, CLI_VALUE, CLI_T_CHOICE, G(log_format), NULL, 0, 0, "human|json", "F",
     "human (default) or json (JSON Lines on stderr)", 0},
    {"memory-limit", 0, CLI_VALUE, CLI_T_TEXT, G(memory_limit), NULL, 0, 0, NULL, "SIZE",
     "fail cleanly (KN_ERR_NOMEM) instead of allocating more than SIZE (e.g. 2G, 512M; also "
     "KILN_MEMORY_LIMIT); what it does not count: 'kiln help memory'",
     0},
    {"threads", 0, CLI_VALUE, CLI_T_INT, G(threads), NULL, 0, 1024, NULL, "N",
     "worker threads (default: all cores)", 0},
    {"version", 0, CLI_FLAG, CLI_T_TEXT, G(version), NULL, 0, 0, NULL, NULL, "print the version",
     0},
    {"help", 'h', CLI_FLAG, CLI_T_TEXT, G(help), NULL, 0, 0, NULL, NULL, "print the help", 0},
    CLI_OPT_END};
#undef G

/* ---- the arrays of repeatable options: freed when the process exits ---- */

static void **list_arrays;
static size_t n_list_arrays;

static void free_lists(void)
{
    for (size_t i = 0; i < n_list_arrays; i++) free(list_arrays[i]);
    free(list_arrays);
    list_arrays = NULL;
    n_list_arrays = 0;
}

/* Append v to the list; 0, or -1 when out of memory. Every list grows by
 * doubling, so a power-of-two length from 4 up means "full". */
static int list_push(cli_list *l, const char *v)
{
    if (!l->v) {
        void **reg = realloc(list_arrays, (n_list_arrays + 1) * sizeof *reg);
        if (!reg) return -1;
        list_arrays = reg;
        if (n_list_arrays == 0) atexit(free_lists);
        l->v = malloc(4 * sizeof *l->v);
        if (!l->v) return -1;
        l->n = 0;
        list_arrays[n_list_arrays++] = (void *)l->v;
    } else if (l->n >= 4 && (l->n & (l->n - 1)) == 0) {
        size_t at = 0;
        while (at < n_list_arrays && list_arrays[at] != (void *)l->v) at++;
        const char **v2 = at < n_list_arrays ? realloc((void *)l->v, 2 * l->n * sizeof *v2) : NULL;
        if (!v2) return -1;
        list_arrays[at] = (void *)v2;
        l->v = v2;
    }
    l->v[l->n++] = v;
    return 0;
}

uint64_t cli_read_given;

/* ---- names ---- */

/* Whether opt[0..len) names the parameter `name`, '-' standing for '_'. */
static int same_reader_option(const char *name, const char *opt, size_t len)
{
    for (size_t k = 0; k < len; k++)
        if (name[k] != (opt[k] == '-' ? '_' : opt[k])) return 0; /* stops at name's NUL */
    return name[len] == '\0';
}

static const cli_opt *find_long(const cli_opt *t, const char *name, size_t len)
{
    for (; t->name; t++)
        if (t->kind != CLI_ARG && strlen(t->name) == len && !strncmp(t->name, name, len)) return t;
    return NULL;
}

static const cli_opt *find_short(const cli_opt *t, char c)
{
    for (; t->name; t++)
        if (t->kind != CLI_ARG && t->short_name && t->short_name == c) return t;
    return NULL;
}

static const cli_opt *read_entry(const cli_opt *t)
{
    for (; t->name; t++)
        if (t->type == CLI_T_READ) return t;
    return NULL;
}

typedef struct suggestion {
    const char *typed;
    char best[64];
    size_t dist;
} suggestion;

static void consider(suggestion *s, const char *name)
{
    size_t d = kn_name_distance(s->typed, name);
    if (d < s->dist) {
        s->dist = d;
        snprintf(s->best, sizeof s->best, "%s", name);
    }
}

static void consider_table(suggestion *s, const cli_opt *t)
{
    for (; t->name; t++)
        if (t->kind != CLI_ARG) consider(s, t->name);
}

static int unknown_option(const cli_spec *spec, const char *arg)
{
    char typed[64];
    const char *eq = strchr(arg, '=');
    size_t len = eq ? (size_t)(eq - arg) : strlen(arg);
    snprintf(typed, sizeof typed, "%.*s", (int)len, arg);
    suggestion s = {typed + strspn(typed, "-"), "", (size_t)-1};
    consider_table(&s, spec->opts);
    consider_table(&s, global_opts);
    if (read_entry(spec->opts))
        for (const kn_param_def *d = kn_read_params(); d->name; d++) {
            char name[64];
            snprintf(name, sizeof name, "%s", d->name);
            for (char *p = name; *p; p++)
                if (*p == '_') *p = '-';
            consider(&s, name);
        }
    if (s.best[0] && kn_name_is_close(s.typed, s.dist)) {
        cli_error("%s: unknown option %s; did you mean --%s?", spec->name, typed, s.best);
        return CLI_USAGE;
    }
    return cli_usage_error(spec->name, "unknown option %s", typed);
}

/* Whether a names a YAML file (.yaml or .yml, any case). */
static int is_yaml(const char *a)
{
    size_t n = strlen(a);
    return (n > 5 && !strcasecmp(a + n - 5, ".yaml")) || (n > 4 && !strcasecmp(a + n - 4, ".yml"));
}

/* "--name" or "-n" as the user would write the option. */
static void option_text(const cli_opt *o, char *buf, size_t cap)
{
    if (o->kind == CLI_ARG)
        snprintf(buf, cap, "%s", o->name);
    else
        snprintf(buf, cap, "--%s", o->name);
}

/* ---- values ---- */

static int set_value(const cli_spec *spec, const cli_opt *o, void *obj, const char *v)
{
    char opt[80];
    option_text(o, opt, sizeof opt);
    char *field = (char *)obj + o->offset;
    switch (o->type) {
    case CLI_T_TEXT:
        if (o->kind == CLI_LIST) {
            if (list_push((cli_list *)(void *)field, v) != 0) {
                cli_error("out of memory");
                return CLI_FAIL;
            }
        } else
            memcpy(field, &v, sizeof v);
        return CLI_OK;
    case CLI_T_INT:
    case CLI_T_NUM:
    case CLI_T_CHOICE: {
        /* the parameter machinery checks the type and the bounds */
        int64_t i64;
        double num;
        int pick;
        void *into = o->type == CLI_T_INT   ? (void *)&i64
                     : o->type == CLI_T_NUM ? (void *)&num
                                            : (void *)&pick;
        const kn_param_def def[2] = {{o->name,
                                      o->type == CLI_T_INT   ? KN_PARAM_T_INT
                                      : o->type == CLI_T_NUM ? KN_PARAM_T_DOUBLE
                                                             : KN_PARAM_T_ENUM,
                                      0, "", o->min, o->max, o->choices, o->doc, NULL},
                                     KN_PARAM_END};
        kn_status s = kn_param_set_value(def, into, o->name, v);
        if (s == KN_ERR_RANGE)
            return cli_usage_error(spec->name, "%s %s: must be between %.15g and %.15g", opt, v,
                                   o->min, o->max);
        if (s != KN_OK && o->type == CLI_T_CHOICE) {
            char list[256];
            snprintf(list, sizeof list, "%s", o->choices);
            for (char *p = list; *p; p++)
                if (*p == '|') *p = ',';
            return cli_usage_error(spec->name, "%s %s: must be one of %s", opt, v, list);
        }
        if (s != KN_OK)
            return cli_usage_error(spec->name, "%s %s: must be %s from %.15g to %.15g", opt, v,
                                   o->type == CLI_T_INT ? "a whole number" : "a number", o->min,
                                   o->max);
        if (o->type == CLI_T_INT)
            memcpy(field, &i64, sizeof i64);
        else if (o->type == CLI_T_NUM)
            memcpy(field, &num, sizeof num);
        else
            memcpy(field, &v, sizeof v);
        return CLI_OK;
    }
    case CLI_T_SEED: {
        char *end;
        errno = 0;
        unsigned long long x = strtoull(v, &end, 10);
        if (!*v || *end || *v == '-' || *v == '+' || *v == ' ' || errno == ERANGE)
            return cli_usage_error(spec->name,
                                   "%s %s: must be a whole number from 0 to "
                                   "18446744073709551615",
                                   opt, v);
        uint64_t u = (uint64_t)x;
        memcpy(field, &u, sizeof u);
        return CLI_OK;
    }
    case CLI_T_READ: {
        kn_read_opts *ro = (kn_read_opts *)(void *)field;
        if (kn_param_set(kn_read_params(), ro, v) != KN_OK)
            return cli_usage_error(spec->name, "%s %s: %s", opt, v, kn_last_error());
        const char *eq = strchr(v, '=');
        size_t k = 0;
        for (const kn_param_def *d = kn_read_params(); eq && d->name; d++, k++)
            if (same_reader_option(d->name, v, (size_t)(eq - v)) && k < 64)
                cli_read_given |= (uint64_t)1 << k;
        return CLI_OK;
    }
    }
    return CLI_FAIL;
}

static int set_defaults(const cli_spec *spec, const cli_opt *t, void *obj)
{
    for (; t->name; t++) {
        if (t->type == CLI_T_READ)
            kn_read_opts_default((kn_read_opts *)(void *)((char *)obj + t->offset));
        if (t->kind == CLI_VALUE && t->def && set_value(spec, t, obj, t->def) != CLI_OK)
            return CLI_FAIL;
    }
    return CLI_OK;
}

/* ---- the parser ---- */

int cli_given(const cli_spec *spec, uint64_t given, const char *name)
{
    for (size_t i = 0; spec->opts[i].name && i < 64; i++)
        if (!strcmp(spec->opts[i].name, name)) return (given >> i) & 1;
    return 0;
}

/* The option `arg` (argv[*i]) of the table t over obj; *seen counts what
 * was given (bit per entry). Returns CLI_OK, or an error printed. */
static int take(const cli_spec *spec, const cli_opt *t, const cli_opt *o, void *obj, int argc,
                char **argv, int *i, const char *inline_value, uint64_t *seen, int repeat_ok)
{
    char opt[80];
    option_text(o, opt, sizeof opt);
    size_t bit = (size_t)(o - t);
    if (!repeat_ok && o->kind != CLI_LIST && bit < 64 && ((*seen >> bit) & 1))
        return cli_usage_error(spec->name, "%s given twice; it takes one value", opt);
    if (bit < 64) *seen |= (uint64_t)1 << bit;
    if (o->kind == CLI_FLAG) {
        if (inline_value) return cli_usage_error(spec->name, "%s takes no value", opt);
        int one = 1;
        memcpy((char *)obj + o->offset, &one, sizeof one);
        return CLI_OK;
    }
    const char *v = inline_value;
    if (!v) {
        const char *next = *i + 1 < argc ? argv[*i + 1] : NULL;
        if (!next || (next[0] == '-' && next[1] == '-' && next[2]))
            return cli_usage_error(spec->name, "%s needs a value (%s)", opt,
                                   o->metavar ? o->metavar : "VALUE");
        v = next;
        ++*i;
    }
    return set_value(spec, o, obj, v);
}

/* A reader option given as --NAME VALUE (dashes or underscores), or as the
 * deprecated --param NAME=VALUE. 1: taken, 0: not a reader option, -1: error. */
static int take_reader_flag(const cli_spec *spec, const cli_opt *r, void *obj, int argc,
                            char **argv, int *i, const char *name, size_t len,
                            const char *inline_value, uint32_t *seen)
{
    kn_read_opts *ro = (kn_read_opts *)(void *)((char *)obj + r->offset);
    if (spec->param_reads && len == 5 && !strncmp(name, "param", 5)) {
        const char *v = inline_value;
        if (!v && (*i + 1 >= argc || !strncmp(argv[*i + 1], "--", 2))) {
            cli_usage_error(spec->name, "--param needs a value (NAME=VALUE)");
            return -1;
        }
        if (!v) v = argv[++*i];
        kn_log(KN_LOG_WARN, "%s: --param for reader options is deprecated; use --read %s",
               spec->name, v);
        return set_value(spec, r, obj, v) == CLI_OK ? 1 : -1;
    }
    size_t k = 0;
    const kn_param_def *d = kn_read_params();
    for (; d->name && !same_reader_option(d->name, name, len); d++, k++) continue;
    if (!d->name) return 0;
    if (k < 32 && ((*seen >> k) & 1)) {
        cli_usage_error(spec->name, "--%.*s given twice; it takes one value", (int)len, name);
        return -1;
    }
    if (k < 32) *seen |= (uint32_t)1 << k;
    const char *v = inline_value;
    if (!v) {
        if (*i + 1 >= argc ||
            (argv[*i + 1][0] == '-' && argv[*i + 1][1] == '-' && argv[*i + 1][2])) {
            cli_usage_error(spec->name, "--%.*s needs a value", (int)len, name);
            return -1;
        }
        v = argv[++*i];
    }
    if (kn_param_set_value(kn_read_params(), ro, d->name, v) != KN_OK) {
        cli_usage_error(spec->name, "--%.*s %s: %s", (int)len, name, v, kn_last_error());
        return -1;
    }
    if (k < 64) cli_read_given |= (uint64_t)1 << k;
    return 1;
}

int cli_parse(const cli_spec *spec, int argc, char **argv, void *obj, uint64_t *given)
{
    uint64_t seen = 0, gseen = 0;
    uint32_t rseen = 0;
    int only_args = 0, rc = set_defaults(spec, spec->opts, obj);
    const cli_opt *args = spec->opts, *reader = read_entry(spec->opts);
    while (args->name && args->kind != CLI_ARG) args++;
    int takes_args = args->name != NULL;
    for (int i = 1; i < argc && rc == CLI_OK; i++) {
        const char *a = argv[i];
        if (only_args || a[0] != '-' || !a[1]) {          /* an argument ('-' is standard input) */
            if (!args->name && !takes_args && is_yaml(a)) /* a spec given to cv, tune, ... */
                return cli_usage_error(spec->name,
                                       "takes no spec file (%s): 'kiln run %s' runs a spec, its "
                                       "evaluation: cv:, model: search: and ensemble: included",
                                       a, a);
            if (!args->name) return cli_usage_error(spec->name, "too many arguments (%s)", a);
            memcpy((char *)obj + args->offset, &a, sizeof a);
            if (args - spec->opts < 64) seen |= (uint64_t)1 << (size_t)(args - spec->opts);
            for (args++; args->name && args->kind != CLI_ARG; args++) continue;
            continue;
        }
        if (!strcmp(a, "--")) {
            only_args = 1;
            continue;
        }
        const cli_opt *o = NULL, *table = spec->opts;
        const char *inline_value = NULL, *name;
        size_t len;
        if (a[1] != '-') { /* -o */
            if (a[2]) return unknown_option(spec, a);
            name = a + 1;
            len = 1;
            o = find_short(spec->opts, a[1]);
            if (!o) {
                table = global_opts;
                o = find_short(global_opts, a[1]);
            }
        } else {
            name = a + 2;
            const char *eq = strchr(name, '=');
            len = eq ? (size_t)(eq - name) : strlen(name);
            if (eq) inline_value = eq + 1;
            o = find_long(spec->opts, name, len);
            if (!o) {
                table = global_opts;
                o = find_long(global_opts, name, len);
            }
        }
        if (o) {
            rc = take(spec, table, o, table == global_opts ? (void *)&cli : obj, argc, argv, &i,
                      inline_value, table == global_opts ? &gseen : &seen, table == global_opts);
            continue;
        }
        int r = reader && a[1] == '-' ? take_reader_flag(spec, reader, obj, argc, argv, &i, name,
                                                         len, inline_value, &rseen)
                                      : 0;
        if (r < 0) return CLI_USAGE;
        if (r == 0) return unknown_option(spec, a);
        if (reader - spec->opts < 64) /* a reader option was given */
            seen |= (uint64_t)1 << (size_t)(reader - spec->opts);
    }
    if (rc != CLI_OK) return rc;
    if (cli.help) {
        cli.help = 0;
        cli_print_help(spec, stdout);
        return CLI_DONE;
    }
    if (cli.version) {
        cli.version = 0;
        printf("kiln %s\n", kn_version());
        return CLI_DONE;
    }
    for (const cli_opt *o = spec->opts; o->name; o++)
        if (o->required && o - spec->opts < 64 && !((seen >> (size_t)(o - spec->opts)) & 1)) {
            char opt[80];
            option_text(o, opt, sizeof opt);
            return o->kind == CLI_ARG
                       ? cli_usage_error(spec->name, "missing %s", opt)
                       : cli_usage_error(spec->name, "missing %s %s", opt, o->metavar);
        }
    if (given) *given = seen;
    return cli_apply_globals();
}

int cli_parse_globals(int argc, char **argv, int *cmd_at)
{
    static const cli_opt none[] = {CLI_OPT_END};
    const cli_spec spec = {"kiln", NULL, NULL, NULL, none, 0, NULL};
    uint64_t seen = 0;
    int i = 1;
    for (; i < argc; i++) {
        const char *a = argv[i];
        if (a[0] != '-' || !a[1]) break;
        const cli_opt *o = NULL;
        const char *inline_value = NULL;
        if (a[1] != '-')
            o = a[2] ? NULL : find_short(global_opts, a[1]);
        else {
            const char *eq = strchr(a + 2, '=');
            size_t len = eq ? (size_t)(eq - a - 2) : strlen(a + 2);
            if (eq) inline_value = eq + 1;
            o = find_long(global_opts, a + 2, len);
        }
        if (!o) {
            char typed[64];
            snprintf(typed, sizeof typed, "%s", a);
            suggestion s = {typed + strspn(typed, "-"), "", (size_t)-1};
            consider_table(&s, global_opts);
            if (s.best[0] && kn_name_is_close(s.typed, s.dist))
                cli_error("unknown option %s; did you mean --%s? ('kiln help' lists the options)",
                          a, s.best);
            else
                cli_error("unknown option %s; global options come before the command, the "
                          "command's own after it ('kiln help')",
                          a);
            return CLI_USAGE;
        }
        if (take(&spec, global_opts, o, &cli, argc, argv, &i, inline_value, &seen, 1) != CLI_OK)
            return CLI_USAGE;
    }
    *cmd_at = i;
    return cli_apply_globals();
}

int cli_apply_globals(void)
{
    if (cli.log_format) cli.log_json = !strcmp(cli.log_format, "json");
    const char *limit = cli.memory_limit ? cli.memory_limit : getenv("KILN_MEMORY_LIMIT");
    if (limit && *limit) {
        uint64_t bytes;
        if (kn_mem_parse_size(limit, &bytes) != KN_OK) {
            cli_error("memory limit: %s", kn_last_error());
            return CLI_USAGE;
        }
        kn_mem_set_limit(bytes);
    }
#ifdef _OPENMP
    /* --threads is the budget of every parallel region, nested ones
     * included (cross-validation divides it among its folds) */
    if (cli.threads > 0) omp_set_num_threads((int)cli.threads);
#endif
    kn_log_set_level(cli.verbose ? KN_LOG_DEBUG : cli.quiet ? KN_LOG_WARN : KN_LOG_INFO);
    return CLI_OK;
}

/* ---- help ---- */

enum { HELP_COL = 26, HELP_WIDTH = 80 };

/* text from column `at` on, wrapped at HELP_WIDTH with lines indented to HELP_COL */
static void print_wrapped(FILE *fp, const char *text, size_t at)
{
    while (*text) {
        size_t len = strcspn(text, " ");
        if (at > HELP_COL && at + 1 + len > HELP_WIDTH) {
            fprintf(fp, "\n%*s", HELP_COL, "");
            at = HELP_COL;
        } else if (at > HELP_COL) {
            fputc(' ', fp);
            at++;
        }
        fwrite(text, 1, len, fp);
        at += len;
        text += len;
        text += strspn(text, " ");
    }
    fputc('\n', fp);
}

static void print_opt(FILE *fp, const cli_opt *o)
{
    char left[128], doc[512];
    int n;
    const char *mv = o->kind == CLI_FLAG ? "" : o->metavar ? o->metavar : o->choices;
    if (o->kind == CLI_ARG)
        n = snprintf(left, sizeof left, "  %s", o->name);
    else if (o->short_name)
        n = snprintf(left, sizeof left, "  -%c, --%s%s%s", o->short_name, o->name, *mv ? " " : "",
                     mv);
    else
        n = snprintf(left, sizeof left, "  --%s%s%s", o->name, *mv ? " " : "", mv);
    if (n < 0) return;
    int k = snprintf(doc, sizeof doc, "%s", o->doc);
    if (k > 0 && (size_t)k < sizeof doc && o->required && o->kind != CLI_ARG)
        k += snprintf(doc + k, sizeof doc - (size_t)k, " (required)");
    if (k > 0 && (size_t)k < sizeof doc && o->kind == CLI_LIST && o->type != CLI_T_READ)
        k += snprintf(doc + k, sizeof doc - (size_t)k, " (repeatable)");
    if (k > 0 && (size_t)k < sizeof doc && o->kind == CLI_VALUE &&
        (o->type == CLI_T_INT || o->type == CLI_T_NUM))
        k += snprintf(doc + k, sizeof doc - (size_t)k, " [%.15g to %.15g%s%s]", o->min, o->max,
                      o->def ? "; default " : "", o->def ? o->def : "");
    if (k > 0 && (size_t)k < sizeof doc && o->kind == CLI_VALUE && o->type == CLI_T_SEED)
        snprintf(doc + k, sizeof doc - (size_t)k, " [0 to 18446744073709551615; default %s]",
                 o->def ? o->def : "0");
    if (n > HELP_COL - 2)
        fprintf(fp, "%s\n%*s", left, HELP_COL, "");
    else
        fprintf(fp, "%-*s", HELP_COL, left);
    print_wrapped(fp, doc, HELP_COL);
}

void cli_print_global_options(FILE *fp)
{
    for (const cli_opt *o = global_opts; o->name; o++) print_opt(fp, o);
}

void cli_print_help(const cli_spec *spec, FILE *fp)
{
    fprintf(fp, "usage: kiln %s", spec->name);
    for (const cli_opt *o = spec->opts; o->name; o++)
        if (o->kind == CLI_ARG && o->required) fprintf(fp, " %s", o->name);
    for (const cli_opt *o = spec->opts; o->name; o++)
        if (o->kind == CLI_ARG && !o->required) fprintf(fp, " [%s]", o->name);
    for (const cli_opt *o = spec->opts; o->name; o++)
        if (o->kind == CLI_VALUE && o->required) fprintf(fp, " --%s %s", o->name, o->metavar);
    fputs(" [options]\n\n", fp);
    if (spec->about) fprintf(fp, "%s\n", spec->about);
    int has_args = 0;
    for (const cli_opt *o = spec->opts; o->name; o++) has_args |= o->kind == CLI_ARG;
    if (has_args) fputs("arguments:\n", fp);
    for (const cli_opt *o = spec->opts; o->name; o++)
        if (o->kind == CLI_ARG) print_opt(fp, o);
    fputs("options:\n", fp);
    for (const cli_opt *o = spec->opts; o->name; o++)
        if (o->kind != CLI_ARG) print_opt(fp, o);
    if (spec->param_reads && read_entry(spec->opts))
        fprintf(fp, "%-*s%s\n", HELP_COL, "  --param NAME=VALUE",
                "deprecated spelling of --read NAME=VALUE");
    fprintf(fp, "%-*s%s\n", HELP_COL, "  -h, --help", "print this help");
    fputs("global options (--json, --quiet, --threads N, ...) may stand anywhere: 'kiln help'\n",
          fp);
    if (spec->examples)
        fprintf(fp, "\nexample%s:\n%s",
                strchr(spec->examples, '\n') && strchr(spec->examples, '\n')[1] ? "s" : "",
                spec->examples);
}
