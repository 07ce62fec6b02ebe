/* core: per-stage resource records. */
#include "test_util.h"

#include "kiln/log.h"
#include "kiln/mem.h"
#include "kiln/param.h"
#include "kiln/registry.h"
#include "kiln/rng.h"
#include "kiln/stage.h"

#include <math.h>

static void stages_record_resources(void **state)
{
    (void)state;
    kn_stage_reset();
    kn_stage_begin("work");
    volatile double x = 0;
    for (int i = 0; i < 2000000; i++) x += i * 0.5;
    /* every page written through a volatile pointer: with link-time
     * optimisation a plain memset before kn_free is a dead store and may go */
    volatile char *buf = kn_malloc(8 << 20);
    assert_non_null(buf);
    for (size_t i = 0; i < (8u << 20); i += 4096) buf[i] = 1;
    kn_free((void *)buf);
    kn_stage_begin("next"); /* ends "work" */
    kn_stage_end();
    assert_int_equal(kn_stage_count(), 2);
    const kn_stage_record *r = kn_stage_get(0);
    assert_string_equal(r->name, "work");
    assert_true(r->wall_s > 0);
    assert_true(r->cpu_s > 0);
    assert_true(r->peak_rss_bytes >= (8u << 20));
    assert_true(r->peak_alloc_bytes >= (8u << 20));
    assert_string_equal(kn_stage_get(1)->name, "next");
    assert_null(kn_stage_get(2));
    assert_string_equal(kn_stage_current(), "main");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(stages_record_resources),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
