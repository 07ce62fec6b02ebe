/* data: the .kfr file: exact, deterministic round trips and clear errors on damage. */
#include "read_util.h"

#include "test_util.h"

#include "kiln/demo.h"
#include "kiln/io.h"
#include "kiln/profile.h"

#include <math.h>

static void kfr_round_trip_is_exact_and_deterministic(void **state)
{
    (void)state;
    kn_frame *f;
    KN_CHECK(kn_demo_frame(3000, 7, &f));
    kn_column *s;
    KN_CHECK(kn_frame_add_column(f, "note", KN_COL_STRING, &s));
    KN_CHECK(kn_column_set_str(s, 3, "hello, \"world\"\n", 15));
    const char *a = "/tmp/kiln-test-a.kfr", *b = "/tmp/kiln-test-b.kfr";
    KN_CHECK(kn_frame_write(f, a, NULL));
    KN_CHECK(kn_frame_write(f, b, NULL));
    char *ba, *bb;
    size_t la, lb;
    FILE *fa = fopen(a, "rb"), *fb = fopen(b, "rb");
    fseek(fa, 0, SEEK_END);
    la = (size_t)ftell(fa);
    rewind(fa);
    fseek(fb, 0, SEEK_END);
    lb = (size_t)ftell(fb);
    rewind(fb);
    ba = malloc(la);
    bb = malloc(lb);
    assert_int_equal(fread(ba, 1, la, fa), la);
    assert_int_equal(fread(bb, 1, lb, fb), lb);
    fclose(fa);
    fclose(fb);
    assert_int_equal(la, lb);
    assert_memory_equal(ba, bb, la); /* same frame, same bytes */
    kn_frame *g;
    KN_CHECK(kn_frame_read(a, NULL, &g, NULL));
    assert_int_equal(kn_frame_n_rows(g), 3000);
    assert_int_equal(kn_frame_n_cols(g), kn_frame_n_cols(f));
    for (size_t j = 0; j < kn_frame_n_cols(f); j++) {
        kn_column *x = kn_frame_col(f, j), *y = kn_frame_col(g, j);
        assert_string_equal(kn_column_name(x), kn_column_name(y));
        assert_int_equal(kn_column_type(x), kn_column_type(y));
        assert_int_equal(kn_column_role(x), kn_column_role(y));
        for (size_t i = 0; i < 3000; i++) {
            switch (kn_column_type(x)) {
            case KN_COL_NUMERIC:
                assert_memory_equal(&kn_column_f64(x)[i], &kn_column_f64(y)[i], 8);
                break;
            case KN_COL_CATEGORICAL:
                assert_int_equal(kn_column_codes(x)[i], kn_column_codes(y)[i]);
                break;
            case KN_COL_TIMESTAMP:
                assert_true(kn_column_ts(x)[i] == kn_column_ts(y)[i]);
                break;
            case KN_COL_INT64:
                assert_true(kn_column_i64(x)[i] == kn_column_i64(y)[i]);
                break;
            case KN_COL_STRING: {
                size_t l1, l2;
                const char *s1 = kn_column_str(x, i, &l1), *s2 = kn_column_str(y, i, &l2);
                assert_true((s1 == NULL) == (s2 == NULL));
                assert_int_equal(l1, l2);
                if (s1) assert_memory_equal(s1, s2, l1);
                break;
            }
            }
        }
    }
    kn_frame_free(g);
    /* flip one byte: checksum error; truncate: clear error; newer major: version error */
    ba[100] ^= 1;
    const char *bad = test_write_file(".kfr", ba, la);
    KN_CHECK_FAILS(kn_frame_read(bad, NULL, &g, NULL), KN_ERR_CORRUPT, "checksum mismatch");
    ba[100] ^= 1;
    bad = test_write_file(".kfr", ba, la / 2);
    KN_CHECK_FAILS(kn_frame_read(bad, NULL, &g, NULL), KN_ERR_CORRUPT, "truncated");
    ba[8] = 9;
    bad = test_write_file(".kfr", ba, la);
    KN_CHECK_FAILS(kn_frame_read(bad, NULL, &g, NULL), KN_ERR_VERSION,
                   "newer than this kiln reads");
    free(ba);
    free(bb);
    remove(a);
    remove(b);
    kn_frame_free(f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(kfr_round_trip_is_exact_and_deterministic),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
