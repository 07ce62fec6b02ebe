/* The corrected resampled paired t-test (Nadeau and Bengio, 2003); the
 * Student t distribution it needs is in core/distrib.c. */
#include "kiln/distrib.h"
#include "kiln/store.h"

#include <math.h>

kn_status kn_paired_ttest(const double *a, const double *b, size_t k, double test_train_ratio,
                          kn_paired_test *out)
{
    if (k < 2)
        return kn_fail(KN_ERR_INVALID, "a paired test needs scores on 2 or more folds (got %zu)",
                       k);
    if (!(test_train_ratio >= 0) || !isfinite(test_train_ratio))
        return kn_fail(KN_ERR_INVALID, "paired test: test/train ratio %g is not a number >= 0",
                       test_train_ratio);
    double mean = 0;
    for (size_t i = 0; i < k; i++) {
        if (!isfinite(a[i]) || !isfinite(b[i]))
            return kn_fail(KN_ERR_INVALID, "paired test: fold %zu has no finite score", i);
        mean += a[i] - b[i];
    }
    mean /= (double)k;
    double ss = 0;
    for (size_t i = 0; i < k; i++) {
        double d = a[i] - b[i] - mean;
        ss += d * d;
    }
    double var = ss / (double)(k - 1);
    out->k = k;
    out->mean_diff = mean;
    out->sd_diff = sqrt(var);
    out->df = (double)(k - 1);
    double se = sqrt((1.0 / (double)k + test_train_ratio) * var);
    if (se == 0) { /* every fold differs by the same amount */
        out->t = mean == 0 ? 0 : (mean > 0 ? INFINITY : -INFINITY);
        out->p_value = mean == 0 ? 1 : 0;
        return KN_OK;
    }
    out->t = mean / se;
    out->p_value = kn_incbeta(out->df / 2, 0.5, out->df / (out->df + out->t * out->t));
    return KN_OK;
}
