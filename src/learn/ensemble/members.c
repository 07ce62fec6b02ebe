/* An ensemble's members (members.h): any registered model, made, fitted,
 * asked and saved through the model contract. */
#include "learn/ensemble/members.h"

#include "kiln/init.h"
#include "kiln/log.h"
#include "kiln/mem.h"
#include "kiln/registry.h"
#include "learn/learn-impl.h"
#include "learn/model-impl.h"

#include <string.h>

kn_status kn__member_new(const char *base, const char *settings, const char *param,
                         const char *settings_param, const kn_task *task, kn_model **out)
{
    kn_learn_register();
    if (!kn_registry_find(KN_COMP_MODEL, base))
        return kn_fail(KN_ERR_INVALID,
                       "%s=%s: no model of that name; `kiln help models` lists the models", param,
                       base);
    kn_model *m = NULL;
    kn_status e = kn_model_new(base, &m);
    if (e != KN_OK) return e;
    char *list = kn_strdup(settings ? settings : "");
    if (!list) e = KN_ERR_NOMEM;
    for (char *s = list, *next; e == KN_OK && s && *s; s = next) {
        next = strchr(s, ',');
        if (next) *next++ = '\0';
        while (*s == ' ') s++;
        if (!*s) continue;
        if (!strchr(s, '='))
            e = kn_fail(KN_ERR_INVALID,
                        "%s_params: '%s' is not name=value (give e.g. %s_params="
                        "max_depth=3,min_samples_leaf=2)",
                        param, s, param);
        else if ((e = kn_model_set(m, s)) != KN_OK)
            e = kn_fail_prefix(e, "%s: ", settings_param);
    }
    kn_free(list);
    if (e == KN_OK && task && kn__model_task_set(m) && kn_model_task(m) != *task)
        e = kn_fail(KN_ERR_INVALID,
                    "%s_params: they set the %s model's task to %s, the target "
                    "asks for %s",
                    param, base,
                    kn_model_task(m) == KN_TASK_CLASSIFICATION ? "classification" : "regression",
                    *task == KN_TASK_CLASSIFICATION ? "classification" : "regression");
    else if (e == KN_OK && task && !kn__model_task_set(m) &&
             (e = kn_model_set_task(m, *task)) != KN_OK)
        e = kn_fail_prefix(e, "%s=%s: ", param, base);
    if (e == KN_OK) e = kn_model_validate(m);
    if (e != KN_OK) {
        kn_model_free(m);
        return e;
    }
    *out = m;
    return KN_OK;
}

unsigned kn__member_base_flags(const char *base)
{
    kn_learn_register();
    const kn_component *c = kn_registry_find(KN_COMP_MODEL, base ? base : "");
    const kn_model_vt *vt = c ? c->vt : NULL;
    return vt ? vt->flags &
                    (KN_MODEL_TAKES_CATEGORICAL | KN_MODEL_TAKES_MISSING | KN_MODEL_UNSEEN_LEVEL)
              : 0u;
}

unsigned kn__members_list_flags(const char *list)
{
    unsigned all = 0;
    int any = 0;
    for (const char *p = list ? list : ""; *p;) {
        const char *end = strchr(p, ';');
        size_t n = end ? (size_t)(end - p) : strlen(p);
        while (n && *p == ' ') p++, n--;
        const char *colon = memchr(p, ':', n);
        size_t len = colon ? (size_t)(colon - p) : n;
        while (len && p[len - 1] == ' ') len--;
        if (len) {
            char name[64];
            if (len >= sizeof name) return 0;
            memcpy(name, p, len);
            name[len] = '\0';
            unsigned f = kn__member_base_flags(name);
            all = any ? all & f : f;
            any = 1;
        }
        p += n + (end ? 1 : 0);
        if (!end) break;
    }
    return any ? all : 0u;
}

