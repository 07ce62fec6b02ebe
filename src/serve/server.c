/* The HTTP server (kiln/serve.h) on libmicrohttpd: epoll, an internal pool
 * of threads, the routes in one table, a request's state from its first
 * line to its last byte sent, metrics and the access log. */
#include "kiln/artifact.h"
#include "kiln/ctx.h"
#include "kiln/log.h"
#include "kiln/mem.h"
#include "serve/lazy_mhd-impl.h"
#include "serve/serve-impl.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

struct kn_server {
    kn_serve_opts o;
    char *host, *access_log, *store, *shadow_log;
    kn__serve_slot *slots; /* fixed once the server starts */
    size_t n_slots, cap;
    kn__serve_metrics mt;
    int metrics_ready;
    struct MHD_Daemon *d;
    int log_fd, port;
    _Atomic int draining;
    _Atomic unsigned long long next_id;
    kn_ctx *ctx;       /* the requests' run context: one thread per request */
    kn__predlog *plog; /* --prediction-log, or NULL */
    kn__auth *auth;
    kn__serve_shadow *shadow;
    kn__ops *ops;            /* operational anomalies, or NULL */
    kn_alert_config *alerts; /* --alerts, parsed at new; the watcher's once started */
    kn__watch *watch;        /* windows to the store and the alert rules, or NULL */
    const char **ops_names;  /* the served names ops reports on */
    unsigned char verify_key[KN_ARTIFACT_PUBLIC_KEY_BYTES];
    /* the registry poller */
    pthread_t poller;
    int polling, poll_stop;
    pthread_mutex_t poll_lock;
    pthread_cond_t poll_cond;
};

enum { PATH_KEPT = 256 };

/* One request, from its request line (uri_log) to the end of its response
 * (completed). */
typedef struct request {
    kn_server *s;
    unsigned long long id;
    struct timespec t0;
    kn__route route;
    long model;           /* the slot, or -1 */
    kn__serve_snap *snap; /* the version answering (a reference), or NULL */
    int status, phase, too_large, discard, want_post;
    size_t rows;
    char method[8];
    char path[PATH_KEPT];
    kn__sbuf body;
    kn__auth_verdict auth; /* a refusal answers the request (auth.c) */
} request;

void kn_serve_opts_default(kn_serve_opts *o)
{
    memset(o, 0, sizeof *o);
    o->host = "127.0.0.1";
    o->port = 8080;
    o->max_body = 1u << 20;
    o->max_connections = 1024;
    o->timeout_s = 30;
    o->max_header = 32u << 10;
    o->live_stats = 1;
    o->prediction_sample = 1.0;
    o->feedback_rows = 65536;
    o->feedback_window = 1000;
    o->anomalies = 1;
    o->anomaly_alpha = 0.001;
    o->anomaly_rows = 256;
    o->anomaly_contamination = 0.01;
    o->retrain_grace_s = 60;
}

static unsigned long long elapsed_us(const struct timespec *t0)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    long long us = (long long)(t.tv_sec - t0->tv_sec) * 1000000 + (t.tv_nsec - t0->tv_nsec) / 1000;
    return us > 0 ? (unsigned long long)us : 0;
}

/* ---- responses ---- */

static enum MHD_Result send_body(struct MHD_Connection *con, request *r, int status, char *body,
                                 size_t len, enum MHD_ResponseMemoryMode mode, const char *type)
{
    struct MHD_Response *res = MHD_create_response_from_buffer(len, body, mode);
    if (!res) {
        if (mode == MHD_RESPMEM_MUST_FREE) free(body);
        return MHD_NO;
    }
    char id[24];
    snprintf(id, sizeof id, "%llu", r->id);
    MHD_add_response_header(res, MHD_HTTP_HEADER_CONTENT_TYPE, type);
    MHD_add_response_header(res, "X-Request-Id", id);
    kn__auth_headers(&r->auth, res);
    if (r->snap) MHD_add_response_header(res, "X-Model-Version", r->snap->m.version);
    /* draining: clients open their next connection elsewhere */
    if (atomic_load_explicit(&r->s->draining, memory_order_relaxed))
        MHD_add_response_header(res, MHD_HTTP_HEADER_CONNECTION, "close");
    if (status == 405)
        MHD_add_response_header(res, MHD_HTTP_HEADER_ALLOW, r->want_post ? "POST" : "GET");
    enum MHD_Result ok = MHD_queue_response(con, (unsigned)status, res);
    MHD_destroy_response(res);
    if (ok == MHD_YES) r->status = status;
    return ok;
}

static enum MHD_Result send_json(struct MHD_Connection *con, request *r, int status, kn__sbuf *b)
{
    size_t len = 0;
    char *text = kn__sbuf_take(b, &len);
    if (!text) {
        static const char oom[] =
            "{\"error\":{\"code\":\"internal\",\"message\":\"out of memory\"}}";
        return send_body(con, r, 503, (char *)oom, sizeof oom - 1, MHD_RESPMEM_PERSISTENT,
                         "application/json");
    }
    return send_body(con, r, status, text, len, MHD_RESPMEM_MUST_FREE, "application/json");
}

static enum MHD_Result send_static(struct MHD_Connection *con, request *r, int status,
                                   const char *body)
{
    return send_body(con, r, status, (char *)body, strlen(body), MHD_RESPMEM_PERSISTENT,
                     "application/json");
}

static enum MHD_Result send_error(struct MHD_Connection *con, request *r, const kn__serve_err *e)
{
    kn__sbuf b = {0};
    kn__sbuf_puts(&b, "{\"error\":{\"code\":\"");
    kn__sbuf_puts(&b, e->code);
    kn__sbuf_puts(&b, "\",\"message\":");
    kn__sbuf_json_str(&b, e->message, strlen(e->message));
    if (e->field[0]) {
        kn__sbuf_puts(&b, ",\"field\":");
        kn__sbuf_json_str(&b, e->field, strlen(e->field));
    }
    if (e->row >= 0) kn__sbuf_printf(&b, ",\"row\":%lld", e->row);
    if (e->offset >= 0) kn__sbuf_printf(&b, ",\"offset\":%lld", e->offset);
    kn__sbuf_puts(&b, "}}");
    return send_json(con, r, e->status, &b);
}

static enum MHD_Result fail(struct MHD_Connection *con, request *r, int status, const char *code,
                            const char *fmt, ...) __attribute__((format(printf, 5, 6)));
static enum MHD_Result fail(struct MHD_Connection *con, request *r, int status, const char *code,
                            const char *fmt, ...)
{
    kn__serve_err e = {.status = status, .code = code, .row = -1, .offset = -1};
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(e.message, sizeof e.message, fmt, ap);
    va_end(ap);
    return send_error(con, r, &e);
}

/* ---- routes ---- */

enum { ADMIN_NONE, ADMIN_LIST, ADMIN_SHOW, ADMIN_RELOAD, ADMIN_ROLLBACK };

