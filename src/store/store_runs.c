/* Runs: recording one (with its artifact, durably first), reading one back,
 * listing the latest. */
#include "store/store-impl.h"

#include "kiln/mem.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

static void bind_text(sqlite3_stmt *st, int i, const char *v)
{
    if (v)
        sqlite3_bind_text(st, i, v, -1, SQLITE_STATIC);
    else
        sqlite3_bind_null(st, i);
}

static kn_status step_done(kn_store *s, sqlite3_stmt *st, const char *doing)
{
    int rc = sqlite3_step(st);
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
    return rc == SQLITE_DONE ? KN_OK : kn__store_sql_fail(s, rc, doing);
}

static kn_status experiment_id(kn_store *s, const char *name, int64_t *id)
{
    sqlite3_stmt *st = NULL;
    kn_status e = kn__store_prepare(
        s, "INSERT INTO experiments(name, created) VALUES (?, ?) ON CONFLICT(name) DO NOTHING",
        &st);
    if (e) return e;
    sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
    sqlite3_bind_double(st, 2, kn__store_now());
    e = step_done(s, st, "recording the experiment");
    sqlite3_finalize(st);
    if (e) return e;
    e = kn__store_prepare(s, "SELECT id FROM experiments WHERE name = ?", &st);
    if (e) return e;
    sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) *id = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    return rc == SQLITE_ROW ? KN_OK : kn__store_sql_fail(s, rc, "recording the experiment");
}

static kn_status check_info(const kn_run_info *r)
{
    if (r->status && strcmp(r->status, "finished") && strcmp(r->status, "failed"))
        return kn_fail(KN_ERR_INVALID, "run status '%s': use finished or failed", r->status);
    for (size_t i = 0; i < r->n_params; i++)
        if (!r->params[i] || !strchr(r->params[i], '='))
            return kn_fail(KN_ERR_INVALID, "run parameter %zu ('%s') is not name=value", i + 1,
                           r->params[i] ? r->params[i] : "(null)");
    for (size_t i = 0; i < r->n_metrics; i++)
        if (!r->metrics[i].name || !r->metrics[i].scope)
            return kn_fail(KN_ERR_INVALID, "run metric %zu has no name or scope", i + 1);
    for (size_t i = 0; i < r->n_stages; i++)
        if (!r->stages[i].name) return kn_fail(KN_ERR_INVALID, "run stage %zu has no name", i + 1);
    return KN_OK;
}

static kn_status insert_rows(kn_store *s, int64_t id, const kn_run_info *r)
{
    sqlite3_stmt *st = NULL;
    kn_status e = kn__store_prepare(s, "INSERT INTO params VALUES (?,?,?,?)", &st);
    for (size_t i = 0; !e && i < r->n_params; i++) {
        const char *eq = strchr(r->params[i], '=');
        sqlite3_bind_int64(st, 1, id);
        sqlite3_bind_int64(st, 2, (int64_t)i);
        sqlite3_bind_text(st, 3, r->params[i], (int)(eq - r->params[i]), SQLITE_STATIC);
        sqlite3_bind_text(st, 4, eq + 1, -1, SQLITE_STATIC);
        e = step_done(s, st, "recording the run's parameters");
    }
    sqlite3_finalize(st);
    if (e) return e;
    e = kn__store_prepare(s, "INSERT INTO metrics VALUES (?,?,?,?,?,?)", &st);
    for (size_t i = 0; !e && i < r->n_metrics; i++) {
        const kn_run_metric *m = &r->metrics[i];
        sqlite3_bind_int64(st, 1, id);
        sqlite3_bind_text(st, 2, m->scope, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 3, m->name, -1, SQLITE_STATIC);
        sqlite3_bind_int(st, 4, strcmp(m->scope, "cv") ? -1 : m->fold);
        sqlite3_bind_int64(st, 5, (int64_t)i);
        if (m->value == m->value) sqlite3_bind_double(st, 6, m->value); /* NaN: NULL */
        e = step_done(s, st, "recording the run's metrics");
    }
    sqlite3_finalize(st);
    if (e) return e;
    e = kn__store_prepare(s, "INSERT INTO stages VALUES (?,?,?,?,?,?)", &st);
    for (size_t i = 0; !e && i < r->n_stages; i++) {
        sqlite3_bind_int64(st, 1, id);
        sqlite3_bind_int64(st, 2, (int64_t)i);
        sqlite3_bind_text(st, 3, r->stages[i].name, -1, SQLITE_STATIC);
        sqlite3_bind_double(st, 4, r->stages[i].wall_s);
        sqlite3_bind_double(st, 5, r->stages[i].cpu_s);
        sqlite3_bind_int64(st, 6, (int64_t)r->stages[i].peak_rss);
        e = step_done(s, st, "recording the run's stages");
    }
    sqlite3_finalize(st);
    if (e) return e;
    e = kn__store_prepare(s, "INSERT INTO sources VALUES (?,?,?,?,?,?,?)", &st);
    for (size_t i = 0; !e && i < r->n_sources; i++) {
        const kn_run_source *src = &r->sources[i];
        sqlite3_bind_int64(st, 1, id);
        sqlite3_bind_int64(st, 2, (int64_t)i);
        bind_text(st, 3, src->name);
        bind_text(st, 4, src->kind);
        bind_text(st, 5, src->location);
        bind_text(st, 6, src->hash);
        sqlite3_bind_int64(st, 7, (int64_t)src->rows);
        e = step_done(s, st, "recording the run's sources");
    }
    sqlite3_finalize(st);
    return e;
}

