/* learn: what a fit leaves for the fits and scores after it. The outputs
 * on its own training rows (kn__model_keep_fit_output): bit for bit what
 * predicting those rows gives, for every gbdt objective, missing values,
 * categorical splits and sampling; absent when the model predicts with
 * fewer rounds than it ran; dropped by a refit or a parameter; scores
 * from them are the scores from predicting. A fit share
 * (kn__model_use_fit_share): fits sharing one bin once and give the same
 * model bytes as fits without it. */
#include "test_util.h"

#include "kiln/frame.h"
#include "kiln/io.h"
#include "kiln/mem.h"
#include "kiln/model.h"
#include "learn/eval/score-impl.h"
#include "learn/learn-impl.h"

#include <string.h>

static kn_frame *read_data(const char *name)
{
    const char *dir = getenv("KILN_TEST_DATA");
    char path[512];
    snprintf(path, sizeof path, "%s/%s", dir ? dir : "tests/data", name);
    kn_frame *f = NULL;
    KN_CHECK(kn_frame_read(path, NULL, &f, NULL));
    return f;
}

static kn_model *fit_kept(const char *name, const kn_frame *f, const char *target,
                          const char *const *params)
{
    kn_model *m;
    KN_CHECK(kn_model_new(name, &m));
    for (; *params; params++) KN_CHECK(kn_model_set(m, *params));
    kn__model_keep_fit_output(m, 1);
    KN_CHECK(kn_model_fit(m, f, target, NULL));
    return m;
}

/* The fit's outputs are there and equal (bytes) to predicting f again:
 * probabilities for a classifier, predictions for a regressor; its scores
 * from them equal its scores from predicting. */
static void outputs_are_predictions(const kn_model *m, const kn_frame *f)
{
    size_t rows = 0, n = 0;
    const double *kept = kn__model_fit_output(m, &rows);
    assert_non_null(kept);
    assert_int_equal(rows, kn_frame_n_rows(f));
    int classify = kn_model_task(m) == KN_TASK_CLASSIFICATION;
    double *out;
    if (classify)
        KN_CHECK(kn_model_predict_proba(m, f, &out, &n));
    else
        KN_CHECK(kn_model_predict(m, f, &out, &n));
    assert_int_equal(n, rows);
    assert_memory_equal(kept, out, n * (classify ? kn_model_n_classes(m) : 1) * sizeof *out);
    kn_free(out);
    kn_score_opts o = {0};
    kn_scores a, b;
    KN_CHECK(kn_model_score_with(m, f, &o, &a));
    KN_CHECK(kn__model_score_outputs(m, f, &o, NULL, kept, &b));
    assert_true(a.n > 0);
    assert_int_equal(a.n, b.n);
    for (size_t i = 0; i < a.n; i++) {
        assert_string_equal(a.name[i], b.name[i]);
        assert_memory_equal(&a.value[i], &b.value[i], sizeof a.value[i]);
    }
    kn_scores_free(&a);
    kn_scores_free(&b);
}

typedef struct fit_case {
    const char *data, *target;
    const char *params[8];
} fit_case;

static void gbdt_outputs(void **state)
{
    (void)state;
    static const fit_case cases[] = {
        /* binary, numeric */
        {"lending_club.csv", "Class", {"n_estimators=15", NULL}},
        /* binary, categorical features with missing values */
        {"house_votes84.csv", "Class", {"n_estimators=12", "min_samples_leaf=3", NULL}},
        /* softmax, with row and feature sampling */
        {"vehicle.csv", "Class", {"n_estimators=10", "subsample=0.7", "colsample=0.6", NULL}},
        {"wine.csv", "class", {"n_estimators=8", "max_leaves=0", "max_depth=3", NULL}},
        /* the regression objectives */
        {"concrete.csv", "compressive_strength", {"n_estimators=12", NULL}},
        {"concrete.csv", "compressive_strength", {"n_estimators=12", "objective=poisson", NULL}},
        {"concrete.csv",
         "compressive_strength",
         {"n_estimators=12", "objective=absolute_error", NULL}},
        {"concrete.csv", "compressive_strength", {"n_estimators=12", "objective=huber", NULL}},
        {"cps1985.csv", "wage", {"n_estimators=10", "subsample=0.5", NULL}},
    };
    for (size_t c = 0; c < sizeof cases / sizeof *cases; c++) {
        kn_frame *f = read_data(cases[c].data);
        kn_model *m = fit_kept("gbdt", f, cases[c].target, cases[c].params);
        outputs_are_predictions(m, f);
        /* a parameter change drops them, as does a fit not asked for them */
        KN_CHECK(kn_model_set(m, "predict_rounds=3"));
        size_t rows = 1;
        assert_null(kn__model_fit_output(m, &rows));
        assert_int_equal(rows, 0);
        kn__model_keep_fit_output(m, 0);
        KN_CHECK(kn_model_set(m, "predict_rounds=0"));
        KN_CHECK(kn_model_fit(m, f, cases[c].target, NULL));
        assert_null(kn__model_fit_output(m, &rows));
        kn_model_free(m);
        kn_frame_free(f);
    }
}

