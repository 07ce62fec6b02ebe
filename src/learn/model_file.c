/* A model's encoding and the .kmd file around it (kiln/model.h): the
 * encoding is the format version then the container's payload; a file of
 * format 4 holds the same bytes after its version and then the reader
 * settings, which an encoding (embedded in artifacts, which keep their
 * own) leaves out. */
#include "kiln/container.h"
#include "kiln/mem.h"
#include "learn/model-impl.h"

#include <string.h>

static const char kmd_magic[8] = {'K', 'I', 'L', 'N', 'M', 'D', 'L', '\0'};
/* 2: categorical features' levels after the classes; 3: after the model's
 * state, the provenance record: Kiln version (string), training rows (u64),
 * the rows the scores were computed on (u64), u64 score count, each score's
 * name (string) and value (f64) */
#define KMD_VERSION 3
/* 4: after the provenance record, the reader settings the training data
 * was read with: u32 flag, then when 1 the settings' text as a string
 * (kn_read_settings_format, kiln/io.h); files only (kn_model_encode still
 * writes format 3, which every Kiln since reads) */
#define KMD_FILE_VERSION 4

/* The container's payload at KMD_VERSION (what .kmd files hold after the
 * version). */
static kn_status encode_payload(const kn_model *m, kn_wbuf *w)
{
    if (!m->state)
        return kn_fail(KN_ERR_INVALID, "model '%s' is not fitted; fit it before saving",
                       m->inst.comp->name);
    kn_wbuf_str(w, m->inst.comp->name);
    kn_status e = kn_instance_encode_params(&m->inst, w);
    kn_wbuf_str(w, m->target);
    kn_wbuf_u64(w, m->p);
    for (size_t j = 0; j < m->p; j++) kn_wbuf_str(w, m->features[j]);
    kn_wbuf_u64(w, m->n_classes);
    for (size_t c = 0; c < m->n_classes; c++) kn_wbuf_str(w, m->classes[c]);
    size_t n_cat = 0; /* version 2: categorical features and their levels */
    for (size_t j = 0; m->n_levels && j < m->p; j++) n_cat += m->n_levels[j] > 0;
    kn_wbuf_u64(w, n_cat);
    for (size_t j = 0; m->n_levels && j < m->p; j++) {
        if (!m->n_levels[j]) continue;
        kn_wbuf_u64(w, j);
        kn_wbuf_u64(w, m->n_levels[j]);
        for (size_t l = 0; l < m->n_levels[j]; l++) kn_wbuf_str(w, m->levels[j][l]);
    }
    const kn_model_vt *vt = m->inst.comp->vt;
    /* version 3: the model's own state framed by its length, so that the
     * state may end in optional sections (a forest's level sets) and the
     * provenance record after it is never mistaken for one */
    kn_wbuf state = {0};
    if (e == KN_OK) e = vt->save(m, &state);
    if (e == KN_OK) e = kn_wbuf_status(&state);
    kn_wbuf_u64(w, state.n);
    kn_wbuf_bytes(w, state.p, state.n);
    kn_wbuf_free(&state);
    kn_wbuf_str(w, kn_version()); /* version 3: provenance */
    kn_wbuf_u64(w, m->train_rows);
    kn_wbuf_u64(w, m->metric_rows);
    kn_wbuf_u64(w, m->n_metrics);
    for (size_t i = 0; i < m->n_metrics; i++) {
        kn_wbuf_str(w, m->metric_name[i]);
        kn_wbuf_f64(w, m->metric_value[i]);
    }
    if (e == KN_OK) e = kn_wbuf_status(w);
    return e;
}

kn_status kn_model_encode(const kn_model *m, unsigned char **buf, size_t *len)
{
    kn_wbuf w = {0};
    kn_wbuf_u32(&w, KMD_VERSION);
    kn_status e = encode_payload(m, &w);
    if (e != KN_OK) {
        kn_wbuf_free(&w);
        return e;
    }
    *buf = w.p;
    *len = w.n;
    return KN_OK;
}

