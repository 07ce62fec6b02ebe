/* The gate a version passes before production: its input schema is
 * compatible with the production version's, its held-out metric is no
 * worse than production's by more than the margin (both scored on the
 * candidate's test rows, rebuilt from its artifact; where they cannot be
 * had, each version's recorded score, on its own test rows, said so), and
 * one raw row predicts within the latency budget. */
#include "store/store-impl.h"

#include "kiln/artifact.h"
#include "kiln/mem.h"
#include "kiln/metrics.h"
#include "kiln/pipeline.h"
#include "kiln/registry.h"
#include "kiln/run.h"
#include "kiln/schema.h"

#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

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

/* A hash of row i of f over the columns cols[0..k) (a missing cell, a
 * number whatever its column type, a timestamp, a text): equal rows, equal
 * hashes. */
static uint64_t row_hash(const kn_frame *f, const size_t *cols, size_t k, size_t i)
{
    uint64_t h = 0xcbf29ce484222325ull;
    for (size_t j = 0; j < k; j++) {
        kn_column *c = kn_frame_col(f, cols[j]);
        unsigned char tag = 0, num[8];
        const char *s = NULL;
        size_t len = 0;
        if (!kn_column_is_missing(c, i)) switch (kn_column_type(c)) {
            case KN_COL_NUMERIC:
            case KN_COL_INT64: {
                double v = kn_column_number(c, i);
                if (v == 0) v = 0; /* -0 */
                memcpy(num, &v, 8);
                s = (const char *)num, len = 8, tag = 1;
                break;
            }
            case KN_COL_TIMESTAMP:
                memcpy(num, &kn_column_ts(c)[i], 8);
                s = (const char *)num, len = 8, tag = 2;
                break;
            case KN_COL_CATEGORICAL:
                s = kn_column_level(c, kn_column_codes(c)[i], &len), tag = 3;
                break;
            case KN_COL_STRING:
                s = kn_column_str(c, i, &len), tag = 3;
                break;
            }
        h = (h ^ tag) * 0x100000001b3ull;
        for (size_t b = 0; b < len; b++) h = (h ^ (unsigned char)s[b]) * 0x100000001b3ull;
        h = (h ^ 0xff) * 0x100000001b3ull; /* the cell's end */
    }
    return h;
}

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return (x > y) - (x < y);
}

/* The rows of test that are not rows of train (equal on every column both
 * have): what production was not fitted on (new frame); *dropped the others. */
static kn_status unseen_rows(const kn_frame *test, const kn_frame *train, kn_frame **out,
                             size_t *dropped)
{
    size_t nc = kn_frame_n_cols(test), n = kn_frame_n_rows(test), m = kn_frame_n_rows(train), k = 0,
           nk = 0;
    size_t *tc = kn_malloc((nc ? nc : 1) * sizeof *tc), *rc = kn_malloc((nc ? nc : 1) * sizeof *rc);
    uint64_t *seen = kn_malloc((m ? m : 1) * sizeof *seen);
    size_t *keep = kn_malloc((n ? n : 1) * sizeof *keep);
    kn_status e = tc && rc && seen && keep ? KN_OK : KN_ERR_NOMEM;
    for (size_t j = 0; e == KN_OK && j < nc; j++)
        if (kn_frame_find(train, kn_column_name(kn_frame_col(test, j)), &rc[k]) == KN_OK)
            tc[k++] = j;
    for (size_t i = 0; e == KN_OK && i < m; i++) seen[i] = row_hash(train, rc, k, i);
    if (e == KN_OK) qsort(seen, m, sizeof *seen, cmp_u64);
    for (size_t i = 0; e == KN_OK && i < n; i++) {
        uint64_t h = row_hash(test, tc, k, i);
        if (!m || !bsearch(&h, seen, m, sizeof *seen, cmp_u64)) keep[nk++] = i;
    }
    if (e == KN_OK) e = kn_frame_select_rows(test, keep, nk, out);
    *dropped = n - nk;
    kn_free(tc), kn_free(rc), kn_free(seen), kn_free(keep);
    return e;
}

