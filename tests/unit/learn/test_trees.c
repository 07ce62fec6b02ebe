/* learn: the tree models (gbdt, decision_tree, random_forest,
 * extra_trees): learned rules on hand-made data where the right answer is
 * known (missing values, thresholds, pruning), determinism across thread
 * counts, save/load, out-of-bag scores, and the bin edges. */
#include "test_util.h"

#include "kiln/frame.h"
#include "kiln/mem.h"
#include "kiln/model.h"
#include "kiln/rng.h"
#include "learn/tree/bins.h"
#include "core/simd.h"
#include "learn/tree/flat_forest.h"
#include "learn/tree/logloss.h"

#include <math.h>
#include <omp.h>
#include <string.h>

static kn_frame *frame_of(size_t n, size_t p, const double *x, const double *y)
{
    kn_frame *f;
    KN_CHECK(kn_frame_new(&f));
    for (size_t j = 0; j <= p; j++) {
        char name[16];
        snprintf(name, sizeof name, j < p ? "x%zu" : "y", j);
        KN_CHECK(kn_frame_add_column(f, name, KN_COL_NUMERIC, NULL));
    }
    KN_CHECK(kn_frame_resize(f, n));
    for (size_t j = 0; j <= p; j++) {
        double *c = kn_column_f64(kn_frame_col(f, j));
        for (size_t i = 0; i < n; i++) c[i] = j < p ? x[j * n + i] : y[i];
    }
    return f;
}

static kn_model *fit_model(const char *name, const kn_frame *f, const char *const *params)
{
    kn_model *m;
    KN_CHECK(kn_model_new(name, &m));
    for (; *params; params++) KN_CHECK(kn_model_set(m, *params));
    KN_CHECK(kn_model_fit(m, f, "y", NULL));
    return m;
}

/* y = 0 for x <= 5, 10 for x > 5; missing x has the target of the group
 * named: one split at 5.5 must send missing values that way. */
static void missing_goes_where_its_target_says(double missing_y)
{
    double x[40], y[40];
    for (size_t i = 0; i < 40; i++) {
        x[i] = i < 30 ? (double)(i % 10 + 1) : NAN;
        y[i] = i < 30 ? (x[i] > 5 ? 10 : 0) : missing_y;
    }
    kn_frame *f = frame_of(40, 1, x, y);
    const char *params[] = {"objective=squared_error", "n_estimators=1",
                            "learning_rate=1",         "max_leaves=2",
                            "min_samples_leaf=1",      NULL};
    kn_model *m = fit_model("gbdt", f, params);
    double q[] = {3, 5, 5.5, 6, 8, NAN}, want[] = {0, 0, 0, 10, 10, missing_y}, z[6] = {0};
    kn_frame *g = frame_of(6, 1, q, z);
    double *out;
    size_t n;
    KN_CHECK(kn_model_predict(m, g, &out, &n));
    assert_int_equal(n, 6);
    for (size_t i = 0; i < 6; i++) assert_true(fabs(out[i] - want[i]) < 1e-9);
    kn_free(out);
    kn_frame_free(g);
    kn_model_free(m);
    kn_frame_free(f);
}

static void missing_values(void **state)
{
    (void)state;
    missing_goes_where_its_target_says(10); /* with the high group: right */
    missing_goes_where_its_target_says(0);  /* with the low group: left */
}

/* A random binary problem, a share of its values missing. */
static kn_frame *random_problem(size_t n, size_t p, double missing)
{
    double *x = kn_malloc(n * p * sizeof *x), *y = kn_malloc(n * sizeof *y);
    kn_rng rng;
    kn_rng_init(&rng, 7);
    for (size_t i = 0; i < n * p; i++)
        x[i] = kn_rng_uniform(&rng) < missing ? NAN : kn_rng_normal(&rng);
    for (size_t i = 0; i < n; i++) {
        double s = (isnan(x[i]) ? 1 : x[i]) - (isnan(x[n + i]) ? 0 : x[n + i]) / 2;
        y[i] = s + kn_rng_normal(&rng) * 0.5 > 0;
    }
    kn_frame *f = frame_of(n, p, x, y);
    kn_free(x), kn_free(y);
    return f;
}

