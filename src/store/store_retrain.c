/* A retrain's steps in the audit trail (kiln monitor retrain): the claim
 * that keeps one retrain per model and incident, and the rows of its steps. */
#include "store/store-impl.h"

#include "kiln/mem.h"

#include <stdio.h>
#include <string.h>

static const char end_actions[] = "('retrain promoted', 'retrain refused', 'retrain failed')";

/* The model's latest trigger row (0 when none) and whether an end row
 * follows it. */
static kn_status latest_trigger(kn_store *s, int64_t mid, int64_t *id, double *time, int *ended)
{
    sqlite3_stmt *st = NULL;
    *id = 0;
    *ended = 0;
    kn_status e = kn__store_prepare(s,
                                    "SELECT id, time FROM audit WHERE model_id = ?1 AND action ="
                                    " 'retrain trigger' ORDER BY id DESC LIMIT 1",
                                    &st);
    if (e) return e;
    sqlite3_bind_int64(st, 1, mid);
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) {
        *id = sqlite3_column_int64(st, 0);
        *time = sqlite3_column_double(st, 1);
    }
    sqlite3_finalize(st);
    if (rc != SQLITE_ROW && rc != SQLITE_DONE)
        return kn__store_sql_fail(s, rc, "reading the audit trail");
    if (!*id) return KN_OK;
    char sql[256];
    snprintf(sql, sizeof sql,
             "SELECT 1 FROM audit WHERE model_id = ?1 AND id > ?2 AND action IN %s LIMIT 1",
             end_actions);
    e = kn__store_prepare(s, sql, &st);
    if (e) return e;
    sqlite3_bind_int64(st, 1, mid);
    sqlite3_bind_int64(st, 2, *id);
    rc = sqlite3_step(st);
    sqlite3_finalize(st);
    if (rc != SQLITE_ROW && rc != SQLITE_DONE)
        return kn__store_sql_fail(s, rc, "reading the audit trail");
    *ended = rc == SQLITE_ROW;
    return KN_OK;
}

/* The trigger row with this key (0 when none). */
static kn_status keyed_trigger(kn_store *s, int64_t mid, const char *key, int64_t *id)
{
    sqlite3_stmt *st = NULL;
    *id = 0;
    kn_status e = kn__store_prepare(s,
                                    "SELECT id FROM audit WHERE model_id = ?1 AND action ="
                                    " 'retrain trigger' AND reason = ?2 ORDER BY id LIMIT 1",
                                    &st);
    if (e) return e;
    sqlite3_bind_int64(st, 1, mid);
    sqlite3_bind_text(st, 2, key, -1, SQLITE_STATIC);
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) *id = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    return rc == SQLITE_ROW || rc == SQLITE_DONE
               ? KN_OK
               : kn__store_sql_fail(s, rc, "reading the audit trail");
}

kn_status kn_store_retrain_keyed(kn_store *s, const char *model, const char *key, int64_t *retrain)
{
    *retrain = 0;
    int64_t mid = 0;
    kn_status e = kn__store_model_id(s, model, &mid);
    return e ? e : keyed_trigger(s, mid, key, retrain);
}

kn_status kn_store_retrain_begin(kn_store *s, const char *model, const char *key,
                                 const char *detail, double stale_s, const char *actor,
                                 int64_t *retrain, char **why)
{
    *retrain = 0;
    *why = NULL;
    if (!(stale_s > 0))
        return kn_fail(KN_ERR_INVALID, "retrain: stale_s (%g) must be over 0 seconds", stale_s);
    int64_t mid = 0;
    kn_status e = kn__store_model_id(s, model, &mid);
    if (e) return e;
    e = kn__store_begin(s);
    if (e) return e;
    int64_t last = 0, same = 0;
    double when = 0;
    int ended = 0;
    e = latest_trigger(s, mid, &last, &when, &ended);
    if (!e && key) e = keyed_trigger(s, mid, key, &same);
    if (e) goto fail;
    if (same) {
        *why = kn_sprintf("retrain %lld of '%s' was started for %s already", (long long)same, model,
                          key);
    } else if (last && !ended && kn__store_now() - when < stale_s) {
        *why = kn_sprintf("retrain %lld of '%s' is under way (started %.0f s ago, no end row yet)",
                          (long long)last, model, kn__store_now() - when);
    } else {
        char *text = kn_sprintf("%s%s",
                                last && !ended ? "(an earlier retrain that never ended "
                                                 "counts as abandoned) "
                                               : "",
                                detail ? detail : "");
        e = text ? kn__store_audit_add(s, actor, "retrain trigger", mid, 0, 0, NULL, NULL,
                                       key ? key : "by hand", text)
                 : KN_ERR_NOMEM;
        kn_free(text);
        if (e) goto fail;
        *retrain = sqlite3_last_insert_rowid(s->db);
    }
    if (!*retrain && !*why) {
        e = KN_ERR_NOMEM;
        goto fail;
    }
    e = kn__store_commit(s);
    if (e) {
        *retrain = 0;
        kn_free(*why);
        *why = NULL;
    }
    return e;
fail:
    kn__store_rollback(s);
    return e;
}

kn_status kn_store_retrain_step(kn_store *s, const char *model, int64_t retrain, const char *action,
                                int version, const char *run_id, const char *reason,
                                const char *detail, const char *actor)
{
    if (!action || strncmp(action, "retrain ", 8) || !strcmp(action, "retrain trigger"))
        return kn_fail(KN_ERR_INVALID,
                       "retrain step '%s': a step's action starts with 'retrain ' and is not the "
                       "trigger (kn_store_retrain_begin writes that)",
                       action ? action : "(null)");
    int64_t mid = 0, run = 0;
    kn_status e = kn__store_model_id(s, model, &mid);
    if (!e && run_id) e = kn__store_run_id(s, run_id, &run);
    if (e) return e;
    char *text = kn_sprintf("retrain %lld%s%s", (long long)retrain, detail ? ": " : "",
                            detail ? detail : "");
    if (!text) return KN_ERR_NOMEM;
    e = kn__store_begin(s);
    if (!e) {
        e = kn__store_audit_add(s, actor, action, mid, version, run, NULL, NULL, reason, text);
        if (e)
            kn__store_rollback(s);
        else
            e = kn__store_commit(s);
    }
    kn_free(text);
    return e;
}
