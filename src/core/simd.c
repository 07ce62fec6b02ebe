/* CPU feature dispatch (simd.h). */
#include "core/simd.h"

int kn__simd_off;

int kn__simd_avx512(void)
{
#ifdef KN_HAVE_AVX512
    return !kn__simd_off && __builtin_cpu_supports("avx512f");
#else
    return 0;
#endif
}

int kn__simd_avx2(void)
{
#ifdef KN_HAVE_AVX512
    return (!kn__simd_off || kn__simd_off == 2) && __builtin_cpu_supports("avx2");
#else
    return 0;
#endif
}
