/* Input anomalies of a served version's drift windows (kn__anomwin_*): the
 * isolation forest of kiln/inputanom.h, fitted once when the version loads
 * on the artifact's sample of its training rows (KN_ART_REFERENCE_ROWS),
 * scores the valid rows of each finished window on the monitoring thread
 * (drift.c hands it the window's copy), and tests their anomalous share
 * against the reference's with the beta-binomial test of kiln monitor
 * anomalies, at the per-window level --anomaly-alpha. Results go to
 * /metrics (kiln_anomaly_*), the alert rules (anomaly_share, anomaly_p,
 * anomalous, anomalous_windows) and, with --record-windows, the store.
 *
 * A window of more than max_rows rows is scored on a systematic sample:
 * the rows whose number (counted from the server's start) is a multiple of
 * ceil(window / max_rows). The forest costs about 3 us a row (100 trees),
 * so scoring every row of small windows at a high request rate took a
 * tenth of the server's CPU; the sample bounds it per window, and the
 * window's test is the same test on fewer rows (an anomalous share of a
 * few per cent is still far past the reference's 1 %). */
#include "kiln/ctx.h"
#include "kiln/inputanom.h"
#include "kiln/log.h"
#include "kiln/mem.h"
#include "serve/serve-impl.h"

#include <math.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

struct kn__anomwin {
    pthread_mutex_t mu;
    kn_inputanom *a; /* NULL: off (why) */
    char why[400];
    size_t *col;   /* per forest column, its input's index */
    size_t n_cols; /* forest columns */
    double alpha;  /* the per-window level */
    kn_ctx *ctx;   /* one thread: the forest's fit and scoring never open an OpenMP
                      team beside the request threads */
    /* the monitoring thread's own: each row is scored once, when the first
     * window holding it ends (a sliding window scores its new rows only) */
    kn_frame *rows;                 /* the new valid rows of the forest's columns */
    double *score;                  /* per ring slot: its row's score (NaN: a refused row) */
    size_t *slot;                   /* the ring slot of each row of `rows` */
    size_t window;                  /* ring slots */
    size_t stride;                  /* rows whose number is a multiple of it are scored */
    unsigned char *pick;            /* per ring slot: its row is valid and sampled */
    unsigned long long scored_upto; /* rows into the ring taken so far */
    size_t n_new;                   /* rows of `rows` */
    int taken;                      /* 1: a window taken, to score; -1: taken, out of memory */
    double take_s;                  /* the CPU of taking it */
    /* published (under mu) */
    kn_inputanom_window last;
    unsigned long long windows, flagged;
    double cpu_s; /* thread CPU spent scoring and testing windows */
};