static kn_status insert_run(kn_store *s, const kn_run_info *r, const char *hash, uint64_t bytes,
                            double cost, int64_t *id)
{
    int64_t exp = 0, parent = 0;
    kn_status e = experiment_id(s, r->experiment ? r->experiment : "default", &exp);
    if (!e && r->parent_run) e = kn__store_run_id(s, r->parent_run, &parent);
    if (e) return e;
    sqlite3_stmt *st = NULL;
    if (hash) {
        e = kn__store_prepare(
            s, "INSERT INTO artifacts VALUES (?,?,?,?) ON CONFLICT(hash) DO NOTHING", &st);
        if (e) return e;
        char path[96];
        snprintf(path, sizeof path, "artifacts/%s.kiln", hash);
        sqlite3_bind_text(st, 1, hash, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 2, path, -1, SQLITE_TRANSIENT);
        sqlite3_bind_int64(st, 3, (int64_t)bytes);
        sqlite3_bind_double(st, 4, kn__store_now());
        e = step_done(s, st, "recording the artifact");
        sqlite3_finalize(st);
        if (e) return e;
    }
    e = kn__store_prepare(
        s,
        "INSERT INTO runs(experiment_id, status, error, start, end, spec, spec_hash, seed,"
        " parent_run, folds_hash, model, rows_in, rows_kept, rows_quarantined,"
        " rows_deduplicated, model_bytes, artifact_hash, actor, cost, recorded)"
        " VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
        &st);
    if (e) return e;
    sqlite3_bind_int64(st, 1, exp);
    sqlite3_bind_text(st, 2, r->status ? r->status : "finished", -1, SQLITE_STATIC);
    bind_text(st, 3, r->error);
    sqlite3_bind_double(st, 4, r->start);
    sqlite3_bind_double(st, 5, r->end);
    bind_text(st, 6, r->spec);
    bind_text(st, 7, r->spec_hash);
    sqlite3_bind_int64(st, 8, (int64_t)r->seed);
    if (parent) sqlite3_bind_int64(st, 9, parent);
    bind_text(st, 10, r->folds_hash);
    bind_text(st, 11, r->model);
    sqlite3_bind_int64(st, 12, (int64_t)r->rows_in);
    sqlite3_bind_int64(st, 13, (int64_t)r->rows_kept);
    sqlite3_bind_int64(st, 14, (int64_t)r->rows_quarantined);
    sqlite3_bind_int64(st, 15, (int64_t)r->rows_deduplicated);
    sqlite3_bind_int64(st, 16, (int64_t)r->model_bytes);
    bind_text(st, 17, hash);
    sqlite3_bind_text(st, 18, kn__store_actor(r->actor), -1, SQLITE_TRANSIENT);
    sqlite3_bind_double(st, 19, cost);
    sqlite3_bind_double(st, 20, kn__store_now());
    e = step_done(s, st, "recording the run");
    sqlite3_finalize(st);
    if (e) return e;
    *id = sqlite3_last_insert_rowid(s->db);
    return insert_rows(s, *id, r);
}

