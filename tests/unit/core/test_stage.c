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
    char *buf = kn_malloc(8 << 20);
    memset(buf, 1, 8 << 20);
    kn_free(buf);
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
