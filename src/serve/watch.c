/* The server's watcher (kn__watch_*): what the request threads and the ops
 * thread finish (a drift window of a served version, an operational
 * interval) goes through a bounded queue to one background thread, which
 * records each window in the store's monitoring tables (monitor_checks, as
 * `kiln monitor check --record` does) and evaluates the alert rules of
 * `kiln serve --alerts` (kiln/alert.h): streaks, de-duplicated incidents
 * (in the store's monitor_rule_state / monitor_alerts with a store, else
 * in memory), the log and webhook sinks with their retries. Nothing of it
 * runs on a request's path: a request that ends a window only queues its
 * results (a full queue drops the job and counts it). Stopping works off
 * the whole queue first, so a window finished before SIGTERM is recorded.
 * A rule's retrain: action runs in watch_retrain.c. */
#include "kiln/livescore.h"
#include "kiln/log.h"
#include "kiln/mem.h"
#include "kiln/names.h"
#include "serve/watch-impl.h"

#include <errno.h>
#include <math.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

enum { QUEUE_MAX = 4096 };

void kn__watch_job_free(job *j)
{
    if (!j) return;
    kn__watch_retrain_free(j->done);
    kn_free((void *)j->w.model), kn_free((void *)j->w.version);
    kn_drift_report_free(&j->w.cols);
    kn_drift_col_free(&j->w.pred);
    kn_drift_col_free(&j->w.score);
    kn_free(j->events);
    kn_free(j->rec_model), kn_free(j->rec_result);
    kn_free(j);
}

/* 1 queued; 0 dropped (the job is the caller's again). */
int kn__watch_push(kn__watch *w, job *j)
{
    pthread_mutex_lock(&w->mu);
    if (w->depth >= QUEUE_MAX || w->stop) {
        w->dropped++;
        pthread_mutex_unlock(&w->mu);
        return 0;
    }
    if (w->tail)
        w->tail->next = j;
    else
        w->head = j;
    w->tail = j;
    w->depth++;
    pthread_cond_signal(&w->cond);
    pthread_mutex_unlock(&w->mu);
    return 1;
}

int kn__watch_drift_submit(kn__watch *w, kn__drift *d, struct kn__serve_snap *owner,
                           unsigned long long end)
{
    job *j = kn_calloc(1, sizeof *j);
    if (!j) {
        pthread_mutex_lock(&w->mu);
        w->dropped++;
        pthread_mutex_unlock(&w->mu);
        return 0;
    }
    j->d = d;
    j->end = end;
    j->owner = owner;
    /* the caller holds a reference too (its request's): this one cannot be the last */
    if (owner) atomic_fetch_add_explicit(&owner->refs, 1, memory_order_relaxed);
    pthread_mutex_lock(&w->mu);
    int ok = !w->tstop; /* bounded: the windows a drift's ring holds */
    if (ok) {
        if (w->ttail)
            w->ttail->next = j;
        else
            w->thead = j;
        w->ttail = j;
        pthread_cond_signal(&w->tcond);
    } else
        w->dropped++;
    pthread_mutex_unlock(&w->mu);
    if (ok) return 1;
    if (owner) atomic_fetch_sub_explicit(&owner->refs, 1, memory_order_relaxed);
    kn_free(j);
    return 0;
}

int kn__watch_wants_ops(const kn__watch *w)
{
    for (size_t i = 0; w && w->cfg && i < w->cfg->n_rules; i++)
        if (w->cfg->rules[i].source == KN_ALERT_OPS) return 1;
    return 0;
}

void kn__watch_ops_submit(kn__watch *w, const kn_alert_inputs *in, const char *events)
{
    if (!kn__watch_wants_ops(w)) return;
    job *j = kn_calloc(1, sizeof *j);
    if (!j || !(j->events = kn_strdup(events ? events : "[]"))) {
        kn_free(j);
        pthread_mutex_lock(&w->mu);
        w->dropped++;
        pthread_mutex_unlock(&w->mu);
        return;
    }
    j->ops = 1;
    j->in = *in;
    j->in.cols = NULL, j->in.pred = NULL, j->in.score = NULL;
    if (!kn__watch_push(w, j)) kn__watch_job_free(j);
}

int kn__watch_records(const kn__watch *w)
{
    return w && w->store;
}

