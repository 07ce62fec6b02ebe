/* kiln train --out NAME.kiln: the fitted pipeline as an artifact
 * (kiln/artifact.h), with the input schema inferred from the training data,
 * the lineage of the data file, the held-out scores and predictions. */
#include "cli/train_artifact.h"
#include "kiln/artifact.h"
#include "kiln/mem.h"
#include "kiln/schema.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

int cli_out_is_artifact(const char *out)
{
    size_t len = strlen(out);
    return len >= 5 && !strcmp(out + len - 5, ".kiln");
}

/* The input contract of a trained pipeline, over its feature columns (not
 * the target, weight or ignored columns): each column's type, whether it
 * may be missing (only where the training data had missing values) and
 * the categories of text columns. Value ranges, uniqueness and row counts
 * are left out (they describe the training sample, not valid input);
 * offending rows are quarantined. */
static kn_status schema_yaml(const kn_frame *f, const char *target, const char *weight, char **yaml)
{
    size_t n = 0, *idx = kn_malloc((kn_frame_n_cols(f) + 1) * sizeof *idx);
    if (!idx) return KN_ERR_NOMEM;
    for (size_t j = 0; j < kn_frame_n_cols(f); j++) {
        const kn_column *c = kn_frame_col(f, j);
        const char *name = kn_column_name(c);
        if ((target && !strcmp(name, target)) || (weight && !strcmp(name, weight)) ||
            kn_column_role(c) == KN_ROLE_IGNORE)
            continue;
        idx[n++] = j;
    }
    kn_frame *g = NULL;
    kn_schema *s = NULL;
    kn_status e = kn_frame_select_cols(f, idx, n, &g);
    kn_free(idx);
    if (e == KN_OK) e = kn_schema_infer(g, 50, &s);
    kn_frame_free(g);
    if (e != KN_OK) return e;
    s->policy = KN_POLICY_QUARANTINE;
    s->min_rows = s->max_rows = 0;
    for (size_t k = 0; k < s->n_keys; k++) kn_free(s->keys[k]);
    s->n_keys = 0;
    for (size_t j = 0; j < s->n_cols; j++) {
        kn_schema_column *c = &s->cols[j];
        c->has_min = c->has_max = 0;
        c->unique = 0;
        c->has_policy = 0;
        if (c->max_missing > 0) c->max_missing = 1;
    }
    e = kn_schema_to_yaml(s,
                          "input schema of kiln train: types, missing values and categories "
                          "seen in the training data",
                          yaml);
    kn_schema_free(s);
    return e;
}

static const char *base_name(const char *path)
{
    const char *slash = strrchr(path, '/');
    return slash ? slash + 1 : path;
}

static json_t *lineage_json(const cli_train_record *r, const char *hash)
{
    json_t *src = json_pack("{s:s, s:s, s:s, s:s, s:I}", "name", base_name(r->data), "kind", "file",
                            "location", r->data, "hash", hash, "rows", (json_int_t)r->rows_in);
    json_t *j = json_pack("{s:n, s:I, s:s, s:n, s:n}", "spec_hash", "seed", (json_int_t)r->seed,
                          "kiln_version", kn_version(), "git_commit", "parent_run");
    const char *fixed = getenv("KILN_DETERMINISTIC_TIME");
    if (!(fixed && *fixed)) {
        char when[32];
        time_t now = time(NULL);
        struct tm tm;
        gmtime_r(&now, &tm);
        strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%SZ", &tm);
        json_object_set_new(j, "created", json_string(when));
    }
    json_object_set_new(j, "sources", json_pack("[o]", src));
    return j;
}

static json_t *metrics_json(const kn_model *m, const cli_train_record *r)
{
    int classify = kn_model_task(m) == KN_TASK_CLASSIFICATION;
    json_t *test = json_null();
    if (r->scores) {
        test = json_object();
        for (size_t i = 0; i < r->scores->n; i++)
            json_object_set_new(test, r->scores->name[i], json_real(r->scores->value[i]));
    }
    size_t pos;
    const char *positive = NULL;
    if (classify && kn_model_n_classes(m) == 2 &&
        kn_model_positive_class(m, r->positive_class, &pos) == KN_OK)
        positive = kn_model_class(m, pos);
    json_t *rows = json_pack("{s:I, s:I, s:I, s:I, s:I, s:I}", "in", (json_int_t)r->rows_in, "kept",
                             (json_int_t)r->rows_in, "quarantined", (json_int_t)0, "deduplicated",
                             (json_int_t)0, "train", (json_int_t)r->rows_train, "test",
                             (json_int_t)r->rows_test);
    return json_pack("{s:s, s:o, s:n, s:o, s:n, s:o}", "task",
                     classify ? "classification" : "regression", "positive_class",
                     positive ? json_string(positive) : json_null(), "cv", "test", test, "baseline",
                     "rows", rows);
}

