/* The retrain: actions of the server's alert rules (watch-impl.h): a rule
 * whose incident opens runs `kiln monitor retrain` as a child; a thread
 * waits for it and hands the result back through the watcher's queue, so
 * the incident is delivered once, with the outcome. Open incidents that no
 * retrain was started for (an earlier run stopped first) are picked up at
 * start. */
#include "kiln/log.h"
#include "kiln/mem.h"
#include "serve/watch-impl.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

void kn__watch_retrain_free(retrain *t)
{
    if (!t) return;
    kn_free(t->name), kn_free(t->model), kn_free(t->scope), kn_free(t->detail);
    for (size_t i = 0; t->argv && t->argv[i]; i++) kn_free(t->argv[i]);
    kn_free(t->argv);
    kn_free(t->result);
    kn_free(t);
}

void kn__watch_resume_free(resume *r)
{
    if (!r) return;
    kn_free(r->name), kn_free(r->model), kn_free(r->scope), kn_free(r->detail);
    kn_free(r);
}

/* ---- retrain: actions ---- */

/* The child's standard output, whole (new, kn_free; NULL when none). */
static char *read_all(int fd)
{
    size_t cap = 4096, n = 0;
    char *buf = kn_malloc(cap);
    while (buf) {
        if (n + 1 >= cap) {
            char *grown = cap < (1u << 24) ? kn_realloc(buf, cap * 2) : NULL;
            if (!grown) break;
            buf = grown, cap *= 2;
        }
        ssize_t got = read(fd, buf + n, cap - n - 1);
        if (got < 0 && errno == EINTR) continue;
        if (got <= 0) break;
        n += (size_t)got;
    }
    if (buf) buf[n] = 0;
    return buf;
}

static void *retrain_main(void *arg)
{
    retrain *t = arg;
    int fd[2];
    pid_t pid = -1;
    t->status = -1;
    if (pipe(fd) == 0) {
        /* not inherited by another child; dup2 makes the child's stdout */
        fcntl(fd[0], F_SETFD, FD_CLOEXEC);
        fcntl(fd[1], F_SETFD, FD_CLOEXEC);
        posix_spawn_file_actions_t fa;
        posix_spawn_file_actions_init(&fa);
        posix_spawn_file_actions_adddup2(&fa, fd[1], 1);
        posix_spawn_file_actions_addclose(&fa, fd[0]);
        posix_spawn_file_actions_addclose(&fa, fd[1]);
        int rc = posix_spawn(&pid, t->argv[0], &fa, NULL, t->argv, environ);
        posix_spawn_file_actions_destroy(&fa);
        close(fd[1]);
        if (rc == 0) {
            pthread_mutex_lock(&t->w->mu);
            t->pid = pid;
            pthread_mutex_unlock(&t->w->mu);
            t->result = read_all(fd[0]);
            /* wait without reaping, forget the pid, then reap: kn__watch_stop
             * may signal it meanwhile, never a reused pid */
            siginfo_t info;
            while (waitid(P_PID, (id_t)pid, &info, WEXITED | WNOWAIT) < 0 && errno == EINTR) {
            }
            pthread_mutex_lock(&t->w->mu);
            t->pid = 0;
            pthread_mutex_unlock(&t->w->mu);
            int st = 0;
            while (waitpid(pid, &st, 0) < 0 && errno == EINTR) {
            }
            t->status = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
            if (WIFSIGNALED(st))
                kn_log(KN_LOG_WARN, "serve: retrain of '%s' ended by signal %d", t->name,
                       WTERMSIG(st));
        } else
            kn_log(KN_LOG_WARN, "serve: retrain of '%s': cannot start %s: %s", t->name, t->argv[0],
                   strerror(rc));
        close(fd[0]);
    }
    /* the incident goes to the sinks from the monitoring thread, with it;
     * queued before this retrain leaves the running ones, so a stopping
     * watcher (which waits for those) still takes it */
    kn__watch *w = t->w;
    job *j = kn_calloc(1, sizeof *j);
    if (j) j->done = t;
    int queued = j && kn__watch_push(w, j);
    pthread_mutex_lock(&w->mu);
    for (retrain **p = &w->retrains; *p; p = &(*p)->next)
        if (*p == t) {
            *p = t->next;
            break;
        }
    pthread_mutex_unlock(&w->mu);
    if (!queued) {
        kn_log(KN_LOG_WARN,
               "serve: retrain of '%s' ended (exit %d), its incident not delivered: "
               "the monitoring queue is full or stopped",
               t->name, t->status);
        if (j) j->done = NULL;
        kn__watch_job_free(j);
        pthread_detach(pthread_self());
        kn__watch_retrain_free(t);
    }
    return NULL;
}

