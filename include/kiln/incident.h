/* Alert incidents: what kiln monitor (check, ops, anomalies, feedback) and
 * kiln serve --alerts do with a rule's value on each window. One engine:
 * the consecutive-window streak per rule and scope, an incident opened
 * once when the streak reaches the rule's `for` and closed once by the
 * first window that does not fire, and its delivery to the sinks (log and
 * webhooks) until every webhook took it.
 *
 *     kn_incident_opts o;
 *     kn_incident_opts_init(&o);
 *     o.store = store;                       // or NULL: in memory
 *     kn_incidents *t = NULL;
 *     kn_incidents_new(cfg, &o, &t);
 *     // per window, per rule i:
 *     json_t *d = kn_incident_detail(&cfg->rules[i], "credit", v, col, k, "new.csv");
 *     kn_incident_step st;
 *     kn_incidents_observe(t, i, "credit", NULL, kn_alert_fires(&cfg->rules[i], v), k, d, &st);
 *     if (st.send) kn_incidents_deliver(t, i, "credit", NULL, d, &ok, &tries);
 *     json_decref(d);
 *     kn_incidents_free(t);
 *
 * Scope: one model's windows can come from several streams (kiln serve: the
 * main version and a canary). Each (rule, model, scope) has its own streak
 * and incident, so a canary's windows never prolong or close the main's
 * incident. scope NULL (or "") is the model's own stream, "main"; in the
 * store the scope is a column of monitor_rule_state / monitor_alerts
 * (kn_store_alert_observe_scoped), so `kiln monitor alerts --model MODEL`
 * lists every scope's incidents with their scope, and `--model
 * MODEL#canary` a canary's.
 *
 * With a store the streaks and incidents live in it (kn_store_alert_observe_scoped:
 * they span runs, and an incident no webhook took is sent again with the
 * next window while it is open); without one in memory, with ids
 * "RULE@windowK" (K the window it opened in; "RULE@MODEL[#SCOPE]@windowK"
 * with kn_incident_opts.id_names_model), sent again likewise.
 *
 * Threading: a kn_incidents is used by one thread at a time.
 */
#ifndef KILN_INCIDENT_H
#define KILN_INCIDENT_H

#include "kiln/alert.h"
#include "kiln/store.h"

#ifdef __cplusplus
extern "C" {
#endif

struct json_t; /* jansson's value */

typedef struct kn_incidents kn_incidents;

typedef struct kn_incident_opts {
    kn_store *store; /* borrowed: outlives the engine; NULL: in memory */
    /* The log sink: called with the incident's JSON text; NULL: kn_log at
     * KN_LOG_WARN, "alert: {...}". */
    void (*log_sink)(const char *json, void *user);
    void *log_user;
    int id_names_model; /* in memory: ids name the model (and scope) */
} kn_incident_opts;

/* Everything off: no store, the log sink through kn_log. */
KN_API void kn_incident_opts_init(kn_incident_opts *o);

/* Returns a new engine for cfg's rules (borrowed: cfg outlives it); free
 * with kn_incidents_free(). */
KN_API kn_status kn_incidents_new(const kn_alert_config *cfg, const kn_incident_opts *o,
                                  kn_incidents **out);
KN_API void kn_incidents_free(kn_incidents *t);

/* The payload's common part: rule, severity, model, metric, column (null
 * when none), value (null when NaN), condition ("> 0.2"), window, data.
 * Returns a new reference; release with json_decref(). NULL when out of
 * memory. */
KN_API struct json_t *kn_incident_detail(const kn_alert_rule *r, const char *model, double value,
                                         const char *column, int64_t window, const char *data);

/* What one window did to a rule's incident. */
typedef struct kn_incident_step {
    int open;   /* an incident is open after this window */
    int opened; /* it opened with this window */
    int closed; /* an open one closed with this window */
    int send;   /* it still waits for the sinks: call kn_incidents_deliver */
    int64_t id; /* with a store: the open incident's id (0: none) */
} kn_incident_step;

/* Observe rule `rule` (an index into cfg->rules) on one window of (model,
 * scope): `fires` extends the streak, anything else resets it and closes
 * an open incident. While one is open the detail receives "incident" (the
 * store's id, else "RULE@windowK") and "since" (with a store: when it
 * opened, UTC) or "since_window" (in memory). With a store the detail is
 * recorded as the incident's latest. */
KN_API kn_status kn_incidents_observe(kn_incidents *t, size_t rule, const char *model,
                                      const char *scope, int fires, int64_t window,
                                      struct json_t *detail, kn_incident_step *out);

/* Send an open incident's detail to every sink and record the attempts.
 * *ok 1 when every webhook took it (then it is not sent again); else
 * kn_last_error() names the last failure. *attempts receives the HTTP
 * requests made. A store that cannot record the delivery is the error
 * returned. */
KN_API kn_status kn_incidents_deliver(kn_incidents *t, size_t rule, const char *model,
                                      const char *scope, struct json_t *detail, int *ok,
                                      int *attempts);

#ifdef __cplusplus
}
#endif
#endif
