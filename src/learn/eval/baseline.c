/* The baseline a model is judged against: a constant predictor fitted on
 * the training rows (the class prior, with the majority class as its label,
 * for a classifier; the mean for a regressor), scored on other rows with
 * the model's own metrics. */
#include "kiln/evaluate.h"
#include "kiln/mem.h"
#include "kiln/metrics.h"
#include "kiln/registry.h"
#include "learn/learn-impl.h"

#include <math.h>
#include <string.h>

/* The weights of f's column `weight`, or NULL (every weight 1). */
static kn_status weights_of(const kn_frame *f, const char *weight, const double **w)
{
    size_t j;
    *w = NULL;
    if (!weight) return KN_OK;
    if (kn_frame_find(f, weight, &j) != KN_OK)
        return kn_fail(KN_ERR_NOT_FOUND, "weight column '%s' is not in the data", weight);
    kn_column *c = kn_frame_col(f, j);
    if (kn_column_type(c) != KN_COL_NUMERIC)
        return kn_fail(KN_ERR_TYPE, "weight column '%s' must be numeric", weight);
    *w = kn_column_f64(c);
    return KN_OK;
}

kn_status kn_model_score_baseline(const kn_model *m, const kn_frame *train, const kn_frame *test,
                                  const char *weight, const kn_scores *like, kn_scores *out)
{
    memset(out, 0, sizeof *out);
    double *y_train = NULL, *y_test = NULL, *proba = NULL, *pred = NULL, *prior = NULL;
    int32_t *yc = NULL, *pc = NULL;
    const double *w_train = NULL, *w_test = NULL;
    size_t nt = kn_frame_n_rows(train), n = kn_frame_n_rows(test), k = kn_model_n_classes(m);
    int classify = kn_model_task(m) == KN_TASK_CLASSIFICATION;
    size_t unseen = 0; /* test classes the training rows lack: wrong for the baseline too */
    kn_status e = kn_model_targets(m, train, &y_train);
    if (e == KN_OK) e = kn__model_targets_unseen(m, test, 2, &y_test, &unseen);
    if (e == KN_OK) e = weights_of(train, weight, &w_train);
    if (e == KN_OK) e = weights_of(test, weight, &w_test);
    kn_metric_data d = {.n = n, .w = w_test, .positive = -1};
    if (e == KN_OK && classify) {
        proba = kn_calloc(n * k + 1, sizeof *proba);
        yc = kn_malloc((n ? n : 1) * sizeof *yc);
        pc = kn_malloc((n ? n : 1) * sizeof *pc);
        prior = kn_calloc(k + 1, sizeof *prior);
        e = proba && yc && pc && prior ? KN_OK : KN_ERR_NOMEM;
        double total = 0;
        size_t best = 0;
        for (size_t r = 0; e == KN_OK && r < nt; r++) {
            double wr = w_train ? w_train[r] : 1;
            if (!isnan(y_train[r]) && (size_t)y_train[r] < k) prior[(size_t)y_train[r]] += wr;
            total += wr;
        }
        for (size_t c = 0; e == KN_OK && c < k; c++) {
            prior[c] /= total > 0 ? total : 1;
            if (prior[c] > prior[best]) best = c;
        }
        for (size_t r = 0; e == KN_OK && r < n; r++) {
            memcpy(proba + r * k, prior, k * sizeof *prior);
            yc[r] = (int32_t)y_test[r];
            pc[r] = (int32_t)best;
        }
        d.y_class = yc;
        d.pred_class = pc;
        d.k = k + unseen;
        d.k_model = k;
        d.proba = unseen ? NULL : proba; /* undefined, as for the model */
        d.positive = like->positive;
    } else if (e == KN_OK) {
        double sum = 0, total = 0;
        for (size_t r = 0; r < nt; r++) {
            double wr = w_train ? w_train[r] : 1;
            sum += wr * y_train[r];
            total += wr;
        }
        double mean = total > 0 ? sum / total : 0;
        if (!(pred = kn_malloc((n ? n : 1) * sizeof *pred))) e = KN_ERR_NOMEM;
        for (size_t r = 0; e == KN_OK && r < n; r++) pred[r] = mean;
        d.y = y_test;
        d.pred = pred;
    }
    out->rows = n;
    out->roc_auc_average = like->roc_auc_average;
    out->positive_class = like->positive_class;
    out->positive = like->positive;
    /* every metric the model was scored with; one undefined for a constant
       predictor (e.g. a correlation) is left out */
    for (size_t i = 0; e == KN_OK && i < like->n; i++) {
        double v;
        const kn_component *c = kn_registry_find(KN_COMP_METRIC, like->name[i]);
        const kn_metric_vt *vt = c ? c->vt : NULL;
        if (vt && kn_metric_compute(like->name[i], &d, &v) == KN_OK && isfinite(v))
            e = kn_scores_add(out, like->name[i], v, vt->higher_is_better);
    }
    kn_free(y_train);
    kn_free(y_test);
    kn_free(proba);
    kn_free(pred);
    kn_free(prior);
    kn_free(yc);
    kn_free(pc);
    if (e != KN_OK) kn_scores_free(out);
    return e;
}
