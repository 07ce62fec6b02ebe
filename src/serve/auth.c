/* Who may call the server (kiln/serve.h): API keys from the store, checked
 * on every request that needs one, a token bucket per key, and the TLS
 * certificate and key read at start.
 *
 * The keys live in memory as a set sorted by id, read at start and read
 * again by a thread that asks the store once a second whether anything was
 * committed (PRAGMA data_version): a revocation reaches a running server
 * within about a second, and no request ever waits on SQLite. Requests
 * hold the set under a read lock for the few hundred nanoseconds of a
 * check; the thread swaps in a new set under the write lock (writers
 * preferred, so steady traffic cannot starve it) and frees the old one.
 *
 * The rate limit is the generic cell rate algorithm, a token bucket kept
 * as one number per key: the time the bucket is next full (tat, in
 * nanoseconds). A request at `now` is let in while max(tat, now) - now is
 * within the burst, and moves tat on by one interval (1/rate); one
 * compare-and-swap, no lock. The burst is one second's worth of requests
 * (at least one). A reload carries each key's tat over. */
#define _GNU_SOURCE /* pthread_rwlockattr_setkind_np */
#include "kiln/log.h"
#include "kiln/mem.h"
#include "kiln/store.h"
#include "serve/lazy_gnutls-impl.h"
#include "serve/lazy_mhd-impl.h"
#include "serve/serve-impl.h"

#include <errno.h>
#include <pthread.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

typedef struct key_entry {
    int64_t id;
    int admin, revoked;
    double rate; /* requests per second (the key's, else the default); 0: no limit */
    unsigned char salt[KN_KEY_SALT_BYTES], hash[KN_KEY_HASH_BYTES];
    _Atomic uint64_t tat; /* the bucket: when it is next full, ns on CLOCK_MONOTONIC */
} key_entry;

typedef struct keyset {
    size_t n, cap;
    key_entry *e; /* by id */
} keyset;

struct kn__auth {
    int require_key;
    double default_rate;
    char *cert_file, *key_file;
    char *cert, *key; /* PEM text, or NULL */
    kn_store *store;  /* NULL: no store, no keys */
    pthread_rwlock_t lock;
    keyset *keys;
    uint64_t data_version;
    pthread_t poller;
    int polling, stop;
    pthread_mutex_t mu;
    pthread_cond_t cv;
};

enum {
    WHY_MISSING = 1, /* no Authorization header */
    WHY_MALFORMED,   /* not "Bearer kiln_<id>_<secret>" */
    WHY_INVALID,     /* no such key, or a wrong secret */
    WHY_REVOKED,
    WHY_ROLE, /* a predict key on an /admin/ route */
    WHY_RATE,
};

static uint64_t now_ns(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (uint64_t)t.tv_sec * 1000000000u + (uint64_t)t.tv_nsec;
}

/* ---- the key set ---- */

static void keyset_free(keyset *k)
{
    if (!k) return;
    kn_free(k->e);
    kn_free(k);
}

typedef struct load_ctx {
    keyset *k;
    double default_rate;
    int oom;
} load_ctx;

static int on_key(const kn_api_key *k, void *user)
{
    load_ctx *c = user;
    keyset *s = c->k;
    if (!k->salt || !k->hash) return 0; /* a damaged row lets nobody in */
    if (s->n == s->cap) {
        size_t cap = s->cap ? 2 * s->cap : 16;
        key_entry *e = kn_realloc(s->e, cap * sizeof *e);
        if (!e) {
            c->oom = 1;
            return 1;
        }
        s->e = e;
        s->cap = cap;
    }
    key_entry *e = &s->e[s->n++];
    memset(e, 0, sizeof *e);
    e->id = k->id;
    e->admin = !strcmp(k->role, "admin");
    e->revoked = k->revoked > 0;
    e->rate = k->rate > 0 ? k->rate : c->default_rate;
    memcpy(e->salt, k->salt, sizeof e->salt);
    memcpy(e->hash, k->hash, sizeof e->hash);
    return 0;
}