/* Both versions scored with `metric` on the candidate's test rows, rebuilt
 * from its artifact (kn_run_test_rows), less any row production was fitted
 * on (its training rows, rebuilt from its artifact likewise: a retrain on
 * the same data with another split holds out rows production trained on,
 * which would flatter production): *c and *p, and a sentence saying which
 * rows (new string). KN_ERR_NOT_FOUND with a message saying why when that
 * cannot be done; then the gate compares the recorded scores. */
static kn_status same_rows(const kn_artifact *ca, const kn_artifact *pa, const char *cand_path,
                           const char *prod_path, const char *metric, double recorded, double *c,
                           double *p, char **rows_text)
{
    kn_frame *test = NULL, *seen = NULL, *use = NULL;
    kn_pipeline *cp = NULL, *pp = NULL;
    char *recipe = NULL, *prod_recipe = NULL, why[1024];
    size_t n = 0, np = 0, len = 0, dropped = 0, all = 0;
    const char *m = kn_artifact_get(ca, KN_ART_METRICS, &len);
    json_t *mj = m ? json_loadb(m, len, 0, NULL) : NULL;
    const char *positive = json_string_value(json_object_get(mj, "positive_class"));
    kn_status e = kn_run_test_rows(ca, NULL, &test, &recipe);
    if (e == KN_OK && (e = kn_pipeline_load(cand_path, NULL, &cp)) == KN_OK)
        e = kn_pipeline_score_one(cp, test, metric, positive, c, &all);
    /* the rebuilt rows give the candidate its recorded score, or they are
     * not its test rows (the data, its reading or kiln changed) */
    if (e == KN_OK && !(fabs(*c - recorded) <= 1e-9 * fmax(1, fabs(recorded))))
        e = kn_fail(KN_ERR_NOT_FOUND,
                    "the candidate scores %s %.6g on the rows rebuilt from its %s, not the %.6g "
                    "its run recorded, so they are not its test rows",
                    metric, *c, recipe, recorded);
    if (e == KN_OK && (e = kn_run_test_rows(pa, &seen, NULL, &prod_recipe)) != KN_OK &&
        e != KN_ERR_NOMEM) {
        snprintf(why, sizeof why, "%s", kn_last_error());
        e = kn_fail(KN_ERR_NOT_FOUND,
                    "production's training rows cannot be had (%s), so the candidate's test rows "
                    "may hold rows production was fitted on",
                    why);
    }
    if (e == KN_OK) e = unseen_rows(test, seen, &use, &dropped);
    if (e == KN_OK && !kn_frame_n_rows(use))
        e = kn_fail(KN_ERR_NOT_FOUND,
                    "production was fitted on every one of the candidate's %zu test rows", all);
    if (e == KN_OK && dropped) e = kn_pipeline_score_one(cp, use, metric, positive, c, &n);
    if (e == KN_OK && (e = kn_pipeline_load(prod_path, NULL, &pp)) == KN_OK)
        e = kn_pipeline_score_one(pp, use, metric, positive, p, &np);
    if (e != KN_OK && e != KN_ERR_NOMEM) {
        snprintf(why, sizeof why, "%s", kn_last_error());
        e = kn_fail(KN_ERR_NOT_FOUND, "%s", why);
    }
    if (e == KN_OK) {
        *rows_text =
            dropped ? kn_sprintf("both on %zu of the candidate's %zu test rows, the %zu others "
                                 "being rows production was fitted on (rebuilt from its %s; "
                                 "production's from its %s)",
                                 np, all, dropped, recipe, prod_recipe)
                    : kn_sprintf("both on the candidate's %zu test rows (rebuilt from its %s; "
                                 "production was fitted on none of them)",
                                 all, recipe);
        if (!*rows_text) e = KN_ERR_NOMEM;
    }
    kn_free(recipe);
    kn_free(prod_recipe);
    kn_pipeline_free(cp);
    kn_pipeline_free(pp);
    kn_frame_free(test);
    kn_frame_free(seen);
    kn_frame_free(use);
    json_decref(mj);
    return e;
}

