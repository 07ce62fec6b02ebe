/* A served model: loaded once from its artifact (the fitted pipeline and
 * the input schema), with what each request needs ready: the input
 * columns, the schema as one request is checked against it, and the v2
 * metadata body. */
#include "kiln/artifact.h"
#include "kiln/livescore.h"
#include "kiln/log.h"
#include "kiln/mem.h"
#include "serve/serve-impl.h"

#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static double now_s(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

static const kn_schema_column *schema_col(const kn_schema *s, const char *name)
{
    for (size_t i = 0; s && i < s->n_cols; i++)
        if (!strcmp(s->cols[i].name, name)) return &s->cols[i];
    return NULL;
}

/* The input columns: the fitted ones other than the target and weight. */
static kn_status make_inputs(kn__serve_model *m)
{
    const kn_steps_input *rec = kn_pipeline_input(m->p);
    kn__serve_inputs *in = &m->in;
    in->target = kn_pipeline_target(m->p);
    in->weight = kn_pipeline_weight(m->p);
    size_t n = rec ? rec->n_cols : 0;
    in->names = kn_calloc(n ? n : 1, sizeof *in->names);
    in->types = kn_calloc(n ? n : 1, sizeof *in->types);
    in->required = kn_calloc(n ? n : 1, 1);
    if (!in->names || !in->types || !in->required) return KN_ERR_NOMEM;
    for (size_t j = 0; j < n; j++) {
        const char *name = rec->names[j];
        if ((in->target && !strcmp(name, in->target)) || (in->weight && !strcmp(name, in->weight)))
            continue;
        const kn_schema_column *sc = schema_col(m->schema, name);
        in->names[in->n] = kn_strdup(name);
        if (!in->names[in->n]) return KN_ERR_NOMEM;
        in->types[in->n] = rec->types[j];
        in->required[in->n] = sc && sc->required;
        in->n++;
    }
    static _Atomic uint64_t next_uid = 1;
    in->uid = atomic_fetch_add_explicit(&next_uid, 1, memory_order_relaxed);
    in->all_numeric = 1;
    for (size_t j = 0; j < in->n; j++) in->all_numeric &= in->types[j] == KN_COL_NUMERIC;
    return KN_OK;
}

/* The schema as one request is checked against it: the rules of a row
 * (types, missing values where none may be, ranges, categories, patterns)
 * stay; the rules of a whole table (row counts, keys, uniqueness, a share
 * of missing values) mean nothing for a batch of a few rows and go, as do
 * the columns that are not inputs (the target). */
static void relax_schema(kn__serve_model *m)
{
    kn_schema *s = m->schema;
    s->min_rows = s->max_rows = 0;
    for (size_t i = 0; i < s->n_keys; i++) kn_free(s->keys[i]);
    s->n_keys = 0;
    for (size_t i = 0; i < s->n_cols; i++) {
        kn_schema_column *c = &s->cols[i];
        int input = 0;
        for (size_t j = 0; j < m->in.n && !input; j++) input = !strcmp(m->in.names[j], c->name);
        c->unique = 0;
        if (c->max_missing > 0) c->max_missing = 1;
        if (!input) {
            c->required = 0;
            c->max_missing = 1;
            c->has_min = c->has_max = 0;
        }
    }
}

static void add_tensor(kn__sbuf *b, const char *name, const char *datatype)
{
    kn__sbuf_puts(b, "{\"name\":");
    kn__sbuf_json_str(b, name, strlen(name));
    kn__sbuf_printf(b, ",\"datatype\":\"%s\",\"shape\":[-1]}", datatype);
}

static kn_status make_metadata(kn__serve_model *m)
{
    kn__sbuf b = {0};
    kn__sbuf_puts(&b, "{\"name\":");
    kn__sbuf_json_str(&b, m->name, strlen(m->name));
    kn__sbuf_puts(&b, ",\"versions\":[");
    kn__sbuf_json_str(&b, m->version, strlen(m->version));
    kn__sbuf_puts(&b, "],\"platform\":\"kiln\",\"inputs\":[");
    for (size_t j = 0; j < m->in.n; j++) {
        if (j) kn__sbuf_puts(&b, ",");
        add_tensor(&b, m->in.names[j], kn__serve_datatype(m->in.types[j]));
    }
    kn__sbuf_puts(&b, "],\"outputs\":[");
    add_tensor(&b, "prediction", m->n_classes ? "BYTES" : "FP64");
    for (size_t c = 0; c < m->n_classes; c++) {
        kn__sbuf_puts(&b, ",");
        const char *label = kn_model_class(m->m, c);
        size_t len = strlen(label);
        char *name = kn_malloc(len + 7);
        if (!name) {
            kn__sbuf_free(&b);
            return KN_ERR_NOMEM;
        }
        memcpy(name, "proba_", 6);
        memcpy(name + 6, label, len + 1);
        add_tensor(&b, name, "FP64");
        kn_free(name);
    }
    kn__sbuf_puts(&b, "],\"parameters\":{\"task\":");
    kn__sbuf_puts(&b, m->n_classes ? "\"classification\"" : "\"regression\"");
    kn__sbuf_puts(&b, ",\"model\":");
    kn__sbuf_json_str(&b, kn_model_name(m->m), strlen(kn_model_name(m->m)));
    kn__sbuf_puts(&b, "}}");
    m->metadata = kn__sbuf_take(&b, &m->metadata_len);
    return m->metadata ? KN_OK : KN_ERR_NOMEM;
}

