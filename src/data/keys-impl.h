/* Internal: row keys over chosen columns as canonical text (numbers in their
 * shortest exact form, integers without a fraction; text as is; times as
 * ISO-8601), so keys of different column types meet on their value; and a
 * hash table from key to the rows that have it. Used by joins and group-by. */
#ifndef KILN_KEYS_IMPL_H
#define KILN_KEYS_IMPL_H

#include "kiln/frame.h"

#define MISSING_KEY ((size_t)-1)

typedef struct kn__keys {
    char *text;  /* all rows' keys, concatenated, each part length-prefixed */
    size_t *off; /* row i's key: text[off[i] .. off[i] + len[i]) */
    size_t *len; /* MISSING_KEY: a key column is missing in that row */
    size_t n_rows;
} kn__keys;

/* Keys of every row of f over cols; peer[i] is the column cols[i] is compared
 * with (a numeric peer makes number-like text compare as a number). */
kn_status kn__keys_build(const kn_frame *f, const size_t *cols, const kn_column *const *peer,
                         size_t n, kn__keys *k);
void kn__keys_free(kn__keys *k);
int kn__keys_equal(const kn__keys *a, size_t i, const kn__keys *b, size_t j);

/* Rows of one key set by key: open addressing over chains (first row, next). */
typedef struct kn__table {
    size_t mask, *head, *next;
    uint64_t *hash;
} kn__table;

kn_status kn__table_build(const kn__keys *k, kn__table *t);
/* The first row of t's key set (rk) whose key equals row r of lk; MISSING_KEY if none.
 * Later rows with that key follow through t->next. */
size_t kn__table_find(const kn__table *t, const kn__keys *rk, const kn__keys *lk, size_t r);
void kn__table_free(kn__table *t);

#endif
