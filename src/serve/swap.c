/* A served name's versions: refcounted immutable snapshots published under
 * traffic (a request holds the version it started on until its response is
 * done), reload (the source re-read, the new version checked before it
 * takes traffic), rollback (in the server, and in the registry for a
 * NAME@production model), and the canary and shadow versions. */
#include "kiln/artifact.h"
#include "kiln/log.h"
#include "kiln/mem.h"
#include "kiln/store.h"
#include "serve/serve-impl.h"

#include <sched.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- readers and the one writer ---- */

kn__serve_snap *kn__serve_slot_get(kn__serve_slot *sl, kn__snap_role role)
{
    /* counted in the current half of the guard while the pointer is read
     * and its reference taken: a writer that swapped the pointer waits for
     * this half to empty before it drops the old version */
    unsigned e = atomic_load(&sl->epoch) & 1u;
    atomic_fetch_add(&sl->acq[e], 1);
    kn__serve_snap *sn = atomic_load(&sl->snap[role]);
    if (sn) atomic_fetch_add_explicit(&sn->refs, 1, memory_order_relaxed);
    atomic_fetch_sub_explicit(&sl->acq[e], 1, memory_order_release);
    return sn;
}

static void snap_free(kn__serve_snap *sn)
{
    kn__serve_model_free(&sn->m);
    kn_free(sn);
}

void kn__serve_snap_put(kn__serve_snap *sn)
{
    if (sn && atomic_fetch_sub_explicit(&sn->refs, 1, memory_order_acq_rel) == 1) snap_free(sn);
}

kn__serve_snap *kn__serve_slot_swap(kn__serve_slot *sl, kn__snap_role role, kn__serve_snap *nw)
{
    kn__serve_snap *old = atomic_exchange(&sl->snap[role], nw);
    atomic_fetch_add(&sl->epoch, 1);
    /* both halves: a reader that read the epoch just before the last flip
     * counts itself in the half the writer has already waited for, and
     * may still load the pointer this swap replaced (TSan caught it
     * freeing a version under such a reader); a reader's section is a few
     * instructions, so both halves empty at once soon */
    while (atomic_load(&sl->acq[0]) || atomic_load(&sl->acq[1])) sched_yield();
    return old;
}

/* ---- a version's source ---- */

typedef struct source {
    char *path;
    char version[32];
    int reg_version;
    char hash[65];
} source;

static void source_free(source *s)
{
    kn_free(s->path);
    s->path = NULL;
}

/* The version label of a file's artifact: its place among the artifacts
 * this name has served (1, 2, ...), the next number for a new one. */
static void file_label(const kn__serve_slot *sl, const char *hash, char *out, size_t n)
{
    size_t i = 0;
    while (i < sl->n_hashes && strcmp(sl->hashes[i], hash)) i++;
    snprintf(out, n, "%zu", i + 1);
}

static kn_status remember_hash(kn__serve_slot *sl, const char *hash)
{
    for (size_t i = 0; i < sl->n_hashes; i++)
        if (!strcmp(sl->hashes[i], hash)) return KN_OK;
    char(*h)[65] = kn_realloc(sl->hashes, (sl->n_hashes + 1) * sizeof *h);
    if (!h) return KN_ERR_NOMEM;
    sl->hashes = h;
    memcpy(sl->hashes[sl->n_hashes++], hash, 65);
    return KN_OK;
}

/* Resolve a source: a registry ref in the store (its version and file), or
 * a file; then the artifact's hash. A registry version's artifact never
 * changes (content-addressed): when it is same's, its hash is same's and
 * the file is not read (the poller's case). */
static kn_status resolve(const kn__serve_slot *sl, const char *store_dir, const char *ref,
                         const char *path, const kn__serve_snap *same, source *out)
{
    memset(out, 0, sizeof *out);
    kn_status e = KN_OK;
    if (ref) {
        kn_store *st = NULL;
        e = kn_store_open(store_dir, 0, &st);
        if (e == KN_OK) e = kn_store_resolve(st, ref, &out->path, &out->reg_version, NULL);
        kn_store_close(st);
        snprintf(out->version, sizeof out->version, "%d", out->reg_version);
    } else {
        out->path = kn_strdup(path);
        if (!out->path) e = KN_ERR_NOMEM;
    }
    if (e == KN_OK && ref && same && same->reg_version == out->reg_version)
        memcpy(out->hash, same->hash, sizeof out->hash);
    else if (e == KN_OK)
        e = kn_artifact_hash_file(out->path, out->hash);
    if (e == KN_OK && !ref) file_label(sl, out->hash, out->version, sizeof out->version);
    if (e != KN_OK) source_free(out);
    return e;
}

