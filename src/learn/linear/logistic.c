/* logistic_regression: L2-penalised logistic regression, binary (one logit)
 * or multinomial (softmax over k classes), fitted by L-BFGS. It minimises
 * what scikit-learn's LogisticRegression(solver="lbfgs") minimises,
 *     (sum_i w_i loss_i + |coef|^2 / (2 C)) / sum_i w_i
 * (the intercept is not penalised), with the same tol on the largest
 * gradient component, so the same C and tol give the same model. Class
 * weights "balanced" scale each row by n / (k * rows of its class). The
 * fit reports iterations and the final gradient, and warns when max_iter
 * ran out first. */
#include "kiln/log.h"
#include "core/ctx-impl.h"
#include "kiln/mem.h"
#include "kiln/model.h"
#include "learn/learn-impl.h"

#include <cblas.h>
#include <math.h>
#include <string.h>

typedef struct logit_params {
    double C;
    int penalty, solver;
    double l1_ratio;
    int fit_intercept;
    int64_t max_iter;
    double tol;
    const char *class_weight;
} logit_params;

enum { PENALTY_L2, PENALTY_L1, PENALTY_ELASTICNET };
enum { SOLVER_AUTO, SOLVER_LBFGS, SOLVER_NEWTON };

static const kn_param_def logit_defs[] = {
    KN_PARAM_DOUBLE(logit_params, C, "1", 1e-12, 1e12,
                    "inverse penalty strength (larger: weaker penalty)"),
    KN_PARAM_ENUM(logit_params, penalty, "l2", "l2|l1|elasticnet",
                  "l2: L-BFGS; l1, elasticnet: OWL-QN (orthant-wise L-BFGS; sparse)"),
    KN_PARAM_DOUBLE(logit_params, l1_ratio, "0.5", 0, 1, "elasticnet: share of L1 in the penalty"),
    KN_PARAM_ENUM(logit_params, solver, "auto", "auto|lbfgs|newton",
                  "l2: auto = Newton (Cholesky) for two classes up to 500 features, else L-BFGS"),
    KN_PARAM_BOOL(logit_params, fit_intercept, "true", "fit intercepts (not penalised)"),
    KN_PARAM_INT(logit_params, max_iter, "100", 1, 100000000, "iterations at most"),
    KN_PARAM_DOUBLE(logit_params, tol, "1e-4", 0, 1,
                    "stop when no (pseudo-)gradient component exceeds this"),
    KN__CLASS_WEIGHT(logit_params),
    KN_PARAM_END};

typedef struct logit_state {
    size_t p, k;  /* k: 1 logit (binary) or the number of classes */
    double *coef; /* k x p, row-major */
    double *intercept;
    int iterations, converged;
    double grad_norm;
} logit_state;

static void logit_free(void *v)
{
    logit_state *s = v;
    if (!s) return;
    kn_free(s->coef);
    kn_free(s->intercept);
    kn_free(s);
}

typedef struct problem {
    const kn_dataset *d;
    const double *w; /* row weights (sample x class), summing to sw */
    double sw, C;
    size_t k, p; /* logits, features */
    int intercept;
    double *z;    /* n x k scores, column-major */
    size_t block; /* rows per block */
    double *part; /* per block: k x p gradient, k intercept gradients, loss, [Hessian] */
    double *h;    /* binary Newton: per row w s (1 - s) */
} problem;

/* Rows per block: a block's slice of X about 256 KiB, so that the pass that
 * scores it and the pass that accumulates its gradient share the cache. */
static size_t rows_per_block(size_t p)
{
    size_t r = 32768 / (p ? p : 1);
    return r < 64 ? 64 : r > 4096 ? 4096 : r;
}

/* Scores, loss and gradient of rows [i0, i1) into part (k x p, k, loss);
 * with scratch (binary only), the Hessian's (p + 1) x (p + 1) block after. */