void kn__watch_ops_record(kn__watch *w, const char *model, uint64_t rows, int drift,
                          const char *result)
{
    if (!kn__watch_records(w)) return;
    job *j = kn_calloc(1, sizeof *j);
    if (j) j->rec_model = kn_strdup(model), j->rec_result = kn_strdup(result);
    if (!j || !j->rec_model || !j->rec_result) {
        kn__watch_job_free(j);
        pthread_mutex_lock(&w->mu);
        w->dropped++;
        pthread_mutex_unlock(&w->mu);
        return;
    }
    j->rec_rows = rows;
    j->rec_drift = drift;
    if (!kn__watch_push(w, j)) kn__watch_job_free(j);
}

void kn__watch_feedback_submit(kn__watch *w, const char *model, const char *version, int canary,
                               unsigned long long window, uint64_t window_rows, const double *live,
                               const double *test, int headline)
{
    int wanted = kn__watch_records(w); /* recorded for the report */
    for (size_t i = 0; w && w->cfg && i < w->cfg->n_rules; i++)
        wanted |= w->cfg->rules[i].source == KN_ALERT_FEEDBACK;
    if (!wanted) return;
    job *j = kn_calloc(1, sizeof *j);
    if (j) {
        j->w.model = kn_strdup(model);
        j->w.version = kn_strdup(version);
    }
    if (!j || !j->w.model || !j->w.version) {
        kn__watch_job_free(j);
        pthread_mutex_lock(&w->mu);
        w->dropped++;
        pthread_mutex_unlock(&w->mu);
        return;
    }
    j->feedback = 1;
    j->fwindow = window;
    j->w.window_rows = window_rows;
    j->w.canary = canary;
    kn_alert_inputs_init(&j->in);
    for (int i = 0; i < KN_ALERT_N_LIVE; i++) j->in.live[i] = live[i], j->in.live_test[i] = test[i];
    j->in.live_metric = headline;
    if (!kn__watch_push(w, j)) kn__watch_job_free(j);
}

/* ---- what a window measured, as JSON ---- */

static json_t *num(double v)
{
    return isfinite(v) ? json_real(v) : json_null();
}

/* A column's result, with the keys of kiln monitor check --json. */
static json_t *col_json(const kn_drift_col *c)
{
    json_t *unseen = json_array();
    for (size_t i = 0; i < c->unseen && i < KN_DRIFT_UNSEEN_SHOWN; i++)
        json_array_append_new(unseen, json_string(c->unseen_values[i]));
    return json_pack(
        "{s:s, s:s, s:b, s:o, s:I, s:I, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o, "
        "s:o, s:o, s:I, s:o, s:o, s:o}",
        "column", c->name ? c->name : "", "kind", c->categorical ? "categorical" : "numeric",
        "drifted", c->drifted, "why", c->why ? json_string(c->why) : json_null(), "n_reference",
        (json_int_t)c->n_ref, "n", (json_int_t)c->n_cur, "psi", num(c->psi), "psi_threshold",
        num(c->psi_threshold), "ks_d", num(c->ks_d), "ks_p", num(c->ks_p), "wasserstein",
        num(c->wasserstein), "chi2", num(c->chi2), "chi2_p", num(c->chi2_p), "js", num(c->js), "p",
        num(c->p), "p_adjusted", num(c->p_adjusted), "missing_reference", num(c->missing_ref),
        "missing", num(c->missing_cur), "unseen_values", unseen, "unseen", (json_int_t)c->unseen,
        "unseen_share", num(c->unseen_frac), "score", num(c->score), "importance", json_null());
}

static int by_drift(const void *x, const void *y)
{
    const kn_drift_col *a = x, *b = y;
    if (a->drifted != b->drifted) return b->drifted - a->drifted;
    double ea = isnan(a->score) ? 0 : a->score, eb = isnan(b->score) ? 0 : b->score;
    return (ea < eb) - (ea > eb);
}

/* The window's result as kiln monitor check --json --window writes one,
 * plus where it comes from (source, version, window, slide). */
