/* The prep layer's builtin components: one line per step. */
#include "kiln/init.h"
#include "kiln/registry.h"
#include "prep/prep-impl.h"

#include <pthread.h>

static const kn_component *const steps[] = {&kn__standard_scaler,
                                            &kn__minmax_scaler,
                                            &kn__robust_scaler,
                                            &kn__maxabs_scaler,
                                            &kn__simple_imputer,
                                            &kn__ordinal_encoder,
                                            &kn__onehot_encoder,
                                            &kn__log1p_transform,
                                            &kn__polynomial_features,
                                            &kn__kbins_discretizer,
                                            &kn__datetime_features,
                                            &kn__combine_columns,
                                            &kn__frequency_encoder,
                                            &kn__drop_constant,
                                            &kn__outlier_clip,
                                            &kn__power_transformer,
                                            &kn__pca,
                                            &kn__hashing_encoder,
                                            &kn__target_encoder,
                                            &kn__knn_imputer,
                                            &kn__coerce};

static void register_steps(void)
{
    kn_data_register();
    for (size_t i = 0; i < sizeof steps / sizeof *steps; i++) kn_registry_add(steps[i]);
}

void kn_prep_register(void)
{
    static pthread_once_t once = PTHREAD_ONCE_INIT;
    pthread_once(&once, register_steps);
}
