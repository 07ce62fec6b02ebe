/* The store's database: open or create, the schema, transactions with
 * retries, and the small helpers the other store files share. */
#include "store/store-impl.h"

#include "kiln/mem.h"

#include <errno.h>
#include <limits.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

/* Tables (see kiln/store.h). Run, model and experiment ids are integer row
 * ids; a run's public id is "r" + its id in 6+ digits. Metrics, params,
 * stages and sources are keyed by (run, position) or (run, scope, name,
 * fold) so that reading one run's rows is an index range. */
static const char schema_v1[] =
    "CREATE TABLE experiments(id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE,"
    " created REAL NOT NULL);"
    "CREATE TABLE artifacts(hash TEXT PRIMARY KEY, path TEXT NOT NULL,"
    " bytes INTEGER NOT NULL, created REAL NOT NULL);"
    "CREATE TABLE runs(id INTEGER PRIMARY KEY,"
    " experiment_id INTEGER NOT NULL REFERENCES experiments(id),"
    " status TEXT NOT NULL, error TEXT, start REAL, end REAL, spec TEXT, spec_hash TEXT,"
    " seed INTEGER, parent_run INTEGER REFERENCES runs(id), folds_hash TEXT, model TEXT,"
    " rows_in INTEGER, rows_kept INTEGER, rows_quarantined INTEGER,"
    " rows_deduplicated INTEGER, model_bytes INTEGER,"
    " artifact_hash TEXT REFERENCES artifacts(hash), actor TEXT, cost REAL,"
    " recorded REAL NOT NULL);"
    "CREATE INDEX runs_by_experiment ON runs(experiment_id, id);"
    "CREATE INDEX runs_by_parent ON runs(parent_run);"
    "CREATE INDEX runs_by_artifact ON runs(artifact_hash);"
    "CREATE TABLE params(run_id INTEGER NOT NULL REFERENCES runs(id), pos INTEGER NOT NULL,"
    " name TEXT NOT NULL, value TEXT NOT NULL, PRIMARY KEY(run_id, pos)) WITHOUT ROWID;"
    "CREATE TABLE metrics(run_id INTEGER NOT NULL REFERENCES runs(id), scope TEXT NOT NULL,"
    " name TEXT NOT NULL, fold INTEGER NOT NULL, pos INTEGER NOT NULL, value REAL,"
    " PRIMARY KEY(run_id, scope, name, fold)) WITHOUT ROWID;"
    "CREATE TABLE stages(run_id INTEGER NOT NULL REFERENCES runs(id), pos INTEGER NOT NULL,"
    " name TEXT NOT NULL, wall_s REAL, cpu_s REAL, peak_rss INTEGER,"
    " PRIMARY KEY(run_id, pos)) WITHOUT ROWID;"
    "CREATE TABLE sources(run_id INTEGER NOT NULL REFERENCES runs(id), pos INTEGER NOT NULL,"
    " name TEXT, kind TEXT, location TEXT, hash TEXT, rows INTEGER,"
    " PRIMARY KEY(run_id, pos)) WITHOUT ROWID;"
    "CREATE INDEX sources_by_hash ON sources(hash);"
    "CREATE TABLE models(id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE,"
    " created REAL NOT NULL, updated REAL NOT NULL);"
    "CREATE TABLE model_versions(model_id INTEGER NOT NULL REFERENCES models(id),"
    " version INTEGER NOT NULL, run_id INTEGER NOT NULL REFERENCES runs(id),"
    " stage TEXT NOT NULL CHECK(stage IN ('none','staging','production','archived')),"
    " created REAL NOT NULL, replaced INTEGER NOT NULL DEFAULT 0,"
    " PRIMARY KEY(model_id, version)) WITHOUT ROWID;"
    "CREATE INDEX versions_by_stage ON model_versions(model_id, stage);"
    "CREATE INDEX versions_by_run ON model_versions(run_id);"
    "CREATE TABLE audit(id INTEGER PRIMARY KEY, time REAL NOT NULL, actor TEXT NOT NULL,"
    " action TEXT NOT NULL, model_id INTEGER REFERENCES models(id), version INTEGER,"
    " run_id INTEGER REFERENCES runs(id), from_stage TEXT, to_stage TEXT, reason TEXT,"
    " detail TEXT);"
    "CREATE INDEX audit_by_model ON audit(model_id, id);"
    "CREATE TABLE settings(key TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID;";