static kn_status set_json(kn_artifact *a, kn_art_section id, json_t *j)
{
    char *text = j ? json_dumps(j, JSON_PRESERVE_ORDER | JSON_COMPACT) : NULL;
    json_decref(j);
    if (!text) return kn_fail(KN_ERR_NOMEM, "out of memory writing the artifact's JSON");
    kn_status e = kn_artifact_set(a, id, text, strlen(text));
    free(text);
    return e;
}

/* The held-out rows' targets, predictions and probabilities. */
static kn_status set_heldout(kn_artifact *a, const kn_pipeline *p, const kn_frame *test)
{
    const kn_model *m = kn_pipeline_model(p);
    kn_heldout h = {0};
    size_t n = 0;
    h.classification = kn_model_task(m) == KN_TASK_CLASSIFICATION;
    kn_status e = kn_model_targets(m, test, &h.y);
    if (e == KN_OK) e = kn_pipeline_predict(p, test, &h.pred, &h.n);
    if (e == KN_OK && h.classification) {
        h.k = kn_model_n_classes(m);
        h.classes = kn_calloc(h.k, sizeof *h.classes);
        if (!h.classes) e = KN_ERR_NOMEM;
        for (size_t c = 0; e == KN_OK && c < h.k; c++) h.classes[c] = (char *)kn_model_class(m, c);
        if (e == KN_OK) e = kn_pipeline_predict_proba(p, test, &h.proba, &n);
    }
    unsigned char *buf = NULL;
    size_t len = 0;
    if (e == KN_OK) e = kn_heldout_encode(&h, &buf, &len);
    if (e == KN_OK) e = kn_artifact_set(a, KN_ART_HELDOUT, buf, len);
    kn_free(buf);
    kn_free(h.classes); /* the labels are the model's */
    kn_free(h.y);
    kn_free(h.pred);
    kn_free(h.proba);
    return e;
}

kn_status cli_write_train_artifact(const kn_pipeline *p, const kn_frame *f, const kn_frame *fit,
                                   const kn_frame *test, const cli_train_record *r)
{
    unsigned char sk[KN_ARTIFACT_SECRET_KEY_BYTES];
    kn_status e = r->sign_key ? kn_artifact_key_load(r->sign_key, 1, sk) : KN_OK;
    if (e != KN_OK) return kn_fail_prefix(e, "--sign-key: ");
    char hash[65];
    if (e == KN_OK) e = kn_artifact_hash_file(r->data, hash);
    kn_artifact *a = NULL;
    if (e == KN_OK) e = kn_artifact_new(&a);
    if (e == KN_OK) e = kn_artifact_set_pipeline(a, p);
    char *yaml = NULL;
    if (e == KN_OK) e = schema_yaml(f, r->target, r->weight, &yaml);
    if (e == KN_OK) e = kn_artifact_set(a, KN_ART_SCHEMA, yaml, strlen(yaml));
    kn_free(yaml);
    if (e == KN_OK) e = set_json(a, KN_ART_METRICS, metrics_json(kn_pipeline_model(p), r));
    if (e == KN_OK) e = set_json(a, KN_ART_LINEAGE, lineage_json(r, hash));
    if (e == KN_OK && test && r->scores) e = set_heldout(a, p, test);
    if (e == KN_OK) e = kn_artifact_set_reference(a, p, fit);
    kn_read_opts def;
    kn_read_opts_default(&def);
    if (e == KN_OK) e = kn_artifact_set_read_rows(a, r->read ? r->read : &def, f);
    if (e == KN_OK) e = kn_artifact_write(a, r->out, r->sign_key ? sk : NULL);
    memset(sk, 0, sizeof sk);
    kn_artifact_free(a);
    return e;
}
