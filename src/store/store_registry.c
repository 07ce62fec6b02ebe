/* The model registry: versions of named models, their stages (one version
 * in production and one in staging at a time), rollback, resolution of
 * "NAME@stage" references, and the audit row of every change. */
#include "store/store-impl.h"

#include "kiln/mem.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void kn_gate_opts_default(kn_gate_opts *o)
{
    memset(o, 0, sizeof *o);
    o->metric_margin = 0.01;
    o->latency_ms = 50;
}

static int known_stage(const char *st)
{
    return st && (!strcmp(st, "none") || !strcmp(st, "staging") || !strcmp(st, "production") ||
                  !strcmp(st, "archived"));
}

/* "a, b, c" from a one-column query (at most 10 values), for errors. */
static void list_text(kn_store *s, const char *sql, int64_t arg, const char *prefix, char *out,
                      size_t cap)
{
    sqlite3_stmt *st = NULL;
    size_t used = 0;
    out[0] = '\0';
    if (sqlite3_prepare_v2(s->db, sql, -1, &st, NULL) != SQLITE_OK) return;
    if (arg) sqlite3_bind_int64(st, 1, arg);
    for (int n = 0; sqlite3_step(st) == SQLITE_ROW && used + 64 < cap && n < 10; n++)
        used += (size_t)snprintf(out + used, cap - used, "%s%s%s", n ? ", " : "", prefix,
                                 (const char *)sqlite3_column_text(st, 0));
    sqlite3_finalize(st);
}

kn_status kn__store_model_id(kn_store *s, const char *name, int64_t *id)
{
    sqlite3_stmt *st = NULL;
    kn_status e = kn__store_prepare(s, "SELECT id FROM models WHERE name = ?", &st);
    if (e) return e;
    sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) *id = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    if (rc == SQLITE_ROW) return KN_OK;
    if (rc != SQLITE_DONE) return kn__store_sql_fail(s, rc, "reading the registry");
    char known[512];
    list_text(s, "SELECT name FROM models ORDER BY name", 0, "", known, sizeof known);
    if (!known[0])
        return kn_fail(KN_ERR_NOT_FOUND,
                       "store %s has no model '%s': no model is registered yet (a spec's "
                       "register: section does it)",
                       s->dir, name);
    return kn_fail(KN_ERR_NOT_FOUND, "store %s has no model '%s'; its models: %s", s->dir, name,
                   known);
}

typedef struct version_row {
    int version;
    char stage[16];
    int64_t run;
    int replaced;
} version_row;

static kn_status version_get(kn_store *s, const char *name, int64_t mid, int version,
                             version_row *v)
{
    sqlite3_stmt *st = NULL;
    kn_status e = kn__store_prepare(s,
                                    "SELECT stage, run_id, replaced FROM model_versions"
                                    " WHERE model_id = ? AND version = ?",
                                    &st);
    if (e) return e;
    sqlite3_bind_int64(st, 1, mid);
    sqlite3_bind_int(st, 2, version);
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) {
        v->version = version;
        snprintf(v->stage, sizeof v->stage, "%s", (const char *)sqlite3_column_text(st, 0));
        v->run = sqlite3_column_int64(st, 1);
        v->replaced = sqlite3_column_int(st, 2);
    }
    sqlite3_finalize(st);
    if (rc == SQLITE_ROW) return KN_OK;
    if (rc != SQLITE_DONE) return kn__store_sql_fail(s, rc, "reading the registry");
    char known[512];
    list_text(s, "SELECT version FROM model_versions WHERE model_id = ? ORDER BY version", mid, "v",
              known, sizeof known);
    return kn_fail(KN_ERR_NOT_FOUND, "model '%s' has no version %d; its versions: %s", name,
                   version, known[0] ? known : "none");
}