static kn_status metric_check(kn_store *s, const char *name, int64_t cand, int64_t prod,
                              int prod_version, double margin, const kn_artifact *ca,
                              const kn_artifact *pa, const char *cand_path, const char *prod_path,
                              char *detail, size_t cap)
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
    const kn_component *m = kn_metric_find(metric);
    if (!m)
        return kn_fail(KN_ERR_REFUSED,
                       "gate: metric check: '%s' is not a metric this kiln knows, so which "
                       "direction is better is unknown; force with a reason",
                       metric);
    int higher = ((const kn_metric_vt *)m->vt)->higher_is_better;
    /* production on the candidate's test rows; where those cannot be had,
     * each version's recorded score, each on its own test rows (another
     * split, or other data), and the message says so */
    char *rows = NULL, why[1200];
    double cs = 0, ps = 0;
    e = same_rows(ca, pa, cand_path, prod_path, metric, c, &cs, &ps, &rows);
    if (e == KN_ERR_NOMEM) return e;
    if (e == KN_OK) {
        c = cs;
        p = ps;
    } else {
        snprintf(why, sizeof why, "%s", kn_last_error());
        e = test_metric(s, prod, metric, other, sizeof other, &p, &has_p);
        if (e) return e;
        if (!has_p)
            return kn_fail(KN_ERR_REFUSED,
                           "gate: metric check: production v%d of '%s' (run %s) has no held-out "
                           "%s to compare with, and the candidate's test rows to score it on "
                           "cannot be had (%s); force with a reason",
                           prod_version, name, pn, metric, why);
        if (!(rows = kn_sprintf("each on its own test rows: the candidate's test rows to score "
                                "production on cannot be had (%s)",
                                why)))
            return KN_ERR_NOMEM;
    }
    double worse = higher ? p - c : c - p;
    snprintf(detail, cap, "held-out %s %.6g vs production v%d %.6g, %s (margin %g)", metric, c,
             prod_version, p, rows, margin);
    if (worse > margin)
        e = kn_fail(KN_ERR_REFUSED,
                    "gate: metric check failed: held-out %s %.6g is worse than production "
                    "v%d's %.6g by %.6g, more than the margin %g (%s is better; %s)",
                    metric, c, prod_version, p, worse, margin, higher ? "higher" : "lower", rows);
    kn_free(rows);
    return e;
}

/* The artifact file of a run (new string), or NULL when it has none. */
static char *artifact_of(kn_store *s, int64_t run)
{
    sqlite3_stmt *st = NULL;
    char *path = NULL;
    if (kn__store_prepare(s,
                          "SELECT a.path FROM runs r JOIN artifacts a ON a.hash = r.artifact_hash"
                          " WHERE r.id = ?",
                          &st))
        return NULL;
    sqlite3_bind_int64(st, 1, run);
    if (sqlite3_step(st) == SQLITE_ROW)
        path = kn_sprintf("%s/%s", s->abs_dir, (const char *)sqlite3_column_text(st, 0));
    sqlite3_finalize(st);
    return path;
}

static kn_status load_schema(const kn_artifact *a, const char *what, kn_schema **out)
{
    size_t len = 0;
    const char *text = kn_artifact_get(a, KN_ART_SCHEMA, &len);
    if (!text)
        return kn_fail(KN_ERR_REFUSED,
                       "gate: schema check: %s holds no input schema; force with a reason", what);
    return kn_schema_parse(text, len, what, out);
}

static const kn_schema_column *find_col(const kn_schema *s, const char *name)
{
    for (size_t i = 0; i < s->n_cols; i++)
        if (!strcmp(s->cols[i].name, name)) return &s->cols[i];
    return NULL;
}

