/* Row splits (see kiln/split.h). Each scheme first gives every row the fold
 * whose test part holds it (test_fold); the folds' index arrays follow from
 * that, except for the time-series split, whose training windows are not
 * the complement of the test rows. */
#include "kiln/mem.h"
#include "kiln/rng.h"
#include "kiln/split.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

void kn_split_opts_default(kn_split_opts *o)
{
    memset(o, 0, sizeof *o);
    o->folds = 5;
    o->repeats = 1;
}

void kn_folds_free(kn_folds *f)
{
    for (size_t i = 0; f->fold && i < f->k; i++) {
        kn_free(f->fold[i].train);
        kn_free(f->fold[i].test);
    }
    kn_free(f->fold);
    f->fold = NULL;
    f->k = 0;
}

static void shuffle(size_t *v, size_t n, kn_rng *rng)
{
    for (size_t i = n; i > 1; i--) {
        size_t j = (size_t)kn_rng_below(rng, i), t = v[i - 1];
        v[i - 1] = v[j];
        v[j] = t;
    }
}

/* Fold f: test = rows with test_fold == f, train = the others, ascending. */
static kn_status fold_from_assignment(const size_t *test_fold, size_t n, size_t f, kn_fold *out)
{
    size_t nt = 0;
    for (size_t i = 0; i < n; i++) nt += test_fold[i] == f;
    out->test = kn_malloc((nt ? nt : 1) * sizeof *out->test);
    out->train = kn_malloc((n - nt ? n - nt : 1) * sizeof *out->train);
    if (!out->test || !out->train) return KN_ERR_NOMEM;
    out->n_test = out->n_train = 0;
    for (size_t i = 0; i < n; i++) {
        if (test_fold[i] == f)
            out->test[out->n_test++] = i;
        else
            out->train[out->n_train++] = i;
    }
    return KN_OK;
}

/* KFold: contiguous test blocks of n/k rows (the first n % k one more), over
 * the rows in order or in a shuffled order. */
static void assign_kfold(size_t n, size_t k, kn_rng *rng, size_t *order, size_t *test_fold)
{
    for (size_t i = 0; i < n; i++) order[i] = i;
    if (rng) shuffle(order, n, rng);
    size_t pos = 0;
    for (size_t f = 0; f < k; f++) {
        size_t size = n / k + (f < n % k);
        for (size_t i = 0; i < size; i++) test_fold[order[pos++]] = f;
    }
}

/* StratifiedKFold: classes taken in order of first appearance; the rows
 * sorted by class are dealt to the folds in turn, which fixes how many rows
 * of each class every fold gets; within a class, rows go to folds in row
 * order (shuffled when rng). */
static kn_status assign_stratified(size_t n, const int32_t *y, size_t k, kn_rng *rng,
                                   size_t *test_fold)
{
    size_t n_codes = 0;
    for (size_t i = 0; i < n; i++)
        n_codes = (size_t)y[i] + 1 > n_codes ? (size_t)y[i] + 1 : n_codes;
    size_t *rank = kn_malloc(n_codes * sizeof *rank), *count = kn_calloc(n_codes, sizeof *count);
    size_t *alloc = kn_calloc(k * n_codes, sizeof *alloc), *list = kn_malloc(n * sizeof *list);
    kn_status e = rank && count && alloc && list ? KN_OK : KN_ERR_NOMEM;
    size_t classes = 0;
    for (size_t c = 0; e == KN_OK && c < n_codes; c++) rank[c] = SIZE_MAX;
    for (size_t i = 0; e == KN_OK && i < n; i++) {
        size_t c = (size_t)y[i];
        if (rank[c] == SIZE_MAX) rank[c] = classes++;
        count[rank[c]]++;
    }
    size_t smallest = n;
    for (size_t c = 0; e == KN_OK && c < classes; c++)
        smallest = count[c] < smallest ? count[c] : smallest;
    if (e == KN_OK && smallest < k)
        e = kn_fail(KN_ERR_INVALID,
                    "stratified %zu-fold split: a class has only %zu rows, fewer than the folds; "
                    "lower split option folds or merge rare classes",
                    k, smallest);
    /* allocation: position p of the class-sorted rows goes to fold p % k */
    for (size_t c = 0, start = 0; e == KN_OK && c < classes; start += count[c], c++)
        for (size_t p = start; p < start + count[c]; p++) alloc[(p % k) * classes + c]++;
    for (size_t c = 0; e == KN_OK && c < classes; c++) {
        size_t m = 0;
        for (size_t f = 0; f < k; f++)
            for (size_t r = 0; r < alloc[f * classes + c]; r++) list[m++] = f;
        if (rng) shuffle(list, m, rng);
        m = 0;
        for (size_t i = 0; i < n; i++)
            if (rank[(size_t)y[i]] == c) test_fold[i] = list[m++];
    }
    kn_free(rank);
    kn_free(count);
    kn_free(alloc);
    kn_free(list);
    return e;
}