/* The artifact's drift reference and held-out predictions, for
 * --drift-window (none in an artifact written before KN_ART_REFERENCE,
 * or trained without a test split). */
static kn_status load_reference(const kn_artifact *art, const char *path, kn__serve_model *m)
{
    size_t len = 0;
    const void *bytes = kn_artifact_get(art, KN_ART_REFERENCE, &len);
    char *what = NULL;
    kn_status e = KN_OK;
    if (bytes) {
        what = kn_sprintf("%s (drift reference)", path);
        e = what ? kn_drift_ref_decode(bytes, len, what, &m->ref) : KN_ERR_NOMEM;
        kn_free(what);
        if (e != KN_OK) return e;
    }
    /* the sample of the training rows: what the input-anomaly forest fits on */
    uint64_t from = 0;
    e = kn_artifact_reference_rows(art, path, &m->ref_rows, &from);
    if (e == KN_ERR_NOT_FOUND) e = KN_OK;  /* an artifact written before they were kept */
    if (e != KN_OK && e != KN_ERR_NOMEM) { /* only anomaly scoring needs them: serve on */
        kn_log(KN_LOG_WARN, "serve: %s: its sample of training rows is not used: %s", path,
               kn_last_error());
        e = KN_OK;
    }
    if (e != KN_OK) return e;
    /* the held-out predictions: what the windows' predictions are compared with */
    bytes = kn_artifact_get(art, KN_ART_HELDOUT, &len);
    if (!bytes) return KN_OK;
    kn_heldout h;
    what = kn_sprintf("%s (held-out predictions)", path);
    e = what ? kn_heldout_decode(bytes, len, what, &h) : KN_ERR_NOMEM;
    kn_free(what);
    if (e != KN_OK) return e;
    if (h.n && h.pred) {
        m->heldout_pred = h.pred;
        m->n_heldout = h.n;
        h.pred = NULL;
        /* a classifier's scores of the same rows, what its windows' scores are compared with */
        if (h.proba && h.k >= 2 && h.k == m->n_classes &&
            !(m->heldout_score = kn_malloc(h.n * sizeof *m->heldout_score)))
            e = KN_ERR_NOMEM;
        for (size_t i = 0; m->heldout_score && i < h.n; i++)
            m->heldout_score[i] = kn_drift_class_score(h.proba + i * h.k, h.k);
    }
    kn_heldout_free(&h);
    return e;
}

/* The test scores the artifact recorded for the live metrics (NaN: none):
 * what alert rules on live_drop compare a feedback window with. */
static void load_test_scores(const kn_artifact *art, kn__serve_model *m)
{
    for (int i = 0; i < 4; i++) m->test_score[i] = NAN;
    size_t len = 0;
    const char *text = kn_artifact_get(art, KN_ART_METRICS, &len);
    json_t *j = text ? json_loadb(text, len, 0, NULL) : NULL;
    json_t *test = json_object_get(j, "test");
    for (int i = 0; i < 4; i++) {
        json_t *v = json_object_get(test, kn_live_metric_name((kn_live_metric)i));
        if (json_is_number(v)) m->test_score[i] = json_number_value(v);
    }
    json_decref(j);
}

