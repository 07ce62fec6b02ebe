/* Delayed labels (POST /v2/models/{name}/feedback): the recent predictions
 * of a served version, found again by request id and row, and its live
 * score per window of joined labels (kiln/livescore.h), for /metrics.
 *
 * Memory is fixed when the version loads: per request thread (a shard,
 * its own lock and cache lines: the threads never wait on each other) a
 * table of request ids (rid & mask, each pointing at its rows) and a ring
 * of its last rows predicted, `cap` rows over all shards. A label finds its
 * prediction while its shard still holds both. The window and the counts
 * have a mutex of their own (labels and /metrics take it). */
#include "kiln/livescore.h"
#include "kiln/mem.h"
#include "kiln/model.h"
#include "serve/serve-impl.h"

#include <math.h>
#include <string.h>

typedef struct fb_req {
    unsigned long long rid;   /* 0: empty */
    unsigned long long start; /* its first row's number in the ring */
    uint32_t n;
} fb_req;

typedef struct fb_row {
    int32_t cls;      /* a classifier's predicted class, -1 for a regression */
    int32_t labelled; /* a label was joined to it: a later one is a duplicate */
    double value;     /* the prediction */
    double score;     /* binary: the positive class's probability; else NaN */
} fb_row;

/* A request thread's predictions (padded: two shards share no cache line). */
typedef struct shard {
    pthread_mutex_t mu;
    fb_req *reqs;
    fb_row *rows;
    unsigned long long total; /* rows recorded so far */
    char pad[128 - sizeof(pthread_mutex_t) - 2 * sizeof(void *) - sizeof(unsigned long long)];
} shard;

struct kn__feedback {
    pthread_mutex_t mu;
    size_t cap; /* per shard: a power of two */
    shard *shards;
    size_t n_shards;
    size_t window, win_n;
    kn_live_row *win;
    int binary, regression;
    double cur[4], last[4]; /* by kn_live_metric; NaN: none */
    unsigned long long joined, unknown, duplicate, windows;
    size_t bytes;
    /* the alert rules on feedback metrics (kn__feedback_watch) */
    kn__watch *watch;
    const char *key;
    const struct kn__serve_slot *slot;
    int live; /* mu is made */
};

void kn__feedback_watch(kn__feedback *fb, kn__watch *w, const char *key,
                        const struct kn__serve_slot *slot)
{
    if (!fb) return;
    fb->watch = w;
    fb->key = key;
    fb->slot = slot;
}

static _Thread_local unsigned long long current_rid;

kn_status kn__feedback_new(const kn__serve_model *m, size_t rows, size_t window, size_t n_shards,
                           kn__feedback **out)
{
    if (!rows || !window)
        return kn_fail(KN_ERR_INVALID, "feedback: the ring and the window need at least one row");
    if (!n_shards) n_shards = 1;
    if (n_shards > 256) n_shards = 256;
    size_t cap = 1, per = (rows + n_shards - 1) / n_shards;
    while (cap < per && cap < ((size_t)1 << 30)) cap <<= 1;
    kn__feedback *fb = kn_calloc(1, sizeof *fb);
    if (!fb) return KN_ERR_NOMEM;
    fb->cap = cap;
    fb->window = window;
    fb->shards = kn_calloc(n_shards, sizeof *fb->shards);
    fb->win = kn_calloc(window, sizeof *fb->win);
    int ok = fb->shards && fb->win;
    for (size_t i = 0; ok && i < n_shards; i++) {
        shard *sh = &fb->shards[i];
        sh->reqs = kn_calloc(cap, sizeof *sh->reqs);
        sh->rows = kn_calloc(cap, sizeof *sh->rows);
        fb->n_shards++;
        ok = sh->reqs && sh->rows;
        kn__serve_lock_init(&sh->mu);
    }
    if (!ok) {
        kn__feedback_free(fb);
        return KN_ERR_NOMEM;
    }
    fb->bytes = sizeof *fb + n_shards * (sizeof(shard) + cap * (sizeof(fb_req) + sizeof(fb_row))) +
                window * sizeof *fb->win;
    fb->regression = m->n_classes == 0;
    fb->binary = m->n_classes == 2;
    for (int i = 0; i < 4; i++) fb->cur[i] = fb->last[i] = NAN;
    kn__serve_lock_init(&fb->mu);
    fb->live = 1;
    *out = fb;
    return KN_OK;
}

void kn__feedback_free(kn__feedback *fb)
{
    if (!fb) return;
    if (fb->live) pthread_mutex_destroy(&fb->mu);
    for (size_t i = 0; i < fb->n_shards; i++) {
        pthread_mutex_destroy(&fb->shards[i].mu);
        kn_free(fb->shards[i].reqs), kn_free(fb->shards[i].rows);
    }
    kn_free(fb->shards), kn_free(fb->win);
    kn_free(fb);
}

size_t kn__feedback_bytes(const kn__feedback *fb)
{
    return fb ? fb->bytes : 0;
}

void kn__feedback_begin(unsigned long long request_id)
{
    current_rid = request_id;
}