kn_status kn_store_add_run(kn_store *s, const kn_run_info *run, const void *artifact,
                           size_t artifact_len, char **run_id)
{
    if (run_id) *run_id = NULL;
    kn_status e = check_info(run);
    if (e) return e;
    char hex[65];
    if (artifact) {
        e = kn__store_put_artifact(s, artifact, artifact_len, hex);
        if (e) return e;
    }
    kn_prices prices;
    kn_store_prices(s, &prices);
    double cost = kn_run_cost(&prices, run->stages, run->n_stages, artifact ? artifact_len : 0);
    int64_t id = 0;
    e = kn__store_begin(s);
    if (e) return e;
    e = insert_run(s, run, artifact ? hex : NULL, artifact_len, cost, &id);
    if (e) {
        kn__store_rollback(s);
        return e;
    }
    e = kn__store_commit(s);
    if (e) return e;
    if (run_id) {
        char name[24];
        kn__store_run_name(id, name);
        *run_id = kn_strdup(name);
        if (!*run_id) return KN_ERR_NOMEM;
    }
    return KN_OK;
}

kn_status kn_store_add_runs(kn_store *s, const kn_run_info *runs, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        kn_status e = check_info(&runs[i]);
        if (e) return kn_fail_prefix(e, "run %zu of %zu: ", i + 1, n);
    }
    kn_prices prices;
    kn_store_prices(s, &prices);
    kn_status e = kn__store_begin(s);
    for (size_t i = 0; !e && i < n; i++) {
        int64_t id = 0;
        e = insert_run(s, &runs[i], NULL, 0,
                       kn_run_cost(&prices, runs[i].stages, runs[i].n_stages, 0), &id);
    }
    if (e) {
        kn__store_rollback(s);
        return e;
    }
    return kn__store_commit(s);
}

/* ---- reading back ---- */

static char *col_dup(sqlite3_stmt *st, int i)
{
    const char *t = (const char *)sqlite3_column_text(st, i);
    return t ? kn_strdup(t) : NULL;
}

void kn_run_record_free(kn_run_record *r)
{
    if (!r) return;
    kn_run_info *in = &r->info;
    kn_free((char *)in->experiment);
    kn_free((char *)in->status);
    kn_free((char *)in->error);
    kn_free((char *)in->spec);
    kn_free((char *)in->spec_hash);
    kn_free((char *)in->parent_run);
    kn_free((char *)in->folds_hash);
    kn_free((char *)in->model);
    kn_free((char *)in->actor);
    for (size_t i = 0; i < in->n_params; i++) kn_free((char *)in->params[i]);
    kn_free((void *)in->params);
    for (size_t i = 0; i < in->n_metrics; i++) {
        kn_free((char *)in->metrics[i].name);
        kn_free((char *)in->metrics[i].scope);
    }
    kn_free((void *)in->metrics);
    for (size_t i = 0; i < in->n_stages; i++) kn_free((char *)in->stages[i].name);
    kn_free((void *)in->stages);
    for (size_t i = 0; i < in->n_sources; i++) {
        kn_free((char *)in->sources[i].name);
        kn_free((char *)in->sources[i].kind);
        kn_free((char *)in->sources[i].location);
        kn_free((char *)in->sources[i].hash);
    }
    kn_free((void *)in->sources);
    kn_free(r->id);
    kn_free(r->artifact_path);
    kn_free(r->artifact_hash);
    kn_free(r);
}

