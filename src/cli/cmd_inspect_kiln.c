/* kiln inspect FILE.kiln: what an artifact holds (its sections with their
 * sizes, signature, lineage, metrics and a summary of the pipeline). */
#include "cli/cli.h"
#include "kiln/artifact.h"
#include "kiln/drift_ref.h"
#include "kiln/mem.h"
#include "kiln/model.h"
#include "kiln/registry.h"
#include "kiln/stage.h"
#include "kiln/step.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const section_names[] = {NULL,        "spec",           "schema",  "profile",
                                            "pipeline",  "metrics",        "lineage", "heldout",
                                            "reference", "reference_rows", "read"};
#define N_SECTIONS (sizeof section_names / sizeof *section_names)

static kn_status read_all(const char *path, unsigned char **buf, size_t *len)
{
    FILE *fp = fopen(path, "rb");
    if (!fp)
        return kn_fail(errno == ENOENT ? KN_ERR_NOT_FOUND : KN_ERR_IO, "cannot open %s: %s", path,
                       strerror(errno));
    size_t cap = 1 << 16, n = 0;
    unsigned char *b = kn_malloc(cap);
    kn_status e = b ? KN_OK : KN_ERR_NOMEM;
    for (size_t got = 1; e == KN_OK && got;) {
        if (n == cap) {
            unsigned char *nb = kn_realloc(b, cap *= 2);
            if (!nb) {
                e = KN_ERR_NOMEM;
                break;
            }
            b = nb;
        }
        got = fread(b + n, 1, cap - n, fp);
        n += got;
    }
    if (e == KN_OK && ferror(fp)) e = kn_fail(KN_ERR_IO, "reading %s failed", path);
    fclose(fp);
    if (e != KN_OK) {
        kn_free(b);
        return e;
    }
    *buf = b;
    *len = n;
    return KN_OK;
}

/* A JSON section as a value (null when absent or not JSON). */
static json_t *section_json(const kn_artifact *a, kn_art_section id)
{
    size_t len = 0;
    const char *text = kn_artifact_get(a, id, &len);
    json_t *j = text ? json_loadb(text, len, 0, NULL) : NULL;
    return j ? j : json_null();
}

static json_t *pipeline_json(const kn_pipeline *p)
{
    json_t *steps = json_array(), *step_params = json_array();
    for (size_t k = 0; k < kn_pipeline_n_steps(p); k++) {
        const kn_step *s = kn_pipeline_step(p, k);
        const kn_component *c = kn_registry_find(KN_COMP_STEP, kn_step_name(s));
        json_array_append_new(steps, json_string(kn_step_name(s)));
        json_array_append_new(step_params,
                              cli_params_json(c ? c->params : NULL, kn_step_params(s)));
    }
    const kn_model *m = kn_pipeline_model(p);
    const kn_steps_input *in = kn_pipeline_input(p);
    json_t *model = json_null();
    if (m) {
        json_t *classes = json_array();
        for (size_t c = 0; c < kn_model_n_classes(m); c++)
            json_array_append_new(classes, json_string(kn_model_class(m, c)));
        const kn_component *c = kn_registry_find(KN_COMP_MODEL, kn_model_name(m));
        model = json_pack("{s:s, s:s, s:I, s:o, s:o}", "name", kn_model_name(m), "task",
                          kn_model_kind(m), "features", (json_int_t)kn_model_n_features(m),
                          "classes", classes, "parameters",
                          cli_params_json(c ? c->params : NULL, kn_model_params(m)));
    }
    const char *target = kn_pipeline_target(p);
    json_t *out =
        json_pack("{s:o, s:o, s:o, s:o, s:I}", "target", target ? json_string(target) : json_null(),
                  "steps", steps, "step_parameters", step_params, "model", model, "input_columns",
                  (json_int_t)(in ? in->n_cols : 0));
    if (kn_pipeline_n_members(p)) { /* an ensemble: its method and members */
        static const char *const method[] = {"none", "hard_vote", "soft_vote", "mean", "stacking"};
        kn_ensemble_method how = kn_pipeline_ensemble(p);
        json_t *members = json_array();
        for (size_t i = 0; i < kn_pipeline_n_members(p); i++)
            json_array_append_new(members, pipeline_json(kn_pipeline_member(p, i)));
        json_object_set_new(out, "ensemble",
                            json_pack("{s:s, s:o}", "method",
                                      how <= KN_ENSEMBLE_STACKING ? method[how] : "?", "members",
                                      members));
    }
    return out;
}