static json_t *window_json(const kn__watch_window *w)
{
    json_t *cols = json_array(), *drifted = json_array();
    for (size_t i = 0; i < w->cols.n_cols; i++) {
        json_array_append_new(cols, col_json(&w->cols.cols[i]));
        if (w->cols.cols[i].drifted)
            json_array_append_new(drifted, json_string(w->cols.cols[i].name));
    }
    unsigned long long end = w->end_row; /* of the rows the version received, refused ones too */
    json_t *anom =
        !w->anom_tested
            ? json_null()
            : json_pack("{s:I, s:I, s:f, s:f, s:f, s:b, s:I}", "rows", (json_int_t)w->anom.rows,
                        "anomalous_rows", (json_int_t)w->anom.anomalous_rows, "share",
                        w->anom.share, "reference_share", w->anom.reference_share, "p", w->anom.p,
                        "flagged", w->anom.flagged, "flagged_windows",
                        (json_int_t)w->anom_flagged_windows);
    json_t *j =
        json_pack("{s:s, s:s, s:I, s:I, s:I, s:I, s:I, s:b, s:I, s:I, s:o, s:o, s:f, s:I, "
                  "s:o, s:o}",
                  "source", "serve", "version", w->version, "window", (json_int_t)w->window,
                  "slide", (json_int_t)w->slide, "from", (json_int_t)(end - w->window_rows), "rows",
                  (json_int_t)w->rows, "valid_rows", (json_int_t)(w->rows - w->invalid), "drift",
                  w->drift, "columns_checked", (json_int_t)w->cols.n_cols, "columns_drifted",
                  (json_int_t)w->cols.n_drifted, "drifted", drifted, "prediction",
                  w->pred_tested ? col_json(&w->pred) : json_null(), "invalid_share",
                  w->rows ? (double)w->invalid / (double)w->rows : 0.0, "invalid_rows",
                  (json_int_t)w->invalid, "columns", cols, "anomalies", anom ? anom : json_null());
    if (j) json_object_set_new(j, "score", w->score_tested ? col_json(&w->score) : json_null());
    return j;
}

/* An open incident to the sinks, counted; `again` says what happens to one
 * not delivered. */
void kn__watch_deliver(kn__watch *w, size_t rule, const char *model, const char *scope,
                       json_t *detail, const char *again)
{
    int ok = 0, tries = 0;
    kn_status e = kn_incidents_deliver(w->inc, rule, model, scope, detail, &ok, &tries);
    if (e != KN_OK)
        kn_log(KN_LOG_WARN, "serve: alert delivery: the store: %s", kn_last_error());
    else if (!ok)
        kn_log(KN_LOG_WARN, "serve: alert not delivered%s: %s", again, kn_last_error());
    pthread_mutex_lock(&w->mu);
    if (ok)
        w->delivered++;
    else
        w->delivery_failed++;
    pthread_mutex_unlock(&w->mu);
}

/* ---- alerts ---- */

/* Every rule of the job's source on what it measured. The windows of a
 * slot's canary are a scope of their own ("canary"): their streaks and
 * incidents never touch the main version's. */
