/* learn: the gbdt grower's vector kernels (the AVX-512 split scan: bins
 * summed in registers, empty bins compressed out, gains, the first largest
 * gain) against their portable twins: the same model bytes with the
 * vector paths on and off, over the penalties and limits that change the
 * gain arithmetic (l1, l2, min_child_weight, min_samples_leaf), missing
 * values on either side, categorical features, best-first and
 * level-by-level growth, classification and regression. */
#include "test_util.h"

#include "core/simd.h"
#include "kiln/frame.h"
#include "kiln/io.h"
#include "kiln/mem.h"
#include "kiln/model.h"

#include <string.h>

static kn_frame *read_data(const char *name)
{
    const char *dir = getenv("KILN_TEST_DATA");
    char path[512];
    snprintf(path, sizeof path, "%s/%s", dir ? dir : "tests/data", name);
    kn_frame *f = NULL;
    KN_CHECK(kn_frame_read(path, NULL, &f, NULL));
    return f;
}

static unsigned char *fit_bytes(const kn_frame *f, const char *target, const char *const *params,
                                int simd_off, size_t *len)
{
    kn_model *m;
    KN_CHECK(kn_model_new("gbdt", &m));
    for (; *params; params++) KN_CHECK(kn_model_set(m, *params));
    kn__simd_off = simd_off;
    KN_CHECK(kn_model_fit(m, f, target, NULL));
    kn__simd_off = 0;
    unsigned char *b = NULL;
    KN_CHECK(kn_model_encode(m, &b, len));
    kn_model_free(m);
    return b;
}

typedef struct kernel_case {
    const char *data, *target;
    const char *params[8];
} kernel_case;

static void vector_scan_is_portable_scan(void **state)
{
    (void)state;
    static const kernel_case cases[] = {
        {"lending_club.csv", "Class", {"n_estimators=6", "l1=0.5", "l2=1", NULL}},
        {"lending_club.csv",
         "Class",
         {"n_estimators=6", "min_child_weight=0", "min_samples_leaf=1", "max_leaves=64", NULL}},
        {"lending_club.csv",
         "Class",
         {"n_estimators=4", "max_leaves=0", "max_depth=5", "min_child_weight=2", NULL}},
        {"house_votes84.csv", "Class", {"n_estimators=6", "min_samples_leaf=3", NULL}},
        {"vehicle.csv", "Class", {"n_estimators=4", "max_bins=40", "l2=0.3", NULL}},
        {"concrete.csv",
         "compressive_strength",
         {"n_estimators=6", "l1=2", "min_samples_leaf=30", NULL}},
        {"cps1985.csv", "wage", {"n_estimators=6", "objective=huber", NULL}},
    };
    for (size_t c = 0; c < sizeof cases / sizeof *cases; c++) {
        kn_frame *f = read_data(cases[c].data);
        size_t l0, l1;
        unsigned char *vec = fit_bytes(f, cases[c].target, cases[c].params, 0, &l0);
        unsigned char *plain = fit_bytes(f, cases[c].target, cases[c].params, 1, &l1);
        assert_int_equal(l0, l1);
        assert_memory_equal(vec, plain, l0);
        kn_free(vec);
        kn_free(plain);
        kn_frame_free(f);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(vector_scan_is_portable_scan),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
