/* Internal: row keys over chosen columns as canonical text (numbers in their
 * shortest exact form, integers without a fraction; text as is; times as
 * ISO-8601), so keys of different column types meet on their value; and a
 * hash table from key to the rows that have it. Used by joins and group-by. */
#ifndef KILN_KEYS_IMPL_H
#define KILN_KEYS_IMPL_H

#include "kiln/frame.h"

#define MISSING_KEY ((size_t)-1)
/* Most key columns of one key (group-by's nunique adds one to its 64). */
#define KN__KEYS_MAX 65

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
    /* word tables of one integer-like key over a small span: head is indexed
     * by the word minus lo (no hash) */
    int direct;
    uint64_t lo, span;
} kn__table;

kn_status kn__table_build(const kn__keys *k, kn__table *t);
/* The first row of t's key set (rk) whose key equals row r of lk; MISSING_KEY if none.
 * Later rows with that key follow through t->next. */
size_t kn__table_find(const kn__table *t, const kn__keys *rk, const kn__keys *lk, size_t r);
void kn__table_free(kn__table *t);

/* Cell r of c as its canonical text (borrowed from c or written to buf, of
 * 64 bytes or more); 0 when missing. */
int kn__cell_text(const kn_column *c, size_t r, char *buf, size_t cap, const char **text,
                  size_t *len);
/* A row's key as text, parts joined by '|' (for reports); "" when missing. */
void kn__key_text(const kn_frame *f, const size_t *cols, size_t n, size_t r, char *out, size_t cap);

/* Keys as one 64-bit word per key column (keywords.c), where every column
 * allows it: categorical codes, int64 and time values, numeric bits (-0 as
 * 0). Two cells have equal words exactly when their canonical texts above
 * are equal, so results match the text keys; rows compare without text. */
typedef struct kn__words {
    uint64_t *w;            /* row r, key i: w[r * n + i] */
    unsigned char *missing; /* per row: 1 when a key cell is missing */
    uint64_t *hash;         /* per row: hash of its words */
    size_t n_rows, n;
} kn__words;

/* Key columns for words: free text columns replaced by categorical views
 * (each distinct string interned once into a dictionary of the view's own),
 * so text keys meet on their bytes as codes. c[i] is the column to key by. */
typedef struct kn__views {
    const kn_column *c[KN__KEYS_MAX];
    kn_column *own[KN__KEYS_MAX]; /* the views made, NULL where c[i] is the frame's column */
    size_t n;
} kn__views;

/* 1 when every cs[i] can be keyed by words against peer[i] (the column it is
 * compared with; itself for group-by and dedupe): both categorical or free
 * text, both int64, both time or both numeric. Text against a number keys
 * by canonical text (so 7 meets "7"). */
int kn__words_usable(const kn_column *const *cs, const kn_column *const *peer, size_t n);
/* Views of cs (rows rows): text columns as categorical, the others as is. */
kn_status kn__views_make(const kn_column *const *cs, size_t rows, size_t n, kn__views *v);
void kn__views_free(kn__views *v);

/* kn__words_build flags. MAP_TO_PEER: categorical codes are translated into
 * peer's dictionary (levels it lacks get words no peer row has), so one
 * side's words meet the other's. MISSING_EQUAL: a missing cell gets a word
 * of its own, equal to other missing cells of its column and to no value,
 * and no row is missing (dedupe's equality). */
#define KN__WORDS_MAP_TO_PEER 1
#define KN__WORDS_MISSING_EQUAL 2
/* Words of every row of the columns cs (rows rows; no free text: see
 * kn__views). Numeric keys whole on both sides (peer_rows: the peer
 * columns' rows) key as integers. Runs on the calling team. */
kn_status kn__words_build(const kn_column *const *cs, size_t rows, const kn_column *const *peer,
                          size_t peer_rows, size_t n, int flags, kn__words *w);
void kn__words_free(kn__words *w);
/* 1 when c is numeric and every present value a whole number within
 * +-2^62: kn__words_build keys such a column (against itself) as integers. */
int kn__column_whole(const kn_column *c, size_t rows);
/* A probe column's categorical codes in a build column's dictionary, kept
 * across batches (a batch's dictionary extends the one before). */
typedef struct kn__wmap {
    uint64_t *map;
    size_t n, cap;
} kn__wmap;
/* Words of probe columns cs (rows rows) that meet the words of build columns
 * bc made by kn__words_build with bc as their own peers (no free text: see
 * kn__views): codes mapped into bc's dictionaries (maps[i], grown as cs[i]'s
 * dictionary grows), free text found in bc's dictionary, numbers as integers
 * where whole[i] (kn__column_whole of bc[i]) and by their bits otherwise.
 * A cell no build row can have (a level bc lacks, a fraction against whole
 * numbers) makes its row missing, as a missing cell does. For streaming a
 * probe side batch by batch against one build table. */
kn_status kn__words_probe(const kn_column *const *cs, size_t rows, const kn_column *const *bc,
                          const int *whole, kn__wmap *maps, size_t n, kn__words *w);
/* A chained table over w's rows (kn__table's layout) and its look-up. */
kn_status kn__wtable_build(const kn__words *w, kn__table *t);
size_t kn__wtable_find(const kn__table *t, const kn__words *rk, const kn__words *lk, size_t r);
/* Group ids per row in order of first appearance (MISSING_KEY: missing key),
 * each group's first row, and the number of groups. A direct index replaces
 * the hash table when the keys span a small range (categorical codes, small
 * integers). */
kn_status kn__words_group(const kn__words *w, size_t *of, size_t *rep, size_t *n_groups);
/* kn__words_group's direct index alone: 1 (status in *e) when the keys span
 * little enough for it, else 0 (nothing done). */
int kn__words_group_direct(const kn__words *w, size_t *of, size_t *rep, size_t *n_groups,
                           kn_status *e);

/* Move every column of part to the end of out, renaming clashes with
 * "_right" (then _right2, ...): a join's right columns (join.c). */
kn_status kn__join_attach(kn_frame *out, kn_frame *part);

#endif
