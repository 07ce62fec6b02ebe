/* kiln inspect FILE: what a Kiln file holds (a model .kmd, fitted steps
 * .kst or a frame .kfr), told apart by its magic number, not its name. */
#include "cli/cli.h"
#include "kiln/json.h"
#include "kiln/mem.h"
#include "kiln/model.h"
#include "kiln/registry.h"
#include "kiln/stage.h"
#include "kiln/step.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const char kmd_magic[8] = {'K', 'I', 'L', 'N', 'M', 'D', 'L', '\0'};
static const char kst_magic[8] = {'K', 'I', 'L', 'N', 'S', 'T', 'P', '\0'};
static const char kfr_magic[8] = {'K', 'I', 'L', 'N', 'F', 'R', 'M', '\0'};

typedef enum { KIND_MODEL, KIND_STEPS, KIND_FRAME } file_kind;

static const char *const kind_name[] = {"model", "steps", "frame"};
static const char *const kind_text[] = {"model (.kmd)", "fitted steps (.kst)", "frame (.kfr)"};

/* The kind and format version from the first 16 bytes; CLI_OK or an error printed. */
static int sniff(const char *path, file_kind *kind, char *version, size_t cap)
{
    FILE *fp = fopen(path, "rb");
    if (!fp) {
        cli_error("cannot open %s: %s", path, strerror(errno));
        return CLI_FAIL;
    }
    unsigned char h[16];
    size_t got = fread(h, 1, sizeof h, fp);
    int err = ferror(fp) ? errno : 0;
    fclose(fp);
    if (err) {
        cli_error("cannot read %s: %s", path, strerror(err));
        return CLI_FAIL;
    }
    if (got >= 12 && !memcmp(h, kfr_magic, 8)) {
        *kind = KIND_FRAME;
        snprintf(version, cap, "%u.%u", (unsigned)(h[8] | h[9] << 8),
                 (unsigned)(h[10] | h[11] << 8));
        return CLI_OK;
    }
    if (got >= 12 && (!memcmp(h, kmd_magic, 8) || !memcmp(h, kst_magic, 8))) {
        *kind = !memcmp(h, kmd_magic, 8) ? KIND_MODEL : KIND_STEPS;
        unsigned long v = (unsigned long)h[8] | (unsigned long)h[9] << 8 |
                          (unsigned long)h[10] << 16 | (unsigned long)h[11] << 24;
        snprintf(version, cap, "%lu", v);
        return CLI_OK;
    }
    cli_error("%s is not a Kiln model, steps or frame file (it does not start with a Kiln "
              "magic number); inspect reads files written by kiln train (.kmd), kiln prep "
              "--save (.kst) and kiln convert (.kfr); for a data file use 'kiln describe %s'",
              path, path);
    return CLI_FAIL;
}

/* A parameter's value text as JSON: numbers and booleans typed, the rest
 * (and non-finite numbers) as text. */
static json_t *param_value(kn_param_type type, const char *text)
{
    char *end;
    if (type == KN_PARAM_T_BOOL) return json_boolean(!strcmp(text, "true"));
    if (type == KN_PARAM_T_INT) {
        long long v = strtoll(text, &end, 10);
        if (!*end && *text) return json_integer((json_int_t)v);
    }
    if (type == KN_PARAM_T_DOUBLE) {
        double v = strtod(text, &end);
        if (!*end && *text && isfinite(v)) return json_real(v);
    }
    return json_string(text);
}

/* {name: value} of a component's parameters, in table order. */
json_t *cli_params_json(const kn_param_def *defs, const void *params)
{
    json_t *o = json_object();
    for (const kn_param_def *d = defs; d && d->name; d++) {
        char *item = kn_param_format(d, params);
        const char *eq = item ? strchr(item, '=') : NULL;
        json_object_set_new(o, d->name, eq ? param_value(d->type, eq + 1) : json_null());
        kn_free(item);
    }
    return o;
}

