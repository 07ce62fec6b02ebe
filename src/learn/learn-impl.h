/* Internal: the model components (listed in learn/register.c). */
#ifndef KILN_LEARN_IMPL_H
#define KILN_LEARN_IMPL_H

#include "kiln/ctx.h"
#include "kiln/model.h"
#include "kiln/registry.h"
#include "kiln/rng.h"

extern const kn_component kn__linear_regression, kn__ridge, kn__lasso, kn__elastic_net,
    kn__logistic_regression, kn__gaussian_nb, kn__poisson_regressor, kn__gamma_regressor,
    kn__tweedie_regressor, kn__glm, kn__multinomial_nb, kn__bernoulli_nb, kn__categorical_nb,
    kn__knn_classifier, kn__knn_regressor, kn__linear_svm, kn__lasso_cv, kn__elastic_net_cv,
    kn__gbdt, kn__decision_tree, kn__random_forest, kn__extra_trees, kn__isolation_forest,
    kn__kmeans, kn__kmeans_features, kn__one_class_svm;
/* Tests: non-zero scores isolation forests by walking their node arrays
 * rather than their heaps (iforest.c; the same bits). */
extern int kn__iforest_walk;
/* The ensembles (ensemble/). */
extern const kn_component kn__bagging, kn__adaboost, kn__voting, kn__stacking, kn__easy_ensemble;
extern const kn_component kn__balanced_random_forest, kn__tuned_threshold;
/* The combiner of a pipeline ensemble's vote (ensemble/member_vote.c). */
extern const kn_component kn__member_vote;
/* resample/: steps that change the training rows at fit time (kiln/step.h) */
extern const kn_component kn__random_over_sampler, kn__random_under_sampler, kn__smote,
    kn__borderline_smote, kn__smote_nc, kn__adasyn, kn__tomek_links, kn__edited_nearest_neighbours;
/* The builtin metrics (eval/metric_registry.c), registered after the models. */
extern const kn_component kn__metrics[];
extern const size_t kn__n_metrics;

/* The fix named when a target value is missing (model fit and scoring). */
#define KN__MISSING_TARGET_FIX "a model cannot learn from or be scored on it: drop those rows first"

/* The warning of a fit that stopped before its tolerance: with the real
 * max_iter, and raising it suggested only when every iteration was used. */
void kn__warn_not_converged(const char *model, int iterations, int64_t max_iter, double grad,
                            double tol);

/* w[i] = scale x sample weight (1 without) x, when balanced and d has
 * classes, n / (classes x rows of row i's class): scikit-learn's
 * class_weight="balanced". */
/* Whether the task parameter of m was set by name (kn_model_set). */
int kn__model_task_set(const kn_model *m);
/* "param=value" that sets a two-task family's task (vt->task_param set). */
void kn__task_setting(const kn_model_vt *vt, kn_task task, char *buf, size_t len);
/* The model's implementation. */
const kn_model_vt *kn__model_vt(const kn_model *m);

/* Training outputs: a model asked before its fit (keep non-zero) may leave
 * its outputs on its own training rows, exactly (bit for bit) what its
 * predict_proba (classifiers: n x classes, row-major) or its predict
 * (regressors) gives for them, when the fit holds them anyway (a boosting
 * holds every row's raw score); cross-validation then scores the training
 * rows from them instead of predicting again. Refitting, or setting any
 * parameter, drops them. */
void kn__model_keep_fit_output(kn_model *m, int keep);
/* Whether m's fit was asked to leave its outputs. */
int kn__model_wants_fit_output(const kn_model *m);
/* From a fit: v (n rows, kn_malloc'd; m takes it) is m's output on its
 * training rows. */
void kn__model_set_fit_output(kn_model *m, double *v, size_t n);
/* The outputs the fit left, and their rows (*n), or NULL. Borrowed: valid
 * until m is refitted, changed or freed. */
const double *kn__model_fit_output(const kn_model *m, size_t *n);

/* What fits of the same training rows may share (the histogram trees'
 * binned features): values under keys of bytes, each stored once and kept
 * until the share is freed; thread-safe. Whoever hands a share to models
 * (kn__model_use_fit_share) promises that every fit given it sees the same
 * feature values, in the same rows (cross-validation: one share per fold
 * of a search). The values are charged to the run context the share was
 * made in. */
