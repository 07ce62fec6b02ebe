/* Monitoring in the store (kiln/store.h): each check's result, each alert
 * rule's streak of firing windows and the alert incidents. */
#include "store/store-impl.h"

#include "kiln/mem.h"

#include <string.h>

static kn_status need_monitor_tables(kn_store *s)
{
    if (s->schema >= 3) return KN_OK;
    return kn_fail(KN_ERR_IO,
                   "store %s predates monitoring (schema version %d) and is read-only, so it "
                   "cannot be upgraded: make the folder and kiln.db writable, or use another "
                   "store with --store DIR",
                   s->dir, s->schema);
}

/* Run st to its end; KN_OK or the store's error for `doing`. */
static kn_status step_done(kn_store *s, sqlite3_stmt *st, const char *doing)
{
    int rc = sqlite3_step(st);
    sqlite3_finalize(st);
    return rc == SQLITE_DONE ? KN_OK : kn__store_sql_fail(s, rc, doing);
}

kn_status kn_store_monitor_add(kn_store *s, const char *model, const char *data,
                               uint64_t window_rows, uint64_t rows, int drift,
                               const char *result_json, int64_t *id)
{
    kn_status e = need_monitor_tables(s);
    sqlite3_stmt *st = NULL;
    if (!e)
        e = kn__store_prepare(s,
                              "INSERT INTO monitor_checks(time, model, data, window_rows, rows,"
                              " drift, result) VALUES (?,?,?,?,?,?,?)",
                              &st);
    if (e) return e;
    sqlite3_bind_double(st, 1, kn__store_now());
    sqlite3_bind_text(st, 2, model, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 3, data, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 4, (sqlite3_int64)window_rows);
    sqlite3_bind_int64(st, 5, (sqlite3_int64)rows);
    sqlite3_bind_int(st, 6, drift != 0);
    sqlite3_bind_text(st, 7, result_json, -1, SQLITE_STATIC);
    e = step_done(s, st, "recording the check");
    if (!e && id) *id = sqlite3_last_insert_rowid(s->db);
    return e;
}

kn_status kn_store_alert_observe(kn_store *s, const char *model, const char *rule,
                                 const char *severity, int firing, int64_t for_windows,
                                 const char *detail, kn_alert_step *out)
{
    return kn_store_alert_observe_scoped(s, model, NULL, rule, severity, firing, for_windows,
                                         detail, out);
}

