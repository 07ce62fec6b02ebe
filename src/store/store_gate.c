/* The gate a version passes before production: its input schema is
 * compatible with the production version's, its held-out metric is no
 * worse than production's by more than the margin, and one raw row
 * predicts within the latency budget. */
#include "store/store-impl.h"

#include "kiln/mem.h"
#include "kiln/metrics.h"
#include "kiln/registry.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

/* The run's first held-out ("test") metric, or the one named `name`. */
static kn_status test_metric(kn_store *s, int64_t run, const char *name, char *got, size_t cap,
                             double *value, int *found)
{
    sqlite3_stmt *st = NULL;
    *found = 0;
    kn_status e = kn__store_prepare(s,
                                    name ? "SELECT name, value FROM metrics WHERE run_id = ?1"
                                           " AND scope = 'test' AND name = ?2 AND fold = -1"
                                         : "SELECT name, value FROM metrics WHERE run_id = ?1"
                                           " AND scope = 'test' ORDER BY pos LIMIT 1",
                                    &st);
    if (e) return e;
    sqlite3_bind_int64(st, 1, run);
    if (name) sqlite3_bind_text(st, 2, name, -1, SQLITE_STATIC);
    if (sqlite3_step(st) == SQLITE_ROW && sqlite3_column_type(st, 1) != SQLITE_NULL) {
        snprintf(got, cap, "%s", (const char *)sqlite3_column_text(st, 0));
        *value = sqlite3_column_double(st, 1);
        *found = 1;
    }
    sqlite3_finalize(st);
    return KN_OK;
}

static kn_status metric_check(kn_store *s, const char *name, int64_t cand, int64_t prod,
                              int prod_version, double margin, char *detail, size_t cap)
{
    char metric[128], other[128];
    double c = 0, p = 0;
    int has_c = 0, has_p = 0;
    char cn[24], pn[24];
    kn__store_run_name(cand, cn);
    kn__store_run_name(prod, pn);
    kn_status e = test_metric(s, cand, NULL, metric, sizeof metric, &c, &has_c);
    if (e) return e;
    if (!has_c)
        return kn_fail(KN_ERR_REFUSED,
                       "gate: metric check: run %s recorded no held-out (test) metric to compare "
                       "with production v%d of '%s'; hold out a test set in the spec, or force "
                       "with a reason",
                       cn, prod_version, name);
    e = test_metric(s, prod, metric, other, sizeof other, &p, &has_p);
    if (e) return e;
    if (!has_p)
        return kn_fail(KN_ERR_REFUSED,
                       "gate: metric check: production v%d of '%s' (run %s) has no held-out %s "
                       "to compare with; force with a reason",
                       prod_version, name, pn, metric);
    const kn_component *m = kn_metric_find(metric);
    if (!m)
        return kn_fail(KN_ERR_REFUSED,
                       "gate: metric check: '%s' is not a metric this kiln knows, so which "
                       "direction is better is unknown; force with a reason",
                       metric);
    int higher = ((const kn_metric_vt *)m->vt)->higher_is_better;
    double worse = higher ? p - c : c - p;
    snprintf(detail, cap, "held-out %s %.6g vs production v%d %.6g (margin %g)", metric, c,
             prod_version, p, margin);
    if (worse > margin)
        return kn_fail(KN_ERR_REFUSED,
                       "gate: metric check failed: held-out %s %.6g is worse than production "
                       "v%d's %.6g by %.6g, more than the margin %g (%s is better)",
                       metric, c, prod_version, p, worse, margin, higher ? "higher" : "lower");
    return KN_OK;
}

kn_status kn__store_gate(kn_store *s, const char *name, int64_t cand_run, int64_t prod_run,
                         int prod_version, const kn_gate_opts *o, char **detail)
{
    char metric[512] = "no production version to compare metrics with";
    *detail = NULL;
    if (!(o->metric_margin >= 0) || !(o->latency_ms > 0))
        return kn_fail(KN_ERR_INVALID,
                       "gate: the metric margin must be >= 0 and the latency budget > 0 ms");
    kn_status e = KN_OK;
    if (prod_run) e = metric_check(s, name, cand_run, prod_run, prod_version, o->metric_margin,
                                   metric, sizeof metric);
    *detail = kn_sprintf("%s", metric);
    return e;
}