static json_t *model_json(const kn_model *m)
{
    const kn_component *c = kn_registry_find(KN_COMP_MODEL, kn_model_name(m));
    json_t *feat = json_array(), *classes = json_array();
    for (size_t j = 0; j < kn_model_n_features(m); j++) {
        size_t levels = kn_model_feature_levels(m, j);
        json_t *f = json_pack("{s:s, s:s}", "name", kn_model_feature(m, j), "type",
                              levels ? "categorical" : "numeric");
        if (levels) json_object_set_new(f, "levels", json_integer((json_int_t)levels));
        json_array_append_new(feat, f);
    }
    for (size_t k = 0; k < kn_model_n_classes(m); k++)
        json_array_append_new(classes, json_string(kn_model_class(m, k)));
    if (!kn_model_n_classes(m)) { /* a regressor: no classes */
        json_decref(classes);
        classes = json_null();
    }
    json_t *metrics = json_null();
    if (kn_model_n_metrics(m)) {
        metrics = json_pack("{s:I}", "rows", (json_int_t)kn_model_metric_rows(m));
        for (size_t i = 0; i < kn_model_n_metrics(m); i++) {
            double v;
            const char *name = kn_model_metric(m, i, &v);
            json_object_set_new(metrics, name, isfinite(v) ? json_real(v) : json_null());
        }
    }
    const char *by = kn_model_saved_by(m);
    size_t rows = kn_model_train_rows(m);
    return json_pack("{s:s, s:s, s:s, s:o, s:o, s:o, s:o, s:o, s:o}", "model", kn_model_name(m),
                     "task", kn_model_kind(m), "target", kn_model_target(m), "parameters",
                     cli_params_json(c ? c->params : NULL, kn_model_params(m)), "features", feat,
                     "classes", classes, "training_rows",
                     rows ? json_integer((json_int_t)rows) : json_null(), "metrics", metrics,
                     "kiln_version", by ? json_string(by) : json_null());
}

/* s[0..n) with %XX escapes undone (a new JSON string). */
static json_t *unescaped(const char *s, size_t n)
{
    char buf[256];
    return json_stringn(buf, cli_read_unescape(s, n, buf, sizeof buf));
}

/* The reader settings a steps file recorded (kn_read_settings_format's
 * text): {"settings": {name: value}, "token_levels": [{column, token}] or
 * null}; null for a file older than them. */
static json_t *read_json(const char *text)
{
    if (!text) return json_null();
    json_t *set = json_object(), *levels = json_null();
    for (const char *p = text; *p;) {
        const char *nl = strchr(p, '\n');
        size_t n = nl ? (size_t)(nl - p) : strlen(p);
        const char *eq = memchr(p, '=', n), *tab = memchr(p, '\t', n);
        if (eq && (size_t)(eq - p) == 5 && !strncmp(p, "level", 5) && tab) {
            if (!json_is_array(levels)) levels = json_array();
            json_array_append_new(levels,
                                  json_pack("{s:o, s:o}", "column",
                                            unescaped(tab + 1, (size_t)(p + n - tab - 1)), "token",
                                            unescaped(eq + 1, (size_t)(tab - eq - 1))));
        } else if (eq && !strncmp(p, "token_levels=listed", 19)) {
            if (!json_is_array(levels)) levels = json_array();
        } else if (eq) {
            char name[64];
            snprintf(name, sizeof name, "%.*s", (int)(eq - p), p);
            size_t vn = (size_t)(p + n - eq - 1); /* thousands: '\0' is written "auto" */
            int none = !strcmp(name, "thousands") && vn == 4 && !strncmp(eq + 1, "auto", 4);
            json_object_set_new(set, name, none ? json_string("none") : json_stringn(eq + 1, vn));
        }
        p += n + (nl ? 1 : 0);
    }
    return json_pack("{s:o, s:o}", "settings", set, "token_levels", levels);
}

static json_t *steps_json(kn_step *const *steps, size_t n, const kn_steps_input *in)
{
    json_t *arr = json_array(), *cols = json_null();
    for (size_t k = 0; k < n; k++) {
        const kn_component *c = kn_registry_find(KN_COMP_STEP, kn_step_name(steps[k]));
        json_array_append_new(
            arr, json_pack("{s:s, s:o}", "name", kn_step_name(steps[k]), "parameters",
                           cli_params_json(c ? c->params : NULL, kn_step_params(steps[k]))));
    }
    if (in) {
        cols = json_array();
        for (size_t j = 0; j < in->n_cols; j++)
            json_array_append_new(cols, json_pack("{s:s, s:s}", "name", in->names[j], "type",
                                                  kn_col_type_name(in->types[j])));
    }
    return json_pack("{s:o, s:o, s:o, s:n, s:n, s:n, s:n}", "steps", arr, "columns", cols, "target",
                     in && in->target ? json_string(in->target) : json_null(), "classes",
                     "training_rows", "metrics", "kiln_version");
}

