#include "cli/cli.h"
#include "kiln/log.h"
#include "kiln/store.h"
#include "kiln/json.h"
#include "kiln/mem.h"
#include "kiln/stage.h"
#include "kiln/tempfile.h"

#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

cli_globals cli;

/* printf into a new string (free()); NULL when out of memory. */
static char *format_message(const char *fmt, va_list ap)
{
    va_list again;
    va_copy(again, ap);
    int n = vsnprintf(NULL, 0, fmt, again);
    va_end(again);
    char *s = n < 0 ? NULL : malloc((size_t)n + 1);
    if (s) vsnprintf(s, (size_t)n + 1, fmt, ap);
    return s;
}

/* ---- library messages name parameters; people at the command line need the flag ----
 *
 * The library names a setting by what it is ("reader option types",
 * "split option folds", "model parameter max_iter=1000"); cli_flag_text
 * puts the flag that sets it in its place. Reader options map by rule
 * ("reader option on_bad_rows=skip" -> "--on-bad-rows skip"); the rest by
 * this table. */
static const struct {
    const char *lib, *cli;
} flag_names[] = {
    {"the memory limit (kn_mem_set_limit, or KILN_MEMORY_LIMIT)",
     "--memory-limit (or KILN_MEMORY_LIMIT)"},
    {"model parameter ", "--param "},
    {"fewer folds (split option folds)", "fewer --folds"},
    {"split option folds", "--folds"},
    {"split option gap", "--gap"},
    {"split option test_size", "--test-rows"},
    {"split option shuffle", "--shuffle"},
    {"the stratified split kind", "--stratify"},
    {"cv option groups", "--groups"},
    {"task option ", "--task "},
    {"prep option overwrite_input", "--overwrite-input"},
    {"the ignore role for ", "--ignore "},
    {"e.g. the step ", "e.g. kiln prep --step "},
    {"clip it with the step ", "clip it with kiln prep IN OUT --step "},
    {"(rounded) with the step ", "(rounded) with kiln prep --step "},
    {"(before the model, or in each fold of a cross-validation)",
     "(kiln prep IN OUT --step ..., or kiln cv --step ...)"},
    {"drop those rows first", "drop those rows (kiln train, cv and eval: --drop-missing-target)"},
};

/* The same for a command that runs a spec (kiln run): the spec's keys. */
static const struct {
    const char *lib, *cli;
} spec_names[] = {
    {"fewer folds (split option folds)", "fewer folds (the spec's evaluation: cv: folds)"},
    {"split option folds", "the spec's evaluation: cv: folds"},
    {"split option gap", "the spec's evaluation: cv: gap"},
    {"split option shuffle", "the spec's evaluation: cv: shuffle"},
    {"the stratified split kind", "the spec's evaluation: cv: split: stratified"},
    {"cv option groups", "the spec's evaluation: cv: groups"},
    {"task option ", "the spec's task: "},
    {"prep option overwrite_input", "--overwrite-input"},
    {"the ignore role for ", "the spec's ignore: for "},
    {"(before the model, or in each fold of a cross-validation)", "(in the spec's steps:)"},
};

int cli_spec_context;