static kn_status snap_load(kn__serve_metrics *mt, const kn__serve_slot *sl, const source *src,
                           kn__serve_snap **out)
{
    const char *name = sl->name;
    kn__serve_snap *sn = kn_calloc(1, sizeof *sn);
    if (!sn) return KN_ERR_NOMEM;
    kn_status e = kn__serve_model_load(name, src->version, src->path, sl->verify_key, &sn->m);
    if (e != KN_OK) {
        kn_free(sn);
        return e;
    }
    if (sl->live_shards && (e = kn__livestats_new(&sn->m.in, sl->live_shards, &sn->m.live))) {
        kn__serve_model_free(&sn->m);
        kn_free(sn);
        return e;
    }
    if (sl->feedback_rows && (e = kn__feedback_new(&sn->m, sl->feedback_rows, sl->feedback_window,
                                                   sl->feedback_shards, &sn->m.fb))) {
        kn__serve_model_free(&sn->m);
        kn_free(sn);
        return e;
    }
    kn__feedback_watch(sn->m.fb, sl->feedback_watch, sl->ref ? sl->ref : sl->name, sl);
    if (sl->drift.window && (e = kn__drift_new(&sn->m, &sl->drift, &sn->m.drift))) {
        kn__serve_model_free(&sn->m);
        kn_free(sn);
        return e;
    }
    kn__drift_set_owner(sn->m.drift, sn);
    atomic_init(&sn->refs, 1);
    memcpy(sn->hash, src->hash, sizeof sn->hash);
    sn->reg_version = src->reg_version;
    sn->series = kn__serve_metrics_series(mt, name, src->version);
    atomic_store_explicit(&mt->series[sn->series]->load_us,
                          (unsigned long long)(sn->m.load_s * 1e6 + 0.5), memory_order_relaxed);
    *out = sn;
    return KN_OK;
}

/* The registry model name of a ref ("credit@v2" -> "credit"). */
static int ref_names(const char *ref, const char *name)
{
    size_t n = strcspn(ref, "@");
    return strlen(name) == n && !strncmp(ref, name, n);
}

/* ---- a slot ---- */

kn_status kn__serve_slot_init(kn__serve_slot *sl, kn__serve_metrics *mt, const char *store_dir,
                              const char *name, const char *ref, const char *path,
                              const char *version, const unsigned char *verify_key)
{
    memset(sl, 0, sizeof *sl);
    sl->verify_key = verify_key;
    pthread_mutex_init(&sl->lock, NULL);
    sl->name = kn_strdup(name);
    sl->ref = ref ? kn_strdup(ref) : NULL;
    sl->path = path ? kn_strdup(path) : NULL;
    if (!sl->name || (ref && !sl->ref) || (path && !sl->path)) return KN_ERR_NOMEM;
    if (ref && !ref_names(ref, name))
        return kn_fail(KN_ERR_INVALID, "model '%s': the registry ref '%s' names another model",
                       name, ref);
    const char *at = ref ? strchr(ref, '@') : NULL;
    sl->tracks_production = at && !strcmp(at + 1, "production");
    source src;
    kn_status e = resolve(sl, store_dir, ref, path, NULL, &src);
    if (e == KN_OK && version) snprintf(src.version, sizeof src.version, "%s", version);
    kn__serve_snap *sn = NULL;
    if (e == KN_OK) e = snap_load(mt, sl, &src, &sn);
    if (e == KN_OK && !ref) e = remember_hash(sl, src.hash);
    source_free(&src);
    if (e != KN_OK) {
        kn__serve_snap_put(sn);
        return e;
    }
    atomic_store(&sl->snap[KN__SNAP_MAIN], sn);
    return KN_OK;
}