static const char *store_name(const kn_store *s)
{
    return s->dir;
}

kn_status kn__store_sql_fail(kn_store *s, int rc, const char *doing)
{
    const char *msg = s->db ? sqlite3_errmsg(s->db) : sqlite3_errstr(rc);
    switch (rc & 0xff) {
    case SQLITE_READONLY:
    case SQLITE_CANTOPEN:
    case SQLITE_PERM:
        return kn_fail(KN_ERR_IO,
                       "store %s: %s: cannot write (%s); the folder or kiln.db is read-only: "
                       "make it writable or choose another store with --store DIR or KILN_STORE",
                       store_name(s), doing, msg);
    case SQLITE_FULL:
        return kn_fail(KN_ERR_IO,
                       "store %s: %s: the disk is full (%s); free space and try again; nothing "
                       "was changed",
                       store_name(s), doing, msg);
    case SQLITE_IOERR:
        return kn_fail(KN_ERR_IO,
                       "store %s: %s: write failed (%s); the disk may be full or a file size "
                       "limit reached; nothing was changed",
                       store_name(s), doing, msg);
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
        return kn_fail(KN_ERR_IO,
                       "store %s: %s: the store stayed locked by another process (%s); try again",
                       store_name(s), doing, msg);
    case SQLITE_NOMEM:
        return kn_fail(KN_ERR_NOMEM, "store %s: %s: out of memory", store_name(s), doing);
    case SQLITE_CORRUPT:
    case SQLITE_NOTADB:
        return kn_fail(KN_ERR_CORRUPT, "store %s: %s: %s is damaged or not a Kiln store (%s)",
                       store_name(s), doing, s->db_path, msg);
    default:
        return kn_fail(KN_ERR_IO, "store %s: %s: %s", store_name(s), doing, msg);
    }
}

kn_status kn__store_prepare(kn_store *s, const char *sql, sqlite3_stmt **st)
{
    int rc = sqlite3_prepare_v2(s->db, sql, -1, st, NULL);
    return rc == SQLITE_OK ? KN_OK : kn__store_sql_fail(s, rc, "reading");
}

kn_status kn__store_exec(kn_store *s, const char *sql, const char *doing)
{
    int rc = sqlite3_exec(s->db, sql, NULL, NULL, NULL);
    return rc == SQLITE_OK ? KN_OK : kn__store_sql_fail(s, rc, doing);
}

/* The busy timeout waits for a lock inside one call; a statement that
 * still finds the store busy (a writer that kept it longer, or a deadlock
 * SQLite resolves by failing one side) is retried here with a growing
 * pause. */
enum { BUSY_TIMEOUT_MS = 5000, RETRIES = 20 };

static int retry_exec(kn_store *s, const char *sql)
{
    int rc = SQLITE_OK;
    for (int i = 0; i < RETRIES; i++) {
        rc = sqlite3_exec(s->db, sql, NULL, NULL, NULL);
        if ((rc & 0xff) != SQLITE_BUSY && (rc & 0xff) != SQLITE_LOCKED) return rc;
        struct timespec ts = {0, (long)(i + 1) * 20000000L};
        nanosleep(&ts, NULL);
    }
    return rc;
}

kn_status kn__store_begin(kn_store *s)
{
    int rc = retry_exec(s, "BEGIN IMMEDIATE");
    return rc == SQLITE_OK ? KN_OK : kn__store_sql_fail(s, rc, "starting a change");
}

kn_status kn__store_commit(kn_store *s)
{
    int rc = retry_exec(s, "COMMIT");
    if (rc == SQLITE_OK) return KN_OK;
    kn_status st = kn__store_sql_fail(s, rc, "committing");
    kn__store_rollback(s);
    return st;
}

void kn__store_rollback(kn_store *s)
{
    if (!sqlite3_get_autocommit(s->db)) sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
}