/* The store's keys now (listed by id, so the set is sorted). */
static kn_status keyset_load(kn__auth *a, keyset **out)
{
    keyset *k = kn_calloc(1, sizeof *k);
    if (!k) return KN_ERR_NOMEM;
    load_ctx c = {k, a->default_rate, 0};
    kn_status e = kn_store_keys_list(a->store, on_key, &c);
    if (!e && c.oom) e = kn_fail(KN_ERR_NOMEM, "out of memory reading the API keys");
    if (e) {
        keyset_free(k);
        return e;
    }
    *out = k;
    return KN_OK;
}

static key_entry *keyset_find(const keyset *k, int64_t id)
{
    size_t lo = 0, hi = k ? k->n : 0;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (k->e[mid].id == id) return &k->e[mid];
        if (k->e[mid].id < id)
            lo = mid + 1;
        else
            hi = mid;
    }
    return NULL;
}

/* Put k in place of the current set, carrying each key's bucket over. */
static void keyset_swap(kn__auth *a, keyset *k)
{
    pthread_rwlock_wrlock(&a->lock);
    keyset *old = a->keys;
    for (size_t i = 0; old && i < k->n; i++) {
        const key_entry *o = keyset_find(old, k->e[i].id);
        if (o) atomic_store_explicit(&k->e[i].tat, atomic_load(&o->tat), memory_order_relaxed);
    }
    a->keys = k;
    pthread_rwlock_unlock(&a->lock);
    keyset_free(old);
}

static void *poll_keys(void *arg)
{
    kn__auth *a = arg;
    pthread_mutex_lock(&a->mu);
    while (!a->stop) {
        struct timespec until;
        clock_gettime(CLOCK_MONOTONIC, &until);
        until.tv_sec += 1;
        while (!a->stop && pthread_cond_timedwait(&a->cv, &a->mu, &until) != ETIMEDOUT) {
        }
        if (a->stop) break;
        pthread_mutex_unlock(&a->mu);
        uint64_t v = 0;
        keyset *k = NULL;
        if (kn_store_data_version(a->store, &v) == KN_OK && v != a->data_version) {
            if (keyset_load(a, &k) == KN_OK) {
                a->data_version = v;
                keyset_swap(a, k);
                kn_log(KN_LOG_DEBUG, "serve: API keys read again from the store");
            } else {
                kn_log(KN_LOG_WARN,
                       "serve: reading the API keys again failed (%s); the keys "
                       "read before stay in force",
                       kn_last_error());
            }
        }
        pthread_mutex_lock(&a->mu);
    }
    pthread_mutex_unlock(&a->mu);
    return NULL;
}

/* ---- TLS files ---- */

static kn_status read_pem(const char *path, const char *flag, const char *want, char **out)
{
    FILE *fp = fopen(path, "rb");
    if (!fp) return kn_fail(KN_ERR_IO, "%s %s: cannot read it: %s", flag, path, strerror(errno));
    enum { MAX = 1 << 20 };
    char *buf = kn_malloc(MAX + 1);
    size_t n = buf ? fread(buf, 1, MAX + 1, fp) : 0;
    int err = ferror(fp);
    fclose(fp);
    if (!buf) return KN_ERR_NOMEM;
    kn_status e = KN_OK;
    if (err)
        e = kn_fail(KN_ERR_IO, "%s %s: reading it failed", flag, path);
    else if (n > MAX)
        e = kn_fail(KN_ERR_PARSE, "%s %s: over 1 MiB, not a PEM %s", flag, path, want);
    else {
        buf[n] = 0;
        if (strlen(buf) != n || !strstr(buf, "-----BEGIN ") || !strstr(buf, want))
            e = kn_fail(KN_ERR_PARSE,
                        "%s %s: not a PEM %s (no '-----BEGIN ...%s-----' line); give the PEM "
                        "file, e.g. from 'openssl req -x509 -newkey ...'",
                        flag, path, want, want);
    }
    if (e) {
        sodium_memzero(buf, n < MAX ? n : MAX);
        kn_free(buf);
        return e;
    }
    *out = buf;
    return KN_OK;
}