typedef struct group_size {
    size_t group, rows;
} group_size;

static int by_rows_then_group_desc(const void *a, const void *b)
{
    const group_size *x = a, *y = b;
    if (x->rows != y->rows) return x->rows < y->rows ? 1 : -1;
    return x->group < y->group ? 1 : -1;
}

/* GroupKFold: groups from the largest down, each to the fold with the
 * fewest rows so far (the first such fold on a tie). */
static kn_status assign_group(size_t n, const int32_t *g, size_t k, size_t *test_fold)
{
    size_t groups = 0;
    for (size_t i = 0; i < n; i++) groups = (size_t)g[i] + 1 > groups ? (size_t)g[i] + 1 : groups;
    size_t present = 0;
    group_size *gs = kn_calloc(groups ? groups : 1, sizeof *gs);
    size_t *to_fold = kn_malloc((groups ? groups : 1) * sizeof *to_fold);
    size_t *fold_rows = kn_calloc(k, sizeof *fold_rows);
    kn_status e = gs && to_fold && fold_rows ? KN_OK : KN_ERR_NOMEM;
    for (size_t i = 0; e == KN_OK && i < n; i++) gs[g[i]].rows++;
    for (size_t q = 0; e == KN_OK && q < groups; q++) {
        gs[q].group = q;
        present += gs[q].rows > 0;
    }
    if (e == KN_OK && present < k)
        e = kn_fail(KN_ERR_INVALID,
                    "group %zu-fold split: only %zu distinct groups; lower split option "
                    "folds to at most %zu",
                    k, present, present);
    if (e == KN_OK) {
        qsort(gs, groups, sizeof *gs, by_rows_then_group_desc);
        for (size_t q = 0; q < groups; q++) {
            size_t best = 0;
            for (size_t f = 1; f < k; f++)
                if (fold_rows[f] < fold_rows[best]) best = f;
            fold_rows[best] += gs[q].rows;
            to_fold[gs[q].group] = best;
        }
        for (size_t i = 0; i < n; i++) test_fold[i] = to_fold[g[i]];
    }
    kn_free(gs);
    kn_free(to_fold);
    kn_free(fold_rows);
    return e;
}

/* TimeSeriesSplit: the last folds * test_size rows form the test windows;
 * each trains on every earlier row up to `gap` rows before its window. */
static kn_status time_folds(size_t n, const kn_split_opts *o, kn_folds *out)
{
    size_t k = o->folds, ts = o->test_size ? o->test_size : n / (k + 1);
    if (ts == 0 || k * ts + o->gap >= n)
        return kn_fail(KN_ERR_INVALID,
                       "time-series split: %zu rows cannot hold %zu test windows of %zu rows "
                       "after a gap of %zu and leave rows to train on; lower split option folds, "
                       "split option gap or split option test_size",
                       n, k, ts, o->gap);
    out->fold = kn_calloc(k, sizeof *out->fold);
    if (!out->fold) return KN_ERR_NOMEM;
    out->k = k;
    for (size_t f = 0; f < k; f++) {
        kn_fold *fo = &out->fold[f];
        size_t start = n - k * ts + f * ts, end = start - o->gap;
        size_t begin = o->max_train && end > o->max_train ? end - o->max_train : 0;
        fo->n_train = end - begin;
        fo->n_test = ts;
        fo->train = kn_malloc(fo->n_train * sizeof *fo->train);
        fo->test = kn_malloc(ts * sizeof *fo->test);
        if (!fo->train || !fo->test) return KN_ERR_NOMEM;
        for (size_t i = 0; i < fo->n_train; i++) fo->train[i] = begin + i;
        for (size_t i = 0; i < ts; i++) fo->test[i] = start + i;
    }
    return KN_OK;
}