kn_status kn_model_save(const kn_model *m, const char *path)
{
    kn_wbuf w = {0};
    kn_status e = encode_payload(m, &w);
    kn_wbuf_u32(&w, m->read_settings != NULL); /* format 4 */
    if (m->read_settings) kn_wbuf_str(&w, m->read_settings);
    if (e == KN_OK) e = kn_wbuf_status(&w);
    if (e == KN_OK) e = kn_container_write(path, kmd_magic, KMD_FILE_VERSION, &w);
    kn_wbuf_free(&w);
    return e;
}

/* A counted list of non-empty strings; *n counts those read (for freeing). */
static kn_status read_names(kn_rbuf *r, const char *what, char ***out, size_t *n)
{
    size_t count = 0;
    kn_status e = kn_rbuf_count(r, 8, &count);
    if (e == KN_OK && !(*out = kn_calloc(count ? count : 1, sizeof **out))) e = KN_ERR_NOMEM;
    for (size_t i = 0; e == KN_OK && i < count; i++) {
        e = kn_rbuf_str(r, &(*out)[i]);
        *n = i + 1;
        if (e == KN_OK && !(*out)[i])
            e = kn_fail(KN_ERR_CORRUPT, "%s: a %s has no name", r->what, what);
    }
    return e;
}

/* Version 2: the categorical features' levels. */
static kn_status read_levels(kn_rbuf *r, kn_model *m)
{
    size_t n_cat = 0;
    kn_status e = kn_rbuf_count(r, 16, &n_cat);
    if (e != KN_OK || n_cat == 0) return e;
    if (n_cat > m->p)
        return kn_fail(KN_ERR_CORRUPT, "%s: more categorical than all features", r->what);
    m->n_levels = kn_calloc(m->p, sizeof *m->n_levels);
    m->levels = kn_calloc(m->p, sizeof *m->levels);
    if (!m->n_levels || !m->levels) return KN_ERR_NOMEM;
    for (size_t k = 0; e == KN_OK && k < n_cat; k++) {
        uint64_t j = 0;
        size_t got = 0;
        e = kn_rbuf_u64(r, &j);
        if (e == KN_OK && (j >= m->p || m->levels[j]))
            e = kn_fail(KN_ERR_CORRUPT, "%s: bad categorical feature index", r->what);
        if (e != KN_OK) break;
        e = read_names(r, "level", &m->levels[j], &got);
        m->n_levels[j] = got; /* what was read, for freeing */
        if (e == KN_OK && got == 0)
            e = kn_fail(KN_ERR_CORRUPT, "%s: a categorical feature without levels", r->what);
    }
    return e;
}

/* Version 3: the provenance record after the state. */
static kn_status read_provenance(kn_rbuf *r, kn_model *m)
{
    uint64_t train_rows = 0, metric_rows = 0;
    size_t n = 0;
    kn_status e = kn_rbuf_str(r, &m->saved_by);
    if (e == KN_OK) e = kn_rbuf_u64(r, &train_rows);
    if (e == KN_OK) e = kn_rbuf_u64(r, &metric_rows);
    if (e == KN_OK) e = kn_rbuf_count(r, 16, &n);
    if (e == KN_OK && (!(m->metric_name = kn_calloc(n ? n : 1, sizeof *m->metric_name)) ||
                       !(m->metric_value = kn_calloc(n ? n : 1, sizeof *m->metric_value))))
        e = KN_ERR_NOMEM;
    for (size_t i = 0; e == KN_OK && i < n; i++) {
        e = kn_rbuf_str(r, &m->metric_name[i]);
        m->n_metrics = i + 1; /* what was read, for freeing */
        if (e == KN_OK && !m->metric_name[i])
            e = kn_fail(KN_ERR_CORRUPT, "%s: a recorded score has no name", r->what);
        if (e == KN_OK) e = kn_rbuf_f64(r, &m->metric_value[i]);
    }
    m->train_rows = (size_t)train_rows;
    m->metric_rows = (size_t)metric_rows;
    return e;
}