static unsigned char *file_bytes(const char *path, size_t *len)
{
    FILE *fp = fopen(path, "rb");
    assert_non_null(fp);
    fseek(fp, 0, SEEK_END);
    *len = (size_t)ftell(fp);
    fseek(fp, 0, SEEK_SET);
    unsigned char *b = kn_malloc(*len ? *len : 1);
    assert_int_equal(fread(b, 1, *len, fp), *len);
    fclose(fp);
    return b;
}

/* Same data, parameters and seed: the same model bytes with 1 and 2
 * threads, and with the vector paths off; a loaded model predicts exactly
 * what the fitted one does. */
static void same_bytes_any_threads(const char *name, const kn_frame *f, const char *const *params)
{
    char path[3][64];
    int saved = omp_get_max_threads();
    for (int t = 0; t < 3; t++) {
        omp_set_num_threads(t ? 2 : 1);
        kn__simd_off = t == 2;
        kn_model *m = fit_model(name, f, params);
        kn__simd_off = 0;
        snprintf(path[t], sizeof path[t], "/tmp/kiln_%s_%d_%d.kmd", name, (int)getpid(), t);
        KN_CHECK(kn_model_save(m, path[t]));
        if (t == 1) {
            kn_model *l;
            KN_CHECK(kn_model_load(path[t], &l));
            double *a, *b;
            size_t na, nb;
            KN_CHECK(kn_model_predict_proba(m, f, &a, &na));
            KN_CHECK(kn_model_predict_proba(l, f, &b, &nb));
            assert_int_equal(na, nb);
            assert_memory_equal(a, b, 2 * na * sizeof *a);
            kn_free(a), kn_free(b);
            kn_model_free(l);
        }
        kn_model_free(m);
    }
    omp_set_num_threads(saved);
    size_t l0;
    unsigned char *b0 = file_bytes(path[0], &l0);
    for (int t = 1; t < 3; t++) {
        size_t l1;
        unsigned char *b1 = file_bytes(path[t], &l1);
        assert_int_equal(l0, l1);
        assert_memory_equal(b0, b1, l0);
        kn_free(b1);
        remove(path[t]);
    }
    kn_free(b0);
    remove(path[0]);
}

/* gbdt with sampling on, large enough for the parallel histogram path. */
static void gbdt_deterministic(void **state)
{
    (void)state;
    kn_frame *f = random_problem(60000, 6, 0.05);
    const char *params[] = {"n_estimators=8",
                            "subsample=0.8",
                            "colsample=0.7",
                            "max_leaves=15",
                            "early_stopping_rounds=3",
                            "seed=5",
                            NULL};
    same_bytes_any_threads("gbdt", f, params);
    kn_frame_free(f);
    /* depth-wise, with leaves large enough to be split by every thread */
    f = random_problem(140001, 6, 0.05);
    const char *levels[] = {"n_estimators=4", "max_leaves=0", "max_depth=5", NULL};
    same_bytes_any_threads("gbdt", f, levels);
    kn_frame_free(f);
}

/* Forests: trees from their own random streams, grown in parallel. */
static void forests_deterministic(void **state)
{
    (void)state;
    kn_frame *f = random_problem(5000, 6, 0);
    const char *rf[] = {"n_estimators=7", "oob_score=true", "max_features=2", "seed=3", NULL};
    const char *exact[] = {"n_estimators=5", "max_bins=0", "min_samples_leaf=3", "seed=4", NULL};
    const char *et[] = {"n_estimators=7", "max_features=sqrt", "seed=5", NULL};
    same_bytes_any_threads("random_forest", f, rf);
    same_bytes_any_threads("random_forest", f, exact);
    same_bytes_any_threads("extra_trees", f, et);
    kn_frame_free(f);
}

/* y = [x0 > 5] with x0 = 1..10 and x1 noise: a tree splits x0 at 5.5 and
 * is exact; pruned with a large ccp_alpha it is one leaf predicting the
 * class shares; a forest's out-of-bag accuracy is perfect. */
