/* store: the monitoring tables (kiln/store.h): a rule's streak opens an
 * incident at `for` firing windows, later firings keep it (one incident,
 * delivered once), a quiet window closes it, the next firing opens a new
 * one; an undelivered incident stays undelivered until a delivery is
 * recorded; checks are kept; incidents list newest first. */
#include "test_util.h"

#include "unit/store/store_util.h"

#include <string.h>

typedef struct seen {
    size_t n;
    int64_t first_id;
    int delivered, closed;
} seen;

static int on_alert(const kn_alert_incident *a, void *user)
{
    seen *s = user;
    if (!s->n++) {
        s->first_id = a->id;
        s->delivered = a->delivered > 0;
        s->closed = a->closed > 0;
    }
    return 0;
}

static void incidents(void **state)
{
    (void)state;
    char dir[128];
    test_store_dir(dir, sizeof dir, "monitor");
    kn_store *s = NULL;
    KN_CHECK(kn_store_open(dir, 1, &s));
    int64_t check = 0;
    KN_CHECK(kn_store_monitor_add(s, "m@production", "a.csv", 500, 500, 1, "{}", &check));
    assert_true(check > 0);
    kn_alert_step st;
    KN_CHECK(kn_store_alert_observe(s, "m", "r", "critical", 1, 2, "{\"w\":1}", &st));
    assert_int_equal(st.incident, 0); /* one firing window of the two needed */
    assert_int_equal(st.streak, 1);
    KN_CHECK(kn_store_alert_observe(s, "m", "r", "critical", 1, 2, "{\"w\":2}", &st));
    assert_true(st.incident > 0 && st.opened && st.undelivered);
    int64_t first = st.incident;
    KN_CHECK(kn_store_alert_delivered(s, first, 0, 3)); /* the sink was down */
    KN_CHECK(kn_store_alert_observe(s, "m", "r", "critical", 1, 2, "{\"w\":3}", &st));
    assert_true(st.incident == first && !st.opened && st.undelivered);
    KN_CHECK(kn_store_alert_delivered(s, first, 1, 1));
    KN_CHECK(kn_store_alert_observe(s, "m", "r", "critical", 1, 2, "{\"w\":4}", &st));
    assert_true(st.incident == first && !st.opened && !st.undelivered);
    KN_CHECK(kn_store_alert_observe(s, "m", "r", "critical", 0, 2, "{\"w\":5}", &st));
    assert_true(st.incident == 0 && st.closed && st.streak == 0);
    seen got = {0};
    KN_CHECK(kn_store_alerts(s, NULL, 0, on_alert, &got));
    assert_int_equal(got.n, 1);
    assert_true(got.delivered && got.closed);
    KN_CHECK(kn_store_alert_observe(s, "m", "r", "critical", 1, 1, "{\"w\":6}", &st));
    assert_true(st.incident > first && st.opened);
    /* another model's rule of the same name is its own */
    KN_CHECK(kn_store_alert_observe(s, "other", "r", "info", 1, 1, "{}", &st));
    assert_true(st.opened);
    memset(&got, 0, sizeof got);
    KN_CHECK(kn_store_alerts(s, "m", 0, on_alert, &got));
    assert_int_equal(got.n, 2);
    assert_true(got.first_id > first && !got.delivered && !got.closed); /* newest first */
    kn_store_close(s);
}

typedef struct scoped {
    size_t n;
    char seen[8][64]; /* "id model scope rule streak-or-closed" */
} scoped;

static int on_scoped(const kn_alert_incident *a, void *user)
{
    scoped *s = user;
    if (s->n < 8)
        snprintf(s->seen[s->n], sizeof s->seen[0], "%s|%s|%s|%s", a->model, a->scope, a->rule,
                 a->closed > 0 ? "closed" : "open");
    s->n++;
    return 0;
}

/* A scope is a stream of its own: the canary's windows neither prolong nor
 * close the main's incident; listing a model gives every scope, MODEL#SCOPE
 * one. */
static void scopes(void **state)
{
    (void)state;
    char dir[128];
    test_store_dir(dir, sizeof dir, "scopes");
    kn_store *s = NULL;
    KN_CHECK(kn_store_open(dir, 1, &s));
    kn_alert_step st;
    KN_CHECK(kn_store_alert_observe_scoped(s, "c@production", NULL, "r", "warn", 1, 2, "{}", &st));
    KN_CHECK(
        kn_store_alert_observe_scoped(s, "c@production", "canary", "r", "warn", 1, 2, "{}", &st));
    assert_int_equal(st.streak, 1); /* not the main's second firing window */
    KN_CHECK(kn_store_alert_observe(s, "c@production", "r", "warn", 1, 2, "{}", &st));
    assert_true(st.opened && st.streak == 2); /* "main", as the scoped call's NULL */
    int64_t main_id = st.incident;
    KN_CHECK(
        kn_store_alert_observe_scoped(s, "c@production", "canary", "r", "warn", 1, 2, "{}", &st));
    assert_true(st.opened && st.incident != main_id);
    KN_CHECK(
        kn_store_alert_observe_scoped(s, "c@production", "canary", "r", "warn", 0, 2, "{}", &st));
    assert_true(st.closed);
    KN_CHECK(
        kn_store_alert_observe_scoped(s, "c@production", "main", "r", "warn", 1, 2, "{}", &st));
    assert_true(st.incident == main_id && !st.opened); /* still open */
    scoped got = {0};
    KN_CHECK(kn_store_alerts(s, "c@production", 0, on_scoped, &got));
    assert_int_equal(got.n, 2);
    assert_string_equal(got.seen[0], "c@production|canary|r|closed");
    assert_string_equal(got.seen[1], "c@production|main|r|open");
    memset(&got, 0, sizeof got);
    KN_CHECK(kn_store_alerts(s, "c@production#canary", 0, on_scoped, &got));
    assert_int_equal(got.n, 1);
    assert_string_equal(got.seen[0], "c@production|canary|r|closed");
    kn_store_close(s);
}

