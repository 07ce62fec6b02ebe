/* monitor: the operational anomaly detector (kiln/opsanom.h) on seeded
 * synthetic series with a daily cycle (hourly intervals, 24 slots):
 * requests per hour (Poisson-like), a share of failed requests and a
 * latency. A planted jump is found at its first interval and a planted
 * flat-line (no traffic) within 3 intervals; on 200 days of stationary
 * series under 1 % of the intervals are anomalous; the same input gives
 * the same points bit for bit; bad parameters name their field. The record
 * of an interval (kn_opsanom_record_json) holds the scope's values,
 * baselines, z-scores and states, NaN as null. */
#include "test_util.h"

#include "kiln/opsanom.h"
#include "kiln/rng.h"

#include <jansson.h>
#include <math.h>
#include <string.h>

enum { DAYS = 200, N = DAYS * 24 };

/* A count with a daily cycle: mean 200 + 120 sin(2 pi h / 24), Poisson-like
 * noise (normal with the mean as its variance), rounded. */
static double count_at(kn_rng *r, size_t t)
{
    double mean = 200 + 120 * sin(2 * M_PI * (double)(t % 24) / 24);
    double v = round(mean + sqrt(mean) * kn_rng_normal(r));
    return v < 0 ? 0 : v;
}

static kn_opsanom *detector(kn_opsanom_kind kind)
{
    kn_opsanom_params p;
    kn_opsanom_default_params(&p);
    p.kind = kind;
    kn_opsanom *d = NULL;
    KN_CHECK(kn_opsanom_new(&p, &d));
    return d;
}

/* Stationary series: under 1 % of intervals flagged, for each kind. */
static void test_false_alarms(void **state)
{
    (void)state;
    kn_rng r;
    kn_rng_init(&r, 42);
    kn_opsanom *dc = detector(KN_OPSANOM_COUNT), *ds = detector(KN_OPSANOM_SHARE),
               *dl = detector(KN_OPSANOM_LEVEL);
    size_t flagged[3] = {0}, scored[3] = {0};
    for (size_t t = 0; t < N; t++) {
        double n = count_at(&r, t);
        double errors = 0;
        for (int k = 0; k < (int)n; k++) errors += kn_rng_uniform(&r) < 0.02;
        double latency = 12 + 4 * sin(2 * M_PI * (double)(t % 24) / 24) + kn_rng_normal(&r);
        kn_opsanom_point pt[3];
        kn_opsanom_update(dc, n, n, t % 24, &pt[0]);
        kn_opsanom_update(ds, n ? errors / n : NAN, n, t % 24, &pt[1]);
        kn_opsanom_update(dl, latency, n, t % 24, &pt[2]);
        for (int k = 0; k < 3; k++) {
            scored[k] += !isnan(pt[k].z);
            flagged[k] += pt[k].event != KN_OPSANOM_NONE;
        }
    }
    for (int k = 0; k < 3; k++) {
        print_message("kind %d: %zu of %zu intervals flagged (%.3f %%)\n", k, flagged[k], scored[k],
                      100.0 * (double)flagged[k] / (double)scored[k]);
        assert_true(scored[k] > N - 20);
        assert_true((double)flagged[k] < 0.01 * (double)scored[k]);
    }
    uint64_t ev[KN_OPSANOM_N_EVENTS];
    kn_opsanom_events(dc, ev);
    assert_int_equal(ev[KN_OPSANOM_NONE], scored[0]);
    assert_true(kn_opsanom_bytes(dc) < 1024);
    kn_opsanom_free(dc), kn_opsanom_free(ds), kn_opsanom_free(dl);
}

/* Run a count series of 30 days with a change from interval `at`: the
 * first interval >= at flagged with kind `want`, returned as a delay. */
static size_t delay_of(double (*change)(double v, size_t since), kn_opsanom_event want,
                       size_t *false_before)
{
    kn_rng r;
    kn_rng_init(&r, 7);
    kn_opsanom *d = detector(KN_OPSANOM_COUNT);
    size_t at = 30 * 24 + 5, found = SIZE_MAX;
    *false_before = 0;
    for (size_t t = 0; t < at + 48; t++) {
        double v = count_at(&r, t);
        if (t >= at) v = change(v, t - at);
        kn_opsanom_point pt;
        kn_opsanom_update(d, v, v, t % 24, &pt);
        if (t < at && pt.event != KN_OPSANOM_NONE) (*false_before)++;
        if (t >= at && found == SIZE_MAX && pt.event == want) {
            assert_true(pt.onset);
            found = t - at;
        }
    }
    kn_opsanom_free(d);
    return found;
}

