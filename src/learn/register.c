/* The learn layer's builtin components: its steps, one line per
 * model, then the metrics (their table is in eval/metric_registry.c). */
#include "kiln/init.h"
#include "kiln/registry.h"
#include "learn/learn-impl.h"
#include "learn/select/select-impl.h"

#include <pthread.h>

static const kn_component *const models[] = {&kn__gbdt,
                                             &kn__random_forest,
                                             &kn__extra_trees,
                                             &kn__balanced_random_forest,
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
                                             &kn__linear_svm,
                                             &kn__isolation_forest,
                                             &kn__one_class_svm,
                                             &kn__kmeans,
                                             &kn__bagging,
                                             &kn__easy_ensemble,
                                             &kn__adaboost,
                                             &kn__voting,
                                             &kn__stacking,
                                             &kn__member_vote,
                                             &kn__tuned_threshold};

/* steps that need neighbour search (learn/resample/) */
static const kn_component *const steps[] = {&kn__random_over_sampler,
                                            &kn__random_under_sampler,
                                            &kn__smote,
                                            &kn__borderline_smote,
                                            &kn__smote_nc,
                                            &kn__adasyn,
                                            &kn__tomek_links,
                                            &kn__edited_nearest_neighbours};

static void register_models(void)
{
    kn_prep_register();
    /* the learn layer's steps (prep's step contract, but they need models
     * and tests: the selectors, k-means distances, the resamplers), after
     * prep's steps and before the models: the registry lists components
     * layer by layer */
    kn_registry_add(&kn__select_filter);
    kn_registry_add(&kn__select_model);
    kn_registry_add(&kn__kmeans_features);
    for (size_t i = 0; i < sizeof steps / sizeof *steps; i++) kn_registry_add(steps[i]);
    for (size_t i = 0; i < sizeof models / sizeof *models; i++) kn_registry_add(models[i]);
    for (size_t i = 0; i < kn__n_metrics; i++) kn_registry_add(&kn__metrics[i]);
}

void kn_learn_register(void)
{
    static pthread_once_t once = PTHREAD_ONCE_INIT;
    pthread_once(&once, register_models);
}