static double thread_cpu_s(void)
{
    struct timespec t;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
    return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

kn_status kn__anomwin_new(const kn__serve_model *m, size_t window, size_t max_rows, double alpha,
                          double contamination, uint64_t seed, kn__anomwin **out)
{
    *out = NULL;
    kn__anomwin *w = kn_calloc(1, sizeof *w);
    kn_col_decl *decls = kn_calloc(m->in.n + 1, sizeof *decls);
    kn_status e = w && decls ? KN_OK : KN_ERR_NOMEM;
    if (e != KN_OK) {
        kn_free(w), kn_free(decls);
        return e;
    }
    pthread_mutex_init(&w->mu, NULL);
    w->alpha = alpha;
    if ((e = kn_ctx_new(&w->ctx)) != KN_OK) {
        kn__anomwin_free(w), kn_free(decls);
        return e;
    }
    kn_ctx_set_threads(w->ctx, 1);
    w->last.share = w->last.p = w->last.reference_share = NAN;
    if (!m->ref_rows) {
        snprintf(w->why, sizeof w->why,
                 "its artifact keeps no sample of its training rows (written before artifacts "
                 "kept one); rebuild it with kiln run or kiln train --out to score them");
    } else {
        for (size_t j = 0; j < m->in.n; j++)
            decls[j] = (kn_col_decl){m->in.names[j], m->in.types[j]};
        kn_ctx *prev = kn_ctx_enter(w->ctx);
        e = kn_inputanom_fit(m->ref_rows, decls, m->in.n, contamination > 0 ? contamination : 0.01,
                             seed, &w->a);
        kn_ctx_leave(prev);
        if (e == KN_ERR_INVALID) {
            /* a model without numeric inputs, a reference of a few rows: it serves on */
            snprintf(w->why, sizeof w->why, "%s", kn_last_error());
            e = KN_OK;
        }
    }
    if (e == KN_OK && w->a) {
        w->n_cols = kn_inputanom_n_cols(w->a);
        w->col = kn_calloc(w->n_cols + 1, sizeof *w->col);
        if (!w->col) e = KN_ERR_NOMEM;
        for (size_t c = 0; e == KN_OK && c < w->n_cols; c++) {
            const char *name = kn_inputanom_col(w->a, c);
            size_t j = 0;
            while (j < m->in.n && strcmp(m->in.names[j], name)) j++;
            w->col[c] = j; /* found: the forest's columns are inputs */
        }
        w->window = window;
        w->stride = max_rows && window > max_rows ? (window + max_rows - 1) / max_rows : 1;
        w->pick = kn_calloc(window ? window : 1, 1);
        w->score = kn_malloc((window ? window : 1) * sizeof *w->score);
        w->slot = kn_malloc((window ? window : 1) * sizeof *w->slot);
        if (e == KN_OK && (!w->score || !w->slot || !w->pick)) e = KN_ERR_NOMEM;
        kn_column *col = NULL;
        if (e == KN_OK) e = kn_frame_new(&w->rows);
        for (size_t c = 0; e == KN_OK && c < w->n_cols; c++)
            e = kn_frame_add_column(w->rows, kn_inputanom_col(w->a, c), KN_COL_NUMERIC, &col);
    }
    kn_free(decls);
    if (e != KN_OK) {
        kn__anomwin_free(w);
        return e;
    }
    if (!w->a)
        kn_log(KN_LOG_WARN, "serve: model '%s' version %s: input-anomaly scoring is off: %s",
               m->name, m->version, w->why);
    *out = w;
    return KN_OK;
}

void kn__anomwin_free(kn__anomwin *w)
{
    if (!w) return;
    pthread_mutex_destroy(&w->mu);
    kn_inputanom_free(w->a);
    kn_frame_free(w->rows);
    kn_ctx_free(w->ctx);
    kn_free(w->col);
    kn_free(w->score);
    kn_free(w->slot);
    kn_free(w->pick);
    kn_free(w);
}

size_t kn__anomwin_bytes(const kn__anomwin *w)
{
    /* the score ring, the slots, the flags and the frame of new rows (the
     * forest aside) */
    return w && w->a ? sizeof *w + w->window * (sizeof *w->score + sizeof *w->slot + 1) +
                           w->window * w->n_cols * sizeof(double)
                     : 0;
}

int kn__anomwin_on(const kn__anomwin *w)
{
    return w && w->a;
}

void kn__anomwin_take(kn__anomwin *w, const double *const *rings, const unsigned char *valid,
                      unsigned long long end_row)
{
    if (!w || !w->a) return;
    double t0 = thread_cpu_s();
    /* the rows new since the last window: the ring's last `fresh` slots
     * (row r of the ring is in slot r mod window) */
    size_t window = w->window, n = 0;
    size_t fresh = end_row - w->scored_upto >= window ? window : (size_t)(end_row - w->scored_upto);
    for (size_t i = 0; i < fresh; i++) {
        unsigned long long row = end_row - 1 - i;
        size_t at = (size_t)(row % window);
        w->score[at] = NAN;
        w->pick[at] = valid[at] && row % w->stride == 0;
        if (w->pick[at]) w->slot[n++] = at;
    }
    kn_status e = kn_frame_resize(w->rows, n);
    for (size_t c = 0; e == KN_OK && c < w->n_cols; c++) {
        double *x = kn_column_f64(kn_frame_col(w->rows, c));
        const double *ring = rings[w->col[c]];
        for (size_t r = 0; r < n; r++) x[r] = ring[w->slot[r]]; /* NaN: the reference's median */
    }
    w->scored_upto = end_row;
    w->n_new = n;
    w->taken = e == KN_OK ? 1 : -1;
    w->take_s = thread_cpu_s() - t0;
}

void kn__anomwin_score(kn__anomwin *w, kn__watch_window *out)
{
    if (!w || !w->a || !w->taken) return;
    double t0 = thread_cpu_s();
    size_t n = w->n_new, n_scored = 0;
    double *scores = NULL;
    kn_status e = w->taken > 0 ? KN_OK : KN_ERR_NOMEM;
    w->taken = 0;
    if (e == KN_OK && n) {
        kn_ctx *prev = kn_ctx_enter(w->ctx);
        e = kn_inputanom_score(w->a, w->rows, &scores, &n_scored);
        kn_ctx_leave(prev);
        if (e == KN_OK && n_scored != n)
            e = kn_fail(KN_ERR_INTERNAL, "%zu scores for %zu rows", n_scored, n);
    }
    if (e != KN_OK) { /* its new rows stay unscored (NaN): not counted */
        kn_log(KN_LOG_WARN, "serve: input anomalies of a window not scored: %s", kn_last_error());
        kn_free(scores);
        return;
    }
    for (size_t r = 0; scores && r < n; r++) w->score[w->slot[r]] = scores[r];
    kn_free(scores);
    /* the whole window: its valid sampled rows, and those past the
     * threshold (a refused row's NaN is neither) */
    size_t n_valid = 0;
    for (size_t i = 0; i < w->window; i++) n_valid += w->pick[i];
    kn_inputanom_window r;
    kn_inputanom_test(w->a, n_valid, kn_inputanom_count(w->a, w->score, w->window),
                      KN_INPUTANOM_BETA_BINOMIAL, w->alpha, &r);
    double spent = thread_cpu_s() - t0 + w->take_s;
    pthread_mutex_lock(&w->mu);
    w->last = r;
    w->windows++;
    w->flagged += (unsigned long long)r.flagged;
    w->cpu_s += spent;
    unsigned long long flagged = w->flagged;
    pthread_mutex_unlock(&w->mu);
    if (out) {
        out->anom_tested = 1;
        out->anom = r;
        out->anom_flagged_windows = flagged;
    }
}

/* ---- /metrics ---- */

static void series(kn__sbuf *b, const char *name, const kn__serve_model *m)
{
    kn__sbuf_puts(b, name);
    kn__sbuf_puts(b, "{model=\"");
    kn__sbuf_prom_label(b, m->name, strlen(m->name));
    kn__sbuf_puts(b, "\",version=\"");
    kn__sbuf_prom_label(b, m->version, strlen(m->version));
    kn__sbuf_puts(b, "\"} ");
}

static void num(kn__sbuf *b, double v)
{
    kn__sbuf_prom_value(b, v);
}

enum {
    A_ON,
    A_SHARE,
    A_P,
    A_FLAGGED,
    A_ROWS,
    A_REF,
    A_WINDOWS,
    A_FLAGGED_WINDOWS,
    A_CPU,
    A_BYTES,
    N_A
};
static const char *const family[N_A][3] = {
    {"kiln_anomaly_scoring", "gauge",
     "1 when the version's drift windows are scored for input anomalies; 0 when it cannot be "
     "(an artifact without a sample of its training rows: see the server's log)."},
    {"kiln_anomaly_share", "gauge",
     "Share of the last full window's rows that the isolation forest fitted on the artifact's "
     "training rows finds anomalous."},
    {"kiln_anomaly_p", "gauge",
     "p-value of the last full window's anomalous share against the reference's "
     "(beta-binomial, as kiln monitor anomalies)."},
    {"kiln_anomaly_flagged", "gauge",
     "1 when the last full window was flagged: its share over the reference's and its p-value "
     "under --anomaly-alpha."},
    {"kiln_anomaly_window_rows", "gauge",
     "Rows of the last full window that were scored: all its valid rows, or a systematic sample "
     "of about --anomaly-rows of them in a larger window."},
    {"kiln_anomaly_reference_share", "gauge",
     "Share of the reference rows past the forest's threshold (about its contamination, "
     "--anomaly-contamination)."},
    {"kiln_anomaly_windows_total", "counter", "Windows scored for input anomalies."},
    {"kiln_anomaly_flagged_windows_total", "counter", "Windows flagged for input anomalies."},
    {"kiln_anomaly_cpu_seconds_total", "counter",
     "CPU time the monitoring thread spent scoring and testing windows for input anomalies."},
    {"kiln_anomaly_memory_bytes", "gauge",
     "Memory the input-anomaly scores of a window hold (bounded: fixed at load; the isolation "
     "forest aside)."}};

void kn__anomwin_text(const kn__serve_model *const *models, size_t n_models, kn__sbuf *b)
{
    size_t with = 0;
    for (size_t i = 0; i < n_models; i++) with += kn__drift_anomwin(models[i]->drift) != NULL;
    if (!with) return;
    for (int f = 0; f < N_A; f++) {
        kn__sbuf_printf(b, "# HELP %s %s\n# TYPE %s %s\n", family[f][0], family[f][2], family[f][0],
                        family[f][1]);
        for (size_t i = 0; i < n_models; i++) {
            kn__anomwin *w = kn__drift_anomwin(models[i]->drift);
            if (!w || (f != A_ON && !w->a)) continue;
            pthread_mutex_lock(&w->mu);
            if (f == A_ON)
                series(b, family[f][0], models[i]), kn__sbuf_printf(b, "%d\n", w->a != NULL);
            else if (f == A_WINDOWS || f == A_FLAGGED_WINDOWS)
                series(b, family[f][0], models[i]),
                    kn__sbuf_printf(b, "%llu\n", f == A_WINDOWS ? w->windows : w->flagged);
            else if (f == A_BYTES)
                series(b, family[f][0], models[i]),
                    kn__sbuf_printf(b, "%zu\n", kn__anomwin_bytes(w));
            else if (f == A_CPU)
                series(b, family[f][0], models[i]), num(b, w->cpu_s);
            else if (f == A_REF)
                series(b, family[f][0], models[i]), num(b, kn_inputanom_reference_share(w->a));
            else if (w->windows) {
                series(b, family[f][0], models[i]);
                if (f == A_FLAGGED)
                    kn__sbuf_printf(b, "%d\n", w->last.flagged);
                else if (f == A_ROWS)
                    kn__sbuf_printf(b, "%zu\n", w->last.rows);
                else
                    num(b, f == A_SHARE ? w->last.share : w->last.p);
            }
            pthread_mutex_unlock(&w->mu);
        }
    }
}