static double jump(double v, size_t since)
{
    (void)since;
    return v * 2; /* traffic doubles */
}
static double jump_small(double v, size_t since)
{
    (void)since;
    return v + 100; /* 5.6 sd at the planted hour (mean 316) */
}
static double flat(double v, size_t since)
{
    (void)v;
    (void)since;
    return 0; /* no traffic */
}
static double halve(double v, size_t since)
{
    (void)since;
    return round(v / 2);
}

static void test_planted_events(void **state)
{
    (void)state;
    size_t fb = 0;
    assert_int_equal(delay_of(jump, KN_OPSANOM_JUMP, &fb), 0);
    assert_int_equal(fb, 0);
    assert_int_equal(delay_of(jump_small, KN_OPSANOM_JUMP, &fb), 0);
    assert_int_equal(delay_of(halve, KN_OPSANOM_DROP, &fb), 0);
    /* no traffic: a drop at once, a flat-line on its third interval */
    assert_int_equal(delay_of(flat, KN_OPSANOM_DROP, &fb), 0);
    assert_int_equal(delay_of(flat, KN_OPSANOM_FLATLINE, &fb), 2);
}

/* No traffic for two days: flagged from its third interval to the end. */
static void test_flatline_lasts(void **state)
{
    (void)state;
    kn_rng r;
    kn_rng_init(&r, 5);
    kn_opsanom *d = detector(KN_OPSANOM_COUNT);
    size_t at = 20 * 24, flagged = 0;
    kn_opsanom_point pt;
    for (size_t t = 0; t < at + 48; t++) {
        kn_opsanom_update(d, t < at ? count_at(&r, t) : 0, 0, t % 24, &pt);
        if (t >= at + 2) {
            assert_int_equal(pt.event, KN_OPSANOM_FLATLINE);
            flagged++;
        }
    }
    uint64_t ev[KN_OPSANOM_N_EVENTS];
    kn_opsanom_events(d, ev);
    assert_int_equal(ev[KN_OPSANOM_FLATLINE], 1);
    /* traffic is back: the event ends */
    kn_opsanom_update(d, count_at(&r, 0), 0, 0, &pt);
    assert_int_equal(pt.event, KN_OPSANOM_NONE);
    kn_opsanom_free(d);
}

/* A share of failed requests that goes from 2 % to 30 %: a jump at once. */
static void test_error_share_jump(void **state)
{
    (void)state;
    kn_rng r;
    kn_rng_init(&r, 3);
    kn_opsanom *d = detector(KN_OPSANOM_SHARE);
    size_t at = 400, found = SIZE_MAX, before = 0;
    for (size_t t = 0; t < at + 10; t++) {
        double n = count_at(&r, t), errors = 0, p = t >= at ? 0.3 : 0.02;
        for (int k = 0; k < (int)n; k++) errors += kn_rng_uniform(&r) < p;
        kn_opsanom_point pt;
        kn_opsanom_update(d, errors / n, n, t % 24, &pt);
        if (t < at) before += pt.event != KN_OPSANOM_NONE;
        if (t >= at && found == SIZE_MAX && pt.event == KN_OPSANOM_JUMP) found = t - at;
    }
    assert_int_equal(found, 0);
    assert_int_equal(before, 0);
    kn_opsanom_free(d);
}

/* A constant series never flat-lines (it never moved); NaN is skipped. */
static void test_constant_and_nan(void **state)
{
    (void)state;
    kn_opsanom *d = detector(KN_OPSANOM_SHARE);
    kn_opsanom_point pt;
    for (size_t t = 0; t < 100; t++) {
        kn_opsanom_update(d, 0, 50, t % 24, &pt);
        assert_int_equal(pt.event, KN_OPSANOM_NONE);
        kn_opsanom_update(d, NAN, 0, t % 24, &pt);
        assert_true(isnan(pt.z));
    }
    uint64_t ev[KN_OPSANOM_N_EVENTS];
    kn_opsanom_events(d, ev);
    assert_int_equal(ev[KN_OPSANOM_NONE], 100 - 12);
    kn_opsanom_free(d);
}

