/* Internal: whether this CPU may take the hand-vectorised (AVX-512) paths.
 * Every such path has a portable twin giving the same results; tests run
 * both by setting kn__simd_off. */
#ifndef KILN_CORE_SIMD_H
#define KILN_CORE_SIMD_H

#if defined(__GNUC__) && defined(__x86_64__)
#define KN_HAVE_AVX512 1 /* the compiler can build AVX-512 functions */
#endif

/* Non-zero: every caller takes its portable path (for tests); 2: the
 * AVX2 paths may still run (kn__simd_avx2), not the AVX-512 ones. */
extern int kn__simd_off;

/* Whether the AVX-512 paths may run here (foundation instructions). */
int kn__simd_avx512(void);
/* Whether the AVX2 paths may run here. */
int kn__simd_avx2(void);

#endif
