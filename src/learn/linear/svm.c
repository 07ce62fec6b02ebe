/* linear_svm: a linear support vector machine fitted by dual coordinate
 * descent (Hsieh et al. 2008, the method of LIBLINEAR and so of sklearn's
 * LinearSVC): hinge or squared hinge loss with an L2 penalty, the intercept
 * as an extra constant feature (intercept_scaling; penalised, as LIBLINEAR
 * does), each row's C scaled by its sample and class weight. Several
 * classes: one binary machine per class against the rest, the largest
 * decision value wins.
 *
 * Probabilities (probability=true): Platt scaling, a sigmoid
 * 1 / (1 + exp(A f + B)) of the decision value f fitted (Lin, Lin & Weng's
 * Newton method) on out-of-fold decision values from a seeded 5-fold split,
 * as LIBSVM does; several classes: the per-class sigmoids normalised. */
#include "kiln/progress.h"
#include "kiln/log.h"
#include "kiln/mem.h"
#include "kiln/model.h"
#include "kiln/rng.h"
#include "kiln/split.h"
#include "learn/learn-impl.h"

#include <math.h>
#include <string.h>

typedef struct svm_params {
    double C;
    int loss;
    double tol;
    int64_t max_iter;
    int fit_intercept;
    double intercept_scaling;
    const char *class_weight;
    int probability;
    int64_t seed;
} svm_params;

enum { LOSS_SQUARED_HINGE, LOSS_HINGE };

static const kn_param_def svm_defs[] = {
    KN_PARAM_DOUBLE(svm_params, C, "1", 1e-12, 1e12, "inverse penalty strength"),
    KN_PARAM_ENUM(svm_params, loss, "squared_hinge", "squared_hinge|hinge", "loss on the margin"),
    KN_PARAM_DOUBLE(svm_params, tol, "1e-4", 1e-15, 1,
                    "stop when the projected gradient spread is below this"),
    KN_PARAM_INT(svm_params, max_iter, "1000", 1, 100000000, "passes over the data at most"),
    KN_PARAM_BOOL(svm_params, fit_intercept, "true", "add a constant feature for the intercept"),
    KN_PARAM_DOUBLE(svm_params, intercept_scaling, "1", 1e-12, 1e12,
                    "value of the constant feature (it is penalised like the others)"),
    KN__CLASS_WEIGHT(svm_params),
    KN_PARAM_BOOL(svm_params, probability, "false",
                  "fit Platt sigmoids on 5-fold decision values (5 more fits)"),
    KN_PARAM_INT(svm_params, seed, "0", 0, 1e15, "seed of the coordinate order and the folds"),
    KN_PARAM_END};

typedef struct svm_state {
    size_t p, m;  /* features, machines (1 for two classes, else k) */
    double *coef; /* m x p */
    double *intercept;
    int has_proba;
    double *platt; /* m x 2: A, B */
} svm_state;

static void svm_free(void *v)
{
    svm_state *s = v;
    if (!s) return;
    kn_free(s->coef);
    kn_free(s->intercept);
    kn_free(s->platt);
    kn_free(s);
}

/* Rows as a row-major n x q matrix (q = p + 1 with the constant feature). */
typedef struct rows {
    size_t n, q;
    double *x;
    double *sq; /* |x_i|^2 */
} rows;

/* One binary machine: labels yb (+1/-1), per-row C in cw; w (q values) out.
 * Returns the passes used; *converged when the spread fell below tol. */
