/* Ensembles of pipelines (kiln/pipeline.h, ensemble.c) on real data
 * (cps1985: wages with text columns): a soft vote equals its members'
 * mean probabilities computed by hand, bit for bit; the encoding round-
 * trips, is deterministic, and refuses every cut; clones copy the members;
 * one row takes the frame path; the transform is the members' outputs; bad
 * ensembles fail before any fit. */
#include "test_util.h"

#include "kiln/io.h"
#include "kiln/mem.h"
#include "kiln/pipeline.h"

#include <math.h>
#include <string.h>

static kn_frame *read_data(const char *name)
{
    char path[512];
    const char *dir = getenv("KILN_TEST_DATA");
    snprintf(path, sizeof path, "%s/%s", dir ? dir : "tests/data", name);
    kn_read_opts o;
    kn_read_opts_default(&o);
    kn_frame *f = NULL;
    KN_CHECK(kn_frame_read(path, &o, &f, NULL));
    return f;
}

/* Member 0: one-hot, scaler, logistic regression (or ridge); member 1:
 * ordinal codes and a depth-4 tree. */
static kn_pipeline *member(int which, int regress)
{
    kn_pipeline *p = NULL;
    KN_CHECK(kn_pipeline_new(&p));
    if (which == 0) {
        KN_CHECK(kn_pipeline_add_step_spec(p, "onehot_encoder:handle_unknown=ignore"));
        KN_CHECK(kn_pipeline_add_step_spec(p, "standard_scaler"));
        KN_CHECK(kn_pipeline_set_model_spec(p, regress ? "ridge" : "logistic_regression", NULL, 0));
    } else {
        KN_CHECK(kn_pipeline_add_step_spec(
            p, "ordinal_encoder:handle_unknown=use_encoded_value;unknown_value=-1"));
        const char *depth = "max_depth=4";
        KN_CHECK(kn_pipeline_set_model_spec(p, "decision_tree", &depth, 1));
    }
    return p;
}

static kn_pipeline *ensemble(kn_ensemble_method how, const char *target, int regress)
{
    kn_pipeline *p = NULL;
    KN_CHECK(kn_pipeline_new(&p));
    KN_CHECK(kn_pipeline_add_member(p, member(0, regress)));
    KN_CHECK(kn_pipeline_add_member(p, member(1, regress)));
    if (how == KN_ENSEMBLE_STACKING)
        KN_CHECK(kn_pipeline_set_model_spec(p, regress ? "ridge" : "logistic_regression", NULL, 0));
    KN_CHECK(kn_pipeline_set_ensemble(p, how, 4, 7));
    KN_CHECK(kn_pipeline_set_target(p, target, NULL));
    return p;
}

/* A soft vote's probabilities are its members' mean, each member fitted
 * alone as a pipeline; its transform is their outputs. */