/* The drift reference (KN_ART_REFERENCE): what it keeps and what it adds
 * to the file (the section's header and zstd bytes); null when absent. */
static json_t *reference_json(const kn_artifact *a)
{
    size_t len = 0, numeric = 0, text = 0, kept = 0, file_bytes = 0;
    const void *bytes = kn_artifact_get(a, KN_ART_REFERENCE, &len);
    kn_drift_ref *r = NULL;
    if (!bytes || kn_drift_ref_decode(bytes, len, "reference", &r) != KN_OK) return json_null();
    int predictions = 0;
    for (size_t j = 0; j < kn_drift_ref_n_cols(r); j++) {
        if (kn_drift_ref_col_role(r, j) == KN_DRIFT_REF_PREDICTION) {
            predictions = 1;
            continue;
        }
        kept += kn_drift_ref_kept(r, j);
        if (kn_drift_ref_text(r, j))
            text++;
        else
            numeric++;
    }
    kn_artifact *only = NULL, *none = NULL;
    unsigned char *b1 = NULL, *b0 = NULL;
    size_t n1 = 0, n0 = 0;
    if (kn_artifact_new(&only) == KN_OK && kn_artifact_new(&none) == KN_OK &&
        kn_artifact_set(only, KN_ART_REFERENCE, bytes, len) == KN_OK &&
        kn_artifact_encode(only, NULL, &b1, &n1) == KN_OK &&
        kn_artifact_encode(none, NULL, &b0, &n0) == KN_OK)
        file_bytes = n1 - n0;
    kn_free(b1), kn_free(b0);
    kn_artifact_free(only), kn_artifact_free(none);
    json_t *j = json_pack(
        "{s:I, s:I, s:I, s:b, s:I, s:I, s:I, s:I}", "rows", (json_int_t)kn_drift_ref_rows(r),
        "numeric_columns", (json_int_t)numeric, "text_columns", (json_int_t)text, "predictions",
        predictions, "values_kept", (json_int_t)kept, "sample_max", (json_int_t)KN_DRIFT_REF_SAMPLE,
        "bytes", (json_int_t)len, "file_bytes", (json_int_t)file_bytes);
    kn_drift_ref_free(r);
    return j ? j : json_null();
}

static void print_json_line(const char *label, const json_t *v)
{
    if (json_is_null(v)) {
        printf("%-15s none\n", label);
        return;
    }
    char *text = json_dumps(v, JSON_PRESERVE_ORDER | JSON_COMPACT);
    printf("%-15s %s\n", label, text ? text : "?");
    free(text);
}