static int dual_cd(const rows *r, const double *yb, const double *cw, int hinge, double tol,
                   int max_iter, kn_rng *rng, double *w, double *alpha, size_t *order,
                   int *converged)
{
    size_t n = r->n, q = r->q;
    memset(w, 0, q * sizeof *w);
    memset(alpha, 0, n * sizeof *alpha);
    for (size_t i = 0; i < n; i++) order[i] = i;
    int it = 0;
    *converged = 0;
    kn_progress progress;
    kn_progress_begin(&progress, "linear_svm", "pass", (uint64_t)max_iter);
    for (; it < max_iter; it++) {
        kn_progress_step(&progress, 1);
        for (size_t i = n; i > 1; i--) {
            size_t j = (size_t)kn_rng_below(rng, i), t = order[i - 1];
            order[i - 1] = order[j];
            order[j] = t;
        }
        double pg_max = -INFINITY, pg_min = INFINITY;
        for (size_t s = 0; s < n; s++) {
            size_t i = order[s];
            if (cw[i] <= 0) continue;
            const double *xi = r->x + i * q;
            double diag = hinge ? 0 : 0.5 / cw[i], upper = hinge ? cw[i] : INFINITY;
            double g = 0;
            for (size_t j = 0; j < q; j++) g += w[j] * xi[j];
            g = yb[i] * g - 1 + diag * alpha[i];
            double pg = alpha[i] == 0 ? fmin(g, 0) : alpha[i] >= upper ? fmax(g, 0) : g;
            pg_max = fmax(pg_max, pg);
            pg_min = fmin(pg_min, pg);
            if (pg == 0) continue;
            double old = alpha[i], qii = r->sq[i] + diag;
            alpha[i] = fmin(fmax(old - g / qii, 0), upper);
            double step = (alpha[i] - old) * yb[i];
            for (size_t j = 0; j < q; j++) w[j] += step * xi[j];
        }
        if (pg_max - pg_min <= tol) {
            *converged = 1;
            it++;
            break;
        }
    }
    kn_progress_end(&progress);
    return it;
}

/* Platt's sigmoid (Lin, Lin & Weng 2007) on decision values f, labels
 * pos (1/0), weights wt: P(pos | f) = 1 / (1 + exp(A f + B)). */
static void platt_fit(const double *f, const int *pos, const double *wt, size_t n, double *A,
                      double *B)
{
    double prior1 = 0, prior0 = 0;
    for (size_t i = 0; i < n; i++) *(pos[i] ? &prior1 : &prior0) += wt[i];
    double hi = (prior1 + 1) / (prior1 + 2), lo = 1 / (prior0 + 2);
    double a = 0, b = log((prior0 + 1) / (prior1 + 1));
#define PLATT_F(aa, bb, out)                                                                       \
    do {                                                                                           \
        out = 0;                                                                                   \
        for (size_t i = 0; i < n; i++) {                                                           \
            double t = pos[i] ? hi : lo, z = f[i] * (aa) + (bb);                                   \
            out += wt[i] * (z >= 0 ? t * z + log1p(exp(-z)) : (t - 1) * z + log1p(exp(z)));        \
        }                                                                                          \
    } while (0)
    double fval;
    PLATT_F(a, b, fval);
    for (int it = 0; it < 100; it++) {
        double h11 = 1e-12, h22 = 1e-12, h21 = 0, g1 = 0, g2 = 0;
        for (size_t i = 0; i < n; i++) {
            double t = pos[i] ? hi : lo, z = f[i] * a + b, p, qq;
            if (z >= 0) {
                p = exp(-z) / (1 + exp(-z));
                qq = 1 / (1 + exp(-z));
            } else {
                p = 1 / (1 + exp(z));
                qq = exp(z) / (1 + exp(z));
            }
            double d2 = wt[i] * p * qq, d1 = wt[i] * (t - p);
            h11 += f[i] * f[i] * d2;
            h22 += d2;
            h21 += f[i] * d2;
            g1 += f[i] * d1;
            g2 += d1;
        }
        if (fabs(g1) < 1e-5 && fabs(g2) < 1e-5) break;
        double det = h11 * h22 - h21 * h21;
        double da = -(h22 * g1 - h21 * g2) / det, db = -(-h21 * g1 + h11 * g2) / det;
        double gd = g1 * da + g2 * db, step = 1;
        while (step >= 1e-10) {
            double nf;
            PLATT_F(a + step * da, b + step * db, nf);
            if (nf < fval + 1e-4 * step * gd) {
                a += step * da;
                b += step * db;
                fval = nf;
                break;
            }
            step /= 2;
        }
        if (step < 1e-10) break;
    }
#undef PLATT_F
    *A = a;
    *B = b;
}

/* Fit the m machines on rows `use` (all when NULL, count nu) into coef,
 * intercept. */