void kn__store_run_name(int64_t id, char buf[24])
{
    snprintf(buf, 24, "r%06lld", (long long)id);
}

kn_status kn__store_run_id(kn_store *s, const char *ref, int64_t *id)
{
    sqlite3_stmt *st = NULL;
    int64_t want = -1;
    if (!ref || !*ref) return kn_fail(KN_ERR_INVALID, "store %s: no run given", store_name(s));
    if (!strcmp(ref, "latest")) {
        kn_status e = kn__store_prepare(s, "SELECT max(id) FROM runs", &st);
        if (e) return e;
        if (sqlite3_step(st) == SQLITE_ROW && sqlite3_column_type(st, 0) != SQLITE_NULL)
            want = sqlite3_column_int64(st, 0);
        sqlite3_finalize(st);
        if (want < 0)
            return kn_fail(KN_ERR_NOT_FOUND,
                           "store %s has no runs yet ('kiln run SPEC' records one)", store_name(s));
        *id = want;
        return KN_OK;
    }
    const char *p = ref + (ref[0] == 'r' || ref[0] == 'R');
    char *end = NULL;
    errno = 0;
    long long v = *p >= '0' && *p <= '9' ? strtoll(p, &end, 10) : -1;
    if (v >= 0 && end && !*end && !errno) {
        kn_status e = kn__store_prepare(s, "SELECT id FROM runs WHERE id = ?", &st);
        if (e) return e;
        sqlite3_bind_int64(st, 1, v);
        if (sqlite3_step(st) == SQLITE_ROW) want = sqlite3_column_int64(st, 0);
        sqlite3_finalize(st);
    }
    if (want >= 0) {
        *id = want;
        return KN_OK;
    }
    /* Name what exists: the newest few runs. */
    char known[256] = "";
    size_t used = 0;
    int n = 0;
    if (kn__store_prepare(s, "SELECT id FROM runs ORDER BY id DESC LIMIT 5", &st) == KN_OK) {
        while (sqlite3_step(st) == SQLITE_ROW && used < sizeof known - 32) {
            char name[24];
            kn__store_run_name(sqlite3_column_int64(st, 0), name);
            used +=
                (size_t)snprintf(known + used, sizeof known - used, "%s%s", n++ ? ", " : "", name);
        }
        sqlite3_finalize(st);
    }
    if (!n)
        return kn_fail(KN_ERR_NOT_FOUND,
                       "store %s has no run '%s': it has no runs yet ('kiln run SPEC' records one)",
                       store_name(s), ref);
    return kn_fail(KN_ERR_NOT_FOUND,
                   "store %s has no run '%s'; the latest are %s ('kiln runs list' shows them all)",
                   store_name(s), ref, known);
}

const char *kn__store_actor(const char *given)
{
    if (given && *given) return given;
    static __thread char name[64];
    struct passwd pw, *res = NULL;
    char buf[1024];
    if (getpwuid_r(geteuid(), &pw, buf, sizeof buf, &res) == 0 && res && res->pw_name) {
        snprintf(name, sizeof name, "%s", res->pw_name);
        return name;
    }
    const char *env = getenv("USER");
    if (env && *env) return env;
    snprintf(name, sizeof name, "uid %ld", (long)geteuid());
    return name;
}

double kn__store_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