static void alerts(kn__watch *w, const job *j, const char *model, const char *data,
                   unsigned long long k)
{
    kn_alert_inputs in;
    if (j->ops || j->feedback)
        in = j->in;
    else {
        kn_alert_inputs_init(&in);
        in.cols = &j->w.cols;
        in.pred = j->w.pred_tested ? &j->w.pred : NULL;
        in.score = j->w.score_tested ? &j->w.score : NULL;
        in.invalid_share = j->w.rows ? (double)j->w.invalid / (double)j->w.rows : 0;
        if (j->w.anom_tested) {
            in.anomaly_share = j->w.anom.share, in.anomaly_p = j->w.anom.p;
            in.anomalous = j->w.anom.flagged;
            in.anomalous_windows = (double)j->w.anom_flagged_windows;
        }
    }
    const char *scope = !j->ops && j->w.canary ? "canary" : NULL;
    kn_alert_source source = j->ops        ? KN_ALERT_OPS
                             : j->feedback ? KN_ALERT_FEEDBACK
                                           : KN_ALERT_DRIFT;
    for (size_t i = 0; w->cfg && i < w->cfg->n_rules; i++) {
        const kn_alert_rule *r = &w->cfg->rules[i];
        /* a drift window also carries its input anomalies */
        int mine =
            r->source == source || (source == KN_ALERT_DRIFT && r->source == KN_ALERT_ANOMALY);
        if (!mine) continue;
        double v = NAN;
        const char *column = NULL;
        if (kn_alert_measure(r, &in, &v, &column) != KN_OK) {
            kn_log(KN_LOG_WARN, "serve: alert rule '%s': %s", r->name, kn_last_error());
            continue;
        }
        int fires = kn_alert_fires(r, v);
        json_t *detail = kn_incident_detail(r, model, v, column, (int64_t)k, data);
        if (!detail) continue;
        if (j->feedback) {
            json_object_del(detail, "column");
            json_object_set_new(detail, "version", json_string(j->w.version));
            json_object_set_new(detail, "scope", json_string(scope ? scope : "main"));
            for (int m = 0; m < KN_ALERT_N_LIVE; m++) {
                const char *name = kn_live_metric_name((kn_live_metric)m);
                if (!isnan(in.live[m])) json_object_set_new(detail, name, json_real(in.live[m]));
            }
            if (in.live_metric >= 0 && !isnan(in.live_test[in.live_metric]))
                json_object_set_new(detail, "test", json_real(in.live_test[in.live_metric]));
            if (in.live_metric >= 0)
                json_object_set_new(
                    detail, "headline",
                    json_string(kn_live_metric_name((kn_live_metric)in.live_metric)));
        } else if (!j->ops) {
            json_t *drifted = json_array();
            for (size_t c = 0; c < j->w.cols.n_cols; c++)
                if (j->w.cols.cols[c].drifted)
                    json_array_append_new(drifted, json_string(j->w.cols.cols[c].name));
            json_object_set_new(detail, "drifted_columns", drifted);
            json_object_set_new(detail, "version", json_string(j->w.version));
            json_object_set_new(detail, "scope", json_string(scope ? scope : "main"));
        } else {
            json_object_del(detail, "column");
            json_object_set_new(detail, "series", column ? json_string(column) : json_null());
            json_t *ev = json_loads(j->events, 0, NULL);
            json_object_set_new(detail, "events", ev ? ev : json_array());
        }
        kn_incident_step st;
        kn_status e = kn_incidents_observe(w->inc, i, model, scope, fires, (int64_t)k, detail, &st);
        if (e != KN_OK)
            kn_log(KN_LOG_WARN, "serve: alert rule '%s': %s%s", r->name,
                   w->store ? "the store: " : "", kn_last_error());
        pthread_mutex_lock(&w->mu);
        if (!scope) w->open_now[i] = st.open && e == KN_OK;
        if (st.opened) w->incidents[i]++;
        pthread_mutex_unlock(&w->mu);
        /* a retrain: action: the incident goes to the sinks when it ends,
         * carrying its result (version, scores, promoted or not and why) */
        int waits = 0;
        if (e == KN_OK && st.opened && r->retrain_spec)
            waits = kn__watch_retrain_start(w, i, r, model, scope, detail, 0);
        else if (e == KN_OK && st.send && r->retrain_spec)
            waits = kn__watch_retrain_pending(w, i, model, scope);
        if (e == KN_OK && st.send && !waits && w->cfg->n_sinks)
            kn__watch_deliver(w, i, model, scope, detail,
                              " (sent again with the next window while the incident is open)");
        json_decref(detail);
    }
}

/* A record of the store's monitor_checks, counted. */
static void record(kn__watch *w, const char *model, const char *data, uint64_t window_rows,
                   uint64_t rows, int drift, const char *result, const char *what)
{
    kn_status e =
        kn_store_monitor_add(w->store, model, data, window_rows, rows, drift, result, NULL);
    if (e != KN_OK)
        kn_log(KN_LOG_WARN, "serve: %s of %s not recorded: %s", what, model, kn_last_error());
    pthread_mutex_lock(&w->mu);
    if (e == KN_OK)
        w->recorded++;
    else
        w->record_errors++;
    pthread_mutex_unlock(&w->mu);
}

