/* Reading the registry: resolving "NAME@stage" references, listing models,
 * versions, the audit trail, and the runs that used given data bytes. */
#include "store/store-impl.h"

#include "kiln/mem.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *text(sqlite3_stmt *st, int i)
{
    return (const char *)sqlite3_column_text(st, i);
}

/* What a model's versions are, for an error: "v1 (archived), v2 (production)". */
static void describe_versions(kn_store *s, int64_t mid, char *out, size_t cap)
{
    sqlite3_stmt *st = NULL;
    size_t used = 0;
    out[0] = '\0';
    if (kn__store_prepare(s,
                          "SELECT version, stage FROM model_versions WHERE model_id = ?"
                          " ORDER BY version DESC LIMIT 12",
                          &st))
        return;
    sqlite3_bind_int64(st, 1, mid);
    while (sqlite3_step(st) == SQLITE_ROW && used + 40 < cap)
        used += (size_t)snprintf(out + used, cap - used, "%sv%d (%s)", used ? ", " : "",
                                 sqlite3_column_int(st, 0), text(st, 1));
    sqlite3_finalize(st);
}

kn_status kn_store_resolve(kn_store *s, const char *ref, char **artifact_path, int *version,
                           char **run_id)
{
    if (artifact_path) *artifact_path = NULL;
    if (run_id) *run_id = NULL;
    const char *at = ref ? strchr(ref, '@') : NULL;
    size_t len = at ? (size_t)(at - ref) : (ref ? strlen(ref) : 0);
    char name[256];
    if (!len || len >= sizeof name)
        return kn_fail(KN_ERR_INVALID,
                       "model reference '%s': use NAME, NAME@production, NAME@staging or NAME@vN",
                       ref ? ref : "");
    memcpy(name, ref, len);
    name[len] = '\0';
    const char *want = at ? at + 1 : NULL;
    int v = 0;
    if (want && (want[0] == 'v' || want[0] == 'V') && want[1] >= '0' && want[1] <= '9') {
        char *end = NULL;
        errno = 0;
        long x = strtol(want + 1, &end, 10);
        if (*end || errno || x <= 0 || x > 1000000000)
            return kn_fail(KN_ERR_INVALID, "model reference '%s': a version is v1, v2, ...", ref);
        v = (int)x;
    } else if (want && strcmp(want, "production") && strcmp(want, "staging")) {
        return kn_fail(KN_ERR_INVALID,
                       "model reference '%s': after '@' comes production, staging or vN", ref);
    }
    int64_t mid = 0;
    kn_status e = kn__store_model_id(s, name, &mid);
    if (e) return e;
    sqlite3_stmt *st = NULL;
    const char *sql =
        v      ? "SELECT v.version, v.run_id, a.path FROM model_versions v JOIN runs r ON r.id ="
                 " v.run_id LEFT JOIN artifacts a ON a.hash = r.artifact_hash"
                 " WHERE v.model_id = ?1 AND v.version = ?3"
        : want ? "SELECT v.version, v.run_id, a.path FROM model_versions v JOIN runs r ON r.id ="
                 " v.run_id LEFT JOIN artifacts a ON a.hash = r.artifact_hash"
                 " WHERE v.model_id = ?1 AND v.stage = ?2 ORDER BY v.version DESC LIMIT 1"
               : "SELECT v.version, v.run_id, a.path FROM model_versions v JOIN runs r ON r.id ="
                 " v.run_id LEFT JOIN artifacts a ON a.hash = r.artifact_hash"
                 " WHERE v.model_id = ?1 ORDER BY v.stage = 'production' DESC, v.version DESC"
                 " LIMIT 1";
    e = kn__store_prepare(s, sql, &st);
    if (e) return e;
    sqlite3_bind_int64(st, 1, mid);
    if (want && !v) sqlite3_bind_text(st, 2, want, -1, SQLITE_STATIC);
    if (v) sqlite3_bind_int(st, 3, v);
    int rc = sqlite3_step(st);
    if (rc != SQLITE_ROW) {
        sqlite3_finalize(st);
        if (rc != SQLITE_DONE) return kn__store_sql_fail(s, rc, "resolving a model");
        char known[512];
        describe_versions(s, mid, known, sizeof known);
        return kn_fail(KN_ERR_NOT_FOUND, "model '%s' has no %s%s; its versions: %s", name,
                       v ? "version " : "version in ", v ? want + 1 : want,
                       known[0] ? known : "none");
    }
    int got = sqlite3_column_int(st, 0);
    int64_t run = sqlite3_column_int64(st, 1);
    const char *rel = text(st, 2);
    if (artifact_path && rel) *artifact_path = kn_sprintf("%s/%s", s->abs_dir, rel);
    sqlite3_finalize(st);
    if (artifact_path && !*artifact_path) return KN_ERR_NOMEM;
    if (version) *version = got;
    if (run_id) {
        char rn[24];
        kn__store_run_name(run, rn);
        *run_id = kn_strdup(rn);
        if (!*run_id) {
            if (artifact_path) {
                kn_free(*artifact_path);
                *artifact_path = NULL;
            }
            return KN_ERR_NOMEM;
        }
    }
    return KN_OK;
}