void kn__feedback_rows(const kn__serve_model *m, const double *pred, const double *proba, size_t n)
{
    kn__feedback *fb = m->fb;
    if (!fb || !current_rid || !n) return;
    if (n > fb->cap) n = fb->cap; /* the rows past the ring's size are not kept */
    size_t k = m->n_classes;
    shard *sh = &fb->shards[kn__serve_thread_slot() % fb->n_shards];
    pthread_mutex_lock(&sh->mu);
    fb_req *q = &sh->reqs[current_rid & (fb->cap - 1)];
    q->rid = current_rid;
    q->start = sh->total;
    q->n = (uint32_t)n;
    for (size_t i = 0; i < n; i++) {
        fb_row *r = &sh->rows[(sh->total + i) & (fb->cap - 1)];
        r->value = pred[i];
        r->labelled = 0;
        r->cls = k && pred[i] >= 0 && pred[i] < (double)k ? (int32_t)pred[i] : -1;
        r->score = fb->binary && proba ? proba[i * k + 1] : NAN;
    }
    sh->total += n;
    pthread_mutex_unlock(&sh->mu);
}

/* Find row `row` of request rid in the shards and mark it labelled (its
 * copy in *out): 1 found, 2 labelled before, 0 not held. */
static int take_row(kn__feedback *fb, unsigned long long rid, unsigned long long row, fb_row *out)
{
    for (size_t i = 0; i < fb->n_shards; i++) {
        shard *sh = &fb->shards[i];
        pthread_mutex_lock(&sh->mu);
        const fb_req *q = &sh->reqs[rid & (fb->cap - 1)];
        int found = q->rid == rid && row < q->n && sh->total - (q->start + row) <= fb->cap;
        fb_row *r = found ? &sh->rows[(q->start + row) & (fb->cap - 1)] : NULL;
        if (r) {
            /* labelled already: a client's retry, a label sent twice;
             * joining it again would count one prediction twice */
            found = r->labelled ? 2 : 1;
            r->labelled = 1;
            *out = *r;
        }
        pthread_mutex_unlock(&sh->mu);
        if (found) return found;
    }
    return 0;
}

/* The window's scores (under mu). */
static void score(kn__feedback *fb, double *out)
{
    for (int i = 0; i < 4; i++) out[i] = NAN;
    if (!fb->win_n) return;
    if (fb->regression) {
        kn_live_score(KN_LIVE_RMSE, fb->win, fb->win_n, &out[KN_LIVE_RMSE]);
        kn_live_score(KN_LIVE_MAE, fb->win, fb->win_n, &out[KN_LIVE_MAE]);
        return;
    }
    kn_live_score(KN_LIVE_ACCURACY, fb->win, fb->win_n, &out[KN_LIVE_ACCURACY]);
    if (fb->binary) kn_live_score(KN_LIVE_ROC_AUC, fb->win, fb->win_n, &out[KN_LIVE_ROC_AUC]);
}

int kn__feedback_join(kn__feedback *fb, const kn__serve_model *m, unsigned long long rid,
                      unsigned long long row, const char *text, double number)
{
    if (!fb || !rid) return 0;
    double closed[4];
    unsigned long long closed_k = 0;
    fb_row taken = {0}, *r = &taken;
    int found = take_row(fb, rid, row, &taken);
    pthread_mutex_lock(&fb->mu);
    if (found == 2)
        fb->duplicate++;
    else if (found) {
        kn_live_row x = {.score = r->score, .truth = NAN, .value = NAN};
        if (fb->regression) {
            x.truth = number;
            x.value = r->value;
        } else {
            const char *pred = r->cls >= 0 ? kn_model_class(m->m, (size_t)r->cls) : NULL;
            x.correct = pred && text && !strcmp(pred, text);
            x.positive = fb->binary && text && !strcmp(kn_model_class(m->m, 1), text);
        }
        fb->win[fb->win_n++] = x;
        fb->joined++;
        if (fb->win_n == fb->window) {
            score(fb, fb->last);
            fb->windows++;
            fb->win_n = 0;
            memcpy(closed, fb->last, sizeof closed);
            closed_k = fb->windows;
        }
    }
    pthread_mutex_unlock(&fb->mu);
    /* the rules run on the monitoring thread: this only queues the scores */
    if (closed_k && fb->watch) {
        const kn__serve_snap *canary =
            fb->slot ? atomic_load(&((kn__serve_slot *)fb->slot)->snap[KN__SNAP_CANARY]) : NULL;
        kn__watch_feedback_submit(fb->watch, fb->key ? fb->key : m->name, m->version,
                                  canary && &canary->m == m, closed_k, fb->window, closed,
                                  m->test_score, fb->regression ? KN_LIVE_RMSE : KN_LIVE_ACCURACY);
    }
    return found;
}

void kn__feedback_unknown(kn__feedback *fb, size_t n)
{
    if (!fb) return;
    pthread_mutex_lock(&fb->mu);
    fb->unknown += n;
    pthread_mutex_unlock(&fb->mu);
}

