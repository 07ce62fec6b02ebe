/* data: the radix sort of 64-bit keys with a payload (sort-impl.h): the
 * one-thread kernel gives the stable ascending order (keys ascending, equal
 * keys in input order, each payload with its key), and the team's passes on
 * 2 and 3 threads give the same bytes, also where passes are skipped (every
 * key shares a digit). */
#include "test_util.h"

#include "data/sort-impl.h"
#include "kiln/mem.h"

#include <stdlib.h>

#ifdef _OPENMP
#include <omp.h>
#endif

static uint64_t next(uint64_t *s)
{
    uint64_t z = (*s += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

/* n keys of one shape: 0 any bits, 1 few distinct keys (many ties), 2 only
 * the middle digits vary (passes 0 and 3 skipped), 3 all equal. */
static void fill(uint64_t *k, size_t n, int shape)
{
    uint64_t s = 42 + (uint64_t)shape;
    for (size_t i = 0; i < n; i++) {
        uint64_t x = next(&s);
        k[i] = shape == 0   ? x
               : shape == 1 ? x % 97 * 0x0001000100010001ull
               : shape == 2 ? 0x7000000000000005ull | (x & 0x0000ffffffff0000ull)
                            : 12345;
    }
}

static void sort_with(int threads, const uint64_t *in, size_t n, uint64_t *k, uint64_t *v)
{
    uint64_t *tk = kn_malloc((n ? n : 1) * sizeof *tk), *tv = kn_malloc((n ? n : 1) * sizeof *tv);
    assert_non_null(tk);
    assert_non_null(tv);
    memcpy(k, in, n * sizeof *k);
    for (size_t i = 0; i < n; i++) v[i] = i;
#ifdef _OPENMP
    int saved = omp_get_max_threads();
    omp_set_num_threads(threads);
#else
    (void)threads;
#endif
    kn__sort_u64_pairs(k, v, tk, tv, n);
#ifdef _OPENMP
    omp_set_num_threads(saved);
#endif
    kn_free(tk);
    kn_free(tv);
}

static void team_order_is_the_stable_order(void **state)
{
    (void)state;
    size_t n = 200003; /* above the parallel threshold, slices of unequal size */
    uint64_t *in = kn_malloc(n * sizeof *in), *k1 = kn_malloc(n * sizeof *k1),
             *v1 = kn_malloc(n * sizeof *v1), *k = kn_malloc(n * sizeof *k),
             *v = kn_malloc(n * sizeof *v);
    assert_non_null(in && k1 && v1 && k && v);
    for (int shape = 0; shape < 4; shape++) {
        fill(in, n, shape);
        sort_with(1, in, n, k1, v1);
        for (size_t i = 0; i < n; i++) {
            assert_true(k1[i] == in[v1[i]]); /* the payload travels with its key */
            if (i) {
                assert_true(k1[i - 1] <= k1[i]);
                if (k1[i - 1] == k1[i]) assert_true(v1[i - 1] < v1[i]); /* stable */
            }
        }
        for (int t = 2; t <= 3; t++) {
            sort_with(t, in, n, k, v);
            assert_memory_equal(k, k1, n * sizeof *k);
            assert_memory_equal(v, v1, n * sizeof *v);
        }
    }
    /* without a payload */
    fill(in, n, 0);
    memcpy(k, in, n * sizeof *k);
    uint64_t *tk = kn_malloc(n * sizeof *tk);
    assert_non_null(tk);
    kn__sort_u64_pairs(k, NULL, tk, NULL, n);
    sort_with(1, in, n, k1, v1);
    assert_memory_equal(k, k1, n * sizeof *k);
    kn_free(tk);
    kn_free(in);
    kn_free(k1);
    kn_free(v1);
    kn_free(k);
    kn_free(v);
}

static int by_key_then_index(const void *a, const void *b)
{
    const uint64_t *x = a, *y = b;
    return x[0] != y[0] ? (x[0] < y[0] ? -1 : 1) : (x[1] > y[1]) - (x[1] < y[1]);
}

/* One thread, both digit widths (11 bits below 65,536 keys, 16 from there):
 * the order qsort gives to (key, input index) pairs, for every shape. */
static void both_widths_give_the_stable_order(void **state)
{
    (void)state;
    const size_t sizes[] = {0, 1, 2, 3, 1000, 65535, 65536, 70001};
    size_t most = 70001;
    uint64_t *in = kn_malloc(most * sizeof *in), *k = kn_malloc(most * sizeof *k),
             *v = kn_malloc(most * sizeof *v), *ref = kn_malloc(2 * most * sizeof *ref);
    assert_non_null(in && k && v && ref);
    for (size_t z = 0; z < sizeof sizes / sizeof *sizes; z++)
        for (int shape = 0; shape < 4; shape++) {
            size_t n = sizes[z];
            fill(in, n, shape);
            for (size_t i = 0; i < n; i++) ref[2 * i] = in[i], ref[2 * i + 1] = i;
            if (n) qsort(ref, n, 2 * sizeof *ref, by_key_then_index);
            sort_with(1, in, n, k, v);
            for (size_t i = 0; i < n; i++) {
                assert_true(k[i] == ref[2 * i]);
                assert_true(v[i] == ref[2 * i + 1]);
            }
        }
    kn_free(in);
    kn_free(k);
    kn_free(v);
    kn_free(ref);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(team_order_is_the_stable_order),
        cmocka_unit_test(both_widths_give_the_stable_order),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