typedef struct route_match {
    kn__route route;
    int admin;                  /* which admin route */
    const char *name, *version; /* into the path, not terminated */
    size_t name_len, version_len;
    int post; /* the method the route takes */
} route_match;

static int prefix(const char **p, const char *s)
{
    size_t n = strlen(s);
    if (strncmp(*p, s, n)) return 0;
    *p += n;
    return 1;
}

/* The route of a path, or KN__ROUTE_OTHER. */
static route_match match(const char *path)
{
    route_match m = {.route = KN__ROUTE_OTHER};
    const char *p = path;
    if (!strcmp(p, "/v2/health/live"))
        m.route = KN__ROUTE_LIVE;
    else if (!strcmp(p, "/v2/health/ready") || !strcmp(p, "/v2"))
        m.route = KN__ROUTE_READY;
    else if (!strcmp(p, "/metrics"))
        m.route = KN__ROUTE_METRICS;
    else if (!strcmp(p, "/admin/models"))
        m.route = KN__ROUTE_ADMIN, m.admin = ADMIN_LIST;
    else if (prefix(&p, "/admin/models/")) {
        m.name = p;
        m.name_len = strcspn(p, "/");
        if (!m.name_len) return m;
        p += m.name_len;
        if (!*p)
            m.route = KN__ROUTE_ADMIN, m.admin = ADMIN_SHOW;
        else if (!strcmp(p, "/reload"))
            m.route = KN__ROUTE_ADMIN, m.admin = ADMIN_RELOAD, m.post = 1;
        else if (!strcmp(p, "/rollback"))
            m.route = KN__ROUTE_ADMIN, m.admin = ADMIN_ROLLBACK, m.post = 1;
    } else if (prefix(&p, "/v1/models/")) {
        const char *colon = strrchr(p, ':');
        if (colon && colon > p && !strcmp(colon, ":predict") &&
            !memchr(p, '/', (size_t)(colon - p))) {
            m.route = KN__ROUTE_PREDICT;
            m.name = p;
            m.name_len = (size_t)(colon - p);
            m.post = 1;
        }
    } else if (prefix(&p, "/v2/models/")) {
        m.name = p;
        m.name_len = strcspn(p, "/");
        if (!m.name_len) return m;
        p += m.name_len;
        if (prefix(&p, "/versions/")) {
            m.version = p;
            m.version_len = strcspn(p, "/");
            if (!m.version_len) return m;
            p += m.version_len;
        }
        if (!*p)
            m.route = KN__ROUTE_MODEL;
        else if (!strcmp(p, "/ready"))
            m.route = KN__ROUTE_MODEL_READY;
        else if (!strcmp(p, "/infer"))
            m.route = KN__ROUTE_INFER, m.post = 1;
        else if (!strcmp(p, "/feedback") && !m.version)
            m.route = KN__ROUTE_FEEDBACK, m.post = 1;
    }
    return m;
}

static long find_model(const kn_server *s, const route_match *m)
{
    for (size_t i = 0; i < s->n_slots; i++)
        if (strlen(s->slots[i].name) == m->name_len &&
            !memcmp(s->slots[i].name, m->name, m->name_len))
            return (long)i;
    return -1;
}

/* The version that answers a model request: the one named in the path
 * (the main or the canary version), else the canary for its share of the
 * requests (request k of the slot goes to the canary when floor((k + 1) *
 * share) passes floor(k * share): the split is exact to one request), else
 * the main one. A reference, or NULL when the named version is not served. */
static kn__serve_snap *pick_version(kn__serve_slot *sl, const route_match *m)
{
    kn__serve_snap *main = kn__serve_slot_get(sl, KN__SNAP_MAIN);
    if (m->version) {
        if (strlen(main->m.version) == m->version_len &&
            !memcmp(main->m.version, m->version, m->version_len))
            return main;
        kn__serve_snap *c = kn__serve_slot_get(sl, KN__SNAP_CANARY);
        if (c && strlen(c->m.version) == m->version_len &&
            !memcmp(c->m.version, m->version, m->version_len)) {
            kn__serve_snap_put(main);
            return c;
        }
        kn__serve_snap_put(c);
        kn__serve_snap_put(main);
        return NULL;
    }
    if (!sl->canary_bp || (m->route != KN__ROUTE_INFER && m->route != KN__ROUTE_PREDICT))
        return main;
    unsigned long long k = atomic_fetch_add_explicit(&sl->routed, 1, memory_order_relaxed);
    if ((k + 1) * sl->canary_bp / 10000 == k * sl->canary_bp / 10000) return main;
    kn__serve_snap *c = kn__serve_slot_get(sl, KN__SNAP_CANARY);
    if (!c) return main;
    kn__serve_snap_put(main);
    return c;
}

static enum MHD_Result unknown_model(struct MHD_Connection *con, request *r, const kn_server *s,
                                     const route_match *m)
{
    char names[256];
    size_t k = 0;
    names[0] = 0;
    for (size_t i = 0; i < s->n_slots && k + 70 < sizeof names; i++)
        k += (size_t)snprintf(names + k, sizeof names - k, "%s%.64s", i ? ", " : "",
                              s->slots[i].name);
    return fail(con, r, 404, "not_found", "no model '%.*s' is served; the models: %s",
                (int)(m->name_len > 128 ? 128 : m->name_len), m->name, names);
}

static enum MHD_Result infer(struct MHD_Connection *con, request *r, kn_server *s,
                             const kn__serve_model *mdl)
{
    kn__serve_err err = {.row = -1, .offset = -1};
    kn_frame *rows = NULL;
    char *id = NULL;
    kn__sbuf out = {0};
    int v2 = r->route == KN__ROUTE_INFER;
    const char *body = r->body.p ? r->body.p : "";
    kn_ctx *prev = kn_ctx_enter(s->ctx);
    kn__predlog_begin(s->plog, r->id); /* infer logs its rows there */
    kn__feedback_begin(r->id);
    kn__drift_begin(1);
    int rc = v2 ? kn__serve_parse_v2(&mdl->in, body, r->body.len, &rows, &id, &err)
                : kn__serve_parse_v1(&mdl->in, body, r->body.len, &rows, &err);
    if (rc == 0) rc = kn__serve_infer(mdl, rows, v2, id, &out, &err);
    if (rc == 0) r->rows = kn_frame_n_rows(rows);
    if (rc == 0) kn__livestats_add(mdl->live, rows);
    /* a request refused for its rows counts them into the drift windows */
    if (rc && mdl->drift && err.row >= 0 && !strcmp(err.code, "invalid_input"))
        kn__drift_invalid(mdl->drift, rows ? kn_frame_n_rows(rows) : 1);
    kn__predlog_begin(NULL, 0);
    kn__feedback_begin(0);
    kn__drift_begin(0);
    kn__serve_frame_done(&mdl->in, rows);
    kn_ctx_leave(prev);
    free(id);
    if (rc) {
        kn__sbuf_free(&r->body);
        kn__sbuf_free(&out);
        return send_error(con, r, &err);
    }
    atomic_fetch_add_explicit(&s->mt.series[r->snap->series]->rows, r->rows, memory_order_relaxed);
    kn__serve_slot *sl = &s->slots[r->model];
    kn__serve_snap *shadow =
        s->shadow && atomic_load_explicit(&sl->snap[KN__SNAP_SHADOW], memory_order_relaxed)
            ? kn__serve_slot_get(sl, KN__SNAP_SHADOW)
            : NULL;
    if (shadow && !out.oom) {
        /* the job keeps the body and its own reference to the version that answered */
        atomic_fetch_add_explicit(&r->snap->refs, 1, memory_order_relaxed);
        kn__serve_shadow_submit(s->shadow, sl, r->id, r->snap, shadow, r->body.p, r->body.len, v2,
                                out.p, out.len);
        r->body = (kn__sbuf){0};
    } else {
        kn__serve_snap_put(shadow);
        kn__sbuf_free(&r->body);
    }
    return send_json(con, r, 200, &out);
}