void kn__feedback_done(kn__feedback *fb)
{
    if (!fb) return;
    pthread_mutex_lock(&fb->mu);
    score(fb, fb->cur);
    pthread_mutex_unlock(&fb->mu);
}

/* ---- /metrics ---- */

static void label(kn__sbuf *b, const char *s)
{
    kn__sbuf_prom_label(b, s, strlen(s));
}

static void series(kn__sbuf *b, const char *name, const kn__serve_model *m, const char *window)
{
    kn__sbuf_puts(b, name);
    kn__sbuf_puts(b, "{model=\"");
    label(b, m->name);
    kn__sbuf_puts(b, "\",version=\"");
    label(b, m->version);
    kn__sbuf_puts(b, "\"");
    if (window) kn__sbuf_printf(b, ",window=\"%s\"", window);
    kn__sbuf_puts(b, "} ");
}

typedef struct fb_view {
    double cur[4], last[4];
    unsigned long long joined, unknown, duplicate, windows;
    size_t win_n;
} fb_view;

enum { F_JOINED, F_UNKNOWN, F_DUPLICATE, F_WINDOWS, F_FILL, F_BYTES, N_COUNTS };
static const char *const counts[N_COUNTS][3] = {
    {"kiln_feedback_labels_total", "counter", "Labels joined to a prediction of the version."},
    {"kiln_feedback_unknown_total", "counter",
     "Labels sent for the model whose request id (and row) no prediction held by the served "
     "version has (the version serving when they came)."},
    {"kiln_feedback_duplicate_total", "counter",
     "Labels for a prediction that already had one (a retried request, a label sent twice): "
     "left out, the first label counts."},
    {"kiln_feedback_windows_total", "counter", "Windows of joined labels completed."},
    {"kiln_feedback_window_labels", "gauge", "Labels in the window filling now."},
    {"kiln_feedback_memory_bytes", "gauge",
     "Memory held for delayed labels (recent predictions and the window), fixed at load."}};
static const char *const scores[4][2] = {
    {"kiln_feedback_accuracy", "Accuracy of the labelled predictions per window (classifiers)."},
    {"kiln_feedback_roc_auc",
     "ROC-AUC of the labelled predictions per window (binary classifiers, from the probability "
     "of the class that sorts last)."},
    {"kiln_feedback_rmse", "RMSE of the labelled predictions per window (regressions)."},
    {"kiln_feedback_mae", "MAE of the labelled predictions per window (regressions)."}};

void kn__feedback_text(const kn__serve_model *const *models, size_t n_models, kn__sbuf *b)
{
    size_t with = 0;
    for (size_t i = 0; i < n_models; i++) with += models[i]->fb != NULL;
    if (!with) return;
    fb_view *v = kn_calloc(n_models, sizeof *v);
    if (!v) {
        b->oom = 1;
        return;
    }
    for (size_t i = 0; i < n_models; i++) {
        kn__feedback *fb = models[i]->fb;
        if (!fb) continue;
        pthread_mutex_lock(&fb->mu);
        memcpy(v[i].cur, fb->cur, sizeof v[i].cur);
        memcpy(v[i].last, fb->last, sizeof v[i].last);
        v[i].joined = fb->joined, v[i].unknown = fb->unknown, v[i].duplicate = fb->duplicate;
        v[i].windows = fb->windows;
        v[i].win_n = fb->win_n;
        pthread_mutex_unlock(&fb->mu);
    }
    for (int f = 0; f < N_COUNTS; f++) {
        kn__sbuf_printf(b, "# HELP %s %s\n# TYPE %s %s\n", counts[f][0], counts[f][2], counts[f][0],
                        counts[f][1]);
        for (size_t i = 0; i < n_models; i++) {
            if (!models[i]->fb) continue;
            series(b, counts[f][0], models[i], NULL);
            unsigned long long x = f == F_JOINED      ? v[i].joined
                                   : f == F_UNKNOWN   ? v[i].unknown
                                   : f == F_DUPLICATE ? v[i].duplicate
                                   : f == F_WINDOWS   ? v[i].windows
                                   : f == F_FILL      ? (unsigned long long)v[i].win_n
                                                      : (unsigned long long)models[i]->fb->bytes;
            kn__sbuf_printf(b, "%llu\n", x);
        }
    }
    for (int s = 0; s < 4; s++) {
        int any = 0;
        for (size_t i = 0; i < n_models; i++) {
            if (!models[i]->fb || (isnan(v[i].cur[s]) && isnan(v[i].last[s]))) continue;
            if (!any++)
                kn__sbuf_printf(b,
                                "# HELP %s %s (window=\"last\": the last full window; "
                                "\"current\": the one filling)\n# TYPE %s gauge\n",
                                scores[s][0], scores[s][1], scores[s][0]);
            for (int w = 0; w < 2; w++) {
                double x = w ? v[i].cur[s] : v[i].last[s];
                if (isnan(x)) continue;
                series(b, scores[s][0], models[i], w ? "current" : "last");
                kn__sbuf_json_num(b, x);
                kn__sbuf_puts(b, "\n");
            }
        }
    }
    kn_free(v);
}