/* A model that predicts with fewer rounds than its fit ran (early
 * stopping keeps its best round; predict_rounds) leaves no outputs; when
 * the last round was the best, it does. */
static void gbdt_fewer_rounds(void **state)
{
    (void)state;
    kn_frame *f = read_data("lending_club.csv");
    const char *staged[] = {"n_estimators=10", "predict_rounds=4", NULL};
    kn_model *m = fit_kept("gbdt", f, "Class", staged);
    size_t rows = 1;
    assert_null(kn__model_fit_output(m, &rows));
    kn_model_free(m);
    /* a huge learning rate stops early for sure: its loss climbs at once */
    const char *early[] = {"n_estimators=60", "early_stopping_rounds=2", "learning_rate=30", NULL};
    m = fit_kept("gbdt", f, "Class", early);
    assert_null(kn__model_fit_output(m, &rows));
    kn_model_free(m);
    const char *patient[] = {"n_estimators=5", "early_stopping_rounds=50", "learning_rate=0.05",
                             NULL};
    m = fit_kept("gbdt", f, "Class", patient);
    outputs_are_predictions(m, f);
    kn_model_free(m);
    kn_frame_free(f);
}

/* Models without the hook leave nothing: scoring predicts. */
static void other_models_predict(void **state)
{
    (void)state;
    kn_frame *f = read_data("wine.csv");
    const char *none[] = {NULL};
    kn_model *m = fit_kept("logistic_regression", f, "class", none);
    size_t rows = 1;
    assert_null(kn__model_fit_output(m, &rows));
    kn_model_free(m);
    kn_frame_free(f);
}

static unsigned char *model_bytes(const kn_frame *f, const char *target, const char *const *params,
                                  kn__fit_share *share, size_t *len)
{
    kn_model *m;
    KN_CHECK(kn_model_new("gbdt", &m));
    for (; *params; params++) KN_CHECK(kn_model_set(m, *params));
    kn__model_use_fit_share(m, share);
    KN_CHECK(kn_model_fit(m, f, target, NULL));
    unsigned char *b = NULL;
    KN_CHECK(kn_model_encode(m, &b, len));
    kn_model_free(m);
    return b;
}

/* Fits of the same rows with one share: the same bytes as fits without
 * it, whichever fit binned the rows (one stored value per binning); the
 * children of a share are one per key. */
static void gbdt_share(void **state)
{
    (void)state;
    kn_frame *f = read_data("house_votes84.csv");
    const char *a[] = {"n_estimators=6", "learning_rate=0.3", NULL};
    const char *b[] = {"n_estimators=5", "max_leaves=7", "l2=1", NULL};
    const char *c[] = {"n_estimators=5", "max_bins=16", NULL};
    const char *const *runs[] = {a, b, a, c, b, c};
    kn__fit_share *root, *share;
    KN_CHECK(kn__fit_share_new(&root));
    share = kn__fit_share_child(root, "fold 1", 6);
    assert_non_null(share);
    assert_ptr_equal(kn__fit_share_child(root, "fold 1", 6), share);
    assert_ptr_not_equal(kn__fit_share_child(root, "fold 2", 6), share);
    for (size_t r = 0; r < sizeof runs / sizeof *runs; r++) {
        size_t l0, l1;
        unsigned char *alone = model_bytes(f, "Class", runs[r], NULL, &l0);
        unsigned char *shared = model_bytes(f, "Class", runs[r], share, &l1);
        assert_int_equal(l0, l1);
        assert_memory_equal(alone, shared, l0);
        kn_free(alone);
        kn_free(shared);
    }
    kn__fit_share_free(root);
    kn_frame_free(f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(gbdt_outputs),
        cmocka_unit_test(gbdt_fewer_rounds),
        cmocka_unit_test(other_models_predict),
        cmocka_unit_test(gbdt_share),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