char *cli_flag_text(const char *msg)
{
    if (cli_spec_context) {
        size_t cap = 4 * strlen(msg) + 128, n = 0;
        char *out = malloc(cap);
        if (!out) return NULL;
        for (const char *p = msg; *p && n + 1 < cap;) {
            size_t k = 0, m = sizeof spec_names / sizeof *spec_names;
            while (k < m && strncmp(p, spec_names[k].lib, strlen(spec_names[k].lib))) k++;
            if (k < m && n + strlen(spec_names[k].cli) + 1 < cap) {
                memcpy(out + n, spec_names[k].cli, strlen(spec_names[k].cli));
                n += strlen(spec_names[k].cli);
                p += strlen(spec_names[k].lib);
            } else
                out[n++] = *p++;
        }
        out[n] = '\0';
        return out;
    }
    static const char reader[] = "reader option ";
    size_t cap = 4 * strlen(msg) + 128, n = 0; /* no replacement is 4 times its phrase */
    char *out = malloc(cap);
    if (!out) return NULL;
    for (const char *p = msg; *p && n + 1 < cap;) {
        if (n + 4 < cap && !strncmp(p, reader, sizeof reader - 1) && p[sizeof reader - 1] >= 'a' &&
            p[sizeof reader - 1] <= 'z') {
            p += sizeof reader - 1;
            out[n++] = '-';
            out[n++] = '-';
            for (; ((*p >= 'a' && *p <= 'z') || *p == '_') && n + 2 < cap; p++)
                out[n++] = *p == '_' ? '-' : *p;
            if (*p == '=') {
                out[n++] = ' ';
                p++;
            }
            continue;
        }
        size_t k = 0;
        while (k < sizeof flag_names / sizeof *flag_names &&
               strncmp(p, flag_names[k].lib, strlen(flag_names[k].lib)))
            k++;
        if (k < sizeof flag_names / sizeof *flag_names && n + strlen(flag_names[k].cli) + 1 < cap) {
            memcpy(out + n, flag_names[k].cli, strlen(flag_names[k].cli));
            n += strlen(flag_names[k].cli);
            p += strlen(flag_names[k].lib);
            continue;
        }
        out[n++] = *p++;
    }
    out[n] = '\0';
    return out;
}

void cli_error(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char *raw = format_message(fmt, ap);
    va_end(ap);
    char *buf = raw ? cli_flag_text(raw) : NULL;
    free(raw);
    if (cli.log_json) {
        json_t *o = json_pack("{s:s, s:s}", "level", "error", "msg", buf ? buf : "out of memory");
        char *s = o ? kn_json_text(o, 0) : NULL;
        fprintf(stderr, "%s\n", s ? s : "{\"level\": \"error\", \"msg\": \"out of memory\"}");
        free(s);
        free(buf);
        json_decref(o);
        return;
    }
    fprintf(stderr, "kiln: error: %s\n", buf ? buf : "out of memory");
    free(buf);
}

int cli_usage_error(const char *cmd, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char *buf = format_message(fmt, ap);
    va_end(ap);
    if (!strcmp(cmd, "kiln")) /* a global option before the command */
        cli_error("%s; see 'kiln help'", buf ? buf : "out of memory");
    else
        cli_error("%s: %s; see 'kiln help %s'", cmd, buf ? buf : "out of memory", cmd);
    free(buf);
    return CLI_USAGE;
}

static double last_draw;
static int drawn;