enum { UNKNOWN_SHOWN = 10 }; /* unknown request ids named in a feedback answer */

/* Check one label of a feedback body: 0, or -1 with *err naming its field. */
static int feedback_label(json_t *l, size_t i, int regression, kn__serve_err *err)
{
    json_t *rid = json_object_get(l, "request_id"), *row = json_object_get(l, "row"),
           *lab = json_object_get(l, "label");
    char f[64];
    if (!json_is_object(l)) {
        snprintf(f, sizeof f, "labels[%zu]", i);
        kn__serve_err_set(err, 400, "invalid_request", f, -1,
                          "labels[%zu] is not an object; each label is {\"request_id\": N, "
                          "\"label\": VALUE} (and \"row\": N for a row past the first)",
                          i);
    } else if (!json_is_integer(rid) || json_integer_value(rid) <= 0) {
        snprintf(f, sizeof f, "labels[%zu].request_id", i);
        kn__serve_err_set(err, 400, "invalid_request", f, -1,
                          "labels[%zu].request_id must be a positive whole number, the "
                          "X-Request-Id of the prediction's response",
                          i);
    } else if (row && (!json_is_integer(row) || json_integer_value(row) < 0)) {
        snprintf(f, sizeof f, "labels[%zu].row", i);
        kn__serve_err_set(err, 400, "invalid_request", f, -1,
                          "labels[%zu].row must be a whole number from 0 (the row in the "
                          "request's batch)",
                          i);
    } else if (regression ? !json_is_number(lab) : !json_is_string(lab) && !json_is_number(lab)) {
        snprintf(f, sizeof f, "labels[%zu].label", i);
        kn__serve_err_set(err, 400, "invalid_request", f, -1, "labels[%zu].label must be %s", i,
                          regression ? "a number (the model is a regression)"
                                     : "the true class, a string or a number");
    } else
        return 0;
    return -1;
}

/* POST /v2/models/NAME/feedback: {"labels": [{"request_id", "row"?,
 * "label"}, ..]} joined to the predictions of the main and canary
 * versions. The whole body is checked before anything is joined. */
static enum MHD_Result feedback(struct MHD_Connection *con, request *r, kn_server *s,
                                kn__serve_slot *sl)
{
    (void)s;
    kn__serve_err err = {.row = -1, .offset = -1};
    kn__serve_snap *sn[2] = {kn__serve_slot_get(sl, KN__SNAP_MAIN),
                             kn__serve_slot_get(sl, KN__SNAP_CANARY)};
    json_error_t je;
    json_t *body = NULL, *labels = NULL;
    kn__sbuf b = {0};
    size_t joined[2] = {0, 0}, n_unknown = 0, n_dup = 0;
    unsigned long long shown[UNKNOWN_SHOWN];
    int regression = sn[0]->m.n_classes == 0;
    if (!sn[0]->m.fb) {
        kn__serve_err_set(&err, 404, "not_found", "", -1,
                          "model '%s' takes no feedback: the server runs with --feedback-ring 0",
                          sl->name);
        goto fail;
    }
    body = json_loadb(r->body.p ? r->body.p : "", r->body.len, 0, &je);
    if (!body) {
        kn__serve_err_set(&err, 400, "bad_json", "", -1, "the body is not JSON: %s", je.text);
        err.offset = je.position;
        goto fail;
    }
    labels = json_object_get(body, "labels");
    if (!json_is_array(labels)) {
        kn__serve_err_set(&err, 400, "invalid_request", "labels", -1,
                          "the body needs \"labels\": [{\"request_id\": N, \"label\": VALUE}, ..]");
        goto fail;
    }
    for (size_t i = 0; i < json_array_size(labels); i++)
        if (feedback_label(json_array_get(labels, i), i, regression, &err)) goto fail;
    for (size_t i = 0; i < json_array_size(labels); i++) {
        json_t *l = json_array_get(labels, i), *lab = json_object_get(l, "label");
        unsigned long long rid = (unsigned long long)json_integer_value(
                               json_object_get(l, "request_id")),
                           row = (unsigned long long)json_integer_value(json_object_get(l, "row"));
        char text[64];
        const char *t = text;
        if (json_is_string(lab))
            t = json_string_value(lab);
        else if (json_is_integer(lab))
            snprintf(text, sizeof text, "%lld", (long long)json_integer_value(lab));
        else
            snprintf(text, sizeof text, "%.17g", json_number_value(lab));
        double x = json_is_number(lab) ? json_number_value(lab) : NAN;
        int k = 0, got = 0;
        while (k < 2 &&
               !(sn[k] && (got = kn__feedback_join(sn[k]->m.fb, &sn[k]->m, rid, row, t, x))))
            k++;
        if (k < 2 && got == 2)
            n_dup++;
        else if (k < 2)
            joined[k]++;
        else if (n_unknown++ < UNKNOWN_SHOWN)
            shown[n_unknown - 1] = rid;
    }
    kn__feedback_unknown(sn[0]->m.fb, n_unknown);
    for (int k = 0; k < 2; k++)
        if (sn[k]) kn__feedback_done(sn[k]->m.fb);
    kn__sbuf_puts(&b, "{\"model\":");
    kn__sbuf_json_str(&b, sl->name, strlen(sl->name));
    kn__sbuf_printf(&b, ",\"labels\":%zu,\"joined\":%zu,\"versions\":{", json_array_size(labels),
                    joined[0] + joined[1]);
    for (int k = 0; k < 2; k++)
        if (sn[k]) {
            if (k) kn__sbuf_puts(&b, ",");
            kn__sbuf_json_str(&b, sn[k]->m.version, strlen(sn[k]->m.version));
            kn__sbuf_printf(&b, ":%zu", joined[k]);
        }
    kn__sbuf_printf(&b, "},\"unknown\":{\"count\":%zu,\"request_ids\":[", n_unknown);
    for (size_t i = 0; i < n_unknown && i < UNKNOWN_SHOWN; i++)
        kn__sbuf_printf(&b, "%s%llu", i ? "," : "", shown[i]);
    kn__sbuf_printf(&b, "]},\"duplicate\":%zu}", n_dup);
    json_decref(body);
    kn__serve_snap_put(sn[1]);
    kn__serve_snap_put(sn[0]);
    kn__sbuf_free(&r->body);
    return send_json(con, r, 200, &b);
fail:
    json_decref(body);
    kn__serve_snap_put(sn[1]);
    kn__serve_snap_put(sn[0]);
    kn__sbuf_free(&r->body);
    return send_error(con, r, &err);
}

