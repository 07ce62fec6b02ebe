/* Components added from outside the library through the public API only
 * (public kiln/ headers only, no internal header): a toy model ("weighted_mean": predicts
 * the training target's mean, shrunk towards `prior` by `strength`) and a
 * toy step ("shift": adds `by` to numeric columns) are registered with
 * kn_registry_add, then set by name, validated across parameters, fitted
 * in a pipeline, encoded, decoded and cloned like the builtins; a toy
 * reader ("numbers": one number per line) reads whole and by batches. */
#include "test_util.h"

#include "kiln/init.h"
#include "kiln/io.h"
#include "kiln/mem.h"
#include "kiln/pipeline.h"
#include "kiln/reader.h"
#include "kiln/registry.h"

#include <math.h>

/* ---- the model ---- */
typedef struct mean_params {
    double prior, strength;
    int64_t ignored_rows; /* a second parameter for the cross-parameter rule */
} mean_params;

static const kn_param_def mean_defs[] = {
    KN_PARAM_DOUBLE(mean_params, prior, "0", -1e300, 1e300, "value shrunk towards"),
    KN_PARAM_DOUBLE(mean_params, strength, "0", 0, 1e9, "pseudo-rows at the prior"),
    KN_PARAM_INT(mean_params, ignored_rows, "0", 0, 1000000, "leading rows left out"),
    KN_PARAM_END};

static kn_status mean_validate(const void *params)
{
    const mean_params *p = params;
    if (p->ignored_rows > 0 && p->strength == 0)
        return kn_fail(KN_ERR_INVALID, "ignored_rows=%lld needs strength > 0",
                       (long long)p->ignored_rows);
    return KN_OK;
}

static kn_status mean_fit(kn_model *m, const kn_dataset *d)
{
    const mean_params *p = kn_model_params(m);
    double *state = kn_malloc(sizeof *state), sum = 0;
    if (!state) return KN_ERR_NOMEM;
    size_t used = 0;
    for (size_t i = (size_t)p->ignored_rows; i < d->n; i++) sum += d->y[i], used++;
    *state = (sum + p->strength * p->prior) / ((double)used + p->strength);
    kn_model_set_state(m, state);
    return KN_OK;
}

static kn_status mean_predict(const kn_model *m, const kn_dataset *d, double *out)
{
    const double *mean = kn_model_state(m);
    for (size_t i = 0; i < d->n; i++) out[i] = *mean;
    return KN_OK;
}

static kn_status mean_save(const kn_model *m, kn_wbuf *w)
{
    kn_wbuf_f64(w, *(const double *)kn_model_state(m));
    return kn_wbuf_status(w);
}

static kn_status mean_load(kn_model *m, kn_rbuf *r)
{
    double *state = kn_malloc(sizeof *state);
    if (!state) return KN_ERR_NOMEM;
    kn_status e = kn_rbuf_f64(r, state);
    if (e != KN_OK) {
        kn_free(state);
        return e;
    }
    kn_model_set_state(m, state);
    return KN_OK;
}

static const kn_model_vt mean_vt = {.task = KN_TASK_REGRESSION,
                                    .fit = mean_fit,
                                    .predict = mean_predict,
                                    .free_state = kn_free,
                                    .save = mean_save,
                                    .load = mean_load,
                                    .validate = mean_validate};

static const kn_component mean_model = {KN_COMP_MODEL, "weighted_mean",     "the target's mean",
                                        mean_defs,     sizeof(mean_params), &mean_vt};

/* ---- the step ---- */
typedef struct shift_params {
    kn_step_common common; /* first: the parameters every step has */
    double by;
} shift_params;

static const kn_param_def shift_defs[] = {
    KN_STEP_COMMON_PARAMS(shift_params),
    KN_PARAM_DOUBLE(shift_params, by, "1", -1e300, 1e300, "added to every value"), KN_PARAM_END};

static kn_status shift_fit(kn_step *s, const kn_frame *x, const size_t *cols, size_t n)
{
    (void)x, (void)cols, (void)n;
    int *fitted = kn_malloc(sizeof *fitted);
    if (!fitted) return KN_ERR_NOMEM;
    *fitted = 1;
    kn_step_set_state(s, fitted);
    return KN_OK;
}