static json_t *frame_json(const kn_frame *f)
{
    json_t *cols = json_array();
    for (size_t j = 0; j < kn_frame_n_cols(f); j++) {
        const kn_column *c = kn_frame_col(f, j);
        json_t *o =
            json_pack("{s:s, s:s, s:s}", "name", kn_column_name(c), "type",
                      kn_col_type_name(kn_column_type(c)), "role", kn_role_name(kn_column_role(c)));
        if (kn_column_type(c) == KN_COL_CATEGORICAL)
            json_object_set_new(o, "levels", json_integer((json_int_t)kn_column_n_levels(c)));
        json_array_append_new(cols, o);
    }
    return json_pack("{s:I, s:o, s:n}", "rows", (json_int_t)kn_frame_n_rows(f), "columns", cols,
                     "kiln_version");
}

/* name=value, ... after `indent` (already printed on the first line),
 * wrapped before 80 columns. */
void cli_print_params(const json_t *params, int indent)
{
    const char *key;
    json_t *v;
    size_t k = 0;
    int col = indent;
    json_object_foreach((json_t *)params, key, v)
    {
        /* as the parameter's text form (what --param takes) */
        char s[64];
        if (json_is_real(v))
            kn_format_double(json_real_value(v), s, sizeof s);
        else if (json_is_integer(v))
            snprintf(s, sizeof s, "%lld", (long long)json_integer_value(v));
        else if (json_is_boolean(v))
            snprintf(s, sizeof s, "%s", json_is_true(v) ? "true" : "false");
        else
            snprintf(s, sizeof s, "?");
        const char *text = json_is_string(v) ? json_string_value(v) : s;
        int len = (int)(strlen(key) + 1 + strlen(text));
        if (k && col + 2 + len > 79) {
            printf(",\n%*s", indent, "");
            col = indent;
        } else if (k) {
            fputs(", ", stdout);
            col += 2;
        }
        printf("%s=%s", key, text);
        col += len;
        k++;
    }
    if (!k) fputs("(none)", stdout);
    putchar('\n');
}

/* The width of the widest "name" in an array of objects (at least 16). */
static int name_width(const json_t *arr)
{
    size_t w = 16;
    for (size_t i = 0; i < json_array_size(arr); i++) {
        size_t n =
            cli_cell_width(json_string_value(json_object_get(json_array_get(arr, i), "name")));
        if (n > w) w = n;
    }
    return (int)w;
}

static void print_not_recorded(const char *label, const json_t *v, const char *why)
{
    if (json_is_null(v)) printf("%-15s not recorded (%s)\n", label, why);
}