/* The version in a stage (0 when none). */
static kn_status in_stage(kn_store *s, int64_t mid, const char *stage, version_row *v)
{
    sqlite3_stmt *st = NULL;
    memset(v, 0, sizeof *v);
    kn_status e = kn__store_prepare(s,
                                    "SELECT version, run_id, replaced FROM model_versions"
                                    " WHERE model_id = ? AND stage = ? ORDER BY version DESC"
                                    " LIMIT 1",
                                    &st);
    if (e) return e;
    sqlite3_bind_int64(st, 1, mid);
    sqlite3_bind_text(st, 2, stage, -1, SQLITE_STATIC);
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) {
        v->version = sqlite3_column_int(st, 0);
        snprintf(v->stage, sizeof v->stage, "%s", stage);
        v->run = sqlite3_column_int64(st, 1);
        v->replaced = sqlite3_column_int(st, 2);
    }
    sqlite3_finalize(st);
    return rc == SQLITE_ROW || rc == SQLITE_DONE
               ? KN_OK
               : kn__store_sql_fail(s, rc, "reading the registry");
}

static kn_status set_stage(kn_store *s, int64_t mid, int version, const char *stage, int replaced)
{
    sqlite3_stmt *st = NULL;
    kn_status e = kn__store_prepare(
        s,
        replaced >= 0 ? "UPDATE model_versions SET stage = ?3, replaced = ?4"
                        " WHERE model_id = ?1 AND version = ?2"
                      : "UPDATE model_versions SET stage = ?3 WHERE model_id = ?1 AND version = ?2",
        &st);
    if (e) return e;
    sqlite3_bind_int64(st, 1, mid);
    sqlite3_bind_int(st, 2, version);
    sqlite3_bind_text(st, 3, stage, -1, SQLITE_STATIC);
    if (replaced >= 0) sqlite3_bind_int(st, 4, replaced);
    int rc = sqlite3_step(st);
    sqlite3_finalize(st);
    return rc == SQLITE_DONE ? KN_OK : kn__store_sql_fail(s, rc, "changing a stage");
}

static kn_status touch_model(kn_store *s, int64_t mid)
{
    sqlite3_stmt *st = NULL;
    kn_status e = kn__store_prepare(s, "UPDATE models SET updated = ? WHERE id = ?", &st);
    if (e) return e;
    sqlite3_bind_double(st, 1, kn__store_now());
    sqlite3_bind_int64(st, 2, mid);
    int rc = sqlite3_step(st);
    sqlite3_finalize(st);
    return rc == SQLITE_DONE ? KN_OK : kn__store_sql_fail(s, rc, "changing a stage");
}

/* Inside a transaction: move version v (row cur) to stage, with the moves
 * the stage's uniqueness implies, and their audit rows. */
static kn_status move(kn_store *s, const char *name, int64_t mid, const version_row *cur,
                      const char *stage, const kn_gate_opts *o, const char *action,
                      const char *detail)
{
    const char *actor = o ? o->actor : NULL, *reason = o ? o->reason : NULL;
    kn_status e = KN_OK;
    /* out of production to any other stage (staging included: it would
     * leave the model with no production version, and rollback with
     * nothing to return from) only by force, as archive */
    if (!strcmp(cur->stage, "production") && strcmp(stage, "production") && !(o && o->force))
        return kn_fail(KN_ERR_REFUSED,
                       "version %d of '%s' is in production: moving it to %s would leave "
                       "'%s' with no version in production; promote another version or "
                       "roll back first (or force it with a reason)",
                       cur->version, name, stage, name);
    if (!strcmp(stage, "production") || !strcmp(stage, "staging")) {
        version_row old;
        e = in_stage(s, mid, stage, &old);
        if (!e && old.version && old.version != cur->version) {
            e = set_stage(s, mid, old.version, "archived", -1);
            if (!e)
                e = kn__store_audit_add(s, actor, "replaced", mid, old.version, old.run, stage,
                                        "archived", NULL, NULL);
        }
        if (!e)
            e = set_stage(s, mid, cur->version, stage,
                          !strcmp(stage, "production") ? old.version : -1);
    } else
        e = set_stage(s, mid, cur->version, stage, -1);
    if (!e) e = touch_model(s, mid);
    if (!e)
        e = kn__store_audit_add(s, actor, action, mid, cur->version, cur->run, cur->stage, stage,
                                reason, detail);
    return e;
}

