/* A pipeline's encoding and its clones (kiln/pipeline.h). */
#include "kiln/mem.h"
#include "pipeline/pipeline-impl.h"

#include <string.h>

/* 2 adds the members (written only for a pipeline with members, so that
 * other pipelines keep format 1's bytes) */
#define PIPELINE_FORMAT 2

kn_status kn_pipeline_encode(const kn_pipeline *p, unsigned char **buf, size_t *len)
{
    if (!p->fitted)
        return kn_fail(KN_ERR_INVALID, "the pipeline is not fitted; fit it before saving");
    kn_wbuf w = {0};
    kn_wbuf_u32(&w, p->n_members ? PIPELINE_FORMAT : 1);
    kn_wbuf_str(&w, p->target);
    kn_wbuf_str(&w, p->weight);
    kn_status e = kn_steps_encode(p->steps, p->n_steps, p->input, &w);
    kn_wbuf_u32(&w, p->model ? 1 : 0);
    unsigned char *model = NULL;
    size_t model_len = 0;
    if (e == KN_OK && p->model) e = kn_model_encode(p->model, &model, &model_len);
    if (e == KN_OK && p->model) {
        kn_wbuf_u64(&w, model_len);
        kn_wbuf_bytes(&w, model, model_len);
    }
    kn_free(model);
    if (e == KN_OK && p->n_members) e = kn__ensemble_encode(p, &w);
    if (e == KN_OK) e = kn_wbuf_status(&w);
    if (e != KN_OK) {
        kn_wbuf_free(&w);
        return e;
    }
    *buf = w.p;
    *len = w.n;
    return KN_OK;
}

kn_status kn_pipeline_decode(const void *buf, size_t len, const char *what, kn_pipeline **out)
{
    kn_rbuf r = kn_rbuf_init(buf, len, what ? what : "pipeline");
    kn_pipeline *p = NULL;
    uint32_t version = 0, has_model = 0;
    uint64_t model_len = 0;
    kn_status e = kn_rbuf_u32(&r, &version);
    if (e == KN_OK && version > PIPELINE_FORMAT)
        e = kn_fail(KN_ERR_VERSION, "%s: pipeline format %u is newer than this Kiln reads (%d)",
                    r.what, version, PIPELINE_FORMAT);
    if (e == KN_OK && version == 0) e = kn_fail(KN_ERR_CORRUPT, "%s: pipeline format 0", r.what);
    if (e == KN_OK) e = kn_pipeline_new(&p);
    if (e == KN_OK) e = kn_rbuf_str(&r, &p->target);
    if (e == KN_OK) e = kn_rbuf_str(&r, &p->weight);
    if (e == KN_OK) e = kn_steps_decode(&r, 1, &p->steps, &p->n_steps, &p->input);
    if (e == KN_OK) e = kn_rbuf_u32(&r, &has_model);
    if (e == KN_OK && has_model > 1)
        e = kn_fail(KN_ERR_CORRUPT, "%s: bad model flag %u", r.what, has_model);
    if (e == KN_OK && has_model) e = kn_rbuf_u64(&r, &model_len);
    if (e == KN_OK && has_model && model_len > kn_rbuf_left(&r))
        e = kn_fail(KN_ERR_CORRUPT, "%s: the model's %llu bytes run past the end", r.what,
                    (unsigned long long)model_len);
    if (e == KN_OK && has_model) {
        e = kn_model_decode(r.p, (size_t)model_len, &p->model);
        r.p += model_len; /* checked against what is left above */
    }
    if (e == KN_OK && version >= 2) e = kn__ensemble_decode(&r, p);
    if (e == KN_OK && kn_rbuf_left(&r))
        e = kn_fail(KN_ERR_CORRUPT, "%s: %zu trailing bytes after the pipeline", r.what,
                    kn_rbuf_left(&r));
    if (e == KN_OK && !p->input)
        e = kn_fail(KN_ERR_CORRUPT, "%s: the pipeline has no input record", r.what);
    if (e != KN_OK) {
        kn_pipeline_free(p);
        return e;
    }
    kn__pipeline_fitted(p);
    *out = p;
    return KN_OK;
}

/* Unfitted copies of p's parts. */
static kn_status clone_parts(const kn_pipeline *p, kn_pipeline *q)
{
    kn_status e = kn_pipeline_set_target(q, p->target, p->weight);
    for (size_t i = 0; e == KN_OK && i < p->n_steps; i++) {
        kn_step *s = NULL;
        e = kn_step_clone(p->steps[i], 0, &s);
        if (e == KN_OK) e = kn_pipeline_add_step(q, s);
    }
    if (e == KN_OK && p->model) {
        kn_model *m = NULL;
        e = kn_model_clone(p->model, 0, &m);
        if (e == KN_OK) e = kn_pipeline_set_model(q, m);
    }
    if (e == KN_OK && p->n_members) e = kn__ensemble_copy(p, q);
    return e;
}

kn_status kn_pipeline_clone(const kn_pipeline *p, int fitted, kn_pipeline **out)
{
    if (fitted) {
        unsigned char *buf = NULL;
        size_t len = 0;
        kn_status e = kn_pipeline_encode(p, &buf, &len);
        if (e == KN_OK) e = kn_pipeline_decode(buf, len, "pipeline copy", out);
        kn_free(buf);
        return e;
    }
    kn_pipeline *q = NULL;
    kn_status e = kn_pipeline_new(&q);
    if (e == KN_OK) e = clone_parts(p, q);
    if (e != KN_OK) {
        kn_pipeline_free(q);
        return e;
    }
    *out = q;
    return KN_OK;
}
