/* The pipeline object's fields, shared by the pipeline layer's files. */
#ifndef KILN_PIPELINE_IMPL_H
#define KILN_PIPELINE_IMPL_H

#include "kiln/pipeline.h"

struct kn_pipeline {
    size_t n_steps;
    kn_step **steps;
    kn_model *model;       /* NULL: steps only */
    char *target, *weight; /* column names, or NULL */
    kn_steps_input *input; /* the columns fitted on; NULL before fit */
    int fitted;
};

#endif
