/* Bootstrap intervals (score_boot.c): the fast path (a resample as counts
 * per row; labels by confusion cells, means by per-row values, ranks by one
 * sort of the scores) against the plain one (the resample's rows copied and
 * every metric recomputed), resample by resample, for every builtin metric
 * kn_score reports: binary, multiclass (and a class the model never saw)
 * and regression, on real data (tests/data) with fitted models' outputs,
 * with sample weights (zeros among them) and without, tied scores and
 * targets included; a few rows too (classes missing from resamples, one
 * row drawn n times). They agree to 1e-12 relative (NaN where the plain
 * path fails), to the bit where both sum the same numbers in the same
 * order. 1 and 2 threads give the same bytes, of the values and of the
 * intervals, slices included. */
#include "test_util.h"

#include "kiln/evaluate.h"
#include "kiln/frame.h"
#include "kiln/io.h"
#include "kiln/mem.h"
#include "kiln/metrics.h"
#include "kiln/model.h"
#include "kiln/registry.h"
#include "learn/eval/score-impl.h"

#include <math.h>
#include <string.h>
#ifdef _OPENMP
#include <omp.h>
#endif

static const char *const classification_metrics[] = {"accuracy",
                                                     "balanced_accuracy",
                                                     "precision",
                                                     "precision_macro",
                                                     "precision_micro",
                                                     "precision_weighted",
                                                     "recall",
                                                     "recall_macro",
                                                     "recall_micro",
                                                     "recall_weighted",
                                                     "f1",
                                                     "f1_macro",
                                                     "f1_micro",
                                                     "f1_weighted",
                                                     "mcc",
                                                     "cohen_kappa",
                                                     "roc_auc",
                                                     "roc_auc_ovr_weighted",
                                                     "average_precision",
                                                     "log_loss",
                                                     "brier",
                                                     "toy_max_gap"};
static const size_t n_classification =
    sizeof classification_metrics / sizeof *classification_metrics;
static const char *const regression_metrics[] = {"mse",
                                                 "rmse",
                                                 "mae",
                                                 "mape",
                                                 "median_ae",
                                                 "r2",
                                                 "explained_variance",
                                                 "poisson_deviance",
                                                 "gamma_deviance",
                                                 "toy_max_error"};
static const size_t n_regression = sizeof regression_metrics / sizeof *regression_metrics;

/* Metrics from outside the library (the plain way in both paths): the
 * largest 1 - p(true class) (or 0/1 error without probabilities), the
 * largest |y - pred|. */
static kn_status toy_max_gap(const kn_metric_data *d, double *out)
{
    double m = 0;
    for (size_t i = 0; i < d->n; i++)
        m = fmax(m, d->proba ? 1 - d->proba[i * d->k_model + (size_t)d->y_class[i]]
                             : (double)(d->y_class[i] != d->pred_class[i]));
    *out = m;
    return KN_OK;
}

static kn_status toy_max_error(const kn_metric_data *d, double *out)
{
    double m = 0;
    for (size_t i = 0; i < d->n; i++) m = fmax(m, fabs(d->y[i] - d->pred[i]));
    *out = m;
    return KN_OK;
}

static const kn_metric_vt gap_vt = {
    .input = KN_METRIC_LABELS, .higher_is_better = 0, .compute = toy_max_gap};
static const kn_metric_vt error_vt = {
    .input = KN_METRIC_REGRESSION, .higher_is_better = 0, .compute = toy_max_error};
static const kn_component toy_gap = {KN_COMP_METRIC, "toy_max_gap", "largest gap", NULL, 0,
                                     &gap_vt};
static const kn_component toy_error = {KN_COMP_METRIC, "toy_max_error", "largest error", NULL, 0,
                                       &error_vt};

static kn_frame *read_data(const char *name)
{
    const char *dir = getenv("KILN_TEST_DATA");
    char path[512];
    snprintf(path, sizeof path, "%s/%s", dir ? dir : "tests/data", name);
    kn_frame *f = NULL;
    KN_CHECK(kn_frame_read(path, NULL, &f, NULL));
    return f;
}

/* A model's outputs on its data as scoring sees them. */
typedef struct outputs {
    size_t n;
    double *y, *pred, *proba, *w;
    int32_t *yc, *pc;
    kn_metric_data d;
} outputs;