static void print_text(const char *path, file_kind kind, const char *version, const json_t *j)
{
    char why[96];
    snprintf(why, sizeof why, "format %s of %s files does not keep it", version,
             kind == KIND_MODEL   ? ".kmd"
             : kind == KIND_STEPS ? ".kst"
                                  : ".kfr");
    printf("%-15s %s\n", "file:", path);
    printf("%-15s %s, format version %s\n", "kind:", kind_text[kind], version);
    const json_t *by = json_object_get(j, "kiln_version");
    if (json_is_string(by))
        printf("%-15s %s\n", "written by:", json_string_value(by));
    else
        print_not_recorded("written by:", by, why);
    if (kind == KIND_FRAME) {
        const json_t *cols = json_object_get(j, "columns");
        printf("%-15s %lld\n", "rows:", (long long)json_integer_value(json_object_get(j, "rows")));
        printf("columns (%zu):\n", json_array_size(cols));
        int w = name_width(cols);
        for (size_t i = 0; i < json_array_size(cols); i++) {
            const json_t *c = json_array_get(cols, i);
            const json_t *lv = json_object_get(c, "levels");
            printf("  %-*s %-12s %s", w, json_string_value(json_object_get(c, "name")),
                   json_string_value(json_object_get(c, "type")),
                   json_string_value(json_object_get(c, "role")));
            if (lv) printf(" (%lld levels)", (long long)json_integer_value(lv));
            putchar('\n');
        }
        return;
    }
    if (kind == KIND_STEPS) {
        const json_t *steps = json_object_get(j, "steps");
        printf("steps (%zu):\n", json_array_size(steps));
        for (size_t i = 0; i < json_array_size(steps); i++) {
            const json_t *s = json_array_get(steps, i);
            printf("  %zu. %s\n     ", i + 1, json_string_value(json_object_get(s, "name")));
            cli_print_params(json_object_get(s, "parameters"), 5);
        }
    } else {
        printf("%-15s %s (%s)\n", "model:", json_string_value(json_object_get(j, "model")),
               json_string_value(json_object_get(j, "task")));
        printf("%-15s ", "parameters:");
        cli_print_params(json_object_get(j, "parameters"), 16);
    }
    const json_t *target = json_object_get(j, "target");
    if (json_is_string(target)) printf("%-15s %s\n", "target:", json_string_value(target));
    const json_t *rd = json_object_get(j, "reader");
    if (json_is_object(rd)) { /* what transform, predict and eval read new data with */
        printf("%-15s", "reader:");
        const char *key;
        json_t *v;
        json_object_foreach(json_object_get(rd, "settings"), key, v)
        {
            printf(" %s=%s", key, json_string_value(v));
        }
        putchar('\n');
        const json_t *lv = json_object_get(rd, "token_levels");
        if (json_is_array(lv)) {
            printf("%-15s", "token levels:");
            for (size_t i = 0; i < json_array_size(lv); i++)
                printf("%s %s: '%s'", i ? "," : "",
                       json_string_value(json_object_get(json_array_get(lv, i), "column")),
                       json_string_value(json_object_get(json_array_get(lv, i), "token")));
            printf("%s\n", json_array_size(lv) ? "" : " none");
        }
    } else if (kind == KIND_STEPS)
        printf("%-15s not recorded (a steps file before format 4: new data is read with the "
               "missing tokens of its time)\n",
               "reader:");
    else if (kind == KIND_MODEL)
        printf("%-15s not recorded (predict and eval read new data with their own reader "
               "options)\n",
               "reader:");
    const json_t *feats = json_object_get(j, kind == KIND_MODEL ? "features" : "columns");
    if (json_is_array(feats)) {
        printf("%s (%zu):\n", kind == KIND_MODEL ? "features" : "input columns",
               json_array_size(feats));
        int w = name_width(feats);
        for (size_t i = 0; i < json_array_size(feats); i++) {
            const json_t *c = json_array_get(feats, i);
            const json_t *lv = json_object_get(c, "levels");
            printf("  %-*s %s", w, json_string_value(json_object_get(c, "name")),
                   json_string_value(json_object_get(c, "type")));
            if (lv) printf(" (%lld levels)", (long long)json_integer_value(lv));
            putchar('\n');
        }
    } else
        print_not_recorded("input columns:", feats, why);
    const json_t *classes = json_object_get(j, "classes");
    if (json_is_array(classes)) {
        printf("%-15s", "classes:");
        for (size_t i = 0; i < json_array_size(classes); i++)
            printf(" %s", json_string_value(json_array_get(classes, i)));
        putchar('\n');
    }
    const json_t *rows = json_object_get(j, "training_rows");
    if (json_is_integer(rows))
        printf("%-15s %lld\n", "training rows:", (long long)json_integer_value(rows));
    else
        print_not_recorded("training rows:", rows, why);
    const json_t *metrics = json_object_get(j, "metrics");
    if (json_is_object(metrics)) {
        printf("held-out scores (%lld rows):",
               (long long)json_integer_value(json_object_get(metrics, "rows")));
        const char *key;
        json_t *v;
        json_object_foreach((json_t *)metrics, key, v) if (strcmp(key, "rows"))
            printf("  %s %.6g", key, json_number_value(v));
        putchar('\n');
    } else if (kind == KIND_MODEL && json_is_string(by))
        printf("%-15s none recorded (trained without a held-out share)\n", "scores:");
    else if (kind == KIND_MODEL)
        print_not_recorded("scores:", metrics, why);
}

typedef struct inspect_args {
    const char *path, *store;
} inspect_args;

static const cli_opt inspect_opts[] = {
    CLI_OPT_ARG(inspect_args, path, "FILE", 1,
                "an artifact (.kiln), model (.kmd), steps (.kst) or frame (.kfr); or a "
                "registered model NAME@production, NAME@staging or NAME@vN (--store)"),
    CLI_OPT_TEXT(inspect_args, store, "store", "DIR",
                 "the store a registered NAME@stage is looked up in (default: $KILN_STORE, "
                 "else ./kiln-store)"),
    CLI_OPT_END};

