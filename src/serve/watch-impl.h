/* What the server's watcher (watch.c) and its retrains (watch_retrain.c)
 * share: the queue's jobs, a running retrain, a retrain picked up at start,
 * the watcher itself. */
#ifndef KILN_SERVE_WATCH_IMPL_H
#define KILN_SERVE_WATCH_IMPL_H

#include "kiln/alert.h"
#include "kiln/incident.h"
#include "kiln/store.h"
#include "serve/serve-impl.h"

#include <jansson.h>
#include <sys/types.h>

typedef struct job {
    struct job *next;
    int ops;                      /* 1: an operational interval; 0: a drift window */
    int feedback;                 /* 1: a window of feedback labels (in, w.model, w.version) */
    int resume;                   /* 1: start the picked-up retrains (w->resumes) */
    struct retrain *done;         /* a retrain that ended: deliver its incident */
    unsigned long long fwindow;   /* feedback: the version's window number */
    kn__drift *d;                 /* drift: whose window to test */
    unsigned long long end;       /* drift: the window's end (its rows are numbered below it) */
    struct kn__serve_snap *owner; /* drift: the version it belongs to (a reference), or NULL */
    kn__watch_window w;           /* drift: the results, once tested */
    kn_alert_inputs in;           /* ops */
    char *events;                 /* ops: the events going on (JSON array text) */
    char *rec_model, *rec_result; /* an ops interval's record: its model and JSON text */
    uint64_t rec_rows;
    int rec_drift;
} job;

/* A rule's retrain: action running for an incident: a thread waits for
 * the child `kiln monitor retrain`; its result goes back through the
 * queue, so the incident is delivered (once) with it, as the CLI does. */
typedef struct retrain {
    struct retrain *next;
    struct kn__watch *w;
    pthread_t thread;
    size_t rule;
    char *name;          /* the registered model it retrains */
    char *model, *scope; /* the incident's stream (scope NULL: the model's own) */
    char *detail;        /* the incident as it opened (JSON text) */
    char **argv;         /* the child's */
    char *result;        /* its JSON answer, once it ended (or NULL) */
    int status;          /* its exit status */
    pid_t pid;           /* the child while it runs and is not reaped (under w->mu), else 0 */
    int stopped;         /* the server's stop sent it a signal (under w->mu) */
    int64_t resumed;     /* picked up at start: its incident's id (delivered only if no sink
                            took it before); 0: opened in this run */
} retrain;

/* An open incident of a rule with retrain: of a served model that no
 * retrain was started for (an earlier run stopped before it started one,
 * or started it while another retrain of the model ran), picked up at
 * start: its retrain runs when none of the model runs. */
typedef struct resume {
    struct resume *next;
    size_t rule;
    int64_t incident;
    char *name;          /* the registered model */
    char *model, *scope; /* the incident's stream (scope NULL: main) */
    char *detail;        /* the incident's detail as the store has it, with incident and since */
} resume;

struct kn__watch {
    pthread_mutex_t mu;
    pthread_cond_t cond;
    pthread_t thread;
    int running, stop;
    job *head, *tail; /* tested windows and intervals: for the store and the rules */
    size_t depth;
    /* the tester: a thread of its own tests the drift windows, so a slow
     * store or webhook never holds a window back (the copies wait there) */
    pthread_cond_t tcond;
    pthread_t tester;
    int testing, tstop;
    job *thead, *ttail;
    kn_store *store;      /* recording (and incidents), or NULL */
    kn_alert_config *cfg; /* or NULL */
    /* the thread's own: streaks, incidents, sinks (kiln/incident.h) */
    kn_incidents *inc;
    /* retrain: actions (under mu): the kiln binary, the store's folder as
     * given (NULL: the default), the ones running, and whether more may start */
    char *retrain_exe, *store_dir;
    double grace_s; /* on stop: how long running retrains may take before SIGTERM */
    retrain *retrains;
    resume *resumes; /* picked up at start, not started yet */
    int no_retrains;
    /* counters (under mu) */
    unsigned long long recorded, record_errors, dropped, windows, intervals;
    unsigned long long *incidents, *open_now, delivered, delivery_failed;
};

/* 1 queued; 0 dropped (the job is the caller's again). */
int kn__watch_push(kn__watch *w, job *j);
void kn__watch_job_free(job *j);
/* An open incident to the sinks, counted; `again` says what happens to one
 * not delivered. */
void kn__watch_deliver(kn__watch *w, size_t rule, const char *model, const char *scope,
                       json_t *detail, const char *again);

/* watch_retrain.c */
void kn__watch_retrain_free(retrain *t);
void kn__watch_resume_free(resume *r);
/* Whether a retrain runs for the rule's incident of (model, scope) now:
 * its delivery waits for the result. */
int kn__watch_retrain_pending(kn__watch *w, size_t rule, const char *model, const char *scope);
/* Start rule r's retrain: for its incident that opened in detail: 1
 * started (the delivery waits for it); 0 not, with detail's "retrain"
 * saying why (skipped: another of the model runs; failed: it could not
 * start). resumed: the incident's id when picked up at start, else 0. */
int kn__watch_retrain_start(kn__watch *w, size_t rule, const kn_alert_rule *r, const char *model,
                            const char *scope, json_t *detail, int64_t resumed);
/* A retrain ended (its job came back through the queue): deliver its
 * incident with the result. */
void kn__watch_retrain_done(kn__watch *w, retrain *t);
/* The open incidents of the served models' retrain rules that no retrain
 * was started for (w->resumes). */
kn_status kn__watch_resume_collect(kn__watch *w, const kn__serve_slot *slots, size_t n_slots);
/* Start the picked-up retrains whose model has none running. */
void kn__watch_resume_next(kn__watch *w);

#endif