kn_status kn__serve_slot_side(kn__serve_slot *sl, kn__serve_metrics *mt, const char *store_dir,
                              kn__snap_role role, const char *ref, const char *path, double share)
{
    const char *what = role == KN__SNAP_CANARY ? "canary" : "shadow";
    if (atomic_load(&sl->snap[role]))
        return kn_fail(KN_ERR_INVALID, "model '%s' has a %s already; give one", sl->name, what);
    if (ref && !ref_names(ref, sl->name))
        return kn_fail(KN_ERR_INVALID, "the %s '%s' is not a version of model '%s' (give %s@vN)",
                       what, ref, sl->name, sl->name);
    if (role == KN__SNAP_CANARY && !(share > 0 && share < 1))
        return kn_fail(KN_ERR_INVALID,
                       "the canary's share of model '%s' must be over 0%% and under 100%%",
                       sl->name);
    source src;
    kn_status e = resolve(sl, store_dir, ref, path, NULL, &src);
    kn__serve_snap *sn = NULL, *cur = atomic_load(&sl->snap[KN__SNAP_MAIN]);
    if (e == KN_OK && !strcmp(src.hash, cur->hash))
        e = kn_fail(KN_ERR_INVALID, "the %s of model '%s' is version %s, the one it serves", what,
                    sl->name, cur->m.version);
    if (e == KN_OK) e = snap_load(mt, sl, &src, &sn);
    char why[512];
    if (e == KN_OK && kn__serve_model_compatible(&cur->m, &sn->m, why, sizeof why))
        e = kn_fail(KN_ERR_INVALID, "the %s cannot serve beside version %s: %s", what,
                    cur->m.version, why);
    if (e == KN_OK && !ref) e = remember_hash(sl, src.hash);
    source_free(&src);
    if (e != KN_OK) {
        kn__serve_snap_put(sn);
        return e;
    }
    if (role == KN__SNAP_CANARY) sl->canary_bp = (unsigned)(share * 10000 + 0.5);
    atomic_store(&sl->snap[role], sn);
    return KN_OK;
}

void kn__serve_slot_free(kn__serve_slot *sl)
{
    if (!sl) return;
    for (int r = 0; r < KN__N_SNAP; r++) kn__serve_snap_put(atomic_load(&sl->snap[r]));
    kn__serve_snap_put(sl->prev);
    kn_free(sl->name);
    kn_free(sl->ref);
    kn_free(sl->path);
    kn_free(sl->hashes);
    pthread_mutex_destroy(&sl->lock);
    memset(sl, 0, sizeof *sl);
}

/* ---- reload and rollback ---- */

static void outcome(kn__serve_outcome *o, int status, const char *result, const char *version,
                    const char *previous)
{
    o->status = status;
    o->result = result;
    snprintf(o->version, sizeof o->version, "%s", version);
    snprintf(o->previous, sizeof o->previous, "%s", previous ? previous : "");
}

static void refuse(kn__serve_slot *sl, kn__serve_outcome *o, kn__serve_event ev, int status,
                   const char *fmt, ...) __attribute__((format(printf, 5, 6)));
static void refuse(kn__serve_slot *sl, kn__serve_outcome *o, kn__serve_event ev, int status,
                   const char *fmt, ...)
{
    const kn__serve_snap *cur = atomic_load(&sl->snap[KN__SNAP_MAIN]);
    outcome(o, status, "refused", cur->m.version, NULL);
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(o->reason, sizeof o->reason, fmt, ap);
    va_end(ap);
    atomic_fetch_add_explicit(&sl->events[ev], 1, memory_order_relaxed);
    kn_log(KN_LOG_WARN, "serve: model '%s': %s; version %s keeps serving", sl->name, o->reason,
           cur->m.version);
}

static int load_status(kn_status e)
{
    return e == KN_ERR_NOMEM ? 503 : 409;
}

/* nw (the caller's reference) becomes the main version; the one it
 * replaces becomes prev. Under sl->lock. */
static void promote(kn__serve_slot *sl, kn__serve_snap *nw)
{
    kn__serve_snap *old = kn__serve_slot_swap(sl, KN__SNAP_MAIN, nw);
    kn__serve_snap_put(sl->prev);
    sl->prev = old;
}