static void tree_rules(void **state)
{
    (void)state;
    double x[2 * 100], y[100];
    kn_rng rng;
    kn_rng_init(&rng, 1);
    for (size_t i = 0; i < 100; i++) {
        x[i] = (double)(i % 10 + 1);
        x[100 + i] = kn_rng_uniform(&rng);
        y[i] = x[i] > 5;
    }
    kn_frame *f = frame_of(100, 2, x, y);
    const char *plain[] = {NULL}, *pruned[] = {"ccp_alpha=1", NULL};
    kn_model *m = fit_model("decision_tree", f, plain);
    double imp[2];
    assert_int_equal(kn_model_coef_rows(m), 0); /* importances are not coefficients */
    KN_CHECK(kn_model_importances(m, imp));
    assert_true(imp[0] == 1 && imp[1] == 0);
    double q[] = {5, 5.49, 5.51, 6, 0.5, 0.5, 0.5, 0.5}, z[4] = {0}, *out;
    kn_frame *g = frame_of(4, 2, q, z);
    size_t n;
    KN_CHECK(kn_model_predict(m, g, &out, &n));
    assert_true(out[0] == 0 && out[1] == 0 && out[2] == 1 && out[3] == 1);
    kn_free(out);
    kn_model_free(m);
    m = fit_model("decision_tree", f, pruned);
    KN_CHECK(kn_model_predict_proba(m, g, &out, &n));
    for (size_t i = 0; i < 4; i++) assert_true(out[2 * i] == 0.5 && out[2 * i + 1] == 0.5);
    kn_free(out);
    kn_model_free(m);
    const char *rf[] = {"n_estimators=20", "oob_score=true", "max_features=all", NULL};
    m = fit_model("random_forest", f, rf);
    kn_fit_summary s;
    KN_CHECK(kn_model_summary(m, &s));
    assert_int_equal(s.n_stats, 3);
    assert_string_equal(s.stat_name[2], "oob_accuracy");
    assert_true(s.stat[2] == 1);
    kn_model_free(m);
    kn_frame_free(g);
    kn_frame_free(f);
}

/* y = x with 1 in 7 targets thrown off by +1000: absolute error and
 * Huber fits stay near y = x, squared error is pulled up by the outliers. */
static void robust_objectives(void **state)
{
    (void)state;
    enum { N = 2000 };
    double *x = kn_malloc(N * sizeof *x), *y = kn_malloc(N * sizeof *y);
    for (size_t i = 0; i < N; i++) {
        x[i] = (double)(i % 100);
        y[i] = x[i] + (i % 7 == 3 ? 1000 : 0);
    }
    kn_frame *f = frame_of(N, 1, x, y);
    /* Huber's threshold, a quantile of the residuals, must sit below the
     * outliers' share (1/7) */
    const char *objectives[] = {"objective=squared_error", "objective=absolute_error",
                                "objective=huber"};
    double err[3];
    for (int o = 0; o < 3; o++) {
        const char *params[] = {objectives[o],        "n_estimators=200",   "learning_rate=0.2",
                                "min_samples_leaf=5", "huber_quantile=0.8", NULL};
        kn_model *m = fit_model("gbdt", f, params);
        double *out;
        size_t n;
        KN_CHECK(kn_model_predict(m, f, &out, &n));
        err[o] = 0;
        for (size_t i = 0; i < 100; i++) err[o] += fabs(out[i] - x[i]) / 100;
        kn_free(out);
        kn_model_free(m);
    }
    assert_true(err[0] > 50);  /* about 100: the outliers' mean shift */
    assert_true(err[1] < 0.5); /* the median ignores them */
    assert_true(err[2] < 5);
    kn_frame_free(f);
    kn_free(x), kn_free(y);
}

/* predict_rounds=k predicts what a k-round model does (no sampling: the
 * first k rounds are that model), and keeps the fit; split importance
 * counts splits. */
static void staged_prediction(void **state)
{
    (void)state;
    kn_frame *f = random_problem(3000, 4, 0.02);
    const char *all[] = {"n_estimators=30", "max_leaves=7", "importance=split", NULL};
    const char *first[] = {"n_estimators=12", "max_leaves=7", NULL};
    kn_model *m = fit_model("gbdt", f, all), *m12 = fit_model("gbdt", f, first);
    KN_CHECK(kn_model_set(m, "predict_rounds=12"));
    double *a, *b, imp[4], sum = 0;
    size_t na, nb;
    KN_CHECK(kn_model_predict_proba(m, f, &a, &na));
    KN_CHECK(kn_model_predict_proba(m12, f, &b, &nb));
    assert_memory_equal(a, b, 2 * na * sizeof *a);
    kn_free(a), kn_free(b);
    KN_CHECK(kn_model_importances(m, imp));
    for (int j = 0; j < 4; j++) { /* each a multiple of 1 / (30 trees x 6 splits) */
        double splits = imp[j] * 180;
        assert_true(fabs(splits - round(splits)) < 1e-9);
        sum += imp[j];
    }
    assert_true(fabs(sum - 1) < 1e-12);
    kn_model_free(m), kn_model_free(m12);
    kn_frame_free(f);
}

