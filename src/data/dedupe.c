/* Duplicate rows: grouped by a 64-bit hash of the key columns (radix
 * sorted, so rows stay in order inside a group), then compared exactly.
 * Where up to WORD_COLS key columns span few values together (codes, small
 * integers, free text interned once unless nearly all distinct) they are
 * made words instead (keys-impl.h: one 64-bit word per cell, a missing cell
 * a word of its own), and a direct index gives the groups with no hash or
 * sort. */
#include "data/keys-impl.h"
#include "data/rows-impl.h"
#include "data/sort-impl.h"
#include "kiln/mem.h"

#include <math.h>
#include <string.h>

/* Most key columns dedupe keys by words. */
#define WORD_COLS 16
/* Cells of a free-text key sampled to decide whether to intern it. */
#define SAMPLE 4096

/* A hash of one cell, equal for equal values. */
static uint64_t cell_hash(const kn_column *c, size_t i)
{
    uint64_t v = 0;
    switch (c->type) {
    case KN_COL_NUMERIC: {
        double d = c->f64[i];
        if (isnan(d)) return 0x7ff8dead;
        if (d == 0) d = 0; /* -0 == +0 */
        memcpy(&v, &d, sizeof v);
        break;
    }
    case KN_COL_CATEGORICAL:
        v = (uint64_t)(int64_t)c->codes[i];
        break;
    case KN_COL_TIMESTAMP:
    case KN_COL_INT64: /* exact: 2^53 + 1 and 2^53 differ */
        v = (uint64_t)c->ts[i];
        break;
    case KN_COL_STRING: {
        size_t len;
        const char *t = kn_column_str(c, i, &len);
        return t ? kn__hash_bytes(t, len) : 0x5eed;
    }
    }
    v *= 0x9e3779b97f4a7c15ull;
    return v ^ (v >> 29);
}

static int cells_equal(const kn_column *c, size_t a, size_t b)
{
    switch (c->type) {
    case KN_COL_NUMERIC:
        return c->f64[a] == c->f64[b] || (isnan(c->f64[a]) && isnan(c->f64[b]));
    case KN_COL_CATEGORICAL:
        return c->codes[a] == c->codes[b];
    case KN_COL_TIMESTAMP:
    case KN_COL_INT64:
        return c->ts[a] == c->ts[b];
    case KN_COL_STRING: {
        size_t la, lb;
        const char *ta = kn_column_str(c, a, &la), *tb = kn_column_str(c, b, &lb);
        if (!ta || !tb) return ta == tb;
        return la == lb && memcmp(ta, tb, la) == 0;
    }
    }
    return 0;
}

static int rows_equal(const kn_frame *f, const size_t *cols, size_t n_cols, size_t a, size_t b)
{
    for (size_t j = 0; j < n_cols; j++)
        if (!cells_equal(f->cols[cols[j]], a, b)) return 0;
    return 1;
}

/* Marks the duplicates among rows grouped by hash: h[i] (consumed) is row
 * i's hash; rows of one hash are compared exactly, in row order. */
static kn_status mark_hashed(const kn_frame *f, const size_t *cols, size_t n_cols, int keep_last,
                             uint64_t *h, unsigned char *dup, size_t *count)
{
    size_t n = f->n_rows;
    uint64_t *row = kn_malloc(n * sizeof *row);
    uint64_t *th = kn_malloc(n * sizeof *th), *tr = kn_malloc(n * sizeof *tr);
    if (!row || !th || !tr) {
        kn_free(row);
        kn_free(th);
        kn_free(tr);
        return KN_ERR_NOMEM;
    }
    for (size_t i = 0; i < n; i++) row[i] = i;
    kn__sort_u64_pairs(h, row, th, tr, n);
    size_t dups = 0;
    for (size_t a = 0; a < n;) {
        size_t b = a + 1;
        while (b < n && h[b] == h[a]) b++;
        /* a row is a duplicate if it equals a member before it (or after it, to keep the last) */
        for (size_t x = a; x < b; x++) {
            int d = 0;
            if (!keep_last)
                for (size_t y = a; y < x && !d; y++)
                    d = rows_equal(f, cols, n_cols, row[x], row[y]);
            else
                for (size_t y = x + 1; y < b && !d; y++)
                    d = rows_equal(f, cols, n_cols, row[x], row[y]);
            dup[row[x]] = (unsigned char)d;
            dups += (size_t)d;
        }
        a = b;
    }
    *count = dups;
    kn_free(row);
    kn_free(th);
    kn_free(tr);
    return KN_OK;
}

/* 1 when the key columns are few enough for words (8 bytes a cell) and no
 * free-text key is nearly all distinct in its first SAMPLE cells: interning
 * such text costs more than hashing and sorting it. */
static int word_keys(const kn_frame *f, const size_t *cols, size_t n_cols)
{
    if (n_cols < 1 || n_cols > WORD_COLS) return 0;
    int ok = 1;
    for (size_t j = 0; ok && j < n_cols; j++) {
        const kn_column *c = f->cols[cols[j]];
        if (c->type != KN_COL_STRING) continue;
        kn_dict d;
        kn__dict_init(&d);
        size_t rows = f->n_rows < SAMPLE ? f->n_rows : SAMPLE;
        for (size_t r = 0; ok && r < rows; r++) {
            size_t len;
            int32_t code;
            const char *t = kn_column_str(c, r, &len);
            ok = !t || kn__dict_intern(&d, t, len, &code) == KN_OK;
        }
        ok = ok && 16 * d.n <= 15 * rows;
        kn__dict_free(&d);
    }
    return ok;
}