static kn_status check_opts(const char *stage, const kn_gate_opts *o)
{
    if (!known_stage(stage))
        return kn_fail(KN_ERR_INVALID, "stage '%s': use none, staging, production or archived",
                       stage ? stage : "(null)");
    if (o && o->force && (!o->reason || !*o->reason))
        return kn_fail(KN_ERR_INVALID,
                       "a forced promotion needs a reason (it is recorded in the audit trail)");
    return KN_OK;
}

/* Promote (or register, when run > 0: a new version first) with the gate
 * measured before the transaction and production re-checked inside it. */
static kn_status change(kn_store *s, const char *name, int version, int64_t new_run,
                        const char *stage, const kn_gate_opts *o, int *out_version)
{
    kn_status e = check_opts(stage, o);
    if (e) return e;
    for (int attempt = 0; attempt < 5; attempt++) {
        int64_t mid = 0;
        version_row cur = {0}, prod = {0};
        char *detail = NULL;
        if (new_run == 0) {
            e = kn__store_model_id(s, name, &mid);
            if (!e) e = version_get(s, name, mid, version, &cur);
        } else {
            cur.run = new_run;
            snprintf(cur.stage, sizeof cur.stage, "none");
            if (kn__store_model_id(s, name, &mid) != KN_OK) {
                kn_clear_error();
                mid = 0;
            }
        }
        if (!e && mid) e = in_stage(s, mid, "production", &prod);
        if (e) return e;
        int gate = !strcmp(stage, "production") && (!cur.version || prod.version != cur.version);
        if (gate && !(o && o->force)) {
            kn_gate_opts def;
            kn_gate_opts_default(&def);
            e = kn__store_gate(s, name, cur.run, prod.run, prod.version, o ? o : &def, &detail);
            if (e) {
                kn_free(detail);
                return e;
            }
        } else if (gate) {
            detail = kn_strdup("gate skipped (forced)");
        }
        e = kn__store_begin(s);
        if (e) {
            kn_free(detail);
            return e;
        }
        version_row now = {0};
        if (!mid && new_run) {
            sqlite3_stmt *st = NULL;
            e = kn__store_prepare(s,
                                  "INSERT INTO models(name, created, updated) VALUES (?1, ?2, ?2)"
                                  " ON CONFLICT(name) DO NOTHING",
                                  &st);
            if (!e) {
                sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
                sqlite3_bind_double(st, 2, kn__store_now());
                int rc = sqlite3_step(st);
                sqlite3_finalize(st);
                if (rc != SQLITE_DONE) e = kn__store_sql_fail(s, rc, "registering");
            }
            if (!e) e = kn__store_model_id(s, name, &mid);
        }
        if (!e) e = in_stage(s, mid, "production", &now);
        if (!e && now.version != prod.version) { /* another process changed it: again */
            kn__store_rollback(s);
            kn_free(detail);
            continue;
        }
        if (!e && new_run) {
            sqlite3_stmt *st = NULL;
            e = kn__store_prepare(s,
                                  "INSERT INTO model_versions(model_id, version, run_id, stage,"
                                  " created) SELECT ?1, coalesce(max(version), 0) + 1, ?2, 'none',"
                                  " ?3 FROM model_versions WHERE model_id = ?1",
                                  &st);
            if (!e) {
                sqlite3_bind_int64(st, 1, mid);
                sqlite3_bind_int64(st, 2, new_run);
                sqlite3_bind_double(st, 3, kn__store_now());
                int rc = sqlite3_step(st);
                sqlite3_finalize(st);
                if (rc != SQLITE_DONE) e = kn__store_sql_fail(s, rc, "registering");
            }
            if (!e) e = in_stage(s, mid, "none", &cur); /* the newest 'none' is ours */
            if (!e)
                e = kn__store_audit_add(s, o ? o->actor : NULL, "register", mid, cur.version,
                                        new_run, NULL, "none", NULL, NULL);
        }
        if (!e && strcmp(cur.stage, stage))
            e = move(s, name, mid, &cur, stage, o,
                     !strcmp(stage, "archived") ? "archive"
                     : o && o->force            ? "promote (forced)"
                                                : "promote",
                     detail);
        kn_free(detail);
        if (e) {
            kn__store_rollback(s);
            return e;
        }
        e = kn__store_commit(s);
        if (!e && out_version) *out_version = cur.version;
        return e;
    }
    return kn_fail(KN_ERR_IO,
                   "store %s: production of '%s' kept changing under this promotion; "
                   "try again",
                   s->dir, name);
}