static void work(kn__watch *w, job *j)
{
    if (j->done) {
        kn__watch_retrain_done(w, j->done);
        kn__watch_resume_next(w); /* a picked-up retrain of the model may start now */
        return;
    }
    if (j->resume) {
        kn__watch_resume_next(w);
        return;
    }
    if (j->rec_model) {
        record(w, j->rec_model, "kiln serve --ops-interval", 0, j->rec_rows, j->rec_drift,
               j->rec_result, "an operational interval");
        return;
    }
    if (j->feedback) {
        char data[160];
        snprintf(data, sizeof data, "kiln serve: version %s feedback", j->w.version);
        if (w->store) {
            json_t *res = kn_live_record_json(
                j->fwindow, j->w.version, j->w.canary ? "canary" : "main", j->w.window_rows,
                (kn_live_metric)j->in.live_metric, j->in.live, j->in.live_test);
            char *text = res ? json_dumps(res, JSON_COMPACT) : NULL;
            char what[64];
            snprintf(what, sizeof what, "feedback window %llu", j->fwindow);
            if (text)
                record(w, j->w.model, data, j->w.window_rows, j->w.window_rows, 0, text, what);
            else {
                pthread_mutex_lock(&w->mu);
                w->record_errors++;
                pthread_mutex_unlock(&w->mu);
            }
            free(text);
            json_decref(res);
        }
        alerts(w, j, j->w.model, data, j->fwindow);
        return;
    }
    if (j->ops) {
        pthread_mutex_lock(&w->mu);
        unsigned long long k = ++w->intervals;
        pthread_mutex_unlock(&w->mu);
        alerts(w, j, "(server)", "kiln serve --ops-interval", k);
        return;
    }
    char data[160];
    snprintf(data, sizeof data, "kiln serve: version %s", j->w.version);
    /* columns drifted first, then by how far they moved, as monitor check */
    qsort(j->w.cols.cols, j->w.cols.n_cols, sizeof *j->w.cols.cols, by_drift);
    if (w->store) {
        json_t *res = window_json(&j->w);
        char *text = res ? json_dumps(res, JSON_COMPACT) : NULL;
        char what[64];
        snprintf(what, sizeof what, "window %llu", j->w.window);
        if (text)
            record(w, j->w.model, data, j->w.window_rows, j->w.rows, j->w.drift, text, what);
        else {
            kn_log(KN_LOG_WARN, "serve: %s of %s not recorded: out of memory", what, j->w.model);
            pthread_mutex_lock(&w->mu);
            w->record_errors++;
            pthread_mutex_unlock(&w->mu);
        }
        free(text);
        json_decref(res);
    }
    pthread_mutex_lock(&w->mu);
    w->windows++;
    pthread_mutex_unlock(&w->mu);
    alerts(w, j, j->w.model, data, j->w.window);
}

static void *watch_main(void *arg)
{
    kn__watch *w = arg;
    pthread_mutex_lock(&w->mu);
    for (;;) {
        while (!w->head && !w->stop) pthread_cond_wait(&w->cond, &w->mu);
        job *j = w->head;
        if (!j) break; /* stopping, and the queue is empty */
        w->head = j->next;
        if (!w->head) w->tail = NULL;
        pthread_mutex_unlock(&w->mu);
        work(w, j);
        kn__watch_job_free(j);
        pthread_mutex_lock(&w->mu);
        w->depth--;
    }
    pthread_mutex_unlock(&w->mu);
    return NULL;
}

/* The tester: test each copied window, then queue its results (with
 * their own copies of the names) for the store and the rules. */
static void *tester_main(void *arg)
{
    kn__watch *w = arg;
    pthread_mutex_lock(&w->mu);
    for (;;) {
        while (!w->thead && !w->tstop) pthread_cond_wait(&w->tcond, &w->mu);
        job *j = w->thead;
        if (!j) break; /* stopping, and the queue is empty */
        w->thead = j->next;
        if (!w->thead) w->ttail = NULL;
        pthread_mutex_unlock(&w->mu);
        j->next = NULL;
        kn__watch_window *r = &j->w;
        int tested = kn__drift_run(j->d, j->end, r); /* the model stays alive: j->owner */
        r->canary = r->slot && j->owner && atomic_load(&r->slot->snap[KN__SNAP_CANARY]) == j->owner;
        const char *model = r->model, *version = r->version;
        r->model = model ? kn_strdup(model) : NULL;
        r->version = version ? kn_strdup(version) : NULL;
        kn__serve_snap_put(j->owner); /* may free the version, and its drift, now */
        j->owner = NULL;
        j->d = NULL;
        if (!tested || !r->model || !r->version || !kn__watch_push(w, j)) kn__watch_job_free(j);
        pthread_mutex_lock(&w->mu);
    }
    pthread_mutex_unlock(&w->mu);
    return NULL;
}