static kn_status fit_machines(const kn_model *m, const kn_dataset *d, const rows *r,
                              const double *cw_all, const size_t *use, size_t nu, size_t machines,
                              double *coef, double *intercept, int *worst_iter, int *all_conv)
{
    const svm_params *par = kn_model_params(m);
    size_t q = r->q, p = d->p;
    rows sub = {nu, q, NULL, NULL};
    double *yb = kn_malloc(nu * sizeof *yb), *cw = kn_malloc(nu * sizeof *cw);
    double *w = kn_malloc(q * sizeof *w), *alpha = kn_malloc(nu * sizeof *alpha);
    size_t *order = kn_malloc(nu * sizeof *order);
    sub.x = use ? kn_malloc(nu * q * sizeof *sub.x) : r->x;
    sub.sq = use ? kn_malloc(nu * sizeof *sub.sq) : r->sq;
    kn_status e = yb && cw && w && alpha && order && sub.x && sub.sq ? KN_OK : KN_ERR_NOMEM;
    for (size_t i = 0; e == KN_OK && use && i < nu; i++) {
        memcpy(sub.x + i * q, r->x + use[i] * q, q * sizeof *sub.x);
        sub.sq[i] = r->sq[use[i]];
    }
    for (size_t c = 0; e == KN_OK && c < machines; c++) {
        size_t positive = machines == 1 ? 1 : c;
        for (size_t i = 0; i < nu; i++) {
            size_t row = use ? use[i] : i;
            yb[i] = (size_t)d->y[row] == positive ? 1 : -1;
            cw[i] = cw_all[row];
        }
        kn_rng rng;
        kn_rng_init_stream(&rng, (uint64_t)par->seed, c);
        int conv;
        int it = dual_cd(&sub, yb, cw, par->loss == LOSS_HINGE, par->tol, (int)par->max_iter, &rng,
                         w, alpha, order, &conv);
        if (it > *worst_iter) *worst_iter = it;
        *all_conv &= conv;
        memcpy(coef + c * p, w, p * sizeof *w);
        intercept[c] = par->fit_intercept ? w[p] * par->intercept_scaling : 0;
    }
    if (use) {
        kn_free(sub.x);
        kn_free(sub.sq);
    }
    kn_free(yb), kn_free(cw), kn_free(w), kn_free(alpha), kn_free(order);
    return e;
}

static void decision(const svm_state *s, const kn_dataset *d, size_t i, double *f)
{
    for (size_t c = 0; c < s->m; c++) {
        double v = s->intercept[c];
        for (size_t j = 0; j < s->p; j++) v += s->coef[c * s->p + j] * d->x[j * d->n + i];
        f[c] = v;
    }
}

/* Out-of-fold decision values from a seeded stratified 5-fold split, then
 * one sigmoid per machine. */
static kn_status fit_platt(const kn_model *m, const kn_dataset *d, const rows *r, const double *cw,
                           svm_state *s)
{
    const svm_params *par = kn_model_params(m);
    size_t n = d->n, p = d->p, mm = s->m;
    int32_t *labels = kn_malloc(n * sizeof *labels);
    double *oof = kn_malloc(n * mm * sizeof *oof), *wt = kn_malloc(n * sizeof *wt);
    int *pos = kn_malloc(n * sizeof *pos);
    svm_state fold = {p, mm,  kn_malloc(mm * p * sizeof(double)), kn_malloc(mm * sizeof(double)),
                      0, NULL};
    kn_folds folds = {0};
    kn_status e = labels && oof && wt && pos && fold.coef && fold.intercept ? KN_OK : KN_ERR_NOMEM;
    for (size_t i = 0; e == KN_OK && i < n; i++) {
        labels[i] = (int32_t)d->y[i];
        wt[i] = d->w ? d->w[i] : 1;
    }
    kn_split_opts o;
    kn_split_opts_default(&o);
    o.kind = KN_SPLIT_STRATIFIED;
    o.shuffle = 1;
    o.seed = (uint64_t)par->seed;
    if (e == KN_OK) e = kn_split_folds(n, labels, &o, &folds);
    if (e != KN_OK && e != KN_ERR_NOMEM)
        e = kn_fail(e, "linear_svm: probability=true needs 5 rows of every class (%s)",
                    kn_last_error());
    int it = 0, conv = 1;
    for (size_t f = 0; e == KN_OK && f < folds.k; f++) {
        const kn_fold *fo = &folds.fold[f];
        e = fit_machines(m, d, r, cw, fo->train, fo->n_train, mm, fold.coef, fold.intercept, &it,
                         &conv);
        for (size_t t = 0; e == KN_OK && t < fo->n_test; t++)
            decision(&fold, d, fo->test[t], oof + fo->test[t] * mm);
    }
    double *fc = e == KN_OK ? kn_malloc(n * sizeof *fc) : NULL;
    if (e == KN_OK && !fc) e = KN_ERR_NOMEM;
    for (size_t c = 0; e == KN_OK && c < mm; c++) {
        size_t positive = mm == 1 ? 1 : c;
        for (size_t i = 0; i < n; i++) {
            fc[i] = oof[i * mm + c];
            pos[i] = (size_t)d->y[i] == positive;
        }
        platt_fit(fc, pos, wt, n, &s->platt[2 * c], &s->platt[2 * c + 1]);
    }
    kn_free(fc);
    kn_folds_free(&folds);
    kn_free(labels), kn_free(oof), kn_free(wt), kn_free(pos);
    kn_free(fold.coef), kn_free(fold.intercept);
    return e;
}