static enum MHD_Result metrics(struct MHD_Connection *con, request *r, kn_server *s)
{
    kn__sbuf b = {0};
    kn__serve_metrics_text(&s->mt, s->slots, s->n_slots, &b);
    kn__ops_text(s->ops, &b);
    kn__watch_text(s->watch, &b);
    size_t len = 0;
    char *text = kn__sbuf_take(&b, &len);
    if (!text) return fail(con, r, 503, "internal", "out of memory");
    return send_body(con, r, 200, text, len, MHD_RESPMEM_MUST_FREE,
                     "text/plain; version=0.0.4; charset=utf-8");
}

/* ---- admin ---- */

static void version_json(kn__sbuf *b, const char *key, const char *v)
{
    kn__sbuf_printf(b, ",\"%s\":", key);
    if (v && v[0])
        kn__sbuf_json_str(b, v, strlen(v));
    else
        kn__sbuf_puts(b, "null");
}

/* One model's state: its source, the versions serving, the one before. */
static void slot_json(kn__sbuf *b, kn__serve_slot *sl)
{
    kn__serve_snap *sn[KN__N_SNAP];
    pthread_mutex_lock(&sl->lock); /* no reload between the versions read */
    for (int i = 0; i < KN__N_SNAP; i++) sn[i] = kn__serve_slot_get(sl, (kn__snap_role)i);
    kn__sbuf_puts(b, "{\"model\":");
    kn__sbuf_json_str(b, sl->name, strlen(sl->name));
    version_json(b, "version", sn[KN__SNAP_MAIN]->m.version);
    version_json(b, "previous", sl->prev ? sl->prev->m.version : NULL);
    kn__sbuf_puts(b, sl->ref ? ",\"ref\":" : ",\"file\":");
    const char *src = sl->ref ? sl->ref : sl->path;
    kn__sbuf_json_str(b, src, strlen(src));
    kn__sbuf_printf(b, ",\"pinned\":%s", sl->pinned ? "true" : "false");
    pthread_mutex_unlock(&sl->lock);
    version_json(b, "canary", sn[KN__SNAP_CANARY] ? sn[KN__SNAP_CANARY]->m.version : NULL);
    if (sn[KN__SNAP_CANARY]) kn__sbuf_printf(b, ",\"canary_share\":%g", sl->canary_bp / 1e4);
    version_json(b, "shadow", sn[KN__SNAP_SHADOW] ? sn[KN__SNAP_SHADOW]->m.version : NULL);
    kn__sbuf_puts(b, "}");
    for (int i = 0; i < KN__N_SNAP; i++) kn__serve_snap_put(sn[i]);
}

static enum MHD_Result admin_list(struct MHD_Connection *con, request *r, kn_server *s)
{
    kn__sbuf b = {0};
    kn__sbuf_puts(&b, "{\"models\":[");
    for (size_t i = 0; i < s->n_slots; i++) {
        if (i) kn__sbuf_puts(&b, ",");
        slot_json(&b, &s->slots[i]);
    }
    kn__sbuf_puts(&b, "]}");
    return send_json(con, r, 200, &b);
}

/* The body of a reload's or rollback's outcome. */
static void outcome_json(kn__sbuf *b, const kn__serve_slot *sl, const kn__serve_outcome *o)
{
    kn__sbuf_puts(b, "{");
    if (!strcmp(o->result, "refused")) {
        kn__sbuf_puts(b, "\"error\":{\"code\":\"refused\",\"message\":");
        kn__sbuf_json_str(b, o->reason, strlen(o->reason));
        kn__sbuf_puts(b, "},");
    }
    kn__sbuf_puts(b, "\"model\":");
    kn__sbuf_json_str(b, sl->name, strlen(sl->name));
    kn__sbuf_puts(b, ",\"result\":");
    kn__sbuf_json_str(b, o->result, strlen(o->result));
    version_json(b, "version", o->version);
    if (o->previous[0]) version_json(b, "previous", o->previous);
    kn__sbuf_puts(b, "}");
}

static enum MHD_Result admin(struct MHD_Connection *con, request *r, kn_server *s,
                             kn__serve_slot *sl, int what)
{
    kn__sbuf b = {0};
    if (what == ADMIN_SHOW) {
        slot_json(&b, sl);
        return send_json(con, r, 200, &b);
    }
    kn__serve_outcome o;
    if (what == ADMIN_RELOAD)
        kn__serve_slot_reload(sl, &s->mt, s->store, 0, &o);
    else
        kn__serve_slot_rollback(sl, &s->mt, s->store, &o);
    outcome_json(&b, sl, &o);
    return send_json(con, r, o.status, &b);
}

/* Answer a request whose body (if any) is all in. */
static enum MHD_Result answer(struct MHD_Connection *con, request *r, kn_server *s,
                              const route_match *m, int post)
{
    if (r->auth.status) {
        kn__serve_err e;
        kn__auth_error(&r->auth, r->path, &e);
        return send_error(con, r, &e);
    }
    if (r->route == KN__ROUTE_OTHER)
        return fail(con, r, 404, "not_found",
                    "no route %s %.128s; the routes: GET /v2/health/live, /v2/health/ready, "
                    "/v2/models/NAME[/versions/V][/ready], /metrics, /admin/models[/NAME]; "
                    "POST /v2/models/NAME[/versions/V]/infer, /v2/models/NAME/feedback, "
                    "/v1/models/NAME:predict, "
                    "/admin/models/NAME/reload, /admin/models/NAME/rollback",
                    r->method, r->path);
    if (post != (m->post ? 1 : 0))
        return fail(con, r, 405, "method_not_allowed", "%s takes %s, not %s", r->path,
                    m->post ? "POST" : "GET", r->method);
    switch (r->route) {
    case KN__ROUTE_LIVE:
        return send_static(con, r, 200, "{\"live\":true}");
    case KN__ROUTE_READY:
        if (atomic_load(&s->draining)) return send_static(con, r, 503, "{\"ready\":false}");
        return send_static(con, r, 200, "{\"ready\":true}");
    case KN__ROUTE_METRICS:
        return metrics(con, r, s);
    default:
        break;
    }
    if (m->admin == ADMIN_LIST) return admin_list(con, r, s);
    if (r->model < 0) return unknown_model(con, r, s, m);
    kn__serve_slot *sl = &s->slots[r->model];
    if (r->route == KN__ROUTE_ADMIN) return admin(con, r, s, sl, m->admin);
    if (!r->snap) {
        kn__serve_snap *main = kn__serve_slot_get(sl, KN__SNAP_MAIN),
                       *c = kn__serve_slot_get(sl, KN__SNAP_CANARY);
        enum MHD_Result res =
            fail(con, r, 404, "not_found",
                 "model '%s' has no version '%.*s' here; it serves version %s%s%s", sl->name,
                 (int)(m->version_len > 64 ? 64 : m->version_len), m->version, main->m.version,
                 c ? " and the canary " : "", c ? c->m.version : "");
        kn__serve_snap_put(c);
        kn__serve_snap_put(main);
        return res;
    }
    const kn__serve_model *mdl = &r->snap->m;
    if (r->too_large)
        return fail(con, r, 413, "too_large",
                    "the request body is over %zu bytes, the server's limit (--max-body)",
                    s->o.max_body);
    switch (r->route) {
    case KN__ROUTE_MODEL:
        return send_body(con, r, 200, mdl->metadata, mdl->metadata_len, MHD_RESPMEM_PERSISTENT,
                         "application/json");
    case KN__ROUTE_MODEL_READY: {
        kn__sbuf b = {0};
        kn__sbuf_puts(&b, "{\"name\":");
        kn__sbuf_json_str(&b, mdl->name, strlen(mdl->name));
        kn__sbuf_puts(&b, ",\"ready\":true}");
        return send_json(con, r, 200, &b);
    }
    case KN__ROUTE_FEEDBACK:
        return feedback(con, r, s, sl);
    default:
        return infer(con, r, s, mdl);
    }
}