static void block_objective(const problem *pr, const double *theta, size_t i0, size_t i1,
                            double *part, double *scratch)
{
    const kn_dataset *d = pr->d;
    size_t n = d->n, p = pr->p, k = pr->k, m = i1 - i0;
    const double *B = theta, *b = theta + k * p;
    double *z = pr->z, loss = 0;
    for (size_t c = 0; c < k; c++)
        for (size_t i = i0; i < i1; i++) z[c * n + i] = pr->intercept ? b[c] : 0;
    if (k == 1) /* one logit: column by column, the block's slice stays in cache */
        for (size_t j = 0; j < p; j++) {
            const double *restrict xj = d->x + j * n;
            double *restrict zz = z, bj = B[j];
#pragma omp simd
            for (size_t i = i0; i < i1; i++) zz[i] += xj[i] * bj;
        }
    else /* Z (m x k) += X_block (m x p) B^T; B (k x p row-major) is B^T column-major */
        cblas_dgemm(CblasColMajor, CblasNoTrans, CblasNoTrans, (int)m, (int)k, (int)p, 1.0,
                    d->x + i0, (int)n, B, (int)p, 1.0, z + i0, (int)n);
    for (size_t i = i0; i < i1; i++) {
        double wi = pr->w[i];
        if (k == 1) { /* binary: loss = log(1 + e^z) - y z; residual sigma(z) - y */
            double zi = z[i], y = d->y[i], e = exp(-fabs(zi));
            double sig = (zi >= 0 ? 1 : e) / (1 + e);
            loss += wi * (fmax(zi, 0) + log1p(e) - y * zi);
            z[i] = wi * (sig - y);
            if (scratch) pr->h[i] = wi * sig * (1 - sig);
        } else { /* multinomial: loss = logsumexp(z) - z_y; residual softmax - onehot */
            double mx = -INFINITY, sum = 0;
            for (size_t c = 0; c < k; c++) mx = fmax(mx, z[c * n + i]);
            for (size_t c = 0; c < k; c++) sum += exp(z[c * n + i] - mx);
            size_t yc = (size_t)d->y[i];
            /* sum >= 1: the largest score contributes exp(0) */
            // cppcheck-suppress invalidFunctionArg
            loss += wi * (mx + log(sum) - z[yc * n + i]);
            for (size_t c = 0; c < k; c++)
                z[c * n + i] = wi * (exp(z[c * n + i] - mx) / sum - (c == yc));
        }
    }
    if (k == 1)
        for (size_t j = 0; j < p; j++) {
            const double *restrict xj = d->x + j * n, *restrict r = z;
            double g = 0;
            /* a fixed vector order of the sum: independent of the thread count */
#pragma omp simd reduction(+ : g)
            for (size_t i = i0; i < i1; i++) g += xj[i] * r[i];
            part[j] = g;
        }
    else /* G (p x k, column-major = k x p row-major) = X_block^T R_block */
        cblas_dgemm(CblasColMajor, CblasTrans, CblasNoTrans, (int)p, (int)k, (int)m, 1.0, d->x + i0,
                    (int)n, z + i0, (int)n, 0.0, part, (int)p);
    for (size_t c = 0; c < k; c++) {
        double g = 0;
        for (size_t i = i0; i < i1; i++) g += z[c * n + i];
        part[k * p + c] = g;
    }
    part[k * p + k] = loss;
    if (!scratch) return;
    /* H_block = [X 1]^T diag(h) [X 1] from the rows scaled by sqrt(h) */
    size_t q = p + 1;
    double *restrict root = scratch + p * m; /* the intercept's column: sqrt(h) */
    for (size_t i = i0; i < i1; i++) root[i - i0] = sqrt(pr->h[i]);
    for (size_t j = 0; j < p; j++) {
        const double *restrict xj = d->x + j * n + i0;
        double *restrict sj = scratch + j * m;
#pragma omp simd
        for (size_t i = 0; i < m; i++) sj[i] = root[i] * xj[i];
    }
    cblas_dsyrk(CblasColMajor, CblasUpper, CblasTrans, (int)q, (int)m, 1.0, scratch, (int)m, 0.0,
                part + k * p + k + 1, (int)q);
}

/* theta: k x p coefficients (row-major), then k intercepts; H (binary only,
 * may be NULL): the (p + 1) x (p + 1) Hessian. Blocks of rows run in
 * parallel; their partial sums are added in block order, so the result
 * does not depend on the thread count. */