/* Whether predictions along a grid of x0 (x1 fixed at each of 5 values)
 * never fall (direction 1) or never rise (-1). */
static int monotone_along_x0(const kn_model *m, int direction)
{
    enum { G = 200 };
    double q[2 * G], z[G] = {0};
    int ok = 1;
    for (int v = 0; v < 5; v++) {
        for (int i = 0; i < G; i++) {
            q[i] = (double)i / G;
            q[G + i] = 0.1 + 0.2 * v;
        }
        kn_frame *g = frame_of(G, 2, q, z);
        double *out;
        size_t n;
        KN_CHECK(kn_model_predict(m, g, &out, &n));
        for (int i = 1; i < G; i++) ok &= direction * (out[i] - out[i - 1]) >= 0;
        kn_free(out);
        kn_frame_free(g);
    }
    return ok;
}

/* y = 2 x0 + sin(12 x0) / 2 + x1 + noise rises with x0 but wiggles: free
 * trees follow the wiggles, constrained ones never fall along x0 (or never
 * rise, for -1), by position or by name. */
static void monotone_constraints(void **state)
{
    (void)state;
    enum { N = 4000 };
    double *x = kn_malloc(2 * N * sizeof *x), *y = kn_malloc(N * sizeof *y);
    kn_rng rng;
    kn_rng_init(&rng, 11);
    for (size_t i = 0; i < N; i++) {
        x[i] = kn_rng_uniform(&rng);
        x[N + i] = kn_rng_uniform(&rng);
        y[i] = 2 * x[i] + sin(12 * x[i]) / 2 + x[N + i] + 0.1 * kn_rng_normal(&rng);
    }
    kn_frame *f = frame_of(N, 2, x, y);
    const char *free_[] = {"objective=squared_error", "n_estimators=60", NULL};
    const char *up[] = {"objective=squared_error", "n_estimators=60", "monotone=1,0", NULL};
    const char *named[] = {"objective=squared_error", "n_estimators=60", "monotone=x0:1", NULL};
    const char *down[] = {"objective=squared_error", "n_estimators=60", "monotone=-1,0", NULL};
    kn_model *m = fit_model("gbdt", f, free_);
    assert_false(monotone_along_x0(m, 1));
    kn_model_free(m);
    m = fit_model("gbdt", f, up);
    assert_true(monotone_along_x0(m, 1));
    kn_model_free(m);
    m = fit_model("gbdt", f, named);
    assert_true(monotone_along_x0(m, 1));
    kn_model_free(m);
    m = fit_model("gbdt", f, down);
    assert_true(monotone_along_x0(m, -1));
    kn_model_free(m);
    const char *bad[] = {"1", "1,0,1", "x9:1", "2,0", NULL};
    for (const char **b = bad; *b; b++) {
        char nv[64];
        snprintf(nv, sizeof nv, "monotone=%s", *b);
        KN_CHECK(kn_model_new("gbdt", &m));
        KN_CHECK(kn_model_set(m, "objective=squared_error"));
        KN_CHECK(kn_model_set(m, nv));
        assert_int_equal(kn_model_fit(m, f, "y", NULL), KN_ERR_INVALID);
        assert_non_null(strstr(kn_last_error(), "monotone"));
        kn_model_free(m);
    }
    kn_frame_free(f);
    kn_free(x), kn_free(y);
}

/* A frame with a categorical column "color" (texts; NULL: missing), a
 * numeric column "noise" and the target "y"; levels interned in the order
 * given by `order` first, so two frames can code the same texts
 * differently. */