static void print_text(const json_t *j)
{
    printf("%-15s %s\n", "file:", json_string_value(json_object_get(j, "input")));
    printf("%-15s artifact (.kiln), format version %s, %lld bytes\n",
           "kind:", json_string_value(json_object_get(j, "format_version")),
           (long long)json_integer_value(json_object_get(j, "size_bytes")));
    printf("%-15s %s\n", "blake2b:", json_string_value(json_object_get(j, "hash")));
    printf("%-15s %s\n", "signed:", json_is_true(json_object_get(j, "signed")) ? "yes" : "no");
    const json_t *secs = json_object_get(j, "sections");
    printf("sections (%zu):\n", json_array_size(secs));
    for (size_t i = 0; i < json_array_size(secs); i++) {
        const json_t *s = json_array_get(secs, i);
        char b[32];
        printf("  %-10s %s\n", json_string_value(json_object_get(s, "name")),
               cli_bytes((uint64_t)json_integer_value(json_object_get(s, "bytes")), b, sizeof b));
    }
    const json_t *p = json_object_get(j, "pipeline");
    if (json_is_object(p)) {
        const json_t *steps = json_object_get(p, "steps"), *m = json_object_get(p, "model");
        printf("%-15s", "pipeline:");
        for (size_t i = 0; i < json_array_size(steps); i++)
            printf(" %s ->", json_string_value(json_array_get(steps, i)));
        if (json_is_object(m))
            printf(" %s (%s, %lld features)", json_string_value(json_object_get(m, "name")),
                   json_string_value(json_object_get(m, "task")),
                   (long long)json_integer_value(json_object_get(m, "features")));
        else
            printf(" (no model)");
        printf(" on %lld input columns\n",
               (long long)json_integer_value(json_object_get(p, "input_columns")));
        const json_t *ens = json_object_get(p, "ensemble");
        const json_t *mem = json_object_get(ens, "members");
        if (json_is_object(ens)) {
            printf("%-15s %s of %zu members:", "ensemble:",
                   json_string_value(json_object_get(ens, "method")), json_array_size(mem));
            for (size_t i = 0; i < json_array_size(mem); i++) {
                const json_t *ms = json_object_get(json_array_get(mem, i), "steps");
                printf(" [");
                for (size_t k = 0; k < json_array_size(ms); k++)
                    printf("%s -> ", json_string_value(json_array_get(ms, k)));
                printf("%s]", json_string_value(json_object_get(
                                  json_object_get(json_array_get(mem, i), "model"), "name")));
            }
            printf("\n");
        }
        const json_t *t = json_object_get(p, "target");
        if (json_is_string(t)) printf("%-15s %s\n", "target:", json_string_value(t));
        /* the fitted parameters: what a search chose, what a spec set */
        const json_t *sp = json_object_get(p, "step_parameters");
        for (size_t i = 0; i < json_array_size(sp); i++) {
            char label[32];
            snprintf(label, sizeof label, "step %zu:", i + 1);
            printf("%-15s %s: ", label, json_string_value(json_array_get(steps, i)));
            cli_print_params(json_array_get(sp, i),
                             16 + (int)strlen(json_string_value(json_array_get(steps, i))) + 2);
        }
        if (json_is_object(json_object_get(m, "parameters"))) {
            printf("%-15s ", "parameters:");
            cli_print_params(json_object_get(m, "parameters"), 16);
        }
    }
    /* a run whose model was searched: the chosen parameters */
    const json_t *search = json_object_get(json_object_get(j, "metrics"), "search");
    const json_t *best = json_object_get(search, "best");
    if (json_is_object(best)) {
        printf("%-15s %s, %zu trials, best trial %lld (%s %.4f):", "search:",
               json_string_value(json_object_get(search, "strategy")),
               json_array_size(json_object_get(search, "trials")),
               (long long)json_integer_value(json_object_get(best, "trial")),
               json_string_value(json_object_get(search, "metric")),
               json_number_value(json_object_get(best, "score")));
        const char *k;
        const json_t *v;
        json_t *params = json_object_get(best, "params");
        json_object_foreach(params, k, v)
        {
            printf(" %s=%s", k, json_string_value(v));
        }
        printf("\n");
    }
    const json_t *r = json_object_get(j, "reference");
    if (json_is_object(r)) {
        char b1[32], b2[32];
        printf("%-15s %lld rows: %lld numeric columns (samples of at most %lld values), %lld text "
               "(value counts)%s; %s, %s in the file\n",
               "reference:", (long long)json_integer_value(json_object_get(r, "rows")),
               (long long)json_integer_value(json_object_get(r, "numeric_columns")),
               (long long)json_integer_value(json_object_get(r, "sample_max")),
               (long long)json_integer_value(json_object_get(r, "text_columns")),
               json_is_true(json_object_get(r, "predictions")) ? ", predictions" : "",
               cli_bytes((uint64_t)json_integer_value(json_object_get(r, "bytes")), b1, sizeof b1),
               cli_bytes((uint64_t)json_integer_value(json_object_get(r, "file_bytes")), b2,
                         sizeof b2));
    } else
        printf("%-15s none (monitor check needs --reference)\n", "reference:");
    const json_t *rd = json_object_get(j, "reader");
    if (json_is_object(rd)) {
        printf("%-15s thousands=%s decimal=%s missing=%s%s\n",
               "reader:", json_string_value(json_object_get(rd, "thousands")),
               json_string_value(json_object_get(rd, "decimal")),
               json_string_value(json_object_get(rd, "missing")),
               json_is_true(json_object_get(rd, "recorded"))
                   ? ""
                   : " (not recorded: written before artifacts kept their reader settings; "
                     "the missing tokens of that time)");
        const json_t *lv = json_object_get(rd, "token_levels");
        if (json_is_array(lv)) {
            printf("%-15s", "token levels:");
            for (size_t i = 0; i < json_array_size(lv); i++) {
                const json_t *x = json_array_get(lv, i);
                printf("%s %s: '%s'", i ? "," : "", json_string_value(json_object_get(x, "column")),
                       json_string_value(json_object_get(x, "token")));
            }
            printf("%s (a missing token is a level of a text column only where it was one in "
                   "the training data)\n",
                   json_array_size(lv) ? "" : " none");
        }
    }
    print_json_line("lineage:", json_object_get(j, "lineage"));
    print_json_line("metrics:", json_object_get(j, "metrics"));
}

/* The reader settings new data is read with (the READ section, or those
 * of the time for an artifact written before it). */