static void outputs_free(outputs *o)
{
    kn_free(o->y), kn_free(o->pred), kn_free(o->proba), kn_free(o->w);
    kn_free(o->yc), kn_free(o->pc);
    memset(o, 0, sizeof *o);
}

/* Fit `model` (params) on file's target and take its outputs; weights:
 * column `weight` / scale (NULL: none). */
static void outputs_of(const char *file, const char *target, const char *model,
                       const char *const *params, const char *weight, double scale, outputs *o)
{
    memset(o, 0, sizeof *o);
    kn_frame *f = read_data(file);
    kn_model *m;
    KN_CHECK(kn_model_new(model, &m));
    for (; *params; params++) KN_CHECK(kn_model_set(m, *params));
    KN_CHECK(kn_model_fit(m, f, target, NULL));
    size_t n = kn_frame_n_rows(f), rows;
    o->n = n;
    KN_CHECK(kn_model_targets(m, f, &o->y));
    KN_CHECK(kn_model_predict(m, f, &o->pred, &rows));
    assert_int_equal(rows, n);
    if (weight) {
        size_t j;
        KN_CHECK(kn_frame_find(f, weight, &j));
        o->w = kn_malloc(n * sizeof *o->w);
        for (size_t i = 0; i < n; i++) o->w[i] = kn_column_f64(kn_frame_col(f, j))[i] / scale;
    }
    if (kn_model_task(m) == KN_TASK_CLASSIFICATION) {
        size_t k = kn_model_n_classes(m);
        KN_CHECK(kn_model_predict_proba(m, f, &o->proba, &rows));
        o->yc = kn_malloc(n * sizeof *o->yc);
        o->pc = kn_malloc(n * sizeof *o->pc);
        for (size_t i = 0; i < n; i++) {
            o->yc[i] = (int32_t)o->y[i];
            o->pc[i] = (int32_t)o->pred[i];
        }
        o->d = (kn_metric_data){.n = n,
                                .w = o->w,
                                .y_class = o->yc,
                                .pred_class = o->pc,
                                .k = k,
                                .proba = o->proba,
                                .k_model = k,
                                .positive = k == 2 ? 0 : -1};
    } else
        o->d = (kn_metric_data){.n = n, .w = o->w, .y = o->y, .pred = o->pred, .positive = -1};
    kn_model_free(m);
    kn_frame_free(f);
}

/* How many distinct values v[0..n) (stride apart) holds. */
static size_t distinct(const double *v, size_t n, size_t stride)
{
    double *s = kn_malloc(n * sizeof *s);
    for (size_t i = 0; i < n; i++) s[i] = v[i * stride];
    size_t u = 0;
    for (size_t i = 0; i < n; i++) {
        size_t j = 0;
        while (j < u && s[j] != s[i]) j++;
        if (j == u) s[u++] = s[i];
    }
    kn_free(s);
    return u;
}

static void set_threads(int t)
{
#ifdef _OPENMP
    omp_set_num_threads(t);
#else
    (void)t;
#endif
}

/* The scale a difference is relative to: the score's own, or 1 for
 * scores on the scale of 1 that can cancel to 0 (kappa, MCC, R^2 of a
 * model no better than chance: 1e-16 against 0 is agreement). */
static double unit_scale(const char *name)
{
    const kn_component *c = kn_metric_find(name);
    int classes = ((const kn_metric_vt *)c->vt)->input != KN_METRIC_REGRESSION;
    return classes || !strcmp(name, "r2") || !strcmp(name, "explained_variance") ? 1 : 0;
}

/* Scores the fast path gives bit for bit: those it sums in the metric's
 * own order (the weighted median; the toys, plain both ways) and, without
 * weights, those whose sums are of counts (labels, ranks, the median). */
static int exact(const char *name, int weighted)
{
    const kn_component *c = kn_metric_find(name);
    if (!strcmp(name, "median_ae") || !strncmp(name, "toy_", 4)) return 1;
    return !weighted &&
           (((const kn_metric_vt *)c->vt)->input == KN_METRIC_LABELS || !strcmp(name, "roc_auc") ||
            !strcmp(name, "roc_auc_ovr_weighted") || !strcmp(name, "average_precision"));
}

