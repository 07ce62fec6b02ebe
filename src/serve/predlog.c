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
 * The request thread formats its lines into its shard's buffer (a lock
 * per shard, one thread per shard as a rule: uncontended); a writer
 * thread swaps the buffers out every 50 ms and writes them with one
 * write() each, so the file sees whole lines. A shard over BUF_MAX bytes
 * (the disk cannot keep up) drops lines rather than grow. */
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

/* Write everything buffered (the writer thread, or close). */
static void flush(kn__predlog *pl)
{
    for (size_t i = 0; i < N_SHARDS; i++) {
        pl_shard *sh = &pl->shards[i];
        kn__sbuf out = {0};
        pthread_mutex_lock(&sh->mu);
        if (sh->buf.len) {
            out = sh->buf;
            memset(&sh->buf, 0, sizeof sh->buf);
        }
        pthread_mutex_unlock(&sh->mu);
        size_t done = 0;
        while (done < out.len) {
            ssize_t k = write(pl->fd, out.p + done, out.len - done);
            if (k < 0 && errno == EINTR) continue;
            if (k <= 0) break; /* a full disk must not stop the answers */
            done += (size_t)k;
        }
        kn__sbuf_free(&out);
    }
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
        e = kn_fail(KN_ERR_IO, "cannot open the prediction log %s: %s", path, strerror(errno));
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
        close(pl->fd);
    }
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

static void cell(kn__sbuf *b, kn_column *c, size_t i)
{
    size_t len = 0;
    const char *s = NULL;
    switch (kn_column_type(c)) {
    case KN_COL_NUMERIC:
        kn__sbuf_json_num(b, kn_column_f64(c)[i]);
        return;
    case KN_COL_INT64: {
        int64_t v = kn_column_i64(c)[i];
        if (v == KN_I64_MISSING)
            kn__sbuf_puts(b, "null");
        else
            kn__sbuf_printf(b, "%lld", (long long)v);
        return;
    }
    case KN_COL_TIMESTAMP: {
        int64_t v = kn_column_ts(c)[i];
        char t[48];
        if (v == KN_TS_MISSING) {
            kn__sbuf_puts(b, "null");
            return;
        }
        int n = kn_timestamp_format(v, t, sizeof t);
        kn__sbuf_json_str(b, t, n > 0 ? (size_t)n : 0);
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
    if (s)
        kn__sbuf_json_str(b, s, len);
    else
        kn__sbuf_puts(b, "null");
}

static void class_label(kn__sbuf *b, const kn__serve_model *m, double c)
{
    if (!(c >= 0 && c < (double)m->n_classes)) {
        kn__sbuf_puts(b, "null");
        return;
    }
    const char *s = kn_model_class(m->m, (size_t)c);
    kn__sbuf_json_str(b, s, strlen(s));
}

void kn__predlog_rows(const kn__serve_model *m, const kn_frame *rows, const double *pred,
                      const double *proba, size_t n)
{
    kn__predlog *pl = current.pl;
    if (!pl || !pl->threshold) return;
    unsigned long long id = current.id;
    uint64_t base = mix(pl->seed ^ mix(id));
    char when[48] = "";
    pl_shard *sh = &pl->shards[kn__serve_thread_slot() % N_SHARDS];
    size_t k = m->n_classes, cols = kn_frame_n_cols(rows);
    int locked = 0;
    for (size_t i = 0; i < n; i++) {
        if ((mix(base + i) >> 11) >= pl->threshold) continue;
        if (!locked) {
            struct timespec t;
            struct tm tm;
            clock_gettime(CLOCK_REALTIME, &t);
            time_t secs = t.tv_sec;
            gmtime_r(&secs, &tm);
            size_t w = strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%S", &tm);
            snprintf(when + w, sizeof when - w, ".%06ldZ", t.tv_nsec / 1000);
            pthread_mutex_lock(&sh->mu);
            locked = 1;
        }
        kn__sbuf *b = &sh->buf;
        if (b->len > BUF_MAX) {
            sh->dropped++;
            continue;
        }
        size_t start = b->len;
        kn__sbuf_printf(b, "{\"time\":\"%s\",\"request_id\":%llu,\"row\":%zu,\"model\":", when, id,
                        i);
        kn__sbuf_json_str(b, m->name, strlen(m->name));
        kn__sbuf_puts(b, ",\"version\":");
        kn__sbuf_json_str(b, m->version, strlen(m->version));
        kn__sbuf_puts(b, ",\"inputs\":{");
        for (size_t j = 0; j < cols; j++) {
            kn_column *c = kn_frame_col(rows, j);
            const char *name = kn_column_name(c);
            if (j) kn__sbuf_add(b, ",", 1);
            kn__sbuf_json_str(b, name, strlen(name));
            kn__sbuf_add(b, ":", 1);
            cell(b, c, i);
        }
        kn__sbuf_puts(b, "},\"output\":");
        if (!k) {
            kn__sbuf_json_num(b, pred[i]);
        } else {
            kn__sbuf_puts(b, "{\"label\":");
            class_label(b, m, pred[i]);
            kn__sbuf_puts(b, ",\"probabilities\":{");
            for (size_t c = 0; c < k; c++) {
                if (c) kn__sbuf_add(b, ",", 1);
                class_label(b, m, (double)c);
                kn__sbuf_add(b, ":", 1);
                kn__sbuf_json_num(b, proba[i * k + c]);
            }
            kn__sbuf_puts(b, "}}");
        }
        kn__sbuf_puts(b, "}\n");
        if (b->oom) { /* out of memory mid-line: keep the lines before it */
            b->len = start;
            b->oom = 0;
            sh->dropped++;
        }
    }
    if (locked) pthread_mutex_unlock(&sh->mu);
}
