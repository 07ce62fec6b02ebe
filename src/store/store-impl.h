/* The store's handle and the helpers its files share (src/store/). */
#ifndef KILN_STORE_IMPL_H
#define KILN_STORE_IMPL_H

#include "kiln/store.h"

#include <sqlite3.h>

/* Schema version (PRAGMA user_version): a later version migrates from the
 * numbers below it in store.c. */
#define KN__STORE_SCHEMA 4

/* Schema 3 kept an alert stream's scope in the model text: "MODEL#SCOPE"
 * (kiln serve's canary: "#canary"; kiln monitor feedback's versions:
 * "#<digits>"). In SQL on the column `model` of that text: the position of
 * that '#' (0: none, the scope is "main"), the model and the scope. The
 * upgrade to 4 splits the rows with these; a read-only store of schema 3
 * is read through them. */
// clang-format off
#define KN__STORE_V3_SCOPE_AT                                                                      \
    "(CASE WHEN model GLOB '?*#canary' THEN length(model) - 6"                                     \
    " WHEN rtrim(model, '0123456789') <> model AND rtrim(model, '0123456789') GLOB '?*#'"          \
    " THEN length(rtrim(model, '0123456789')) ELSE 0 END)"
#define KN__STORE_V3_MODEL                                                                         \
    "(CASE " KN__STORE_V3_SCOPE_AT " WHEN 0 THEN model"                                            \
    " ELSE substr(model, 1, " KN__STORE_V3_SCOPE_AT " - 1) END)"
#define KN__STORE_V3_SCOPE                                                                         \
    "(CASE " KN__STORE_V3_SCOPE_AT " WHEN 0 THEN 'main'"                                           \
    " ELSE substr(model, " KN__STORE_V3_SCOPE_AT " + 1) END)"
// clang-format on

struct kn_store {
    sqlite3 *db;
    char *dir;     /* as given or chosen */
    char *abs_dir; /* absolute, for artifact paths */
    char *db_path; /* dir/kiln.db */
    int schema;    /* the file's schema version (below KN__STORE_SCHEMA when read-only) */
};

/* A failure of SQLite as a kn_status naming the store and the fix (a
 * read-only folder, a full disk, a busy store). */
kn_status kn__store_sql_fail(kn_store *s, int rc, const char *doing);
/* Prepare a statement (errors through kn__store_sql_fail). */
kn_status kn__store_prepare(kn_store *s, const char *sql, sqlite3_stmt **st);
/* Run SQL without results. */
kn_status kn__store_exec(kn_store *s, const char *sql, const char *doing);
/* BEGIN IMMEDIATE with retries while another process holds the lock, and
 * its COMMIT (retried likewise) or ROLLBACK. */
kn_status kn__store_begin(kn_store *s);
kn_status kn__store_commit(kn_store *s);
void kn__store_rollback(kn_store *s);
/* "r000042" for a run's row id; a run reference ("r42", "r000042", "42",
 * "latest") to its row id, KN_ERR_NOT_FOUND naming the store's latest runs. */
void kn__store_run_name(int64_t id, char buf[24]);
kn_status kn__store_run_id(kn_store *s, const char *ref, int64_t *id);
/* The id of model `name`; an unknown name is KN_ERR_NOT_FOUND listing the
 * registered models (store_registry.c). */
kn_status kn__store_model_id(kn_store *s, const char *name, int64_t *id);
/* The actor of a change: given, else the OS user. Borrowed static text or
 * the given one. */
const char *kn__store_actor(const char *given);
double kn__store_now(void);
/* Append an audit row (inside the caller's transaction). */
kn_status kn__store_audit_add(kn_store *s, const char *actor, const char *action, int64_t model_id,
                              int version, int64_t run_id, const char *from, const char *to,
                              const char *reason, const char *detail);
/* Write the artifact bytes durably as DIR/artifacts/<hex>.kiln (temporary
 * file, fsync, rename, fsync of the folder); hex receives the hash. A file
 * already there under that name is kept. */
kn_status kn__store_put_artifact(kn_store *s, const void *bytes, size_t len, char hex[65]);
/* A setting as a number (def when absent or not a number). */
double kn__store_setting(kn_store *s, const char *key, double def);
/* The gate of a promotion to production (store_gate.c): KN_OK, or
 * KN_ERR_REFUSED naming the failed check; *detail gets what was measured
 * (new string, kn_free) either way. */
kn_status kn__store_gate(kn_store *s, const char *name, int64_t cand_run, int64_t prod_run,
                         int prod_version, const kn_gate_opts *o, char **detail);

#endif