/* The fast path against the plain one on d, resample by resample: equal
 * to 1e-12 relative, NaN together. Metrics in `defined` must be finite on
 * most resamples (the comparison compares numbers), those in `undefined`
 * never. Differences are relative to the score (unit_scale); none at all
 * where the sums are the same (exact). The fast values are also the same
 * bytes on 1 and 2 threads. */
static void agree(const char *what, const kn_metric_data *d, const char *const *names, size_t k,
                  size_t reps, const char *defined, const char *undefined)
{
    double *fast = kn_malloc(k * reps * sizeof *fast), *plain = kn_malloc(k * reps * sizeof *plain);
    double *two = kn_malloc(k * reps * sizeof *two);
    set_threads(1);
    KN_CHECK(kn__bootstrap_scores(d, names, k, 17, reps, 0, fast));
    KN_CHECK(kn__bootstrap_scores(d, names, k, 17, reps, 1, plain));
    set_threads(2);
    KN_CHECK(kn__bootstrap_scores(d, names, k, 17, reps, 0, two));
    if (memcmp(fast, two, k * reps * sizeof *fast)) fail_msg("%s: 1 and 2 threads differ", what);
    for (size_t m = 0; m < k; m++) {
        size_t finite = 0, bits = 0;
        double worst = 0;
        for (size_t r = 0; r < reps; r++) {
            double a = fast[m * reps + r], b = plain[m * reps + r];
            if (isnan(a) || isnan(b)) {
                if (!isnan(a) || !isnan(b))
                    fail_msg("%s, %s, resample %zu: fast %.17g, plain %.17g", what, names[m], r, a,
                             b);
                continue;
            }
            finite++;
            bits += !memcmp(&a, &b, sizeof a);
            double rel =
                a == b ? 0 : fabs(a - b) / fmax(fmax(fabs(a), fabs(b)), unit_scale(names[m]));
            if (rel > worst) worst = rel;
            if (exact(names[m], d->w != NULL) && memcmp(&a, &b, sizeof a))
                fail_msg("%s, %s, resample %zu: fast %.17g, plain %.17g, not the same bits", what,
                         names[m], r, a, b);
            if (!(rel <= 1e-12))
                fail_msg("%s, %s, resample %zu: fast %.17g, plain %.17g (%.3g relative)", what,
                         names[m], r, a, b, rel);
        }
        char key[64];
        snprintf(key, sizeof key, " %s ", names[m]);
        if (strstr(defined, key) && (double)finite < 0.9 * (double)reps)
            fail_msg("%s, %s: finite on %zu of %zu resamples", what, names[m], finite, reps);
        if (strstr(undefined, key) && finite)
            fail_msg("%s, %s: finite on %zu resamples, expected none", what, names[m], finite);
        printf("  %-22s %-20s finite %4zu/%zu  same bits %4zu  worst %.2g\n", what, names[m],
               finite, reps, bits, worst);
    }
    kn_free(fast);
    kn_free(plain);
    kn_free(two);
}

static const char *const gbdt_small[] = {"n_estimators=8", "max_depth=3", "learning_rate=0.3",
                                         NULL};

static void register_toys(void)
{
    if (!kn_metric_find("toy_max_gap")) KN_CHECK(kn_registry_add(&toy_gap));
    if (!kn_metric_find("toy_max_error")) KN_CHECK(kn_registry_add(&toy_error));
}

#define ALL_LABELS                                                                                 \
    " accuracy balanced_accuracy precision_macro precision_micro precision_weighted "              \
    "recall_macro recall_micro recall_weighted f1_macro f1_micro f1_weighted mcc cohen_kappa "

/* Binary: loans good or bad (gbdt of few rounds: tied scores), positive
 * 'bad', on the first 4,000 loans; unweighted and weighted by revol_util
 * (rows of weight 0 among them); then the interest rate as the score
 * (fewer than 80 values: ties everywhere). */
