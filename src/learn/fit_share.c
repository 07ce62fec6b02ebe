/* What fits of the same training rows share (learn-impl.h): values under
 * keys of bytes, each stored once, kept until the share is freed. */
#include "core/ctx-impl.h"
#include "kiln/mem.h"
#include "learn/learn-impl.h"
#include "learn/model-impl.h"

#include <pthread.h>
#include <string.h>

typedef struct share_entry {
    struct share_entry *next;
    void *value;
    void (*free_fn)(void *);
    size_t len;
    unsigned char key[];
} share_entry;

struct kn__fit_share {
    pthread_mutex_t mu;
    kn_ctx *ctx; /* charged with the values */
    share_entry *head;
};

kn_status kn__fit_share_new(kn__fit_share **out)
{
    kn__fit_share *s = kn_calloc(1, sizeof *s);
    if (!s) return KN_ERR_NOMEM;
    if (pthread_mutex_init(&s->mu, NULL)) {
        kn_free(s);
        return kn_fail(KN_ERR_INTERNAL, "fit share: no mutex");
    }
    s->ctx = kn_ctx_current();
    *out = s;
    return KN_OK;
}

void kn__fit_share_free(kn__fit_share *s)
{
    if (!s) return;
    for (share_entry *e = s->head, *next; e; e = next) {
        next = e->next;
        if (e->free_fn) e->free_fn(e->value);
        kn_free(e);
    }
    pthread_mutex_destroy(&s->mu);
    kn_free(s);
}

static void share_free(void *v)
{
    kn__fit_share_free(v);
}

static share_entry *find(const kn__fit_share *s, const void *key, size_t len)
{
    for (share_entry *e = s->head; e; e = e->next)
        if (e->len == len && !memcmp(e->key, key, len)) return e;
    return NULL;
}

kn_ctx *kn__fit_share_ctx(const kn__fit_share *s)
{
    return s->ctx;
}

void *kn__fit_share_get(kn__fit_share *s, const void *key, size_t len)
{
    pthread_mutex_lock(&s->mu);
    share_entry *e = find(s, key, len);
    void *v = e ? e->value : NULL;
    pthread_mutex_unlock(&s->mu);
    return v;
}

void *kn__fit_share_put(kn__fit_share *s, const void *key, size_t len, void *v,
                        void (*free_fn)(void *))
{
    pthread_mutex_lock(&s->mu);
    share_entry *e = find(s, key, len);
    if (e) { /* another fit stored it first: theirs is kept */
        pthread_mutex_unlock(&s->mu);
        if (free_fn) free_fn(v);
        return e->value;
    }
    kn_ctx *prev = kn__ctx_swap(s->ctx);
    e = kn_malloc(sizeof *e + len);
    kn__ctx_swap(prev);
    if (!e) { /* not shared: the caller's fit goes on without it */
        pthread_mutex_unlock(&s->mu);
        if (free_fn) free_fn(v);
        return NULL;
    }
    *e = (share_entry){.next = s->head, .value = v, .free_fn = free_fn, .len = len};
    memcpy(e->key, key, len);
    s->head = e;
    pthread_mutex_unlock(&s->mu);
    return v;
}

kn__fit_share *kn__fit_share_child(kn__fit_share *s, const void *key, size_t len)
{
    kn__fit_share *c = kn__fit_share_get(s, key, len);
    if (c) return c;
    kn_ctx *prev = kn__ctx_swap(s->ctx);
    kn_status e = kn__fit_share_new(&c);
    kn__ctx_swap(prev);
    if (e != KN_OK) return NULL;
    c->ctx = s->ctx;
    return kn__fit_share_put(s, key, len, c, share_free);
}

void kn__model_use_fit_share(kn_model *m, kn__fit_share *s)
{
    m->share = s;
}

kn__fit_share *kn__model_fit_share(const kn_model *m)
{
    return m->share;
}