static kn_frame *color_frame(size_t n, const char *const *color, const double *y,
                             const char *const *order)
{
    kn_frame *f;
    kn_column *c, *z, *t;
    KN_CHECK(kn_frame_new(&f));
    KN_CHECK(kn_frame_add_column(f, "color", KN_COL_CATEGORICAL, &c));
    KN_CHECK(kn_frame_add_column(f, "noise", KN_COL_NUMERIC, &z));
    KN_CHECK(kn_frame_add_column(f, "y", KN_COL_NUMERIC, &t));
    KN_CHECK(kn_frame_resize(f, n));
    int32_t code;
    for (; order && *order; order++) KN_CHECK(kn_column_intern(c, *order, strlen(*order), &code));
    for (size_t i = 0; i < n; i++) {
        c = kn_frame_col(f, 0);
        if (color[i])
            KN_CHECK(kn_column_intern(c, color[i], strlen(color[i]), &kn_column_codes(c)[i]));
        else
            kn_column_codes(c)[i] = -1;
        kn_column_f64(kn_frame_col(f, 1))[i] = (double)(i % 7);
        kn_column_f64(kn_frame_col(f, 2))[i] = y[i];
    }
    return f;
}

/* y = 10 for colours b, e and g (not neighbours in any order of the
 * levels), 0 for the other five, 10 when the colour is missing: one
 * split on a set of levels separates them; a new frame coding the levels
 * in another order, an unseen colour (goes where missing ones went) and
 * save/load agree. */
static void categorical_splits(void **state)
{
    (void)state;
    enum { N = 450 };
    const char *levels[] = {"a", "b", "c", "d", "e", "f", "g", "h"};
    const char *color[N];
    double y[N];
    for (size_t i = 0; i < N; i++) {
        color[i] = i % 9 == 8 ? NULL : levels[i % 9];
        y[i] = !color[i] || strchr("beg", color[i][0]) ? 10 : 0;
    }
    kn_frame *f = color_frame(N, color, y, NULL);
    const char *params[] = {"objective=squared_error", "n_estimators=1",
                            "learning_rate=1",         "max_leaves=2",
                            "min_samples_leaf=1",      NULL};
    kn_model *m = fit_model("gbdt", f, params);
    assert_int_equal(kn_model_feature_levels(m, 0), 8);
    double imp[2];
    KN_CHECK(kn_model_importances(m, imp));
    assert_true(imp[0] == 1 && imp[1] == 0); /* the one split is on the colour */
    const char *ask[] = {"h", "g", "f", "e", "d", "c", "b", "a", NULL, "zebra"};
    const char *reverse[] = {"h", "g", "f", "e", "d", "c", "b", "a", NULL};
    double want[] = {0, 10, 0, 10, 0, 0, 10, 0, 10, 10}, z[10] = {0};
    kn_frame *g = color_frame(10, ask, z, reverse);
    char path[64];
    snprintf(path, sizeof path, "/tmp/kiln_cat_%d.kmd", (int)getpid());
    KN_CHECK(kn_model_save(m, path));
    kn_model *l;
    KN_CHECK(kn_model_load(path, &l));
    remove(path);
    for (kn_model *which = m; which; which = which == m ? l : NULL) {
        double *out;
        size_t n;
        KN_CHECK(kn_model_predict(which, g, &out, &n));
        /* (gradients are single precision: leaf values within 1e-6) */
        for (size_t i = 0; i < 10; i++) assert_true(fabs(out[i] - want[i]) < 1e-6);
        kn_free(out);
    }
    kn_model_free(l);
    kn_model_free(m);
    kn_frame_free(g);
    kn_frame_free(f);
}

/* The predictions of model m for one numeric feature's values q (k rows)
 * are want. */
static void predicts(const kn_model *m, const double *q, const double *want, size_t k)
{
    double z[8] = {0}, *out;
    size_t n;
    kn_frame *g = frame_of(k, 1, q, z);
    KN_CHECK(kn_model_predict(m, g, &out, &n));
    assert_int_equal(n, k);
    for (size_t i = 0; i < k; i++) assert_true(fabs(out[i] - want[i]) < 1e-12);
    kn_free(out);
    kn_frame_free(g);
}

/* decision_tree, one split (scikit-learn's rules since 1.4): missing
 * values seen in training go to the side that fits their target; where
 * none were seen, to the child with more training rows. */
