/* The component contract shared by models and steps (kiln/component.h):
 * parameters from a typed struct, the cross-parameter validate hook run
 * before any work, clone (unfitted and fitted), a model's encoding in
 * memory (the .kmd file's bytes), and per-call prediction options that
 * leave a shared model alone. */
#include "test_util.h"

#include "kiln/component.h"
#include "kiln/frame.h"
#include "kiln/mem.h"
#include "kiln/model.h"
#include "kiln/rng.h"
#include "kiln/step.h"

#include <math.h>
#include <string.h>

/* x0..x(p-1) normal, y a noisy class of x0 - x1 / 2. */
static kn_frame *problem(size_t n, size_t p)
{
    kn_frame *f;
    KN_CHECK(kn_frame_new(&f));
    for (size_t j = 0; j <= p; j++) {
        char name[16];
        snprintf(name, sizeof name, j < p ? "x%zu" : "y", j);
        KN_CHECK(kn_frame_add_column(f, name, KN_COL_NUMERIC, NULL));
    }
    KN_CHECK(kn_frame_resize(f, n));
    kn_rng rng;
    kn_rng_init(&rng, 11);
    for (size_t j = 0; j < p; j++) {
        double *c = kn_column_f64(kn_frame_col(f, j));
        for (size_t i = 0; i < n; i++) c[i] = kn_rng_normal(&rng);
    }
    const double *x0 = kn_column_f64(kn_frame_col(f, 0)), *x1 = kn_column_f64(kn_frame_col(f, 1));
    double *y = kn_column_f64(kn_frame_col(f, p));
    for (size_t i = 0; i < n; i++) y[i] = x0[i] - x1[i] / 2 + kn_rng_normal(&rng) * 0.5 > 0;
    return f;
}

static kn_model *fitted(const char *name, const kn_frame *f, const char *const *params)
{
    kn_model *m;
    KN_CHECK(kn_model_new(name, &m));
    for (; params && *params; params++) KN_CHECK(kn_model_set(m, *params));
    KN_CHECK(kn_model_fit(m, f, "y", NULL));
    return m;
}