static void test_soft_vote_by_hand(void **state)
{
    (void)state;
    kn_frame *f = read_data("cps1985.csv");
    kn_pipeline *p = ensemble(KN_ENSEMBLE_SOFT_VOTE, "union", 0);
    KN_CHECK(kn_pipeline_fit(p, f, NULL));
    assert_int_equal(kn_pipeline_n_members(p), 2);
    assert_int_equal(kn_pipeline_ensemble(p), KN_ENSEMBLE_SOFT_VOTE);
    double *got = NULL, *a = NULL, *b = NULL, *cls = NULL;
    size_t n = 0, na = 0, nb = 0, nc = 0;
    KN_CHECK(kn_pipeline_predict_proba(p, f, &got, &n));
    kn_pipeline *m0 = member(0, 0), *m1 = member(1, 0);
    KN_CHECK(kn_pipeline_set_target(m0, "union", NULL));
    KN_CHECK(kn_pipeline_set_target(m1, "union", NULL));
    KN_CHECK(kn_pipeline_fit(m0, f, NULL));
    KN_CHECK(kn_pipeline_fit(m1, f, NULL));
    KN_CHECK(kn_pipeline_predict_proba(m0, f, &a, &na));
    KN_CHECK(kn_pipeline_predict_proba(m1, f, &b, &nb));
    assert_int_equal(n, kn_frame_n_rows(f));
    assert_int_equal(na, n);
    assert_int_equal(nb, n);
    for (size_t i = 0; i < 2 * n; i++) assert_true(got[i] == (a[i] + b[i]) / 2);
    KN_CHECK(kn_pipeline_predict(p, f, &cls, &nc));
    for (size_t i = 0; i < n; i++) assert_true(cls[i] == (got[2 * i + 1] > got[2 * i] ? 1 : 0));
    /* the transform: member1:no, member1:yes, member2:no, member2:yes and the target */
    kn_frame *t = NULL;
    size_t j;
    KN_CHECK(kn_pipeline_transform(p, f, &t));
    assert_int_equal(kn_frame_n_cols(t), 5);
    KN_CHECK(kn_frame_find(t, "member2:yes", &j));
    for (size_t i = 0; i < n; i++)
        assert_true(kn_column_f64(kn_frame_col(t, j))[i] == b[2 * i + 1]);
    KN_CHECK(kn_frame_find(t, "union", &j));
    /* one row takes the frame path: no row predictor, the same answer */
    kn_row_predictor *rp = NULL;
    KN_CHECK_FAILS(kn_row_predictor_new(p, NULL, &rp), KN_ERR_UNSUPPORTED, "frame");
    size_t row = 17;
    kn_frame *one = NULL;
    double *po = NULL;
    size_t no = 0;
    KN_CHECK(kn_frame_select_rows(f, &row, 1, &one));
    KN_CHECK(kn_pipeline_predict_proba(p, one, &po, &no));
    assert_int_equal(no, 1);
    assert_true(po[0] == got[2 * row] && po[1] == got[2 * row + 1]);
    kn_free(po);
    kn_frame_free(one);
    kn_frame_free(t);
    kn_free(got), kn_free(a), kn_free(b), kn_free(cls);
    kn_pipeline_free(m0);
    kn_pipeline_free(m1);
    kn_pipeline_free(p);
    kn_frame_free(f);
}

/* Encoding: decode(encode) predicts the same and encodes to the same
 * bytes; a refit of an unfitted clone gives the same bytes; every cut of
 * the bytes fails cleanly; a pipeline without members stays format 1. */
static void test_encode_clone(void **state)
{
    (void)state;
    kn_frame *f = read_data("cps1985.csv");
    for (int regress = 0; regress < 2; regress++) {
        kn_pipeline *p = ensemble(KN_ENSEMBLE_STACKING, regress ? "wage" : "occupation", regress);
        KN_CHECK(kn_pipeline_fit(p, f, NULL));
        unsigned char *buf = NULL, *again = NULL, *refit = NULL;
        size_t len = 0, len2 = 0, len3 = 0;
        KN_CHECK(kn_pipeline_encode(p, &buf, &len));
        uint32_t version;
        memcpy(&version, buf, 4);
        assert_int_equal(version, 2);
        kn_pipeline *q = NULL, *c = NULL;
        KN_CHECK(kn_pipeline_decode(buf, len, "test", &q));
        assert_int_equal(kn_pipeline_n_members(q), 2);
        KN_CHECK(kn_pipeline_encode(q, &again, &len2));
        assert_int_equal(len, len2);
        assert_memory_equal(buf, again, len);
        double *x = NULL, *y = NULL;
        size_t nx = 0, ny = 0;
        KN_CHECK(kn_pipeline_predict(p, f, &x, &nx));
        KN_CHECK(kn_pipeline_predict(q, f, &y, &ny));
        assert_int_equal(nx, ny);
        assert_memory_equal(x, y, nx * sizeof *x);
        KN_CHECK(kn_pipeline_clone(p, 0, &c));
        assert_false(kn_pipeline_is_fitted(c));
        assert_int_equal(kn_pipeline_n_members(c), 2);
        assert_int_equal(kn_pipeline_ensemble(c), KN_ENSEMBLE_STACKING);
        KN_CHECK(kn_pipeline_fit(c, f, NULL));
        KN_CHECK(kn_pipeline_encode(c, &refit, &len3));
        assert_int_equal(len, len3);
        assert_memory_equal(buf, refit, len);
        /* every cut (a stride over the body, every byte of the tail) */
        for (size_t cut = 0; cut < len; cut += cut + 400 < len ? 97 : 1) {
            kn_pipeline *bad = NULL;
            kn_status e = kn_pipeline_decode(buf, cut, "cut", &bad);
            assert_int_not_equal(e, KN_OK);
            assert_null(bad);
        }
        kn_free(x), kn_free(y), kn_free(buf), kn_free(again), kn_free(refit);
        kn_pipeline_free(q);
        kn_pipeline_free(c);
        kn_pipeline_free(p);
    }
    /* a member pipeline alone is format 1, as before */
    kn_pipeline *m = member(0, 1);
    unsigned char *buf = NULL;
    size_t len = 0;
    uint32_t version;
    KN_CHECK(kn_pipeline_set_target(m, "wage", NULL));
    KN_CHECK(kn_pipeline_fit(m, f, NULL));
    KN_CHECK(kn_pipeline_encode(m, &buf, &len));
    memcpy(&version, buf, 4);
    assert_int_equal(version, 1);
    kn_pipeline *back = NULL; /* and format 1 still reads */
    KN_CHECK(kn_pipeline_decode(buf, len, "format 1", &back));
    assert_int_equal(kn_pipeline_n_members(back), 0);
    assert_int_equal(kn_pipeline_ensemble(back), KN_ENSEMBLE_NONE);
    kn_pipeline_free(back);
    kn_free(buf);
    kn_pipeline_free(m);
    kn_frame_free(f);
}

