/* Over- and under-fitting from cross-validated scores (kiln/cv.h). */
#include "kiln/cv.h"

#include <math.h>
#include <stdio.h>

/* The thresholds of kn_fit_diagnose, on the skill scale (0: the baseline,
 * 1: a perfect score). */
#define OVER_SKILL_GAP 0.25
#define UNDER_SKILL 0.10
/* the folds' validation spread beyond which a gap is not judged */
#define NOISY_SPREAD 0.25

const char *kn_fit_verdict_name(kn_fit_verdict v)
{
    switch (v) {
    case KN_FIT_FINE:
        return "fine";
    case KN_FIT_OVER:
        return "over-fitting";
    case KN_FIT_UNDER:
        return "under-fitting";
    case KN_FIT_UNKNOWN:
        break;
    }
    return "unknown";
}

kn_fit_verdict kn_fit_diagnose(const char *metric, double train, double valid, double valid_std,
                               double baseline, int higher_is_better, char *why, size_t len)
{
    kn_fit_evidence ev = {metric, train, valid, valid_std, baseline, NAN, higher_is_better};
    return kn_fit_judge(&ev, why, len);
}

kn_fit_verdict kn_fit_judge(const kn_fit_evidence *ev, char *why, size_t len)
{
    const char *metric = ev->metric;
    double train = ev->train, valid = ev->valid, baseline = ev->baseline;
    /* oriented so that more is better; a perfect score is 1 or 0 */
    double sign = ev->higher_is_better ? 1 : -1, perfect = ev->higher_is_better ? 1 : 0;
    double span = sign * (perfect - baseline);
    if (!isfinite(train) || !isfinite(valid) || !isfinite(baseline) || !(span > 1e-12)) {
        snprintf(why, len, "unknown: %s",
                 !(span > 1e-12) && isfinite(baseline) ? "the baseline already scores perfectly"
                                                       : "a score is missing");
        return KN_FIT_UNKNOWN;
    }
    double skill_train = sign * (train - baseline) / span;
    double skill_valid = sign * (valid - baseline) / span;
    double gap = sign * (train - valid), spread = isfinite(ev->valid_std) ? ev->valid_std : 0;
    /* the train skill from the constant's score on the same rows, when known
     * (a constant already perfect there leaves nothing to learn: skill 0) */
    double tb = ev->train_baseline, own = skill_train;
    int own_known = isfinite(tb);
    if (own_known) {
        double span_t = sign * (perfect - tb);
        own = span_t > 1e-12 ? sign * (train - tb) / span_t : 0;
    }
    int learnt = own >= UNDER_SKILL, noisy = spread / span > NOISY_SPREAD;
    int gap_says_over = gap > 2 * spread && skill_train - skill_valid > OVER_SKILL_GAP;
    if (gap_says_over && learnt && !noisy) {
        char times[48] = "";
        if (spread > 0) snprintf(times, sizeof times, " (%.1fx the folds' spread)", gap / spread);
        snprintf(why, len,
                 "over-fitting: train %s %.4g vs validation %.4g +- %.2g (baseline %.4g); the "
                 "model goes %.0f %% of the way from the baseline to a perfect score on the rows "
                 "it was fitted on but %.0f %% on rows it has not seen, a gap of %.4g%s; try a "
                 "simpler model, stronger regularisation or more rows",
                 metric, train, valid, spread, baseline, 100 * skill_train, 100 * skill_valid,
                 fabs(train - valid), times);
        return KN_FIT_OVER;
    }
    if (own < UNDER_SKILL && skill_valid < UNDER_SKILL) {
        if (own_known && gap_says_over)
            snprintf(why, len,
                     "under-fitting: train %s %.4g is no better than a constant on the same rows "
                     "(%.4g), so the gap to validation %.4g is the constant's own, not "
                     "over-fitting; validation is within %.0f %% of the way from the baseline "
                     "%.4g to a perfect score: the model learnt nothing from its rows; try a "
                     "more flexible model, more rows or better features",
                     metric, train, tb, valid, 100 * UNDER_SKILL, baseline);
        else
            snprintf(why, len,
                     "under-fitting: train %s %.4g and validation %.4g are both within %.0f %% "
                     "of the way from the baseline %.4g to a perfect score: the model barely "
                     "beats a constant even on the rows it was fitted on; try a more flexible "
                     "model or better features (or the features carry little signal)",
                     metric, train, valid, 100 * UNDER_SKILL, baseline);
        return KN_FIT_UNDER;
    }
    if (gap_says_over && noisy) {
        snprintf(why, len,
                 "unknown: train %s %.4g vs validation %.4g +- %.2g (baseline %.4g), but the "
                 "folds' validation scores spread %.0f %% of the way from the baseline to a "
                 "perfect score (over %.0f %%): too noisy to tell over-fitting; more rows or "
                 "folds would tell",
                 metric, train, valid, spread, baseline, 100 * spread / span, 100 * NOISY_SPREAD);
        return KN_FIT_UNKNOWN;
    }
    if (gap_says_over) { /* a train score no better than the constant's on its rows */
        snprintf(why, len,
                 "fine: train %s %.4g vs validation %.4g +- %.2g (baseline %.4g): the train score "
                 "is no better than a constant's on the same rows (%.4g), so the gap is not "
                 "over-fitting",
                 metric, train, valid, spread, baseline, tb);
        return KN_FIT_FINE;
    }
    snprintf(why, len,
             "fine: train %s %.4g, validation %.4g +- %.2g, baseline %.4g: the model beats the "
             "baseline on unseen rows and its train score is not far above its validation score",
             metric, train, valid, spread, baseline);
    return KN_FIT_FINE;
}