static void tree_missing_values(void **state)
{
    (void)state;
    const char *stump[] = {"criterion=squared_error", "max_depth=1", NULL};
    double x[40], y[40], q[] = {3, 5, 6, 8, NAN};
    for (int high = 0; high < 2; high++) { /* missing rows with the high or low group */
        for (size_t i = 0; i < 40; i++) {
            x[i] = i < 30 ? (double)(i % 10 + 1) : NAN;
            y[i] = i < 30 ? (x[i] > 5 ? 10 : 0) : high * 10;
        }
        kn_frame *f = frame_of(40, 1, x, y);
        kn_model *m = fit_model("decision_tree", f, stump);
        double want[] = {0, 0, 10, 10, high * 10};
        predicts(m, q, want, 5);
        kn_model_free(m);
        kn_frame_free(f);
    }
    for (int cut = 3; cut <= 7; cut += 4) { /* none missing: 9 rows left of 3.5, 21 of 7.5 */
        for (size_t i = 0; i < 30; i++) {
            x[i] = (double)(i % 10 + 1);
            y[i] = x[i] > cut ? 10 : 0;
        }
        kn_frame *f = frame_of(30, 1, x, y);
        kn_model *m = fit_model("decision_tree", f, stump);
        double want[] = {3 > cut ? 10 : 0, 5 > cut ? 10 : 0, 6 > cut ? 10 : 0, 10,
                         cut == 3 ? 10 : 0};
        predicts(m, q, want, 5);
        kn_model_free(m);
        kn_frame_free(f);
    }
}

/* decision_tree on categorical_splits' colours: one split puts b, e, g
 * and the missing rows (200) on one side, the five other levels (250) on
 * the other; an unseen colour goes to the larger child (0), unlike gbdt,
 * which sends it where missing values go; save/load agree. Forests on the
 * colours and on numbers with missing values give the same bytes with any
 * thread count. */
static void tree_categorical_splits(void **state)
{
    (void)state;
    enum { N = 450 };
    const char *levels[] = {"a", "b", "c", "d", "e", "f", "g", "h"};
    const char *color[N];
    double y[N];
    for (size_t i = 0; i < N; i++) {
        color[i] = i % 9 == 8 ? NULL : levels[i % 9];
        y[i] = !color[i] || strchr("beg", color[i][0]) ? 10 : 0;
    }
    kn_frame *f = color_frame(N, color, y, NULL);
    const char *stump[] = {"criterion=squared_error", "max_depth=1", NULL};
    kn_model *m = fit_model("decision_tree", f, stump);
    assert_int_equal(kn_model_feature_levels(m, 0), 8);
    const char *ask[] = {"h", "g", "f", "e", "d", "c", "b", "a", NULL, "zebra"};
    const char *reverse[] = {"h", "g", "f", "e", "d", "c", "b", "a", NULL};
    double want[] = {0, 10, 0, 10, 0, 0, 10, 0, 10, 0}, z[10] = {0};
    kn_frame *g = color_frame(10, ask, z, reverse);
    char path[64];
    snprintf(path, sizeof path, "/tmp/kiln_tree_cat_%d.kmd", (int)getpid());
    KN_CHECK(kn_model_save(m, path));
    kn_model *l;
    KN_CHECK(kn_model_load(path, &l));
    remove(path);
    for (kn_model *which = m; which; which = which == m ? l : NULL) {
        double *out;
        size_t n;
        KN_CHECK(kn_model_predict(which, g, &out, &n));
        for (size_t i = 0; i < 10; i++) assert_true(out[i] == want[i]);
        kn_free(out);
    }
    kn_model_free(l);
    kn_model_free(m);
    kn_frame_free(g);
    const char *rf[] = {"n_estimators=5", "max_features=all", "oob_score=true", "seed=2", NULL};
    const char *et[] = {"n_estimators=5", "max_features=all", "seed=2", NULL};
    same_bytes_any_threads("random_forest", f, rf);
    same_bytes_any_threads("extra_trees", f, et);
    kn_frame_free(f);
    f = random_problem(5000, 6, 0.05);
    const char *binned[] = {"n_estimators=5", "binned_from_rows=0", "seed=3", NULL};
    const char *exact[] = {"n_estimators=5", "max_bins=0", "min_samples_leaf=3", "seed=4", NULL};
    same_bytes_any_threads("random_forest", f, binned);
    same_bytes_any_threads("random_forest", f, exact);
    same_bytes_any_threads("extra_trees", f, et);
    kn_frame_free(f);
}