kn_status kn__watch_start(const char *store_dir, int record, kn_alert_config *cfg,
                          const char *retrain_exe, double grace_s, const kn__serve_slot *slots,
                          size_t n_slots, kn__watch **out)
{
    kn__watch *w = kn_calloc(1, sizeof *w);
    if (!w) {
        kn_alert_config_free(cfg);
        return KN_ERR_NOMEM;
    }
    w->cfg = cfg;
    w->retrain_exe = retrain_exe ? kn_strdup(retrain_exe) : NULL;
    w->grace_s = grace_s > 0 ? grace_s : 0;
    w->store_dir = store_dir ? kn_strdup(store_dir) : NULL;
    size_t n = cfg ? cfg->n_rules : 0;
    w->incidents = kn_calloc(n + 1, sizeof *w->incidents);
    w->open_now = kn_calloc(n + 1, sizeof *w->open_now);
    pthread_mutex_init(&w->mu, NULL);
    pthread_cond_init(&w->cond, NULL);
    pthread_cond_init(&w->tcond, NULL);
    kn_status e = w->incidents && w->open_now ? KN_OK : KN_ERR_NOMEM;
    if (e == KN_OK && record) e = kn_store_open(store_dir, 1, &w->store);
    if (e == KN_OK) {
        kn_incident_opts io;
        kn_incident_opts_init(&io);
        io.store = w->store;
        io.id_names_model = 1;
        e = kn_incidents_new(cfg, &io, &w->inc);
    }
    /* a store that cannot say which incidents wait for a retrain stops
     * nothing: the server serves, and the next start looks again */
    if (e == KN_OK && w->retrain_exe && kn__watch_resume_collect(w, slots, n_slots) != KN_OK)
        kn_log(KN_LOG_WARN, "serve: the open incidents' retrains are not picked up: %s",
               kn_last_error());
    if (e == KN_OK && pthread_create(&w->thread, NULL, watch_main, w))
        e = kn_fail(KN_ERR_INTERNAL, "cannot start the monitoring thread");
    else if (e == KN_OK)
        w->running = 1;
    if (e == KN_OK && pthread_create(&w->tester, NULL, tester_main, w))
        e = kn_fail(KN_ERR_INTERNAL, "cannot start the drift windows' thread");
    else if (e == KN_OK)
        w->testing = 1;
    if (e == KN_OK && w->resumes) { /* before any window, so the windows wait for them */
        job *j = kn_calloc(1, sizeof *j);
        if (j) j->resume = 1;
        if (!j || !kn__watch_push(w, j)) {
            kn_free(j);
            e = KN_ERR_NOMEM;
        }
    }
    if (e != KN_OK) {
        kn__watch_stop(w);
        return e;
    }
    *out = w;
    return KN_OK;
}

void kn__watch_stop(kn__watch *w)
{
    if (!w) return;
    pthread_mutex_lock(&w->mu);
    w->tstop = 1;
    pthread_cond_broadcast(&w->tcond);
    pthread_mutex_unlock(&w->mu);
    if (w->testing) pthread_join(w->tester, NULL); /* tests every copy queued, first */
    /* the retrains running end first (their incidents go through the
     * queue); none starts from now on. One still running after the grace
     * period is sent SIGTERM (kiln run stops cleanly on it), SIGKILL 10 s
     * later. */
    pthread_mutex_lock(&w->mu);
    w->no_retrains = 1;
    if (w->retrains)
        kn_log(KN_LOG_INFO, "serve: stopping: waiting up to %g s for the running retrain of '%s'",
               w->grace_s, w->retrains->name);
    struct timespec t0;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    int sent = 0; /* 0 none, 1 SIGTERM, 2 SIGKILL */
    while (w->retrains) {
        struct timespec now;
        clock_gettime(CLOCK_MONOTONIC, &now);
        double waited = (double)(now.tv_sec - t0.tv_sec) + (double)(now.tv_nsec - t0.tv_nsec) / 1e9;
        int want = waited >= w->grace_s + 10 ? 2 : waited >= w->grace_s ? 1 : 0;
        for (retrain *t = w->retrains; want > sent && t; t = t->next)
            if (t->pid > 0) {
                kn_log(KN_LOG_WARN,
                       "serve: stopping: the retrain of '%s' still runs after %.0f s: %s", t->name,
                       waited, want == 2 ? "SIGKILL" : "SIGTERM");
                kill(t->pid, want == 2 ? SIGKILL : SIGTERM);
                t->stopped = 1;
            }
        sent = want > sent ? want : sent;
        pthread_mutex_unlock(&w->mu);
        struct timespec ts = {0, 20 * 1000 * 1000};
        nanosleep(&ts, NULL);
        pthread_mutex_lock(&w->mu);
    }
    pthread_mutex_unlock(&w->mu);
    if (w->running) {
        pthread_mutex_lock(&w->mu);
        w->stop = 1;
        pthread_cond_broadcast(&w->cond);
        pthread_mutex_unlock(&w->mu);
        pthread_join(w->thread, NULL); /* it works off the queue first */
    }
    for (job *j = w->head, *next; j; j = next) next = j->next, kn__watch_job_free(j);
    for (job *j = w->thead, *next; j; j = next)
        next = j->next, kn__serve_snap_put(j->owner), kn__watch_job_free(j);
    for (resume *r = w->resumes, *next; r; r = next) next = r->next, kn__watch_resume_free(r);
    kn_incidents_free(w->inc);
    kn_free(w->retrain_exe), kn_free(w->store_dir);
    kn_store_close(w->store);
    kn_alert_config_free(w->cfg);
    kn_free(w->incidents);
    kn_free(w->open_now);
    pthread_mutex_destroy(&w->mu);
    pthread_cond_destroy(&w->cond);
    pthread_cond_destroy(&w->tcond);
    kn_free(w);
}

