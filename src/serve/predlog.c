/* The sampled prediction log (--prediction-log FILE [--sample F]): one JSON
 * line per logged row,
 *
 *   {"time":"2026-12-06T09:30:00.123456Z","request_id":17,"row":0,
 *    "model":"credit","version":"3","inputs":{"age":41,"region":"north",..},
 *    "output":{"label":"1","probabilities":{"0":0.2,"1":0.8}}}
 *
 * "output" is the row's element of a v1 response's "predictions" (a
 * number for a regression); "row" its place in the request's batch;
 * request_id the X-Request-Id of the response and the access log's id. A
 * row is kept when a hash of (seed, request id, row) falls under the
 * sample share: no shared state, the same requests keep the same rows.
 *
 * The request thread copies a kept row into its shard's buffer as a
 * binary record (below; a lock per shard, one thread per shard as a rule:
 * uncontended); a writer thread swaps the buffers out every 50 ms, turns
 * the records into JSON lines (numbers exact: see number()) and writes
 * them with one write() per buffer, so the file sees whole lines. A shard
 * over BUF_MAX bytes (the writer cannot keep up) drops rows rather than
 * grow.
 *
 * A record (native byte order; it never leaves the process): u32 bytes
 * of the whole record, u64 request id, u32 row, i64 time (ns since 1970),
 * str model, str version, u32 columns, per column {str name, u8 kind,
 * value}, then the output: u8 0 and f64 (a regression) or u8 1, str
 * label (empty: none), u32 classes, per class {str class, f64 p}. str is
 * u32 bytes then the bytes; kind 0 null, 1 f64, 2 i64, 3 str, 4 a
 * timestamp as i64 microseconds. Everything is copied: a model may be
 * gone (reloaded) before its rows are written. */
#include "kiln/log.h"
#include "kiln/mem.h"
#include "serve/serve-impl.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

enum { N_SHARDS = 64, BUF_MAX = 16 << 20, PERIOD_MS = 50 };

typedef struct pl_shard {
    pthread_mutex_t mu;
    kn__sbuf buf;
    unsigned long long dropped;
} pl_shard;

struct kn__predlog {
    int fd;
    double sample;
    uint64_t seed, threshold; /* keep when hash >> 11 < threshold (53 bits) */
    pl_shard shards[N_SHARDS];
    pthread_t writer;
    pthread_mutex_t mu; /* the stop flag and its wake-up */
    pthread_cond_t wake;
    int stop, started;
    int write_errno; /* the first failed write's (the writer thread's) */
    char *path;
};

static _Thread_local struct {
    kn__predlog *pl;
    unsigned long long id;
} current;

static uint64_t mix(uint64_t x)
{
    x += 0x9e3779b97f4a7c15ull;
    x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
    x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
    return x ^ (x >> 31);
}

static void render(const char *rec, size_t len, kn__sbuf *b);

/* Write everything buffered (the writer thread, or close). */
static void flush(kn__predlog *pl)
{
    kn__sbuf out = {0};
    for (size_t i = 0; i < N_SHARDS; i++) {
        pl_shard *sh = &pl->shards[i];
        kn__sbuf recs = {0};
        pthread_mutex_lock(&sh->mu);
        if (sh->buf.len) {
            recs = sh->buf;
            memset(&sh->buf, 0, sizeof sh->buf);
        }
        pthread_mutex_unlock(&sh->mu);
        for (size_t at = 0; at + 4 <= recs.len;) {
            uint32_t n;
            memcpy(&n, recs.p + at, 4);
            render(recs.p + at, n, &out);
            at += n;
        }
        kn__sbuf_free(&recs);
        if (out.oom) { /* out of memory: these lines are lost */
            kn__sbuf_free(&out);
            continue;
        }
        size_t done = 0;
        while (done < out.len) {
            ssize_t k = write(pl->fd, out.p + done, out.len - done);
            if (k < 0 && errno == EINTR) continue;
            if (k <= 0) { /* a full disk must not stop the answers */
                if (!pl->write_errno) pl->write_errno = k < 0 ? errno : ENOSPC;
                break;
            }
            done += (size_t)k;
        }
        out.len = 0;
    }
    kn__sbuf_free(&out);
}

