/* core: "did you mean" (kiln/names.h): the optimal string alignment
 * distance on hand-worked pairs, and the rule for a close enough name. */
#include "test_util.h"

#include "kiln/names.h"

#include <string.h>

static void distance_by_hand(void **state)
{
    (void)state;
    assert_int_equal(kn_name_distance("", ""), 0);
    assert_int_equal(kn_name_distance("", "abc"), 3);
    assert_int_equal(kn_name_distance("target", "target"), 0);
    assert_int_equal(kn_name_distance("tagret", "target"), 1); /* a swap of neighbours */
    assert_int_equal(kn_name_distance("folds", "fodls"), 1);
    assert_int_equal(kn_name_distance("kitten", "sitting"), 3);
    assert_int_equal(kn_name_distance("alcohl", "alcohol"), 1);
    /* optimal string alignment, not Damerau-Levenshtein: a swapped pair is
     * not edited again ("ca" -> "abc" is 3, not 2) */
    assert_int_equal(kn_name_distance("ca", "abc"), 3);
    /* letters without case */
    assert_int_equal(kn_name_distance("Quality", "quality"), 0);
    assert_int_equal(kn_name_distance("JSON", "json"), 0);
    /* symmetric */
    assert_int_equal(kn_name_distance("abc", "ca"), 3);
    assert_int_equal(kn_name_distance("delimeter", "delimiter"),
                     kn_name_distance("delimiter", "delimeter"));
}

static void long_names_compare_64_characters(void **state)
{
    (void)state;
    char a[101], b[101];
    memset(a, 'x', 100), memset(b, 'x', 100);
    a[100] = b[100] = 0;
    b[80] = 'y'; /* past the 64 compared */
    assert_int_equal(kn_name_distance(a, b), 0);
    b[10] = 'y';
    assert_int_equal(kn_name_distance(a, b), 1);
    a[70] = 0; /* 70 characters against 100: both cut to 64 */
    assert_int_equal(kn_name_distance(a, b), 1);
}

static void close_enough(void **state)
{
    (void)state;
    /* up to 5 characters: 1 edit */
    assert_true(kn_name_is_close("clas", 1));
    assert_false(kn_name_is_close("clas", 2));
    assert_true(kn_name_is_close("hue", 0));
    assert_false(kn_name_is_close("js", 2));
    /* longer: 2 edits */
    assert_true(kn_name_is_close("alcohl", 2));
    assert_false(kn_name_is_close("alcohl", 3));
    assert_true(kn_name_is_close("delimeter", 1));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(distance_by_hand),
        cmocka_unit_test(long_names_compare_64_characters),
        cmocka_unit_test(close_enough),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
