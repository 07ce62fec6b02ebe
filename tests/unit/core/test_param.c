/* core: parameter tables and the name=value setter. */
#include "test_util.h"

#include "kiln/log.h"
#include "kiln/mem.h"
#include "kiln/param.h"
#include "kiln/registry.h"
#include "kiln/rng.h"
#include "kiln/stage.h"

#include <math.h>

typedef struct {
    int flag;
    int64_t n;
    double tol;
    char name[KN_PARAM_STR_MAX];
    int mode;
    char sep;
} test_params;

static const kn_param_def test_defs[] = {
    KN_PARAM_BOOL(test_params, flag, "false", "a flag"),
    KN_PARAM_INT(test_params, n, "5", 1, 10, "a count"),
    KN_PARAM_DOUBLE(test_params, tol, "0.5", 0, 1, "a tolerance"),
    KN_PARAM_STRING(test_params, name, "abc", "a name"),
    KN_PARAM_ENUM(test_params, mode, "skip", "fail|skip|quarantine", "a mode"),
    KN_PARAM_CHAR(test_params, sep, "comma", "a separator"),
    KN_PARAM_END};

static void params_set_and_reject(void **state)
{
    (void)state;
    test_params p;
    KN_CHECK(kn_param_defaults(test_defs, &p));
    assert_int_equal(p.flag, 0);
    assert_int_equal(p.n, 5);
    assert_true(p.tol == 0.5);
    assert_string_equal(p.name, "abc");
    assert_int_equal(p.mode, 1);
    assert_int_equal(p.sep, ',');
    KN_CHECK(kn_param_set(test_defs, &p, "n=7"));
    assert_int_equal(p.n, 7);
    KN_CHECK(kn_param_set(test_defs, &p, "flag=yes"));
    assert_int_equal(p.flag, 1);
    KN_CHECK(kn_param_set(test_defs, &p, "mode=quarantine"));
    assert_int_equal(p.mode, 2);
    KN_CHECK(kn_param_set(test_defs, &p, "sep=tab"));
    assert_int_equal(p.sep, '\t');
    KN_CHECK_FAILS(kn_param_set(test_defs, &p, "nn=3"), KN_ERR_INVALID,
                   "unknown parameter 'nn'; known parameters: flag, n, tol, name, mode, sep");
    KN_CHECK_FAILS(kn_param_set(test_defs, &p, "n=abc"), KN_ERR_TYPE, "expects an integer");
    KN_CHECK_FAILS(kn_param_set(test_defs, &p, "n=11"), KN_ERR_RANGE, "out of range [1, 10]");
    KN_CHECK_FAILS(kn_param_set(test_defs, &p, "tol=2"), KN_ERR_RANGE, "out of range");
    KN_CHECK_FAILS(kn_param_set(test_defs, &p, "mode=drop"), KN_ERR_INVALID,
                   "must be one of fail|skip|quarantine");
    KN_CHECK_FAILS(kn_param_set(test_defs, &p, "flag=maybe"), KN_ERR_TYPE, "true or false");
    KN_CHECK_FAILS(kn_param_set(test_defs, &p, "novalue"), KN_ERR_INVALID, "name=value");
    assert_int_equal(p.n, 7); /* failed sets change nothing */
    char buf[64];
    KN_CHECK(kn_param_get_text(kn_param_find(test_defs, "mode"), &p, buf, sizeof buf));
    assert_string_equal(buf, "quarantine");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(params_set_and_reject),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