/* Count the rows of one run in a table, for sizing its array. */
static kn_status count_rows(kn_store *s, const char *table, int64_t id, size_t *n)
{
    char sql[96];
    snprintf(sql, sizeof sql, "SELECT count(*) FROM %s WHERE run_id = ?", table);
    sqlite3_stmt *st = NULL;
    kn_status e = kn__store_prepare(s, sql, &st);
    if (e) return e;
    sqlite3_bind_int64(st, 1, id);
    int rc = sqlite3_step(st);
    *n = rc == SQLITE_ROW ? (size_t)sqlite3_column_int64(st, 0) : 0;
    sqlite3_finalize(st);
    return rc == SQLITE_ROW ? KN_OK : kn__store_sql_fail(s, rc, "reading the run");
}

static kn_status read_lists(kn_store *s, int64_t id, kn_run_info *in)
{
    size_t n = 0;
    sqlite3_stmt *st = NULL;
    kn_status e = count_rows(s, "params", id, &n);
    if (!e && n && !(in->params = kn_calloc(n, sizeof *in->params))) e = KN_ERR_NOMEM;
    if (!e)
        e = kn__store_prepare(s,
                              "SELECT name || '=' || value FROM params WHERE run_id = ?"
                              " ORDER BY pos",
                              &st);
    if (e) return e;
    sqlite3_bind_int64(st, 1, id);
    char **params = (char **)in->params;
    while (in->n_params < n && sqlite3_step(st) == SQLITE_ROW)
        params[in->n_params++] = col_dup(st, 0);
    sqlite3_finalize(st);

    kn_run_metric *m = NULL;
    e = count_rows(s, "metrics", id, &n);
    if (!e && n && !(m = kn_calloc(n, sizeof *m))) e = KN_ERR_NOMEM;
    in->metrics = m;
    if (!e)
        e = kn__store_prepare(s,
                              "SELECT name, scope, fold, value FROM metrics"
                              " WHERE run_id = ? ORDER BY pos",
                              &st);
    if (e) return e;
    sqlite3_bind_int64(st, 1, id);
    while (in->n_metrics < n && sqlite3_step(st) == SQLITE_ROW) {
        kn_run_metric *x = &m[in->n_metrics++];
        x->name = col_dup(st, 0);
        x->scope = col_dup(st, 1);
        x->fold = sqlite3_column_int(st, 2);
        x->value = sqlite3_column_type(st, 3) == SQLITE_NULL ? NAN : sqlite3_column_double(st, 3);
    }
    sqlite3_finalize(st);

    kn_run_stage *sg = NULL;
    e = count_rows(s, "stages", id, &n);
    if (!e && n && !(sg = kn_calloc(n, sizeof *sg))) e = KN_ERR_NOMEM;
    in->stages = sg;
    if (!e)
        e = kn__store_prepare(s,
                              "SELECT name, wall_s, cpu_s, peak_rss FROM stages"
                              " WHERE run_id = ? ORDER BY pos",
                              &st);
    if (e) return e;
    sqlite3_bind_int64(st, 1, id);
    while (in->n_stages < n && sqlite3_step(st) == SQLITE_ROW) {
        kn_run_stage *x = &sg[in->n_stages++];
        x->name = col_dup(st, 0);
        x->wall_s = sqlite3_column_double(st, 1);
        x->cpu_s = sqlite3_column_double(st, 2);
        x->peak_rss = (uint64_t)sqlite3_column_int64(st, 3);
    }
    sqlite3_finalize(st);

    kn_run_source *src = NULL;
    e = count_rows(s, "sources", id, &n);
    if (!e && n && !(src = kn_calloc(n, sizeof *src))) e = KN_ERR_NOMEM;
    in->sources = src;
    if (!e)
        e = kn__store_prepare(s,
                              "SELECT name, kind, location, hash, rows FROM sources"
                              " WHERE run_id = ? ORDER BY pos",
                              &st);
    if (e) return e;
    sqlite3_bind_int64(st, 1, id);
    while (in->n_sources < n && sqlite3_step(st) == SQLITE_ROW) {
        kn_run_source *x = &src[in->n_sources++];
        x->name = col_dup(st, 0);
        x->kind = col_dup(st, 1);
        x->location = col_dup(st, 2);
        x->hash = col_dup(st, 3);
        x->rows = (uint64_t)sqlite3_column_int64(st, 4);
    }
    sqlite3_finalize(st);
    return KN_OK;
}

