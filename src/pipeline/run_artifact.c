/* The run's lineage and artifact (see kiln/run.h and kiln/artifact.h). */
#include "build_info.h"
#include "kiln/json.h"
#include "kiln/mem.h"
#include "kiln/profile.h"
#include "kiln/schema.h"
#include "kiln/split.h"
#include "pipeline/run-impl.h"

#include <errno.h>
#include <jansson.h>
#include <sodium.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

/* A number for JSON; NaN (a metric undefined on its rows) as null. */
static json_t *num(double v)
{
    return isfinite(v) ? json_real(v) : json_null();
}

/* The codes of a column of the training rows (kn_split_labels) into st. */
static kn_status hash_codes(crypto_generichash_state *st, const kn_frame *f, const char *column)
{
    int32_t *codes = NULL;
    size_t k = 0;
    kn_status e = kn_split_labels(f, column, &codes, &k);
    if (e != KN_OK) return e;
    crypto_generichash_update(st, (const unsigned char *)codes, kn_frame_n_rows(f) * sizeof *codes);
    kn_free(codes);
    return KN_OK;
}

kn_status kn__run_folds_hash(kn__run_state *w)
{
    const kn_prep_spec *s = w->s;
    const kn_spec_eval *v = &s->eval;
    crypto_generichash_state st;
    crypto_generichash_init(&st, NULL, 0, 32);
    char text[256];
    int len = snprintf(text, sizeof text, "%d/%zu/%zu/%d/%zu/%llu/%llu", (int)w->r->cv.split,
                       v->folds, v->repeats, v->shuffle, v->gap, (unsigned long long)w->r->seed,
                       (unsigned long long)w->r->rows_train);
    crypto_generichash_update(&st, (const unsigned char *)text, (size_t)len);
    for (size_t i = 0; i < w->r->n_sources; i++)
        crypto_generichash_update(&st, (const unsigned char *)w->r->sources[i].hash, 64);
    kn_status e = hash_codes(&st, w->train, s->target);
    if (e == KN_OK && v->groups) e = hash_codes(&st, w->train, v->groups);
    if (e == KN_OK && v->order_by) e = hash_codes(&st, w->train, v->order_by);
    unsigned char h[32];
    crypto_generichash_final(&st, h, sizeof h);
    sodium_bin2hex(w->r->folds_hash, sizeof w->r->folds_hash, h, sizeof h);
    return e;
}

static const char *kind_name(kn_source_kind k)
{
    switch (k) {
    case KN_SOURCE_FILE:
        return "file";
    case KN_SOURCE_SQLITE:
        return "sqlite";
    case KN_SOURCE_POSTGRES:
        return "postgres";
    case KN_SOURCE_HTTP:
        return "http";
    default:
        return "group";
    }
}

kn_status kn__run_lineage(kn__run_state *w)
{
    const kn_prep_spec *s = w->s;
    kn_run_output *r = w->r;
    if (!(r->sources = kn_calloc(s->n_sources ? s->n_sources : 1, sizeof *r->sources)))
        return KN_ERR_NOMEM;
    kn_status e = KN_OK;
    for (size_t i = 0; e == KN_OK && i < s->n_sources; i++) {
        const kn_spec_source *src = &s->sources[i];
        kn_run_lineage_source *l = &r->sources[r->n_sources++];
        l->name = kn_strdup(src->name);
        l->kind = kn_strdup(kind_name(src->kind));
        l->location = kn_strdup(src->location ? src->location : "");
        if (!l->name || !l->kind || !l->location) return KN_ERR_NOMEM;
        if (r->prep && i < r->prep->n_sources) l->rows = r->prep->sources[i].rows;
        if (src->kind == KN_SOURCE_FILE)
            e = kn_artifact_hash_file(src->location, l->hash);
        else if (src->query) /* SQL: the query text (with the database it ran on) */
            kn_artifact_hash_hex(src->query, strlen(src->query), l->hash);
        else
            kn_artifact_hash_hex(l->location, strlen(l->location), l->hash);
    }
    return e;
}

/* The input schema, rules that hold for any batch of new rows, even one
 * row: the spec's own schema, else one inferred from the training rows with
 * types, categories and missing values only where training had them
 * (ranges seen in training are not a contract), as `kiln train` infers it.
 * Either way the target and the ignored columns are optional (rows to
 * predict need neither), a share of missing values becomes "allowed"
 * (a row-level rule cannot judge a share) and the row-count bounds go. */
static int is_ignored(const kn_prep_spec *s, const char *name)
{
    for (size_t i = 0; i < s->n_ignore; i++)
        if (!strcmp(s->ignore[i], name)) return 1;
    return 0;
}