/* Whether GnuTLS takes the pair as libmicrohttpd will hand it over: the
 * reason (a key that is not the certificate's, an encrypted key, bad
 * base64) named here, before any model loads, rather than a daemon that
 * will not start. */
static kn_status check_pair(const kn__auth *a)
{
    kn_status e = kn__gnutls_load();
    if (e != KN_OK) return e;
    gnutls_certificate_credentials_t c;
    if (gnutls_certificate_allocate_credentials(&c) < 0) return KN_ERR_NOMEM;
    gnutls_datum_t cert = {(unsigned char *)a->cert, (unsigned)strlen(a->cert)};
    gnutls_datum_t key = {(unsigned char *)a->key, (unsigned)strlen(a->key)};
    int rc = gnutls_certificate_set_x509_key_mem2(c, &cert, &key, GNUTLS_X509_FMT_PEM, NULL, 0);
    gnutls_certificate_free_credentials(c);
    if (rc >= 0) return KN_OK;
    return kn_fail(KN_ERR_PARSE,
                   "--tls-cert %s with --tls-key %s: GnuTLS refuses them: %s (is the key the "
                   "certificate's, and not encrypted?)",
                   a->cert_file, a->key_file, gnutls_strerror(rc));
}

/* ---- the server's side ---- */

kn_status kn__auth_new(const kn_serve_opts *o, kn__auth **out)
{
    *out = NULL;
    if (sodium_init() < 0) return kn_fail(KN_ERR_INTERNAL, "libsodium failed to initialise");
    if (!(o->rate_limit >= 0) || o->rate_limit > 1e9)
        return kn_fail(KN_ERR_INVALID, "the rate limit %g is not 0 (none) to 1e9 requests/s",
                       o->rate_limit);
    if (!o->tls_cert != !o->tls_key)
        return kn_fail(KN_ERR_INVALID,
                       "TLS needs both --tls-cert FILE and --tls-key FILE (%s "
                       "is missing)",
                       o->tls_cert ? "--tls-key" : "--tls-cert");
    if (o->tls_cert && MHD_is_feature_supported(MHD_FEATURE_TLS) != MHD_YES)
        return kn_fail(KN_ERR_UNSUPPORTED, "this libmicrohttpd was built without TLS (GnuTLS); "
                                           "install Debian's libmicrohttpd12 or serve without "
                                           "--tls-cert");
    kn__auth *a = kn_calloc(1, sizeof *a);
    if (!a) return KN_ERR_NOMEM;
    a->require_key = o->require_key;
    a->default_rate = o->rate_limit;
    pthread_rwlockattr_t ra;
    pthread_rwlockattr_init(&ra);
    pthread_rwlockattr_setkind_np(&ra, PTHREAD_RWLOCK_PREFER_WRITER_NONRECURSIVE_NP);
    pthread_rwlock_init(&a->lock, &ra);
    pthread_rwlockattr_destroy(&ra);
    pthread_mutex_init(&a->mu, NULL);
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&a->cv, &ca);
    pthread_condattr_destroy(&ca);

    kn_status e = KN_OK;
    if (o->tls_cert) {
        a->cert_file = kn_strdup(o->tls_cert);
        a->key_file = kn_strdup(o->tls_key);
        if (!a->cert_file || !a->key_file) e = KN_ERR_NOMEM;
        if (!e) e = read_pem(o->tls_cert, "--tls-cert", "CERTIFICATE", &a->cert);
        if (!e) e = read_pem(o->tls_key, "--tls-key", "PRIVATE KEY", &a->key);
        if (!e) e = check_pair(a);
        if (e) goto fail;
    }
    /* the keys: from the store when there is one */
    e = kn_store_open(o->store, 0, &a->store);
    if (e == KN_ERR_NOT_FOUND && !o->require_key) {
        kn_clear_error();
        e = KN_OK;
        kn_log(KN_LOG_INFO, "serve: no store, so no API keys: /admin/ routes answer 401");
    } else if (e == KN_ERR_NOT_FOUND) {
        const char *dir = o->store && *o->store ? o->store : getenv("KILN_STORE");
        if (!dir || !*dir) dir = "kiln-store";
        e = kn_fail(KN_ERR_NOT_FOUND,
                    "--require-key: there is no store at %s to hold API keys: make a key with "
                    "'kiln keys create --role predict --store %s', or pass --store DIR",
                    dir, dir);
    }
    if (e) goto fail;
    if (a->store) {
        e = kn_store_data_version(a->store, &a->data_version);
        if (!e) e = keyset_load(a, &a->keys);
        if (e) goto fail;
        if (pthread_create(&a->poller, NULL, poll_keys, a) != 0) {
            e = kn_fail(KN_ERR_INTERNAL, "cannot start the thread that reads the API keys");
            goto fail;
        }
        a->polling = 1;
    }
    *out = a;
    return KN_OK;