static void binary_loans(void **state)
{
    (void)state;
    register_toys();
    outputs o;
    outputs_of("lending_club.csv", "Class", "gbdt", gbdt_small, "revol_util", 37, &o);
    assert_true(distinct(o.proba, o.n, 2) < o.n / 2); /* ties */
    /* 5 % of the loans are bad and the first class is never the most
       probable: decide 'bad' from p(bad) > 0.1, so the labels' scores
       see both classes */
    for (size_t i = 0; i < o.n; i++) o.pc[i] = o.proba[2 * i] > 0.1 ? 0 : 1;
    o.d.n = 4000; /* the first 4,000 loans: the plain path stays quick */
    const char *defined = ALL_LABELS "precision recall f1 roc_auc roc_auc_ovr_weighted "
                                     "average_precision log_loss brier toy_max_gap ";
    agree("loans, weighted", &o.d, classification_metrics, n_classification, 40, defined, "");
    o.d.w = NULL;
    agree("loans", &o.d, classification_metrics, n_classification, 40, defined, "");
    /* the interest rate as the score of a bad loan: 72 values over 9857 rows */
    kn_frame *f = read_data("lending_club.csv");
    size_t j;
    KN_CHECK(kn_frame_find(f, "int_rate", &j));
    for (size_t i = 0; i < o.n; i++) {
        double p = kn_column_f64(kn_frame_col(f, j))[i] / 30;
        o.proba[2 * i] = p;
        o.proba[2 * i + 1] = 1 - p;
        o.pc[i] = p > 0.5 ? 0 : 1;
    }
    kn_frame_free(f);
    assert_true(distinct(o.proba, o.d.n, 2) < 80);
    agree("loans by int_rate", &o.d, classification_metrics, n_classification, 40, defined, "");
    o.d.w = o.w;
    agree("loans by int_rate, w", &o.d, classification_metrics, n_classification, 40, defined, "");
    outputs_free(&o);
}

/* Multiclass: vehicles (4 classes), weighted by elongation and not; then
 * as scoring sees a class the model never saw (no probabilities, k 5). */
static void multiclass_vehicles(void **state)
{
    (void)state;
    register_toys();
    outputs o;
    outputs_of("vehicle.csv", "Class", "gbdt", gbdt_small, "Elong", 7, &o);
    const char *defined = ALL_LABELS "roc_auc roc_auc_ovr_weighted log_loss toy_max_gap ";
    const char *binary_only = " precision recall f1 average_precision brier ";
    agree("vehicles, weighted", &o.d, classification_metrics, n_classification, 100, defined,
          binary_only);
    o.d.w = NULL;
    agree("vehicles", &o.d, classification_metrics, n_classification, 100, defined, binary_only);
    /* the first 30 rows of class 0 become a fifth class, which the model
       never predicts */
    for (size_t i = 0, moved = 0; i < o.n && moved < 30; i++)
        if (o.yc[i] == 0) o.yc[i] = 4, moved++;
    o.d.k = 5;
    o.d.proba = NULL;
    agree("vehicles, unseen class", &o.d, classification_metrics, n_classification, 100, ALL_LABELS,
          " roc_auc roc_auc_ovr_weighted log_loss brier average_precision ");
    outputs_free(&o);
}

/* A few rows: resamples that miss a class (NaN rank scores, labels
 * present only as predictions). */
static void few_rows(void **state)
{
    (void)state;
    register_toys();
    outputs o;
    const char *const lr[] = {"C=0.05", NULL};
    outputs_of("wine.csv", "class", "logistic_regression", lr, "ash", 1, &o);
    /* 3, 2 and 2 rows of the three cultivars */
    const size_t rows[] = {0, 1, 2, 60, 61, 140, 141};
    kn__taken b;
    kn_metric_data d;
    KN_CHECK(kn__taken_alloc(&b, &o.d, 7));
    kn__take(&o.d, rows, 7, &b, &d);
    assert_int_equal(d.y_class[0], 0);
    assert_int_equal(d.y_class[3], 1);
    assert_int_equal(d.y_class[6], 2);
    agree("wine, 7 rows, w", &d, classification_metrics, n_classification, 300, "", "");
    d.w = NULL;
    agree("wine, 7 rows", &d, classification_metrics, n_classification, 300, "", "");
    kn__taken_free(&b);
    outputs_free(&o);
}