/* Whether a retrain runs for the rule's incident of (model, scope) now:
 * its delivery waits for the result. */
int kn__watch_retrain_pending(kn__watch *w, size_t rule, const char *model, const char *scope)
{
    int found = 0;
    pthread_mutex_lock(&w->mu);
    for (const retrain *t = w->retrains; t && !found; t = t->next)
        found = t->rule == rule && !strcmp(t->model, model) &&
                !strcmp(t->scope ? t->scope : "", scope ? scope : "");
    for (const resume *r = w->resumes; r && !found; r = r->next)
        found = r->rule == rule && !strcmp(r->model, model) &&
                !strcmp(r->scope ? r->scope : "", scope ? scope : "");
    pthread_mutex_unlock(&w->mu);
    return found;
}

/* Start rule r's retrain: for its incident that opened in detail: 1
 * started (the delivery waits for it); 0 not, with detail's "retrain"
 * saying why (skipped: another of the model runs; failed: it could not
 * start). */
int kn__watch_retrain_start(kn__watch *w, size_t rule, const kn_alert_rule *r, const char *model,
                            const char *scope, json_t *detail, int64_t resumed)
{
    const char *at = strchr(model, '@');
    char *name = at ? kn_strndup(model, (size_t)(at - model)) : kn_strdup(model);
    const char *why = NULL;
    pthread_mutex_lock(&w->mu);
    for (const retrain *t = w->retrains; t && !why && name; t = t->next)
        if (!strcmp(t->name, name)) why = "another retrain of the model is running (one at a time)";
    if (!why && w->no_retrains) why = "the server is stopping";
    pthread_mutex_unlock(&w->mu);
    retrain *t = NULL;
    json_t *inc = json_object_get(detail, "incident");
    char *id = json_is_integer(inc)
                   ? kn_sprintf("%lld", (long long)json_integer_value(inc))
                   : kn_strdup(json_string_value(inc) ? json_string_value(inc) : "?");
    char *text = json_dumps(detail, JSON_COMPACT | JSON_SORT_KEYS);
    if (!why && name && id && text && (t = kn_calloc(1, sizeof *t))) {
        t->w = w;
        t->rule = rule;
        t->resumed = resumed;
        t->name = name, name = NULL;
        t->model = kn_strdup(model);
        t->scope = scope ? kn_strdup(scope) : NULL;
        t->detail = kn_strdup(text);
        t->argv = kn_calloc(24, sizeof *t->argv);
        size_t n = 0;
        if (t->argv) {
            const char *fixed[] = {w->retrain_exe, "--json",          "-q",
                                   "monitor",      "retrain",         "--model",
                                   t->name,        "--spec",          r->retrain_spec,
                                   "--holdout",    r->retrain_holdout};
            for (size_t i = 0; i < sizeof fixed / sizeof *fixed; i++)
                t->argv[n++] = kn_strdup(fixed[i]);
            t->argv[n++] = kn_strdup("--margin");
            t->argv[n++] = kn_sprintf("%.17g", r->retrain_margin);
            if (r->retrain_data)
                t->argv[n++] = kn_strdup("--data"), t->argv[n++] = kn_strdup(r->retrain_data);
            if (w->store_dir)
                t->argv[n++] = kn_strdup("--store"), t->argv[n++] = kn_strdup(w->store_dir);
            t->argv[n++] = kn_strdup("--incident");
            t->argv[n++] = kn_sprintf("rule %s, incident %s", r->name, id);
            t->argv[n++] = kn_strdup("--trigger");
            t->argv[n++] = kn_strdup(text);
        }
        int ok = t->model && t->detail && t->argv && (!scope || t->scope);
        for (size_t i = 0; ok && i < n; i++) ok = t->argv[i] != NULL;
        pthread_mutex_lock(&w->mu);
        if (ok && !w->no_retrains && pthread_create(&t->thread, NULL, retrain_main, t) == 0) {
            t->next = w->retrains;
            w->retrains = t;
        } else {
            why = w->no_retrains ? "the server is stopping" : "it could not start";
            ok = 0;
        }
        pthread_mutex_unlock(&w->mu);
        if (!ok) kn__watch_retrain_free(t), t = NULL;
    } else if (!why)
        why = "out of memory";
    free(text);
    kn_free(id), kn_free(name);
    if (t) {
        kn_log(KN_LOG_INFO, "serve: rule '%s': retrain of '%s' started for its incident%s", r->name,
               model, resumed ? " (open since an earlier run, which started none)" : "");
        return 1;
    }
    kn_log(KN_LOG_WARN, "serve: rule '%s': retrain not started: %s", r->name, why);
    json_object_set_new(
        detail, "retrain",
        json_pack("{s:s, s:s, s:b}", "outcome", "skipped", "reason", why, "promoted", 0));
    return 0;
}