static enum MHD_Result handle(void *cls, struct MHD_Connection *con, const char *url,
                              const char *method, const char *version, const char *upload,
                              size_t *upload_size, void **con_cls)
{
    (void)version;
    kn_server *s = cls;
    request *r = *con_cls;
    if (!r) return MHD_NO; /* uri_log failed to allocate */
    /* 1 POST, 0 GET or HEAD, 2 any other method (refused everywhere) */
    int post = !strcmp(method, "POST")                             ? 1
               : !strcmp(method, "GET") || !strcmp(method, "HEAD") ? 0
                                                                   : 2;
    route_match m = match(url);
    if (r->phase == 0) {
        r->phase = 1;
        r->route = m.route;
        r->model = m.name ? find_model(s, &m) : -1;
        r->want_post = m.post;
        if (r->model >= 0 && r->route != KN__ROUTE_ADMIN)
            r->snap = pick_version(&s->slots[r->model], &m);
        snprintf(r->method, sizeof r->method, "%s", method);
        /* who may call: before any body is read; a refused body is dropped */
        int refused = kn__auth_check(
            s->auth, url,
            MHD_lookup_connection_value(con, MHD_HEADER_KIND, MHD_HTTP_HEADER_AUTHORIZATION),
            &r->auth);
        /* answers wait for the call after the body (libmicrohttpd closes the
         * connection after an answer queued on the first call); a body no
         * route wants is read and dropped, one over the limit is refused at
         * once (and the connection closed) */
        if (post != 1) return MHD_YES;
        if (refused || !m.post || r->route == KN__ROUTE_OTHER || r->route == KN__ROUTE_ADMIN ||
            r->model < 0) {
            r->discard = 1;
            return MHD_YES;
        }
        const char *cl = MHD_lookup_connection_value(con, MHD_HEADER_KIND, "Content-Length");
        unsigned long long len = cl ? strtoull(cl, NULL, 10) : 0;
        if (len > s->o.max_body) {
            r->too_large = 1;
            return answer(con, r, s, &m, post);
        }
        /* the whole body in one allocation when its length is known */
        if (len) {
            kn__sbuf_add(&r->body, "", 0);
            if (len + 1 > r->body.cap && !r->body.oom) {
                char *p = realloc(r->body.p, (size_t)len + 1);
                if (p) r->body.p = p, r->body.cap = (size_t)len + 1;
            }
        }
        return MHD_YES;
    }
    if (*upload_size) {
        if (r->discard) {
            *upload_size = 0;
            return MHD_YES;
        }
        if (!r->too_large && r->body.len + *upload_size > s->o.max_body) {
            r->too_large = 1;
            kn__sbuf_free(&r->body);
        }
        if (!r->too_large) kn__sbuf_add(&r->body, upload, *upload_size);
        *upload_size = 0;
        return MHD_YES;
    }
    if (r->body.oom) return fail(con, r, 503, "internal", "out of memory reading the body");
    return answer(con, r, s, &m, post);
}

/* ---- a request's life ---- */

static void *uri_log(void *cls, const char *uri, struct MHD_Connection *con)
{
    (void)con;
    kn_server *s = cls;
    request *r = calloc(1, sizeof *r);
    if (!r) return NULL;
    clock_gettime(CLOCK_MONOTONIC, &r->t0);
    r->s = s;
    r->id = atomic_fetch_add_explicit(&s->next_id, 1, memory_order_relaxed) + 1;
    r->model = -1;
    r->route = KN__ROUTE_OTHER;
    snprintf(r->path, sizeof r->path, "%s", uri);
    atomic_fetch_add_explicit(&s->mt.in_flight, 1, memory_order_relaxed);
    return r;
}

static void access_log(const kn_server *s, const request *r, unsigned long long us)
{
    char when[40];
    kn__serve_utc(kn__serve_now_ns(), when, sizeof when);
    kn__sbuf b = {0};
    kn__sbuf_printf(&b, "{\"time\":\"%s\",\"request_id\":%llu,\"method\":", when, r->id);
    kn__sbuf_json_str(&b, r->method, strlen(r->method));
    kn__sbuf_puts(&b, ",\"path\":");
    kn__sbuf_json_str(&b, r->path, strlen(r->path));
    kn__sbuf_printf(&b, ",\"status\":%d,\"latency_us\":%llu,\"rows\":%zu", r->status, us, r->rows);
    if (r->auth.key_id) kn__sbuf_printf(&b, ",\"key\":%lld", (long long)r->auth.key_id);
    if (r->model >= 0) {
        const char *name = s->slots[r->model].name;
        kn__sbuf_puts(&b, ",\"model\":");
        kn__sbuf_json_str(&b, name, strlen(name));
    }
    if (r->snap) {
        kn__sbuf_puts(&b, ",\"version\":");
        kn__sbuf_json_str(&b, r->snap->m.version, strlen(r->snap->m.version));
    }
    kn__sbuf_puts(&b, "}\n");
    /* one write of the whole line to an O_APPEND file: lines never interleave */
    if (!b.oom && b.p && write(s->log_fd, b.p, b.len) < 0) {
        /* nothing to do: a full disk must not stop the answers */
    }
    kn__sbuf_free(&b);
}