static kn_status input_schema(kn__run_state *w, char **yaml)
{
    const kn_prep_spec *s = w->s;
    kn_schema *sc = NULL;
    kn_status e = s->schema ? kn_schema_load(s->schema, &sc) : kn_schema_infer(w->train, 50, &sc);
    if (e != KN_OK) return e;
    for (size_t j = 0; j < sc->n_cols; j++) {
        kn_schema_column *c = &sc->cols[j];
        if (!strcmp(c->name, s->target) || is_ignored(s, c->name)) {
            c->required = 0;
            c->max_missing = 1;
            if (s->schema) continue;
            /* the model never reads them: a range or the levels inferred from
             * the training rows would set aside new rows for a new id or a
             * label past the training ones (kiln predict and eval) */
            c->unique = 0;
            c->has_min = c->has_max = 0;
            for (size_t k = 0; k < c->n_categories; k++) kn_free(c->categories[k]);
            kn_free(c->categories);
            c->categories = NULL;
            c->n_categories = 0;
            kn_free(c->pattern);
            c->pattern = NULL;
            continue;
        }
        if (c->max_missing > 0) c->max_missing = 1;
        if (s->schema) continue;
        c->has_min = c->has_max = 0;
        c->unique = 0;
    }
    sc->min_rows = sc->max_rows = 0;
    if (!s->schema) {
        for (size_t k = 0; k < sc->n_keys; k++) kn_free(sc->keys[k]);
        sc->n_keys = 0;
        sc->policy = KN_POLICY_QUARANTINE;
    }
    e = kn_schema_to_yaml(sc,
                          s->schema ? "input schema of the model (the spec's, for batches of any "
                                      "size; target and ignored columns optional)"
                                    : "input schema of the model (inferred from the training rows)",
                          yaml);
    kn_schema_free(sc);
    return e;
}

static json_t *scores_json(const kn_scores *sc)
{
    json_t *o = json_object();
    for (size_t i = 0; o && i < sc->n; i++) json_object_set_new(o, sc->name[i], num(sc->value[i]));
    return o;
}

/* The test scores' intervals {NAME: [lo, hi]}, or null. */
static json_t *intervals_json(const kn_scores *sc)
{
    if (!sc->lo) return json_null();
    json_t *o = json_object();
    for (size_t i = 0; i < sc->n; i++)
        json_object_set_new(o, sc->name[i], json_pack("[o, o]", num(sc->lo[i]), num(sc->hi[i])));
    return o;
}

/* {"by": COLUMN, "worst": VALUE|null, "values": [{"value", "rows", NAME: v, ..}]}, or null. */
static json_t *slices_json(const kn_scores *sc, const char *by)
{
    if (!sc->n_slices) return json_null();
    json_t *values = json_array();
    for (size_t v = 0; v < sc->n_slices; v++) {
        const kn_scores *x = &sc->slices[v].scores;
        json_t *o =
            json_pack("{s:s, s:I}", "value", sc->slices[v].value, "rows", (json_int_t)x->rows);
        for (size_t i = 0; i < x->n; i++) json_object_set_new(o, x->name[i], num(x->value[i]));
        json_array_append_new(values, o);
    }
    return json_pack("{s:s, s:s?, s:o}", "by", by, "worst",
                     sc->worst >= 0 ? sc->slices[sc->worst].value : NULL, "values", values);
}

/* {"columns_compared": n, "columns_differing": n, "differing": [{"column", "test",
 * "effect", "p_adjusted", "psi"}, ..]}, or null without a test set. */
static json_t *split_check_json(const kn_run_output *r)
{
    if (!r->has_split_check) return json_null();
    const kn_compare_report *c = &r->split_check;
    json_t *differ = json_array();
    for (size_t i = 0; i < c->n_cols; i++)
        if (c->cols[i].flagged)
            json_array_append_new(
                differ, json_pack("{s:s, s:s, s:o, s:o, s:o}", "column", c->cols[i].name, "test",
                                  c->cols[i].test, "effect", num(c->cols[i].effect), "p_adjusted",
                                  num(c->cols[i].p_adjusted), "psi", num(c->cols[i].psi)));
    return json_pack("{s:I, s:I, s:o}", "columns_compared", (json_int_t)c->n_cols,
                     "columns_differing", (json_int_t)c->n_flagged, "differing", differ);
}

