/* kiln train --out NAME.kiln (train_artifact.c). */
#ifndef KILN_CLI_TRAIN_ARTIFACT_H
#define KILN_CLI_TRAIN_ARTIFACT_H

#include "cli/cli.h"
#include "kiln/evaluate.h"
#include "kiln/pipeline.h"

/* What a trained artifact records besides the pipeline. */
typedef struct cli_train_record {
    const char *out, *data, *target, *weight, *positive_class;
    const char *sign_key; /* NAME.key, or NULL: unsigned */
    uint64_t seed;
    size_t rows_in, rows_train, rows_test;
    const kn_scores *scores;  /* held-out scores, or NULL */
    const kn_read_opts *read; /* the reader settings of the data (NULL: defaults) */
} cli_train_record;

/* Whether --out names an artifact (ends in .kiln). */
int cli_out_is_artifact(const char *out);
/* Write the artifact of fitted p: f is the whole training data (the schema
 * is inferred from it), fit the rows p was fitted on (the drift reference),
 * test the held-out rows (may be NULL). */
kn_status cli_write_train_artifact(const kn_pipeline *p, const kn_frame *f, const kn_frame *fit,
                                   const kn_frame *test, const cli_train_record *r);

#endif
