/* core: the accounting allocator and the memory budget. */
#include "test_util.h"

#include "kiln/log.h"
#include "kiln/mem.h"
#include "kiln/param.h"
#include "kiln/registry.h"
#include "kiln/rng.h"
#include "kiln/stage.h"

#include <math.h>

static void memory_limit_is_enforced(void **state)
{
    (void)state;
    uint64_t base = kn_mem_live();
    void *a = kn_malloc(1000);
    assert_non_null(a);
    assert_true(kn_mem_live() == base + 1000);
    a = kn_realloc(a, 5000);
    assert_true(kn_mem_live() == base + 5000);
    kn_free(a);
    assert_true(kn_mem_live() == base);
    kn_mem_set_limit(base + (1 << 20));
    kn_stage_begin("unit");
    void *big = kn_malloc(2 << 20);
    assert_null(big);
    assert_int_equal(kn_last_status(), KN_ERR_NOMEM);
    assert_non_null(
        strstr(kn_last_error(), "memory limit exceeded in stage 'unit': needed 2.0 MiB"));
    void *ok = kn_malloc(1000);
    assert_non_null(ok);
    kn_free(ok);
    kn_stage_end();
    kn_mem_set_limit(0);
    uint64_t bytes;
    KN_CHECK(kn_mem_parse_size("2G", &bytes));
    assert_true(bytes == 2ull << 30);
    KN_CHECK(kn_mem_parse_size("512MiB", &bytes));
    assert_true(bytes == 512ull << 20);
    KN_CHECK(kn_mem_parse_size("1000", &bytes));
    assert_true(bytes == 1000);
    KN_CHECK_FAILS(kn_mem_parse_size("2X", &bytes), KN_ERR_INVALID, "unknown unit");
    KN_CHECK_FAILS(kn_mem_parse_size("lots", &bytes), KN_ERR_INVALID, "not a number");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(memory_limit_is_enforced),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