static kn_status svm_fit(kn_model *m, const kn_dataset *d)
{
    const svm_params *par = kn_model_params(m);
    size_t n = d->n, p = d->p, k = d->n_classes, mm = k == 2 ? 1 : k;
    size_t q = p + (par->fit_intercept ? 1 : 0);
    rows r = {n, q, kn_malloc(n * q * sizeof(double)), kn_malloc(n * sizeof(double))};
    double *cw = kn_malloc(n * sizeof *cw);
    svm_state *s = kn_calloc(1, sizeof *s);
    kn_status e = r.x && r.sq && cw && s ? KN_OK : KN_ERR_NOMEM;
    if (e == KN_OK) {
        s->p = p;
        s->m = mm;
        s->coef = kn_malloc(mm * p * sizeof *s->coef + 1);
        s->intercept = kn_malloc(mm * sizeof *s->intercept);
        s->platt = kn_calloc(2 * mm, sizeof *s->platt);
        if (!s->coef || !s->intercept || !s->platt) e = KN_ERR_NOMEM;
    }
    for (size_t i = 0; e == KN_OK && i < n; i++) {
        double sq = 0;
        for (size_t j = 0; j < p; j++) {
            double v = d->x[j * n + i];
            r.x[i * q + j] = v;
            sq += v * v;
        }
        if (par->fit_intercept) {
            r.x[i * q + p] = par->intercept_scaling;
            sq += par->intercept_scaling * par->intercept_scaling;
        }
        r.sq[i] = sq;
    }
    if (e == KN_OK) e = kn__row_weights(d, par->class_weight, par->C, cw);
    int it = 0, conv = 1;
    if (e == KN_OK) e = fit_machines(m, d, &r, cw, NULL, n, mm, s->coef, s->intercept, &it, &conv);
    if (e == KN_OK && par->probability) {
        e = fit_platt(m, d, &r, cw, s);
        s->has_proba = e == KN_OK;
    }
    if (e == KN_OK) {
        if (!conv)
            kn_log(KN_LOG_WARN,
                   "linear_svm did not converge in %d passes; raise max_iter or standardise the "
                   "features",
                   it);
        else
            kn_log(KN_LOG_INFO, "linear_svm converged in %d passes (%zu machine%s)", it, mm,
                   mm > 1 ? "s" : "");
        kn_model_set_state(m, s);
        s = NULL;
    }
    svm_free(s);
    kn_free(r.x), kn_free(r.sq), kn_free(cw);
    return e;
}

static kn_status svm_predict(const kn_model *m, const kn_dataset *d, double *out)
{
    const svm_state *s = kn_model_state(m);
    double *f = kn_malloc(s->m * sizeof *f);
    if (!f) return KN_ERR_NOMEM;
    for (size_t i = 0; i < d->n; i++) {
        decision(s, d, i, f);
        size_t best = 0;
        for (size_t c = 1; c < s->m; c++)
            if (f[c] > f[best]) best = c;
        out[i] = s->m == 1 ? (f[0] > 0) : (double)best;
    }
    kn_free(f);
    return KN_OK;
}

