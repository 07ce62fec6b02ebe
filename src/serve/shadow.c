/* Shadow scoring: a background thread scores answered requests again with
 * a model's shadow version and appends one JSON line per request to the
 * shadow log (request id, both versions, both outputs, whether they
 * agree); the slot counts agreements and disagreements. The request that
 * hands a job over only copies pointers into a bounded queue: its answer
 * is never waited on, slowed or changed. */
#include <jansson.h>

#include "kiln/mem.h"
#include "serve/serve-impl.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

enum { QUEUE_CAP = 256 };

typedef struct job {
    kn__serve_slot *sl;
    unsigned long long id;
    kn__serve_snap *main, *shadow;
    char *body, *answer; /* malloc'd; answer NULL: scored again */
    size_t len, answer_len;
    int v2;
} job;

struct kn__serve_shadow {
    pthread_t thread;
    pthread_mutex_t lock;
    pthread_cond_t cond;
    job q[QUEUE_CAP];
    size_t head, n;
    int stop, fd;
    kn_ctx *ctx;
};

/* The v1 body of the rows in body as version sn answers them, or NULL with
 * the reason in err. */
static char *score(const kn__serve_snap *sn, const job *j, int v2, size_t *len, kn__serve_err *err)
{
    kn_frame *rows = NULL;
    kn__sbuf out = {0};
    int rc = v2 ? kn__serve_parse_v2(&sn->m.in, j->body, j->len, &rows, NULL, NULL, err)
                : kn__serve_parse_v1(&sn->m.in, j->body, j->len, &rows, err);
    if (rc == 0) rc = kn__serve_infer(&sn->m, rows, 0, NULL, NULL, &out, err);
    kn_frame_free(rows);
    if (rc) {
        kn__sbuf_free(&out);
        return NULL;
    }
    return kn__sbuf_take(&out, len);
}

/* Two predictions agree: the same label, or numbers within 1e-6 relative. */
static int same(const json_t *a, const json_t *b)
{
    if (json_is_object(a) && json_is_object(b))
        return json_equal(json_object_get(a, "label"), json_object_get(b, "label"));
    if (json_is_number(a) && json_is_number(b)) {
        double x = json_number_value(a), y = json_number_value(b);
        double scale = fmax(1.0, fmax(fabs(x), fabs(y)));
        return fabs(x - y) <= 1e-6 * scale;
    }
    return json_equal(a, b);
}

static int agree(const char *a, size_t la, const char *b, size_t lb)
{
    json_t *ja = json_loadb(a, la, 0, NULL), *jb = json_loadb(b, lb, 0, NULL);
    const json_t *pa = json_object_get(ja, "predictions"), *pb = json_object_get(jb, "predictions");
    int ok = json_is_array(pa) && json_is_array(pb) && json_array_size(pa) == json_array_size(pb);
    for (size_t i = 0; ok && i < json_array_size(pa); i++)
        ok = same(json_array_get(pa, i), json_array_get(pb, i));
    json_decref(ja);
    json_decref(jb);
    return ok;
}

static void run_job(kn__serve_shadow *sh, job *j)
{
    kn__serve_err err = {.row = -1, .offset = -1};
    int v2 = j->v2;
    size_t lm = j->answer_len, ls = 0;
    char *main_out = j->answer ? j->answer : score(j->main, j, v2, &lm, &err);
    char *shadow_out = main_out ? score(j->shadow, j, v2, &ls, &err) : NULL;
    kn__serve_event ev = !shadow_out                           ? KN__EV_SHADOW_ERROR
                         : agree(main_out, lm, shadow_out, ls) ? KN__EV_SHADOW_AGREE
                                                               : KN__EV_SHADOW_DISAGREE;
    atomic_fetch_add_explicit(&j->sl->events[ev], 1, memory_order_relaxed);
    if (sh->fd >= 0) {
        char when[40];
        kn__serve_utc(kn__serve_now_ns(), when, sizeof when);
        kn__sbuf b = {0};
        kn__sbuf_printf(&b, "{\"time\":\"%s\",\"request_id\":%llu,\"model\":", when, j->id);
        kn__sbuf_json_str(&b, j->sl->name, strlen(j->sl->name));
        kn__sbuf_puts(&b, ",\"version\":");
        kn__sbuf_json_str(&b, j->main->m.version, strlen(j->main->m.version));
        kn__sbuf_puts(&b, ",\"shadow_version\":");
        kn__sbuf_json_str(&b, j->shadow->m.version, strlen(j->shadow->m.version));
        kn__sbuf_printf(&b, ",\"agree\":%s", ev == KN__EV_SHADOW_AGREE ? "true" : "false");
        if (main_out) {
            kn__sbuf_puts(&b, ",\"output\":");
            kn__sbuf_add(&b, main_out, lm);
        }
        if (shadow_out) {
            kn__sbuf_puts(&b, ",\"shadow_output\":");
            kn__sbuf_add(&b, shadow_out, ls);
        } else {
            kn__sbuf_puts(&b, ",\"shadow_error\":");
            kn__sbuf_json_str(&b, err.message, strlen(err.message));
        }
        kn__sbuf_puts(&b, "}\n");
        /* one write per line to an O_APPEND file; a full disk stops no answer */
        if (!b.oom && b.p && write(sh->fd, b.p, b.len) < 0) {
        }
        kn__sbuf_free(&b);
    }
    if (main_out != j->answer) free(main_out);
    free(shadow_out);
}