static double objective_hess(void *ctx, const double *theta, double *grad, double *H)
{
    problem *pr = ctx;
    size_t n = pr->d->n, p = pr->p, k = pr->k, q = p + 1;
    size_t width = k * p + k + 1 + (H ? q * q : 0);
    size_t blocks = (n + pr->block - 1) / pr->block;
    int failed = 0;
    kn_ctx *run = kn_ctx_current(); /* workers' scratch is the caller's */
    /* one block (small data, 142 rows in a fold of wine): no team, whose
     * idle worker would then spin after each of the solver's evaluations */
#pragma omp parallel if (blocks > 1)
    {
        double *scratch = H ? kn__malloc_in(run, pr->block * q * sizeof *scratch) : NULL;
        if (H && !scratch) {
#pragma omp atomic write
            failed = 1;
        }
#pragma omp for schedule(static)
        for (size_t bl = 0; bl < blocks; bl++) {
            size_t i0 = bl * pr->block, i1 = i0 + pr->block < n ? i0 + pr->block : n;
            if (!H || scratch) block_objective(pr, theta, i0, i1, pr->part + bl * width, scratch);
        }
        kn_free(scratch);
    }
    if (failed) return NAN; /* out of memory: the optimiser stops on a non-finite value */
    double loss = 0;
    memset(grad, 0, (k * p + k) * sizeof *grad);
    if (H) memset(H, 0, q * q * sizeof *H);
    for (size_t bl = 0; bl < blocks; bl++) {
        const double *part = pr->part + bl * width;
        for (size_t j = 0; j < k * p + k; j++) grad[j] += part[j];
        loss += part[k * p + k];
        for (size_t c = 0; H && c < q; c++)
            for (size_t r = 0; r <= c; r++) H[c * q + r] += part[k * p + k + 1 + c * q + r];
    }
    const double *B = theta;
    double penalty = 0;
    for (size_t j = 0; j < k * p; j++) {
        penalty += B[j] * B[j];
        grad[j] = (grad[j] + B[j] / pr->C) / pr->sw;
    }
    for (size_t c = 0; c < k; c++) grad[k * p + c] = pr->intercept ? grad[k * p + c] / pr->sw : 0;
    if (H) {
        for (size_t j = 0; j < p; j++) H[j * q + j] += 1 / pr->C;
        for (size_t c = 0; c < q; c++)
            for (size_t r = 0; r <= c; r++) H[r * q + c] = H[c * q + r] = H[c * q + r] / pr->sw;
        if (!pr->intercept) { /* pin the intercept */
            for (size_t j = 0; j < q; j++) H[p * q + j] = H[j * q + p] = 0;
            H[p * q + p] = 1;
        }
    }
    return (loss + penalty / (2 * pr->C)) / pr->sw;
}

static double objective(void *ctx, const double *theta, double *grad)
{
    return objective_hess(ctx, theta, grad, NULL);
}

