/* SQLite query source (see kiln/source.h). */
#include "data/builder-impl.h"
#include "data/parse-impl.h"
#include "kiln/mem.h"
#include "kiln/source.h"

#include <sqlite3.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

/* A declared column type mapped by SQLite's affinity rules, plus dates. */
static int declared(const char *decl, kn_col_type *t)
{
    if (!decl || !*decl) return 0;
    char up[64];
    size_t n = strlen(decl) < sizeof up - 1 ? strlen(decl) : sizeof up - 1;
    for (size_t i = 0; i < n; i++)
        up[i] = (char)(decl[i] >= 'a' && decl[i] <= 'z' ? decl[i] - 32 : decl[i]);
    up[n] = '\0';
    if (strstr(up, "DATE") || strstr(up, "TIME"))
        *t = KN_COL_TIMESTAMP;
    else if (strstr(up, "INT") || strstr(up, "REAL") || strstr(up, "FLOA") || strstr(up, "DOUB") ||
             strstr(up, "NUM") || strstr(up, "DEC") || strstr(up, "BOOL"))
        *t = KN_COL_NUMERIC;
    else if (strstr(up, "CHAR") || strstr(up, "CLOB") || strstr(up, "TEXT"))
        *t = KN_COL_CATEGORICAL;
    else
        return 0;
    return 1;
}

static int column_info(void *result, size_t j, const char **name, kn_col_type *type)
{
    sqlite3_stmt *st = result;
    *name = sqlite3_column_name(st, (int)j);
    return declared(sqlite3_column_decltype(st, (int)j), type);
}

/* A BLOB cell: text when its bytes are UTF-8 text (no NUL), else an
 * error that shows its size and first bytes (printed as text it showed as
 * '') and how to read it. */
static kn_status add_blob(kn__builder *b, sqlite3_stmt *st, int j)
{
    const unsigned char *p = sqlite3_column_blob(st, j);
    size_t len = (size_t)sqlite3_column_bytes(st, j);
    if (!p || !len) return kn__builder_text(b, (size_t)j, "", 0);
    if (!memchr(p, 0, len) && kn__utf8_valid(p, len))
        return kn__builder_text(b, (size_t)j, (const char *)p, len);
    char hex[2 * 16 + 1];
    size_t shown = len < 16 ? len : 16;
    for (size_t i = 0; i < shown; i++) snprintf(hex + 2 * i, 3, "%02x", p[i]);
    const char *name = sqlite3_column_name(st, j);
    return kn_fail(KN_ERR_TYPE,
                   "%s: column '%s', row %zu: a BLOB of %zu bytes (x'%s%s'), binary data, not a "
                   "value Kiln reads; convert it in the query (hex(%s), CAST(%s AS TEXT)) or "
                   "leave the column out",
                   b->source, name, b->row + 1, len, hex, len > shown ? "..." : "", name, name);
}

static kn_status add_row(kn__builder *b, sqlite3_stmt *st)
{
    kn_status e = kn__builder_row(b);
    int n = sqlite3_column_count(st);
    for (int j = 0; e == KN_OK && j < n; j++) {
        switch (sqlite3_column_type(st, j)) {
        case SQLITE_NULL:
            break;
        case SQLITE_INTEGER: /* exact: beyond 2^53 the column becomes int64 */
            e = kn__builder_int64(b, (size_t)j, sqlite3_column_int64(st, j));
            break;
        case SQLITE_FLOAT:
            e = kn__builder_number(b, (size_t)j, sqlite3_column_double(st, j));
            break;
        case SQLITE_BLOB:
            e = add_blob(b, st, j);
            break;
        default: {
            const char *s = (const char *)sqlite3_column_text(st, j);
            e = s ? kn__builder_text(b, (size_t)j, s, (size_t)sqlite3_column_bytes(st, j))
                  : KN_ERR_NOMEM;
        }
        }
    }
    return e;
}

kn_status kn_sqlite_query(const char *path, const char *sql, kn_frame **out)
{
    char source[512];
    snprintf(source, sizeof source, "sqlite source %s", path);
    sqlite3 *db = NULL;
    if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK) {
        kn_status e = kn_fail(KN_ERR_IO, "%s: cannot open: %s", source,
                              db ? sqlite3_errmsg(db) : "out of memory");
        sqlite3_close(db);
        return e;
    }
    sqlite3_stmt *st = NULL;
    kn_status e = KN_OK;
    if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK || !st)
        e = kn_fail(KN_ERR_INVALID, "%s: the query failed: %s", source,
                    st ? sqlite3_errmsg(db)
                       : (sqlite3_errmsg(db)[0] ? sqlite3_errmsg(db) : "empty query"));
    kn__builder b = {0};
    if (e == KN_OK)
        e = kn__builder_begin(&b, source, (size_t)sqlite3_column_count(st), column_info, st);
    int rc = SQLITE_ROW;
    while (e == KN_OK && (rc = sqlite3_step(st)) == SQLITE_ROW) e = add_row(&b, st);
    if (e == KN_OK && rc != SQLITE_DONE)
        e = kn_fail(KN_ERR_IO, "%s: reading the result failed: %s", source, sqlite3_errmsg(db));
    sqlite3_finalize(st);
    sqlite3_close(db);
    if (e == KN_OK) *out = kn__builder_finish(&b);
    kn__builder_free(&b);
    return e;
}
