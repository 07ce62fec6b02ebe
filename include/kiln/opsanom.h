/* Operational anomalies: a detector over one time series of per-interval
 * values (requests per interval, the share of them that failed, their
 * latency), which says when a value jumps, drops or the series goes flat.
 *
 *     kn_opsanom_params p;
 *     kn_opsanom_default_params(&p);
 *     p.kind = KN_OPSANOM_COUNT;             // requests per interval
 *     kn_opsanom *d = NULL;
 *     kn_opsanom_new(&p, &d);
 *     for (each interval t) {                // once per interval, not per request
 *         kn_opsanom_point pt;
 *         kn_opsanom_update(d, count[t], count[t], kn_opsanom_hour_of_day(unix_s[t]), &pt);
 *         if (pt.onset) ...                  // a new event: pt.event is its kind
 *     }
 *     kn_opsanom_free(d);
 *
 * The baseline is an exponentially weighted moving average (EWMA) of the
 * level plus a seasonal term per slot (the hour of the day, 24 slots, by
 * default): expected = level + season[slot]. Each value is scored against
 * it, z = (value - expected) / sd, with sd the EWMA of the squared
 * residuals, at least the noise floor of the kind (a count: sqrt(expected)
 * as a Poisson count; a share of n: sqrt(p (1 - p) / n); for any kind
 * min_sd and min_rel |expected| are added, as variances).
 * After `warmup` values:
 *
 *   jump      z > threshold
 *   drop      z < -threshold
 *   flatline  the same value `flat_intervals` times in a row in a series
 *             that moved before (no traffic: a count stuck at 0)
 *
 * An event starts (onset) when an interval is anomalous and the one before
 * was not, or was of another kind; events[] counts onsets by kind. The
 * baseline learns from each value clipped to expected +- 2 sd (Huber), so
 * an outlier barely moves it and a lasting change is taken in gradually
 * (the alarm then ends). A flat-line is not learned: it lasts as long as
 * the series stays flat. A NaN value (e.g. the latency of an
 * interval without requests) is skipped: nothing is learned or scored.
 *
 * Memory is fixed at _new (n_slots doubles and flags). Same values, same
 * slots, same parameters: the same points, bit for bit.
 *
 * Threading: a detector is one thread's at a time; no global state.
 */
#ifndef KILN_OPSANOM_H
#define KILN_OPSANOM_H

#include "kiln/core.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum {
    KN_OPSANOM_LEVEL = 0, /* any value (latency): min_sd and min_rel are its floor */
    KN_OPSANOM_COUNT = 1, /* a count per interval: Poisson floor */
    KN_OPSANOM_SHARE = 2, /* a share in [0, 1] of `weight` trials: binomial floor */
} kn_opsanom_kind;

typedef enum {
    KN_OPSANOM_NONE = 0,
    KN_OPSANOM_JUMP = 1,
    KN_OPSANOM_DROP = 2,
    KN_OPSANOM_FLATLINE = 3,
} kn_opsanom_event;
enum { KN_OPSANOM_N_EVENTS = 4 };

typedef struct kn_opsanom_params {
    kn_opsanom_kind kind;
    double alpha;          /* level smoothing, (0, 1] (default 0.1) */
    double gamma;          /* seasonal smoothing, [0, 1] (default 0.1; 0: no seasonal term) */
    double var_alpha;      /* residual variance smoothing, (0, 1] (default 0.05) */
    double threshold;      /* |z| of an event (default 5) */
    double min_sd;         /* least sd, in the value's unit (default 0) */
    double min_rel;        /* least sd as a share of |expected| (default 0) */
    size_t n_slots;        /* seasonal slots (default 24: the hour of the day) */
    size_t warmup;         /* values learned before any is scored (default 12) */
    size_t flat_intervals; /* equal values in a row that make a flatline (default 3; 0: off) */
} kn_opsanom_params;

/* One scored value. */
typedef struct kn_opsanom_point {
    double value, expected, sd, z; /* z NaN while warming up or for a NaN value */
    kn_opsanom_event event;        /* the interval's state */
    int onset;                     /* 1: an event starts here */
} kn_opsanom_point;