/* ---- /metrics ---- */

void kn__watch_text(kn__watch *w, kn__sbuf *b)
{
    if (!w) return;
    pthread_mutex_lock(&w->mu);
    kn__sbuf_printf(b,
                    "# HELP kiln_watch_queue_depth Finished windows waiting for the monitoring "
                    "thread (store, alert rules).\n# TYPE kiln_watch_queue_depth gauge\n"
                    "kiln_watch_queue_depth %zu\n"
                    "# HELP kiln_watch_windows_total Drift windows the monitoring thread has "
                    "handled.\n# TYPE kiln_watch_windows_total counter\n"
                    "kiln_watch_windows_total %llu\n"
                    "# HELP kiln_watch_dropped_total Finished windows dropped: the queue was "
                    "full (%d) or memory ran out.\n# TYPE kiln_watch_dropped_total counter\n"
                    "kiln_watch_dropped_total %llu\n",
                    w->depth, w->windows, (int)QUEUE_MAX, w->dropped);
    if (w->store)
        kn__sbuf_printf(b,
                        "# HELP kiln_watch_recorded_total Windows recorded in the store "
                        "(monitor_checks).\n# TYPE kiln_watch_recorded_total counter\n"
                        "kiln_watch_recorded_total %llu\n"
                        "# HELP kiln_watch_record_errors_total Windows the store refused.\n"
                        "# TYPE kiln_watch_record_errors_total counter\n"
                        "kiln_watch_record_errors_total %llu\n",
                        w->recorded, w->record_errors);
    if (w->cfg && w->cfg->n_rules) {
        kn__sbuf_puts(b, "# HELP kiln_alert_incidents_total Incidents a rule opened.\n"
                         "# TYPE kiln_alert_incidents_total counter\n");
        for (size_t i = 0; i < w->cfg->n_rules; i++) {
            kn__sbuf_puts(b, "kiln_alert_incidents_total{rule=\"");
            kn__sbuf_prom_label(b, w->cfg->rules[i].name, strlen(w->cfg->rules[i].name));
            kn__sbuf_printf(b, "\"} %llu\n", w->incidents[i]);
        }
        kn__sbuf_puts(b, "# HELP kiln_alert_open 1 while the rule's latest evaluation left an "
                         "incident open.\n# TYPE kiln_alert_open gauge\n");
        for (size_t i = 0; i < w->cfg->n_rules; i++) {
            kn__sbuf_puts(b, "kiln_alert_open{rule=\"");
            kn__sbuf_prom_label(b, w->cfg->rules[i].name, strlen(w->cfg->rules[i].name));
            kn__sbuf_printf(b, "\"} %llu\n", w->open_now[i]);
        }
        kn__sbuf_printf(b,
                        "# HELP kiln_alert_deliveries_total Incidents sent to the sinks, by "
                        "whether every webhook took them.\n"
                        "# TYPE kiln_alert_deliveries_total counter\n"
                        "kiln_alert_deliveries_total{result=\"ok\"} %llu\n"
                        "kiln_alert_deliveries_total{result=\"failed\"} %llu\n",
                        w->delivered, w->delivery_failed);
    }
    pthread_mutex_unlock(&w->mu);
}

/* ---- the rules file ---- */

kn_status kn__serve_alerts_read(const char *path, kn_alert_config **out)
{
    *out = NULL;
    FILE *fp = fopen(path, "rb");
    if (!fp) return kn_fail(KN_ERR_IO, "alert rules %s: cannot open it: %s", path, strerror(errno));
    size_t cap = 4096, n = 0;
    char *text = kn_malloc(cap);
    kn_status e = text ? KN_OK : KN_ERR_NOMEM;
    while (e == KN_OK) {
        if (n + 1 >= cap) {
            char *grown = cap < (1u << 24) ? kn_realloc(text, cap * 2) : NULL;
            if (!grown) {
                e = kn_fail(KN_ERR_INVALID, "alert rules %s: over 16 MiB", path);
                break;
            }
            text = grown;
            cap *= 2;
        }
        size_t got = fread(text + n, 1, cap - n - 1, fp);
        n += got;
        if (!got) break;
    }
    if (e == KN_OK && ferror(fp)) e = kn_fail(KN_ERR_IO, "alert rules %s: cannot read it", path);
    fclose(fp);
    if (e == KN_OK) text[n] = 0, e = kn_alert_config_parse(text, n, path, out);
    kn_free(text);
    if (e != KN_OK) {
        kn_alert_config_free(*out);
        *out = NULL;
    }
    return e;
}