static kn_status shift_transform(const kn_step *s, kn_frame *out, const size_t *cols, size_t n)
{
    const shift_params *p = kn_step_params(s);
    for (size_t k = 0; k < n; k++) {
        double *v = kn_column_f64(kn_frame_col(out, cols[k]));
        for (size_t i = 0; i < kn_frame_n_rows(out); i++) v[i] += p->by;
    }
    return KN_OK;
}

static kn_status shift_save(const kn_step *s, kn_wbuf *w)
{
    (void)s, (void)w;
    return KN_OK;
}

static kn_status shift_load(kn_step *s, kn_rbuf *r, size_t n)
{
    (void)r, (void)n;
    return shift_fit(s, NULL, NULL, 0);
}

static const kn_step_vt shift_vt = {.default_type = KN_COL_NUMERIC,
                                    .fit = shift_fit,
                                    .transform = shift_transform,
                                    .free_state = kn_free,
                                    .save = shift_save,
                                    .load = shift_load};

static const kn_component shift_step = {
    KN_COMP_STEP, "shift", "adds a constant", shift_defs, sizeof(shift_params), &shift_vt};

/* ---- the reader: one number per line, a column "v" ---- */
typedef struct numbers_state {
    FILE *fp;
    size_t batch_rows;
    kn_read_report *report;
} numbers_state;

static kn_status numbers_schema(kn_frame **out)
{
    kn_status e = kn_frame_new(out);
    if (e == KN_OK) e = kn_frame_add_column(*out, "v", KN_COL_NUMERIC, NULL);
    return e;
}

static kn_status numbers_open(const char *path, const kn_read_opts *opts, size_t batch_rows,
                              kn_read_report *report, void **state, kn_frame **schema)
{
    (void)opts;
    numbers_state *s = kn_calloc(1, sizeof *s);
    if (!s) return KN_ERR_NOMEM;
    if (!(s->fp = fopen(path, "r"))) {
        kn_free(s);
        return kn_fail(KN_ERR_IO, "cannot open %s", path);
    }
    s->batch_rows = batch_rows;
    s->report = report;
    kn_status e = numbers_schema(schema);
    if (e != KN_OK) {
        fclose(s->fp);
        kn_free(s);
        return e;
    }
    *state = s;
    return KN_OK;
}

static kn_status numbers_next(void *state, kn_frame **batch)
{
    numbers_state *s = state;
    kn_frame *f = NULL;
    kn_status e = numbers_schema(&f);
    double v;
    size_t n = 0;
    while (e == KN_OK && n < s->batch_rows && fscanf(s->fp, "%lf", &v) == 1) {
        e = kn_frame_resize(f, n + 1);
        if (e == KN_OK) kn_column_f64(kn_frame_col(f, 0))[n++] = v;
    }
    s->report->rows_read += n;
    s->report->rows_kept += n;
    if (e != KN_OK || n == 0) {
        kn_frame_free(f);
        f = NULL;
    }
    *batch = f;
    return e;
}

static void numbers_close(void *state)
{
    numbers_state *s = state;
    fclose(s->fp);
    kn_free(s);
}

static const kn_reader_vt numbers_vt = {numbers_open, numbers_next, numbers_close};
static const kn_component numbers_reader = {KN_COMP_READER, "numbers", "one number per line",
                                            NULL,           0,         &numbers_vt};

static int setup(void **state)
{
    (void)state;
    kn_init();
    if (kn_registry_add(&mean_model) != KN_OK || kn_registry_add(&shift_step) != KN_OK ||
        kn_registry_add(&numbers_reader) != KN_OK)
        return -1;
    return 0;
}

static kn_frame *small_frame(void)
{
    kn_frame *f = NULL;
    kn_column *x = NULL, *y = NULL;
    KN_CHECK(kn_frame_new(&f));
    KN_CHECK(kn_frame_add_column(f, "x", KN_COL_NUMERIC, &x));
    KN_CHECK(kn_frame_add_column(f, "y", KN_COL_NUMERIC, &y));
    KN_CHECK(kn_frame_resize(f, 4));
    for (size_t i = 0; i < 4; i++) {
        kn_column_f64(x)[i] = (double)i;
        kn_column_f64(y)[i] = 10.0 * (double)(i + 1); /* 10 20 30 40 */
    }
    return f;
}