static kn_status logit_fit(kn_model *m, const kn_dataset *d)
{
    const logit_params *par = kn_model_params(m);
    size_t n = d->n, p = d->p, classes = d->n_classes, k = classes == 2 ? 1 : classes;
    double *w = kn_malloc(n * sizeof *w), *z = kn_malloc(n * k * sizeof *z);
    double *theta = kn_calloc(k * p + k, sizeof *theta);
    logit_state *s = kn_calloc(1, sizeof *s);
    kn_status e = w && z && theta && s ? KN_OK : KN_ERR_NOMEM;
    double sw = 0;
    if (e == KN_OK) e = kn__row_weights(d, par->class_weight, 1, w);
    for (size_t i = 0; e == KN_OK && i < n; i++) sw += w[i];
    kn__lbfgs_result res = {0};
    if (e == KN_OK) {
        /* sklearn's C * loss + (1 - r) |B|^2 / 2 + r |B|_1 over C sum(w): an L2
         * part with C / (1 - r) and an L1 part r / (C sum w) */
        double r = par->penalty == PENALTY_L2 ? 0 : par->penalty == PENALTY_L1 ? 1 : par->l1_ratio;
        size_t block = rows_per_block(p), blocks = (n + block - 1) / block;
        int newton = r == 0 && k == 1 &&
                     (par->solver == SOLVER_NEWTON || (par->solver == SOLVER_AUTO && p <= 500));
        size_t width = k * p + k + 1 + (newton ? (p + 1) * (p + 1) : 0);
        problem pr = {d,
                      w,
                      sw,
                      r < 1 ? par->C / (1 - r) : INFINITY,
                      k,
                      p,
                      par->fit_intercept,
                      z,
                      block,
                      kn_malloc((blocks ? blocks : 1) * width * sizeof(double)),
                      newton ? kn_malloc((n ? n : 1) * sizeof(double)) : NULL};
        if (!pr.part || (newton && !pr.h)) e = KN_ERR_NOMEM;
        /* only the gradient stops it (no relative-decrease stop as sklearn's
         * 64 eps): a tight tol then gets a tight answer */
        if (e != KN_OK)
            ;
        else if (newton)
            e = kn__newton(objective_hess, &pr, theta, p + 1, (int)par->max_iter, par->tol, &res);
        else if (r == 0)
            e = kn__lbfgs(objective, &pr, theta, k * p + k, (int)par->max_iter, par->tol, 0, &res);
        else
            e = kn__owlqn(objective, &pr, theta, k * p + k, k * p, r / (par->C * sw),
                          (int)par->max_iter, par->tol, &res);
        kn_free(pr.part);
        kn_free(pr.h);
    }
    if (e == KN_OK) {
        s->p = p;
        s->k = k;
        s->coef = kn_malloc(k * p * sizeof *s->coef);
        s->intercept = kn_malloc(k * sizeof *s->intercept);
        if (!s->coef || !s->intercept) e = KN_ERR_NOMEM;
    }
    if (e == KN_OK) {
        memcpy(s->coef, theta, k * p * sizeof *theta);
        memcpy(s->intercept, theta + k * p, k * sizeof *theta);
        s->iterations = res.iterations;
        s->converged = res.converged;
        s->grad_norm = res.grad_norm;
        if (!res.converged)
            kn__warn_not_converged("logistic_regression", res.iterations, par->max_iter,
                                   res.grad_norm, par->tol);
        else
            kn_log(KN_LOG_INFO,
                   "logistic_regression converged in %d iterations (largest gradient %.3g)",
                   res.iterations, res.grad_norm);
        kn_model_set_state(m, s);
        s = NULL;
    }
    logit_free(s);
    kn_free(w);
    kn_free(z);
    kn_free(theta);
    return e;
}

static kn_status logit_proba(const kn_model *m, const kn_dataset *d, double *out)
{
    const logit_state *s = kn_model_state(m);
    size_t n = d->n, k = s->k, classes = k == 1 ? 2 : k;
    double *z = kn_malloc((n ? n * k : 1) * sizeof *z);
    if (!z) return KN_ERR_NOMEM;
    for (size_t c = 0; c < k; c++)
        for (size_t i = 0; i < n; i++) z[c * n + i] = s->intercept[c];
    cblas_dgemm(CblasColMajor, CblasNoTrans, CblasNoTrans, (int)n, (int)k, (int)s->p, 1.0, d->x,
                (int)n, s->coef, (int)s->p, 1.0, z, (int)n);
    for (size_t i = 0; i < n; i++) {
        if (k == 1) {
            double p1 = 1 / (1 + exp(-z[i]));
            out[i * 2] = 1 - p1;
            out[i * 2 + 1] = p1;
            continue;
        }
        double mx = -INFINITY, sum = 0;
        for (size_t c = 0; c < k; c++) mx = fmax(mx, z[c * n + i]);
        for (size_t c = 0; c < k; c++) sum += (out[i * classes + c] = exp(z[c * n + i] - mx));
        for (size_t c = 0; c < k; c++) out[i * classes + c] /= sum;
    }
    kn_free(z);
    return KN_OK;
}

