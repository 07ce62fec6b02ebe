/* Internal: the format readers and writers behind kn_frame_read/kn_frame_write. */
#ifndef KILN_IO_IMPL_H
#define KILN_IO_IMPL_H

#include "kiln/reader.h"

#include <stdio.h>

kn_status kn__csv_read(const char *path, const kn_read_opts *o, kn_frame **out,
                       kn_read_report *rep);
kn_status kn__csv_write(const kn_frame *f, const char *path);
kn_status kn__arff_read(const char *path, const kn_read_opts *o, kn_frame **out,
                        kn_read_report *rep);
kn_status kn__arff_write(const kn_frame *f, const char *path);
kn_status kn__libsvm_read(const char *path, const kn_read_opts *o, kn_frame **out,
                          kn_read_report *rep);
kn_status kn__libsvm_write(const kn_frame *f, const char *path);
kn_status kn__jsonl_read(const char *path, const kn_read_opts *o, kn_frame **out,
                         kn_read_report *rep);
kn_status kn__jsonl_write(const kn_frame *f, const char *path);
kn_status kn__kfr_read(const char *path, const kn_read_opts *o, kn_frame **out,
                       kn_read_report *rep);
kn_status kn__kfr_write(const kn_frame *f, const char *path);

/* Recorded reader settings (read_settings.c): apply text's settings to o
 * except those given (kn_read_settings_apply), *listed set when it lists
 * the tokens that were levels; and whether it lists token as a level of
 * column. */
kn_status kn__read_settings_apply_text(const char *text, size_t len, kn_read_opts *o,
                                       uint64_t given, int *listed);
int kn__read_settings_level(const char *text, size_t len, const char *column, const char *token);

/* Batch readers (kiln/reader.h). CSV's runs its block driver window by
 * window (csv_read.c); the other formats read their whole frame with a
 * kn__whole_read_fn and hand it out in slices (reader.c). */
kn_status kn__csv_open(const char *path, const kn_read_opts *o, size_t batch_rows,
                       kn_read_report *rep, void **state, kn_frame **schema);
kn_status kn__csv_next(void *state, kn_frame **batch);
void kn__csv_close(void *state);
typedef kn_status (*kn__whole_read_fn)(const char *path, const kn_read_opts *o, kn_frame **out,
                                       kn_read_report *rep);
kn_status kn__sliced_open(kn__whole_read_fn read, const char *path, const kn_read_opts *o,
                          size_t batch_rows, kn_read_report *rep, void **state, kn_frame **schema);
kn_status kn__sliced_next(void *state, kn_frame **batch);
void kn__sliced_close(void *state);
/* The next batch_rows rows of *pending from *off (advanced) into *batch: the
 * frame itself when it goes out whole (*pending becomes NULL), else a copy
 * of the rows with the whole dictionaries; NULL when none are left. */
kn_status kn__batch_take(kn_frame **pending, size_t *off, size_t batch_rows, kn_frame **batch);
/* A new frame with rows [from, from + n) of f (and its whole dictionaries). */
kn_status kn__frame_slice(const kn_frame *f, size_t from, size_t n, kn_frame **out);
/* A new frame with f's columns (names, types, roles, encodings, levels) and
 * no rows. */
kn_status kn__frame_empty_like(const kn_frame *f, kn_frame **out);

/* The .kfr checksum (see kfr.h) of n bytes into out. */
kn_status kn__kfr_checksum(const unsigned char *p, size_t n, unsigned char out[32]);

/* Whole file (or stdin for "-") into a new NUL-terminated buffer (kn_free). */
kn_status kn__slurp(const char *path, char **buf, size_t *len);

/* kn__slurp for a reader: also records the input size in the report. */
kn_status kn__read_input(const char *path, char **buf, size_t *len, kn_read_report *rep);

/* Output file written to "<path>.tmp.<pid>" and renamed into place on commit;
 * "-" is standard output, written in place (path and tmp NULL). */
typedef struct kn_outfile {
    FILE *fp;
    char *path;
    char *tmp;
} kn_outfile;
kn_status kn__outfile_open(kn_outfile *o, const char *path);
/* Flush, fsync, close and rename; on failure the temp file is removed. */
kn_status kn__outfile_commit(kn_outfile *o);
void kn__outfile_abort(kn_outfile *o);

/* Rejected rows, for every reader: kn__rejects_add returns KN_OK when the
 * row is set aside (counted; written to the quarantine file) or the failure
 * (file:line:column: reason) when on_bad_rows=fail. */
typedef struct kn_rejects {
    const kn_read_opts *o;
    const char *path;
    FILE *fp;
    kn_read_report *rep;
} kn_rejects;
kn_status kn__rejects_open(kn_rejects *r, const char *path, const kn_read_opts *o,
                           kn_read_report *rep);
/* line:col locate the fault (for the failure message); row_line is where the
 * rejected row starts (for the quarantine file); data_row is its 1-based
 * number among the data records (for opts.on_reject). */
kn_status kn__rejects_add(kn_rejects *r, uint64_t line, uint64_t col, uint64_t row_line,
                          uint64_t data_row, const char *reason, const char *row, size_t row_len);
kn_status kn__rejects_close(kn_rejects *r);

#endif
