/* The record of an operational interval (kiln/opsanom.h): one writer for
 * kiln monitor ops --record and kiln serve --ops-interval --record-windows,
 * so kiln monitor report reads both the same way. */
#include "kiln/opsanom.h"

#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <time.h>

static const char *const names[KN_OPSANOM_N_SERIES] = {"requests", "error_share",
                                                       "latency_p95_seconds"};

const char *kn_opsanom_series_name(int series)
{
    return series >= 0 && series < KN_OPSANOM_N_SERIES ? names[series] : NULL;
}

static json_t *num(double v)
{
    return isfinite(v) ? json_real(v) : json_null();
}

json_t *kn_opsanom_event_json(const char *model, int series, const kn_opsanom_point *pt)
{
    if (series < 0 || series >= KN_OPSANOM_N_SERIES) return NULL;
    return json_pack("{s:s, s:s, s:s, s:o, s:o, s:o}", "model", model ? model : "", "series",
                     names[series], "kind", kn_opsanom_event_name(pt->event), "value",
                     num(pt->value), "expected", num(pt->expected), "z", num(pt->z));
}

json_t *kn_opsanom_record_json(int64_t k, double start_s, uint64_t requests, const char *scope,
                               const kn_opsanom_point *pts, json_t *events)
{
    char when[48], day[32];
    time_t ts = (time_t)floor(start_s);
    struct tm tm;
    if (!gmtime_r(&ts, &tm) || !strftime(day, sizeof day, "%Y-%m-%dT%H:%M:%S", &tm))
        snprintf(day, sizeof day, "1970-01-01T00:00:00");
    snprintf(when, sizeof when, "%s.%03dZ", day,
             (int)floor((start_s - (double)ts) * 1000 + 0.5) % 1000);
    json_t *series = json_pack("{s:s}", "scope", scope ? scope : ""), *sub[3] = {NULL};
    static const char *const keys[3] = {"expected", "z", "event"};
    int ok = series != NULL;
    for (int s = 0; ok && s < KN_OPSANOM_N_SERIES; s++)
        ok = !json_object_set_new(series, names[s], num(pts[s].value));
    for (int i = 0; ok && i < 3; i++)
        ok = !json_object_set_new(series, keys[i], json_object()) &&
             (sub[i] = json_object_get(series, keys[i])) != NULL;
    for (int s = 0; ok && s < KN_OPSANOM_N_SERIES; s++)
        ok = !json_object_set_new(sub[0], names[s], num(pts[s].expected)) &&
             !json_object_set_new(sub[1], names[s], num(pts[s].z)) &&
             !json_object_set_new(sub[2], names[s],
                                  json_string(kn_opsanom_event_name(pts[s].event)));
    json_t *ev = events ? json_deep_copy(events) : json_array();
    if (!ok || !ev) {
        json_decref(series);
        json_decref(ev);
        return NULL;
    }
    /* "o" takes both references, also when the pack fails */
    json_t *r = json_pack("{s:I, s:s, s:f, s:I, s:o, s:o}", "interval", (json_int_t)k,
                          "interval_start", when, "interval_start_s", start_s, "requests",
                          (json_int_t)requests, "events", ev, "series", series);
    return r;
}
