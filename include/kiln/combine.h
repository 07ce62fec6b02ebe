/* Combining frames: joins on key columns and per-entity aggregation.
 *
 *     kn_join_report rep;
 *     kn_frame *out;
 *     const char *keys[] = {"customer_id"};
 *     kn_frame_join(orders, customers, keys, keys, 1, KN_JOIN_LEFT, &out, &rep);
 *
 * Keys are compared by value across types: a numeric key 7 matches the text
 * "7" or "7.0" of a categorical or string key, categorical keys match by
 * text whatever their dictionaries, timestamps match equal instants. Missing
 * keys never match (as in SQL). Union (concatenation with columns aligned by
 * name) is kn_frame_append_aligned in frame.h.
 */
#ifndef KILN_COMBINE_H
#define KILN_COMBINE_H

#include "kiln/frame.h"
#include "kiln/reader.h"

#ifdef __cplusplus
extern "C" {
#endif

/* inner: pairs of matching rows; left: also left rows without a match (right
 * columns missing); semi: left rows with a match, once each, left columns
 * only; anti: left rows without a match (a missing key included), left
 * columns only; right: pairs and right rows without a match (left columns
 * missing but the keys); full: the left join's rows, then right rows no left
 * row matched. */
typedef enum {
    KN_JOIN_INNER = 0,
    KN_JOIN_LEFT = 1,
    KN_JOIN_SEMI = 2,
    KN_JOIN_ANTI = 3,
    KN_JOIN_RIGHT = 4,
    KN_JOIN_FULL = 5
} kn_join_kind;

/* The most rows a join may give for left and right rows: repeated keys on
 * both sides multiply, and past this the join fails with KN_ERR_INVALID
 * (naming the sizes) instead of exhausting memory. */
#define KN_JOIN_ROW_LIMIT(left_rows, right_rows)                                                   \
    ((uint64_t)10 * ((uint64_t)(left_rows) + (uint64_t)(right_rows)) + (uint64_t)10000000)

#define KN_JOIN_EXAMPLES 5
typedef struct kn_join_report {
    uint64_t left_rows, right_rows, out_rows;
    uint64_t left_unmatched;  /* left rows with no partner (dropped by inner joins) */
    uint64_t right_unmatched; /* right rows no left row matched */
    size_t n_examples;        /* unmatched left keys, as text ("a|b" for two keys) */
    char examples[KN_JOIN_EXAMPLES][128];
} kn_join_report;

/* Join left and right on n key columns (left_keys[i] matches right_keys[i]).
 * The result has every left column, then right's non-key columns; a right
 * name already taken gets the suffix "_right". Rows follow the left order;
 * a left row matching several right rows appears once per match (right
 * joins: the right order, a right row once per left match in left order;
 * full joins: the left join's rows, then unmatched right rows in right
 * order). A row only right has takes right's key values in the key columns
 * (as text, the column made categorical, where the two key types differ:
 * the integer 7 beside the text "a"; a time key cannot take another type's
 * value and fails). report
 * may be NULL. Keys of like types (categorical, int64, time, numeric on both
 * sides) are joined by value without text (categorical dictionaries mapped
 * once); the probe runs on the calling thread's OpenMP team and the output
 * is the same for any team size. */
KN_API kn_status kn_frame_join(const kn_frame *left, const kn_frame *right,
                               const char *const *left_keys, const char *const *right_keys,
                               size_t n, kn_join_kind kind, kn_frame **out, kn_join_report *report);

/* A join's right side prepared once and probed by left batches, for a left
 * side read by batches (kiln/reader.h):
 *
 *     kn_join_table *t;
 *     kn_join_table_new(customers, keys, kn_reader_schema(rd), keys, 1, KN_JOIN_LEFT, &t);
 *     while (kn_reader_next(rd, &b) == KN_OK && b) {
 *         kn_join_table_probe(t, b, &joined);   (kn_frame_join(b, customers, ...)'s rows)
 *         ...
 *     }
 *     kn_join_table_report(t, &rep);            (over every batch)
 *     kn_join_table_free(t);
 *
 * Inner, left, semi and anti joins only (right and full joins need every
 * left row before the unmatched right ones). The batches' outputs, appended
 * in order, are kn_frame_join's output on the appended batches; the row
 * limit applies to the left rows probed so far, so a join whose repeated keys
 * come early may fail where the whole join would not. Memory: the right
 * frame's keys and table, not the left rows. right (borrowed) and the key
 * names (borrowed) must stay valid until kn_join_table_free(); left_schema is
 * read only here. Returns a new table; free with kn_join_table_free(). */
typedef struct kn_join_table kn_join_table;
KN_API kn_status kn_join_table_new(const kn_frame *right, const char *const *right_keys,
                                   const kn_frame *left_schema, const char *const *left_keys,
                                   size_t n, kn_join_kind kind, kn_join_table **out);
/* The join of one left batch: a new frame; free with kn_frame_free(). */
KN_API kn_status kn_join_table_probe(kn_join_table *t, const kn_frame *batch, kn_frame **out);
/* The report over the batches probed so far (right_unmatched: right rows no
 * batch met yet). */
KN_API void kn_join_table_report(const kn_join_table *t, kn_join_report *report);
/* kn_join_table_free(NULL) does nothing. */
KN_API void kn_join_table_free(kn_join_table *t);

/* Reads rd to its end, each batch joined through tables[0..n) in order, and
 * returns the outputs appended: kn_frame_join's result on the whole input,
 * joined in turn (categorical columns take the last batch's dictionaries).
 * Memory: the output, the tables and one batch. Returns a new frame; free
 * with kn_frame_free(). */
KN_API kn_status kn_reader_join(kn_reader *rd, kn_join_table *const *tables, size_t n_tables,
                                kn_frame **out);

/* Aggregations for kn_frame_group_by. Missing values are skipped (pandas'
 * defaults): count counts non-missing cells (or rows, without a column),
 * sum of nothing is 0, mean/min/max/std of nothing are missing, std is the
 * sample standard deviation (n - 1), nunique counts distinct values, first
 * and last take the earliest / latest non-missing value by `order_by` (a
 * numeric or time column; row order when NULL; ties go to row order). */
typedef enum {
    KN_AGG_COUNT,
    KN_AGG_SUM,
    KN_AGG_MEAN,
    KN_AGG_MIN,
    KN_AGG_MAX,
    KN_AGG_STD,
    KN_AGG_NUNIQUE,
    KN_AGG_FIRST,
    KN_AGG_LAST,
} kn_agg_op;

typedef struct kn_agg {
    const char *name; /* output column */
    kn_agg_op op;
    const char *column;   /* input column; NULL only for count (rows) */
    const char *order_by; /* first/last only; may be NULL */
} kn_agg;

/* One row per distinct value of the `by` columns (rows with a missing key are
 * left out, and counted in *dropped when not NULL), in order of first
 * appearance: the key columns, then one column per aggregation. */
KN_API kn_status kn_frame_group_by(const kn_frame *f, const char *const *by, size_t n_by,
                                   const kn_agg *aggs, size_t n_aggs, kn_frame **out,
                                   size_t *dropped);
/* kn_frame_group_by over the rows of a batch reader (kiln/reader.h), read to
 * its end batch by batch: the same frame as reading the input whole and
 * grouping it, with memory for the groups (their keys and each aggregate's
 * state; nunique keeps each group's distinct values), not for the rows.
 * Categorical results take the last batch's dictionaries. On failure the
 * reader may be part read. A budget (kiln/mem.h) the groups outgrow fails
 * with KN_ERR_NOMEM naming the groups, the budget and the fix. */
KN_API kn_status kn_reader_group_by(kn_reader *rd, const char *const *by, size_t n_by,
                                    const kn_agg *aggs, size_t n_aggs, kn_frame **out,
                                    size_t *dropped);
/* kn_reader_group_by of the file at path for groups that do not fit the
 * memory budget: one pass by batches radix-partitions the rows by a hash of
 * their key into 16 temporary files ($TMPDIR, else /tmp; removed before it
 * returns, and by kn_temp_remove_all on a signal), then each partition is
 * grouped in memory and the groups put back in order of first appearance:
 * the same frame as kn_frame_group_by on the whole file, with memory for one
 * partition's rows and the result. report (may be NULL) receives the read's
 * counts. */
KN_API kn_status kn_file_group_by_spill(const char *path, const kn_read_opts *opts,
                                        const char *const *by, size_t n_by, const kn_agg *aggs,
                                        size_t n_aggs, kn_frame **out, size_t *dropped,
                                        kn_read_report *report);

/* A sort key: a column, ascending unless descending. */
typedef struct kn_sort_key {
    const char *column;
    int descending;
} kn_sort_key;

/* Returns a new frame with f's rows ordered by keys[0], ties by keys[1], and
 * so on; rows equal on every key keep their order (stable). Numbers, integers
 * and times compare by value (-0 equals 0), categorical and string text by
 * its bytes (code point order for UTF-8). Missing cells go first with
 * nulls_first, else last, whatever the key's direction (pandas'
 * sort_values(kind="stable", na_position=...)). Free with kn_frame_free(). */
KN_API kn_status kn_frame_sort(const kn_frame *f, const kn_sort_key *keys, size_t n,
                               int nulls_first, kn_frame **out);

/* "count", "sum", ... and back. */
KN_API const char *kn_agg_op_name(kn_agg_op op);
KN_API kn_status kn_agg_op_parse(const char *name, kn_agg_op *op);

#ifdef __cplusplus
}
#endif
#endif
