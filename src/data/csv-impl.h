/* Internal: the CSV scanner shared by the reader's passes (sniffing, type
 * inference, splitting, parsing, skipping bad records).
 *
 * Grammar (RFC 4180, lenient where harmless): records end at "\n" or "\r\n"
 * (or the end of input); fields are separated by one delimiter byte; a field
 * starting with '"' is quoted: it ends at the next lone '"', and "" inside it
 * is one quote; after the closing quote only a delimiter or a record end may
 * follow. A '"' inside an unquoted field is kept as text. */
#ifndef KILN_CSV_IMPL_H
#define KILN_CSV_IMPL_H

#include "kiln/frame.h"
#include "kiln/io.h"

#include <stddef.h>

typedef struct csv_field {
    const char *start, *end; /* content (without the surrounding quotes) */
    int quoted;
    int escaped; /* content holds "" pairs that unescape to " */
} csv_field;

typedef enum {
    CSV_SCAN_OK = 0,
    CSV_SCAN_UNTERMINATED = 1, /* quoted field with no closing quote */
    CSV_SCAN_AFTER_QUOTE = 2,  /* text between a closing quote and the delimiter */
} csv_scan_status;

static inline int csv_is_record_end(const char *p, const char *end)
{
    return p == end || *p == '\n' || (*p == '\r' && (p + 1 == end || p[1] == '\n'));
}

/* Scan one field at p. On success *next points at the delimiter or record
 * end after it. On failure *next points at the offending byte. */
csv_scan_status kn__csv_scan_field(const char *p, const char *end, char delim, csv_field *f,
                                   const char **next);
/* Move past the record starting at p (after its terminator). *complete is 0
 * when the record ran into `end` without a terminator or inside quotes. */
const char *kn__csv_next_record(const char *p, const char *end, char delim, int *complete);
/* Number of fields in the record at p (for error messages). */
size_t kn__csv_count_fields(const char *p, const char *end, char delim);
/* Copy field content to buf, turning "" into ", trimming nothing. buf needs
 * end-start bytes. Returns the length. */
size_t kn__csv_unescape(const csv_field *f, char *buf);
/* Guess the delimiter among , \t ; | from the first lines of buf. */
char kn__csv_sniff(const char *buf, size_t len);

#endif
