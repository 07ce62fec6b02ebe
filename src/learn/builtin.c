/* The builtin component list: one line per component. This file sits in the
 * topmost layer of the library built so far; it moves up as layers are added. */
#include "core/registry-impl.h"
#include "data/io-impl.h"
#include "learn/learn-impl.h"
#include "prep/prep-impl.h"

static const kn_reader_vt csv_reader = {kn__csv_read}, arff_reader = {kn__arff_read},
                          libsvm_reader = {kn__libsvm_read}, jsonl_reader = {kn__jsonl_read},
                          kfr_reader = {kn__kfr_read};
static const kn_writer_vt csv_writer = {kn__csv_write}, arff_writer = {kn__arff_write},
                          libsvm_writer = {kn__libsvm_write}, jsonl_writer = {kn__jsonl_write},
                          kfr_writer = {kn__kfr_write};

static const kn_component builtins[] = {
    {KN_COMP_READER, "csv", "comma/tab/semicolon separated text (RFC 4180)", NULL, 0, &csv_reader},
    {KN_COMP_READER, "arff", "Weka ARFF (dense and sparse rows)", NULL, 0, &arff_reader},
    {KN_COMP_READER, "libsvm", "LIBSVM/SVMlight sparse text", NULL, 0, &libsvm_reader},
    {KN_COMP_READER, "jsonl", "JSON Lines: one object per line", NULL, 0, &jsonl_reader},
    {KN_COMP_READER, "kfr", "Kiln binary columnar frame (zstd, BLAKE2b)", NULL, 0, &kfr_reader},
    {KN_COMP_WRITER, "csv", "comma separated text (RFC 4180)", NULL, 0, &csv_writer},
    {KN_COMP_WRITER, "arff", "Weka ARFF", NULL, 0, &arff_writer},
    {KN_COMP_WRITER, "libsvm", "LIBSVM sparse text (numeric columns)", NULL, 0, &libsvm_writer},
    {KN_COMP_WRITER, "jsonl", "JSON Lines", NULL, 0, &jsonl_writer},
    {KN_COMP_WRITER, "kfr", "Kiln binary columnar frame", NULL, 0, &kfr_writer},
};

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

static const kn_component *const models[] = {&kn__gbdt,
                                             &kn__random_forest,
                                             &kn__extra_trees,
                                             &kn__decision_tree,
                                             &kn__linear_regression,
                                             &kn__ridge,
                                             &kn__lasso,
                                             &kn__elastic_net,
                                             &kn__lasso_cv,
                                             &kn__elastic_net_cv,
                                             &kn__logistic_regression,
                                             &kn__gaussian_nb,
                                             &kn__poisson_regressor,
                                             &kn__gamma_regressor,
                                             &kn__tweedie_regressor,
                                             &kn__glm,
                                             &kn__multinomial_nb,
                                             &kn__bernoulli_nb,
                                             &kn__categorical_nb,
                                             &kn__knn_classifier,
                                             &kn__knn_regressor,
                                             &kn__linear_svm};

void kn__register_builtins(void)
{
    for (size_t i = 0; i < sizeof builtins / sizeof *builtins; i++)
        kn__registry_add_builtin(&builtins[i]);
    for (size_t i = 0; i < sizeof steps / sizeof *steps; i++) kn__registry_add_builtin(steps[i]);
    for (size_t i = 0; i < sizeof models / sizeof *models; i++) kn__registry_add_builtin(models[i]);
}