/* Regression: concrete (gbdt: tied predictions; weights with 379 zeros)
 * and not; 1, 2 and 3 rows; ridge with negative predictions (the
 * deviances undefined on the resamples that draw them); wages (gbdt; 238
 * values over 534 rows, tied predictions). */
static void regression(void **state)
{
    (void)state;
    register_toys();
    const char *defined = " mse rmse mae mape median_ae r2 explained_variance toy_max_error ";
    outputs o;
    outputs_of("concrete.csv", "compressive_strength", "gbdt", gbdt_small, "superplasticizer", 3,
               &o);
    assert_true(distinct(o.pred, o.n, 1) < o.n / 2);
    agree("concrete, weighted", &o.d, regression_metrics, n_regression, 100,
          " mse rmse mae mape median_ae r2 explained_variance poisson_deviance gamma_deviance ",
          "");
    o.d.w = NULL;
    agree("concrete", &o.d, regression_metrics, n_regression, 100, defined, "");
    for (size_t n = 1; n <= 3; n++) {
        o.d.n = n;
        agree("concrete, few rows", &o.d, regression_metrics, n_regression, 100, "", "");
    }
    outputs_free(&o);
    /* ridge, three predictions below 0: the deviances fail on the
       resamples that draw one of those rows */
    const char *const ridge[] = {"alpha=1", NULL};
    outputs_of("concrete.csv", "compressive_strength", "ridge", ridge, NULL, 1, &o);
    o.pred[5] = o.pred[500] = o.pred[1000] = -1;
    agree("concrete, ridge", &o.d, regression_metrics, n_regression, 100, defined, "");
    outputs_free(&o);
    const char *const gbdt_wage[] = {"n_estimators=20", "max_depth=2", NULL};
    outputs_of("cps1985.csv", "wage", "gbdt", gbdt_wage, "experience", 10, &o);
    assert_true(distinct(o.y, o.n, 1) < o.n / 2);
    assert_true(distinct(o.pred, o.n, 1) < o.n / 2);
    agree("wages, weighted", &o.d, regression_metrics, n_regression, 100, defined, "");
    o.d.w = NULL;
    agree("wages", &o.d, regression_metrics, n_regression, 100, defined, "");
    outputs_free(&o);
}

/* Through the public API with slices: intervals of the overall scores and
 * of every slice, the same bytes on 1 and 2 threads. */
static void sliced_threads(void **state)
{
    (void)state;
    kn_frame *f = read_data("lending_club.csv");
    kn_model *m;
    KN_CHECK(kn_model_new("gbdt", &m));
    for (const char *const *p = gbdt_small; *p; p++) KN_CHECK(kn_model_set(m, *p));
    KN_CHECK(kn_model_fit(m, f, "Class", NULL));
    kn_score_opts o = {.bootstrap = 100, .seed = 3, .slice_by = "term", .weight = "revol_util"};
    kn_scores s[2];
    for (int t = 0; t < 2; t++) {
        set_threads(t + 1);
        KN_CHECK(kn_model_score_with(m, f, &o, &s[t]));
    }
    assert_int_equal(s[0].n, s[1].n);
    assert_int_equal(s[0].n_slices, 2);
    assert_memory_equal(s[0].lo, s[1].lo, s[0].n * sizeof *s[0].lo);
    assert_memory_equal(s[0].hi, s[1].hi, s[0].n * sizeof *s[0].hi);
    for (size_t i = 0; i < s[0].n; i++) assert_true(s[0].lo[i] <= s[0].hi[i]);
    for (size_t v = 0; v < s[0].n_slices; v++) {
        const kn_scores *a = &s[0].slices[v].scores, *b = &s[1].slices[v].scores;
        assert_memory_equal(a->lo, b->lo, a->n * sizeof *a->lo);
        assert_memory_equal(a->hi, b->hi, a->n * sizeof *a->hi);
        assert_true(isfinite(a->lo[0]) && a->lo[0] < a->hi[0]);
    }
    kn_scores_free(&s[0]);
    kn_scores_free(&s[1]);
    kn_model_free(m);
    kn_frame_free(f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(binary_loans),   cmocka_unit_test(multiclass_vehicles),
        cmocka_unit_test(few_rows),       cmocka_unit_test(regression),
        cmocka_unit_test(sliced_threads),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
