/* kn_cluster_score: inertia, silhouette and agreement with true groups of
 * a fitted clustering model on a frame's rows (kiln/cluster.h). */
#include "kiln/cluster.h"
#include "kiln/mem.h"
#include "kiln/metrics.h"
#include "kiln/split.h"
#include "learn/unsup/kmeans-impl.h"

#include <math.h>
#include <string.h>

kn_status kn_cluster_score(const kn_model *m, const kn_frame *f, const char *labels,
                           size_t silhouette_rows, kn_cluster_scores *out)
{
    memset(out, 0, sizeof *out);
    out->inertia = out->silhouette = out->adjusted_rand = out->nmi = NAN;
    size_t k = 0, p = 0;
    if (strcmp(kn_model_name(m), "kmeans"))
        return kn_fail(KN_ERR_INVALID,
                       "model '%s' is a %s model, not a clustering one; cluster scores are for "
                       "kmeans (kiln cluster --save)",
                       kn_model_name(m), kn_model_kind(m));
    const double *cen = kn__kmeans_centres(m, &k, &p);
    if (!cen) return kn_fail(KN_ERR_INVALID, "model 'kmeans' is not fitted; fit it first");
    size_t n = kn_frame_n_rows(f);
    if (labels)
        for (size_t j = 0; j < p; j++)
            if (!strcmp(kn_model_feature(m, j), labels))
                return kn_fail(KN_ERR_INVALID,
                               "label column '%s' is a feature of the model; name a column the "
                               "model was not fitted on",
                               labels);
    double *pred = NULL, *x = kn_malloc((n * p + 1) * sizeof *x);
    int32_t *lab = kn_malloc((n ? n : 1) * sizeof *lab), *truth = NULL;
    size_t got = 0, *size = kn_calloc(k, sizeof *size);
    kn_status e = x && lab && size ? KN_OK : KN_ERR_NOMEM;
    if (e == KN_OK) e = kn_model_predict(m, f, &pred, &got);
    for (size_t j = 0; e == KN_OK && j < p; j++) { /* column-major, as the metrics take */
        size_t c;
        e = kn_frame_find(f, kn_model_feature(m, j), &c);
        if (e != KN_OK || kn_column_type(kn_frame_col(f, c)) != KN_COL_NUMERIC)
            e = kn_fail(KN_ERR_INVALID,
                        "the data has no numeric column '%s', a feature of the "
                        "model",
                        kn_model_feature(m, j));
        else
            memcpy(x + j * n, kn_column_f64(kn_frame_col(f, c)), n * sizeof *x);
    }
    if (e == KN_OK && labels) e = kn_split_labels(f, labels, &truth, &out->groups);
    if (e == KN_OK) {
        double inertia = 0;
        for (size_t i = 0; i < n; i++) {
            size_t c = (size_t)pred[i];
            double d = 0;
            for (size_t j = 0; j < p; j++) {
                double t = x[j * n + i] - cen[c * p + j];
                d += t * t;
            }
            inertia += d;
            lab[i] = (int32_t)c;
            out->used += size[c]++ == 0;
        }
        out->rows = n;
        out->clusters = k;
        out->inertia = inertia;
    }
    if (e == KN_OK && n <= silhouette_rows && out->used >= 2 && out->used < n)
        e = kn_metric_silhouette(x, n, p, lab, k, &out->silhouette);
    if (e == KN_OK && truth)
        e = kn_metric_adjusted_rand(truth, out->groups, lab, k, n, &out->adjusted_rand);
    if (e == KN_OK && truth) e = kn_metric_nmi(truth, out->groups, lab, k, n, &out->nmi);
    kn_free(pred), kn_free(x), kn_free(lab), kn_free(truth), kn_free(size);
    return e;
}
