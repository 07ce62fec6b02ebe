/* The tree grower's shared parts (hist_tree.c grows, hist_build.c builds
 * histograms, split_find.c finds a leaf's best split): its types, limits
 * and the leaf arithmetic every part uses. */
#ifndef KILN_GROWER_IMPL_H
#define KILN_GROWER_IMPL_H

#include "learn/tree/hist_tree.h"

#include <math.h>

#define NB 256      /* histogram slots per feature: the bins and the missing code */
#define PREFETCH 16 /* rows ahead whose codes and gradients are fetched early */

/* A bin's sums: the quantised gradients, and the quantised hessians and
 * the row count packed into one word (h << count_bits | n), so a row costs
 * two additions. */
typedef uint64_t u64x2 __attribute__((vector_size(16)));
typedef union hbin {
    struct {
        int64_t g;
        uint64_t hn;
    };
    u64x2 v; /* both at once: one load and one store per row and feature */
} hbin;

/* Narrow data first sums rows into packed bins, half the size of hbin
 * (the whole histogram of 20 features fits the first-level cache): one
 * 64-bit word holds the sums of up to 2^PACK_ROWS_LOG rows, the gradient
 * offset to be positive (q + 32768, 16 bits a row), the hessian (at most
 * PACK_HQ a row) and the count, in fields wide enough not to carry into
 * each other. Every 2^PACK_ROWS_LOG rows the packed bins are added into
 * the hbin histogram and cleared. */
typedef uint64_t pbin;
#define PACK_ROWS_LOG 12
#define PACK_ROWS (1u << PACK_ROWS_LOG)
#define PACK_G_BITS (16 + PACK_ROWS_LOG)         /* 28 */
#define PACK_H_BITS (11 + PACK_ROWS_LOG)         /* 23 */
#define PACK_N_SHIFT (PACK_G_BITS + PACK_H_BITS) /* the count: the top 13 bits */
#define PACK_HQ 2047                             /* 11-bit hessians */

typedef struct split {
    double gain;
    int32_t feature; /* -1: none */
    uint8_t bin, missing_left, categorical;
    int64_t lg, lh, ln; /* the left child's sums */
    kn__level_set set;  /* categorical: the levels going left */
} split;

/* Categorical splits (as LightGBM's and scikit-learn's): levels with fewer
 * rows than CAT_SUPPORT stay with the rest; the others are ordered by
 * gradient over (hessian + CAT_SMOOTH), so small levels do not jump to the
 * ends of the order. */
#define CAT_SUPPORT 10
#define CAT_SMOOTH 10.0

typedef struct leaf {
    int32_t node;
    uint32_t begin, end, depth;
    int64_t g, h, n; /* quantised sums */
    double lo, hi;   /* bounds on the leaf's value (monotone constraints) */
    hbin *hist;      /* NULL once the leaf is final */
    split best;
} leaf;

typedef struct grower {
    const kn__grow_data *d;
    const kn__grow_params *par;
    uint32_t *rows;
    int16_t (*q)[2]; /* quantised gradient and hessian by row */
    double gs, hs;   /* their scales */
    unsigned count_bits;
    uint64_t count_mask;
    uint32_t *tmp; /* partition scratch */
    hbin **spare;  /* per-thread histogram buffers */
    pbin **packed; /* per-thread packed bins (narrow data) */
    int threads;
    u64x2 *ordered;            /* wide data: a node's histogram increments in its row order */
    const kn__node *out_nodes; /* the tree's nodes */
    int avx512;                /* partitions may take the AVX-512 path */
    int level;                 /* omp_get_level() where the tree is grown */
} grower;

/* Leaves of this many rows are split by every thread together; smaller
 * ones each by one thread. */
#define LARGE 65536

/* From this many features on, histograms are built feature by feature. */
#define WIDE 64

/* A parallel region pays for waking its team (and for a descheduled
 * thread on a busy machine) only above this much work: row-feature
 * updates of histograms, or bins scanned by split searches. Below it the
 * calling thread works alone: small data fits faster on one thread. */
#define PAR_HIST_WORK 200000
#define PAR_SPLIT_WORK 262144

static inline double soft(double g, double l1)
{
    return g > l1 ? g - l1 : g < -l1 ? g + l1 : 0;
}

static inline double score(const grower *gr, int64_t g, int64_t h)
{
    double G = soft((double)g * gr->gs, gr->par->l1);
    return G * G / ((double)h * gr->hs + gr->par->l2);
}

/* The unshrunk value of a leaf with these sums, within [lo, hi]. */
static inline double weight(const grower *gr, int64_t g, int64_t h, double lo, double hi)
{
    double den = (double)h * gr->hs + gr->par->l2;
    double w = den > 0 ? -soft((double)g * gr->gs, gr->par->l1) / den : 0;
    return fmin(fmax(w, lo), hi);
}

/* How much a leaf with value w lowers the loss (score() at the optimum). */
static inline double score_at(const grower *gr, int64_t g, int64_t h, double w)
{
    double G = soft((double)g * gr->gs, gr->par->l1);
    return -(2 * G * w + ((double)h * gr->hs + gr->par->l2) * w * w);
}

/* The histogram of rows[b, e) into out: when par, in parallel over row
 * ranges (hist_build.c). */
void kn__build_hist(grower *gr, uint32_t b, uint32_t e, hbin *out, int par);
/* The best split of a leaf from its histogram into lf->best (split_find.c). */
void kn__best_split(const grower *gr, leaf *lf);

#endif