kn_status kn_split_folds(size_t n, const int32_t *labels, const kn_split_opts *o, kn_folds *out)
{
    memset(out, 0, sizeof *out);
    size_t k = o->folds, reps = o->repeats ? o->repeats : 1;
    if (k < 2)
        return kn_fail(KN_ERR_INVALID, "cross-validation needs at least 2 folds, got %zu", k);
    if (o->kind == KN_SPLIT_TIME) {
        kn_status e = time_folds(n, o, out);
        if (e != KN_OK) kn_folds_free(out);
        return e;
    }
    if (k > n)
        return kn_fail(KN_ERR_INVALID,
                       "%zu folds for %zu rows; lower split option folds to at most %zu", k, n, n);
    if (o->kind == KN_SPLIT_AUTO)
        return kn_fail(KN_ERR_INVALID, "an automatic split must be resolved by the caller "
                                       "(stratified or k-fold) before splitting");
    if (o->kind != KN_SPLIT_KFOLD && !labels)
        return kn_fail(KN_ERR_INVALID, "a %s split needs a label per row",
                       o->kind == KN_SPLIT_GROUP ? "group" : "stratified");
    if (o->kind == KN_SPLIT_GROUP && reps > 1)
        return kn_fail(KN_ERR_INVALID, "group k-fold has no randomness to repeat; use one repeat");
    size_t *test_fold = kn_malloc(n * sizeof *test_fold), *order = kn_malloc(n * sizeof *order);
    out->fold = kn_calloc(k * reps, sizeof *out->fold);
    kn_status e = test_fold && order && out->fold ? KN_OK : KN_ERR_NOMEM;
    if (e == KN_OK) out->k = k * reps;
    for (size_t r = 0; e == KN_OK && r < reps; r++) {
        kn_rng rng;
        kn_rng_init_stream(&rng, o->seed, r);
        kn_rng *shuffled = o->shuffle || reps > 1 ? &rng : NULL;
        if (o->kind == KN_SPLIT_KFOLD)
            assign_kfold(n, k, shuffled, order, test_fold);
        else if (o->kind == KN_SPLIT_STRATIFIED)
            e = assign_stratified(n, labels, k, shuffled, test_fold);
        else
            e = assign_group(n, labels, k, test_fold);
        for (size_t f = 0; e == KN_OK && f < k; f++)
            e = fold_from_assignment(test_fold, n, f, &out->fold[r * k + f]);
    }
    kn_free(test_fold);
    kn_free(order);
    if (e != KN_OK) kn_folds_free(out);
    return e;
}

/* Sizes of the parts of m rows: floor(share * m), the rest handed out by
 * largest fractional part (the earlier part on a tie). */
static void part_sizes(size_t m, const double *shares, size_t parts, size_t *sizes)
{
    size_t given = 0;
    for (size_t p = 0; p < parts; p++) given += sizes[p] = (size_t)floor(shares[p] * (double)m);
    while (given < m) {
        size_t best = 0;
        double best_frac = -1;
        for (size_t p = 0; p < parts; p++) {
            double frac = shares[p] * (double)m - (double)sizes[p];
            if (frac > best_frac) best_frac = frac, best = p;
        }
        sizes[best]++;
        given++;
    }
}

static int cmp_size(const void *a, const void *b)
{
    size_t x = *(const size_t *)a, y = *(const size_t *)b;
    return (x > y) - (x < y);
}

kn_status kn_split_shares(size_t n, const int32_t *strata, const double *shares, size_t n_parts,
                          uint64_t seed, size_t **parts, size_t *sizes)
{
    double total = 0;
    for (size_t p = 0; p < n_parts; p++) {
        if (!(shares[p] >= 0)) return kn_fail(KN_ERR_INVALID, "split shares must be >= 0");
        total += shares[p];
    }
    if (n_parts == 0 || fabs(total - 1) > 1e-9)
        return kn_fail(KN_ERR_INVALID, "split shares must add up to 1 (they add up to %g)", total);
    size_t strata_n = 1;
    for (size_t i = 0; strata && i < n; i++)
        if ((size_t)strata[i] + 1 > strata_n) strata_n = (size_t)strata[i] + 1;
    size_t *rows = kn_malloc((n ? n : 1) * sizeof *rows), *sz = kn_malloc(n_parts * sizeof *sz);
    kn_status e = rows && sz ? KN_OK : KN_ERR_NOMEM;
    for (size_t p = 0; p < n_parts; p++) {
        parts[p] = e == KN_OK ? kn_malloc((n ? n : 1) * sizeof **parts) : NULL;
        sizes[p] = 0;
        if (!parts[p]) e = KN_ERR_NOMEM;
    }
    kn_rng rng;
    kn_rng_init(&rng, seed);
    for (size_t s = 0; e == KN_OK && s < strata_n; s++) {
        size_t m = 0;
        for (size_t i = 0; i < n; i++)
            if (!strata || (size_t)strata[i] == s) rows[m++] = i;
        shuffle(rows, m, &rng);
        part_sizes(m, shares, n_parts, sz);
        for (size_t p = 0, pos = 0; p < n_parts; p++)
            for (size_t r = 0; r < sz[p]; r++) parts[p][sizes[p]++] = rows[pos++];
    }
    for (size_t p = 0; e == KN_OK && p < n_parts; p++)
        qsort(parts[p], sizes[p], sizeof **parts, cmp_size);
    if (e != KN_OK)
        for (size_t p = 0; p < n_parts; p++) {
            kn_free(parts[p]);
            parts[p] = NULL;
        }
    kn_free(rows);
    kn_free(sz);
    return e;
}

