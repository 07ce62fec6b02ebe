/* Number and timestamp parsing: every double equals strtod's, bit for bit. */
#include "test_util.h"

#include "data/parse-impl.h"
#include "kiln/rng.h"

#include <math.h>

static void check(const char *s)
{
    double want = strtod(s, NULL), got = 0;
    const char *end = s + strlen(s);
    const char *q = kn__parse_double(s, end, &got);
    if (q != end) fail_msg("'%s' not fully parsed", s);
    if (memcmp(&want, &got, sizeof want) != 0 && !(isnan(want) && isnan(got)))
        fail_msg("'%s': got %a, strtod %a", s, got, want);
}

static void fixed_cases(void **state)
{
    (void)state;
    const char *cases[] = {"0",
                           "-0",
                           "1",
                           "-1",
                           "0.1",
                           "0.2",
                           "0.3",
                           "1e22",
                           "1e23",
                           "9007199254740993",
                           "9007199254740992",
                           "18446744073709551615",
                           "18446744073709551616",
                           "4.9406564584124654e-324",
                           "2.4703282292062327e-324",
                           "2.4703282292062328e-324",
                           "1.7976931348623157e308",
                           "1.7976931348623159e308",
                           "2.2250738585072011e-308",
                           "2.2250738585072014e-308",
                           "0.000001",
                           "123456.789012",
                           "-0.123456",
                           "1e-400",
                           "1e400",
                           "inf",
                           "-Infinity",
                           "nan",
                           ".5",
                           "5.",
                           "+3",
                           "1E+2",
                           "0000012.5000",
                           "3.14159265358979323846264338327950288",
                           "7.2057594037927933e16",
                           "1.00000000000000011102230246251565404236316680908203125",
                           "1.00000000000000011102230246251565404236316680908203124",
                           "1.00000000000000011102230246251565404236316680908203126",
                           NULL};
    for (int i = 0; cases[i]; i++) check(cases[i]);
    double v;
    const char *bad[] = {"", "-", ".", "e5", "abc", "0x10", "1e", "--1", NULL};
    for (int i = 0; bad[i]; i++) {
        const char *end = bad[i] + strlen(bad[i]);
        const char *q = kn__parse_double(bad[i], end, &v);
        if (q == end && *bad[i]) fail_msg("'%s' accepted as a whole number", bad[i]);
    }
}

/* Random decimal strings of many shapes: digits, dots, exponents. */
static void random_strings_match_strtod(void **state)
{
    (void)state;
    kn_rng r;
    kn_rng_init(&r, 2024);
    char s[80];
    for (int iter = 0; iter < 300000; iter++) {
        size_t n = 0;
        if (kn_rng_below(&r, 4) == 0) s[n++] = '-';
        int digits = 1 + (int)kn_rng_below(&r, 25);
        int dot = (int)kn_rng_below(&r, (uint64_t)digits + 2);
        for (int d = 0; d < digits; d++) {
            if (d == dot) s[n++] = '.';
            s[n++] = (char)('0' + kn_rng_below(&r, 10));
        }
        if (kn_rng_below(&r, 3) == 0) {
            n += (size_t)sprintf(s + n, "e%d", (int)kn_rng_below(&r, 700) - 350);
        }
        s[n] = '\0';
        check(s);
    }
    /* printf round trips of random bit patterns */
    for (int iter = 0; iter < 100000; iter++) {
        uint64_t bits = kn_rng_next(&r);
        double d;
        memcpy(&d, &bits, sizeof d);
        if (!isfinite(d)) continue;
        snprintf(s, sizeof s, "%.*g", 1 + (int)kn_rng_below(&r, 17), d);
        check(s);
        char buf[40];
        kn__format_double(d, buf, sizeof buf);
        double back = strtod(buf, NULL);
        assert_memory_equal(&back, &d, sizeof d);
    }
}

static void timestamps(void **state)
{
    (void)state;
    int64_t t;
    const char *s = "1970-01-01";
    assert_true(kn__parse_timestamp(s, s + strlen(s), &t) && t == 0);
    s = "2000-02-29T23:59:59.5+01:00";
    assert_true(kn__parse_timestamp(s, s + strlen(s), &t));
    assert_true(t == (951868799LL - 3600) * 1000000 + 500000);
    s = "1969-12-31 23:59:59";
    assert_true(kn__parse_timestamp(s, s + strlen(s), &t) && t == -1000000);
    /* the last two: an offset that carries the time outside years 0000-9999,
     * which have no four-digit form to be written back in (fuzz: schema) */
    const char *bad[] = {
        "2001-02-29", "2020-13-01",   "2020-01-01T25:00",       "2020-1-1",
        "20200101",   "2020-01-01Zx", "0000-01-01T00:00+05:00", "9999-12-31T23:30-01:00",
        NULL};
    for (int i = 0; bad[i]; i++)
        assert_false(kn__parse_timestamp(bad[i], bad[i] + strlen(bad[i]), &t));
    char buf[48];
    kn__format_timestamp(-1000000, buf, sizeof buf);
    assert_string_equal(buf, "1969-12-31T23:59:59Z");
    kn__format_timestamp(951868799LL * 1000000 + 5, buf, sizeof buf);
    assert_string_equal(buf, "2000-02-29T23:59:59.000005Z");
    kn__format_timestamp(86400LL * 1000000, buf, sizeof buf);
    assert_string_equal(buf, "1970-01-02");
    s = "0000-01-01T00:00-05:00"; /* the edges themselves write back */
    assert_true(kn__parse_timestamp(s, s + strlen(s), &t));
    kn__format_timestamp(t, buf, sizeof buf);
    assert_string_equal(buf, "0000-01-01T05:00:00Z");
    s = "9999-12-31T23:59:59.999999Z";
    assert_true(kn__parse_timestamp(s, s + strlen(s), &t));
    kn__format_timestamp(t, buf, sizeof buf);
    assert_string_equal(buf, s);
}

static void utf8(void **state)
{
    (void)state;
    const char *ok = "h\xc3\xa9llo \xe2\x82\xac \xf0\x9f\x98\x80";
    assert_true(kn__utf8_valid((const unsigned char *)ok, strlen(ok)));
    assert_false(kn__utf8_valid((const unsigned char *)"\xc0\xaf", 2));     /* overlong */
    assert_false(kn__utf8_valid((const unsigned char *)"\xed\xa0\x80", 3)); /* surrogate */
    assert_false(kn__utf8_valid((const unsigned char *)"\xe2\x82", 2));     /* truncated */
    assert_false(kn__utf8_valid((const unsigned char *)"\xff", 1));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(fixed_cases),
        cmocka_unit_test(random_strings_match_strtod),
        cmocka_unit_test(timestamps),
        cmocka_unit_test(utf8),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
