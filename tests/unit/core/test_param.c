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
    const char *name;
    int mode;
    char sep;
    int header;
} test_params;

static const kn_param_def test_defs[] = {
    KN_PARAM_BOOL(test_params, flag, "false", "a flag"),
    KN_PARAM_INT(test_params, n, "5", 1, 10, "a count"),
    KN_PARAM_DOUBLE(test_params, tol, "0.5", 0, 1, "a tolerance"),
    KN_PARAM_STRING(test_params, name, "abc", "a name"),
    KN_PARAM_ENUM(test_params, mode, "skip", "fail|skip|quarantine", "a mode"),
    KN_PARAM_CHAR(test_params, sep, "comma", "a separator"),
    KN_PARAM_ENUM(test_params, header, "auto", "auto|yes|no", "a yes|no choice"),
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
    KN_CHECK(kn_param_set(test_defs, &p, "header=false")); /* a yes|no choice takes bools */
    assert_int_equal(p.header, 2);
    KN_CHECK(kn_param_set(test_defs, &p, "header=True"));
    assert_int_equal(p.header, 1);
    KN_CHECK_FAILS(kn_param_set(test_defs, &p, "mode=true"), KN_ERR_INVALID, "must be one of");
    KN_CHECK_FAILS(
        kn_param_set(test_defs, &p, "nn=3"), KN_ERR_INVALID,
        "unknown parameter 'nn' (did you mean 'n'?); known parameters: flag, n, tol, name, mode, "
        "sep, header");
    KN_CHECK_FAILS(kn_param_set(test_defs, &p, "zzz=3"), KN_ERR_INVALID,
                   "unknown parameter 'zzz'; known parameters:"); /* nothing close: no hint */
    KN_CHECK_FAILS(kn_param_set(test_defs, &p, "TOLL=3"), KN_ERR_INVALID,
                   "unknown parameter 'TOLL' (did you mean 'tol'?)");
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

/* String values have no length limit (a 62-column --types was refused at
 * 1,023 bytes), survive a copy of the struct, and read back whole; a text
 * buffer that is too small is an error, never a cut value. */
static void params_long_strings(void **state)
{
    (void)state;
    test_params p;
    KN_CHECK(kn_param_defaults(test_defs, &p));
    size_t n = 100000;
    char *big = malloc(n + 6);
    assert_non_null(big);
    memcpy(big, "name=", 5);
    for (size_t i = 0; i < n; i++) big[5 + i] = (char)('a' + i % 26);
    big[5 + n] = '\0';
    KN_CHECK(kn_param_set(test_defs, &p, big));
    test_params copy = p;
    KN_CHECK(kn_param_set(test_defs, &p, "name=short"));
    assert_int_equal(strlen(copy.name), n);
    assert_memory_equal(copy.name, big + 5, n);
    assert_string_equal(p.name, "short");
    char *text = kn_param_format(kn_param_find(test_defs, "name"), &copy);
    assert_non_null(text);
    assert_string_equal(text, big);
    kn_free(text);
    char small[16];
    KN_CHECK_FAILS(kn_param_get_text(kn_param_find(test_defs, "name"), &copy, small, sizeof small),
                   KN_ERR_RANGE, "needs 100001 bytes");
    /* a long parameter name is only unknown */
    big[4] = 'x';
    big[1000] = '=';
    KN_CHECK_FAILS(kn_param_set(test_defs, &p, big), KN_ERR_INVALID, "unknown parameter");
    free(big);
}

/* A renamed parameter: its older names set it too (whole names only), and
 * it reads back and is written under its name. */
typedef struct {
    const char *label;
    int64_t n;
} aka_params;

static const kn_param_def aka_defs[] = {
    KN_PARAM_INT(aka_params, n, "1", 0, 9, "a count"),
    KN_PARAM_STRING_AKA(aka_params, label, "", "old|older", "a renamed string"), KN_PARAM_END};

static void params_older_names(void **state)
{
    (void)state;
    aka_params p;
    KN_CHECK(kn_param_defaults(aka_defs, &p));
    KN_CHECK(kn_param_set(aka_defs, &p, "old=x"));
    assert_string_equal(p.label, "x");
    KN_CHECK(kn_param_set(aka_defs, &p, "older=y"));
    assert_string_equal(p.label, "y");
    KN_CHECK(kn_param_set(aka_defs, &p, "label=z"));
    assert_string_equal(p.label, "z");
    assert_ptr_equal(kn_param_find(aka_defs, "old"), &aka_defs[1]);
    assert_null(kn_param_find(aka_defs, "ol"));
    assert_null(kn_param_find(aka_defs, "olde"));
    assert_null(kn_param_find(aka_defs, "old|older"));
    KN_CHECK_FAILS(kn_param_set(aka_defs, &p, "oldest=w"), KN_ERR_INVALID,
                   "unknown parameter 'oldest'; known parameters: n, label");
    char *text = kn_param_format(kn_param_find(aka_defs, "older"), &p);
    assert_non_null(text);
    assert_string_equal(text, "label=z");
    kn_free(text);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(params_set_and_reject),
        cmocka_unit_test(params_long_strings),
        cmocka_unit_test(params_older_names),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
