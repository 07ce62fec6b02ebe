/* store: a retrain's claim and steps in the audit trail (kiln/store.h):
 * one retrain of a model at a time, one per key (incident), an unended one
 * older than stale_s counts as abandoned; steps append rows naming their
 * retrain; bad calls change nothing. */
#include "test_util.h"

#include "unit/store/store_util.h"

#include <string.h>

typedef struct rows {
    size_t n, triggers, ends;
    char first_action[64], first_detail[512];
} rows;

static int on_audit(const kn_audit_entry *e, void *user)
{
    rows *r = user;
    if (!r->n++) {
        snprintf(r->first_action, sizeof r->first_action, "%s", e->action);
        snprintf(r->first_detail, sizeof r->first_detail, "%s", e->detail ? e->detail : "");
    }
    r->triggers += !strcmp(e->action, "retrain trigger");
    r->ends += !strcmp(e->action, "retrain refused") || !strcmp(e->action, "retrain promoted") ||
               !strcmp(e->action, "retrain failed");
    return 0;
}

static rows audit_of(kn_store *s)
{
    rows r;
    memset(&r, 0, sizeof r);
    KN_CHECK(kn_store_audit(s, "m", 0, on_audit, &r));
    return r;
}

static void claims(void **state)
{
    (void)state;
    char dir[128];
    test_store_dir(dir, sizeof dir, "retrain");
    kn_store *s = NULL;
    KN_CHECK(kn_store_open(dir, 1, &s));
    test_run t;
    static const double folds[5] = {0.8, 0.81, 0.79, 0.8, 0.82};
    test_run_init(&t, "e", 0.8, folds);
    char *run = NULL;
    KN_CHECK(kn_store_add_run(s, &t.info, "pretend artifact", 16, &run));
    kn_gate_opts o;
    kn_gate_opts_default(&o);
    KN_CHECK(kn_store_register(s, "m", run, "none", &o, NULL));

    int64_t id = 0, again = 0;
    char *why = NULL;
    KN_CHECK(kn_store_retrain_begin(s, "m", "rule r, incident 1", "fired", 3600, "t", &id, &why));
    assert_true(id > 0);
    assert_null(why);
    /* another incident while the first is under way: skipped */
    KN_CHECK(kn_store_retrain_begin(s, "m", "rule r, incident 2", NULL, 3600, "t", &again, &why));
    assert_int_equal(again, 0);
    assert_non_null(strstr(why, "is under way"));
    kn_free(why);
    KN_CHECK(
        kn_store_retrain_step(s, "m", id, "retrain run started", 0, NULL, "started", "spec", "t"));
    rows r = audit_of(s);
    assert_string_equal(r.first_action, "retrain run started");
    char want[64];
    snprintf(want, sizeof want, "retrain %lld: spec", (long long)id);
    assert_string_equal(r.first_detail, want);
    KN_CHECK(kn_store_retrain_step(s, "m", id, "retrain refused", 1, run, "not better", NULL, "t"));
    /* ended: the same incident is still not retrained again, a new one is */
    KN_CHECK(kn_store_retrain_begin(s, "m", "rule r, incident 1", NULL, 3600, "t", &again, &why));
    assert_int_equal(again, 0);
    assert_non_null(strstr(why, "was started for rule r, incident 1 already"));
    kn_free(why);
    why = NULL;
    KN_CHECK(kn_store_retrain_begin(s, "m", "rule r, incident 2", NULL, 3600, "t", &again, &why));
    assert_true(again > id);
    /* unended and older than stale_s: abandoned, a new one may start */
    int64_t third = 0;
    KN_CHECK(kn_store_retrain_begin(s, "m", NULL, "by hand", 1e-9, "t", &third, &why));
    assert_true(third > again);
    r = audit_of(s);
    assert_string_equal(r.first_action, "retrain trigger");
    assert_non_null(strstr(r.first_detail, "counts as abandoned"));
    assert_int_equal(r.triggers, 3);
    assert_int_equal(r.ends, 1);

    /* bad calls change nothing */
    char before[65], after[65];
    test_store_digest(dir, before);
    KN_CHECK_FAILS(kn_store_retrain_begin(s, "nosuch", NULL, NULL, 3600, "t", &id, &why),
                   KN_ERR_NOT_FOUND, "no model 'nosuch'");
    KN_CHECK_FAILS(kn_store_retrain_begin(s, "m", NULL, NULL, 0, "t", &id, &why), KN_ERR_INVALID,
                   "stale_s");
    KN_CHECK_FAILS(kn_store_retrain_step(s, "m", third, "promote", 0, NULL, NULL, NULL, "t"),
                   KN_ERR_INVALID, "starts with 'retrain '");
    KN_CHECK_FAILS(
        kn_store_retrain_step(s, "m", third, "retrain trigger", 0, NULL, NULL, NULL, "t"),
        KN_ERR_INVALID, "not the trigger");
    KN_CHECK_FAILS(
        kn_store_retrain_step(s, "m", third, "retrain compare", 0, "r999999", NULL, NULL, "t"),
        KN_ERR_NOT_FOUND, "r999999");
    test_store_digest(dir, after);
    assert_string_equal(before, after);
    kn_free(run);
    kn_store_close(s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {cmocka_unit_test(claims)};
    return cmocka_run_group_tests(tests, NULL, NULL);
}