void cli_progress(uint64_t done, uint64_t total, void *user)
{
    (void)user;
    if (cli.quiet || !isatty(2) || !total) return;
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    double now = (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
    if (drawn && now - last_draw < 0.1 && done < total) return;
    last_draw = now;
    drawn = 1;
    int width = 30, fill = (int)((double)width * (double)done / (double)total);
    if (fill > width) fill = width;
    char a[32], b[32];
    fprintf(stderr, "\r[%.*s%*s] %3d%% %s / %s", fill, "##############################",
            width - fill, "", (int)(100.0 * (double)done / (double)total),
            cli_bytes(done, a, sizeof a), cli_bytes(total, b, sizeof b));
    fflush(stderr);
}

void cli_progress_done(void)
{
    if (drawn) fprintf(stderr, "\r%78s\r", "");
    drawn = 0;
}

void cli_log_json(json_t *fields)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    json_t *o = json_pack("{s:f}", "ts", (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9);
    if (o && fields) json_object_update(o, fields);
    char *s = o ? kn_json_text(o, 0) : NULL;
    if (s) fprintf(stderr, "%s\n", s);
    free(s);
    json_decref(o);
    json_decref(fields);
}

static void fit_progress_json(const kn_progress_event *ev)
{
    static double last_json;
    if (!ev->last && ev->elapsed_s - last_json < 1.0 && ev->elapsed_s >= last_json) return;
    last_json = ev->last ? 0 : ev->elapsed_s;
    json_t *o =
        json_pack("{s:s, s:s, s:s, s:s, s:I, s:I, s:f}", "level", "info", "event", "progress",
                  "task", ev->task, "unit", ev->unit, "done", (json_int_t)ev->done, "total",
                  (json_int_t)ev->total, "elapsed_s", ev->elapsed_s);
    if (o && ev->remaining_s >= 0)
        json_object_set_new(o, "remaining_s", json_real(ev->remaining_s));
    if (o && ev->last) json_object_set_new(o, "last", json_true());
    cli_log_json(o);
}

void cli_fit_progress(const kn_progress_event *ev, void *user)
{
    (void)user;
    if (cli.quiet) return;
    if (cli.log_json) {
        fit_progress_json(ev);
        return;
    }
    if (!isatty(2)) return;
    if (ev->last) {
        cli_progress_done();
        return;
    }
    char line[160];
    int n = snprintf(line, sizeof line, "%s: %s %llu", ev->task, ev->unit,
                     (unsigned long long)ev->done);
    if (ev->total && n > 0 && (size_t)n < sizeof line)
        n += snprintf(line + n, sizeof line - (size_t)n, " of %llu", (unsigned long long)ev->total);
    if (n > 0 && (size_t)n < sizeof line)
        n += snprintf(line + n, sizeof line - (size_t)n, ", %.1f s", ev->elapsed_s);
    if (ev->remaining_s >= 0 && n > 0 && (size_t)n < sizeof line)
        snprintf(line + n, sizeof line - (size_t)n, ", about %.1f s left", ev->remaining_s);
    fprintf(stderr, "\r%-78.78s", line);
    fflush(stderr);
    drawn = 1;
}

json_t *cli_stages_json(void)
{
    json_t *arr = json_array();
    for (size_t i = 0; i < kn_stage_count(); i++) {
        const kn_stage_record *r = kn_stage_get(i);
        json_array_append_new(arr, json_pack("{s:s, s:f, s:f, s:I, s:I, s:I}", "name", r->name,
                                             "wall_s", r->wall_s, "cpu_s", r->cpu_s,
                                             "peak_rss_bytes", (json_int_t)r->peak_rss_bytes,
                                             "peak_alloc_bytes", (json_int_t)r->peak_alloc_bytes,
                                             "threads", (json_int_t)r->threads));
    }
    return arr;
}

void cli_print_stages(FILE *fp)
{
    for (size_t i = 0; i < kn_stage_count(); i++) {
        const kn_stage_record *r = kn_stage_get(i);
        char a[32];
        fprintf(fp, "  %-10s wall %7.3f s  cpu %7.3f s  peak rss %s\n", r->name, r->wall_s,
                r->cpu_s, cli_bytes(r->peak_rss_bytes, a, sizeof a));
    }
}

int cli_emit_json(json_t *v)
{
    if (!v) {
        cli_error("out of memory while building the JSON output");
        return CLI_FAIL;
    }
    int rc = kn_json_write(v, stdout, 2);
    fputc('\n', stdout);
    json_decref(v);
    return rc == 0 ? CLI_OK : CLI_FAIL;
}

int cli_write_json_file(const json_t *v, const char *path)
{
    char *tmp = v ? kn_temp_path(path) : NULL; /* written whole or not at all */
    FILE *fp = tmp ? fopen(tmp, "w") : NULL;
    int rc = fp ? kn_json_write(v, fp, 1) : -1;
    if (fp && fclose(fp) != 0) rc = -1;
    if (rc == 0) return kn_temp_commit(tmp, path) == KN_OK ? 0 : -1;
    kn_temp_discard(tmp);
    return rc;
}

const char *cli_thousands(uint64_t v, char *buf, size_t cap)
{
    char raw[32];
    int n = snprintf(raw, sizeof raw, "%llu", (unsigned long long)v);
    size_t k = 0;
    for (int i = 0; i < n && k + 1 < cap; i++) {
        if (i && (n - i) % 3 == 0 && k + 2 < cap) buf[k++] = ',';
        buf[k++] = raw[i];
    }
    buf[k] = '\0';
    return buf;
}

const char *cli_bytes(uint64_t v, char *buf, size_t cap)
{
    const char *u[] = {"B", "kB", "MB", "GB", "TB"};
    double x = (double)v;
    int i = 0;
    while (x >= 1000 && i < 4) {
        x /= 1000;
        i++;
    }
    snprintf(buf, cap, i ? "%.1f %s" : "%.0f %s", x, u[i]);
    return buf;
}

kn_status cli_ignore_columns(kn_frame *f, const char *list)
{
    for (const char *p = list; p && *p;) {
        const char *comma = strchr(p, ',');
        size_t len = comma ? (size_t)(comma - p) : strlen(p), j;
        char *name = kn_strndup(p, len);
        if (!name) return KN_ERR_NOMEM;
        char hint[160];
        kn_status e = kn_frame_find(f, name, &j) == KN_OK
                          ? KN_OK
                          : kn_fail(KN_ERR_NOT_FOUND, "--ignore: the data has no column '%s'%s",
                                    name, kn_frame_did_you_mean(f, name, hint, sizeof hint));
        kn_free(name);
        if (e != KN_OK) return e;
        kn_column_set_role(kn_frame_col(f, j), KN_ROLE_IGNORE);
        p = comma ? comma + 1 : NULL;
    }
    return KN_OK;
}

/* ---- outputs that would replace inputs ---- */

int cli_refuse_overwrite(const char *cmd, const char *const *outputs, size_t n_out,
                         const char *const *inputs, size_t n_in, int overwrite_input)
{
    if (overwrite_input > 0) return CLI_OK;
    for (size_t i = 0; i < n_out; i++)
        for (size_t k = 0; k < n_in; k++)
            if (kn_same_file(outputs[i], inputs[k])) {
                cli_error("%s: the output %s is the input %s; writing it would replace that "
                          "file. Choose another output path%s",
                          cmd, outputs[i], inputs[k],
                          overwrite_input < 0 ? ""
                                              : ", or pass --overwrite-input to replace the "
                                                "input on purpose");
                return CLI_USAGE;
            }
    return CLI_OK;
}

/* ---- --model values: a file, or a registered model in the store ---- */

const char *cli_store_dir;

kn_status cli_resolve_model(const char *ref, char **path)
{
    if (access(ref, F_OK) == 0) {
        *path = kn_strdup(ref);
        return *path ? KN_OK : KN_ERR_NOMEM;
    }
    kn_store *st = NULL;
    kn_status e = kn_store_open(cli_store_dir, 0, &st);
    if (e == KN_ERR_NOT_FOUND)
        return kn_fail(KN_ERR_NOT_FOUND,
                       "--model %s: no such file, and no store to look it up in (%s); give the "
                       "path of a model file (.kiln or .kmd), or a registered model as "
                       "NAME@stage or NAME@vN with --store DIR",
                       ref, kn_last_error());
    int version = 0;
    char *run = NULL;
    if (e == KN_OK) e = kn_store_resolve(st, ref, path, &version, &run);
    if (e == KN_OK) /* which version answers, for the record */
        kn_log(KN_LOG_INFO, "model %s is version %d (run %s, %s)", ref, version, run ? run : "?",
               *path);
    kn_free(run);
    kn_store_close(st);
    return e;
}

int cli_is_artifact(const char *path)
{
    size_t len = strlen(path);
    if (len >= 5 && !strcmp(path + len - 5, ".kiln")) return 1;
    FILE *fp = fopen(path, "rb");
    if (!fp) return 0;
    char head[8];
    int yes = fread(head, 1, 8, fp) == 8 && !memcmp(head, "KILNART1", 8);
    fclose(fp);
    return yes;
}