fail:
    kn__auth_free(a);
    return e;
}

void kn__auth_free(kn__auth *a)
{
    if (!a) return;
    if (a->polling) {
        pthread_mutex_lock(&a->mu);
        a->stop = 1;
        pthread_cond_signal(&a->cv);
        pthread_mutex_unlock(&a->mu);
        pthread_join(a->poller, NULL);
    }
    kn_store_close(a->store);
    keyset_free(a->keys);
    pthread_rwlock_destroy(&a->lock);
    pthread_mutex_destroy(&a->mu);
    pthread_cond_destroy(&a->cv);
    if (a->key) sodium_memzero(a->key, strlen(a->key));
    kn_free(a->key);
    kn_free(a->cert);
    kn_free(a->cert_file);
    kn_free(a->key_file);
    kn_free(a);
}

int kn__auth_tls(const kn__auth *a, const char **cert, const char **key, const char **cert_file,
                 const char **key_file)
{
    if (!a || !a->cert) return 0;
    *cert = a->cert;
    *key = a->key;
    *cert_file = a->cert_file;
    *key_file = a->key_file;
    return 1;
}

/* One take from key e's bucket at now: 0, or the seconds to wait. */
static unsigned take(key_entry *e, uint64_t now)
{
    if (e->rate <= 0) return 0;
    double interval = 1e9 / e->rate;
    double burst = e->rate < 1 ? 1 : e->rate;
    uint64_t step = interval < 1 ? 1 : (uint64_t)interval;
    uint64_t tolerance = (uint64_t)((burst - 1) * interval);
    uint64_t tat = atomic_load_explicit(&e->tat, memory_order_relaxed);
    for (;;) {
        uint64_t base = tat > now ? tat : now;
        if (base - now > tolerance) {
            uint64_t wait = base - now - tolerance;
            return (unsigned)((wait + 999999999u) / 1000000000u);
        }
        if (atomic_compare_exchange_weak_explicit(&e->tat, &tat, base + step, memory_order_relaxed,
                                                  memory_order_relaxed))
            return 0;
    }
}

static int deny(kn__auth_verdict *v, int status, int why)
{
    v->status = status;
    v->why = why;
    return status;
}

/* The token of "Bearer TOKEN" (spaces around allowed), or NULL. */
static const char *bearer(const char *h, size_t *len)
{
    while (*h == ' ' || *h == '\t') h++;
    if (strncasecmp(h, "Bearer", 6) || (h[6] != ' ' && h[6] != '\t')) return NULL;
    h += 6;
    while (*h == ' ' || *h == '\t') h++;
    size_t n = strcspn(h, " \t");
    const char *rest = h + n;
    while (*rest == ' ' || *rest == '\t') rest++;
    if (!n || *rest) return NULL;
    *len = n;
    return h;
}

