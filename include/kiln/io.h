/* Kiln readers and writers: one interface over every file format.
 *
 *   format  extensions          read  write
 *   csv     .csv .tsv .txt      yes   yes
 *   arff    .arff               yes   yes
 *   libsvm  .libsvm .svm .svmlight  yes   yes
 *   jsonl   .jsonl .ndjson      yes   yes
 *   kfr     .kfr                yes   yes   (Kiln's binary frame file, see kfr.h)
 *
 * The format comes from opts.format or else from the extension.
 *
 *     kn_read_opts o;
 *     kn_read_opts_default(&o);
 *     kn_param_set(kn_read_params(), &o, "on_bad_rows=quarantine");
 *     kn_frame *f;
 *     kn_read_report rep;
 *     if (kn_frame_read("data.csv", &o, &f, &rep) != KN_OK) puts(kn_last_error());
 *
 * Bad input: by default a read fails with file:line:column and the reason.
 * With on_bad_rows=skip it keeps going and counts rejects; with quarantine
 * each rejected row is also written verbatim, with its line number and
 * reason, to a side file (default: <input>.rejects.csv). The report always
 * states rows read, kept, skipped and quarantined: nothing is dropped silently.
 *
 * Threading: a read uses up to opts.threads OpenMP threads (0 = all cores);
 * results do not depend on the thread count.
 */
#ifndef KILN_IO_H
#define KILN_IO_H

#include "kiln/frame.h"
#include "kiln/param.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Longest file path Kiln writes into a fixed buffer (Linux's PATH_MAX: a
 * longer path cannot be opened). */
#define KN_PATH_MAX 4096

typedef enum { KN_BAD_ROWS_FAIL = 0, KN_BAD_ROWS_SKIP = 1, KN_BAD_ROWS_QUARANTINE = 2 } kn_bad_rows;
typedef enum { KN_HEADER_AUTO = 0, KN_HEADER_YES = 1, KN_HEADER_NO = 2 } kn_header_mode;

/* The string fields are parameters (see kiln/param.h): set them with
 * kn_param_set or kn_param_set_value, which keep the text; any length. */
typedef struct kn_read_opts {
    const char *format;      /* "" = from the extension */
    char delimiter;          /* '\0' = sniff (CSV) */
    int header;              /* kn_header_mode */
    const char *missing;     /* comma-separated missing tokens; empty cells always */
    int on_bad_rows;         /* kn_bad_rows */
    const char *quarantine;  /* side file; "" = <input>.rejects.csv */
    int64_t threads;         /* 0 = all cores */
    int64_t sample_rows;     /* rows sampled for type inference */
    int64_t block_kib;       /* CSV text held per thread, KiB */
    const char *types;       /* declared types: "name:type,?name:type" ('?': if present) */
    const char *target;      /* column given the target role */
    kn_progress_fn progress; /* bytes done / total; may be NULL */
    void *progress_user;
} kn_read_opts;

typedef struct kn_read_report {
    uint64_t rows_read;                /* data records seen */
    uint64_t rows_kept;                /* rows in the frame */
    uint64_t rows_skipped;             /* rejected and dropped (skip) */
    uint64_t rows_quarantined;         /* rejected and written to the side file */
    uint64_t type_restarts;            /* re-reads after a column's type was promoted */
    uint64_t bytes;                    /* input size */
    char quarantine_path[KN_PATH_MAX]; /* "" when nothing was quarantined */
} kn_read_report;

/* Parameter table of kn_read_opts (shared by every reader). Borrowed, static. */
KN_API const kn_param_def *kn_read_params(void);
KN_API void kn_read_opts_default(kn_read_opts *o);

/* Read a file ("-" = standard input, CSV unless format says otherwise).
 * opts and report may be NULL. Returns a new frame; free with kn_frame_free(). */
KN_API kn_status kn_frame_read(const char *path, const kn_read_opts *opts, kn_frame **out,
                               kn_read_report *report);

/* Write a frame in the format named, or chosen by the extension when format
 * is NULL or "". The file is written to a temporary name and renamed. */
KN_API kn_status kn_frame_write(const kn_frame *f, const char *path, const char *format);

/* The format name for a path's extension ("csv", ...), or KN_ERR_NOT_FOUND. */
KN_API kn_status kn_format_for_path(const char *path, const char **format);

/* Reader and writer vtables, registered as components (kinds READER, WRITER). */
typedef struct kn_reader_vt {
    kn_status (*read)(const char *path, const kn_read_opts *opts, kn_frame **out,
                      kn_read_report *report);
} kn_reader_vt;

typedef struct kn_writer_vt {
    kn_status (*write)(const kn_frame *f, const char *path);
} kn_writer_vt;

#ifdef __cplusplus
}
#endif
#endif