static void job_free(job *j)
{
    kn__serve_snap_put(j->main);
    kn__serve_snap_put(j->shadow);
    free(j->body);
    free(j->answer);
    memset(j, 0, sizeof *j);
}

static void *worker(void *arg)
{
    kn__serve_shadow *sh = arg;
    kn_ctx *prev = kn_ctx_enter(sh->ctx);
    pthread_mutex_lock(&sh->lock);
    for (;;) {
        while (!sh->n && !sh->stop) pthread_cond_wait(&sh->cond, &sh->lock);
        if (!sh->n) break; /* stopping, and nothing left */
        job j = sh->q[sh->head];
        sh->head = (sh->head + 1) % QUEUE_CAP;
        sh->n--;
        pthread_mutex_unlock(&sh->lock);
        run_job(sh, &j);
        job_free(&j);
        pthread_mutex_lock(&sh->lock);
    }
    pthread_mutex_unlock(&sh->lock);
    kn_ctx_leave(prev);
    return NULL;
}

kn_status kn__serve_shadow_start(const char *log_path, kn_ctx *ctx, kn__serve_shadow **out)
{
    kn__serve_shadow *sh = kn_calloc(1, sizeof *sh);
    if (!sh) return KN_ERR_NOMEM;
    sh->fd = -1;
    sh->ctx = ctx;
    if (log_path) {
        sh->fd = open(log_path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
        if (sh->fd < 0) {
            kn_status e =
                kn_fail(KN_ERR_IO, "cannot open the shadow log %s: %s", log_path, strerror(errno));
            kn_free(sh);
            return e;
        }
    }
    pthread_mutex_init(&sh->lock, NULL);
    pthread_cond_init(&sh->cond, NULL);
    if (pthread_create(&sh->thread, NULL, worker, sh)) {
        pthread_mutex_destroy(&sh->lock);
        pthread_cond_destroy(&sh->cond);
        if (sh->fd >= 0) close(sh->fd);
        kn_free(sh);
        return kn_fail(KN_ERR_IO, "cannot start the shadow thread");
    }
    *out = sh;
    return KN_OK;
}

void kn__serve_shadow_submit(kn__serve_shadow *sh, kn__serve_slot *sl, unsigned long long id,
                             kn__serve_snap *main, kn__serve_snap *shadow, char *body, size_t len,
                             int v2, const char *answer, size_t answer_len)
{
    job j = {
        .sl = sl, .id = id, .main = main, .shadow = shadow, .body = body, .len = len, .v2 = v2};
    if (!v2 && answer) {
        j.answer = malloc(answer_len + 1);
        if (j.answer) {
            memcpy(j.answer, answer, answer_len);
            j.answer[answer_len] = 0;
            j.answer_len = answer_len;
        }
    }
    if (!v2 && !j.answer) {
        atomic_fetch_add_explicit(&sl->events[KN__EV_SHADOW_DROPPED], 1, memory_order_relaxed);
        job_free(&j);
        return;
    }
    pthread_mutex_lock(&sh->lock);
    int queued = sh->n < QUEUE_CAP && !sh->stop;
    if (queued) {
        sh->q[(sh->head + sh->n) % QUEUE_CAP] = j;
        sh->n++;
        pthread_cond_signal(&sh->cond);
    }
    pthread_mutex_unlock(&sh->lock);
    if (!queued) {
        atomic_fetch_add_explicit(&sl->events[KN__EV_SHADOW_DROPPED], 1, memory_order_relaxed);
        job_free(&j);
    }
}

void kn__serve_shadow_stop(kn__serve_shadow *sh)
{
    if (!sh) return;
    pthread_mutex_lock(&sh->lock);
    sh->stop = 1;
    pthread_cond_broadcast(&sh->cond);
    pthread_mutex_unlock(&sh->lock);
    pthread_join(sh->thread, NULL);
    pthread_mutex_destroy(&sh->lock);
    pthread_cond_destroy(&sh->cond);
    if (sh->fd >= 0) close(sh->fd);
    kn_free(sh);
}