static void completed(void *cls, struct MHD_Connection *con, void **con_cls,
                      enum MHD_RequestTerminationCode toe)
{
    (void)con;
    (void)toe;
    kn_server *s = cls;
    request *r = *con_cls;
    if (!r) return;
    *con_cls = NULL;
    unsigned long long us = elapsed_us(&r->t0);
    kn__serve_metrics_count(&s->mt, r->route, r->snap ? r->snap->series : 0, r->status, us);
    kn__ops_count(s->ops, r->model, r->route, r->status, us);
    if (s->log_fd >= 0) access_log(s, r, us);
    kn__serve_snap_put(r->snap);
    kn__sbuf_free(&r->body);
    free(r);
    atomic_fetch_sub_explicit(&s->mt.in_flight, 1, memory_order_release);
}

static void mhd_log(void *cls, const char *fmt, va_list ap)
{
    (void)cls;
    char msg[512];
    vsnprintf(msg, sizeof msg, fmt, ap);
    size_t n = strlen(msg);
    while (n && msg[n - 1] == '\n') msg[--n] = 0;
    kn_log(KN_LOG_DEBUG, "%s", msg);
}

/* ---- the registry poller ---- */

static void *poll_main(void *arg)
{
    kn_server *s = arg;
    kn_ctx *prev = kn_ctx_enter(s->ctx);
    pthread_mutex_lock(&s->poll_lock);
    while (!s->poll_stop) {
        struct timespec until;
        clock_gettime(CLOCK_REALTIME, &until);
        double secs = s->o.poll_s;
        until.tv_sec += (time_t)secs;
        until.tv_nsec += (long)((secs - (double)(time_t)secs) * 1e9);
        if (until.tv_nsec >= 1000000000L) until.tv_sec++, until.tv_nsec -= 1000000000L;
        while (!s->poll_stop &&
               pthread_cond_timedwait(&s->poll_cond, &s->poll_lock, &until) != ETIMEDOUT) {
        }
        if (s->poll_stop) break;
        pthread_mutex_unlock(&s->poll_lock);
        for (size_t i = 0; i < s->n_slots; i++) {
            kn__serve_outcome o;
            kn__serve_slot_reload(&s->slots[i], &s->mt, s->store, 1, &o);
        }
        pthread_mutex_lock(&s->poll_lock);
    }
    pthread_mutex_unlock(&s->poll_lock);
    kn_ctx_leave(prev);
    return NULL;
}

/* ---- the server ---- */