/* Few distinct values: edges are the midpoints, the last +inf, and each
 * value's code is its rank; missing values get the missing code. */
static void bin_edges(void **state)
{
    (void)state;
    double x[] = {3, 1, 2, 2, NAN, 7};
    const double *col[] = {x};
    kn_dataset d = {.n = 6, .p = 1, .col = col};
    kn__bins b;
    KN_CHECK(kn__bins_fit(&b, &d, 255, 1000, 0));
    assert_int_equal(b.n_bins[0], 4);
    assert_true(b.edges[0] == 1.5 && b.edges[1] == 2.5 && b.edges[2] == 5 && isinf(b.edges[3]));
    uint8_t *c;
    KN_CHECK(kn__bins_apply(&b, &d, &c));
    const uint8_t want[] = {2, 0, 1, 1, KN__BIN_MISSING, 3};
    assert_memory_equal(c, want, 6);
    kn_free(c);
    kn__bins_free(&b);
}

/* Flattened trees predict what walking their nodes does, on the coded
 * walk (few distinct thresholds, +inf among them) and on raw values (765
 * distinct thresholds on one feature): rows with missing values (only in
 * the first block, so later blocks take the walk without them),
 * infinities, values equal to thresholds, a partial last block; the
 * coded walk both with AVX-512 gathers (where the CPU has them) and scalar. */
static void flat_walks(void **state)
{
    (void)state;
    /* complete trees of depths 8, 3, 0 (a lone leaf) and 5: node i's
     * children at 2i + 1 and 2i + 2 */
    enum { D = 8, INNER = (1 << D) - 1, NODES = 2 * INNER + 1, TREES = 4, P = 3, N = 2100 };
    const size_t depth[TREES] = {D, 3, 0, 5}; /* (5 last: its 31 nodes end the array) */
    size_t offset[TREES + 1] = {0};
    for (size_t t = 0; t < TREES; t++) offset[t + 1] = offset[t] + ((size_t)2 << depth[t]) - 1;
    kn__node *nodes = kn_calloc(TREES * NODES, sizeof *nodes);
    double *x = kn_malloc(P * N * sizeof *x);
    assert_non_null(nodes);
    assert_non_null(x);
    kn_rng rng;
    kn_rng_init(&rng, 11);
    /* mode 0: few thresholds (coded); 1: 765 distinct ones on feature 0
     * (raw); 2: 254 distinct ones on feature 1, the most the coded walk
     * takes (coded, every threshold bucket in use) */
    for (int mode = 0; mode < 3; mode++) {
        int distinct = mode == 1;
        for (size_t t = 0; t < TREES; t++)
            for (size_t i = 0; i < offset[t + 1] - offset[t]; i++) {
                kn__node *nd = &nodes[offset[t] + i];
                *nd = (kn__node){.feature = -1, .value = kn_rng_normal(&rng)};
                if (i >= ((size_t)1 << depth[t]) - 1) continue;
                nd->feature = distinct ? 0 : (int32_t)kn_rng_below(&rng, P);
                nd->threshold = distinct ? (double)(t * INNER + i) / 100 - 3.8
                                         : (double)kn_rng_below(&rng, 9) - 4;
                if (!distinct && kn_rng_below(&rng, 20) == 0) nd->threshold = INFINITY;
                if (mode == 2) {
                    nd->feature = 1;
                    nd->threshold = (double)((t * INNER + i) % 254) / 8 - 12;
                }
                nd->missing_left = (uint8_t)kn_rng_below(&rng, 2);
                nd->left = (int32_t)(2 * i + 1);
            }
        for (size_t i = 0; i < P * N; i++) {
            uint64_t kind = kn_rng_below(&rng, 8);
            x[i] = kind == 0                  ? (double)kn_rng_below(&rng, 9) - 4
                   : kind == 1                ? (double)kn_rng_below(&rng, 760) / 100 - 3.8
                   : kind == 2                ? (kn_rng_below(&rng, 2) ? INFINITY : -INFINITY)
                   : kind == 3 && i % N < 256 ? NAN
                   : kind == 4                ? (double)kn_rng_below(&rng, 254) / 8 - 12
                   : kind == 5                ? kn_rng_normal(&rng) * 10
                                              : kn_rng_normal(&rng) * 3;
        }
        const double *col[P] = {x, x + N, x + 2 * N};
        kn__flat_forest ff;
        KN_CHECK(kn__flat_build(&ff, nodes, offset, TREES, NULL, 1, 1));
        assert_true((ff.coded != NULL) == !distinct);
        assert_true(mode != 2 || ff.cut_at[ff.n_used] - ff.cut_at[0] >= 254);
        for (int scalar = 0; scalar < 2;
             scalar++) { /* AVX-512 walk (where the CPU has it), scalar */
            kn__simd_off = scalar;
            double out[N] = {0};
            KN_CHECK(kn__flat_predict(&ff, col, P, N, out));
            for (size_t i = 0; i < N; i++) {
                double want = 0;
                for (size_t t = 0; t < TREES; t++) {
                    const kn__node *tree = nodes + offset[t];
                    want += tree[kn__tree_leaf_raw(tree, NULL, col, i)].value;
                }
                assert_true(out[i] == want);
            }
        }
        kn__simd_off = 0;
        kn__flat_free(&ff);
    }
    kn_free(nodes);
    kn_free(x);
}