int kn__auth_check(kn__auth *a, const char *path, const char *authorization, kn__auth_verdict *v)
{
    memset(v, 0, sizeof *v);
    int admin_path = !strncmp(path, "/admin/", 7) || !strcmp(path, "/admin");
    int health = !strncmp(path, "/v2/health/", 11) || !strcmp(path, "/v2");
    if (health && !admin_path) return 0; /* load balancers probe without keys */
    if (!authorization) {
        if (admin_path || a->require_key) return deny(v, 401, WHY_MISSING);
        return 0;
    }
    /* a key that is sent is checked, also where none is needed */
    size_t len = 0;
    const char *token = bearer(authorization, &len);
    unsigned char secret[KN_KEY_SECRET_BYTES];
    int64_t id = 0;
    if (!token || kn_api_key_parse(token, len, &id, secret)) return deny(v, 401, WHY_MALFORMED);
    int rc = 0;
    pthread_rwlock_rdlock(&a->lock);
    key_entry *e = keyset_find(a->keys, id);
    kn_api_key k = {0};
    if (e) {
        k.salt = e->salt;
        k.hash = e->hash;
    }
    if (!e || !kn_api_key_matches(&k, secret))
        rc = deny(v, 401, WHY_INVALID);
    else if (e->revoked)
        rc = deny(v, 401, WHY_REVOKED);
    else if (admin_path && !e->admin)
        rc = deny(v, 403, WHY_ROLE);
    else if ((v->retry_after = take(e, now_ns())) > 0)
        rc = deny(v, 429, WHY_RATE);
    if (e) v->rate = e->rate;
    pthread_rwlock_unlock(&a->lock);
    sodium_memzero(secret, sizeof secret);
    v->key_id = id;
    return rc;
}

void kn__auth_error(const kn__auth_verdict *v, const char *path, kn__serve_err *e)
{
    long long id = (long long)v->key_id;
    e->status = v->status;
    e->row = e->offset = -1;
    e->field[0] = 0;
    e->code = v->status == 403 ? "forbidden" : v->status == 429 ? "rate_limited" : "unauthorized";
    switch (v->why) {
    case WHY_MISSING:
        snprintf(e->message, sizeof e->message,
                 "%.128s needs %s API key: send 'Authorization: Bearer KEY' ('kiln keys create "
                 "--role %s' makes one)",
                 path, strncmp(path, "/admin", 6) ? "an" : "an admin",
                 strncmp(path, "/admin", 6) ? "predict" : "admin");
        break;
    case WHY_MALFORMED:
        snprintf(e->message, sizeof e->message,
                 "the Authorization header is not 'Bearer kiln_<id>_<secret>' (a key from "
                 "'kiln keys create')");
        break;
    case WHY_INVALID:
        snprintf(e->message, sizeof e->message,
                 "the API key is not valid (no key %lld with "
                 "that secret in the server's store)",
                 id);
        break;
    case WHY_REVOKED:
        snprintf(e->message, sizeof e->message, "API key %lld is revoked", id);
        break;
    case WHY_ROLE:
        snprintf(e->message, sizeof e->message,
                 "API key %lld has the role predict; %.128s needs an admin key", id, path);
        break;
    default:
        snprintf(e->message, sizeof e->message,
                 "API key %lld is over its rate of %g requests/s; retry after %u s", id, v->rate,
                 v->retry_after);
        break;
    }
}

void kn__auth_headers(const kn__auth_verdict *v, struct MHD_Response *res)
{
    char n[24];
    switch (v->status) {
    case 401:
        MHD_add_response_header(res, MHD_HTTP_HEADER_WWW_AUTHENTICATE,
                                v->why == WHY_MISSING ? "Bearer realm=\"kiln\""
                                                      : "Bearer realm=\"kiln\", "
                                                        "error=\"invalid_token\"");
        break;
    case 429:
        snprintf(n, sizeof n, "%u", v->retry_after);
        MHD_add_response_header(res, MHD_HTTP_HEADER_RETRY_AFTER, n);
        break;
    default:
        break;
    }
}