static void exec_sql(sqlite3 *db, const char *sql)
{
    char *err = NULL;
    if (sqlite3_exec(db, sql, NULL, NULL, &err) != SQLITE_OK) fail_msg("%s: %s", sql, err);
}

/* A store of schema 3 (the scope in the model text, MODEL#SCOPE) opened
 * writable: the scope moves to its column ("#canary" and a version's
 * "#<digits>"; any other '#' stays the model's), the streaks go on and an
 * open canary incident stays the one that is open. */
static void upgrade_from_3(void **state)
{
    (void)state;
    char dir[128], path[192];
    test_store_dir(dir, sizeof dir, "scope-v3");
    kn_store *s = NULL;
    KN_CHECK(kn_store_open(dir, 1, &s));
    kn_store_close(s);
    snprintf(path, sizeof path, "%s/kiln.db", dir);
    sqlite3 *db = NULL;
    assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
    exec_sql(db,
             "DROP TABLE monitor_rule_state; DROP TABLE monitor_alerts;"
             "CREATE TABLE monitor_rule_state(model TEXT NOT NULL, rule TEXT NOT NULL,"
             " streak INTEGER NOT NULL, PRIMARY KEY(model, rule)) WITHOUT ROWID;"
             "CREATE TABLE monitor_alerts(id INTEGER PRIMARY KEY, model TEXT NOT NULL,"
             " rule TEXT NOT NULL, severity TEXT NOT NULL, opened REAL NOT NULL,"
             " last_seen REAL NOT NULL, closed REAL, detail TEXT NOT NULL, delivered REAL,"
             " attempts INTEGER NOT NULL DEFAULT 0);"
             "INSERT INTO monitor_rule_state VALUES ('c', 'r', 0), ('c#canary', 'r', 3),"
             " ('c@production#12', 'live', 1), ('runs/a#b.kiln', 'r', 2);"
             "INSERT INTO monitor_alerts(model, rule, severity, opened, last_seen, closed, detail,"
             " delivered) VALUES ('c', 'r', 'warn', 1, 2, 3, '{}', 2),"
             " ('c#canary', 'r', 'warn', 4, 5, NULL, '{}', 4),"
             " ('c@production#12', 'live', 'info', 6, 6, NULL, '{}', NULL),"
             " ('runs/a#b.kiln', 'r', 'warn', 7, 7, NULL, '{}', 7), ('#canary', 'r', 'warn', 8, 8,"
             " 8, '{}', 8);"
             "PRAGMA user_version = 3;");
    sqlite3_close(db);
    KN_CHECK(kn_store_open(dir, 0, &s)); /* a writable open upgrades */
    scoped got = {0};
    KN_CHECK(kn_store_alerts(s, NULL, 0, on_scoped, &got));
    assert_int_equal(got.n, 5);
    assert_string_equal(got.seen[0], "#canary|main|r|closed"); /* no model before the '#' */
    assert_string_equal(got.seen[1], "runs/a#b.kiln|main|r|open");
    assert_string_equal(got.seen[2], "c@production|12|live|open");
    assert_string_equal(got.seen[3], "c|canary|r|open");
    assert_string_equal(got.seen[4], "c|main|r|closed");
    /* the canary's streak of 3 and its open incident go on */
    kn_alert_step st;
    KN_CHECK(kn_store_alert_observe_scoped(s, "c", "canary", "r", "warn", 1, 2, "{}", &st));
    assert_true(st.incident == 2 && !st.opened && !st.undelivered && st.streak == 4);
    KN_CHECK(
        kn_store_alert_observe_scoped(s, "c@production", "12", "live", "info", 1, 1, "{}", &st));
    assert_true(st.incident == 3 && !st.opened && st.undelivered && st.streak == 2);
    KN_CHECK(kn_store_alert_observe(s, "runs/a#b.kiln", "r", "warn", 0, 1, "{}", &st));
    assert_true(st.closed);
    kn_store_close(s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {cmocka_unit_test(incidents), cmocka_unit_test(scopes),
                                       cmocka_unit_test(upgrade_from_3)};
    return cmocka_run_group_tests(tests, NULL, NULL);
}