/* Bad ensembles fail before any fit, naming the fix. */
static void test_errors(void **state)
{
    (void)state;
    kn_frame *f = read_data("cps1985.csv");
    kn_pipeline *p = NULL, *bare = NULL;
    KN_CHECK(kn_pipeline_new(&p));
    KN_CHECK(kn_pipeline_add_member(p, member(0, 0)));
    KN_CHECK(kn_pipeline_set_ensemble(p, KN_ENSEMBLE_SOFT_VOTE, 0, 0));
    KN_CHECK(kn_pipeline_set_target(p, "union", NULL));
    KN_CHECK_FAILS(kn_pipeline_fit(p, f, NULL), KN_ERR_INVALID, "at least two");
    KN_CHECK(kn_pipeline_new(&bare)); /* a member without a model */
    KN_CHECK(kn_pipeline_add_step_spec(bare, "standard_scaler"));
    KN_CHECK(kn_pipeline_add_member(p, bare));
    KN_CHECK_FAILS(kn_pipeline_fit(p, f, NULL), KN_ERR_INVALID, "member 2 has no model");
    kn_pipeline_free(p);
    /* a vote of classes on a continuous target; the mean of classes */
    p = ensemble(KN_ENSEMBLE_HARD_VOTE, "wage", 0);
    KN_CHECK_FAILS(kn_pipeline_fit(p, f, NULL), KN_ERR_INVALID, "use method: mean");
    kn_pipeline_free(p);
    p = ensemble(KN_ENSEMBLE_MEAN, "union", 1);
    KN_CHECK_FAILS(kn_pipeline_fit(p, f, NULL), KN_ERR_TYPE, "mean averages values (hard_vote");
    kn_pipeline_free(p);
    /* a regressor member in a classification ensemble */
    p = ensemble(KN_ENSEMBLE_HARD_VOTE, "union", 1);
    KN_CHECK_FAILS(kn_pipeline_fit(p, f, NULL), KN_ERR_INVALID, "member 1 (ridge) is a regressor");
    kn_pipeline_free(p);
    /* an ensemble is not a member; a method out of range */
    KN_CHECK(kn_pipeline_new(&p));
    kn_pipeline *inner = ensemble(KN_ENSEMBLE_SOFT_VOTE, "union", 0);
    KN_CHECK_FAILS(kn_pipeline_add_member(p, inner), KN_ERR_INVALID, "not an ensemble itself");
    KN_CHECK_FAILS(kn_pipeline_set_ensemble(p, (kn_ensemble_method)9, 0, 0), KN_ERR_INVALID,
                   "stacking (4)");
    kn_pipeline_free(p);
    kn_frame_free(f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_soft_vote_by_hand),
        cmocka_unit_test(test_encode_clone),
        cmocka_unit_test(test_errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
