/* Histograms of a node's rows for the tree grower (grower-impl.h). */
#include "learn/tree/grower-impl.h"

#include "core/simd.h"
#include "core/threads.h"
#include "kiln/mem.h"

#include <math.h>
#include <omp.h>
#include <stdlib.h>
#include <string.h>

/* Features 4 q .. 4 q + 3 of the wide histogram: a row's index and
 * increment are read once for four histograms (16 KB, still in the
 * first-level cache). */
static void hist_quad(const grower *gr, size_t q, const uint32_t *rows, const u64x2 *inc, size_t m,
                      hbin *out)
{
    size_t p = gr->d->p, n = gr->d->n, j0 = 4 * q, nj = p - j0 < 4 ? p - j0 : 4;
    memset(out + j0 * NB, 0, nj * NB * sizeof *out);
    const uint8_t *c[4];
    hbin *h[4];
    size_t live = 0;
    for (size_t j = j0; j < j0 + nj; j++)
        if (!gr->d->feature_allowed || gr->d->feature_allowed[j]) {
            c[live] = gr->d->codes_by_feature + j * n;
            h[live++] = out + j * NB;
        }
    if (live == 4)
        for (size_t k = 0; k < m; k++) {
            uint32_t r = rows[k];
            u64x2 v = inc[k];
            h[0][c[0][r]].v += v;
            h[1][c[1][r]].v += v;
            h[2][c[2][r]].v += v;
            h[3][c[3][r]].v += v;
        }
    else
        for (size_t l = 0; l < live; l++)
            for (size_t k = 0; k < m; k++) h[l][c[l][rows[k]]].v += inc[k];
}

/* Wide data: one feature at a time, so its 4 KB histogram stays in the
 * first-level cache while the node's rows are read (from the small
 * feature-major column; the gradients gathered once into row order);
 * features in parallel, each summed in row order (integers: exact). */
static void build_hist_by_feature(grower *gr, uint32_t b, uint32_t e, hbin *out, int par)
{
    size_t p = gr->d->p, m = e - b;
    const uint32_t *rows = gr->rows + b;
    unsigned bits = gr->count_bits;
    u64x2 *inc = gr->ordered + b; /* disjoint leaves use disjoint parts */
    for (size_t k = 0; k < m; k++)
        inc[k] = (u64x2){(uint64_t)(int64_t)gr->q[rows[k]][0],
                         ((uint64_t)(uint16_t)gr->q[rows[k]][1] << bits) | 1};
    size_t quads = (p + 3) / 4;
    if (par && m * p >= PAR_HIST_WORK && gr->threads > 1) {
#pragma omp parallel for schedule(dynamic, 1)
        for (size_t q = 0; q < quads; q++) hist_quad(gr, q, rows, inc, m, out);
    } else /* (outside any region: one of one thread pays for its barriers) */
        for (size_t q = 0; q < quads; q++) hist_quad(gr, q, rows, inc, m, out);
}

/* Adds rows[b, e) (at most PACK_ROWS) into the packed bins pk. */
static void add_packed(const grower *gr, uint32_t b, uint32_t e, pbin *pk)
{
    size_t p = gr->d->p;
    const uint8_t *codes = gr->d->codes;
    for (uint32_t k = b; k < e; k++) {
        uint32_t r = gr->rows[k];
        if (k + PREFETCH < e) {
            uint32_t ahead = gr->rows[k + PREFETCH];
            __builtin_prefetch(codes + (size_t)ahead * p);
            __builtin_prefetch(&gr->q[ahead]);
        }
        const uint8_t *c = codes + (size_t)r * p;
        pbin add = (pbin)(gr->q[r][0] + 32768) | (pbin)(uint16_t)gr->q[r][1] << PACK_G_BITS |
                   (pbin)1 << PACK_N_SHIFT;
        pbin *pj = pk;
        size_t j = 0;
        for (; j + 4 <= p; j += 4, pj += 4 * NB) {
            pj[c[j]] += add;
            pj[NB + c[j + 1]] += add;
            pj[2 * NB + c[j + 2]] += add;
            pj[3 * NB + c[j + 3]] += add;
        }
        for (; j < p; j++, pj += NB) pj[c[j]] += add;
    }
}

