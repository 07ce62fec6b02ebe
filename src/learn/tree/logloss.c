/* Binary log-loss gradients (logloss.h). */
#include "learn/tree/logloss.h"

#include "core/simd.h"

#include <math.h>

/* Rows [i0, n) one at a time. */
static void grads_scalar(const double *f, const double *y, const double *w, size_t i0, size_t n,
                         float *g, float *h, int16_t (*q)[2], double ig, double ih, double *g_max,
                         double *h_max)
{
    double gm = *g_max, hm = *h_max;
    for (size_t i = i0; i < n; i++) {
        double gi, hi;
        kn__logloss_row(f[i], y[i], w ? w[i] : 1, &gi, &hi);
        g[i] = (float)gi;
        h[i] = (float)hi;
        if (q) {
            q[i][0] = kn__quantise(g[i], ig);
            q[i][1] = kn__quantise(h[i], ih);
        }
        double ga = fabs(gi), ha = fabs(hi);
        gm = ga > gm ? ga : gm;
        hm = ha > hm ? ha : hm;
    }
    *g_max = gm;
    *h_max = hm;
}

#ifdef KN_HAVE_AVX512
#include <immintrin.h>

/* Rows [0, n - n % 8) eight at a time: kn__logloss_row's operations in its
 * order, lane by lane; returns the first row left. */
__attribute__((target("avx512f"))) static size_t grads8(const double *f, const double *y,
                                                        const double *w, size_t n, float *g,
                                                        float *h, int16_t (*q)[2], double ig,
                                                        double ih, double *g_max, double *h_max)
{
    const __m512d one = _mm512_set1_pd(1), big = _mm512_set1_pd(6755399441055744.0);
    const __m512i sign = _mm512_set1_epi64((long long)0x8000000000000000ull);
    const __m512i big_bits = _mm512_castpd_si512(big), bias = _mm512_set1_epi64(1023);
    const double c[8] = {1. / 40320, 1. / 5040, 1. / 720, 1. / 120, 1. / 24, 1. / 6, 1. / 2, 1};
    __m512d gm = _mm512_setzero_pd(), hm = _mm512_setzero_pd();
    size_t i = 0;
    for (; i + 8 <= n; i += 8) {
        __m512d F = _mm512_loadu_pd(f + i), Y = _mm512_loadu_pd(y + i);
        __m512d W = w ? _mm512_loadu_pd(w + i) : one;
        __m512d x = _mm512_castsi512_pd(_mm512_xor_si512(_mm512_castpd_si512(F), sign));
        x = _mm512_max_pd(_mm512_min_pd(x, _mm512_set1_pd(700)), _mm512_set1_pd(-700));
        __m512d t = _mm512_add_pd(_mm512_mul_pd(x, _mm512_set1_pd(1.4426950408889634)), big);
        __m512d k = _mm512_sub_pd(t, big);
        __m512d r = _mm512_sub_pd(x, _mm512_mul_pd(k, _mm512_set1_pd(0.6931471805599453)));
        __m512d e = _mm512_set1_pd(c[0]);
        for (int j = 1; j < 8; j++) e = _mm512_add_pd(_mm512_set1_pd(c[j]), _mm512_mul_pd(r, e));
        e = _mm512_add_pd(one, _mm512_mul_pd(r, e));
        /* t = 1.5 * 2^52 + k exactly: its bits minus those of 1.5 * 2^52 are k */
        __m512i kb = _mm512_sub_epi64(_mm512_castpd_si512(t), big_bits);
        __m512d two_k = _mm512_castsi512_pd(_mm512_slli_epi64(_mm512_add_epi64(kb, bias), 52));
        __m512d pr = _mm512_div_pd(one, _mm512_add_pd(one, _mm512_mul_pd(e, two_k)));
        __m512d G = _mm512_mul_pd(W, _mm512_sub_pd(pr, Y));
        __m512d H = _mm512_mul_pd(
            W, _mm512_max_pd(_mm512_mul_pd(pr, _mm512_sub_pd(one, pr)), _mm512_set1_pd(1e-16)));
        __m256 gf = _mm512_cvtpd_ps(G), hf = _mm512_cvtpd_ps(H);
        _mm256_storeu_ps(g + i, gf);
        _mm256_storeu_ps(h + i, hf);
        if (q) {
            __m512d gq = _mm512_mul_pd(_mm512_cvtps_pd(gf), _mm512_set1_pd(ig));
            __m512d hq = _mm512_mul_pd(_mm512_cvtps_pd(hf), _mm512_set1_pd(ih));
            __m256i qg = _mm512_cvttpd_epi32(_mm512_sub_pd(_mm512_add_pd(gq, big), big));
            __m256i qh = _mm512_cvttpd_epi32(_mm512_sub_pd(_mm512_add_pd(hq, big), big));
            __m256i pair = _mm256_or_si256(_mm256_and_si256(qg, _mm256_set1_epi32(0xffff)),
                                           _mm256_slli_epi32(qh, 16));
            _mm256_storeu_si256((__m256i *)(void *)(q + i), pair);
        }
        const __m512i magnitude = _mm512_set1_epi64(0x7fffffffffffffffll);
        __m512d ga = _mm512_castsi512_pd(_mm512_and_si512(_mm512_castpd_si512(G), magnitude));
        __m512d ha = _mm512_castsi512_pd(_mm512_and_si512(_mm512_castpd_si512(H), magnitude));
        gm = _mm512_max_pd(ga, gm);
        hm = _mm512_max_pd(ha, hm);
    }
    double a = _mm512_reduce_max_pd(gm), b = _mm512_reduce_max_pd(hm);
    *g_max = a > *g_max ? a : *g_max;
    *h_max = b > *h_max ? b : *h_max;
    return i;
}
#endif

void kn__logloss_grads(const double *f, const double *y, const double *w, size_t n, float *g,
                       float *h, int16_t (*q)[2], double ig, double ih, double *g_max,
                       double *h_max)
{
    size_t i0 = 0;
#ifdef KN_HAVE_AVX512
    if (kn__simd_avx512()) i0 = grads8(f, y, w, n, g, h, q, ig, ih, g_max, h_max);
#endif
    grads_scalar(f, y, w, i0, n, g, h, q, ig, ih, g_max, h_max);
}
