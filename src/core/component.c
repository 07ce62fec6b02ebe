/* The component instance shared by models and steps (kiln/component.h). */
#include "kiln/component.h"
#include "kiln/mem.h"

#include <string.h>

kn_status kn_instance_init(kn_instance *in, const kn_component *c, kn_validate_fn validate)
{
    memset(in, 0, sizeof *in);
    void *p = kn_calloc(1, c->params_size ? c->params_size : 1);
    if (!p) return KN_ERR_NOMEM;
    kn_status e = c->params ? kn_param_defaults(c->params, p) : KN_OK;
    if (e != KN_OK) {
        kn_free(p);
        return e;
    }
    in->comp = c;
    in->params = p;
    in->validate = validate;
    return KN_OK;
}

void kn_instance_release(kn_instance *in)
{
    if (!in) return;
    kn_free(in->params);
    in->params = NULL;
}

kn_status kn_instance_set(kn_instance *in, const char *name_eq_value)
{
    static const kn_param_def none[] = {KN_PARAM_END};
    kn_status e =
        kn_param_set(in->comp->params ? in->comp->params : none, in->params, name_eq_value);
    return e == KN_OK ? e
                      : kn_fail_prefix(e, "%s '%s': ", kn_component_kind_name(in->comp->kind),
                                       in->comp->name);
}

kn_status kn_instance_validate(const kn_instance *in)
{
    return in->validate ? in->validate(in->params) : KN_OK;
}

kn_status kn_instance_set_params(kn_instance *in, const void *params, size_t size)
{
    const kn_component *c = in->comp;
    const char *kind = kn_component_kind_name(c->kind);
    if (size != c->params_size)
        return kn_fail(KN_ERR_INVALID, "%s '%s': a params struct of %zu bytes, not %zu", kind,
                       c->name, size, c->params_size);
    void *p = kn_malloc(size ? size : 1);
    if (!p) return KN_ERR_NOMEM;
    if (size) memcpy(p, params, size);
    kn_status e = KN_OK;
    /* each field through its text: the table's range and choice checks,
     * and strings interned (the caller's text need not outlive the call) */
    for (const kn_param_def *d = c->params; e == KN_OK && d && d->name; d++) {
        char *item = kn_param_format(d, params);
        e = item ? kn_param_set(c->params, p, item) : kn_last_status();
        kn_free(item);
    }
    if (e == KN_OK && in->validate) e = in->validate(p);
    if (e != KN_OK) {
        kn_free(p);
        return kn_fail_prefix(e, "%s '%s': ", kind, c->name);
    }
    kn_free(in->params);
    in->params = p;
    return KN_OK;
}

kn_status kn_instance_copy(kn_instance *dst, const kn_instance *src)
{
    size_t size = src->comp->params_size;
    memset(dst, 0, sizeof *dst);
    void *p = kn_malloc(size ? size : 1);
    if (!p) return KN_ERR_NOMEM;
    memcpy(p, src->params, size); /* strings are interned: sharing them is safe */
    *dst = *src;
    dst->params = p;
    return KN_OK;
}

kn_status kn_instance_encode_params(const kn_instance *in, kn_wbuf *w)
{
    size_t n = 0;
    for (const kn_param_def *d = in->comp->params; d && d->name; d++) n++;
    kn_wbuf_u64(w, n);
    for (const kn_param_def *d = in->comp->params; d && d->name; d++) {
        char *item = kn_param_format(d, in->params);
        if (!item) return kn_last_status();
        kn_wbuf_str(w, item);
        kn_free(item);
    }
    return KN_OK;
}

kn_status kn_instance_decode_params(kn_instance *in, kn_rbuf *r)
{
    static const kn_param_def none[] = {KN_PARAM_END};
    size_t n = 0;
    kn_status e = kn_rbuf_count(r, 8, &n);
    for (size_t k = 0; e == KN_OK && k < n; k++) {
        char *item = NULL;
        e = kn_rbuf_str(r, &item);
        if (e == KN_OK && item)
            e = kn_param_set(in->comp->params ? in->comp->params : none, in->params, item);
        kn_free(item);
    }
    return e;
}
