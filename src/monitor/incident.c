/* Alert incidents (kiln/incident.h): streaks per rule and scope, incidents
 * opened and closed once, delivery to the sinks. */
#include "kiln/incident.h"
#include "kiln/log.h"
#include "kiln/mem.h"

#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* A rule's state for one stream without a store. */
typedef struct streak {
    size_t rule;
    char *key;                         /* the stream (in memory): MODEL or MODEL#SCOPE */
    int64_t streak, open, undelivered; /* open: the window it opened in (0: none) */
} streak;

struct kn_incidents {
    const kn_alert_config *cfg;
    kn_incident_opts o;
    streak *streaks;
    size_t n_streaks;
};

void kn_incident_opts_init(kn_incident_opts *o)
{
    memset(o, 0, sizeof *o);
}

kn_status kn_incidents_new(const kn_alert_config *cfg, const kn_incident_opts *o,
                           kn_incidents **out)
{
    kn_incidents *t = kn_calloc(1, sizeof *t);
    if (!t) return KN_ERR_NOMEM;
    t->cfg = cfg;
    if (o) t->o = *o;
    *out = t;
    return KN_OK;
}

void kn_incidents_free(kn_incidents *t)
{
    if (!t) return;
    for (size_t i = 0; i < t->n_streaks; i++) kn_free(t->streaks[i].key);
    kn_free(t->streaks);
    kn_free(t);
}

static const char *op_text(kn_alert_op op)
{
    return op == KN_ALERT_GT ? ">" : op == KN_ALERT_GE ? ">=" : op == KN_ALERT_LT ? "<" : "<=";
}

json_t *kn_incident_detail(const kn_alert_rule *r, const char *model, double value,
                           const char *column, int64_t window, const char *data)
{
    char cond[64];
    snprintf(cond, sizeof cond, "%s %.15g", op_text(r->op), r->threshold);
    return json_pack("{s:s, s:s, s:s, s:s, s:o, s:o, s:s, s:I, s:s}", "rule", r->name, "severity",
                     r->severity, "model", model, "metric", r->metric, "column",
                     column ? json_string(column) : json_null(), "value",
                     isfinite(value) ? json_real(value) : json_null(), "condition", cond, "window",
                     (json_int_t)window, "data", data);
}

/* The stream's key: MODEL, or MODEL#SCOPE (new, kn_free). */
static char *stream_key(const char *model, const char *scope)
{
    return scope && *scope ? kn_sprintf("%s#%s", model, scope) : kn_strdup(model);
}

static streak *find_streak(kn_incidents *t, size_t rule, const char *key)
{
    for (size_t i = 0; i < t->n_streaks; i++)
        if (t->streaks[i].rule == rule && !strcmp(t->streaks[i].key, key)) return &t->streaks[i];
    streak *grown = kn_realloc(t->streaks, (t->n_streaks + 1) * sizeof *grown);
    if (!grown) return NULL;
    t->streaks = grown;
    streak *s = &grown[t->n_streaks];
    memset(s, 0, sizeof *s);
    s->rule = rule;
    if (!(s->key = kn_strdup(key))) return NULL;
    t->n_streaks++;
    return s;
}

static void iso_time(double t, char *buf, size_t cap)
{
    time_t secs = (time_t)t;
    struct tm tm;
    if (!gmtime_r(&secs, &tm) || !strftime(buf, cap, "%Y-%m-%dT%H:%M:%SZ", &tm))
        snprintf(buf, cap, "-");
}

kn_status kn_incidents_observe(kn_incidents *t, size_t rule, const char *model, const char *scope,
                               int fires, int64_t window, json_t *detail, kn_incident_step *out)
{
    memset(out, 0, sizeof *out);
    if (!t->cfg || rule >= t->cfg->n_rules)
        return kn_fail(KN_ERR_INVALID, "alert incidents: no rule %zu", rule);
    const kn_alert_rule *r = &t->cfg->rules[rule];
    char *key = stream_key(model, scope);
    if (!key) return KN_ERR_NOMEM;
    kn_status e = KN_OK;
    if (t->o.store) {
        char *text = json_dumps(detail, JSON_COMPACT | JSON_SORT_KEYS);
        kn_alert_step st;
        e = text ? kn_store_alert_observe_scoped(t->o.store, model, scope, r->name, r->severity,
                                                 fires, r->for_windows, text, &st)
                 : KN_ERR_NOMEM;
        free(text);
        if (e == KN_OK && st.incident) {
            char since[32];
            iso_time(st.since, since, sizeof since);
            json_object_set_new(detail, "incident", json_integer(st.incident));
            json_object_set_new(detail, "since", json_string(since));
            out->open = 1;
            out->opened = st.opened;
            out->send = st.undelivered;
            out->id = st.incident;
        }
        if (e == KN_OK) out->closed = st.closed;
    } else {
        streak *s = find_streak(t, rule, key);
        if (!s)
            e = KN_ERR_NOMEM;
        else {
            s->streak = fires ? s->streak + 1 : 0;
            if (fires && s->streak >= r->for_windows) {
                if (!s->open) s->open = window, s->undelivered = 1, out->opened = 1;
                char *id = t->o.id_names_model
                               ? kn_sprintf("%s@%s@window%lld", r->name, key, (long long)s->open)
                               : kn_sprintf("%s@window%lld", r->name, (long long)s->open);
                if (!id) {
                    kn_free(key);
                    return KN_ERR_NOMEM;
                }
                json_object_set_new(detail, "incident", json_string(id));
                json_object_set_new(detail, "since_window", json_integer(s->open));
                kn_free(id);
                out->open = 1;
                out->send = (int)s->undelivered;
            } else {
                out->closed = s->open != 0;
                s->open = 0, s->undelivered = 0;
            }
        }
    }
    kn_free(key);
    return e;
}

kn_status kn_incidents_deliver(kn_incidents *t, size_t rule, const char *model, const char *scope,
                               json_t *detail, int *ok, int *attempts)
{
    *ok = 1;
    *attempts = 0;
    char *body = json_dumps(detail, JSON_COMPACT | JSON_SORT_KEYS);
    if (!body) {
        *ok = 0;
        return KN_ERR_NOMEM;
    }
    char *failure = NULL;
    for (size_t i = 0; i < t->cfg->n_sinks; i++) {
        const kn_alert_sink *s = &t->cfg->sinks[i];
        if (s->kind == KN_SINK_LOG) {
            if (t->o.log_sink)
                t->o.log_sink(body, t->o.log_user);
            else
                kn_log(KN_LOG_WARN, "alert: %s", body);
            continue;
        }
        int tries = 0;
        kn_status e = kn_webhook_post(s->url, body, s->retries, s->backoff_s, s->timeout_s, &tries);
        *attempts += tries;
        if (e != KN_OK) {
            kn_free(failure);
            failure = kn_strdup(kn_last_error());
            *ok = 0;
        }
    }
    free(body);
    kn_status e = KN_OK;
    if (t->o.store) {
        json_int_t id = json_integer_value(json_object_get(detail, "incident"));
        e = kn_store_alert_delivered(t->o.store, id, *ok, *attempts);
    } else if (*ok) {
        char *key = stream_key(model, scope);
        streak *s = key ? find_streak(t, rule, key) : NULL;
        kn_free(key);
        if (!s) e = KN_ERR_NOMEM;
        if (s) s->undelivered = 0;
    }
    if (e == KN_OK && !*ok)
        kn_fail(KN_ERR_IO, "%s", failure ? failure : "a webhook did not take the alert");
    kn_free(failure);
    return e;
}