kn_status kn_store_run_get(kn_store *s, const char *run_id, kn_run_record **out)
{
    *out = NULL;
    int64_t id = 0;
    kn_status e = kn__store_run_id(s, run_id, &id);
    if (e) return e;
    sqlite3_stmt *st = NULL;
    e = kn__store_prepare(
        s,
        "SELECT e.name, r.status, r.error, r.start, r.end, r.spec, r.spec_hash, r.seed,"
        " r.parent_run, r.folds_hash, r.model, r.rows_in, r.rows_kept, r.rows_quarantined,"
        " r.rows_deduplicated, r.model_bytes, r.actor, r.cost, a.hash, a.path, a.bytes"
        " FROM runs r JOIN experiments e ON e.id = r.experiment_id"
        " LEFT JOIN artifacts a ON a.hash = r.artifact_hash WHERE r.id = ?",
        &st);
    if (e) return e;
    sqlite3_bind_int64(st, 1, id);
    int rc = sqlite3_step(st);
    if (rc != SQLITE_ROW) {
        sqlite3_finalize(st);
        return kn__store_sql_fail(s, rc, "reading the run");
    }
    kn_run_record *r = kn_calloc(1, sizeof *r);
    if (!r) {
        sqlite3_finalize(st);
        return KN_ERR_NOMEM;
    }
    char name[24];
    kn__store_run_name(id, name);
    kn_run_info *in = &r->info;
    r->id = kn_strdup(name);
    in->experiment = col_dup(st, 0);
    in->status = col_dup(st, 1);
    in->error = col_dup(st, 2);
    in->start = sqlite3_column_double(st, 3);
    in->end = sqlite3_column_double(st, 4);
    in->spec = col_dup(st, 5);
    in->spec_hash = col_dup(st, 6);
    in->seed = (uint64_t)sqlite3_column_int64(st, 7);
    if (sqlite3_column_type(st, 8) != SQLITE_NULL) {
        kn__store_run_name(sqlite3_column_int64(st, 8), name);
        in->parent_run = kn_strdup(name);
    }
    in->folds_hash = col_dup(st, 9);
    in->model = col_dup(st, 10);
    in->rows_in = (uint64_t)sqlite3_column_int64(st, 11);
    in->rows_kept = (uint64_t)sqlite3_column_int64(st, 12);
    in->rows_quarantined = (uint64_t)sqlite3_column_int64(st, 13);
    in->rows_deduplicated = (uint64_t)sqlite3_column_int64(st, 14);
    in->model_bytes = (uint64_t)sqlite3_column_int64(st, 15);
    in->actor = col_dup(st, 16);
    r->cost = sqlite3_column_double(st, 17);
    r->artifact_hash = col_dup(st, 18);
    if (sqlite3_column_type(st, 19) != SQLITE_NULL)
        r->artifact_path =
            kn_sprintf("%s/%s", s->abs_dir, (const char *)sqlite3_column_text(st, 19));
    r->artifact_bytes = (uint64_t)sqlite3_column_int64(st, 20);
    sqlite3_finalize(st);
    e = read_lists(s, id, in);
    if (e) {
        kn_run_record_free(r);
        return e == KN_ERR_NOMEM ? kn_fail(e, "out of memory reading run %s", run_id) : e;
    }
    *out = r;
    return KN_OK;
}

/* ---- listing ---- */

static kn_status find_experiment(kn_store *s, const char *name, int64_t *id)
{
    sqlite3_stmt *st = NULL;
    kn_status e = kn__store_prepare(s, "SELECT id FROM experiments WHERE name = ?", &st);
    if (e) return e;
    sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) *id = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    if (rc == SQLITE_ROW) return KN_OK;
    char known[256] = "";
    size_t used = 0;
    if (kn__store_prepare(s, "SELECT name FROM experiments ORDER BY name LIMIT 10", &st) == KN_OK) {
        while (sqlite3_step(st) == SQLITE_ROW && used < sizeof known - 64)
            used += (size_t)snprintf(known + used, sizeof known - used, "%s%s", used ? ", " : "",
                                     (const char *)sqlite3_column_text(st, 0));
        sqlite3_finalize(st);
    }
    return kn_fail(KN_ERR_NOT_FOUND, "store %s has no experiment '%s'%s%s", s->dir, name,
                   used ? "; it has " : " (it has no runs yet)", known);
}

