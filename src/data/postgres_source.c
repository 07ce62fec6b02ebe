/* PostgreSQL query source (see kiln/source.h): libpq in single-row mode, so
 * rows stream into the frame as they arrive; the session runs in UTC so
 * times come back unambiguous. */
#include "data/builder-impl.h"
#include "data/lazy_pq-impl.h"
#include "kiln/mem.h"
#include "kiln/source.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Type OIDs from PostgreSQL's pg_type catalogue (stable across versions). */
enum {
    OID_BOOL = 16,
    OID_INT8 = 20,
    OID_INT2 = 21,
    OID_INT4 = 23,
    OID_OID = 26,
    OID_FLOAT4 = 700,
    OID_FLOAT8 = 701,
    OID_NUMERIC = 1700,
    OID_DATE = 1082,
    OID_TIMESTAMP = 1114,
    OID_TIMESTAMPTZ = 1184
};

static kn_col_type type_of(Oid oid)
{
    switch (oid) {
    case OID_BOOL:
    case OID_INT8:
    case OID_INT2:
    case OID_INT4:
    case OID_OID:
    case OID_FLOAT4:
    case OID_FLOAT8:
    case OID_NUMERIC:
        return KN_COL_NUMERIC;
    case OID_DATE:
    case OID_TIMESTAMP:
    case OID_TIMESTAMPTZ:
        return KN_COL_TIMESTAMP;
    default:
        return KN_COL_CATEGORICAL;
    }
}

static int column_info(void *result, size_t j, const char **name, kn_col_type *type)
{
    const PGresult *r = result;
    *name = PQfname(r, (int)j);
    *type = type_of(PQftype(r, (int)j));
    return 1;
}

static kn_status add_row(kn__builder *b, const PGresult *r)
{
    kn_status e = kn__builder_row(b);
    for (int j = 0; e == KN_OK && j < PQnfields(r); j++) {
        if (PQgetisnull(r, 0, j)) continue;
        const char *s = PQgetvalue(r, 0, j);
        if (PQftype(r, j) == OID_BOOL)
            e = kn__builder_number(b, (size_t)j, s[0] == 't');
        else
            e = kn__builder_text(b, (size_t)j, s, (size_t)PQgetlength(r, 0, j));
    }
    return e;
}

/* Where we tried to connect, without the password. */
static void describe(PGconn *c, char *buf, size_t cap)
{
    snprintf(buf, cap, "postgres source %s@%s:%s/%s", PQuser(c) ? PQuser(c) : "?",
             PQhost(c) ? PQhost(c) : "?", PQport(c) ? PQport(c) : "?", PQdb(c) ? PQdb(c) : "?");
}

static void trim(char *s)
{
    size_t n = strlen(s);
    while (n && (s[n - 1] == '\n' || s[n - 1] == ' ')) s[--n] = '\0';
}

static kn_status stream(PGconn *c, const char *sql, const char *source, kn__builder *b)
{
    PGresult *r = PQexec(c, "SET TimeZone = 'UTC'");
    int ok = PQresultStatus(r) == PGRES_COMMAND_OK;
    PQclear(r);
    if (!ok || !PQsendQuery(c, sql) || !PQsetSingleRowMode(c)) {
        char msg[512];
        snprintf(msg, sizeof msg, "%s", PQerrorMessage(c));
        trim(msg);
        return kn_fail(KN_ERR_IO, "%s: cannot send the query: %s", source, msg);
    }
    kn_status e = KN_OK;
    int begun = 0;
    while ((r = PQgetResult(c))) {
        ExecStatusType st = PQresultStatus(r);
        if (e == KN_OK && (st == PGRES_SINGLE_TUPLE || st == PGRES_TUPLES_OK) && !begun) {
            e = kn__builder_begin(b, source, (size_t)PQnfields(r), column_info, r);
            begun = 1;
        }
        if (e == KN_OK && st == PGRES_SINGLE_TUPLE)
            e = add_row(b, r);
        else if (e == KN_OK && st != PGRES_TUPLES_OK) {
            char msg[512];
            snprintf(msg, sizeof msg, "%s", PQresultErrorMessage(r));
            trim(msg);
            e = kn_fail(KN_ERR_INVALID, "%s: the query failed: %s", source,
                        msg[0] ? msg : "it returned no rows (not a SELECT?)");
        }
        PQclear(r); /* drain every result so the connection ends cleanly */
    }
    if (e == KN_OK && !begun)
        e = kn_fail(KN_ERR_INVALID, "%s: the query returned no result set", source);
    return e;
}

kn_status kn_postgres_query(const char *uri, const char *sql, kn_frame **out)
{
    if (!uri || !*uri) uri = getenv("KILN_PG_URI");
    if (!uri || !*uri)
        return kn_fail(KN_ERR_INVALID, "postgres source: no connection given; set uri in the "
                                       "spec or KILN_PG_URI (postgresql://user@host:port/db)");
    kn_status loaded = kn__pq_load();
    if (loaded != KN_OK) return kn_fail_prefix(loaded, "postgres source: ");
    PGconn *c = PQconnectdb(uri);
    char source[512];
    describe(c, source, sizeof source);
    if (!c || PQstatus(c) != CONNECTION_OK) {
        char msg[512];
        snprintf(msg, sizeof msg, "%s", c ? PQerrorMessage(c) : "out of memory");
        trim(msg);
        PQfinish(c);
        return kn_fail(KN_ERR_IO, "%s: cannot connect: %s", source, msg);
    }
    kn__builder b = {0};
    kn_status e = stream(c, sql, source, &b);
    PQfinish(c);
    if (e == KN_OK) *out = kn__builder_finish(&b);
    kn__builder_free(&b);
    return e;
}