typedef struct delivered_q {
    int64_t id;
    int delivered;
} delivered_q;

static int on_incident(const kn_alert_incident *a, void *user)
{
    delivered_q *q = user;
    if (a->id != q->id) return 0;
    q->delivered = a->delivered > 0;
    return 1;
}

/* Whether a sink took the store's incident id of model. */
static int incident_delivered(kn__watch *w, const char *model, int64_t id)
{
    delivered_q q = {id, 0};
    if (kn_store_alerts(w->store, model, 0, on_incident, &q) != KN_OK)
        kn_log(KN_LOG_WARN, "serve: incident %lld: the store: %s", (long long)id, kn_last_error());
    return q.delivered;
}

/* A retrain ended: its incident, with the result, to the sinks. */
void kn__watch_retrain_done(kn__watch *w, retrain *t)
{
    pthread_join(t->thread, NULL);
    const kn_alert_rule *r = &w->cfg->rules[t->rule];
    json_t *detail = json_loads(t->detail, 0, NULL);
    json_t *res = t->result ? json_loads(t->result, 0, NULL) : NULL;
    if (!json_is_object(res)) {
        json_decref(res);
        res = json_pack("{s:s, s:s, s:b}", "outcome", "failed", "reason",
                        t->stopped ? "the server stopped: the retrain ran past --retrain-grace "
                                     "and was stopped"
                                   : "kiln monitor retrain gave no result (see the server's "
                                     "standard error)",
                        "promoted", 0);
    }
    const char *outcome = json_string_value(json_object_get(res, "outcome"));
    const char *reason = json_string_value(json_object_get(res, "reason"));
    kn_log(t->status == 0 || t->status == 1 ? KN_LOG_INFO : KN_LOG_WARN,
           "serve: rule '%s': retrain %lld of '%s' %s (version %lld, promoted %s): %s", r->name,
           (long long)json_integer_value(json_object_get(res, "retrain")), t->name,
           outcome ? outcome : "?", (long long)json_integer_value(json_object_get(res, "version")),
           json_is_true(json_object_get(res, "promoted")) ? "yes" : "no", reason ? reason : "");
    if (!detail) {
        json_decref(res);
        return;
    }
    json_object_del(res, "command");
    json_object_set_new(detail, "retrain", res);
    int send = w->cfg->n_sinks > 0;
    if (send && t->resumed && incident_delivered(w, t->model, t->resumed)) {
        kn_log(KN_LOG_INFO,
               "serve: rule '%s': incident %lld was delivered before its retrain ran (in an "
               "earlier run); not sent again",
               r->name, (long long)t->resumed);
        send = 0;
    }
    if (send) kn__watch_deliver(w, t->rule, t->model, t->scope, detail, "");
    json_decref(detail);
}

/* ---- retrains picked up at start ---- */

typedef struct open_incidents {
    kn__watch *w;
    const char *model, *name;
    kn_status e;
} open_incidents;

/* An incident of a served model: when open and of a rule with retrain:
 * without a trigger of its key in the audit trail, to w->resumes. */