typedef struct ranked {
    double v;
    size_t i;
} ranked;

static int by_value(const void *a, const void *b)
{
    const ranked *x = a, *y = b;
    return (x->v > y->v) - (x->v < y->v);
}

typedef struct level {
    const char *text;
    int32_t code;
} level;

static int by_text(const void *a, const void *b)
{
    return strcmp(((const level *)a)->text, ((const level *)b)->text);
}

kn_status kn_split_labels(const kn_frame *f, const char *column, int32_t **codes, size_t *k)
{
    size_t j, n = kn_frame_n_rows(f);
    char hint[160];
    if (kn_frame_find(f, column, &j) != KN_OK)
        return kn_fail(KN_ERR_NOT_FOUND, "label column '%s' is not in the data%s", column,
                       kn_frame_did_you_mean(f, column, hint, sizeof hint));
    kn_column *c = kn_frame_col(f, j);
    kn_col_type t = kn_column_type(c);
    if (t != KN_COL_NUMERIC && t != KN_COL_CATEGORICAL)
        return kn_fail(KN_ERR_TYPE, "label column '%s' is %s; use a categorical or numeric column",
                       column, kn_col_type_name(t));
    for (size_t i = 0; i < n; i++)
        if (kn_column_is_missing(c, i))
            return kn_fail(KN_ERR_INVALID, "label column '%s', row %zu is missing", column, i + 1);
    int32_t *out = kn_malloc((n ? n : 1) * sizeof *out);
    if (!out) return KN_ERR_NOMEM;
    size_t distinct = 0;
    if (t == KN_COL_NUMERIC) {
        ranked *r = kn_malloc((n ? n : 1) * sizeof *r);
        if (!r) {
            kn_free(out);
            return KN_ERR_NOMEM;
        }
        for (size_t i = 0; i < n; i++) r[i] = (ranked){kn_column_f64(c)[i], i};
        qsort(r, n, sizeof *r, by_value);
        for (size_t i = 0; i < n; i++) {
            if (i > 0 && r[i].v != r[i - 1].v) distinct++;
            out[r[i].i] = (int32_t)distinct;
        }
        distinct += n > 0;
        kn_free(r);
    } else {
        size_t levels = kn_column_n_levels(c);
        level *order = kn_malloc((levels ? levels : 1) * sizeof *order);
        int32_t *rank = kn_calloc(levels ? levels : 1, sizeof *rank);
        if (!order || !rank) {
            kn_free(order), kn_free(rank), kn_free(out);
            return KN_ERR_NOMEM;
        }
        const int32_t *cc = kn_column_codes(c);
        for (size_t i = 0; i < n; i++) rank[cc[i]] = 1; /* used levels first marked */
        size_t m = 0;
        for (size_t l = 0; l < levels; l++)
            if (rank[l]) order[m++] = (level){kn_column_level(c, (int32_t)l, NULL), (int32_t)l};
        qsort(order, m, sizeof *order, by_text);
        for (size_t r = 0; r < m; r++) rank[order[r].code] = (int32_t)r;
        for (size_t i = 0; i < n; i++) out[i] = rank[cc[i]];
        distinct = m;
        kn_free(order), kn_free(rank);
    }
    *codes = out;
    *k = distinct;
    return KN_OK;
}

kn_status kn_split_class_balance(const kn_frame *f, const char *column, kn_class_balance *out)
{
    memset(out, 0, sizeof *out);
    int32_t *lab = NULL;
    size_t k = 0, n = kn_frame_n_rows(f);
    kn_status e = kn_split_labels(f, column, &lab, &k);
    if (e != KN_OK) return e;
    size_t *count = kn_calloc(k ? k : 1, sizeof *count);
    if (!count) {
        kn_free(lab);
        return KN_ERR_NOMEM;
    }
    for (size_t i = 0; i < n; i++)
        if (lab[i] >= 0) count[lab[i]]++;
    out->k = k;
    out->smallest = k ? count[0] : 0;
    for (size_t c = 0; c < k; c++) {
        out->rows += count[c];
        out->smallest = count[c] < out->smallest ? count[c] : out->smallest;
        out->largest = count[c] > out->largest ? count[c] : out->largest;
    }
    kn_free(count);
    kn_free(lab);
    return KN_OK;
}