kn_status kn_store_models_list(kn_store *s, kn_registered_model_fn fn, void *user)
{
    sqlite3_stmt *st = NULL;
    kn_status e = kn__store_prepare(
        s,
        "SELECT m.name, count(v.version), coalesce(max(v.version), 0),"
        " coalesce(max(CASE WHEN v.stage = 'production' THEN v.version END), 0),"
        " coalesce(max(CASE WHEN v.stage = 'staging' THEN v.version END), 0),"
        " m.created, m.updated FROM models m LEFT JOIN model_versions v ON v.model_id = m.id"
        " GROUP BY m.id ORDER BY m.name",
        &st);
    if (e) return e;
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        kn_registered_model m = {text(st, 0),
                                 sqlite3_column_int(st, 1),
                                 sqlite3_column_int(st, 2),
                                 sqlite3_column_int(st, 3),
                                 sqlite3_column_int(st, 4),
                                 sqlite3_column_double(st, 5),
                                 sqlite3_column_double(st, 6)};
        if (fn(&m, user)) {
            rc = SQLITE_DONE;
            break;
        }
    }
    sqlite3_finalize(st);
    return rc == SQLITE_DONE ? KN_OK : kn__store_sql_fail(s, rc, "listing models");
}

kn_status kn_store_versions(kn_store *s, const char *name, kn_model_version_fn fn, void *user)
{
    int64_t mid = 0;
    kn_status e = kn__store_model_id(s, name, &mid);
    sqlite3_stmt *st = NULL;
    if (!e)
        e = kn__store_prepare(s,
                              "SELECT v.version, v.stage, v.run_id, r.artifact_hash, v.created,"
                              " v.replaced FROM model_versions v JOIN runs r ON r.id = v.run_id"
                              " WHERE v.model_id = ? ORDER BY v.version DESC",
                              &st);
    if (e) return e;
    sqlite3_bind_int64(st, 1, mid);
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        char rn[24];
        kn__store_run_name(sqlite3_column_int64(st, 2), rn);
        kn_model_version v = {name,
                              sqlite3_column_int(st, 0),
                              text(st, 1),
                              rn,
                              text(st, 3),
                              sqlite3_column_double(st, 4),
                              sqlite3_column_int(st, 5)};
        if (fn(&v, user)) {
            rc = SQLITE_DONE;
            break;
        }
    }
    sqlite3_finalize(st);
    return rc == SQLITE_DONE ? KN_OK : kn__store_sql_fail(s, rc, "listing versions");
}

kn_status kn_store_audit(kn_store *s, const char *model, size_t limit, kn_audit_fn fn, void *user)
{
    int64_t mid = 0;
    kn_status e = model ? kn__store_model_id(s, model, &mid) : KN_OK;
    sqlite3_stmt *st = NULL;
    if (!e)
        e = kn__store_prepare(s,
                              model ? "SELECT a.id, a.time, a.actor, a.action, m.name, a.version,"
                                      " a.run_id, a.from_stage, a.to_stage, a.reason, a.detail"
                                      " FROM audit a LEFT JOIN models m ON m.id = a.model_id"
                                      " WHERE a.model_id = ?1 ORDER BY a.id DESC LIMIT ?2"
                                    : "SELECT a.id, a.time, a.actor, a.action, m.name, a.version,"
                                      " a.run_id, a.from_stage, a.to_stage, a.reason, a.detail"
                                      " FROM audit a LEFT JOIN models m ON m.id = a.model_id"
                                      " ORDER BY a.id DESC LIMIT ?2",
                              &st);
    if (e) return e;
    if (model) sqlite3_bind_int64(st, 1, mid);
    sqlite3_bind_int64(st, 2, limit ? (int64_t)limit : -1);
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        char rn[24] = "";
        if (sqlite3_column_type(st, 6) != SQLITE_NULL)
            kn__store_run_name(sqlite3_column_int64(st, 6), rn);
        kn_audit_entry a = {sqlite3_column_int64(st, 0),
                            sqlite3_column_double(st, 1),
                            text(st, 2),
                            text(st, 3),
                            text(st, 4),
                            sqlite3_column_int(st, 5),
                            rn[0] ? rn : NULL,
                            text(st, 7),
                            text(st, 8),
                            text(st, 9),
                            text(st, 10)};
        if (fn(&a, user)) {
            rc = SQLITE_DONE;
            break;
        }
    }
    sqlite3_finalize(st);
    return rc == SQLITE_DONE ? KN_OK : kn__store_sql_fail(s, rc, "reading the audit trail");
}

kn_status kn_store_data_uses(kn_store *s, const char *hash, kn_data_use_fn fn, void *user)
{
    sqlite3_stmt *st = NULL;
    kn_status e = kn__store_prepare(
        s,
        "SELECT src.run_id, src.name, src.location, src.rows, m.name, v.version, v.stage"
        " FROM sources src LEFT JOIN model_versions v ON v.run_id = src.run_id"
        " LEFT JOIN models m ON m.id = v.model_id WHERE src.hash = ?"
        " ORDER BY src.run_id DESC, m.name, v.version",
        &st);
    if (e) return e;
    sqlite3_bind_text(st, 1, hash, -1, SQLITE_STATIC);
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        char rn[24];
        kn__store_run_name(sqlite3_column_int64(st, 0), rn);
        kn_data_use u = {rn,          text(st, 1),
                         text(st, 2), (uint64_t)sqlite3_column_int64(st, 3),
                         text(st, 4), sqlite3_column_int(st, 5),
                         text(st, 6)};
        if (fn(&u, user)) {
            rc = SQLITE_DONE;
            break;
        }
    }
    sqlite3_finalize(st);
    return rc == SQLITE_DONE ? KN_OK : kn__store_sql_fail(s, rc, "reading lineage");
}