static void *writer(void *arg)
{
    kn__predlog *pl = arg;
    pthread_mutex_lock(&pl->mu);
    while (!pl->stop) {
        struct timespec t;
        clock_gettime(CLOCK_REALTIME, &t);
        t.tv_nsec += PERIOD_MS * 1000000L;
        if (t.tv_nsec >= 1000000000L) t.tv_sec++, t.tv_nsec -= 1000000000L;
        pthread_cond_timedwait(&pl->wake, &pl->mu, &t);
        pthread_mutex_unlock(&pl->mu);
        flush(pl);
        pthread_mutex_lock(&pl->mu);
    }
    pthread_mutex_unlock(&pl->mu);
    return NULL;
}

kn_status kn__predlog_open(const char *path, double sample, uint64_t seed, kn__predlog **out)
{
    if (!(sample >= 0 && sample <= 1))
        return kn_fail(KN_ERR_INVALID,
                       "the prediction log's sample share is %g; give 0 to 1 (--sample)", sample);
    kn__predlog *pl = kn_calloc(1, sizeof *pl);
    if (!pl) return KN_ERR_NOMEM;
    pl->sample = sample;
    pl->seed = seed;
    pl->threshold = (uint64_t)ldexp(sample, 53);
    for (size_t i = 0; i < N_SHARDS; i++) pthread_mutex_init(&pl->shards[i].mu, NULL);
    pthread_mutex_init(&pl->mu, NULL);
    pthread_cond_init(&pl->wake, NULL);
    pl->path = kn_strdup(path);
    pl->fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
    kn_status e = !pl->path ? KN_ERR_NOMEM : KN_OK;
    if (e == KN_OK && pl->fd < 0)
        e = kn_fail(KN_ERR_IO,
                    "cannot open the prediction log %s: %s; give --prediction-log a file in a "
                    "folder this process can write",
                    path, strerror(errno));
    if (e == KN_OK && pthread_create(&pl->writer, NULL, writer, pl) != 0)
        e = kn_fail(KN_ERR_IO, "cannot start the prediction log's writer thread");
    if (e == KN_OK) pl->started = 1;
    if (e != KN_OK) {
        kn__predlog_close(pl);
        return e;
    }
    *out = pl;
    return KN_OK;
}

void kn__predlog_close(kn__predlog *pl)
{
    if (!pl) return;
    if (pl->started) {
        pthread_mutex_lock(&pl->mu);
        pl->stop = 1;
        pthread_cond_signal(&pl->wake);
        pthread_mutex_unlock(&pl->mu);
        pthread_join(pl->writer, NULL);
    }
    if (pl->fd >= 0) {
        flush(pl);
        if (close(pl->fd) != 0)
            kn_log(KN_LOG_WARN, "prediction log %s: closing failed: %s", pl->path, strerror(errno));
    }
    if (pl->write_errno)
        kn_log(KN_LOG_WARN, "prediction log %s: lines were lost: %s", pl->path,
               strerror(pl->write_errno));
    unsigned long long dropped = 0;
    for (size_t i = 0; i < N_SHARDS; i++) dropped += pl->shards[i].dropped;
    if (dropped)
        kn_log(KN_LOG_WARN,
               "prediction log %s: %llu rows were not logged (the writer fell behind or "
               "memory ran out); a smaller --sample logs fewer",
               pl->path, dropped);
    for (size_t i = 0; i < N_SHARDS; i++) {
        kn__sbuf_free(&pl->shards[i].buf);
        pthread_mutex_destroy(&pl->shards[i].mu);
    }
    pthread_mutex_destroy(&pl->mu);
    pthread_cond_destroy(&pl->wake);
    kn_free(pl->path);
    kn_free(pl);
}

void kn__predlog_begin(kn__predlog *pl, unsigned long long request_id)
{
    current.pl = pl;
    current.id = request_id;
}

/* ---- records (the request thread) ---- */

static void put(kn__sbuf *b, const void *p, size_t n)
{
    kn__sbuf_add(b, p, n);
}

static void put_str(kn__sbuf *b, const char *s, size_t n)
{
    uint32_t k = (uint32_t)n;
    put(b, &k, 4);
    put(b, s, n);
}