typedef struct kn__fit_share kn__fit_share;
/* Returns a new share; free with kn__fit_share_free() (frees its values). */
kn_status kn__fit_share_new(kn__fit_share **out);
void kn__fit_share_free(kn__fit_share *s);
/* The context the values are to be made in (kn__ctx_swap to it). */
kn_ctx *kn__fit_share_ctx(const kn__fit_share *s);
/* The value under key, or NULL. Borrowed: valid until s is freed. */
void *kn__fit_share_get(kn__fit_share *s, const void *key, size_t len);
/* Stores v under key and returns it, unless a value is there already
 * (another fit stored it first): then v is freed (free_fn) and the stored
 * one returned; NULL (v freed) when storing failed for want of memory. */
void *kn__fit_share_put(kn__fit_share *s, const void *key, size_t len, void *v,
                        void (*free_fn)(void *));
/* The share under key within s (made on first use; e.g. one per fold), or
 * NULL for want of memory. Borrowed: valid until s is freed. */
kn__fit_share *kn__fit_share_child(kn__fit_share *s, const void *key, size_t len);
/* m's next fits may use s (borrowed; NULL: none). */
void kn__model_use_fit_share(kn_model *m, kn__fit_share *s);
kn__fit_share *kn__model_fit_share(const kn_model *m);

/* class_weight, the parameter every classifier that takes sample weights
 * shares: none, balanced (scikit-learn's n / (classes x rows of the
 * class)), or label:weight pairs (classes not named weigh 1). */
#define KN__CLASS_WEIGHT(T)                                                                        \
    KN_PARAM_STRING(T, class_weight, "none",                                                       \
                    "none; balanced (each class weighed inversely to its frequency); or "          \
                    "label:weight pairs (yes:5,no:1; classes not named weigh 1)")
/* w[i] = scale x the row's sample weight x its class's weight under
 * class_weight (a regression or one class: no class weight); an unknown
 * class or a malformed value is an error naming the parameter. */
kn_status kn__row_weights(const kn_dataset *d, const char *class_weight, double scale, double *w);
/* *out = *d with w the rows' weights under class_weight (*owned, kn_free,
 * NULL when class_weight is none and out->w is d->w). */
kn_status kn__class_weighted(const kn_dataset *d, const char *class_weight, kn_dataset *out,
                             double **owned);
/* The rows of each of the k classes of d, in order: (*rows)[(*start)[c] ..
 * (*start)[c + 1]) (new arrays, kn_free), and the smallest class's count
 * (class-balanced draws: balanced_random_forest, easy_ensemble). */
kn_status kn__class_rows(const kn_dataset *d, size_t k, uint32_t **rows, size_t **start,
                         size_t *n_min);

/* Rows of n x k scores (row-major) to probabilities in place (softmax);
 * and each row's first largest column into out. */
void kn__softmax_rows(double *v, size_t n, size_t k);
void kn__argmax_rows(const double *v, size_t n, size_t k, double *out);

/* The state shared by the linear regressors (linear.c): p coefficients
 * and an intercept; predict, save, load, free and coefficients for it. */
typedef struct kn__linear_state {
    size_t p;
    double intercept;
    double *coef;
} kn__linear_state;

void kn__linear_free(void *state);
kn_status kn__linear_predict(const kn_model *m, const kn_dataset *d, double *out);
kn_status kn__linear_coefficients(const kn_model *m, double *coef, double *intercept);
kn_status kn__linear_save(const kn_model *m, kn_wbuf *w);
kn_status kn__linear_load(kn_model *m, kn_rbuf *r);
/* One blocked pass over d (gram.c): the weighted means xm and ym (zero
 * when centre is 0), G = Xc^T W Xc (p x p, both triangles), xy = Xc^T W yc
 * and, when not NULL, yy = yc^T W yc and sw = sum of weights, with
 * Xc = X - xm, yc = y - ym; no copy of X; independent of the thread count. */
kn_status kn__centred_gram(const kn_dataset *d, int centre, double *xm, double *ym, double *G,
                           double *xy, double *yy, double *sw);
/* KN_OK, or the error naming the first missing or infinite feature value of d (for
 * models with KN_MODEL_FINDS_MISSING). */
