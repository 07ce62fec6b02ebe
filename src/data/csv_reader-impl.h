/* Internal: state of one CSV read, shared by csv_read.c (driver, block
 * loop), csv_parse.c (the per-thread record parser) and csv_infer.c
 * (header and type inference). */
#ifndef KILN_CSV_READER_IMPL_H
#define KILN_CSV_READER_IMPL_H

#include "data/csv-impl.h"
#include "data/dict-impl.h"
#include "data/frame-impl.h"

#include <stdatomic.h>
#include <stdio.h>

typedef struct csv_col {
    char *name;
    kn_col_type type;
    int declared;    /* type given by the user: bad values are bad rows */
    atomic_int bump; /* a value did not fit the inferred type: promote and re-read
                        (CSV_BUMP_* bits) */
} csv_col;

/* Promotions asked for by values that do not fit a column's inferred type. */
enum {
    CSV_BUMP_INT64 = 1, /* an integer a double cannot hold, in a numeric column */
    CSV_BUMP_TEXT = 2,  /* anything else: the column becomes categorical */
};

typedef struct csv_bad {
    size_t kept_before; /* rows the part had written before this record */
    const char *start;  /* record start */
    const char *at;     /* offending byte */
    char reason[200];
} csv_bad;

/* One thread's scratch state; part i of every block is parsed by thread i. */
typedef struct csv_part {
    kn_dict *dicts;  /* per column: levels seen by this part (persist across blocks) */
    int32_t **remap; /* per column: local code -> frame code */
    size_t *remap_n; /* per column: entries of remap filled */
    size_t *remap_cap;
    char *text; /* string cells of this block */
    size_t n_text, cap_text;
    char *scratch; /* unescape buffer */
    size_t cap_scratch;
    csv_bad *bad;
    size_t n_bad, cap_bad;
    uint64_t *tokens;   /* [column * n_miss + token]: unquoted token cells of kept rows */
    size_t *row_tokens; /* the current row's token cells (at most one per column) */
    size_t n_row_tokens;
    const char *bump_at; /* first value of this block that asked for a promotion */
    size_t bump_col;
    kn_status status; /* KN_ERR_NOMEM from this part */
    char message[512];
    /* the block's slice */
    const char *begin, *end;
    size_t records; /* records counted (upper bound of rows) */
    size_t lines;   /* newline bytes */
    size_t row0;    /* first frame row for this part */
    size_t written; /* rows actually written */
} csv_part;

typedef struct csv_reader {
    const char *path;
    const kn_read_opts *o;
    char delim;
    size_t ncols;
    csv_col *cols;
    /* missing tokens */
    char **miss;
    size_t *miss_len;
    size_t n_miss, miss_max;
    /* per first byte, bit n % 32 set when a token of n bytes starts with
     * it: one load rejects most fields (a bit set by another length only
     * sends a field to the exact comparison) */
    uint32_t miss_first[256];
    /* the tokens by first byte: miss_order[miss_from[c] .. miss_from[c + 1])
     * are the indices of those starting with byte c */
    uint32_t *miss_order;
    uint32_t miss_from[257];
    /* missing_in_text=auto: an unquoted token in a text column is parked as
     * code (or string offset) -2 - token until the read ends, when
     * kn__csv_resolve_tokens keeps it as a level or makes it missing */
    int tokens_as_levels;
    /* numbers with a thousands separator or a decimal mark other than '.'
     * (opts.thousands, opts.decimal): numfmt set when either is in use; the
     * parser then rewrites a number's text (kn__csv_number_text) and skips
     * its inline fast paths */
    char tsep, dec;
    int numfmt;
    kn_frame *f;
    int nparts;
    csv_part *parts;
    uint64_t line_base; /* newlines before the current block */
} csv_reader;

/* Parse part p's slice into frame rows p->row0 ...; sets p->written. */
void kn__csv_parse_part(csv_reader *r, csv_part *p);
/* Is [s, e) a missing token? (Empty is always missing.) */
int kn__csv_is_missing(const csv_reader *r, const char *s, const char *e);
/* The index of the missing token [s, e) is, CSV_EMPTY for an empty field,
 * or CSV_NOT_MISSING. */
enum { CSV_NOT_MISSING = -1, CSV_EMPTY = -2 };
int kn__csv_missing_token(const csv_reader *r, const char *s, const char *e);
/* With r->numfmt: the text [s, e) of a number rewritten with '.' as the
 * point and the thousands separators (after a digit of the integer part)
 * dropped, into buf (cap bytes), as [*ns, *ne). 0 when it cannot be a
 * number so written: a '.' (decimal not '.') or a separator elsewhere, or
 * longer than cap. Without numfmt [*ns, *ne) is [s, e) and 1. */
int kn__csv_number_text_fmt(const csv_reader *r, const char *s, const char *e, char *buf,
                            size_t cap, const char **ns, const char **ne);
static inline int kn__csv_number_text(const csv_reader *r, const char *s, const char *e, char *buf,
                                      size_t cap, const char **ns, const char **ne)
{
    if (__builtin_expect(r->numfmt, 0)) return kn__csv_number_text_fmt(r, s, e, buf, cap, ns, ne);
    *ns = s;
    *ne = e;
    return 1;
}
/* Longest number text kn__csv_number_text rewrites. */
enum { CSV_NUMBER_TEXT_MAX = 128 };
/* After the last block: settle parked tokens of text columns (see
 * kiln/io.h for the rule) and note what every token did in rep. */
kn_status kn__csv_resolve_tokens(csv_reader *r, kn_read_report *rep);
/* The same in three steps, for a batch read that decides after its first
 * block: keep[column * n_miss + token] = 1 where a token stays a level
 * (from the rows and counts so far); settle the parked cells of r->f's rows,
 * levels below fixed[column] (NULL: none) keeping their codes; note what
 * each token did (counts of the whole read). */
kn_status kn__csv_token_decide(const csv_reader *r, unsigned char *keep);
kn_status kn__csv_token_settle(csv_reader *r, const unsigned char *keep, const size_t *fixed);
kn_status kn__csv_token_notes(const csv_reader *r, const unsigned char *keep, kn_read_report *rep);
/* Decide header and column types from the first block (buf holds the
 * records after any BOM). Sets r->ncols, r->cols and *data_start. */
kn_status kn__csv_infer(csv_reader *r, const char *buf, size_t len, int at_eof,
                        const char **data_start);

#endif