static double *probabilities(const kn_model *m, const kn_frame *f, const kn_predict_opts *o,
                             size_t *n)
{
    double *p;
    KN_CHECK(kn_model_predict_proba_with(m, f, o, &p, n));
    return p;
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

/* The parameter `name` of a params struct, by its table entry. */
static void *field(const kn_component *c, void *params, const char *name)
{
    const kn_param_def *d = kn_param_find(c->params, name);
    assert_non_null(d);
    return (char *)params + d->offset;
}

/* A rule across two parameters fails before any work, naming both:
 * random_forest's oob_score needs bootstrap. The frame lacks the target,
 * so any work would fail otherwise. */
static void model_validate_runs_first(void **state)
{
    (void)state;
    kn_model *m;
    KN_CHECK(kn_model_new("random_forest", &m));
    KN_CHECK(kn_model_validate(m));
    KN_CHECK(kn_model_set(m, "oob_score=true"));
    KN_CHECK(kn_model_set(m, "bootstrap=false"));
    KN_CHECK_FAILS(kn_model_validate(m), KN_ERR_INVALID, "oob_score=true needs bootstrap=true");
    kn_frame *f = problem(50, 2);
    KN_CHECK_FAILS(kn_model_fit(m, f, "no_such_target", NULL), KN_ERR_INVALID,
                   "model 'random_forest': oob_score=true needs bootstrap=true");
    KN_CHECK(kn_model_set(m, "bootstrap=true"));
    KN_CHECK(kn_model_fit(m, f, "y", NULL));
    kn_model_free(m);
    kn_frame_free(f);
}

/* A typed params struct: fields checked against the table, the rule
 * across parameters applied, nothing changed on failure. */
static void model_typed_params(void **state)
{
    (void)state;
    kn_model *m;
    KN_CHECK(kn_model_new("random_forest", &m));
    const kn_component *c = kn_registry_find(KN_COMP_MODEL, "random_forest");
    void *p = kn_malloc(c->params_size);
    memcpy(p, kn_model_params(m), c->params_size);
    *(int64_t *)field(c, p, "n_estimators") = 7;
    KN_CHECK(kn_model_set_params(m, p, c->params_size));
    assert_int_equal(*(const int64_t *)field(c, (void *)kn_model_params(m), "n_estimators"), 7);
    *(int64_t *)field(c, p, "n_estimators") = -3; /* out of the table's range */
    KN_CHECK_FAILS(kn_model_set_params(m, p, c->params_size), KN_ERR_RANGE, "n_estimators");
    *(int64_t *)field(c, p, "n_estimators") = 9;
    *(int *)field(c, p, "oob_score") = 1;
    *(int *)field(c, p, "bootstrap") = 0;
    KN_CHECK_FAILS(kn_model_set_params(m, p, c->params_size), KN_ERR_INVALID, "bootstrap");
    assert_int_equal(*(const int64_t *)field(c, (void *)kn_model_params(m), "n_estimators"), 7);
    KN_CHECK_FAILS(kn_model_set_params(m, p, c->params_size - 1), KN_ERR_INVALID, "bytes");
    kn_free(p);
    kn_model_free(m);
}

/* Clones: unfitted keeps the parameters; fitted predicts the same bytes
 * and encodes to the same bytes, and outlives its source. */
static void model_clone(void **state)
{
    (void)state;
    kn_frame *f = problem(400, 3);
    const char *params[] = {"n_estimators=15", "max_leaves=7", NULL};
    kn_model *m = fitted("gbdt", f, params), *u, *c;
    KN_CHECK(kn_model_clone(m, 0, &u));
    KN_CHECK(kn_model_clone(m, 1, &c));
    unsigned char *a, *b;
    size_t la, lb, n1, n2;
    KN_CHECK(kn_model_encode(m, &a, &la));
    KN_CHECK(kn_model_encode(c, &b, &lb));
    assert_int_equal(la, lb);
    assert_memory_equal(a, b, la);
    kn_free(a), kn_free(b);
    double *p1 = probabilities(m, f, NULL, &n1);
    kn_model_free(m); /* the clone owns its own state */
    double *p2 = probabilities(c, f, NULL, &n2);
    assert_memory_equal(p1, p2, 2 * n1 * sizeof *p1);
    /* the unfitted clone: same parameters, no state; fitting it gives the model again */
    KN_CHECK_FAILS(kn_model_predict(u, f, &p2, &n2), KN_ERR_INVALID, "not fitted");
    KN_CHECK(kn_model_fit(u, f, "y", NULL));
    kn_free(p2);
    p2 = probabilities(u, f, NULL, &n2);
    assert_memory_equal(p1, p2, 2 * n1 * sizeof *p1);
    kn_free(p1), kn_free(p2);
    kn_model_free(u), kn_model_free(c);
    kn_frame_free(f);
}

/* The encoding is the file's payload after its version (format 3; the
 * file, format 4, adds the reader settings after it); decoding it gives
 * a model that encodes to the same bytes; the settings survive a file and
 * a clone, not an encoding; an old format-2 file still loads, clones and
 * encodes at today's version. */
static void model_encode_is_the_file(void **state)
{
    (void)state;
    kn_frame *f = problem(300, 2);
    kn_model *m = fitted("logistic_regression", f, NULL), *d, *again_m;
    const char *path = test_write_file(".kmd", "", 0);
    KN_CHECK(kn_model_save(m, path));
    size_t lf, le, l2;
    unsigned char *file = file_bytes(path, &lf), *enc, *again;
    KN_CHECK(kn_model_encode(m, &enc, &le));
    /* file: magic (8), version (4), payload, no reader settings (a u32 0),
     * checksum and end marker (40) */
    assert_int_equal(le - 4 + 4, lf - 12 - 40);
    assert_int_equal(enc[0], 3);
    assert_int_equal(file[8], 4);
    assert_memory_equal(enc + 4, file + 12, le - 4);
    assert_memory_equal(file + 12 + le - 4, "\0\0\0\0", 4);
    KN_CHECK(kn_model_decode(enc, le, &d));
    KN_CHECK(kn_model_encode(d, &again, &l2));
    kn_model_free(d);
    assert_int_equal(le, l2);
    assert_memory_equal(enc, again, le);
    KN_CHECK_FAILS(kn_model_decode(enc, le - 3, &d), KN_ERR_CORRUPT, "model buffer");
    enc[0] = 99; /* a newer format */
    KN_CHECK_FAILS(kn_model_decode(enc, le, &d), KN_ERR_VERSION, "newer");
    kn_free(file), kn_free(enc), kn_free(again);
    assert_null(kn_model_read_settings(m));
    KN_CHECK(kn_model_set_read_settings(m, "decimal=,\ndelimiter=;"));
    KN_CHECK(kn_model_save(m, path));
    KN_CHECK(kn_model_load(path, &d));
    assert_string_equal(kn_model_read_settings(d), "decimal=,\ndelimiter=;");
    kn_model *c2;
    KN_CHECK(kn_model_clone(d, 1, &c2));
    assert_string_equal(kn_model_read_settings(c2), "decimal=,\ndelimiter=;");
    KN_CHECK(kn_model_encode(d, &enc, &le));
    KN_CHECK(kn_model_decode(enc, le, &again_m));
    assert_null(kn_model_read_settings(again_m)); /* an artifact keeps its own */
    kn_free(enc);
    kn_model_free(again_m), kn_model_free(c2), kn_model_free(d);
    kn_model_free(m);
    unlink(path);

    char old[512];
    snprintf(old, sizeof old, "%s/gbdt_format2.kmd", getenv("KILN_TEST_DATA"));
    KN_CHECK(kn_model_load(old, &m));
    kn_model *c;
    KN_CHECK(kn_model_clone(m, 1, &c));
    KN_CHECK(kn_model_encode(c, &enc, &le));
    assert_int_equal(enc[0], 3); /* re-encoded at today's format */
    kn_free(enc);
    kn_model_free(c), kn_model_free(m);
    kn_frame_free(f);
}

/* Per-call rounds predict what a model of that many rounds does, and the
 * shared model is left as it was (its own predictions and encoding). */
static void predict_opts_leave_the_model_alone(void **state)
{
    (void)state;
    kn_frame *f = problem(500, 3);
    const char *all[] = {"n_estimators=30", "max_leaves=7", NULL};
    const char *first[] = {"n_estimators=12", "max_leaves=7", NULL};
    kn_model *m = fitted("gbdt", f, all), *m12 = fitted("gbdt", f, first);
    unsigned char *before, *after;
    size_t lb, la, n;
    KN_CHECK(kn_model_encode(m, &before, &lb));
    double *full = probabilities(m, f, NULL, &n);
    kn_predict_opts o = {.rounds = 12};
    double *a = probabilities(m, f, &o, &n), *b = probabilities(m12, f, NULL, &n);
    assert_memory_equal(a, b, 2 * n * sizeof *a);
    kn_free(b);
    b = probabilities(m, f, NULL, &n);
    assert_memory_equal(full, b, 2 * n * sizeof *b);
    KN_CHECK(kn_model_encode(m, &after, &la));
    assert_int_equal(la, lb);
    assert_memory_equal(before, after, la);
    double *pred;
    KN_CHECK(kn_model_predict_with(m, f, &o, &pred, &n));
    for (size_t i = 0; i < n; i++) assert_true(pred[i] == (a[2 * i + 1] > a[2 * i] ? 1 : 0));
    kn_free(pred);
    kn_model *t = fitted("decision_tree", f, NULL);
    KN_CHECK_FAILS(kn_model_predict_with(t, f, &o, &pred, &n), KN_ERR_UNSUPPORTED, "not boosted");
    kn_model_free(t);
    kn_free(a), kn_free(b), kn_free(full), kn_free(before), kn_free(after);
    kn_model_free(m), kn_model_free(m12);
    kn_frame_free(f);
}

/* Steps: minmax_scaler's min/max rule fails before column selection (the
 * column named does not exist); clones transform alike. */
static void step_validate_and_clone(void **state)
{
    (void)state;
    kn_frame *f = problem(60, 2);
    kn_step *s, *u, *c;
    KN_CHECK(kn_step_new("minmax_scaler", &s));
    KN_CHECK(kn_step_set(s, "min=2"));
    KN_CHECK(kn_step_set(s, "max=1"));
    KN_CHECK(kn_step_set(s, "columns=absent"));
    KN_CHECK_FAILS(kn_step_validate(s), KN_ERR_RANGE, "min (2) must be below max (1)");
    KN_CHECK_FAILS(kn_step_fit(s, f), KN_ERR_RANGE, "step 'minmax_scaler': min (2)");
    kn_step_free(s);

    KN_CHECK(kn_step_new("robust_scaler", &s));
    KN_CHECK(kn_step_set(s, "q_low=80"));
    KN_CHECK(kn_step_set(s, "q_high=20"));
    KN_CHECK_FAILS(kn_step_validate(s), KN_ERR_RANGE, "q_low (80) must be below q_high (20)");
    kn_step_free(s);

    KN_CHECK(kn_step_new("standard_scaler", &s));
    KN_CHECK(kn_step_set(s, "columns=x1"));
    KN_CHECK(kn_step_fit(s, f));
    KN_CHECK(kn_step_clone(s, 0, &u));
    KN_CHECK(kn_step_clone(s, 1, &c));
    assert_false(kn_step_is_fitted(u));
    assert_true(kn_step_is_fitted(c));
    kn_frame *a, *b, *d;
    KN_CHECK(kn_step_transform(s, f, &a));
    kn_step_free(s);
    KN_CHECK(kn_step_transform(c, f, &b));
    KN_CHECK(kn_step_fit(u, f)); /* same parameters: columns=x1 */
    KN_CHECK(kn_step_transform(u, f, &d));
    size_t rows = kn_frame_n_rows(f);
    for (size_t j = 0; j < 3; j++) {
        assert_memory_equal(kn_column_f64(kn_frame_col(a, j)), kn_column_f64(kn_frame_col(b, j)),
                            rows * sizeof(double));
        assert_memory_equal(kn_column_f64(kn_frame_col(a, j)), kn_column_f64(kn_frame_col(d, j)),
                            rows * sizeof(double));
    }
    kn_frame_free(a), kn_frame_free(b), kn_frame_free(d);
    kn_step_free(u), kn_step_free(c);
    kn_frame_free(f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(model_validate_runs_first),
        cmocka_unit_test(model_typed_params),
        cmocka_unit_test(model_clone),
        cmocka_unit_test(model_encode_is_the_file),
        cmocka_unit_test(predict_opts_leave_the_model_alone),
        cmocka_unit_test(step_validate_and_clone),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