const cli_spec inspect_spec = {
    "inspect",
    "show what an artifact, model, steps or frame file holds",
    "Show what a Kiln file holds, without data: its kind (model .kmd, fitted\n"
    "steps .kst or frame .kfr, known by the file's first bytes, whatever its\n"
    "name), format version, the Kiln version that wrote it, parameters,\n"
    "features (or columns) with their types, classes, the rows a model was\n"
    "trained on and the held-out scores 'kiln train' recorded. A field the file\n"
    "does not record (older formats; steps files keep no row count or version)\n"
    "is shown as \"not recorded\" (null with --json). The whole file is checked\n"
    "(checksum, every length) first: a damaged file is refused.\n"
    "\n"
    "An artifact (.kiln) shows its format version, size, BLAKE2b hash, whether\n"
    "it is signed, its sections with their sizes, the pipeline (steps, model,\n"
    "target), the parameters of its steps and model (what a search chose), and\n"
    "its lineage and metrics as JSON. A registered model (NAME@production,\n"
    "NAME@vN) is looked up in the store and shown as its artifact.\n",
    "  kiln inspect strength.kmd\n"
    "  kiln inspect credit@production --store kiln-store\n"
    "  kiln inspect prep.kst --json\n"
    "  kiln inspect model.kiln\n",
    inspect_opts,
    0,
    cmd_inspect};

int cmd_inspect(int argc, char **argv)
{
    inspect_args a = {0};
    int rc = cli_parse(&inspect_spec, argc, argv, &a, NULL);
    if (rc) return rc < 0 ? CLI_OK : rc;
    const char *path = a.path;
    if (access(path, F_OK) != 0 && strchr(path, '@')) { /* a registered model */
        char *file = NULL;
        cli_store_dir = a.store;
        if (cli_resolve_model(path, &file) != KN_OK) {
            const char *msg = kn_last_error(); /* it names --model, which inspect has not */
            cli_error("inspect: %s", strncmp(msg, "--model ", 8) ? msg : msg + 8);
            return CLI_FAIL;
        }
        rc = cli_inspect_artifact(file);
        kn_free(file);
        return rc;
    }
    if (a.store)
        return cli_usage_error("inspect",
                               "--store looks up a registered model (NAME@stage); %s "
                               "is a file",
                               path);
    if (cli_is_artifact(path)) return cli_inspect_artifact(path);
    file_kind kind;
    char version[32];
    rc = sniff(path, &kind, version, sizeof version);
    if (rc != CLI_OK) return rc;
    json_t *j = NULL;
    kn_status e = KN_OK;
    kn_stage_begin("load");
    if (kind == KIND_MODEL) {
        kn_model *m = NULL;
        e = kn_model_load(path, &m);
        if (e == KN_OK) j = model_json(m);
        if (j) json_object_set_new(j, "reader", read_json(kn_model_read_settings(m)));
        kn_model_free(m);
    } else if (kind == KIND_STEPS) {
        kn_step **steps = NULL;
        kn_steps_input *in = NULL;
        size_t n = 0;
        char *read = NULL;
        e = kn_steps_load_with_read(path, &steps, &n, &in, &read);
        if (e == KN_OK) j = steps_json(steps, n, in);
        if (j) json_object_set_new(j, "reader", read_json(read));
        kn_free(read);
        for (size_t k = 0; k < n; k++) kn_step_free(steps[k]);
        kn_free(steps);
        kn_steps_input_free(in);
    } else {
        kn_read_opts o;
        kn_read_opts_default(&o);
        o.format = "kfr";
        kn_frame *f = NULL;
        e = kn_frame_read(path, &o, &f, NULL);
        if (e == KN_OK) j = frame_json(f);
        kn_frame_free(f);
    }
    kn_stage_end();
    if (e != KN_OK) {
        cli_error("inspect: %s", kn_last_error());
        return CLI_FAIL;
    }
    if (!j) {
        cli_error("inspect: out of memory");
        return CLI_FAIL;
    }
    json_t *head = json_pack("{s:s, s:s, s:s, s:s}", "command", "inspect", "input", path, "kind",
                             kind_name[kind], "format_version", version);
    if (!head || json_object_update(head, j) != 0) {
        json_decref(head);
        json_decref(j);
        cli_error("inspect: out of memory");
        return CLI_FAIL;
    }
    json_decref(j);
    if (cli.json) {
        json_object_set_new(head, "stages", cli_stages_json());
        return cli_emit_json(head);
    }
    print_text(path, kind, version, head);
    json_decref(head);
    return CLI_OK;
}