static json_t *cv_json(const kn_run_output *r)
{
    static const char *const splits[] = {"kfold", "stratified", "group", "time_series", "auto"};
    const kn_cv_result *cv = &r->cv;
    json_t *metrics = json_object();
    for (size_t m = 0; m < cv->n_scores; m++) {
        json_t *folds = json_array();
        for (size_t f = 0; f < cv->k; f++)
            json_array_append_new(folds, num(cv->score[f * cv->n_scores + m]));
        json_object_set_new(metrics, cv->name[m],
                            json_pack("{s:o, s:o, s:o}", "mean", num(cv->mean[m]), "std",
                                      num(cv->std[m]), "folds", folds));
    }
    json_t *train = json_null(), *verdict = json_null();
    if (cv->has_train) {
        train = json_object();
        for (size_t m = 0; m < cv->n_scores; m++)
            json_object_set_new(train, cv->name[m],
                                json_pack("{s:o, s:o}", "mean", num(cv->train_mean[m]), "std",
                                          num(cv->train_std[m])));
        verdict = json_pack("{s:s, s:s}", "fit", kn_fit_verdict_name(cv->verdict), "evidence",
                            cv->verdict_text);
    }
    return json_pack("{s:s, s:I, s:o, s:o, s:o}", "split",
                     (unsigned)cv->split < 5 ? splits[cv->split] : "?", "k", (json_int_t)cv->k,
                     "metrics", metrics, "train", train, "verdict", verdict);
}

/* "name=value" texts as {name: value}. */
static json_t *params_json(char *const *kv, size_t n)
{
    json_t *o = json_object();
    for (size_t i = 0; o && i < n; i++) {
        const char *eq = strchr(kv[i], '=');
        if (!eq) continue;
        char *name = kn_sprintf("%.*s", (int)(eq - kv[i]), kv[i]);
        if (name) json_object_set_new(o, name, json_string(eq + 1));
        kn_free(name);
    }
    return o;
}

/* The model's search: its settings, every trial (parameters, status, fold
 * scores; no timings or costs, which vary between runs) and the best, or
 * null without one. */
static json_t *search_json(const kn__run_state *w)
{
    const kn_run_output *r = w->r;
    if (!r->has_search) return json_null();
    const kn_tune_result *t = &r->search;
    const kn_spec_search *x = &w->s->search;
    json_t *trials = json_array();
    for (size_t i = 0; i < t->n; i++) {
        const kn_tune_trial *tr = &t->trial[i];
        json_t *folds = json_array();
        for (size_t f = 0; tr->fold_score && f < tr->n_folds; f++)
            json_array_append_new(folds, num(tr->fold_score[f]));
        const char *status = tr->status == KN_TRIAL_OK       ? "ok"
                             : tr->status == KN_TRIAL_PRUNED ? "pruned"
                                                             : "failed";
        json_t *o =
            json_pack("{s:I, s:o, s:s, s:o, s:o, s:o, s:o}", "trial", (json_int_t)tr->id, "params",
                      params_json(tr->params, tr->n_params), "status", status, "score",
                      num(tr->score), "std", num(tr->std), "train", num(tr->train), "folds", folds);
        if (tr->resource > 0) {
            if (x->strategy == KN_TUNE_HYPERBAND)
                json_object_set_new(o, "bracket", json_integer((json_int_t)tr->bracket));
            json_object_set_new(o, "rung", json_integer((json_int_t)tr->rung));
            json_object_set_new(o, "resource", json_real(tr->resource));
        }
        if (tr->error) json_object_set_new(o, "error", json_string(tr->error));
        json_array_append_new(trials, o);
    }
    const kn_tune_trial *b = t->best < t->n ? &t->trial[t->best] : NULL;
    json_t *best = b ? json_pack("{s:I, s:o, s:o, s:o}", "trial", (json_int_t)b->id, "params",
                                 params_json(r->chosen, r->n_chosen), "score", num(b->score), "std",
                                 num(b->std))
                     : json_null();
    return json_pack("{s:s, s:s?, s:b, s:I, s:I, s:o, s:o}", "strategy",
                     kn_tune_strategy_name((kn_tune_strategy)x->strategy), "metric", t->metric,
                     "higher_is_better", t->higher_is_better, "folds",
                     (json_int_t)(x->folds ? x->folds : w->s->eval.folds), "seed",
                     (json_int_t)r->search_seed, "trials", trials, "best", best);
}

