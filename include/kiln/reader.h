/* Batch readers: a file read as a sequence of frames of at most batch_rows
 * rows, with the schema known before the first one.
 *
 *     kn_reader *rd;
 *     if (kn_reader_open("data.csv", NULL, 10000, &rd) != KN_OK) puts(kn_last_error());
 *     const kn_frame *schema = kn_reader_schema(rd);   (column names and types)
 *     kn_frame *b;
 *     while (kn_reader_next(rd, &b) == KN_OK && b) {
 *         ...use b...
 *         kn_frame_free(b);
 *     }
 *     kn_reader_close(rd);
 *
 * Every file format implements one interface (kn_reader_vt below, registered
 * as a component of kind KN_COMP_READER); kn_frame_read is a loop over it
 * with batch_rows = KN_READER_ALL_ROWS.
 *
 * The contract, for callers and for readers added later (a stream, a shard):
 *  - The schema is fixed when open returns: every batch has the schema's
 *    columns, in its order, with its types and roles. Categorical columns
 *    keep one dictionary for the whole read: a code means the same level in
 *    every batch; a later batch may add levels at the end. Appending the
 *    batches in order (kn_frame_append) gives the frame kn_frame_read gives
 *    (but for the two CSV rules below, where the whole read sees more).
 *  - Batches come in file order, never empty; at the end next gives NULL
 *    (again on every later call). Bad rows follow opts.on_bad_rows, and
 *    errors name the line (and column) in the file, not in the batch.
 *  - A value that does not fit a type already given out cannot be fixed by
 *    reading again (the earlier batches are gone). CSV infers its types from
 *    its first window (block_kib KiB per thread, 8 MiB by default) and parses
 *    that window before open returns: a value there that needs a wider type
 *    re-reads the window with it, as a whole read does. A value after it
 *    fails the read, naming the file, line, column and the fix (--types
 *    name:type). With missing_in_text=auto, whether a missing token is a
 *    level of a text column is decided from that first window too (a whole
 *    read decides from the whole file).
 *  - CSV reads by its block driver, one window per refill. The other formats
 *    (.kfr, ARFF, JSON Lines, LIBSVM) read their whole frame at open and hand
 *    it out in slices: incremental reading is not natural there (.kfr column
 *    blobs are compressed whole; the line formats are small).
 *  - A reader added later does the same: a stream (Redis) fixes its schema at
 *    open from declared types or from a first batch it holds back, and fails
 *    on a later record that does not fit; a row shard (MPI) is a reader over
 *    its own rows whose dictionaries are merged by level text on gather.
 *  - Ownership: a batch is a new frame; free with kn_frame_free(). It
 *    carries the dictionaries as they stand (every level so far). The schema
 *    and report are borrowed: valid until kn_reader_close().
 *  - Types a program declares (opts.decls) for a format with its own types
 *    apply to the schema and to each batch: a column entirely missing in a
 *    batch takes the declared type there; a value of another type fails.
 *  - Threading: one reader is used by one thread at a time; separate readers
 *    are independent. CSV batches are parsed with up to opts.threads OpenMP
 *    threads; results do not depend on the thread count.
 */
#ifndef KILN_READER_H
#define KILN_READER_H

#include "kiln/io.h"

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Rows per batch when kn_reader_open is given 0. */
#define KN_READER_BATCH_ROWS 65536
/* One batch holding every row (what kn_frame_read asks for): a CSV reader
 * may then re-read the file after a late type promotion. */
#define KN_READER_ALL_ROWS SIZE_MAX

typedef struct kn_reader kn_reader;

/* Open path ("-" = standard input) for reading by batches of at most
 * batch_rows rows (0: KN_READER_BATCH_ROWS). opts may be NULL; it is copied
 * (its string fields are interned parameters), but what it points to
 * (decls, the callbacks' user data) must stay valid until kn_reader_close().
 * Returns a new reader; free with kn_reader_close(). */
KN_API kn_status kn_reader_open(const char *path, const kn_read_opts *opts, size_t batch_rows,
                                kn_reader **out);
/* The columns every batch will have (no rows). Borrowed: valid until
 * kn_reader_close(). */
KN_API const kn_frame *kn_reader_schema(const kn_reader *rd);
/* The next batch in *batch (a new frame; free with kn_frame_free()), or NULL
 * when the input is done. After a failure every later call fails the same
 * way (the reader cannot go on past a bad row or a type it cannot keep). */
KN_API kn_status kn_reader_next(kn_reader *rd, kn_frame **batch);
/* Rows read, kept, skipped so far. Borrowed: valid until kn_reader_close(). */
KN_API const kn_read_report *kn_reader_report(const kn_reader *rd);
/* Frees the reader and everything it holds (batches already returned stay
 * the caller's). kn_reader_close(NULL) does nothing. */
KN_API void kn_reader_close(kn_reader *rd);

/* What a format implements. open reads enough to know the schema: on
 * success *state is the format's own state and *schema a new frame with no
 * rows; on failure nothing is left to free. It writes counts to report
 * (owned by the caller, valid until close). next sets *batch to a new frame
 * of 1..batch_rows rows, or NULL at the end. close frees the state. */
typedef struct kn_reader_vt {
    kn_status (*open)(const char *path, const kn_read_opts *opts, size_t batch_rows,
                      kn_read_report *report, void **state, kn_frame **schema);
    kn_status (*next)(void *state, kn_frame **batch);
    void (*close)(void *state);
} kn_reader_vt;

#ifdef __cplusplus
}
#endif
#endif