static void put_cell(kn__sbuf *b, kn_column *c, size_t i)
{
    unsigned char kind = 0;
    size_t len = 0;
    const char *s = NULL;
    switch (kn_column_type(c)) {
    case KN_COL_NUMERIC: {
        double v = kn_column_f64(c)[i];
        kind = isnan(v) ? 0 : 1;
        put(b, &kind, 1);
        if (kind) put(b, &v, 8);
        return;
    }
    case KN_COL_INT64:
    case KN_COL_TIMESTAMP: {
        int ts = kn_column_type(c) == KN_COL_TIMESTAMP;
        int64_t v = ts ? kn_column_ts(c)[i] : kn_column_i64(c)[i];
        kind = v == INT64_MIN ? 0 : ts ? 4 : 2;
        put(b, &kind, 1);
        if (kind) put(b, &v, 8);
        return;
    }
    case KN_COL_CATEGORICAL: {
        int32_t code = kn_column_codes(c)[i];
        s = code >= 0 ? kn_column_level(c, code, &len) : NULL;
        break;
    }
    case KN_COL_STRING:
        s = kn_column_str(c, i, &len);
        break;
    }
    kind = s ? 3 : 0;
    put(b, &kind, 1);
    if (s) put_str(b, s, len);
}

static const char *class_name(const kn__serve_model *m, double c)
{
    return c >= 0 && c < (double)m->n_classes ? kn_model_class(m->m, (size_t)c) : "";
}

void kn__predlog_rows(const kn__serve_model *m, const kn_frame *rows, const double *pred,
                      const double *proba, size_t n)
{
    kn__predlog *pl = current.pl;
    if (!pl || !pl->threshold) return;
    unsigned long long id = current.id;
    uint64_t base = mix(pl->seed ^ mix(id));
    pl_shard *sh = &pl->shards[kn__serve_thread_slot() % N_SHARDS];
    uint32_t k = (uint32_t)m->n_classes, cols = (uint32_t)kn_frame_n_cols(rows);
    int64_t when = 0;
    int locked = 0;
    for (size_t i = 0; i < n; i++) {
        if ((mix(base + i) >> 11) >= pl->threshold) continue;
        if (!locked) {
            when = kn__serve_now_ns();
            pthread_mutex_lock(&sh->mu);
            locked = 1;
        }
        kn__sbuf *b = &sh->buf;
        if (b->len > BUF_MAX) {
            sh->dropped++;
            continue;
        }
        size_t start = b->len;
        uint32_t size = 0, row = (uint32_t)i;
        unsigned long long rid = id;
        put(b, &size, 4);
        put(b, &rid, 8);
        put(b, &row, 4);
        put(b, &when, 8);
        put_str(b, m->name, strlen(m->name));
        put_str(b, m->version, strlen(m->version));
        put(b, &cols, 4);
        for (uint32_t j = 0; j < cols; j++) {
            kn_column *c = kn_frame_col(rows, j);
            const char *name = kn_column_name(c);
            put_str(b, name, strlen(name));
            put_cell(b, c, i);
        }
        unsigned char cls = k ? 1 : 0;
        put(b, &cls, 1);
        if (!k) {
            put(b, &pred[i], 8);
        } else {
            const char *label = class_name(m, pred[i]);
            put_str(b, label, strlen(label));
            put(b, &k, 4);
            for (uint32_t c = 0; c < k; c++) {
                const char *name = class_name(m, c);
                put_str(b, name, strlen(name));
                put(b, &proba[i * k + c], 8);
            }
        }
        if (b->oom) { /* out of memory mid-record: keep the records before it */
            b->len = start;
            b->oom = 0;
            sh->dropped++;
            continue;
        }
        size = (uint32_t)(b->len - start);
        memcpy(b->p + start, &size, 4);
    }
    if (locked) pthread_mutex_unlock(&sh->mu);
}

/* ---- records as JSON lines (the writer thread) ---- */

typedef struct reader {
    const char *p, *end;
} reader;

static void get(reader *r, void *out, size_t n)
{
    if ((size_t)(r->end - r->p) < n) {
        memset(out, 0, n);
        r->p = r->end;
        return;
    }
    memcpy(out, r->p, n);
    r->p += n;
}

static const char *get_str(reader *r, size_t *n)
{
    uint32_t k = 0;
    get(r, &k, 4);
    if ((size_t)(r->end - r->p) < k) k = (uint32_t)(r->end - r->p);
    const char *s = r->p;
    r->p += k;
    *n = k;
    return s;
}