kn_status kn_store_alert_observe_scoped(kn_store *s, const char *model, const char *scope,
                                        const char *rule, const char *severity, int firing,
                                        int64_t for_windows, const char *detail, kn_alert_step *out)
{
    memset(out, 0, sizeof *out);
    if (!scope || !*scope) scope = "main";
    kn_status e = need_monitor_tables(s);
    if (!e && s->schema < 4)
        e = kn_fail(KN_ERR_IO,
                    "store %s predates alert scopes (schema version %d) and is read-only, so "
                    "it cannot be upgraded: make the folder and kiln.db writable, or use "
                    "another store with --store DIR",
                    s->dir, s->schema);
    if (!e) e = kn__store_begin(s);
    if (e) return e;
    sqlite3_stmt *st = NULL;
    int64_t streak = 0, open_id = 0;
    int undelivered = 0;
    double now = kn__store_now(), since = 0;
    e = kn__store_prepare(s,
                          "SELECT streak FROM monitor_rule_state WHERE model = ?1 AND scope = ?3"
                          " AND rule = ?2",
                          &st);
    if (!e) {
        sqlite3_bind_text(st, 1, model, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 2, rule, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 3, scope, -1, SQLITE_STATIC);
        if (sqlite3_step(st) == SQLITE_ROW) streak = sqlite3_column_int64(st, 0);
        sqlite3_finalize(st);
    }
    streak = firing ? streak + 1 : 0;
    if (!e)
        e = kn__store_prepare(s,
                              "INSERT INTO monitor_rule_state(model, scope, rule, streak)"
                              " VALUES (?1,?4,?2,?3) ON CONFLICT(model, scope, rule)"
                              " DO UPDATE SET streak = excluded.streak",
                              &st);
    if (!e) {
        sqlite3_bind_text(st, 1, model, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 2, rule, -1, SQLITE_STATIC);
        sqlite3_bind_int64(st, 3, streak);
        sqlite3_bind_text(st, 4, scope, -1, SQLITE_STATIC);
        e = step_done(s, st, "recording the alert rule");
    }
    if (!e)
        e = kn__store_prepare(s,
                              "SELECT id, delivered IS NULL, opened FROM monitor_alerts"
                              " WHERE model = ?1 AND scope = ?3 AND rule = ?2 AND closed IS NULL",
                              &st);
    if (!e) {
        sqlite3_bind_text(st, 1, model, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 2, rule, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 3, scope, -1, SQLITE_STATIC);
        if (sqlite3_step(st) == SQLITE_ROW) {
            open_id = sqlite3_column_int64(st, 0);
            undelivered = sqlite3_column_int(st, 1);
            since = sqlite3_column_double(st, 2);
        }
        sqlite3_finalize(st);
    }
    if (!e && firing && streak >= for_windows) {
        if (open_id) {
            e = kn__store_prepare(
                s, "UPDATE monitor_alerts SET last_seen = ?, detail = ? WHERE id = ?", &st);
            if (!e) {
                sqlite3_bind_double(st, 1, now);
                sqlite3_bind_text(st, 2, detail, -1, SQLITE_STATIC);
                sqlite3_bind_int64(st, 3, open_id);
                e = step_done(s, st, "updating the alert");
            }
        } else {
            e = kn__store_prepare(s,
                                  "INSERT INTO monitor_alerts(model, rule, severity, opened,"
                                  " last_seen, detail, scope) VALUES (?,?,?,?,?,?,?)",
                                  &st);
            if (!e) {
                sqlite3_bind_text(st, 7, scope, -1, SQLITE_STATIC);
                sqlite3_bind_text(st, 1, model, -1, SQLITE_STATIC);
                sqlite3_bind_text(st, 2, rule, -1, SQLITE_STATIC);
                sqlite3_bind_text(st, 3, severity, -1, SQLITE_STATIC);
                sqlite3_bind_double(st, 4, now);
                sqlite3_bind_double(st, 5, now);
                sqlite3_bind_text(st, 6, detail, -1, SQLITE_STATIC);
                e = step_done(s, st, "opening the alert");
            }
            if (!e) {
                open_id = sqlite3_last_insert_rowid(s->db);
                out->opened = 1;
                undelivered = 1;
                since = now;
            }
        }
        out->incident = open_id;
        out->undelivered = undelivered;
        out->since = since;
    } else if (!e && !firing && open_id) {
        e = kn__store_prepare(s, "UPDATE monitor_alerts SET closed = ? WHERE id = ?", &st);
        if (!e) {
            sqlite3_bind_double(st, 1, now);
            sqlite3_bind_int64(st, 2, open_id);
            e = step_done(s, st, "closing the alert");
        }
        out->closed = 1;
    } else if (!e && open_id) { /* firing, streak below for_windows: cannot happen while open */
        out->incident = open_id;
        out->undelivered = undelivered;
        out->since = since;
    }
    out->streak = streak;
    if (e) {
        kn__store_rollback(s);
        memset(out, 0, sizeof *out);
        return e;
    }
    return kn__store_commit(s);
}

kn_status kn_store_alert_delivered(kn_store *s, int64_t incident, int ok, int attempts)
{
    kn_status e = need_monitor_tables(s);
    sqlite3_stmt *st = NULL;
    if (!e)
        e = kn__store_prepare(
            s,
            ok ? "UPDATE monitor_alerts SET delivered = ?1, attempts = attempts + ?3"
                 " WHERE id = ?2"
               : "UPDATE monitor_alerts SET attempts = attempts + ?3 + 0 * ?1"
                 " WHERE id = ?2",
            &st);
    if (e) return e;
    sqlite3_bind_double(st, 1, kn__store_now());
    sqlite3_bind_int64(st, 2, incident);
    sqlite3_bind_int(st, 3, attempts);
    return step_done(s, st, "recording the alert's delivery");
}

