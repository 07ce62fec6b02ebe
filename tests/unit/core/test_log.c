/* core: the logging sink and levels. */
#include "test_util.h"

#include "core/ctx-impl.h"

#include "kiln/log.h"
#include "kiln/mem.h"
#include "kiln/param.h"
#include "kiln/registry.h"
#include "kiln/rng.h"
#include "kiln/stage.h"

#include <math.h>

static int logged;
static char last_msg[256];
static void sink(kn_log_level level, const char *msg, void *user)
{
    (void)level;
    logged += *(int *)user;
    snprintf(last_msg, sizeof last_msg, "%s", msg);
}

static void logging_filters_levels(void **state)
{
    (void)state;
    int one = 1;
    kn_log_set(sink, &one);
    kn_log_set_level(KN_LOG_INFO);
    kn_log(KN_LOG_DEBUG, "hidden");
    kn_log(KN_LOG_INFO, "shown %d", 5);
    assert_int_equal(logged, 1);
    assert_string_equal(last_msg, "shown 5");
    kn_log_set(NULL, NULL);
    kn_log(KN_LOG_ERROR, "dropped");
    assert_int_equal(logged, 1);
    assert_string_equal(kn_log_level_name(KN_LOG_WARN), "warn");
}

/* kn__log_quiet_info: info dropped while the count is above zero (nested),
 * warnings kept, and everything kept at the debug level (--verbose). */
static void quiet_info_nests(void **state)
{
    (void)state;
    int one = 1;
    logged = 0;
    kn_log_set(sink, &one);
    kn_log_set_level(KN_LOG_INFO);
    kn__log_quiet_info(1);
    kn__log_quiet_info(1);
    kn_log(KN_LOG_INFO, "inner fit");
    assert_int_equal(logged, 0);
    kn_log(KN_LOG_WARN, "inner warning");
    assert_int_equal(logged, 1);
    kn__log_quiet_info(-1);
    kn_log(KN_LOG_INFO, "still inner");
    assert_int_equal(logged, 1);
    kn_log_set_level(KN_LOG_DEBUG);
    kn_log(KN_LOG_INFO, "verbose");
    assert_int_equal(logged, 2);
    kn_log_set_level(KN_LOG_INFO);
    kn__log_quiet_info(-1);
    kn_log(KN_LOG_INFO, "outer");
    assert_int_equal(logged, 3);
    assert_string_equal(last_msg, "outer");
    kn_log_set(NULL, NULL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(logging_filters_levels),
        cmocka_unit_test(quiet_info_nests),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
