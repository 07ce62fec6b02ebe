/* The target is never a step's column, and saved steps record their input
 * (the target's name, every input column's type) for `kiln transform`. */
#include "prep_util.h"

static kn_frame *with_target(void)
{
    kn_frame *f = read_as(".csv", "x,code,y\n1,a,10\n2,b,20\n4,a,30\n");
    size_t j;
    KN_CHECK(kn_frame_find(f, "y", &j));
    kn_column_set_role(kn_frame_col(f, j), KN_ROLE_TARGET);
    return f;
}

static void target_is_left_alone(void **state)
{
    (void)state;
    kn_frame *f = with_target();
    /* by default, by type and by pattern: the target is not taken */
    const char *const by_type[] = {"columns=type:numeric", NULL};
    const char *const by_match[] = {"columns=match:^[xy]$", NULL};
    const char *const *sets[] = {NULL, by_type, by_match};
    for (int k = 0; k < 3; k++) {
        kn_frame *g = fit_transform("standard_scaler", sets[k], f);
        const double *y = kn_column_f64(kn_frame_col(g, 2));
        assert_true(y[0] == 10 && y[1] == 20 && y[2] == 30);
        assert_true(kn_column_f64(kn_frame_col(g, 0))[0] < 0); /* x was scaled */
        kn_frame_free(g);
    }
    /* by name: refused, naming the target */
    kn_step *s;
    KN_CHECK(kn_step_new("standard_scaler", &s));
    KN_CHECK(kn_step_set(s, "columns=x,y"));
    KN_CHECK_FAILS(kn_step_fit(s, f), KN_ERR_INVALID, "columns names 'y', the target");
    /* taking it out by name is fine */
    KN_CHECK(kn_step_set(s, "columns=type:numeric,-y"));
    KN_CHECK(kn_step_fit(s, f));
    kn_step_free(s);
    /* target_encoder takes the frame's target when target= is not given */
    kn_frame *g = fit_transform("target_encoder", NULL, f);
    assert_int_equal(kn_column_type(kn_frame_col(g, 1)), KN_COL_NUMERIC);
    kn_frame_free(g);
    kn_frame_free(f);
}

static void saved_steps_record_their_input(void **state)
{
    (void)state;
    kn_frame *f = with_target();
    kn_steps_input *in;
    KN_CHECK(kn_steps_input_of(f, &in));
    kn_step *s;
    KN_CHECK(kn_step_new("onehot_encoder", &s));
    KN_CHECK(kn_step_fit(s, f));
    char path[64];
    snprintf(path, sizeof path, "/tmp/kiln-test-input-%d.kst", (int)getpid());
    KN_CHECK(kn_steps_save_with_input(&s, 1, in, path));
    kn_steps_input_free(in);
    kn_step **loaded;
    size_t n;
    KN_CHECK(kn_steps_load_with_input(path, &loaded, &n, &in));
    assert_int_equal(n, 1);
    assert_non_null(in);
    assert_string_equal(in->target, "y");
    assert_int_equal(in->n_cols, 3);
    assert_string_equal(in->names[1], "code");
    assert_int_equal(in->types[0], KN_COL_NUMERIC);
    assert_int_equal(in->types[1], KN_COL_CATEGORICAL);
    kn_steps_input_free(in);
    /* new data without the target transforms */
    kn_frame *x = read_as(".csv", "x,code\n3,b\n"), *g;
    KN_CHECK(kn_step_transform(loaded[0], x, &g));
    assert_int_equal(kn_frame_n_cols(g), 3); /* x, code_a, code_b */
    kn_frame_free(g);
    kn_frame_free(x);
    kn_step_free(loaded[0]);
    kn_free(loaded);
    /* saved without a record, and read by the plain loader */
    KN_CHECK(kn_steps_save(&s, 1, path));
    KN_CHECK(kn_steps_load_with_input(path, &loaded, &n, &in));
    assert_null(in);
    kn_step_free(loaded[0]);
    kn_free(loaded);
    remove(path);
    kn_step_free(s);
    kn_frame_free(f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(target_is_left_alone),
        cmocka_unit_test(saved_steps_record_their_input),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