static int on_open_incident(const kn_alert_incident *a, void *user)
{
    open_incidents *q = user;
    kn__watch *w = q->w;
    if (a->closed > 0 || strcmp(a->model, q->model)) return 0;
    size_t i = 0;
    while (i < w->cfg->n_rules &&
           (strcmp(w->cfg->rules[i].name, a->rule) || !w->cfg->rules[i].retrain_spec))
        i++;
    if (i == w->cfg->n_rules) return 0;
    char key[320];
    snprintf(key, sizeof key, "rule %s, incident %lld", a->rule, (long long)a->id);
    int64_t started = 0;
    q->e = kn_store_retrain_keyed(w->store, q->name, key, &started);
    if (q->e != KN_OK) return 1;
    if (started) return 0; /* once per incident: never again */
    json_t *d = json_loads(a->detail, 0, NULL);
    char since[32];
    time_t secs = (time_t)a->opened;
    struct tm tm;
    if (!gmtime_r(&secs, &tm) || !strftime(since, sizeof since, "%Y-%m-%dT%H:%M:%SZ", &tm))
        snprintf(since, sizeof since, "-");
    if (!json_is_object(d)) json_decref(d), d = json_object();
    json_object_set_new(d, "incident", json_integer(a->id));
    json_object_set_new(d, "since", json_string(since));
    json_object_set_new(d, "resumed", json_true());
    char *text = d ? json_dumps(d, JSON_COMPACT | JSON_SORT_KEYS) : NULL;
    json_decref(d);
    resume *r = text ? kn_calloc(1, sizeof *r) : NULL;
    int main_scope = !a->scope || !strcmp(a->scope, "main");
    if (r) {
        r->rule = i;
        r->incident = a->id;
        r->name = kn_strdup(q->name);
        r->model = kn_strdup(a->model);
        r->scope = main_scope ? NULL : kn_strdup(a->scope);
        r->detail = kn_strdup(text);
    }
    free(text);
    if (!r || !r->name || !r->model || !r->detail || (!main_scope && !r->scope)) {
        kn__watch_resume_free(r);
        q->e = KN_ERR_NOMEM;
        return 1;
    }
    kn_log(KN_LOG_INFO,
           "serve: rule '%s': incident %lld of '%s'%s%s is open and no retrain was started for "
           "it: its retrain runs now",
           a->rule, (long long)a->id, a->model, main_scope ? "" : " scope ",
           main_scope ? "" : a->scope);
    pthread_mutex_lock(&w->mu);
    resume **end = &w->resumes;
    while (*end) end = &(*end)->next;
    *end = r;
    pthread_mutex_unlock(&w->mu);
    return 0;
}

/* The open incidents of the served models' retrain rules that no retrain
 * was started for: to w->resumes, oldest first. */
kn_status kn__watch_resume_collect(kn__watch *w, const kn__serve_slot *slots, size_t n_slots)
{
    int any = 0;
    for (size_t i = 0; w->cfg && i < w->cfg->n_rules; i++)
        any |= w->cfg->rules[i].retrain_spec != NULL;
    if (!any || !w->store) return KN_OK;
    kn_status e = KN_OK;
    for (size_t k = 0; e == KN_OK && k < n_slots; k++) {
        const char *ref = slots[k].ref;
        if (!ref) continue; /* from a file: no retrain (refused at start) */
        const char *at = strchr(ref, '@');
        char *name = at ? kn_strndup(ref, (size_t)(at - ref)) : kn_strdup(ref);
        open_incidents q = {w, ref, name, KN_OK};
        e = name ? kn_store_alerts(w->store, ref, 0, on_open_incident, &q) : KN_ERR_NOMEM;
        kn_free(name);
        if (e == KN_OK) e = q.e;
    }
    /* newest first from the store: the oldest incident's retrain first */
    resume *rev = NULL;
    pthread_mutex_lock(&w->mu);
    while (w->resumes) {
        resume *r = w->resumes;
        w->resumes = r->next;
        r->next = rev;
        rev = r;
    }
    w->resumes = rev;
    pthread_mutex_unlock(&w->mu);
    return e;
}

/* Start the picked-up retrains whose model has none running (the others
 * wait for it to end). */
void kn__watch_resume_next(kn__watch *w)
{
    for (;;) {
        resume *r = NULL;
        pthread_mutex_lock(&w->mu);
        for (resume **p = &w->resumes; *p; p = &(*p)->next) {
            int busy = 0;
            for (const retrain *t = w->retrains; t && !busy; t = t->next)
                busy = !strcmp(t->name, (*p)->name);
            if (!busy) {
                r = *p;
                *p = r->next; /* taken off the list */
                break;
            }
        }
        pthread_mutex_unlock(&w->mu);
        if (!r) return;
        json_t *detail = json_loads(r->detail, 0, NULL);
        const kn_alert_rule *rule = &w->cfg->rules[r->rule];
        if (detail &&
            !kn__watch_retrain_start(w, r->rule, rule, r->model, r->scope, detail, r->incident))
            kn_log(
                KN_LOG_WARN, "serve: rule '%s': the retrain of incident %lld did not start: %s",
                rule->name, (long long)r->incident,
                json_string_value(json_object_get(json_object_get(detail, "retrain"), "reason")));
        json_decref(detail);
        kn__watch_resume_free(r);
    }
}
