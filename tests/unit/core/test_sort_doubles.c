/* core: kn__sort_doubles against qsort on shapes that break naive
 * quicksorts (sorted, reversed, all equal, few distinct, organ pipe,
 * random, signs and magnitudes from subnormal to infinite, an outlier) at sizes
 * around the insertion-sort and bucket-sort cut-offs and large. */
#include "test_util.h"

#include "core/sort-impl.h"
#include "kiln/rng.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

static int cmp(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static void fill(double *v, size_t n, int shape, kn_rng *r)
{
    for (size_t i = 0; i < n; i++) {
        switch (shape) {
        case 0:
            v[i] = (double)i;
            break;
        case 1:
            v[i] = (double)(n - i);
            break;
        case 2:
            v[i] = 3.5;
            break;
        case 3:
            v[i] = (double)kn_rng_below(r, 4);
            break;
        case 4:
            v[i] = (double)(i < n / 2 ? i : n - i);
            break;
        case 5: { /* the radix sort's keys: every byte varies, both signs */
            static const double odd[] = {INFINITY, -INFINITY, 4.9e-324, -4.9e-324,
                                         1e300,    -1e300,    -0.0};
            double u = kn_rng_uniform(r);
            v[i] = u < 0.1 ? odd[kn_rng_below(r, 7)]
                           : ldexp(u * 2 - 1, (int)kn_rng_below(r, 200) - 100);
            break;
        }
        case 6: /* one outlier: the rest in the bucket sort's first bucket */
            v[i] = i == n / 3 ? 1e12 : kn_rng_uniform(r);
            break;
        default:
            v[i] = kn_rng_uniform(r) * 2 - 1;
            break;
        }
    }
}

static void sorts_like_qsort(void **state)
{
    (void)state;
    static const size_t sizes[] = {0,   1,   2,   3,   15,   16,   17,    33,
                                   100, 255, 256, 257, 1000, 4097, 100000};
    kn_rng r;
    kn_rng_init(&r, 11);
    for (size_t s = 0; s < sizeof sizes / sizeof *sizes; s++) {
        size_t n = sizes[s];
        double *a = malloc((n ? n : 1) * sizeof *a), *b = malloc((n ? n : 1) * sizeof *b);
        assert_non_null(a);
        assert_non_null(b);
        for (int shape = 0; shape < 8; shape++) {
            fill(a, n, shape, &r);
            if (n) memcpy(b, a, n * sizeof *a);
            kn__sort_doubles(a, n);
            qsort(b, n, sizeof *b, cmp);
            assert_true(n == 0 || memcmp(a, b, n * sizeof *a) == 0);
        }
        free(a);
        free(b);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(sorts_like_qsort),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