/* Version 3: the state, framed by its length, read by the model alone. */
static kn_status load_framed_state(kn_rbuf *r, kn_model *m)
{
    size_t len = 0;
    kn_status e = kn_rbuf_count(r, 1, &len);
    if (e != KN_OK) return e;
    kn_rbuf state = kn_rbuf_init(r->p, len, r->what);
    r->p += len;
    e = ((const kn_model_vt *)m->inst.comp->vt)->load(m, &state);
    if (e == KN_OK && kn_rbuf_left(&state))
        e = kn_fail(KN_ERR_CORRUPT, "%s: trailing bytes after the model's state", r->what);
    return e;
}

/* Format 4: the reader settings (u32 flag, then the text). */
static kn_status read_settings(kn_rbuf *r, kn_model *m)
{
    uint32_t has = 0;
    kn_status e = kn_rbuf_u32(r, &has);
    if (e == KN_OK && has > 1)
        return kn_fail(KN_ERR_CORRUPT, "%s: bad reader settings flag %u", r->what, has);
    if (e == KN_OK && has) e = kn_rbuf_str(r, &m->read_settings);
    if (e == KN_OK && has && !m->read_settings)
        e = kn_fail(KN_ERR_CORRUPT, "%s: the reader settings are missing", r->what);
    return e;
}

/* A model of the given format version from r (the payload after the
 * version); r must hold nothing more. */
static kn_status decode(kn_rbuf *r, uint32_t version, kn_model **out)
{
    char *name = NULL;
    kn_model *m = NULL;
    kn_status e = kn_rbuf_str(r, &name);
    if (e == KN_OK && !name) e = kn_fail(KN_ERR_CORRUPT, "%s: the model has no name", r->what);
    if (e == KN_OK) e = kn_model_new(name, &m);
    kn_free(name);
    if (e == KN_OK) e = kn_instance_decode_params(&m->inst, r);
    if (e == KN_OK) e = kn_rbuf_str(r, &m->target);
    if (e == KN_OK && !m->target) e = kn_fail(KN_ERR_CORRUPT, "%s: no target name", r->what);
    if (e == KN_OK) e = read_names(r, "feature", &m->features, &m->p);
    if (e == KN_OK) e = read_names(r, "class", &m->classes, &m->n_classes);
    if (e == KN_OK && version >= 2) e = read_levels(r, m);
    size_t k = m ? m->n_classes : 0;
    const kn_model_vt *vt = m ? m->inst.comp->vt : NULL;
    int classifies = e == KN_OK && kn_model_task(m) == KN_TASK_CLASSIFICATION;
    if (e == KN_OK && classifies != (k >= 2))
        e = kn_fail(KN_ERR_CORRUPT, "%s: %zu classes for a %s model", r->what, k,
                    classifies ? "classification" : "regression");
    if (e == KN_OK && version < 3) e = vt->load(m, r); /* the state ran to the end */
    if (e == KN_OK && version >= 3) e = load_framed_state(r, m);
    if (e == KN_OK && version >= 3) e = read_provenance(r, m);
    if (e == KN_OK && version >= 4) e = read_settings(r, m);
    if (e == KN_OK && kn_rbuf_left(r))
        e = kn_fail(KN_ERR_CORRUPT, "%s: trailing bytes after the model", r->what);
    if (e != KN_OK) {
        kn_model_free(m);
        return e;
    }
    *out = m;
    return KN_OK;
}

kn_status kn_model_load(const char *path, kn_model **out)
{
    char *buf = NULL;
    kn_rbuf r;
    uint32_t version;
    kn_status e =
        kn_container_read(path, kmd_magic, "model file", KMD_FILE_VERSION, &buf, &r, &version);
    if (e == KN_OK) e = decode(&r, version, out);
    kn_free(buf);
    return e;
}

kn_status kn_model_decode(const void *buf, size_t len, kn_model **out)
{
    kn_rbuf r = kn_rbuf_init(buf, len, "model buffer");
    uint32_t version = 0;
    kn_status e = kn_rbuf_u32(&r, &version);
    if (e == KN_OK && version == 0)
        return kn_fail(KN_ERR_CORRUPT, "model buffer: format version 0");
    if (e == KN_OK && version > KMD_FILE_VERSION)
        return kn_fail(KN_ERR_VERSION,
                       "model buffer: model version %u is newer than this kiln reads (%u)", version,
                       KMD_FILE_VERSION);
    return e == KN_OK ? decode(&r, version, out) : e;
}