/* 1 when the key columns cs (codes, integers, whole numbers) span few
 * enough values together for a direct index over rows rows (each column's
 * range and its missing word; as in kn__words_group). */
static int small_span(const kn_column *const *cs, size_t n_cols, size_t rows)
{
    double total = 1, limit = 4.0 * (double)rows + 1024;
    for (size_t j = 0; j < n_cols; j++) {
        const kn_column *c = cs[j];
        double lo = INFINITY, hi = -INFINITY;
        switch (c->type) {
        case KN_COL_CATEGORICAL:
            lo = 0;
            hi = (double)c->dict.n;
            break;
        case KN_COL_INT64:
        case KN_COL_TIMESTAMP:
            for (size_t r = 0; r < rows; r++) {
                if (c->ts[r] == KN_I64_MISSING) continue;
                double x = (double)c->ts[r];
                lo = x < lo ? x : lo;
                hi = x > hi ? x : hi;
            }
            break;
        case KN_COL_NUMERIC:
            for (size_t r = 0; r < rows; r++) {
                double x = c->f64[r];
                if (isnan(x)) continue;
                if (x != floor(x) || fabs(x) >= 4.6e18) return 0; /* keyed by its bits */
                lo = x < lo ? x : lo;
                hi = x > hi ? x : hi;
            }
            break;
        default:
            return 0;
        }
        if (lo > hi) lo = hi = 0;
        total *= hi - lo + 2;
        if (total > limit) return 0;
    }
    return 1;
}

kn_status kn__mark_duplicates(const kn_frame *f, const size_t *cols, size_t n_cols, int keep_last,
                              unsigned char *dup, size_t *count)
{
    size_t n = f->n_rows;
    *count = 0;
    if (n < 2) return KN_OK;
    uint64_t *h = NULL;
    kn_status e = KN_OK;
    const kn_column *cs[KN__KEYS_MAX];
    kn__views v = {0};
    if (word_keys(f, cols, n_cols)) {
        for (size_t j = 0; j < n_cols; j++) cs[j] = f->cols[cols[j]];
        e = kn__views_make(cs, n, n_cols, &v);
    }
    if (e == KN_OK && v.n && small_span(v.c, n_cols, n)) {
        /* keys that span little: group ids by a direct index, the kept row
         * of each group its first (or last) */
        kn__words w = {0};
        size_t *of = kn_malloc(n * sizeof *of), *keep = kn_malloc(n * sizeof *keep), groups = 0;
        e = of && keep ? kn__words_build(v.c, n, v.c, n, n_cols, KN__WORDS_MISSING_EQUAL, &w)
                       : KN_ERR_NOMEM;
        int direct = e == KN_OK && kn__words_group_direct(&w, of, keep, &groups, &e);
        if (e == KN_OK && direct) {
            for (size_t r = 0; keep_last && r < n; r++) keep[of[r]] = r;
            for (size_t r = 0; r < n; r++) dup[r] = keep[of[r]] != r;
            *count = n - groups;
        } else if (e == KN_OK) {
            h = w.hash; /* the words' row hashes */
            w.hash = NULL;
        }
        kn__words_free(&w);
        kn_free(of);
        kn_free(keep);
        if (e != KN_OK || direct) {
            kn__views_free(&v);
            return e;
        }
    }
    kn__views_free(&v);
    if (e != KN_OK) return e;
    if (!h) {
        if (!(h = kn_calloc(n, sizeof *h))) return KN_ERR_NOMEM;
        for (size_t j = 0; j < n_cols; j++) {
            const kn_column *c = f->cols[cols[j]];
#pragma omp parallel for schedule(static) if (n > 16384)
            for (size_t i = 0; i < n; i++) h[i] = (h[i] * 0x100000001b3ull) ^ cell_hash(c, i);
        }
    }
    e = mark_hashed(f, cols, n_cols, keep_last, h, dup, count);
    kn_free(h);
    return e;
}

kn_status kn_frame_dedupe(const kn_frame *f, const size_t *keys, size_t n_keys, int keep_last,
                          kn_frame **out, size_t *removed)
{
    size_t n = f->n_rows;
    size_t *all = NULL;
    if (!keys) {
        all = kn_malloc((f->n_cols ? f->n_cols : 1) * sizeof *all);
        if (!all) return KN_ERR_NOMEM;
        for (size_t j = 0; j < f->n_cols; j++) all[j] = j;
        keys = all;
        n_keys = f->n_cols;
    }
    for (size_t j = 0; j < n_keys; j++)
        if (keys[j] >= f->n_cols) {
            kn_free(all);
            return kn_fail(KN_ERR_RANGE, "dedupe: key column index %zu out of range", keys[j]);
        }
    unsigned char *dup = kn_calloc(n ? n : 1, 1);
    size_t *keep = kn_malloc((n ? n : 1) * sizeof *keep);
    size_t count = 0, k = 0;
    kn_status st =
        dup && keep ? kn__mark_duplicates(f, keys, n_keys, keep_last, dup, &count) : KN_ERR_NOMEM;
    for (size_t i = 0; i < n && st == KN_OK; i++)
        if (!dup[i]) keep[k++] = i;
    if (st == KN_OK) st = kn_frame_select_rows(f, keep, k, out);
    if (st == KN_OK && removed) *removed = count;
    kn_free(dup);
    kn_free(keep);
    kn_free(all);
    return st;
}
