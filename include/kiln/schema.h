/* Kiln schemas: a data contract, kept as YAML, that a frame is checked
 * against before anything learns from it.
 *
 *     version: 1
 *     rows: {min: 100, max: 1000000}     # optional bounds on the row count
 *     keys: [id]                         # together unique per row
 *     on_violation: quarantine           # fail (default) | drop | quarantine
 *     columns:
 *       - name: age
 *         type: numeric                  # numeric | categorical | string | timestamp
 *         required: true                 # the column must be present (default true)
 *         max_missing: 0.05              # largest missing fraction (0: not nullable)
 *         min: 0
 *         max: 120
 *       - name: grade
 *         type: categorical
 *         categories: [A, B, C]
 *       - name: email
 *         type: string
 *         pattern: '^[^@ ]+@[^@ ]+$'     # POSIX extended regex, whole value
 *         unique: true
 *         on_violation: drop             # overrides the schema's policy
 *
 * Row rules (a missing value where max_missing is 0, a value out of range,
 * not among the categories, not matching the pattern, a repeated unique value
 * or key) apply the policy to the offending rows: fail, drop them (counted)
 * or quarantine them (kept aside with the reason). Column rules (absent
 * column, another type, too many missing values, row-count bounds) always
 * fail. Parsing errors name the line and column of the YAML and the fix.
 * Anchors, aliases and merge keys work as in YAML (`- <<: *base` then
 * `name: b` reuses a column's rules); a file holds one document.
 */
#ifndef KILN_SCHEMA_H
#define KILN_SCHEMA_H

#include "kiln/frame.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum {
    KN_POLICY_FAIL = 0,
    KN_POLICY_DROP = 1,
    KN_POLICY_QUARANTINE = 2,
} kn_policy;

typedef struct kn_schema_column {
    char *name;
    kn_col_type type;
    int required;       /* default 1 */
    double max_missing; /* fraction in [0, 1]; default 1 (any) */
    int has_min, has_max;
    double min, max; /* numeric values; timestamps in microseconds */
    size_t n_categories;
    char **categories; /* allowed values (categorical or string); NULL = any */
    char *pattern;     /* regex a string/categorical value must match; NULL = any */
    int unique;
    int has_policy;
    kn_policy policy; /* when has_policy; else the schema's */
    /* Set by kn_schema_infer when it left the column without a value rule
     * (no categories or no range), saying why; written as a YAML comment
     * above the column. NULL otherwise (and for parsed schemas). */
    char *unconstrained;
} kn_schema_column;

typedef struct kn_schema {
    uint64_t min_rows, max_rows; /* 0 = no bound */
    size_t n_keys;
    char **keys;
    kn_policy policy;
    size_t n_cols;
    kn_schema_column *cols;
} kn_schema;

/* Parse a schema from YAML text (len bytes; `what` names it in errors).
 * Returns a new schema; free with kn_schema_free(). */
KN_API kn_status kn_schema_parse(const char *text, size_t len, const char *what, kn_schema **out);
KN_API kn_status kn_schema_load(const char *path, kn_schema **out);
KN_API void kn_schema_free(kn_schema *s);

/* Infer a schema from data: each column's type, presence, observed missing
 * fraction, numeric/timestamp range, uniqueness of likely-ID columns, and the
 * levels of every categorical or string column, in order of first
 * appearance, unless the column looks like free text or an identifier:
 * more than max_categories levels and more than half of its values seen
 * only once (then any new value would likely be new too). A column left
 * without a value rule (free text, or no values at all) says why in
 * ->unconstrained. */
KN_API kn_status kn_schema_infer(const kn_frame *f, size_t max_categories, kn_schema **out);
/* The schema as YAML text (a new NUL-terminated string; kn_free). `comment`
 * (may be NULL) goes first as a '#' line. */
KN_API kn_status kn_schema_to_yaml(const kn_schema *s, const char *comment, char **out);

/* One violated rule: where, what, how many rows, the first example rows. */
#define KN_VIOLATION_EXAMPLES 5
typedef struct kn_violation {
    char *column;   /* NULL for table rules (row count, keys) */
    char *rule;     /* "missing", "min", "max", "categories", "pattern", "unique", "keys",
                       "required", "type", "max_missing", "rows" */
    char *detail;   /* one sentence */
    uint64_t count; /* offending rows (cells), or 1 for a column/table rule */
    size_t n_examples;
    uint64_t examples[KN_VIOLATION_EXAMPLES]; /* 0-based row indices */
    kn_policy policy;
    int row_rule; /* 1: rows can be dropped or quarantined */
} kn_violation;

typedef struct kn_validation {
    uint64_t rows;
    size_t n_violations;
    kn_violation *violations;
    /* Per row: 0 = keep, else 1 + index of the first violation that takes it
     * (drop or quarantine). NULL when nothing is taken. */
    uint32_t *row_fate;
    uint64_t rows_dropped, rows_quarantined;
    int failed; /* a violation whose policy is fail (or a column rule) */
} kn_validation;

/* Check f against s. Returns KN_OK with the report whether or not rules were
 * violated (see ->failed); errors only for bad schemas (an invalid regex). */
KN_API kn_status kn_schema_validate(const kn_schema *s, const kn_frame *f, kn_validation **out);
KN_API void kn_validation_free(kn_validation *v);
/* The rows of f that v quarantined, as a new frame whose first columns are
 * `_row` (data_row[r] when data_row is not NULL, else r + 1) and
 * `_violation` (the rule each broke); what `--rejects` files hold. */
KN_API kn_status kn_validation_quarantined(const kn_frame *f, const kn_validation *v,
                                           const uint64_t *data_row, kn_frame **out);

KN_API const char *kn_policy_name(kn_policy p);
KN_API kn_status kn_policy_parse(const char *name, kn_policy *p);

#ifdef __cplusplus
}
#endif
#endif