kn_status kn__store_audit_add(kn_store *s, const char *actor, const char *action, int64_t model_id,
                              int version, int64_t run_id, const char *from, const char *to,
                              const char *reason, const char *detail)
{
    sqlite3_stmt *st = NULL;
    kn_status e = kn__store_prepare(
        s,
        "INSERT INTO audit(time, actor, action, model_id, version, run_id, from_stage,"
        " to_stage, reason, detail) VALUES (?,?,?,?,?,?,?,?,?,?)",
        &st);
    if (e) return e;
    sqlite3_bind_double(st, 1, kn__store_now());
    sqlite3_bind_text(st, 2, kn__store_actor(actor), -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(st, 3, action, -1, SQLITE_STATIC);
    if (model_id > 0) sqlite3_bind_int64(st, 4, model_id);
    if (version > 0) sqlite3_bind_int(st, 5, version);
    if (run_id > 0) sqlite3_bind_int64(st, 6, run_id);
    sqlite3_bind_text(st, 7, from, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 8, to, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 9, reason, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 10, detail, -1, SQLITE_STATIC);
    int rc = sqlite3_step(st);
    sqlite3_finalize(st);
    return rc == SQLITE_DONE ? KN_OK : kn__store_sql_fail(s, rc, "writing the audit trail");
}

double kn__store_setting(kn_store *s, const char *key, double def)
{
    sqlite3_stmt *st = NULL;
    double v = def;
    if (sqlite3_prepare_v2(s->db, "SELECT value FROM settings WHERE key = ?", -1, &st, NULL))
        return def;
    sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
    if (sqlite3_step(st) == SQLITE_ROW) {
        const char *t = (const char *)sqlite3_column_text(st, 0);
        char *end = NULL;
        double x = t ? strtod(t, &end) : 0;
        if (t && end != t && !*end) v = x;
    }
    sqlite3_finalize(st);
    return v;
}

/* ---- open ---- */

static kn_status make_folder(const char *path, const char *what)
{
    if (mkdir(path, 0777) == 0 || errno == EEXIST) return KN_OK;
    return kn_fail(KN_ERR_IO,
                   "cannot create the %s %s: %s; choose a writable folder with --store DIR or "
                   "KILN_STORE",
                   what, path, strerror(errno));
}

/* The upgrades: upgrades[i] takes a store at version i + 1 to i + 2. A
 * store opened on a writable connection is brought to KN__STORE_SCHEMA
 * (one transaction); a read-only one is read at its own version, and what
 * a later version added (store_keys.c checks s->schema) reads as empty. */
static const char *const upgrades[KN__STORE_SCHEMA - 1] = {
    /* 1 -> 2: the API keys of kiln serve (store_keys.c); the secret itself
     * is never stored, only its salted hash and the salt */
    "CREATE TABLE api_keys(id INTEGER PRIMARY KEY, name TEXT,"
    " role TEXT NOT NULL CHECK(role IN ('predict','admin')), salt BLOB NOT NULL,"
    " hash BLOB NOT NULL, rate REAL, created REAL NOT NULL, created_by TEXT NOT NULL,"
    " revoked REAL, revoked_by TEXT);",
    /* 2 -> 3: monitoring (store_monitor.c): each kiln monitor check, each
     * alert rule's run of firing checks, and each alert incident */
    "CREATE TABLE monitor_checks(id INTEGER PRIMARY KEY, time REAL NOT NULL,"
    " model TEXT NOT NULL, data TEXT NOT NULL, window_rows INTEGER NOT NULL,"
    " rows INTEGER NOT NULL, drift INTEGER NOT NULL, result TEXT NOT NULL);"
    "CREATE TABLE monitor_rule_state(model TEXT NOT NULL, rule TEXT NOT NULL,"
    " streak INTEGER NOT NULL, PRIMARY KEY(model, rule)) WITHOUT ROWID;"
    "CREATE TABLE monitor_alerts(id INTEGER PRIMARY KEY, model TEXT NOT NULL,"
    " rule TEXT NOT NULL, severity TEXT NOT NULL, opened REAL NOT NULL,"
    " last_seen REAL NOT NULL, closed REAL, detail TEXT NOT NULL, delivered REAL,"
    " attempts INTEGER NOT NULL DEFAULT 0);",
    /* 3 -> 4: an alert stream's scope (main, a canary, a version) in a
     * column of its own, split off the model text MODEL#SCOPE of 3 */
    // clang-format off
    "ALTER TABLE monitor_alerts ADD COLUMN scope TEXT NOT NULL DEFAULT 'main';"
    "UPDATE monitor_alerts SET scope = " KN__STORE_V3_SCOPE ", model = " KN__STORE_V3_MODEL
    " WHERE " KN__STORE_V3_SCOPE_AT " > 0;"
    "CREATE TABLE monitor_rule_state4(model TEXT NOT NULL, scope TEXT NOT NULL,"
    " rule TEXT NOT NULL, streak INTEGER NOT NULL, PRIMARY KEY(model, scope, rule))"
    " WITHOUT ROWID;"
    "INSERT OR REPLACE INTO monitor_rule_state4"
    " SELECT " KN__STORE_V3_MODEL ", " KN__STORE_V3_SCOPE ", rule, streak FROM monitor_rule_state;"
    "DROP TABLE monitor_rule_state;"
    "ALTER TABLE monitor_rule_state4 RENAME TO monitor_rule_state;",
    // clang-format on
};

static kn_status migrate(kn_store *s)
{
    kn_status e = kn__store_begin(s);
    if (e) return e;
    sqlite3_stmt *st = NULL;
    int version = 0;
    e = kn__store_prepare(s, "PRAGMA user_version", &st);
    if (!e) {
        if (sqlite3_step(st) == SQLITE_ROW) version = sqlite3_column_int(st, 0);
        sqlite3_finalize(st);
    }
    int from = version;
    if (!e && version == 0) {
        e = kn__store_exec(s, schema_v1, "creating the tables");
        version = 1;
    }
    for (; !e && version >= 1 && version < KN__STORE_SCHEMA; version++)
        e = kn__store_exec(s, upgrades[version - 1], "upgrading the tables");
    if (!e && version != from) {
        char pragma[64];
        snprintf(pragma, sizeof pragma, "PRAGMA user_version = %d", version);
        e = kn__store_exec(s, pragma, "upgrading the tables");
    }
    if (e) {
        kn__store_rollback(s);
        return e;
    }
    return kn__store_commit(s);
}

static kn_status schema_version(kn_store *s, int *version)
{
    sqlite3_stmt *st = NULL;
    kn_status e = kn__store_prepare(s, "PRAGMA user_version", &st);
    if (e) return e;
    int rc = sqlite3_step(st);
    *version = rc == SQLITE_ROW ? sqlite3_column_int(st, 0) : 0;
    sqlite3_finalize(st);
    return rc == SQLITE_ROW ? KN_OK : kn__store_sql_fail(s, rc, "opening");
}

static kn_status open_immutable(kn_store *s)
{
    sqlite3_close(s->db);
    s->db = NULL;
    size_t n = strlen(s->db_path);
    char *uri = kn_malloc(3 * n + 32);
    if (!uri) return KN_ERR_NOMEM;
    size_t k = (size_t)sprintf(uri, "file:");
    for (size_t i = 0; i < n; i++) {
        char c = s->db_path[i];
        if (c == '%' || c == '?' || c == '#')
            k += (size_t)sprintf(uri + k, "%%%02x", (unsigned)(unsigned char)c);
        else
            uri[k++] = c;
    }
    strcpy(uri + k, "?immutable=1");
    int rc = sqlite3_open_v2(uri, &s->db,
                             SQLITE_OPEN_READONLY | SQLITE_OPEN_URI | SQLITE_OPEN_NOMUTEX, NULL);
    kn_free(uri);
    if (rc != SQLITE_OK) return kn__store_sql_fail(s, rc, "opening kiln.db");
    return KN_OK;
}

static kn_status open_db(kn_store *s, int create)
{
    int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX | (create ? SQLITE_OPEN_CREATE : 0);
    int rc = sqlite3_open_v2(s->db_path, &s->db, flags, NULL);
    if (rc != SQLITE_OK && !create) {
        /* A read-only folder or file: read what is there. */
        sqlite3_close(s->db);
        s->db = NULL;
        rc = sqlite3_open_v2(s->db_path, &s->db, SQLITE_OPEN_READONLY | SQLITE_OPEN_NOMUTEX, NULL);
    }
    if (rc != SQLITE_OK) return kn__store_sql_fail(s, rc, "opening kiln.db");
    sqlite3_busy_timeout(s->db, BUSY_TIMEOUT_MS);
    kn_status e = kn__store_exec(s, "PRAGMA foreign_keys = ON", "opening");
    if (e) return e;
    int version = 0;
    if (create) {
        /* WAL (persistent in the file): readers never block the writer. */
        for (int i = 0; i < RETRIES; i++) {
            rc = sqlite3_exec(s->db, "PRAGMA journal_mode = WAL", NULL, NULL, NULL);
            if ((rc & 0xff) != SQLITE_BUSY) break;
        }
        if (rc != SQLITE_OK) return kn__store_sql_fail(s, rc, "creating kiln.db");
        e = kn__store_exec(s, "PRAGMA synchronous = FULL", "opening");
        if (!e) e = schema_version(s, &version);
        if (!e && version < KN__STORE_SCHEMA) e = migrate(s);
        if (!e) e = schema_version(s, &version);
        if (e) return e;
    } else {
        e = schema_version(s, &version);
        if (e == KN_ERR_IO && access(s->dir, W_OK) != 0) {
            /* A read-only folder: SQLite cannot make the WAL index there, so
             * read the file as it stands (nobody can change it either). */
            kn_clear_error();
            e = open_immutable(s);
            if (!e) e = schema_version(s, &version);
        }
        if (e == KN_OK && version == 0)
            return kn_fail(KN_ERR_NOT_FOUND,
                           "%s is not a Kiln store (no tables): 'kiln run SPEC' creates one, "
                           "or pass --store DIR",
                           s->db_path);
        if (e) return e;
        if (version < KN__STORE_SCHEMA && !sqlite3_db_readonly(s->db, "main")) {
            /* an older store on a writable connection: upgrade it; where
             * the file or folder cannot be written, read it as it is */
            e = migrate(s);
            if (e && (access(s->db_path, W_OK) != 0 || access(s->dir, W_OK) != 0)) {
                kn_clear_error();
                e = KN_OK;
            }
            if (!e) e = schema_version(s, &version);
            if (e) return e;
        }
    }
    s->schema = version;
    if (version > KN__STORE_SCHEMA)
        return kn_fail(KN_ERR_VERSION,
                       "store %s has schema version %d, newer than this kiln reads (%d): "
                       "upgrade kiln",
                       s->dir, version, KN__STORE_SCHEMA);
    return KN_OK;
}

kn_status kn_store_open(const char *dir, int create, kn_store **out)
{
    *out = NULL;
    if (!dir || !*dir) dir = getenv("KILN_STORE");
    if (!dir || !*dir) dir = "kiln-store";
    kn_store *s = kn_calloc(1, sizeof *s);
    if (!s) return KN_ERR_NOMEM;
    kn_status e = KN_OK;
    s->dir = kn_strdup(dir);
    s->db_path = kn_sprintf("%s/kiln.db", dir);
    char *art = kn_sprintf("%s/artifacts", dir);
    if (!s->dir || !s->db_path || !art) {
        e = kn_fail(KN_ERR_NOMEM, "out of memory opening store %s", dir);
        goto fail;
    }
    struct stat sb;
    if (!create && stat(s->db_path, &sb) != 0) {
        e = kn_fail(KN_ERR_NOT_FOUND,
                    "no store at %s (no %s): 'kiln run SPEC' creates one there; pass --store "
                    "DIR or set KILN_STORE to use another",
                    dir, s->db_path);
        goto fail;
    }
    if (create) {
        e = make_folder(dir, "store folder");
        if (!e) e = make_folder(art, "store's artifact folder");
        if (e) goto fail;
    }
    char abs[PATH_MAX];
    s->abs_dir = kn_strdup(realpath(dir, abs) ? abs : dir);
    if (!s->abs_dir) {
        e = KN_ERR_NOMEM;
        goto fail;
    }
    e = open_db(s, create);
    if (e) goto fail;
    kn_free(art);
    *out = s;
    return KN_OK;
fail:
    kn_free(art);
    kn_store_close(s);
    return e;
}

void kn_store_close(kn_store *s)
{
    if (!s) return;
    sqlite3_close_v2(s->db);
    kn_free(s->dir);
    kn_free(s->abs_dir);
    kn_free(s->db_path);
    kn_free(s);
}

const char *kn_store_dir(const kn_store *s)
{
    return s ? s->dir : NULL;
}
