/* Kiln cluster scores: a fitted clustering model (kn_model_kind "cluster",
 * e.g. kmeans) judged on rows, for `kiln eval` and `kiln cv`.
 *
 *     kn_cluster_scores s;
 *     if (kn_cluster_score(m, f, "class", 20000, &s) == KN_OK)
 *         printf("inertia %g, ARI %g\n", s.inertia, s.adjusted_rand);
 *
 * The rows are assigned to their nearest centre (as kn_model_predict);
 * inertia is the sum of their squared distances to it (scikit-learn's
 * -KMeans.score); silhouette is scikit-learn's silhouette_score of those
 * assignments, computed only for at most silhouette_rows rows (its cost
 * grows with rows squared) and when from 2 to rows - 1 clusters are in
 * use, else NaN. With a label column (numeric or categorical; no missing
 * values) the assignments are also compared with those true groups:
 * adjusted Rand index and normalised mutual information
 * (kn_metric_adjusted_rand, kn_metric_nmi); NaN without one. The label
 * column is never a feature. Threads: as the model's prediction and
 * kn_metric_silhouette (any thread count gives the same numbers). */
#ifndef KILN_CLUSTER_H
#define KILN_CLUSTER_H

#include "kiln/core.h"
#include "kiln/frame.h"
#include "kiln/model.h"

#include <stddef.h>

typedef struct kn_cluster_scores {
    size_t rows;          /* rows scored */
    size_t clusters;      /* the model's clusters */
    size_t used;          /* clusters that received a row */
    double inertia;       /* sum of squared distances to the assigned centre */
    double silhouette;    /* NaN when not computed (see above) */
    size_t groups;        /* distinct true labels; 0 without a label column */
    double adjusted_rand; /* against the labels; NaN without */
    double nmi;           /* normalised mutual information; NaN without */
} kn_cluster_scores;

/* Scores the fitted clustering model m on the rows of f (which holds the
 * model's feature columns, numeric, nothing missing), against the column
 * `labels` when not NULL. Errors name the problem: m is not a clustering
 * model, a feature or the label column is absent, a label is missing. */
KN_API kn_status kn_cluster_score(const kn_model *m, const kn_frame *f, const char *labels,
                                  size_t silhouette_rows, kn_cluster_scores *out);

#endif