void kn__serve_slot_reload(kn__serve_slot *sl, kn__serve_metrics *mt, const char *store_dir,
                           int only_if_newer, kn__serve_outcome *out)
{
    memset(out, 0, sizeof *out);
    pthread_mutex_lock(&sl->lock);
    const kn__serve_snap *cur = atomic_load(&sl->snap[KN__SNAP_MAIN]);
    if (only_if_newer && (sl->pinned || !sl->ref)) {
        outcome(out, 200, "unchanged", cur->m.version, NULL);
        pthread_mutex_unlock(&sl->lock);
        return;
    }
    if (!only_if_newer) sl->pinned = 0;
    source src;
    kn_status e = resolve(sl, store_dir, sl->ref, sl->path, cur, &src);
    kn__serve_snap *nw = NULL;
    char why[512];
    if (e != KN_OK) {
        refuse(sl, out, KN__EV_RELOAD_REFUSED, load_status(e), "cannot read %s: %s",
               sl->ref ? sl->ref : sl->path, kn_last_error());
    } else if (!strcmp(src.hash, cur->hash) || (only_if_newer && !strcmp(src.hash, sl->refused))) {
        outcome(out, 200, "unchanged", cur->m.version, NULL);
        if (!only_if_newer)
            atomic_fetch_add_explicit(&sl->events[KN__EV_RELOAD_UNCHANGED], 1,
                                      memory_order_relaxed);
    } else if ((e = snap_load(mt, sl, &src, &nw)) != KN_OK) {
        refuse(sl, out, KN__EV_RELOAD_REFUSED, load_status(e),
               "the new version%s%s cannot load: %s", sl->ref ? " v" : "",
               sl->ref ? src.version : "", kn_last_error());
        memcpy(sl->refused, src.hash, sizeof sl->refused);
    } else if (kn__serve_model_compatible(&cur->m, &nw->m, why, sizeof why)) {
        refuse(sl, out, KN__EV_RELOAD_REFUSED, 409, "the new version is incompatible: %s", why);
        memcpy(sl->refused, src.hash, sizeof sl->refused);
    } else if (!sl->ref && (e = remember_hash(sl, src.hash)) != KN_OK) {
        refuse(sl, out, KN__EV_RELOAD_REFUSED, 503, "out of memory");
    } else {
        outcome(out, 200, "reloaded", nw->m.version, cur->m.version);
        kn_log(KN_LOG_INFO, "serve: model '%s' now serves version %s (was %s; loaded in %.3f s)",
               sl->name, nw->m.version, cur->m.version, nw->m.load_s);
        promote(sl, nw);
        nw = NULL;
        atomic_fetch_add_explicit(&sl->events[KN__EV_RELOAD_OK], 1, memory_order_relaxed);
    }
    kn__serve_snap_put(nw);
    source_free(&src);
    pthread_mutex_unlock(&sl->lock);
}

typedef struct find_replaced {
    int version, replaced;
} find_replaced;

static int on_version(const kn_model_version *v, void *user)
{
    find_replaced *f = user;
    if (v->version != f->version) return 0;
    f->replaced = v->replaced;
    return 1;
}

/* A NAME@production model: the registry's production version must be the
 * one served; the version it replaced (the registry's rollback target) is
 * loaded and checked first, then the registry rolls back, then the swap. */