static kn_status logit_predict(const kn_model *m, const kn_dataset *d, double *out)
{
    const logit_state *s = kn_model_state(m);
    size_t classes = s->k == 1 ? 2 : s->k;
    double *pr = kn_malloc((d->n ? d->n * classes : 1) * sizeof *pr);
    if (!pr) return KN_ERR_NOMEM;
    kn_status e = logit_proba(m, d, pr);
    for (size_t i = 0; e == KN_OK && i < d->n; i++) {
        size_t best = 0;
        for (size_t c = 1; c < classes; c++)
            if (pr[i * classes + c] > pr[i * classes + best]) best = c;
        out[i] = (double)best;
    }
    kn_free(pr);
    return e;
}

/* Binary models: class 1's logit; multinomial: one row per class. */
static kn_status logit_coefficients(const kn_model *m, double *coef, double *intercept)
{
    const logit_state *s = kn_model_state(m);
    memcpy(coef, s->coef, s->k * s->p * sizeof *coef);
    memcpy(intercept, s->intercept, s->k * sizeof *intercept);
    return KN_OK;
}

static size_t logit_coef_rows(const kn_model *m)
{
    return ((const logit_state *)kn_model_state(m))->k;
}

static kn_status logit_save(const kn_model *m, kn_wbuf *w)
{
    const logit_state *s = kn_model_state(m);
    kn_wbuf_u64(w, s->p);
    kn_wbuf_u64(w, s->k);
    kn_wbuf_f64s(w, s->coef, s->k * s->p);
    kn_wbuf_f64s(w, s->intercept, s->k);
    kn_wbuf_u32(w, (uint32_t)s->iterations);
    kn_wbuf_u32(w, (uint32_t)s->converged);
    kn_wbuf_f64(w, s->grad_norm);
    return KN_OK;
}

static kn_status logit_load(kn_model *m, kn_rbuf *r)
{
    uint64_t p = 0, k = 0;
    kn_status e = kn_rbuf_u64(r, &p);
    if (e == KN_OK) e = kn_rbuf_u64(r, &k);
    size_t classes = kn_model_n_classes(m);
    if (e == KN_OK && (p != kn_model_n_features(m) || k != (classes == 2 ? 1 : classes)))
        return kn_fail(KN_ERR_CORRUPT, "%s: logistic state does not match the model's shape",
                       r->what);
    if (e != KN_OK) return e;
    logit_state *s = kn_calloc(1, sizeof *s);
    if (!s) return KN_ERR_NOMEM;
    s->p = (size_t)p;
    s->k = (size_t)k;
    s->coef = kn_malloc((p ? p * k : 1) * sizeof *s->coef);
    s->intercept = kn_malloc((k ? k : 1) * sizeof *s->intercept);
    uint32_t it = 0, conv = 0;
    e = s->coef && s->intercept ? kn_rbuf_bytes(r, s->coef, (size_t)(p * k) * 8) : KN_ERR_NOMEM;
    if (e == KN_OK) e = kn_rbuf_bytes(r, s->intercept, (size_t)k * 8);
    if (e == KN_OK) e = kn_rbuf_u32(r, &it);
    if (e == KN_OK) e = kn_rbuf_u32(r, &conv);
    if (e == KN_OK) e = kn_rbuf_f64(r, &s->grad_norm);
    s->iterations = (int)it;
    s->converged = conv != 0;
    if (e != KN_OK) {
        logit_free(s);
        return e;
    }
    kn_model_set_state(m, s);
    return KN_OK;
}

static const kn_model_vt logit_vt = {.task = KN_TASK_CLASSIFICATION,
                                     .fit = logit_fit,
                                     .predict = logit_predict,
                                     .predict_proba = logit_proba,
                                     .free_state = logit_free,
                                     .save = logit_save,
                                     .load = logit_load,
                                     .coefficients = logit_coefficients,
                                     .coef_rows = logit_coef_rows,
                                     .flags = KN_MODEL_PREDICT_ARGMAX};

const kn_component kn__logistic_regression = {
    KN_COMP_MODEL, "logistic_regression", "L2 logistic regression, binary or multinomial (L-BFGS)",
    logit_defs,    sizeof(logit_params),  &logit_vt};