kn_status kn__refuse_missing(const kn_dataset *d);
/* sum w_i v_i / sum w_i (w NULL: the plain mean). */
double kn__weighted_mean(const double *v, const double *w, size_t n);

/* A smooth objective: its value at x, and its gradient into grad. */
typedef double (*kn__objective)(void *ctx, const double *x, double *grad);

typedef struct kn__lbfgs_result {
    int iterations, converged;
    double f, grad_norm; /* final value and largest gradient component */
} kn__lbfgs_result;

/* Minimise fn from x (updated in place) by L-BFGS: stops when no gradient
 * component exceeds gtol, the relative decrease falls below ftol, or after
 * max_iter iterations (res->converged tells which). */
kn_status kn__lbfgs(kn__objective fn, void *ctx, double *x, size_t n, int max_iter, double gtol,
                    double ftol, kn__lbfgs_result *res);

/* A twice differentiable objective: value, gradient and, when hess is not
 * NULL, the q x q Hessian (column-major, both triangles). */
typedef double (*kn__objective_hess)(void *ctx, const double *x, double *grad, double *hess);

/* Minimise fn from x (q values, updated in place) by Newton's method with a
 * backtracking line search; stops when no gradient component exceeds tol,
 * or when the Newton decrement falls below the objective's rounding. */
kn_status kn__newton(kn__objective_hess fn, void *ctx, double *x, size_t q, int max_iter,
                     double tol, kn__lbfgs_result *res);

/* Minimise fn(x) + lambda |x[0..m)|_1 by OWL-QN (orthant-wise L-BFGS,
 * Andrew & Gao 2007): stops when no pseudo-gradient component exceeds gtol.
 * The first m components are penalised (the rest, e.g. intercepts, not). */
kn_status kn__owlqn(kn__objective fn, void *ctx, double *x, size_t n, size_t m, double lambda,
                    int max_iter, double gtol, kn__lbfgs_result *res);

/* Elastic net by coordinate descent (enet.c): the data centred (when
 * fitting an intercept) and scaled by sqrt(weight), column-major. */
typedef struct kn__enet_data {
    size_t n, p;
    double *x, *y;  /* prepared X (n x p) and y (NULL with gram) */
    double *xm, ym; /* the means taken out */
    double *norm2;  /* |x_j|^2 */
    double sw;      /* sum of weights (n when unweighted) */
    double *gram;   /* X^T X (p x p) when many more rows than features, or NULL */
    double *xy, yy; /* with gram: X^T y and |y|^2 */
} kn__enet_data;

typedef struct kn__enet_result {
    int iterations, converged;
    double gap, gap_tol;
} kn__enet_result;

/* gram 1: the Gram matrix is precomputed (no copy of X is kept) and epochs
 * cost O(p^2) instead of O(n p), as sklearn's precompute=True; 0: the
 * centred copy of X and its residuals; -1 (auto): Gram with at least twice
 * as many rows as features and at most 4096 features. */
kn_status kn__enet_prepare(const kn_dataset *d, int fit_intercept, int gram, kn__enet_data *e);
void kn__enet_data_free(kn__enet_data *e);
/* The smallest alpha at which every coefficient is zero. */
double kn__enet_alpha_max(const kn__enet_data *e, double l1_ratio);
/* n_alphas values from alpha_max down to alpha_max * eps, log-spaced. */
void kn__enet_alpha_grid(double alpha_max, double eps, size_t n_alphas, double *alphas);
/* Coordinate descent at one alpha from coef (warm start; updated in place);
 * random_order NULL: cyclic. */
kn_status kn__enet_cd(const kn__enet_data *e, double alpha, double l1_ratio, int max_iter,
                      double tol, kn_rng *random_order, double *coef, kn__enet_result *res);
/* Coefficients along alphas (n_alphas x p, row-major), warm-started. */
kn_status kn__enet_path(const kn__enet_data *e, const double *alphas, size_t n_alphas,
                        double l1_ratio, int max_iter, double tol, double *coefs);

/* The target of f as class indices (classifiers) or values. With unseen, a
 * class the model never saw gets an index from k on (one per distinct
 * name; *n_unseen counts them) instead of failing, with a warning when
 * unseen is 1 (2: quietly, the caller has warned). */
kn_status kn__model_targets_unseen(const kn_model *m, const kn_frame *f, int unseen, double **out,
                                   size_t *n_unseen);

#endif
