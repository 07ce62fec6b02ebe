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
 * Missing tokens (opts.missing, CSV): the report counts, per column, the
 * cells each token turned into missing. In a text (categorical or string)
 * column a token may be a real level (a status "None" in thousands of rows):
 * with missing_in_text=auto (the default) an unquoted token stays a level
 * when it makes up at least KN_TOKEN_LEVEL_SHARE of the column's non-empty
 * cells (and at least KN_TOKEN_LEVEL_MIN cells) and the file does not also
 * use it in a numeric, int64 or time column, where it can only mean missing;
 * the report says so. missing_in_text=always, or a `missing` list given
 * explicitly, makes every token missing everywhere. Empty cells are always
 * missing.
 *
 * Numbers with a thousands separator or a decimal comma (opts.thousands,
 * opts.decimal; CSV only), as pandas' read_csv(thousands=, decimal=): in a
 * field, a separator is skipped where it follows a digit of the integer
 * part ("1.234.567", "12.000"; two in a row leave the field text, as in
 * pandas' float parser), and the decimal mark is the only
 * one read as the point, so with decimal ',' "1,5" is 1.5 and "1.5" is not
 * a number (or 15 when thousands is '.'). A separator elsewhere (",5" with
 * thousands ',', "1,234.5,6") leaves the field text. Without the options
 * (the default) a field is read as before: '.' is the point, no separator.
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
typedef enum { KN_MISSING_IN_TEXT_AUTO = 0, KN_MISSING_IN_TEXT_ALWAYS = 1 } kn_missing_in_text;

/* The default missing tokens (opts.missing): pandas' default na_values
 * (pandas 1.5's read_csv) and Kiln's own None (pandas 2 has it too) and ?.
 * The cells pandas reads as NaN are missing here too, except where a token
 * is a frequent level of a text column (missing_in_text=auto, above),
 * where pandas still reads it as NaN. */
#define KN_READ_MISSING_DEFAULT                                                                    \
    "NA,N/A,NaN,nan,null,NULL,None,?,n/a,#N/A,#N/A N/A,#NA,<NA>,-NaN,-nan,1.#IND,-1.#IND,"         \
    "1.#QNAN,-1.#QNAN"
/* The default missing tokens of Kiln before the list above: what artifacts
 * written before their READ section read new data with (kiln/artifact.h).
 * A default list too (its tokens may stay levels of text columns). */
#define KN_READ_MISSING_V1 "NA,N/A,NaN,nan,null,NULL,None,?"

#define KN_TOKEN_LEVEL_SHARE 0.01
#define KN_TOKEN_LEVEL_MIN 10

/* What one missing token did in one column (see above). */
typedef struct kn_token_note {
    char column[64]; /* the column's name (cut at 63 bytes) */
    char token[32];
    uint64_t cells;
    int kept; /* 1: kept as a level of a text column; 0: read as missing */
} kn_token_note;
#define KN_READ_TOKEN_NOTES 64

/* A column type declared by a program (see kn_read_opts.decls). */
typedef struct kn_col_decl {
    const char *name;
    kn_col_type type;
} kn_col_decl;

/* The string fields are parameters (see kiln/param.h): set them with
 * kn_param_set or kn_param_set_value, which keep the text; any length. */
typedef struct kn_read_opts {
    const char *format;     /* "" = from the extension */
    char delimiter;         /* '\0' = sniff (CSV) */
    int header;             /* kn_header_mode */
    const char *missing;    /* comma-separated missing tokens; empty cells always */
    int on_bad_rows;        /* kn_bad_rows */
    const char *quarantine; /* side file; "" = <input>.rejects.csv */
    int64_t threads;        /* 0 = all cores */
    int64_t sample_rows;    /* rows sampled for type inference */
    int64_t block_kib;      /* CSV text held per thread, KiB */
    const char *types;      /* declared types: "name:type,?name:type" ('?': if present) */
    const char *target;     /* column given the target role */
    int missing_in_text;    /* kn_missing_in_text */
    char thousands;         /* CSV: thousands separator in numbers ('\0': none) */
    char decimal;           /* CSV: decimal mark in numbers (default '.') */
    /* Types declared by a program for the columns it knows (a model's
     * features, fitted steps' input columns), applied after `types`: a value
     * that does not parse is a bad row, as with `types`, but a column the
     * file lacks is ignored. CSV reads with them; other formats carry their
     * own types, and there a declared column that is entirely missing takes
     * the declared type while any other mismatch is an error naming the
     * column. Borrowed; n_decls entries (NULL: none). */
    const kn_col_decl *decls;
    size_t n_decls;
    /* Called for each row set aside (on_bad_rows skip or quarantine), in
     * file order, with its 1-based data row number (records after the
     * header; blank lines are not records), and with 0 when a read starts
     * over (a re-read after a type change: forget the rows reported so
     * far). Lets a caller say which input row each kept row was. May be NULL. */
    void (*on_reject)(uint64_t data_row, void *user);
    void *on_reject_user;
    kn_progress_fn progress; /* bytes done / total; may be NULL */
    void *progress_user;
    /* With missing_in_text=auto, whether a missing token is a level of a
     * text column (1) or missing (0), decided by the caller in place of the
     * frequency rule above: what new data for a fitted model needs, where
     * a token is a level only if it was one in the training data, however
     * often it comes in this file (kn_read_settings_apply sets it). The
     * column's name and the token; called once per (column, token) the
     * file holds, from one thread. May be NULL. */
    int (*token_is_level)(const char *column, const char *token, void *user);
    void *token_is_level_user;
} kn_read_opts;

typedef struct kn_read_report {
    uint64_t rows_read;                /* data records seen */
    uint64_t rows_kept;                /* rows in the frame */
    uint64_t rows_skipped;             /* rejected and dropped (skip) */
    uint64_t rows_quarantined;         /* rejected and written to the side file */
    uint64_t type_restarts;            /* re-reads after a column's type was promoted */
    uint64_t bytes;                    /* input size */
    char quarantine_path[KN_PATH_MAX]; /* "" when nothing was quarantined */
    size_t n_token_notes;              /* missing tokens seen, per column (in column order) */
    uint64_t token_notes_left_out;     /* notes beyond KN_READ_TOKEN_NOTES */
    kn_token_note token_notes[KN_READ_TOKEN_NOTES];
} kn_read_report;

/* Parameter table of kn_read_opts (shared by every reader). Borrowed, static. */
KN_API const kn_param_def *kn_read_params(void);
KN_API void kn_read_opts_default(kn_read_opts *o);

/* Reader settings recorded beside something fitted (an artifact's READ
 * section, a steps file), so that new data for it is read as its training
 * data was: the settings that decide what a CSV cell means (missing,
 * missing_in_text, thousands, decimal, delimiter) as "name=value" lines,
 * and, when missing tokens could stay levels of text columns (missing_in_text
 * auto with a default list), the tokens that were levels of each text
 * column of `train` (NULL: none recorded; new data then follows the
 * frequency rule). Returns a new text in *text (*len bytes); free with
 * kn_free(). */
KN_API kn_status kn_read_settings_format(const kn_read_opts *o, const kn_frame *train, char **text,
                                         size_t *len);
/* A recorded text, borrowed (text NULL: the thing was fitted before
 * settings were recorded). */
typedef struct kn_read_settings {
    const char *text;
    size_t len;
} kn_read_settings;
/* Apply recorded settings to o (kn_read_opts_default, then the caller's
 * own options): each recorded setting replaces o's value unless bit k of
 * `given` is set, k being the setting's place in kn_read_params() (the
 * caller gave it: it wins). The tokens recorded as levels set
 * o->token_is_level, which borrows s until the read ends. s NULL or
 * s->text NULL: the settings before any were recorded, the missing tokens
 * KN_READ_MISSING_V1. KN_ERR_CORRUPT for a line that does not read back. */
KN_API kn_status kn_read_settings_apply(const kn_read_settings *s, kn_read_opts *o, uint64_t given);
/* o->token_is_level for a kn_read_settings (user). */
KN_API int kn_read_settings_token_level(const char *column, const char *token, void *settings);
/* The `given` bits of the parameters whose value in o is not the default. */
KN_API uint64_t kn_read_settings_given(const kn_read_opts *o);

/* Read a file ("-" = standard input, CSV unless format says otherwise).
 * opts and report may be NULL. Returns a new frame; free with kn_frame_free().
 * (A loop over the file's batch reader, kiln/reader.h, in one batch.) */
KN_API kn_status kn_frame_read(const char *path, const kn_read_opts *opts, kn_frame **out,
                               kn_read_report *report);

/* Write a frame in the format named, or chosen by the extension when format
 * is NULL or "". The file is written to a temporary name and renamed; "-"
 * writes to standard output (name the format). */
KN_API kn_status kn_frame_write(const kn_frame *f, const char *path, const char *format);

/* 1 when paths a and b name the same existing file (same device and inode,
 * so "x.csv", "./x.csv", a symbolic or a hard link to it all match), else 0.
 * "-" (standard input or output) and NULL name no file. Commands use it to
 * refuse an output that would replace one of their inputs. */
KN_API int kn_same_file(const char *a, const char *b);

/* The format name for a path's extension ("csv", ...), or KN_ERR_NOT_FOUND. */
KN_API kn_status kn_format_for_path(const char *path, const char **format);

/* Writer vtable, registered as a component (kind WRITER). Readers are batch
 * readers (kind READER): see kn_reader_vt in kiln/reader.h. */
typedef struct kn_writer_vt {
    kn_status (*write)(const kn_frame *f, const char *path);
} kn_writer_vt;

#ifdef __cplusplus
}
#endif
#endif