static void test_deterministic(void **state)
{
    (void)state;
    kn_opsanom_point a[500], b[500];
    for (int rep = 0; rep < 2; rep++) {
        kn_rng r;
        kn_rng_init(&r, 11);
        kn_opsanom *d = detector(KN_OPSANOM_COUNT);
        for (size_t t = 0; t < 500; t++)
            kn_opsanom_update(d, count_at(&r, t) * (t > 300 ? 3 : 1), 0, t % 24,
                              rep ? &b[t] : &a[t]);
        kn_opsanom_free(d);
    }
    assert_memory_equal(a, b, sizeof a);
}

static void test_bad_params(void **state)
{
    (void)state;
    kn_opsanom_params p;
    kn_opsanom_default_params(&p);
    kn_opsanom *d = NULL;
    p.alpha = 0;
    KN_CHECK_FAILS(kn_opsanom_new(&p, &d), KN_ERR_INVALID, "alpha");
    kn_opsanom_default_params(&p);
    p.n_slots = 0;
    KN_CHECK_FAILS(kn_opsanom_new(&p, &d), KN_ERR_INVALID, "n_slots");
    assert_null(d);
    assert_int_equal(kn_opsanom_hour_of_day(1796554800), 11); /* 2026-12-06T11:00:00Z */
    assert_string_equal(kn_opsanom_event_name(KN_OPSANOM_FLATLINE), "flatline");
}

/* The record of an interval: as kiln monitor ops --record and kiln serve
 * --ops-interval --record-windows store it. */
static void test_record_json(void **state)
{
    (void)state;
    kn_opsanom_point pts[KN_OPSANOM_N_SERIES] = {
        {120, 100, 10, 2, KN_OPSANOM_NONE, 0},
        {0.5, 0.02, 0.01, 48, KN_OPSANOM_JUMP, 1},
        {NAN, NAN, NAN, NAN, KN_OPSANOM_NONE, 0}, /* no latency (e.g. no request) */
    };
    json_t *events = json_array();
    json_array_append_new(events, kn_opsanom_event_json("credit", 1, &pts[1]));
    json_t *r = kn_opsanom_record_json(7, 1796560800.25, 130, "credit", pts, events);
    json_decref(events); /* copied in */
    assert_non_null(r);
    char *text = json_dumps(r, JSON_COMPACT | JSON_SORT_KEYS);
    assert_string_equal(
        text,
        "{\"events\":[{\"expected\":0.02,\"kind\":\"jump\",\"model\":\"credit\","
        "\"series\":\"error_share\",\"value\":0.5,\"z\":48.0}],\"interval\":7,"
        "\"interval_start\":\"2026-12-06T12:40:00.250Z\",\"interval_start_s\":1796560800.25,"
        "\"requests\":130,\"series\":{\"error_share\":0.5,\"event\":{\"error_share\":\"jump\","
        "\"latency_p95_seconds\":\"none\",\"requests\":\"none\"},\"expected\":{"
        "\"error_share\":0.02,\"latency_p95_seconds\":null,\"requests\":100.0},"
        "\"latency_p95_seconds\":null,\"requests\":120.0,\"scope\":\"credit\",\"z\":{"
        "\"error_share\":48.0,\"latency_p95_seconds\":null,\"requests\":2.0}}}");
    free(text);
    json_decref(r);
    /* no events: an empty array; the server's scope is "" */
    r = kn_opsanom_record_json(1, 0, 0, NULL, pts, NULL);
    assert_int_equal(json_array_size(json_object_get(r, "events")), 0);
    assert_string_equal(json_string_value(json_object_get(json_object_get(r, "series"), "scope")),
                        "");
    assert_string_equal(json_string_value(json_object_get(r, "interval_start")),
                        "1970-01-01T00:00:00.000Z");
    json_decref(r);
    assert_null(kn_opsanom_event_json("m", 3, &pts[0]));
    assert_null(kn_opsanom_series_name(-1));
    assert_string_equal(kn_opsanom_series_name(2), "latency_p95_seconds");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_false_alarms),     cmocka_unit_test(test_planted_events),
        cmocka_unit_test(test_flatline_lasts),   cmocka_unit_test(test_error_share_jump),
        cmocka_unit_test(test_constant_and_nan), cmocka_unit_test(test_deterministic),
        cmocka_unit_test(test_bad_params),       cmocka_unit_test(test_record_json),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
