/* monitor: alert incidents (kiln/incident.h): a rule's streak opens one
 * incident after `for` windows and the first quiet window closes it, in
 * memory and in the store; each (model, scope) has its own streak and
 * incident, so a canary's windows neither prolong nor close the main's;
 * the log sink gets the incident once, and in memory an id names the
 * window it opened in. */
#include "test_util.h"

#include "../store/store_util.h"
#include "kiln/incident.h"

#include <jansson.h>
#include <math.h>
#include <string.h>

static kn_alert_config *config(void)
{
    const char *yaml = "rules:\n"
                       "  - {name: moved, metric: psi, condition: \"> 0.2\", for: 2}\n"
                       "sinks:\n  - log\n";
    kn_alert_config *c = NULL;
    KN_CHECK(kn_alert_config_parse(yaml, strlen(yaml), "t/alerts.yaml", &c));
    return c;
}

typedef struct logged {
    int n;
    char last[512];
} logged;

static void log_sink(const char *json, void *user)
{
    logged *l = user;
    l->n++;
    snprintf(l->last, sizeof l->last, "%s", json);
}

/* One window of (model, scope): observe, deliver when asked; the step. */
static kn_incident_step window(kn_incidents *t, const kn_alert_config *c, const char *scope,
                               double psi, int64_t k)
{
    json_t *d = kn_incident_detail(&c->rules[0], "m", psi, "x", k, "batch.csv");
    assert_non_null(d);
    kn_incident_step st;
    KN_CHECK(kn_incidents_observe(t, 0, "m", scope, kn_alert_fires(&c->rules[0], psi), k, d, &st));
    if (st.send) {
        int ok = 0, tries = 0;
        KN_CHECK(kn_incidents_deliver(t, 0, "m", scope, d, &ok, &tries));
        assert_int_equal(ok, 1);
        assert_int_equal(tries, 0); /* no webhook */
    }
    json_decref(d);
    return st;
}

/* Main: quiet, moved, moved (opens at 3), moved, quiet (closes at 5); a
 * canary interleaved: moved in 2-5 (opens at 3 too, its own), and its
 * quiet window 4 closes neither. */
static void run(kn_incidents *t, const kn_alert_config *c, const logged *l)
{
    kn_incident_step s;
    s = window(t, c, NULL, 0.01, 1);
    assert_false(s.open);
    s = window(t, c, NULL, 0.5, 2);
    assert_false(s.open); /* for: 2 */
    s = window(t, c, "canary", 0.5, 1);
    assert_false(s.open); /* the canary's streak is its own: 1 */
    s = window(t, c, NULL, 0.5, 3);
    assert_true(s.open && s.opened && s.send);
    assert_int_equal(l->n, 1);
    s = window(t, c, "canary", 0.5, 2);
    assert_true(s.open && s.opened); /* its own incident */
    assert_int_equal(l->n, 2);
    assert_non_null(strstr(l->last, "\"rule\":\"moved\""));
    s = window(t, c, "canary", 0.01, 3);
    assert_true(!s.open && s.closed); /* the canary's closes ... */
    s = window(t, c, NULL, 0.5, 4);
    assert_true(s.open && !s.opened && !s.send); /* ... the main's goes on, sent once */
    s = window(t, c, NULL, 0.01, 5);
    assert_true(!s.open && s.closed);
    s = window(t, c, NULL, 0.01, 6);
    assert_true(!s.open && !s.closed);
    assert_int_equal(l->n, 2);
}

static void test_in_memory(void **state)
{
    (void)state;
    kn_alert_config *c = config();
    logged l = {0};
    kn_incident_opts o;
    kn_incident_opts_init(&o);
    o.log_sink = log_sink;
    o.log_user = &l;
    kn_incidents *t = NULL;
    KN_CHECK(kn_incidents_new(c, &o, &t));
    run(t, c, &l);
    /* ids: the window it opened in */
    json_t *d = kn_incident_detail(&c->rules[0], "m", 0.5, "x", 7, "b");
    kn_incident_step st;
    KN_CHECK(kn_incidents_observe(t, 0, "m", NULL, 1, 7, d, &st));
    KN_CHECK(kn_incidents_observe(t, 0, "m", NULL, 1, 8, d, &st));
    assert_string_equal(json_string_value(json_object_get(d, "incident")), "moved@window8");
    assert_int_equal(json_integer_value(json_object_get(d, "since_window")), 8);
    assert_true(st.send);
    json_decref(d);
    kn_incidents_free(t);
    kn_incidents_free(NULL);
    kn_alert_config_free(c);
}

static int on_incident(const kn_alert_incident *a, void *user)
{
    int *seen = user;
    assert_string_equal(a->rule, "moved");
    assert_true(a->closed > 0 && a->delivered > 0);
    if (!strcmp(a->model, "m") && !strcmp(a->scope, "main"))
        seen[0]++;
    else if (!strcmp(a->model, "m") && !strcmp(a->scope, "canary"))
        seen[1]++;
    else
        fail_msg("an incident of model '%s'", a->model);
    return 0;
}

static void test_in_store(void **state)
{
    (void)state;
    char dir[128];
    test_store_dir(dir, sizeof dir, "incident");
    kn_store *s = NULL;
    KN_CHECK(kn_store_open(dir, 1, &s));
    kn_alert_config *c = config();
    logged l = {0};
    kn_incident_opts o;
    kn_incident_opts_init(&o);
    o.store = s;
    o.log_sink = log_sink;
    o.log_user = &l;
    kn_incidents *t = NULL;
    KN_CHECK(kn_incidents_new(c, &o, &t));
    run(t, c, &l);
    kn_incidents_free(t);
    /* the store keeps both incidents apart, each closed and delivered */
    int seen[2] = {0, 0};
    KN_CHECK(kn_store_alerts(s, NULL, 0, on_incident, seen));
    assert_int_equal(seen[0], 1);
    assert_int_equal(seen[1], 1);
    kn_store_close(s);
    kn_alert_config_free(c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_in_memory),
        cmocka_unit_test(test_in_store),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
