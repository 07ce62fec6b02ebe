/* Shared by the run executor's files (run.c, run_artifact.c). */
#ifndef KILN_PIPELINE_RUN_IMPL_H
#define KILN_PIPELINE_RUN_IMPL_H

#include "kiln/run.h"

#include <jansson.h>

/* What the artifact is built from, beside the output. */
typedef struct kn__run_state {
    const kn_prep_spec *s;
    const kn_run_opts *o;
    kn_run_output *r;
    kn_frame *train, *test; /* raw rows (before the steps) */
    kn_heldout heldout;     /* the final pipeline's test predictions */
    size_t n_params;        /* the model's parameters: the spec's, and the run's seed */
    char **params;          /* as "seed=N" when the model has a seed the spec leaves */
    json_t *curves;         /* learning / validation curves (metrics' "curves"), or NULL */
    kn_pipeline *ens;       /* the spec's ensemble: its members, unfitted (and, from the
                               split on, the model that combines them), or NULL */
} kn__run_state;

/* What identifies the CV folds: the split's settings and seed, the sources'
 * hashes, and the training rows' target (and group / order column) codes.
 * Two runs with the same value were scored on the same rows in the same
 * folds, so their fold scores pair. */
kn_status kn__run_folds_hash(kn__run_state *w);
/* Split the prepared rows (w->r->prep->frame) into w->train and w->test
 * (raw rows, new frames) by the spec's evaluation: a separate test source, a
 * time cut, or a fraction (stratified for a classifier) drawn with
 * w->r->seed; the run's split, and kn_run_test_rows' again. */
kn_status kn__run_split_test(kn__run_state *w, int classify);
/* Lineage: every source's bytes or query hashed, with its rows. */
kn_status kn__run_lineage(kn__run_state *w);
/* The artifact from the fitted pipeline, the scores and the lineage. */
kn_status kn__run_artifact(kn__run_state *w);

#endif
