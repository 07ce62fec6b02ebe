/* data: profiles: statistics, duplicates, warnings. */
#include "read_util.h"

#include "test_util.h"

#include "kiln/demo.h"
#include "kiln/io.h"
#include "kiln/profile.h"

#include <math.h>

static void profile_values(void **state)
{
    (void)state;
    kn_frame *f = read_as(".csv", "id,x,c,k\n1,1,a,z\n2,2,a,z\n3,3,b,z\n4,4,a,z\n5,,c,z\n6,100,a,"
                                  "z\n7,7,b,z\n8,8,a,z\n9,9,a,z\n10,10,b,z\n10,10,b,z\n");
    kn_profile *p;
    KN_CHECK(kn_profile_compute(f, &p));
    assert_int_equal(p->rows, 11);
    assert_int_equal(p->duplicate_rows, 1);
    const kn_col_profile *x = &p->cols[1];
    assert_int_equal(x->missing, 1);
    assert_true(x->min == 1 && x->max == 100);
    assert_true(x->p50 == 7.5); /* numpy linear: sorted 1,2,3,4,7,8,9,10,10,100 */
    assert_true(fabs(x->p25 - 3.25) < 1e-12);
    assert_true(fabs(x->mean - 15.4) < 1e-12);
    assert_int_equal(x->distinct, 9);
    assert_int_equal(p->cols[2].n_top, 3);
    assert_string_equal(p->cols[2].top[0].value, "a");
    assert_int_equal(p->cols[2].top[0].count, 6);
    assert_true(p->cols[3].constant);
    int skew_warned = 0, dup_warned = 0;
    for (size_t w = 0; w < p->n_warnings; w++) {
        skew_warned |= strstr(p->warnings[w], "'x' is highly skewed") != NULL;
        dup_warned |= strstr(p->warnings[w], "1 duplicate rows") != NULL;
    }
    assert_true(skew_warned && dup_warned);
    kn_profile_free(p);
    kn_frame_free(f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(profile_values),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
