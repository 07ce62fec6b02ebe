/* Kiln artifacts (.kiln): one file that holds everything a run made and
 * everything a server needs to predict raw rows: the canonical spec, the
 * input schema, the reference data profile, the fitted pipeline (steps and
 * model), the metrics, the lineage, the held-out predictions the report
 * draws and the drift reference monitoring compares new rows with.
 *
 *     kn_artifact *a = NULL;
 *     kn_artifact_new(&a);
 *     kn_artifact_set_pipeline(a, fitted);               // encoded, copied
 *     kn_artifact_set(a, KN_ART_SPEC, text, strlen(text));
 *     kn_artifact_write(a, "model.kiln", NULL);           // or a secret key
 *     ...
 *     kn_pipeline *p = NULL;
 *     kn_pipeline_load("model.kiln", NULL, &p);           // then kn_pipeline_predict
 *
 * File layout (little-endian; every length and offset checked on load):
 *
 *   8 bytes   magic "KILNART1"
 *   4 bytes   format version
 *   4 bytes   section count
 *   per section, in increasing id order: u32 id, u32 flags (bit 0: zstd),
 *             u64 stored length, u64 raw length, then the stored bytes
 *   32 bytes  BLAKE2b-256 of everything before it
 *   1 byte    0 unsigned, 1 signed; when signed 64 bytes Ed25519 signature
 *             (libsodium, detached) of the checksum
 *   8 bytes   end magic "KILNEND1"
 *
 * Sections are compressed with zstd at a fixed level, so the same sections
 * give the same bytes: the same spec + data + seed give a byte-identical
 * artifact. A section is stored raw (flag 0, stored = raw length) when zstd
 * would not shrink it, or would shrink it more than 4096 times (raw / 4096 >
 * stored): a loader refuses a zstd section that claims more, so a small
 * damaged file cannot make it inflate gigabytes. Text sections (spec, schema, JSON) are UTF-8
 * without a NUL.
 *
 * Loading checks the magic, the end magic, the checksum, the version, the
 * signature when a public key is given (an unsigned file is then refused),
 * and every section's lengths before decoding: a truncated, corrupted,
 * tampered or newer file is an error naming the file and the fix
 * (KN_ERR_CORRUPT, KN_ERR_VERSION, KN_ERR_SIGNATURE), never a crash.
 *
 * Threading: an artifact is one thread's; a pipeline loaded from one is
 * read-only for predict (kiln/pipeline.h), so any number of threads may
 * predict on it at once.
 */
#ifndef KILN_ARTIFACT_H
#define KILN_ARTIFACT_H

#include "kiln/io.h"
#include "kiln/pipeline.h"

