/* Kiln query sources: frames from SQL databases.
 *
 *     kn_frame *f;
 *     kn_sqlite_query("shop.db", "SELECT id, total FROM orders", &f);
 *     kn_postgres_query("postgresql://kiln@127.0.0.1:5432/shop",
 *                       "SELECT * FROM customers", &f);
 *
 * Column types: SQL integers, reals, numerics and booleans become numeric;
 * dates and timestamps become timestamps (UTC); text becomes categorical.
 * SQLite columns without a declared type take the type of their first
 * non-null value. NULL is a missing value. PostgreSQL results are streamed
 * row by row (single-row mode), never held whole by libpq.
 * Errors name the source, and for values the column and row.
 */
#ifndef KILN_SOURCE_H
#define KILN_SOURCE_H

#include "kiln/frame.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Run `sql` on the SQLite database file at path (opened read-only). */
KN_API kn_status kn_sqlite_query(const char *path, const char *sql, kn_frame **out);

/* Run `sql` on PostgreSQL. uri: a libpq connection URI or "key=value" string;
 * NULL or "" takes KILN_PG_URI from the environment. */
KN_API kn_status kn_postgres_query(const char *uri, const char *sql, kn_frame **out);

#ifdef __cplusplus
}
#endif
#endif