kn_status kn_store_register(kn_store *s, const char *name, const char *run_id, const char *stage,
                            const kn_gate_opts *o, int *version)
{
    if (!name || !*name || strchr(name, '@'))
        return kn_fail(KN_ERR_INVALID, "model name '%s': give a name without '@'",
                       name ? name : "");
    int64_t run = 0;
    kn_status e = kn__store_run_id(s, run_id, &run);
    if (e) return e;
    sqlite3_stmt *st = NULL;
    e = kn__store_prepare(s, "SELECT artifact_hash IS NOT NULL, status FROM runs WHERE id = ?",
                          &st);
    if (e) return e;
    sqlite3_bind_int64(st, 1, run);
    int has = sqlite3_step(st) == SQLITE_ROW && sqlite3_column_int(st, 0);
    sqlite3_finalize(st);
    if (!has)
        return kn_fail(KN_ERR_INVALID,
                       "run %s has no artifact to register (a failed run records none)", run_id);
    return change(s, name, 0, run, stage ? stage : "none", o, version);
}

kn_status kn_store_promote(kn_store *s, const char *name, int version, const char *stage,
                           const kn_gate_opts *o)
{
    return change(s, name, version, 0, stage, o, NULL);
}

kn_status kn_store_archive(kn_store *s, const char *name, int version, const kn_gate_opts *o)
{
    return change(s, name, version, 0, "archived", o, NULL);
}

kn_status kn_store_rollback(kn_store *s, const char *name, const kn_gate_opts *o)
{
    int64_t mid = 0;
    kn_status e = kn__store_begin(s);
    if (e) return e;
    version_row cur = {0}, back = {0};
    e = kn__store_model_id(s, name, &mid);
    if (!e) e = in_stage(s, mid, "production", &cur);
    if (!e && !cur.version)
        e = kn_fail(KN_ERR_NOT_FOUND, "model '%s' has no version in production to roll back", name);
    if (!e && !cur.replaced)
        e = kn_fail(KN_ERR_NOT_FOUND,
                    "model '%s' v%d is the first version in production: there is no earlier one "
                    "to return to",
                    name, cur.version);
    if (!e) e = version_get(s, name, mid, cur.replaced, &back);
    if (!e) e = set_stage(s, mid, cur.version, "archived", -1);
    if (!e) e = set_stage(s, mid, back.version, "production", -1);
    if (!e) e = touch_model(s, mid);
    if (!e)
        e = kn__store_audit_add(s, o ? o->actor : NULL, "rollback", mid, cur.version, cur.run,
                                "production", "archived", o ? o->reason : NULL, NULL);
    if (!e)
        e = kn__store_audit_add(s, o ? o->actor : NULL, "rollback", mid, back.version, back.run,
                                back.stage, "production", o ? o->reason : NULL, NULL);
    if (e) {
        kn__store_rollback(s);
        return e;
    }
    return kn__store_commit(s);
}