/* Binary log-loss gradients: the vector and the portable paths give the
 * same bits (every length's tail included), close to the exact sigmoid;
 * quantised values are the single-precision gradients rounded. */
static void logloss_gradients(void **state)
{
    (void)state;
    enum { N = 203 };
    double f[N], y[N], w[N];
    kn_rng rng;
    kn_rng_init(&rng, 11);
    for (size_t i = 0; i < N; i++) {
        f[i] = i < 6 ? (double[]){-800, 800, 0, -0.0, 700.5, -36}[i] : kn_rng_normal(&rng) * 8;
        y[i] = (double)(kn_rng_next(&rng) & 1);
        w[i] = 0.5 + (double)(i % 5);
    }
    float g[2][N], h[2][N];
    int16_t q[2][N][2];
    double gm[2], hm[2];
    for (int weighted = 0; weighted < 2; weighted++)
        for (size_t n = N - 8; n <= N; n++) {
            double ig = weighted ? 32767.0 / 4.5 : 32767.0; /* |g| <= the largest weight */
            for (int off = 0; off < 2; off++) {
                kn__simd_off = off;
                gm[off] = hm[off] = 0;
                kn__logloss_grads(f, y, weighted ? w : NULL, n, g[off], h[off], q[off], ig, 1000.0,
                                  &gm[off], &hm[off]);
            }
            kn__simd_off = 0;
            assert_memory_equal(g[0], g[1], n * sizeof(float));
            assert_memory_equal(h[0], h[1], n * sizeof(float));
            assert_memory_equal(q[0], q[1], n * sizeof q[0][0]);
            assert_true(gm[0] == gm[1] && hm[0] == hm[1]);
            double most = 0;
            for (size_t i = 0; i < n; i++) {
                double wi = weighted ? w[i] : 1, pr = 1 / (1 + exp(-f[i]));
                assert_true(fabs(g[0][i] - wi * (pr - y[i])) <= 1e-6 * wi);
                assert_true(fabs(h[0][i] - wi * fmax(pr * (1 - pr), 1e-16)) <= 1e-6 * wi);
                assert_int_equal(q[0][i][0], (int16_t)lrint(g[0][i] * ig));
                assert_int_equal(q[0][i][1], (int16_t)lrint(h[0][i] * 1000.0));
                most = fmax(most, fabs(wi * (pr - y[i])));
            }
            assert_true(fabs(gm[0] - most) <= 1e-6 * most);
        }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(missing_values),
        cmocka_unit_test(gbdt_deterministic),
        cmocka_unit_test(forests_deterministic),
        cmocka_unit_test(tree_rules),
        cmocka_unit_test(robust_objectives),
        cmocka_unit_test(staged_prediction),
        cmocka_unit_test(monotone_constraints),
        cmocka_unit_test(categorical_splits),
        cmocka_unit_test(tree_missing_values),
        cmocka_unit_test(tree_categorical_splits),
        cmocka_unit_test(bin_edges),
        cmocka_unit_test(flat_walks),
        cmocka_unit_test(logloss_gradients),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