kn_status kn_store_runs_count(kn_store *s, const char *experiment, uint64_t *n)
{
    int64_t exp = 0;
    kn_status e = experiment ? find_experiment(s, experiment, &exp) : KN_OK;
    sqlite3_stmt *st = NULL;
    if (!e)
        e = kn__store_prepare(s,
                              experiment ? "SELECT count(*) FROM runs WHERE experiment_id = ?"
                                         /* runs are only appended (nothing deletes one) and
                                            ids are given in order under the write lock, so
                                            the largest id is the count without reading the
                                            whole table */
                                         : "SELECT coalesce(max(id), 0) FROM runs",
                              &st);
    if (e) return e;
    if (experiment) sqlite3_bind_int64(st, 1, exp);
    int rc = sqlite3_step(st);
    *n = rc == SQLITE_ROW ? (uint64_t)sqlite3_column_int64(st, 0) : 0;
    sqlite3_finalize(st);
    return rc == SQLITE_ROW ? KN_OK : kn__store_sql_fail(s, rc, "counting runs");
}

kn_status kn_store_runs_list(kn_store *s, const char *experiment, size_t limit,
                             kn_run_summary_fn fn, void *user)
{
    int64_t exp = 0;
    kn_status e = experiment ? find_experiment(s, experiment, &exp) : KN_OK;
    sqlite3_stmt *st = NULL, *head = NULL;
    if (!e)
        e = kn__store_prepare(
            s,
            experiment
                ? "SELECT r.id, e.name, r.status, r.model, r.start, r.end, r.cost FROM runs r"
                  " JOIN experiments e ON e.id = r.experiment_id WHERE r.experiment_id = ?1"
                  " ORDER BY r.id DESC LIMIT ?2"
                : "SELECT r.id, e.name, r.status, r.model, r.start, r.end, r.cost FROM runs r"
                  " JOIN experiments e ON e.id = r.experiment_id ORDER BY r.id DESC LIMIT ?2",
            &st);
    if (!e)
        e = kn__store_prepare(s,
                              "SELECT name, scope, value FROM metrics WHERE run_id = ?"
                              " AND scope IN ('test', 'cv_mean') ORDER BY scope = 'cv_mean', pos"
                              " LIMIT 1",
                              &head);
    if (e) {
        sqlite3_finalize(st);
        return e;
    }
    if (experiment) sqlite3_bind_int64(st, 1, exp);
    sqlite3_bind_int64(st, 2, limit ? (int64_t)limit : -1);
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        char name[24];
        int64_t id = sqlite3_column_int64(st, 0);
        kn__store_run_name(id, name);
        kn_run_summary r = {name,
                            (const char *)sqlite3_column_text(st, 1),
                            (const char *)sqlite3_column_text(st, 2),
                            (const char *)sqlite3_column_text(st, 3),
                            sqlite3_column_double(st, 4),
                            sqlite3_column_double(st, 5),
                            sqlite3_column_double(st, 6),
                            NULL,
                            NULL,
                            0};
        sqlite3_bind_int64(head, 1, id);
        if (sqlite3_step(head) == SQLITE_ROW) {
            r.metric = (const char *)sqlite3_column_text(head, 0);
            r.metric_scope = (const char *)sqlite3_column_text(head, 1);
            r.metric_value =
                sqlite3_column_type(head, 2) == SQLITE_NULL ? NAN : sqlite3_column_double(head, 2);
        }
        int stop = fn(&r, user);
        sqlite3_reset(head);
        if (stop) {
            rc = SQLITE_DONE;
            break;
        }
    }
    sqlite3_finalize(head);
    sqlite3_finalize(st);
    return rc == SQLITE_DONE ? KN_OK : kn__store_sql_fail(s, rc, "listing runs");
}
