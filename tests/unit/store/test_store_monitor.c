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

int main(void)
{
    const struct CMUnitTest tests[] = {cmocka_unit_test(incidents)};
    return cmocka_run_group_tests(tests, NULL, NULL);
}