static json_t *metrics_json(const kn__run_state *w)
{
    const kn_run_output *r = w->r;
    const kn_prep_result *p = r->prep;
    json_t *rows = json_pack("{s:I, s:I, s:I, s:I, s:I, s:I}", "in", (json_int_t)p->rows_in, "kept",
                             (json_int_t)kn_frame_n_rows(p->frame), "quarantined",
                             (json_int_t)p->rows_quarantined, "deduplicated",
                             (json_int_t)p->duplicates_removed, "train", (json_int_t)r->rows_train,
                             "test", (json_int_t)r->rows_test);
    const char *pos = r->has_test ? r->test.positive_class : r->cv.positive_class;
    json_t *m = json_pack(
        "{s:s, s:s?, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:O?}", "task", r->task, "positive_class",
        pos, "cv", r->has_cv ? cv_json(r) : json_null(), "test",
        r->has_test ? scores_json(&r->test) : json_null(), "test_intervals",
        intervals_json(&r->test), "test_slices", slices_json(&r->test, w->s->eval.slice_by),
        "baseline", r->has_test ? scores_json(&r->baseline) : json_null(), "representativeness",
        split_check_json(r), "rows", rows, "curves", w->curves);
    if (m && r->has_search) json_object_set_new(m, "search", search_json(w));
    return m;
}

static json_t *lineage_json(const kn__run_state *w)
{
    const kn_run_output *r = w->r;
    json_t *sources = json_array();
    for (size_t i = 0; i < r->n_sources; i++) {
        const kn_run_lineage_source *l = &r->sources[i];
        json_array_append_new(sources, json_pack("{s:s, s:s, s:s, s:s, s:I}", "name", l->name,
                                                 "kind", l->kind, "location", l->location, "hash",
                                                 l->hash, "rows", (json_int_t)l->rows));
    }
    return json_pack("{s:s, s:I, s:s, s:s?, s:s?, s:o}", "spec_hash", r->spec_hash, "seed",
                     (json_int_t)r->seed, "kiln_version", KN_VERSION_STRING, "git_commit",
                     KN_GIT_COMMIT[0] ? KN_GIT_COMMIT : NULL, "parent_run", w->o->parent_run,
                     "sources", sources);
}

static kn_status set_json(kn_artifact *a, kn_art_section id, json_t *v)
{
    char *text = v ? kn_json_text(v, 2) : NULL;
    json_decref(v);
    if (!text) return KN_ERR_NOMEM;
    kn_status e = kn_artifact_set(a, id, text, strlen(text));
    free(text);
    return e;
}

kn_status kn__run_artifact(kn__run_state *w)
{
    const kn_prep_spec *s = w->s;
    kn_run_output *r = w->r;
    kn_status e = kn_artifact_new(&r->artifact);
    kn_artifact *a = r->artifact;
    if (e == KN_OK && s->text) e = kn_artifact_set(a, KN_ART_SPEC, s->text, s->text_len);
    /* the reader settings of the first source (the rows' own), so that new
     * data is read as it was (kiln/artifact.h: READ) */
    kn_read_opts ro;
    kn_read_opts_default(&ro);
    for (size_t i = 0; e == KN_OK && s->n_sources && i < s->sources[0].n_read; i++)
        e = kn_param_set(kn_read_params(), &ro, s->sources[0].read[i]);
    const kn_frame *rows = r->prep && r->prep->frame ? r->prep->frame : w->train;
    if (e == KN_OK) e = kn_artifact_set_read_rows(a, &ro, rows);
    char *yaml = NULL;
    if (e == KN_OK) e = input_schema(w, &yaml);
    if (e == KN_OK) e = kn_artifact_set(a, KN_ART_SCHEMA, yaml, strlen(yaml));
    kn_free(yaml);
    kn_profile *prof = NULL;
    if (e == KN_OK) e = kn_profile_compute(w->train, &prof);
    if (e == KN_OK) e = set_json(a, KN_ART_PROFILE, kn_profile_json(prof));
    kn_profile_free(prof);
    if (e == KN_OK) e = kn_artifact_set_pipeline(a, r->pipeline);
    if (e == KN_OK) e = set_json(a, KN_ART_METRICS, metrics_json(w));
    if (e == KN_OK) e = set_json(a, KN_ART_LINEAGE, lineage_json(w));
    if (e == KN_OK && r->has_test) {
        unsigned char *buf = NULL;
        size_t len = 0;
        e = kn_heldout_encode(&w->heldout, &buf, &len);
        if (e == KN_OK) e = kn_artifact_set(a, KN_ART_HELDOUT, buf, len);
        kn_free(buf);
    }
    if (e == KN_OK) e = kn_artifact_set_reference(a, r->pipeline, w->train);
    if (e == KN_OK)
        e = kn_artifact_encode(a, w->o->secret_key, &r->artifact_bytes, &r->artifact_len);
    return e;
}
