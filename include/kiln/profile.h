/* Kiln data profiles: what `kiln describe` shows, and the reference profile
 * later kept in artifacts for drift checks.
 *
 *     kn_profile *p;
 *     if (kn_profile_compute(frame, &p) == KN_OK) {
 *         printf("%llu duplicate rows\n", (unsigned long long)p->duplicate_rows);
 *         kn_profile_free(p);
 *     }
 *
 * Quantiles use linear interpolation between order statistics (numpy's
 * default); std is the sample standard deviation (n - 1); skew is the
 * adjusted Fisher-Pearson coefficient (pandas' skew()).
 * Threading: columns are profiled in parallel (OpenMP).
 */
#ifndef KILN_PROFILE_H
#define KILN_PROFILE_H

#include "kiln/frame.h"

#ifdef __cplusplus
extern "C" {
#endif

#define KN_PROFILE_TOP 5

typedef struct kn_top_value {
    char *value; /* owned by the profile */
    uint64_t count;
} kn_top_value;

typedef struct kn_col_profile {
    char *name;
    kn_col_type type;
    kn_role role;
    uint64_t count;   /* non-missing cells */
    uint64_t missing; /* missing cells */
    double missing_frac;
    uint64_t distinct; /* distinct non-missing values */
    /* numeric, int64 and timestamp columns (timestamps in microseconds) */
    double min, max, mean, std, skew;
    double p1, p25, p50, p75, p99;
    int integer_valued;
    /* categorical and string columns: most frequent values */
    size_t n_top;
    kn_top_value top[KN_PROFILE_TOP];
    int constant;  /* at most one distinct value */
    int likely_id; /* unique per row and integer or text */
    /* int64 columns: exact extremes (min/max/mean/quantiles above are the
     * nearest doubles; distinct is exact) */
    int64_t min_i64, max_i64;
    /* categorical and string columns: values that occur exactly once */
    uint64_t singletons;
    /* numeric columns: +inf and -inf cells (counted in count; min, max,
     * mean, std and skew include them) */
    uint64_t infinite;
} kn_col_profile;

typedef struct kn_profile {
    uint64_t rows;
    size_t n_cols;
    kn_col_profile *cols;
    uint64_t duplicate_rows; /* rows equal to an earlier row */
    size_t n_warnings;
    char **warnings; /* one sentence each */
} kn_profile;

/* Returns a new profile; free with kn_profile_free(). */
KN_API kn_status kn_profile_compute(const kn_frame *f, kn_profile **out);
KN_API void kn_profile_free(kn_profile *p);

#ifdef __cplusplus
}
#endif
#endif