static void test_toy_model_and_step(void **state)
{
    (void)state;
    assert_non_null(kn_registry_find(KN_COMP_MODEL, "weighted_mean"));
    assert_non_null(kn_registry_find(KN_COMP_STEP, "shift"));
    kn_frame *f = small_frame();
    kn_pipeline *p = NULL;
    KN_CHECK(kn_pipeline_new(&p));
    KN_CHECK(kn_pipeline_add_step_spec(p, "shift:columns=x;by=2.5"));
    const char *params[] = {"prior=0", "strength=1", "ignored_rows=1"};
    KN_CHECK(kn_pipeline_set_model_spec(p, "weighted_mean", params, 3));
    KN_CHECK(kn_pipeline_set_target(p, "y", NULL));
    kn_frame *prepared = NULL;
    KN_CHECK(kn_pipeline_fit(p, f, &prepared));
    size_t j;
    KN_CHECK(kn_frame_find(prepared, "x", &j));
    assert_true(kn_column_f64(kn_frame_col(prepared, j))[3] == 5.5);
    double *y = NULL;
    size_t n = 0;
    KN_CHECK(kn_pipeline_predict(p, f, &y, &n));
    assert_int_equal(n, 4);
    assert_true(fabs(y[0] - 90.0 / 4.0) < 1e-12); /* (20+30+40+0)/(3+1) */
    kn_free(y);

    /* encoded, decoded, cloned like a builtin */
    unsigned char *buf = NULL;
    size_t len = 0;
    kn_pipeline *back = NULL, *fresh = NULL;
    KN_CHECK(kn_pipeline_encode(p, &buf, &len));
    KN_CHECK(kn_pipeline_decode(buf, len, "toy", &back));
    KN_CHECK(kn_pipeline_predict(back, f, &y, &n));
    assert_true(fabs(y[2] - 22.5) < 1e-12);
    kn_free(y);
    KN_CHECK(kn_pipeline_clone(p, 0, &fresh));
    assert_false(kn_pipeline_is_fitted(fresh));
    KN_CHECK(kn_pipeline_fit(fresh, f, NULL));
    KN_CHECK(kn_pipeline_predict(fresh, f, &y, &n));
    assert_true(fabs(y[1] - 22.5) < 1e-12);
    kn_free(y);

    /* its parameter table and cross-parameter rule apply as for builtins */
    kn_model *m = NULL;
    KN_CHECK(kn_model_new("weighted_mean", &m));
    KN_CHECK_FAILS(kn_model_set(m, "strength=-1"), KN_ERR_RANGE, "strength");
    KN_CHECK(kn_model_set(m, "ignored_rows=2"));
    KN_CHECK_FAILS(kn_model_fit(m, f, "y", NULL), KN_ERR_INVALID, "needs strength > 0");
    kn_model_free(m);

    kn_free(buf);
    kn_frame_free(prepared);
    kn_pipeline_free(p);
    kn_pipeline_free(back);
    kn_pipeline_free(fresh);
    kn_frame_free(f);
}

static void test_toy_reader(void **state)
{
    (void)state;
    const char *path = test_write_file(".txt", "1\n2.5\n4\n8\n16\n", 14);
    kn_read_opts o;
    kn_read_opts_default(&o);
    o.format = "numbers";
    kn_frame *f = NULL;
    KN_CHECK(kn_frame_read(path, &o, &f, NULL));
    assert_int_equal(kn_frame_n_rows(f), 5);
    assert_true(kn_column_f64(kn_frame_col(f, 0))[1] == 2.5);
    kn_frame_free(f);
    kn_reader *rd = NULL;
    KN_CHECK(kn_reader_open(path, &o, 2, &rd));
    size_t batches = 0, rows = 0;
    kn_frame *b = NULL;
    while (kn_reader_next(rd, &b) == KN_OK && b) {
        batches++;
        rows += kn_frame_n_rows(b);
        kn_frame_free(b);
    }
    assert_int_equal(batches, 3);
    assert_int_equal(rows, 5);
    assert_int_equal(kn_reader_report(rd)->rows_read, 5);
    kn_reader_close(rd);
    remove(path);
}

int main(void)
{
    const struct CMUnitTest tests[] = {cmocka_unit_test(test_toy_model_and_step),
                                       cmocka_unit_test(test_toy_reader)};
    return cmocka_run_group_tests(tests, setup, NULL);
}