kn_status kn__member_fit(kn_model *m, const kn_dataset *d)
{
    const kn_model_vt *vt = kn__model_vt(m);
    kn_status e = vt->fit(m, d);
    if (e != KN_OK) return e;
    m->target = kn_strdup("target");
    m->features = kn_calloc(d->p ? d->p : 1, sizeof *m->features);
    m->classes = kn_calloc(d->n_classes ? d->n_classes : 1, sizeof *m->classes);
    if (!m->target || !m->features || !m->classes) return KN_ERR_NOMEM;
    m->train_rows = d->n;
    for (size_t j = 0; j < d->p; j++) {
        if (!(m->features[j] = kn_strdup(d->names[j]))) return KN_ERR_NOMEM;
        m->p = j + 1;
    }
    for (size_t c = 0; c < d->n_classes; c++) {
        if (!(m->classes[c] = kn_strdup(d->classes[c]))) return KN_ERR_NOMEM;
        m->n_classes = c + 1;
    }
    /* the levels of text features: a member's categorical splits are checked
       against them when it is loaded again */
    int any = 0;
    for (size_t j = 0; d->n_levels && j < d->p; j++) any |= d->n_levels[j] > 0;
    if (!any) return KN_OK;
    m->n_levels = kn_calloc(d->p, sizeof *m->n_levels);
    m->levels = kn_calloc(d->p, sizeof *m->levels);
    if (!m->n_levels || !m->levels) return KN_ERR_NOMEM;
    for (size_t j = 0; j < d->p; j++) {
        size_t L = d->n_levels[j];
        if (!L) continue;
        if (!(m->levels[j] = kn_calloc(L, sizeof *m->levels[j]))) return KN_ERR_NOMEM;
        m->n_levels[j] = L;
        for (size_t l = 0; l < L; l++)
            if (!(m->levels[j][l] = kn_strdup(d->levels[j][l]))) return KN_ERR_NOMEM;
    }
    return KN_OK;
}

int kn__member_has_proba(const kn_model *m)
{
    return kn__model_vt(m)->predict_proba != NULL;
}

kn_status kn__member_predict(const kn_model *m, const kn_dataset *d, int proba, double *out)
{
    const kn_model_vt *vt = kn__model_vt(m);
    if (proba && !vt->predict_proba)
        return kn_fail(KN_ERR_UNSUPPORTED, "model '%s' gives no probabilities", kn_model_name(m));
    kn_predict_opts none = {0};
    if (vt->predict_with) return vt->predict_with(m, d, &none, proba, out);
    return proba ? vt->predict_proba(m, d, out) : vt->predict(m, d, out);
}

kn_status kn__member_save(const kn_model *m, kn_wbuf *w)
{
    unsigned char *buf = NULL;
    size_t len = 0;
    kn_status e = kn_model_encode(m, &buf, &len);
    if (e != KN_OK) return e;
    kn_wbuf_u64(w, len);
    kn_wbuf_bytes(w, buf, len);
    kn_free(buf);
    return kn_wbuf_status(w);
}

kn_status kn__member_load(kn_rbuf *r, kn_model **out)
{
    size_t len = 0;
    kn_status e = kn_rbuf_count(r, 1, &len);
    if (e != KN_OK) return e;
    e = kn_model_decode(r->p, len, out);
    if (e != KN_OK) return kn_fail_prefix(e, "%s: an ensemble member: ", r->what);
    r->p += len;
    return KN_OK;
}

kn_status kn__member_check(const kn_model *m, const kn_model *mb, const char *what)
{
    size_t p = kn_model_n_features(m);
    int ok = kn_model_n_features(mb) == p && kn_model_n_classes(mb) == kn_model_n_classes(m) &&
             kn_model_task(mb) == kn_model_task(m);
    for (size_t j = 0; ok && j < p; j++)
        ok = !strcmp(kn_model_feature(mb, j), kn_model_feature(m, j));
    return ok ? KN_OK
              : kn_fail(KN_ERR_CORRUPT, "%s: an ensemble member does not match the ensemble", what);
}

kn_status kn__members_load(kn_rbuf *r, const kn_model *m, size_t n, int soft, kn_model **members,
                           size_t *loaded)
{
    kn_status e = KN_OK;
    for (size_t t = 0; e == KN_OK && t < n; t++) {
        e = kn__member_load(r, &members[t]);
        if (e != KN_OK) break;
        *loaded = t + 1;
        e = kn__member_check(m, members[t], r->what);
        if (e == KN_OK && soft && !kn__member_has_proba(members[t]))
            e = kn_fail(KN_ERR_CORRUPT, "%s: a soft-voting member without probabilities", r->what);
    }
    return e;
}