kn_status kn_store_alerts(kn_store *s, const char *model, size_t limit, kn_alert_incident_fn fn,
                          void *user)
{
    if (s->schema < 3) return KN_OK; /* an old read-only store: none */
    sqlite3_stmt *st = NULL;
    /* model: that model's incidents of every scope; MODEL#SCOPE: of one */
    static const char v4[] =
        "SELECT id, model, rule, severity, detail, opened, last_seen, coalesce(closed, 0),"
        " coalesce(delivered, 0), attempts, scope FROM monitor_alerts WHERE ?1 IS NULL"
        " OR model = ?1 OR model || '#' || scope = ?1 ORDER BY id DESC LIMIT ?2";
    /* a read-only store of schema 3: the scope from the model text */
    // clang-format off
    static const char v3[] =
        "SELECT id, " KN__STORE_V3_MODEL ", rule, severity, detail, opened, last_seen,"
        " coalesce(closed, 0), coalesce(delivered, 0), attempts, " KN__STORE_V3_SCOPE
        " FROM monitor_alerts WHERE ?1 IS NULL OR model = ?1 OR " KN__STORE_V3_MODEL " = ?1"
        " ORDER BY id DESC LIMIT ?2";
    // clang-format on
    kn_status e = kn__store_prepare(s, s->schema >= 4 ? v4 : v3, &st);
    if (e) return e;
    sqlite3_bind_text(st, 1, model, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 2, limit ? (sqlite3_int64)limit : -1);
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        kn_alert_incident a = {sqlite3_column_int64(st, 0),
                               (const char *)sqlite3_column_text(st, 1),
                               (const char *)sqlite3_column_text(st, 2),
                               (const char *)sqlite3_column_text(st, 3),
                               (const char *)sqlite3_column_text(st, 4),
                               sqlite3_column_double(st, 5),
                               sqlite3_column_double(st, 6),
                               sqlite3_column_double(st, 7),
                               sqlite3_column_double(st, 8),
                               sqlite3_column_int64(st, 9),
                               (const char *)sqlite3_column_text(st, 10)};
        if (fn(&a, user)) break;
    }
    sqlite3_finalize(st);
    return rc == SQLITE_ROW || rc == SQLITE_DONE ? KN_OK
                                                 : kn__store_sql_fail(s, rc, "listing alerts");
}

kn_status kn_store_monitor_checks(kn_store *s, const char *model, kn_monitor_check_fn fn,
                                  void *user)
{
    if (s->schema < 3) return KN_OK;
    sqlite3_stmt *st = NULL;
    kn_status e = kn__store_prepare(s,
                                    "SELECT id, time, model, data, result, window_rows, rows, drift"
                                    " FROM monitor_checks WHERE model = ? ORDER BY id",
                                    &st);
    if (e) return e;
    sqlite3_bind_text(st, 1, model, -1, SQLITE_STATIC);
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        kn_monitor_check c = {sqlite3_column_int64(st, 0),
                              sqlite3_column_double(st, 1),
                              (const char *)sqlite3_column_text(st, 2),
                              (const char *)sqlite3_column_text(st, 3),
                              (const char *)sqlite3_column_text(st, 4),
                              (uint64_t)sqlite3_column_int64(st, 5),
                              (uint64_t)sqlite3_column_int64(st, 6),
                              sqlite3_column_int(st, 7)};
        if (fn(&c, user)) break;
    }
    sqlite3_finalize(st);
    return rc == SQLITE_ROW || rc == SQLITE_DONE ? KN_OK
                                                 : kn__store_sql_fail(s, rc, "listing checks");
}