/* Callers send what production accepts, so: every column the candidate
 * requires is one production takes (a new required column would break
 * them); every column production requires is in the candidate with the same
 * type; where both list categories, the candidate's include production's. */
static kn_status schema_check(const kn_schema *cand, const kn_schema *prod, int prod_version)
{
    for (size_t i = 0; i < cand->n_cols; i++) {
        const kn_schema_column *c = &cand->cols[i];
        if (c->required && !find_col(prod, c->name))
            return kn_fail(KN_ERR_REFUSED,
                           "gate: schema check failed: the candidate requires column '%s' (%s), "
                           "which production v%d does not take, so its callers do not send it",
                           c->name, kn_col_type_name(c->type), prod_version);
    }
    for (size_t i = 0; i < prod->n_cols; i++) {
        const kn_schema_column *p = &prod->cols[i];
        if (!p->required) continue;
        const kn_schema_column *c = find_col(cand, p->name);
        if (!c)
            return kn_fail(KN_ERR_REFUSED,
                           "gate: schema check failed: production v%d requires column '%s' (%s), "
                           "which the candidate does not accept",
                           prod_version, p->name, kn_col_type_name(p->type));
        if (c->type != p->type)
            return kn_fail(KN_ERR_REFUSED,
                           "gate: schema check failed: column '%s' is %s in production v%d but %s "
                           "in the candidate",
                           p->name, kn_col_type_name(p->type), prod_version,
                           kn_col_type_name(c->type));
        if (!p->categories || !c->categories) continue;
        for (size_t k = 0; k < p->n_categories; k++) {
            size_t j = 0;
            while (j < c->n_categories && strcmp(c->categories[j], p->categories[k])) j++;
            if (j == c->n_categories)
                return kn_fail(KN_ERR_REFUSED,
                               "gate: schema check failed: column '%s' accepts '%s' in production "
                               "v%d but not in the candidate (levels may be added, not removed)",
                               p->name, p->categories[k], prod_version);
        }
    }
    return KN_OK;
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* One raw row from the schema: numbers at the middle of their range (0
 * without one), the first category, other values missing. */
static kn_status schema_row(const kn_schema *sc, int missing, char ***names, char ***values)
{
    *names = kn_calloc(sc->n_cols + 1, sizeof **names);
    *values = kn_calloc(sc->n_cols + 1, sizeof **values);
    if (!*names || !*values) return KN_ERR_NOMEM;
    for (size_t i = 0; i < sc->n_cols; i++) {
        const kn_schema_column *c = &sc->cols[i];
        (*names)[i] = c->name;
        if (missing)
            (*values)[i] = kn_strdup("");
        else if (c->type == KN_COL_NUMERIC || c->type == KN_COL_INT64)
            (*values)[i] = kn_sprintf("%.17g", c->has_min && c->has_max ? (c->min + c->max) / 2
                                               : c->has_min             ? c->min
                                               : c->has_max             ? c->max
                                                                        : 0.0);
        else if (c->type == KN_COL_CATEGORICAL && c->n_categories)
            (*values)[i] = kn_strdup(c->categories[0]);
        else
            (*values)[i] = kn_strdup("");
        if (!(*values)[i]) return KN_ERR_NOMEM;
    }
    return KN_OK;
}

static void free_row(const kn_schema *sc, char **names, char **values)
{
    for (size_t i = 0; values && i < sc->n_cols; i++) kn_free(values[i]);
    kn_free(values);
    kn_free(names);
}

enum { LATENCY_RUNS = 21 };

/* The median of LATENCY_RUNS single-row predictions (after one warm-up), in
 * milliseconds. The target column, when the schema lists it, is left out. */
static kn_status latency(const char *path, const kn_schema *sc, double *ms)
{
    kn_pipeline *p = NULL;
    kn_status e = kn_pipeline_load(path, NULL, &p);
    if (e) return e;
    const char *target = kn_pipeline_target(p);
    double pred = 0, t[LATENCY_RUNS];
    for (int missing = 0; missing < 2; missing++) {
        char **names = NULL, **values = NULL;
        e = schema_row(sc, missing, &names, &values);
        size_t n = 0;
        for (size_t i = 0; !e && i < sc->n_cols; i++) /* drop the target */
            if (!target || strcmp(names[i], target)) {
                names[n] = names[i];
                char *v = values[n];
                values[n] = values[i];
                values[i] = v;
                n++;
            }
        if (!e)
            e = kn_pipeline_predict_row(p, (const char *const *)names, (const char *const *)values,
                                        n, &pred, NULL);
        for (int r = 0; !e && r < LATENCY_RUNS; r++) {
            double t0 = now_s();
            e = kn_pipeline_predict_row(p, (const char *const *)names, (const char *const *)values,
                                        n, &pred, NULL);
            t[r] = (now_s() - t0) * 1e3;
        }
        free_row(sc, names, values);
        if (!e) break;
        if (e == KN_ERR_NOMEM) break;
    }
    kn_pipeline_free(p);
    if (e) return e;
    qsort(t, LATENCY_RUNS, sizeof *t, cmp_double);
    *ms = t[LATENCY_RUNS / 2];
    return KN_OK;
}

kn_status kn__store_gate(kn_store *s, const char *name, int64_t cand_run, int64_t prod_run,
                         int prod_version, const kn_gate_opts *o, char **detail)
{
    char metric[2048] = "no production version to compare with";
    *detail = NULL;
    if (!(o->metric_margin >= 0) || !(o->latency_ms > 0))
        return kn_fail(KN_ERR_INVALID,
                       "gate: the metric margin must be >= 0 and the latency budget > 0 ms");
    char cn[24];
    kn__store_run_name(cand_run, cn);
    char *cand_path = artifact_of(s, cand_run),
         *prod_path = prod_run ? artifact_of(s, prod_run) : NULL;
    kn_artifact *ca = NULL, *pa = NULL;
    kn_schema *cs = NULL, *ps = NULL;
    double ms = 0;
    kn_status e = KN_OK;
    if (!cand_path) {
        e = kn_fail(KN_ERR_REFUSED, "gate: run %s has no artifact", cn);
        goto done;
    }
    e = kn_artifact_read(cand_path, NULL, &ca);
    if (!e) e = load_schema(ca, cand_path, &cs);
    if (!e && prod_path) {
        e = kn_artifact_read(prod_path, NULL, &pa);
        if (!e) e = load_schema(pa, prod_path, &ps);
        if (!e) e = schema_check(cs, ps, prod_version);
        if (!e)
            e = metric_check(s, name, cand_run, prod_run, prod_version, o->metric_margin, ca, pa,
                             cand_path, prod_path, metric, sizeof metric);
    }
    if (e) goto done;
    e = latency(cand_path, cs, &ms);
    if (e) {
        e = kn_fail_prefix(KN_ERR_REFUSED,
                           "gate: latency check: one row of run %s could not be "
                           "predicted: ",
                           cn);
        goto done;
    }
    if (ms > o->latency_ms) {
        e = kn_fail(KN_ERR_REFUSED,
                    "gate: latency check failed: one row takes %.3g ms (median of %d), over the "
                    "budget of %g ms",
                    ms, LATENCY_RUNS, o->latency_ms);
        goto done;
    }
done:
    if (e != KN_ERR_REFUSED && e != KN_OK && e != KN_ERR_NOMEM && e != KN_ERR_INVALID)
        e = kn_fail_prefix(KN_ERR_REFUSED, "gate: ");
    if (!e)
        *detail = kn_sprintf("schema %s; %s; latency %.3g ms (budget %g ms)",
                             prod_path ? "compatible" : "not compared", metric, ms, o->latency_ms);
    kn_schema_free(cs);
    kn_schema_free(ps);
    kn_artifact_free(ca);
    kn_artifact_free(pa);
    kn_free(cand_path);
    kn_free(prod_path);
    return e;
}