#ifdef __cplusplus
extern "C" {
#endif

#define KN_ARTIFACT_VERSION 1u

/* Section ids (append-only; a loader skips ids it does not know). */
typedef enum {
    KN_ART_SPEC = 1,      /* canonical spec (YAML text) */
    KN_ART_SCHEMA = 2,    /* input schema: kn_schema YAML text (kiln/schema.h) of the raw
                             columns the pipeline accepts, with types and categories */
    KN_ART_PROFILE = 3,   /* reference data profile (JSON, kn_profile_json) */
    KN_ART_PIPELINE = 4,  /* kn_pipeline_encode bytes */
    KN_ART_METRICS = 5,   /* JSON, see below */
    KN_ART_LINEAGE = 6,   /* JSON, see below */
    KN_ART_HELDOUT = 7,   /* kn_heldout_encode bytes: held-out predictions */
    KN_ART_REFERENCE = 8, /* kn_drift_ref_encode bytes (kiln/drift_ref.h): the training
                             rows' drift reference, what kiln monitor check and kiln serve
                             --drift-window compare new rows with; absent in artifacts
                             written before it (they need --reference) */
    /* a sample of whole training rows' numeric inputs (below): what kiln monitor
       anomalies fits its isolation forest on; absent in artifacts written before it */
    KN_ART_REFERENCE_ROWS = 9,
    /* the reader settings the training data was read with (below), so new
       data is read the same way; absent in artifacts written before it */
    KN_ART_READ = 10,
} kn_art_section;

/* The METRICS section (JSON object, keys in this order):
 *   {"task": "classification"|"regression",
 *    "positive_class": "1" | null,
 *    "cv": {"split": "stratified", "k": 5, "metrics": {NAME: {"mean": m, "std": s,
 *           "folds": [..]}, ...}, "train": {NAME: {"mean": m, "std": s}, ...} (each
 *           fold's model on its own training rows),
 *           "verdict": {"fit": "fine"|"over-fitting"|"under-fitting"|"unknown",
 *                       "evidence": sentence} (kn_fit_diagnose)} | null,
 *    "test": {NAME: value, ...} | null,
 *    "test_intervals": {NAME: [lo, hi], ...} | null (95 % bootstrap intervals),
 *    "test_slices": {"by": COLUMN, "worst": VALUE | null,
 *                    "values": [{"value": V, "rows": n, NAME: value, ...}, ...]} | null,
 *    "baseline": {NAME: value, ...} | null,
 *    "representativeness": {"columns_compared": n, "columns_differing": n,
 *        "differing": [{"column", "test": "ks"|"chi2", "effect", "p_adjusted",
 *                       "psi"}, ...]} | null (the test rows against the
 *        training rows, kn_compare_frames),
 *    "rows": {"in": n, "kept": n, "quarantined": n, "deduplicated": n,
 *             "train": n, "test": n}}
 * The LINEAGE section (JSON object):
 *   {"spec_hash": HEX, "seed": n, "kiln_version": "0.1.0", "git_commit": HEX|null,
 *    "parent_run": ID|null, "created": "2026-12-06T05:40:00Z",
 *    "sources": [{"name": .., "kind": "file"|"sqlite"|"postgres"|"http",
 *                 "location": .., "hash": HEX (BLAKE2b-256 of the bytes read, or of
 *                 the query text), "rows": n}, ...]}
 * ("created" is left out when KILN_DETERMINISTIC_TIME or a fixed seed asks for
 * byte-identical artifacts: see kn_run in kiln/run.h.) */

typedef struct kn_artifact kn_artifact;

KN_API kn_status kn_artifact_new(kn_artifact **out);
KN_API void kn_artifact_free(kn_artifact *a);

/* Set a section (the bytes are copied; replaces an earlier value). */
KN_API kn_status kn_artifact_set(kn_artifact *a, kn_art_section id, const void *bytes, size_t len);
/* A section's bytes (borrowed, valid while a lives; NULL and *len 0 when
 * absent). Text sections are not NUL-terminated in the file, but the
 * returned buffer always has a NUL after its len bytes. */
KN_API const void *kn_artifact_get(const kn_artifact *a, kn_art_section id, size_t *len);
/* KN_ART_PIPELINE from a fitted pipeline, and a new pipeline from it. */
KN_API kn_status kn_artifact_set_pipeline(kn_artifact *a, const kn_pipeline *p);
KN_API kn_status kn_artifact_pipeline(const kn_artifact *a, kn_pipeline **out);

/* KN_ART_REFERENCE from rows, the rows p was fitted on: their input
 * columns (p's input without its target, its weight and the columns rows
 * marks KN_ROLE_IGNORE: the model never reads those) and, when a holds no
 * KN_ART_HELDOUT yet, p's predictions on them; and KN_ART_REFERENCE_ROWS
 * (below) when p has a numeric input. Deterministic. */
KN_API kn_status kn_artifact_set_reference(kn_artifact *a, const kn_pipeline *p,
                                           const kn_frame *rows);

/* KN_ART_REFERENCE_ROWS, written by kn_artifact_set_reference beside
 * KN_ART_REFERENCE: whole rows (the drift reference keeps each column's
 * values apart), so a model of the rows' joint distribution (an isolation
 * forest) can be fitted without the training file. The numeric inputs
 * (numbers, integers) of at most KN_ART_REFERENCE_ROWS_MAX of the rows:
 * all of them when there are no more, else a seeded uniform sample without
 * replacement (the same rows give the same sample), kept in row order.
 * Bytes (little-endian, kiln/codec.h): u32 version (1), u64 rows sampled
 * from, u64 m rows kept, u32 k columns, k strings (names), then per column
 * m f64 (NaN: missing); a string is a u64 length and its bytes. Decoding
 * checks every count (KN_ERR_CORRUPT); a newer version is KN_ERR_VERSION. */
enum { KN_ART_REFERENCE_ROWS_MAX = 1000 };
/* Returns a new frame of the kept rows (numeric columns, NaN: missing);
 * free with kn_frame_free(). *from receives the rows sampled from (may be
 * NULL). KN_ERR_NOT_FOUND when a holds no such section. `what` names the
 * artifact in errors. */
KN_API kn_status kn_artifact_reference_rows(const kn_artifact *a, const char *what, kn_frame **out,
                                            uint64_t *from);

/* The READ section (text): the reader settings that decide what a CSV
 * cell means (kn_read_settings_format, kiln/io.h: missing, missing_in_text,
 * thousands, decimal, delimiter, and the missing tokens that were levels
 * of the text columns of rows, the training rows as read; rows may be
 * NULL: none listed). kn_artifact_set_read(a, o) is
 * kn_artifact_set_read_rows(a, o, NULL). */
KN_API kn_status kn_artifact_set_read_rows(kn_artifact *a, const kn_read_opts *o,
                                           const kn_frame *rows);
KN_API kn_status kn_artifact_set_read(kn_artifact *a, const kn_read_opts *o);
/* Apply an artifact's reader settings to o (kn_read_opts_default, then the
 * caller's own options) as kn_read_settings_apply does: each recorded
 * setting replaces o's value unless its bit in `given` is set (the caller
 * gave it), and o->token_is_level then borrows a. Without the section (an
 * artifact written before it) the settings of that time apply: the missing
 * tokens KN_READ_MISSING_V1. KN_ERR_CORRUPT for a line that does not read
 * back. kn_artifact_apply_read(a, o) takes the settings of o that are not
 * their default as given (kn_read_settings_given): one set to its default
 * value cannot override. */
KN_API kn_status kn_artifact_apply_read_given(const kn_artifact *a, kn_read_opts *o,
                                              uint64_t given);
KN_API kn_status kn_artifact_apply_read(const kn_artifact *a, kn_read_opts *o);

/* Keys: Ed25519 (libsodium). KN_ARTIFACT_SECRET_KEY_BYTES = 64,
 * KN_ARTIFACT_PUBLIC_KEY_BYTES = 32. Key files are one line of hex with a
 * kind prefix ("kiln-secret-key " / "kiln-public-key "), written with mode
 * 0600 for the secret one. */
#define KN_ARTIFACT_SECRET_KEY_BYTES 64
#define KN_ARTIFACT_PUBLIC_KEY_BYTES 32
KN_API kn_status kn_artifact_keygen(const char *secret_path, const char *public_path);
KN_API kn_status kn_artifact_key_load(const char *path, int secret, unsigned char *key);

/* The whole file in memory, signed when secret_key is not NULL. *buf new
 * (kn_free). Deterministic. */
KN_API kn_status kn_artifact_encode(const kn_artifact *a, const unsigned char *secret_key,
                                    unsigned char **buf, size_t *len);
/* Decode and check (see the top). public_key NULL: the signature, when
 * present, is not checked; not NULL: an unsigned or wrongly signed file is
 * KN_ERR_SIGNATURE. `what` names the source in errors. */
KN_API kn_status kn_artifact_decode(const void *buf, size_t len, const char *what,
                                    const unsigned char *public_key, kn_artifact **out);
/* Whether the decoded file was signed. */
KN_API int kn_artifact_signed(const kn_artifact *a);
/* BLAKE2b-256 of the encoded file, as 64 hex digits + NUL (the store's
 * content address). */
KN_API void kn_artifact_hash_hex(const void *buf, size_t len, char hex[65]);
/* BLAKE2b-256 of a file's bytes, streamed, as 64 hex digits + NUL (the
 * lineage's source hashes; what `kiln lineage --data FILE` looks up). */
KN_API kn_status kn_artifact_hash_file(const char *path, char hex[65]);

/* Write to path through a temporary file that is fsynced and renamed (the
 * folder too), so a crash leaves either no file or the whole file. */
KN_API kn_status kn_artifact_write(const kn_artifact *a, const char *path,
                                   const unsigned char *secret_key);
KN_API kn_status kn_artifact_read(const char *path, const unsigned char *public_key,
                                  kn_artifact **out);

/* Load the fitted pipeline of an artifact file once, for prediction
 * (kn_pipeline_predict, kn_pipeline_predict_proba, kn_pipeline_predict_row:
 * thread-safe on one loaded pipeline). public_key as kn_artifact_decode. */
KN_API kn_status kn_pipeline_load(const char *path, const unsigned char *public_key,
                                  kn_pipeline **out);

/* Held-out predictions (KN_ART_HELDOUT), what the report draws its curves,
 * confusion matrix, calibration and residuals from. Classification: y and
 * pred are class indices into classes[0..k), proba n x k row-major.
 * Regression: k 0, classes and proba NULL. */
typedef struct kn_heldout {
    int classification;
    size_t n, k;
    char **classes;
    double *y, *pred, *proba;
} kn_heldout;
KN_API kn_status kn_heldout_encode(const kn_heldout *h, unsigned char **buf, size_t *len);
KN_API kn_status kn_heldout_decode(const void *buf, size_t len, const char *what, kn_heldout *out);
KN_API void kn_heldout_free(kn_heldout *h);

#ifdef __cplusplus
}
#endif
#endif
