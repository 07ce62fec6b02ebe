/* Internal: the generic model's struct, shared by model.c (the contract
 * around the vtable), dataset.c (frames to kn_dataset) and model_file.c
 * (encoding and the .kmd file). */
#ifndef KILN_MODEL_IMPL_H
#define KILN_MODEL_IMPL_H

#include "kiln/component.h"
#include "kiln/model.h"
#include "learn/learn-impl.h" /* (kn__fit_share) */

struct kn_model {
    kn_instance inst; /* component and parameters (kiln/component.h) */
    void *state;
    char *target;
    size_t p;
    char **features;
    size_t n_classes;
    char **classes;
    size_t *n_levels; /* per feature (0: numeric), or NULL */
    char ***levels;
    int task_set; /* the task parameter (vt->task_param) was set by name */
    /* provenance (format 3): rows fitted on (0: not recorded), the Kiln
     * version that wrote a loaded file (NULL: not recorded or not loaded),
     * recorded scores and the rows they were computed on */
    size_t train_rows;
    char *saved_by;
    size_t metric_rows, n_metrics;
    char **metric_name;
    double *metric_value;
    /* the reader settings of the training data (format 4 .kmd files:
     * kn_read_settings_format's text), or NULL: none recorded */
    char *read_settings;
    /* the fit's outputs on its own training rows (kn__model_keep_fit_output) */
    int keep_fit_output;
    double *fit_output;
    size_t fit_output_rows;
    kn__fit_share *share; /* borrowed (kn__model_use_fit_share), or NULL */
};

/* The model's KN_MODEL_* bits: its vtable's flags and flags_of's. */
unsigned kn__model_flags(const kn_model *m);

/* Frees p features' level lists (either may be NULL). */
void kn__free_levels(size_t *n_levels, char ***levels, size_t p);

/* The dataset of kn_dataset_from_frame; flags (KN_MODEL_*): with
 * READS_COLUMNS the feature columns are the frame's own (x NULL, col set);
 * with TAKES_MISSING missing feature values stay (NaN). `fitted` is the
 * model predicting (NULL when fitting): its categorical levels are used. */
kn_status kn__build_dataset(const kn_frame *f, const char *target, const char *weight,
                            const char *const *names, size_t n_names, kn_task task, unsigned flags,
                            const kn_model *fitted, kn_dataset **out);

#endif