kn_status kn__serve_alerts_check(const kn_alert_config *c, const char *path, const kn_serve_opts *o,
                                 kn__serve_slot *slots, size_t n_slots)
{
    for (size_t i = 0; c && i < c->n_rules; i++) {
        const kn_alert_rule *r = &c->rules[i];
        if (r->retrain_spec && !o->retrain_exe)
            return kn_fail(KN_ERR_INVALID,
                           "%s: rule '%s' has retrain:, which runs kiln monitor retrain: the "
                           "server needs the kiln binary (kn_serve_opts.retrain_exe)",
                           path, r->name);
        for (size_t k = 0; r->retrain_spec && k < n_slots; k++)
            if (!slots[k].ref)
                return kn_fail(KN_ERR_INVALID,
                               "%s: rule '%s' has retrain:, which registers a new version of the "
                               "model, but model '%s' is served from a file: serve it from the "
                               "registry (--model NAME@production), or drop retrain:",
                               path, r->name, slots[k].name);
        if (r->source == KN_ALERT_ANOMALY && (!o->drift_window || !o->anomalies))
            return kn_fail(KN_ERR_INVALID,
                           "%s: rule '%s' watches '%s', the input anomalies of each drift "
                           "window: %s",
                           path, r->name, r->metric,
                           !o->drift_window ? "give --drift-window N" : "drop --no-anomalies");
        if (r->source == KN_ALERT_FEEDBACK && !o->feedback_rows)
            return kn_fail(KN_ERR_INVALID,
                           "%s: rule '%s' watches '%s', a live score of feedback labels: give "
                           "--feedback-ring N (over 0)",
                           path, r->name, r->metric);
        if (r->source == KN_ALERT_FEEDBACK && r->window_rows &&
            (size_t)r->window_rows != (o->feedback_window ? o->feedback_window : 1000))
            return kn_fail(KN_ERR_INVALID,
                           "%s: rule '%s' has window %lld labels, the server %zu "
                           "(--feedback-window); give them one window, or drop window:",
                           path, r->name, (long long)r->window_rows,
                           o->feedback_window ? o->feedback_window : (size_t)1000);
        if (r->source == KN_ALERT_FEEDBACK) continue;
        if (r->source == KN_ALERT_OPS && !(o->ops_interval_s > 0))
            return kn_fail(KN_ERR_INVALID,
                           "%s: rule '%s' watches '%s', an operational series: give "
                           "--ops-interval SECONDS",
                           path, r->name, r->metric);
        if (r->source == KN_ALERT_DRIFT && !o->drift_window)
            return kn_fail(KN_ERR_INVALID,
                           "%s: rule '%s' watches '%s', which is measured per drift window: "
                           "give --drift-window N",
                           path, r->name, r->metric);
        if (r->window_rows && (size_t)r->window_rows != o->drift_window)
            return kn_fail(KN_ERR_INVALID,
                           "%s: rule '%s' has window %lld rows, the server %zu "
                           "(--drift-window); give them one window, or drop window:",
                           path, r->name, (long long)r->window_rows, o->drift_window);
        if (!r->column || r->source != KN_ALERT_DRIFT) continue;
        int found = 0;
        const char *hint = NULL;
        size_t best = SIZE_MAX;
        for (size_t k = 0; !found && k < n_slots; k++) {
            kn__serve_snap *sn = atomic_load(&slots[k].snap[KN__SNAP_MAIN]);
            for (size_t j = 0; sn && j < sn->m.in.n; j++) {
                size_t d = kn_name_distance(r->column, sn->m.in.names[j]);
                if (d < best) best = d, hint = sn->m.in.names[j];
                found |= !strcmp(sn->m.in.names[j], r->column);
            }
        }
        int close = hint && kn_name_is_close(r->column, best);
        if (!found)
            return kn_fail(KN_ERR_INVALID,
                           "%s: rule '%s' watches column '%s', which is not an input column of "
                           "a served model%s%s%s",
                           path, r->name, r->column, close ? " (did you mean '" : "",
                           close ? hint : "", close ? "'?)" : "");
    }
    return KN_OK;
}