kn_status kn__serve_model_load(const char *name, const char *version, const char *path,
                               const unsigned char *public_key, kn__serve_model *m)
{
    memset(m, 0, sizeof *m);
    double t0 = now_s();
    kn_artifact *art = NULL;
    m->name = kn_strdup(name);
    m->version = kn_strdup(version ? version : "1");
    m->path = kn_strdup(path);
    kn_status e = m->name && m->version && m->path ? KN_OK : KN_ERR_NOMEM;
    if (e == KN_OK) e = kn_artifact_read(path, public_key, &art);
    if (e == KN_OK) e = kn_artifact_pipeline(art, &m->p);
    if (e == KN_OK && !(m->m = kn_pipeline_model(m->p)))
        e = kn_fail(KN_ERR_INVALID,
                    "%s holds preparation steps only, no model: it cannot serve predictions", path);
    size_t len = 0;
    const char *text = e == KN_OK ? kn_artifact_get(art, KN_ART_SCHEMA, &len) : NULL;
    if (text) {
        char *what = kn_sprintf("%s (input schema)", path);
        e = what ? kn_schema_parse(text, len, what, &m->schema) : KN_ERR_NOMEM;
        kn_free(what);
    }
    if (e == KN_OK) {
        m->n_classes = kn_model_task(m->m) == KN_TASK_CLASSIFICATION ? kn_model_n_classes(m->m) : 0;
        e = make_inputs(m);
    }
    if (e == KN_OK && m->schema) relax_schema(m);
    if (e == KN_OK) e = load_reference(art, path, m);
    if (e == KN_OK) e = make_metadata(m);
    if (e == KN_OK) load_test_scores(art, m);
    kn_artifact_free(art);
    if (e != KN_OK) {
        kn__serve_model_free(m);
        return e;
    }
    m->load_s = now_s() - t0;
    return KN_OK;
}

void kn__serve_model_free(kn__serve_model *m)
{
    if (!m) return;
    kn_free(m->name);
    kn_free(m->version);
    kn_free(m->path);
    kn_row_predictor_free(atomic_load(&m->rows));
    kn_pipeline_free(m->p);
    kn_schema_free(m->schema);
    for (size_t j = 0; j < m->in.n; j++) kn_free(m->in.names[j]);
    kn_free(m->in.names);
    kn_free(m->in.types);
    kn_free(m->in.required);
    free(m->metadata);
    kn__livestats_free(m->live);
    kn__feedback_free(m->fb);
    kn__drift_free(m->drift);
    kn_drift_ref_free(m->ref);
    kn_frame_free(m->ref_rows);
    kn_free(m->heldout_pred);
    kn_free(m->heldout_score);
    memset(m, 0, sizeof *m);
}

static long input_index(const kn__serve_inputs *in, const char *name)
{
    for (size_t j = 0; j < in->n; j++)
        if (!strcmp(in->names[j], name)) return (long)j;
    return -1;
}

int kn__serve_model_compatible(const kn__serve_model *old, const kn__serve_model *nw, char *why,
                               size_t n)
{
    const char *task_old = old->n_classes ? "a classifier" : "a regressor";
    const char *task_new = nw->n_classes ? "a classifier" : "a regressor";
    if (!old->n_classes != !nw->n_classes) {
        snprintf(why, n, "version %s is %s and version %s %s: the responses would change shape",
                 nw->version, task_new, old->version, task_old);
        return -1;
    }
    if (old->n_classes != nw->n_classes) {
        snprintf(why, n, "version %s has %zu classes, version %s %zu: the outputs would change",
                 nw->version, nw->n_classes, old->version, old->n_classes);
        return -1;
    }
    for (size_t c = 0; c < old->n_classes; c++)
        if (strcmp(kn_model_class(old->m, c), kn_model_class(nw->m, c))) {
            snprintf(why, n, "class %zu is '%.64s' in version %s but '%.64s' in version %s", c,
                     kn_model_class(nw->m, c), nw->version, kn_model_class(old->m, c),
                     old->version);
            return -1;
        }
    /* a request valid for the old version stays valid: every column it may
     * send is still an input of the same type, and no column becomes
     * required that was not */
    for (size_t j = 0; j < old->in.n; j++) {
        long k = input_index(&nw->in, old->in.names[j]);
        if (k < 0) {
            snprintf(why, n,
                     "version %s does not take input column '%.64s' (version %s does): requests "
                     "that send it would get 400",
                     nw->version, old->in.names[j], old->version);
            return -1;
        }
        /* what a client sends: FP64 and INT64 numbers, BYTES text */
        if (strcmp(kn__serve_datatype(nw->in.types[k]), kn__serve_datatype(old->in.types[j]))) {
            snprintf(why, n, "input column '%.64s' is %s in version %s but %s in version %s",
                     old->in.names[j], kn__serve_datatype(nw->in.types[k]), nw->version,
                     kn__serve_datatype(old->in.types[j]), old->version);
            return -1;
        }
    }
    for (size_t k = 0; k < nw->in.n; k++) {
        long j = input_index(&old->in, nw->in.names[k]);
        if (nw->in.required[k] && (j < 0 || !old->in.required[j])) {
            snprintf(why, n,
                     "version %s requires input column '%.64s', which version %s %s: requests "
                     "valid today would get 400",
                     nw->version, nw->in.names[k], old->version,
                     j < 0 ? "does not take" : "leaves optional");
            return -1;
        }
    }
    return 0;
}