static kn_status svm_proba(const kn_model *m, const kn_dataset *d, double *out)
{
    const svm_state *s = kn_model_state(m);
    if (!s->has_proba)
        return kn_fail(KN_ERR_UNSUPPORTED,
                       "linear_svm gives probabilities only when fitted with probability=true");
    size_t k = s->m == 1 ? 2 : s->m;
    double *f = kn_malloc(s->m * sizeof *f);
    if (!f) return KN_ERR_NOMEM;
    for (size_t i = 0; i < d->n; i++) {
        decision(s, d, i, f);
        double *row = out + i * k, sum = 0;
        for (size_t c = 0; c < s->m; c++) {
            double z = s->platt[2 * c] * f[c] + s->platt[2 * c + 1];
            row[s->m == 1 ? 1 : c] = z >= 0 ? exp(-z) / (1 + exp(-z)) : 1 / (1 + exp(z));
        }
        if (s->m == 1) {
            row[0] = 1 - row[1];
            continue;
        }
        for (size_t c = 0; c < k; c++) sum += row[c];
        for (size_t c = 0; c < k; c++) row[c] = sum > 0 ? row[c] / sum : 1.0 / (double)k;
    }
    kn_free(f);
    return KN_OK;
}

/* Two classes: class 1's decision function; more: one row per class. */
static kn_status svm_coefficients(const kn_model *m, double *coef, double *intercept)
{
    const svm_state *s = kn_model_state(m);
    memcpy(coef, s->coef, s->m * s->p * sizeof *coef);
    memcpy(intercept, s->intercept, s->m * sizeof *intercept);
    return KN_OK;
}

static size_t svm_coef_rows(const kn_model *m)
{
    return ((const svm_state *)kn_model_state(m))->m;
}

static kn_status svm_save(const kn_model *m, kn_wbuf *w)
{
    const svm_state *s = kn_model_state(m);
    kn_wbuf_u64(w, s->p);
    kn_wbuf_u64(w, s->m);
    kn_wbuf_f64s(w, s->coef, s->m * s->p);
    kn_wbuf_f64s(w, s->intercept, s->m);
    kn_wbuf_u32(w, (uint32_t)s->has_proba);
    kn_wbuf_f64s(w, s->platt, 2 * s->m);
    return KN_OK;
}

static kn_status svm_load(kn_model *m, kn_rbuf *r)
{
    uint64_t p = 0, mm = 0;
    uint32_t proba = 0;
    kn_status e = kn_rbuf_u64(r, &p);
    if (e == KN_OK) e = kn_rbuf_u64(r, &mm);
    size_t k = kn_model_n_classes(m);
    if (e == KN_OK && (p != kn_model_n_features(m) || mm != (k == 2 ? 1 : k)))
        return kn_fail(KN_ERR_CORRUPT, "%s: SVM state does not match the model's shape", r->what);
    if (e != KN_OK) return e;
    svm_state *s = kn_calloc(1, sizeof *s);
    if (!s) return KN_ERR_NOMEM;
    s->p = (size_t)p;
    s->m = (size_t)mm;
    s->coef = kn_malloc(s->m * s->p * sizeof *s->coef + 1);
    s->intercept = kn_malloc(s->m * sizeof *s->intercept);
    s->platt = kn_malloc(2 * s->m * sizeof *s->platt);
    e = s->coef && s->intercept && s->platt ? KN_OK : KN_ERR_NOMEM;
    if (e == KN_OK) e = kn_rbuf_bytes(r, s->coef, s->m * s->p * sizeof *s->coef);
    if (e == KN_OK) e = kn_rbuf_bytes(r, s->intercept, s->m * sizeof *s->intercept);
    if (e == KN_OK) e = kn_rbuf_u32(r, &proba);
    if (e == KN_OK) e = kn_rbuf_bytes(r, s->platt, 2 * s->m * sizeof *s->platt);
    s->has_proba = proba != 0;
    if (e != KN_OK) {
        svm_free(s);
        return e;
    }
    kn_model_set_state(m, s);
    return KN_OK;
}

static const kn_model_vt svm_vt = {.task = KN_TASK_CLASSIFICATION,
                                   .fit = svm_fit,
                                   .predict = svm_predict,
                                   .predict_proba = svm_proba,
                                   .free_state = svm_free,
                                   .save = svm_save,
                                   .load = svm_load,
                                   .coefficients = svm_coefficients,
                                   .coef_rows = svm_coef_rows};

const kn_component kn__linear_svm = {
    KN_COMP_MODEL, "linear_svm",       "linear SVM (dual coordinate descent), Platt probabilities",
    svm_defs,      sizeof(svm_params), &svm_vt};
