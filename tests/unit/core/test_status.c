/* core: status codes and the per-thread last error. */
#include "test_util.h"

#include "kiln/log.h"
#include "kiln/mem.h"
#include "kiln/param.h"
#include "kiln/registry.h"
#include "kiln/rng.h"
#include "kiln/stage.h"

#include <math.h>

static void status_names(void **state)
{
    (void)state;
    assert_string_equal(kn_status_name(KN_OK), "KN_OK");
    assert_string_equal(kn_status_name(KN_ERR_NOMEM), "KN_ERR_NOMEM");
    assert_string_equal(kn_status_str(KN_ERR_PARSE), "malformed input");
    assert_string_equal(kn_status_name((kn_status)999), "KN_UNKNOWN");
    assert_int_equal(KN_ERR_INTERNAL, 11);
    assert_int_equal(KN_ERR_CANCELLED, 12);
    assert_string_equal(kn_status_str(KN_ERR_CANCELLED), "cancelled");
}

static void last_error_is_kept_and_prefixed(void **state)
{
    (void)state;
    kn_clear_error();
    assert_string_equal(kn_last_error(), "");
    assert_int_equal(kn_fail(KN_ERR_PARSE, "x.csv:%d:%d: bad", 3, 7), KN_ERR_PARSE);
    assert_string_equal(kn_last_error(), "x.csv:3:7: bad");
    assert_int_equal(kn_last_status(), KN_ERR_PARSE);
    kn_fail_prefix(KN_ERR_IO, "reading %s: ", "x.csv");
    assert_string_equal(kn_last_error(), "reading x.csv: x.csv:3:7: bad");
    assert_int_equal(kn_last_status(), KN_ERR_IO);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(status_names),
        cmocka_unit_test(last_error_is_kept_and_prefixed),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