/* Adds the packed bins into hist and clears them. */
static void flush_packed(const grower *gr, pbin *pk, hbin *hist)
{
    const pbin gmask = ((pbin)1 << PACK_G_BITS) - 1, hmask = ((pbin)1 << PACK_H_BITS) - 1;
    unsigned bits = gr->count_bits;
    for (size_t i = 0, nb = gr->d->p * NB; i < nb; i++) {
        pbin v = pk[i];
        uint64_t n = v >> PACK_N_SHIFT, h = v >> PACK_G_BITS & hmask;
        int64_t g = (int64_t)(v & gmask) - 32768 * (int64_t)n;
        hist[i].v += (u64x2){(uint64_t)g, h << bits | n};
    }
    memset(pk, 0, gr->d->p * NB * sizeof *pk);
}

/* The histogram of rows[lo, hi) into hist (cleared first), the packed
 * bins pk its scratch. */
static void hist_part(const grower *gr, uint32_t lo, uint32_t hi, hbin *hist, pbin *pk)
{
    size_t p = gr->d->p;
    const uint8_t *codes = gr->d->codes;
    memset(hist, 0, p * NB * sizeof *hist);
    /* packing pays for its flushes on nodes of a few thousand rows */
    if (hi - lo >= PACK_ROWS / 2) {
        for (uint32_t c0 = lo; c0 < hi; c0 += PACK_ROWS) {
            add_packed(gr, c0, hi - c0 < PACK_ROWS ? hi : c0 + PACK_ROWS, pk);
            flush_packed(gr, pk, hist);
        }
        lo = hi;
    }
    for (uint32_t k = lo; k < hi; k++) {
        uint32_t r = gr->rows[k];
        if (k + PREFETCH < hi) { /* rows are scattered: fetch ahead */
            uint32_t ahead = gr->rows[k + PREFETCH];
            __builtin_prefetch(codes + (size_t)ahead * p);
            __builtin_prefetch(&gr->q[ahead]);
        }
        const uint8_t *c = codes + (size_t)r * p;
        u64x2 add = {(uint64_t)(int64_t)gr->q[r][0],
                     ((uint64_t)(uint16_t)gr->q[r][1] << gr->count_bits) | 1};
        hbin *hj = hist;
        size_t j = 0;
        for (; j + 4 <= p; j += 4, hj += 4 * NB) { /* fewer instructions per feature */
            hj[c[j]].v += add;
            hj[NB + c[j + 1]].v += add;
            hj[2 * NB + c[j + 2]].v += add;
            hj[3 * NB + c[j + 3]].v += add;
        }
        for (; j < p; j++, hj += NB) hj[c[j]].v += add;
    }
}

/* The histogram of rows[b, e): when par, in parallel over row ranges for
 * large nodes, each thread into its own buffer, then added (integers:
 * exact); without par, by the calling thread alone, outside any parallel
 * region (even a region of one thread pays for its barriers: system calls
 * on every node). */
void kn__build_hist(grower *gr, uint32_t b, uint32_t e, hbin *out, int par)
{
    if (gr->ordered) {
        build_hist_by_feature(gr, b, e, out, par);
        return;
    }
    size_t p = gr->d->p, m = e - b;
    int parts = par && m * p >= PAR_HIST_WORK && gr->threads > 1 ? gr->threads : 1;
    /* the calling thread's packed bins: its number in the grower's own
     * team of leaves, 0 outside it (a fit may run inside an outer team,
     * cross-validation's, whose numbers are not the grower's) */
    int caller = omp_get_level() > gr->level ? omp_get_thread_num() : 0;
    if (parts == 1) {
        hist_part(gr, b, e, out, gr->packed[caller]);
        return;
    }
#pragma omp parallel num_threads(parts)
    {
        /* the team may be smaller than asked for: share rows by its size */
        int nt = omp_get_num_threads(), t = nt > 1 ? omp_get_thread_num() : 0;
        uint32_t lo = b + (uint32_t)(m * (size_t)t / (size_t)nt);
        uint32_t hi = b + (uint32_t)(m * (size_t)(t + 1) / (size_t)nt);
        hist_part(gr, lo, hi, t == 0 ? out : gr->spare[t], gr->packed[nt > 1 ? t : caller]);
#pragma omp barrier
        /* add the other threads' buffers, features split among threads */
        if (nt > 1) {
            size_t j0 = p * (size_t)t / (size_t)nt, j1 = p * (size_t)(t + 1) / (size_t)nt;
            for (int s = 1; s < nt; s++)
                for (size_t i = j0 * NB; i < j1 * NB; i++) out[i].v += gr->spare[s][i].v;
        }
    }
}