static void rollback_registry(kn__serve_slot *sl, kn__serve_metrics *mt, const char *store_dir,
                              kn__serve_outcome *out)
{
    const kn__serve_snap *cur = atomic_load(&sl->snap[KN__SNAP_MAIN]);
    kn_store *st = NULL;
    int prod = 0;
    find_replaced f = {0};
    kn__serve_snap *back = NULL;
    char ref[200], why[512];
    kn_status e = kn_store_open(store_dir, 0, &st);
    if (e == KN_OK) e = kn_store_resolve(st, sl->ref, NULL, &prod, NULL);
    if (e != KN_OK) {
        refuse(sl, out, KN__EV_ROLLBACK_REFUSED, 409, "cannot read the registry: %s",
               kn_last_error());
        goto done;
    }
    if (prod != cur->reg_version) {
        refuse(sl, out, KN__EV_ROLLBACK_REFUSED, 409,
               "the registry's production version is v%d but this server serves v%d: reload "
               "first (POST /admin/models/%s/reload), or roll back in the registry",
               prod, cur->reg_version, sl->name);
        goto done;
    }
    f.version = prod;
    e = kn_store_versions(st, sl->name, on_version, &f);
    if (e == KN_OK && !f.replaced) {
        refuse(sl, out, KN__EV_ROLLBACK_REFUSED, 409,
               "v%d is the first version of '%s' in production: there is no earlier one to "
               "return to",
               prod, sl->name);
        goto done;
    }
    if (e == KN_OK && sl->prev && sl->prev->reg_version == f.replaced) {
        back = sl->prev;
        atomic_fetch_add(&back->refs, 1);
    } else if (e == KN_OK) {
        snprintf(ref, sizeof ref, "%s@v%d", sl->name, f.replaced);
        source src;
        e = resolve(sl, store_dir, ref, NULL, NULL, &src);
        if (e == KN_OK) e = snap_load(mt, sl, &src, &back);
        source_free(&src);
    }
    if (e != KN_OK) {
        refuse(sl, out, KN__EV_ROLLBACK_REFUSED, load_status(e), "v%d cannot load: %s", f.replaced,
               kn_last_error());
        goto done;
    }
    if (kn__serve_model_compatible(&cur->m, &back->m, why, sizeof why)) {
        refuse(sl, out, KN__EV_ROLLBACK_REFUSED, 409, "v%d is incompatible: %s", f.replaced, why);
        goto done;
    }
    kn_gate_opts g;
    kn_gate_opts_default(&g);
    g.actor = "kiln serve";
    g.reason = "POST /admin/models/NAME/rollback";
    if (kn_store_rollback(st, sl->name, &g) != KN_OK) {
        refuse(sl, out, KN__EV_ROLLBACK_REFUSED, 409, "the registry refused: %s", kn_last_error());
        goto done;
    }
    outcome(out, 200, "rolled_back", back->m.version, cur->m.version);
    kn_log(KN_LOG_INFO, "serve: model '%s' rolled back to version %s (registry production too)",
           sl->name, back->m.version);
    promote(sl, back);
    back = NULL;
    sl->pinned = 0; /* the registry agrees: polling may follow it again */
    atomic_fetch_add_explicit(&sl->events[KN__EV_ROLLBACK_OK], 1, memory_order_relaxed);
done:
    kn__serve_snap_put(back);
    kn_store_close(st);
}

void kn__serve_slot_rollback(kn__serve_slot *sl, kn__serve_metrics *mt, const char *store_dir,
                             kn__serve_outcome *out)
{
    memset(out, 0, sizeof *out);
    pthread_mutex_lock(&sl->lock);
    const kn__serve_snap *cur = atomic_load(&sl->snap[KN__SNAP_MAIN]);
    char why[512];
    if (sl->tracks_production) {
        rollback_registry(sl, mt, store_dir, out);
    } else if (!sl->prev) {
        refuse(sl, out, KN__EV_ROLLBACK_REFUSED, 409,
               "no earlier version: this server has served only version %s of '%s'", cur->m.version,
               sl->name);
    } else if (kn__serve_model_compatible(&cur->m, &sl->prev->m, why, sizeof why)) {
        refuse(sl, out, KN__EV_ROLLBACK_REFUSED, 409, "version %s is incompatible: %s",
               sl->prev->m.version, why);
    } else {
        kn__serve_snap *back = sl->prev;
        sl->prev = NULL;
        outcome(out, 200, "rolled_back", back->m.version, cur->m.version);
        kn_log(KN_LOG_INFO, "serve: model '%s' rolled back to version %s", sl->name,
               back->m.version);
        promote(sl, back);
        sl->pinned = 1; /* polling would undo it; a reload ends it */
        atomic_fetch_add_explicit(&sl->events[KN__EV_ROLLBACK_OK], 1, memory_order_relaxed);
    }
    pthread_mutex_unlock(&sl->lock);
}