kn_status kn_server_new(const kn_serve_opts *o, kn_server **out)
{
    kn_server *s = kn_calloc(1, sizeof *s);
    if (!s) return KN_ERR_NOMEM;
    s->o = *o;
    s->log_fd = -1;
    if (o->verify_key) memcpy(s->verify_key, o->verify_key, sizeof s->verify_key);
    pthread_mutex_init(&s->poll_lock, NULL);
    pthread_cond_init(&s->poll_cond, NULL);
    s->host = kn_strdup(o->host ? o->host : "127.0.0.1");
    s->access_log = o->access_log ? kn_strdup(o->access_log) : NULL;
    s->store = o->store ? kn_strdup(o->store) : NULL;
    s->shadow_log = o->shadow_log ? kn_strdup(o->shadow_log) : NULL;
    kn_status e = s->host && (s->access_log || !o->access_log) && (s->store || !o->store) &&
                          (s->shadow_log || !o->shadow_log)
                      ? KN_OK
                      : KN_ERR_NOMEM;
    if (e == KN_OK) e = kn__serve_metrics_init(&s->mt);
    if (e == KN_OK) s->metrics_ready = 1;
    if (e == KN_OK && o->port < 0)
        e = kn_fail(KN_ERR_INVALID, "port %d is not 0 to 65535", o->port);
    if (e == KN_OK && o->port > 65535)
        e = kn_fail(KN_ERR_INVALID, "port %d is not 0 to 65535", o->port);
    if (e == KN_OK && !o->max_body)
        e = kn_fail(KN_ERR_INVALID, "the body limit must be at least 1 byte");
    if (e == KN_OK && o->max_header && o->max_header < 1024)
        e = kn_fail(KN_ERR_INVALID,
                    "the header limit must be at least 1024 bytes (a request line and its "
                    "headers fit in it)");
    if (e == KN_OK && !(o->poll_s >= 0))
        e = kn_fail(KN_ERR_INVALID, "the poll interval must be 0 (off) or more seconds");
    if (e == KN_OK && s->access_log) {
        s->log_fd = open(s->access_log, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
        if (s->log_fd < 0)
            e = kn_fail(KN_ERR_IO, "cannot open the access log %s: %s", s->access_log,
                        strerror(errno));
    }
    if (e == KN_OK && o->alerts) e = kn__serve_alerts_read(o->alerts, &s->alerts);
    if (e == KN_OK) e = kn__mhd_load();
    if (e == KN_OK) e = kn__auth_new(o, &s->auth);
    if (e == KN_OK && o->prediction_log)
        e = kn__predlog_open(o->prediction_log, o->prediction_sample, o->prediction_seed, &s->plog);
    if (e == KN_OK) e = kn_ctx_new(&s->ctx);
    if (e == KN_OK) kn_ctx_set_threads(s->ctx, 1); /* one row: no parallel regions */
    if (e != KN_OK) {
        kn_server_free(s);
        return e;
    }
    *out = s;
    return KN_OK;
}

static kn_status check_source(const char *what, const kn_serve_source *src)
{
    if (!src || !src->ref == !src->path)
        return kn_fail(KN_ERR_INVALID, "%s: give a registry ref or an artifact file, one of them",
                       what);
    return KN_OK;
}

static kn__serve_slot *slot_named(kn_server *s, const char *name)
{
    for (size_t i = 0; i < s->n_slots; i++)
        if (!strcmp(s->slots[i].name, name)) return &s->slots[i];
    return NULL;
}

kn_status kn_server_add_model(kn_server *s, const char *name, const kn_serve_source *src)
{
    if (s->d) return kn_fail(KN_ERR_INVALID, "models are added before the server starts");
    kn_status e = check_source("a model", src);
    if (e != KN_OK) return e;
    if (!name[0] || strchr(name, '/') || strchr(name, ':'))
        return kn_fail(KN_ERR_INVALID,
                       "model name '%s' cannot be served: a name is not empty and has "
                       "no '/' or ':'",
                       name);
    const kn__serve_slot *dup = slot_named(s, name);
    if (dup)
        return kn_fail(KN_ERR_INVALID,
                       "model '%s' is given twice (%s and %s); give each model once", name,
                       dup->ref ? dup->ref : dup->path, src->ref ? src->ref : src->path);
    if (s->n_slots == s->cap) {
        size_t cap = s->cap ? 2 * s->cap : 4;
        kn__serve_slot *m = kn_realloc(s->slots, cap * sizeof *m);
        if (!m) return KN_ERR_NOMEM;
        s->slots = m;
        s->cap = cap;
    }
    kn__serve_slot *sl = &s->slots[s->n_slots];
    e = kn__serve_slot_init(sl, &s->mt, s->store, name, src->ref, src->path, NULL,
                            s->o.verify_key ? s->verify_key : NULL);
    if (e != KN_OK) {
        kn__serve_slot_free(sl);
        return e;
    }
    s->n_slots++;
    return KN_OK;
}

static kn_status add_side(kn_server *s, const char *name, const kn_serve_source *src,
                          kn__snap_role role, double share)
{
    const char *what = role == KN__SNAP_CANARY ? "a canary" : "a shadow";
    if (s->d) return kn_fail(KN_ERR_INVALID, "%s is added before the server starts", what);
    kn_status e = check_source(what, src);
    if (e != KN_OK) return e;
    kn__serve_slot *sl = slot_named(s, name);
    if (!sl)
        return kn_fail(KN_ERR_INVALID,
                       "%s for model '%s', which is not served: add the model first", what, name);
    return kn__serve_slot_side(sl, &s->mt, s->store, role, src->ref, src->path, share);
}

kn_status kn_server_add_canary(kn_server *s, const char *name, const kn_serve_source *src,
                               double share)
{
    return add_side(s, name, src, KN__SNAP_CANARY, share);
}

kn_status kn_server_add_shadow(kn_server *s, const char *name, const kn_serve_source *src)
{
    return add_side(s, name, src, KN__SNAP_SHADOW, 0);
}

/* The outcomes of a reload or rollback of name (NULL: every model) as one
 * JSON text, and the first failing HTTP status (200 when all went well). */
static kn_status act(kn_server *s, const char *name, int rollback, char **report)
{
    kn__sbuf b = {0};
    int bad = 0;
    kn__sbuf_puts(&b, "{\"models\":[");
    size_t k = 0;
    for (size_t i = 0; i < s->n_slots; i++) {
        kn__serve_slot *sl = &s->slots[i];
        if (name && strcmp(sl->name, name)) continue;
        kn__serve_outcome o;
        if (rollback)
            kn__serve_slot_rollback(sl, &s->mt, s->store, &o);
        else
            kn__serve_slot_reload(sl, &s->mt, s->store, 0, &o);
        if (o.status != 200) bad = 1;
        if (k++) kn__sbuf_puts(&b, ",");
        outcome_json(&b, sl, &o);
    }
    kn__sbuf_puts(&b, "]}");
    if (name && !k) {
        kn__sbuf_free(&b);
        return kn_fail(KN_ERR_NOT_FOUND, "no model '%s' is served", name);
    }
    size_t len = 0;
    char *text = kn__sbuf_take(&b, &len);
    if (!text) return KN_ERR_NOMEM;
    if (report)
        *report = text;
    else
        free(text);
    return bad ? kn_fail(KN_ERR_REFUSED, "a %s was refused; the old version keeps serving",
                         rollback ? "rollback" : "reload")
               : KN_OK;
}

kn_status kn_server_reload(kn_server *s, const char *name, char **report)
{
    return act(s, name, 0, report);
}

kn_status kn_server_rollback(kn_server *s, const char *name, char **report)
{
    return act(s, name, 1, report);
}

kn_status kn_server_start(kn_server *s)
{
    if (s->d) return kn_fail(KN_ERR_INVALID, "the server is already started");
    int shadows = 0, registered = 0;
    for (size_t i = 0; i < s->n_slots; i++) {
        shadows |= atomic_load(&s->slots[i].snap[KN__SNAP_SHADOW]) != NULL;
        registered |= s->slots[i].ref != NULL;
    }
    if (shadows && !s->shadow) {
        kn_status e = kn__serve_shadow_start(s->shadow_log, s->ctx, &s->shadow);
        if (e != KN_OK) return e;
    }
    struct sockaddr_storage ss;
    memset(&ss, 0, sizeof ss);
    unsigned flags =
        MHD_USE_EPOLL_INTERNAL_THREAD | MHD_USE_ITC | MHD_USE_EPOLL_TURBO | MHD_USE_ERROR_LOG;
    struct sockaddr_in *a4 = (struct sockaddr_in *)&ss;
    struct sockaddr_in6 *a6 = (struct sockaddr_in6 *)&ss;
    if (inet_pton(AF_INET, s->host, &a4->sin_addr) == 1) {
        a4->sin_family = AF_INET;
        a4->sin_port = htons((uint16_t)s->o.port);
    } else if (inet_pton(AF_INET6, s->host, &a6->sin6_addr) == 1) {
        a6->sin6_family = AF_INET6;
        a6->sin6_port = htons((uint16_t)s->o.port);
        flags |= MHD_USE_IPv6;
    } else {
        return kn_fail(KN_ERR_INVALID,
                       "host '%s' is not a numeric IPv4 or IPv6 address (e.g. 127.0.0.1, "
                       "0.0.0.0, ::1)",
                       s->host);
    }
    const char *cert = NULL, *key = NULL, *cert_file = NULL, *key_file = NULL;
    int tls = kn__auth_tls(s->auth, &cert, &key, &cert_file, &key_file);
    struct MHD_OptionItem tls_opts[] = {
        {tls ? MHD_OPTION_HTTPS_MEM_KEY : MHD_OPTION_END, 0, (void *)key},
        {MHD_OPTION_HTTPS_MEM_CERT, 0, (void *)cert},
        {MHD_OPTION_END, 0, NULL}};
    if (tls) flags |= MHD_USE_TLS;
    long cores = sysconf(_SC_NPROCESSORS_ONLN);
    unsigned threads = s->o.threads > 0 ? (unsigned)s->o.threads : cores > 0 ? (unsigned)cores : 1;
    /* the memory of a connection bounds its request line and headers: a
     * header block over it is answered 431 and the connection closed */
    size_t header_mem = s->o.max_header ? s->o.max_header : 32u << 10;
    /* live statistics: a shard per pool thread, for every version loaded
     * now and (through live_shards) every one a reload loads later */
    for (size_t i = 0; s->o.live_stats && i < s->n_slots; i++) {
        kn__serve_slot *sl = &s->slots[i];
        sl->live_shards = threads;
        for (int role = 0; role < KN__N_SNAP; role++) {
            kn__serve_snap *sn = atomic_load(&sl->snap[role]);
            kn_status e =
                sn && !sn->m.live ? kn__livestats_new(&sn->m.in, threads, &sn->m.live) : KN_OK;
            if (e != KN_OK) return e;
        }
    }
    /* the monitoring thread: the drift windows' tests, the store, alert rules */
    if (!s->watch && (s->o.drift_window || s->o.record_windows || s->alerts)) {
        kn_status e = kn__serve_alerts_check(s->alerts, s->o.alerts, &s->o, s->slots, s->n_slots);
        if (e == KN_OK)
            e = kn__watch_start(s->store, s->o.record_windows, s->alerts, s->o.retrain_exe,
                                s->o.retrain_grace_s, s->slots, s->n_slots, &s->watch);
        s->alerts = NULL; /* the watcher's (freed by it, also when it did not start) */
        if (e != KN_OK) return e;
    }
    /* windowed drift of the main and canary versions' inputs and predictions */
    for (size_t i = 0; s->o.drift_window && i < s->n_slots; i++) {
        kn__serve_slot *sl = &s->slots[i];
        sl->drift = (kn__drift_cfg){.window = s->o.drift_window,
                                    .slide = s->o.drift_slide,
                                    .watch = s->watch,
                                    .key = sl->ref ? sl->ref : sl->name,
                                    .slot = sl,
                                    .anomalies = s->o.anomalies,
                                    .anomaly_alpha = s->o.anomaly_alpha,
                                    .anomaly_rows = s->o.anomaly_rows,
                                    .anomaly_contamination = s->o.anomaly_contamination,
                                    .anomaly_seed = s->o.anomaly_seed};
        for (int role = 0; role < KN__N_SNAP; role++) {
            kn__serve_snap *sn = atomic_load(&sl->snap[role]);
            kn_status e = sn && role != KN__SNAP_SHADOW && !sn->m.drift
                              ? kn__drift_new(&sn->m, &sl->drift, &sn->m.drift)
                              : KN_OK;
            if (e != KN_OK) return e;
            if (sn) kn__drift_set_owner(sn->m.drift, sn);
        }
    }
    /* delayed labels: the recent predictions of the main and canary versions */
    for (size_t i = 0; s->o.feedback_rows && i < s->n_slots; i++) {
        kn__serve_slot *sl = &s->slots[i];
        sl->feedback_rows = s->o.feedback_rows;
        sl->feedback_window = s->o.feedback_window ? s->o.feedback_window : 1000;
        sl->feedback_shards = threads;
        sl->feedback_watch = s->watch;
        for (int role = 0; role < KN__N_SNAP; role++) {
            kn__serve_snap *sn = atomic_load(&sl->snap[role]);
            kn_status e = sn && role != KN__SNAP_SHADOW && !sn->m.fb
                              ? kn__feedback_new(&sn->m, sl->feedback_rows, sl->feedback_window,
                                                 threads, &sn->m.fb)
                              : KN_OK;
            if (e != KN_OK) return e;
            if (sn) kn__feedback_watch(sn->m.fb, s->watch, sl->ref ? sl->ref : sl->name, sl);
        }
    }
    /* operational anomalies: counted from the first request on */
    if (s->o.ops_interval_s > 0 && !s->ops) {
        /* the served names, then the names their windows are recorded under */
        s->ops_names = kn_calloc(2 * s->n_slots + 1, sizeof *s->ops_names);
        if (!s->ops_names) return KN_ERR_NOMEM;
        for (size_t i = 0; i < s->n_slots; i++) {
            s->ops_names[i] = s->slots[i].name;
            s->ops_names[s->n_slots + i] = s->slots[i].ref ? s->slots[i].ref : s->slots[i].name;
        }
        kn_status e =
            kn__ops_start(s->ops_names, s->ops_names + s->n_slots, s->n_slots, s->o.ops_interval_s,
                          s->log_fd, s->o.ops_webhook, s->watch, &s->ops);
        if (e != KN_OK) return e;
    }
    s->d = MHD_start_daemon(
        flags, (uint16_t)s->o.port, NULL, NULL, handle, s, MHD_OPTION_SOCK_ADDR,
        (struct sockaddr *)&ss, MHD_OPTION_THREAD_POOL_SIZE, threads, MHD_OPTION_CONNECTION_LIMIT,
        s->o.max_connections ? s->o.max_connections : 1024u, MHD_OPTION_CONNECTION_TIMEOUT,
        s->o.timeout_s, MHD_OPTION_CONNECTION_MEMORY_LIMIT, header_mem, MHD_OPTION_URI_LOG_CALLBACK,
        uri_log, s, MHD_OPTION_NOTIFY_COMPLETED, completed, s, MHD_OPTION_EXTERNAL_LOGGER, mhd_log,
        s, MHD_OPTION_ARRAY, tls_opts, MHD_OPTION_END);
    if (!s->d && tls)
        return kn_fail(KN_ERR_IO,
                       "cannot serve HTTPS on %s port %d with --tls-cert %s and --tls-key %s "
                       "(port in use, or the pair refused?): %s",
                       s->host, s->o.port, cert_file, key_file, strerror(errno));
    if (!s->d)
        return kn_fail(KN_ERR_IO,
                       "cannot listen on %s port %d (in use, or not an address of this "
                       "machine?): %s",
                       s->host, s->o.port, strerror(errno));
    const union MHD_DaemonInfo *info = MHD_get_daemon_info(s->d, MHD_DAEMON_INFO_BIND_PORT);
    s->port = info ? (int)info->port : s->o.port;
    if (registered && s->o.poll_s > 0) {
        if (pthread_create(&s->poller, NULL, poll_main, s))
            kn_log(KN_LOG_WARN, "serve: cannot start the registry poller; reload by hand");
        else
            s->polling = 1;
    }
    return KN_OK;
}

int kn_server_port(const kn_server *s)
{
    return s->port;
}

unsigned kn_server_drain(kn_server *s, double timeout_s)
{
    if (!s->d) return 0;
    atomic_store(&s->draining, 1);
    MHD_socket fd = MHD_quiesce_daemon(s->d);
    if (fd != MHD_INVALID_SOCKET) close(fd);
    struct timespec t0, nap = {0, 5 * 1000 * 1000};
    clock_gettime(CLOCK_MONOTONIC, &t0);
    long long left;
    while ((left = atomic_load_explicit(&s->mt.in_flight, memory_order_acquire)) > 0 &&
           (double)elapsed_us(&t0) < timeout_s * 1e6)
        nanosleep(&nap, NULL);
    return left > 0 ? (unsigned)left : 0;
}

void kn_server_free(kn_server *s)
{
    if (!s) return;
    if (s->polling) {
        pthread_mutex_lock(&s->poll_lock);
        s->poll_stop = 1;
        pthread_cond_broadcast(&s->poll_cond);
        pthread_mutex_unlock(&s->poll_lock);
        pthread_join(s->poller, NULL);
    }
    if (s->d) MHD_stop_daemon(s->d);
    kn__ops_stop(s->ops);     /* no request counts any more */
    kn__watch_stop(s->watch); /* records and alerts on every window finished so far */
    kn_alert_config_free(s->alerts);
    kn_free((void *)s->ops_names);
    kn__auth_free(s->auth);
    kn__serve_shadow_stop(s->shadow); /* scores what is queued first */
    kn__predlog_close(s->plog);
    for (size_t i = 0; i < s->n_slots; i++) kn__serve_slot_free(&s->slots[i]);
    kn_free(s->slots);
    if (s->metrics_ready) kn__serve_metrics_free(&s->mt);
    if (s->log_fd >= 0) close(s->log_fd);
    kn_ctx_free(s->ctx);
    pthread_mutex_destroy(&s->poll_lock);
    pthread_cond_destroy(&s->poll_cond);
    kn_free(s->host);
    kn_free(s->access_log);
    kn_free(s->store);
    kn_free(s->shadow_log);
    kn_free(s);
}