static void json_str(kn__sbuf *b, reader *r)
{
    size_t n = 0;
    const char *s = get_str(r, &n);
    kn__sbuf_json_str(b, s, n);
}

/* v as JSON, exact. Fast path: the fewest decimals d (0 to 17) with
 * round(|v| 10^d) / 10^d == |v| in doubles and the integer under 2^53: a
 * correctly rounded division gives what a correctly rounded reader makes
 * of the text, so the text reads back to v (values sent as short
 * decimals take this path). Otherwise %.17g. */
static void number(kn__sbuf *b, double v)
{
    static const double p10[18] = {1e0, 1e1,  1e2,  1e3,  1e4,  1e5,  1e6,  1e7,  1e8,
                                   1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15, 1e16, 1e17};
    if (!isfinite(v)) {
        kn__sbuf_puts(b, "null");
        return;
    }
    double a = fabs(v);
    for (int d = 0; d < 18 && a < 9007199254740992.0 / p10[d]; d++) {
        double r = nearbyint(a * p10[d]);
        if (r / p10[d] != a) continue;
        char t[48], *e = t + sizeof t, *q = e;
        uint64_t u = (uint64_t)r;
        for (int i = 0; i < d; i++, u /= 10) *--q = (char)('0' + u % 10);
        if (d) *--q = '.';
        do *--q = (char)('0' + u % 10);
        while (u /= 10);
        if (v < 0 && r != 0) *--q = '-';
        kn__sbuf_add(b, q, (size_t)(e - q));
        return;
    }
    kn__sbuf_printf(b, "%.17g", v);
}

static void render(const char *rec, size_t len, kn__sbuf *b)
{
    reader r = {rec + 4, rec + len};
    unsigned long long id = 0;
    uint32_t row = 0, cols = 0, k = 0;
    int64_t when = 0;
    get(&r, &id, 8);
    get(&r, &row, 4);
    get(&r, &when, 8);
    char t[48];
    kn__serve_utc(when, t, sizeof t);
    kn__sbuf_printf(b, "{\"time\":\"%s\",\"request_id\":%llu,\"row\":%u,\"model\":", t, id, row);
    json_str(b, &r);
    kn__sbuf_puts(b, ",\"version\":");
    json_str(b, &r);
    kn__sbuf_puts(b, ",\"inputs\":{");
    get(&r, &cols, 4);
    for (uint32_t j = 0; j < cols && r.p < r.end; j++) {
        if (j) kn__sbuf_add(b, ",", 1);
        json_str(b, &r);
        kn__sbuf_add(b, ":", 1);
        unsigned char kind = 0;
        get(&r, &kind, 1);
        double d;
        int64_t v;
        switch (kind) {
        case 1:
            get(&r, &d, 8);
            number(b, d);
            break;
        case 2:
            get(&r, &v, 8);
            kn__sbuf_printf(b, "%lld", (long long)v);
            break;
        case 3:
            json_str(b, &r);
            break;
        case 4: {
            get(&r, &v, 8);
            char ts[48];
            int n = kn_timestamp_format(v, ts, sizeof ts);
            kn__sbuf_json_str(b, ts, n > 0 ? (size_t)n : 0);
            break;
        }
        default:
            kn__sbuf_puts(b, "null");
        }
    }
    kn__sbuf_puts(b, "},\"output\":");
    unsigned char cls = 0;
    get(&r, &cls, 1);
    if (!cls) {
        double v = 0;
        get(&r, &v, 8);
        number(b, v);
    } else {
        size_t n = 0;
        const char *label = get_str(&r, &n);
        kn__sbuf_puts(b, "{\"label\":");
        if (n)
            kn__sbuf_json_str(b, label, n);
        else
            kn__sbuf_puts(b, "null");
        kn__sbuf_puts(b, ",\"probabilities\":{");
        get(&r, &k, 4);
        for (uint32_t c = 0; c < k && r.p < r.end; c++) {
            if (c) kn__sbuf_add(b, ",", 1);
            json_str(b, &r);
            kn__sbuf_add(b, ":", 1);
            double p = 0;
            get(&r, &p, 8);
            number(b, p);
        }
        kn__sbuf_puts(b, "}}");
    }
    kn__sbuf_puts(b, "}\n");
}