typedef struct kn_opsanom kn_opsanom;

KN_API void kn_opsanom_default_params(kn_opsanom_params *p);
/* KN_OK, or KN_ERR_INVALID naming the field out of range and its range. */
KN_API kn_status kn_opsanom_check_params(const kn_opsanom_params *p);
/* Returns a new detector; free with kn_opsanom_free(). The params are
 * checked first. */
KN_API kn_status kn_opsanom_new(const kn_opsanom_params *p, kn_opsanom **out);
KN_API void kn_opsanom_free(kn_opsanom *d);
/* Score value (the interval's; weight: the trials behind a share, else
 * ignored) in seasonal slot `slot` (taken modulo n_slots), then learn it.
 * *out receives the point (may be NULL). */
KN_API void kn_opsanom_update(kn_opsanom *d, double value, double weight, size_t slot,
                              kn_opsanom_point *out);
/* Events started so far by kind (events[KN_OPSANOM_NONE]: intervals
 * scored); caller's array of KN_OPSANOM_N_EVENTS. */
KN_API void kn_opsanom_events(const kn_opsanom *d, uint64_t *events);
/* The memory the detector holds, in bytes (fixed at _new). */
KN_API size_t kn_opsanom_bytes(const kn_opsanom *d);
/* "none", "jump", "drop", "flatline" (static). */
KN_API const char *kn_opsanom_event_name(kn_opsanom_event e);
/* The hour of the day (0-23, UTC) of a time in seconds since 1970: the
 * default seasonal slot. */
KN_API size_t kn_opsanom_hour_of_day(int64_t unix_s);

/* ---- recording an interval ----
 * `kiln monitor ops --record` and `kiln serve --ops-interval S
 * --record-windows` keep each scored interval as one row of the store's
 * monitor_checks (kn_store_monitor_add: rows = the server's requests in
 * it, drift = 1 while an event goes on), per recorded scope (the server's
 * series, or one model's), with this JSON as its result:
 *
 *   {"interval": K, "interval_start": "2026-12-06T12:40:00.000Z",
 *    "interval_start_s": 1796560800.0, "requests": N,
 *    "events": [{"model": M, "series": S, "kind": "jump", "value": v,
 *                "expected": e, "z": z}, ...],
 *    "series": {"scope": M, "requests": v, "error_share": v,
 *               "latency_p95_seconds": v,
 *               "expected": {"requests": e, ...}, "z": {"requests": z, ...},
 *               "event": {"requests": "none", ...}}}
 *
 * K numbers the intervals (1, 2, ...); requests are the server's predict
 * requests in it; events are the series in an event during the interval
 * (the recorded scope's, or every scope's when the server's series are
 * recorded); series holds the recorded scope's three values, their
 * baselines, z-scores and states (M "": the server; NaN is null). */
enum { KN_OPSANOM_N_SERIES = 3 };
struct json_t; /* jansson's value */
/* The series' names in the record: "requests", "error_share",
 * "latency_p95_seconds" (static; NULL out of range). */
KN_API const char *kn_opsanom_series_name(int series);
/* One event of the "events" array: model (the scope's served name, "" the
 * server), series (0-2) and its point. Returns a new reference; release
 * with json_decref(). NULL when out of memory. */
KN_API struct json_t *kn_opsanom_event_json(const char *model, int series,
                                            const kn_opsanom_point *pt);
/* The record of interval k starting at start_s (seconds since 1970, UTC)
 * with the server's requests, the recorded scope's name and its three
 * series' points (pts[KN_OPSANOM_N_SERIES]); events (borrowed, an array or
 * NULL: none) is copied in. Returns a new reference; release with
 * json_decref(). NULL when out of memory. */
KN_API struct json_t *kn_opsanom_record_json(int64_t k, double start_s, uint64_t requests,
                                             const char *scope, const kn_opsanom_point *pts,
                                             struct json_t *events);

#ifdef __cplusplus
}
#endif
#endif
