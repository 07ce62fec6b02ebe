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
 *
 * HTTP(S) sources fetch a file (CSV, JSON Lines, ... by the URL's extension
 * or opts->format) with a timeout per attempt and retries with exponential
 * backoff (0.5 s, 1 s, 2 s, ...) on connection errors and 5xx answers; 4xx
 * answers fail at once. The body is kept in a temporary file only while read.
 */
#ifndef KILN_SOURCE_H
#define KILN_SOURCE_H

#include "kiln/io.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Run `sql` on the SQLite database file at path (opened read-only). */
KN_API kn_status kn_sqlite_query(const char *path, const char *sql, kn_frame **out);

/* Run `sql` on PostgreSQL. uri: a libpq connection URI or "key=value" string;
 * NULL or "" takes KILN_PG_URI from the environment. */
KN_API kn_status kn_postgres_query(const char *uri, const char *sql, kn_frame **out);

/* Fetch url and read it with opts (may be NULL); report may be NULL. */
KN_API kn_status kn_http_read(const char *url, const kn_read_opts *opts, double timeout_s,
                              int retries, kn_frame **out, kn_read_report *report);

#ifdef __cplusplus
}
#endif
#endif