static json_t *reader_json(const kn_artifact *a)
{
    kn_read_opts o;
    kn_read_opts_default(&o);
    if (kn_artifact_apply_read_given(a, &o, 0) != KN_OK) return json_null();
    char th[16], de[16], dl[16];
    kn_param_get_text(kn_param_find(kn_read_params(), "thousands"), &o, th, sizeof th);
    kn_param_get_text(kn_param_find(kn_read_params(), "decimal"), &o, de, sizeof de);
    kn_param_get_text(kn_param_find(kn_read_params(), "delimiter"), &o, dl, sizeof dl);
    json_t *j = json_pack(
        "{s:b, s:s, s:s, s:s, s:s, s:s}", "recorded", kn_artifact_get(a, KN_ART_READ, NULL) != NULL,
        "missing", o.missing, "missing_in_text",
        o.missing_in_text == KN_MISSING_IN_TEXT_ALWAYS ? "always" : "auto", "thousands",
        strcmp(th, "auto") ? th : "none", "decimal", de, "delimiter", dl);
    /* the missing tokens that were levels of a text column at training:
     * "level=TOKEN<tab>COLUMN" lines, %-escaped (kiln/io.h) */
    size_t len = 0;
    const char *text = kn_artifact_get(a, KN_ART_READ, &len);
    json_t *levels = o.token_is_level ? json_array() : json_null();
    for (const char *p = text, *end = text + len; p && p < end && json_is_array(levels);) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        size_t n = nl ? (size_t)(nl - p) : (size_t)(end - p);
        const char *tab = n > 6 && !memcmp(p, "level=", 6) ? memchr(p + 6, '\t', n - 6) : NULL;
        if (tab) {
            char tok[256], col[256];
            cli_read_unescape(p + 6, (size_t)(tab - p - 6), tok, sizeof tok);
            cli_read_unescape(tab + 1, (size_t)(p + n - tab - 1), col, sizeof col);
            json_array_append_new(levels, json_pack("{s:s, s:s}", "column", col, "token", tok));
        }
        p += n + 1;
    }
    json_object_set_new(j, "token_levels", levels);
    return j;
}

int cli_inspect_artifact(const char *path)
{
    unsigned char *buf = NULL;
    size_t len = 0;
    kn_artifact *a = NULL;
    kn_pipeline *p = NULL;
    kn_stage_begin("load");
    kn_status e = read_all(path, &buf, &len);
    if (e == KN_OK) e = kn_artifact_decode(buf, len, path, NULL, &a);
    size_t plen = 0;
    if (e == KN_OK && kn_artifact_get(a, KN_ART_PIPELINE, &plen)) e = kn_artifact_pipeline(a, &p);
    kn_stage_end();
    if (e != KN_OK) {
        cli_error("inspect: %s", kn_last_error());
        kn_free(buf);
        kn_artifact_free(a);
        return CLI_FAIL;
    }
    char hash[65], version[16];
    kn_artifact_hash_hex(buf, len, hash);
    snprintf(version, sizeof version, "%u",
             (unsigned)(buf[8] | buf[9] << 8 | buf[10] << 16 | (unsigned)buf[11] << 24));
    kn_free(buf);
    json_t *secs = json_array();
    for (size_t id = 1; id < N_SECTIONS; id++) {
        size_t n = 0;
        if (kn_artifact_get(a, (kn_art_section)id, &n))
            json_array_append_new(secs, json_pack("{s:s, s:I, s:I}", "name", section_names[id],
                                                  "id", (json_int_t)id, "bytes", (json_int_t)n));
    }
    json_t *j = json_pack(
        "{s:s, s:s, s:s, s:s, s:I, s:s, s:b, s:o, s:o, s:o, s:o, s:o}", "command", "inspect",
        "input", path, "kind", "artifact", "format_version", version, "size_bytes", (json_int_t)len,
        "hash", hash, "signed", kn_artifact_signed(a), "sections", secs, "pipeline",
        p ? pipeline_json(p) : json_null(), "lineage", section_json(a, KN_ART_LINEAGE), "metrics",
        section_json(a, KN_ART_METRICS), "reference", reference_json(a));
    if (j) json_object_set_new(j, "reader", reader_json(a));
    kn_pipeline_free(p);
    kn_artifact_free(a);
    if (!j) {
        cli_error("inspect: out of memory");
        return CLI_FAIL;
    }
    if (cli.json) {
        json_object_set_new(j, "stages", cli_stages_json());
        return cli_emit_json(j);
    }
    print_text(j);
    json_decref(j);
    return CLI_OK;
}
