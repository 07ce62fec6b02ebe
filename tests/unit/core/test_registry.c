/* core: the component registry. */
#include "test_util.h"

#include "kiln/init.h"
#include "kiln/log.h"
#include "kiln/mem.h"
#include "kiln/param.h"
#include "kiln/registry.h"
#include "kiln/rng.h"
#include "kiln/stage.h"

#include <math.h>

static void registry_finds_builtins(void **state)
{
    (void)state;
    assert_int_equal(kn_registry_count(), 0); /* the core registers nothing by itself */
    kn_init();
    size_t n = kn_registry_count();
    kn_init(); /* once per process */
    assert_int_equal(kn_registry_count(), n);
    /* layer order: readers and writers, then steps, then models and
     * metrics (the learn layer) */
    assert_int_equal(kn_registry_at(0)->kind, KN_COMP_READER);
    assert_int_equal(kn_registry_at(n - 1)->kind, KN_COMP_METRIC);
    for (size_t i = 1; i < n; i++) {
        kn_component_kind a = kn_registry_at(i - 1)->kind, b = kn_registry_at(i)->kind;
        int rank_a = a == KN_COMP_STEP ? 1 : a == KN_COMP_MODEL || a == KN_COMP_METRIC ? 2 : 0;
        int rank_b = b == KN_COMP_STEP ? 1 : b == KN_COMP_MODEL || b == KN_COMP_METRIC ? 2 : 0;
        assert_true(rank_a <= rank_b);
    }
    const kn_component *c = kn_registry_find(KN_COMP_READER, "csv");
    assert_non_null(c);
    assert_string_equal(c->name, "csv");
    assert_null(kn_registry_find(KN_COMP_READER, "xlsx"));
    assert_non_null(strstr(kn_last_error(), "no reader named 'xlsx'; known: csv"));
    static const kn_component extra = {KN_COMP_METRIC, "test_metric", "doc", NULL, 0, NULL};
    KN_CHECK(kn_registry_add(&extra));
    KN_CHECK_FAILS(kn_registry_add(&extra), KN_ERR_INVALID, "already registered");
    assert_ptr_equal(kn_registry_find(KN_COMP_METRIC, "test_metric"), &extra);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(registry_finds_builtins),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
