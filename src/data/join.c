/* Hash join on key columns (row keys and the hash table: keys-impl.h). */
#include "data/frame-impl.h"
#include "data/keys-impl.h"
#include "kiln/combine.h"
#include "kiln/mem.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static kn_status find_keys(const kn_frame *f, const char *const *names, size_t n, const char *side,
                           size_t *cols)
{
    for (size_t i = 0; i < n; i++)
        if (kn_frame_find(f, names[i], &cols[i]) != KN_OK)
            return kn_fail_prefix(KN_ERR_NOT_FOUND, "join: %s key: ", side);
    return KN_OK;
}

/* The first right row each left row meets (MISSING_KEY: none), on the team:
 * probes only read the table. By words, then by canonical text. */
static void probe_words(const kn__words *lw, const kn__words *rw, const kn__table *t, size_t *first)
{
    long long nr = (long long)lw->n_rows;
#pragma omp parallel for schedule(static) if (nr > 65536)
    for (long long i = 0; i < nr; i++) first[i] = kn__wtable_find(t, rw, lw, (size_t)i);
}

static void probe_text(const kn__keys *lk, const kn__keys *rk, const kn__table *t, size_t *first)
{
    long long nr = (long long)lk->n_rows;
#pragma omp parallel for schedule(static) if (nr > 65536)
    for (long long i = 0; i < nr; i++) {
        size_t r = (size_t)i;
        first[r] = lk->len[r] == MISSING_KEY ? MISSING_KEY : kn__table_find(t, rk, lk, r);
    }
}

/* Row pairs of the join: li[i] with ri[i] (MISSING_KEY: no right row). Semi
 * and anti joins keep left rows once, with no right row. */
static kn_status pair_rows(const kn_frame *left, const size_t *lcols, size_t n_keys,
                           const size_t *first, const kn__table *t, size_t right_rows,
                           kn_join_kind kind, size_t **li, size_t **ri, size_t *n,
                           kn_join_report *rep)
{
    size_t rows = left->n_rows, m = 0;
    /* rows per chain, counted once from its head, to size the output */
    size_t *chain = kn_calloc(right_rows ? right_rows : 1, sizeof *chain);
    unsigned char *used = kn_calloc(right_rows ? right_rows : 1, 1);
    if (!chain || !used) {
        kn_free(chain);
        kn_free(used);
        return KN_ERR_NOMEM;
    }
    for (size_t r = 0; r < rows; r++) {
        size_t q = first[r];
        if (q == MISSING_KEY) {
            rep->left_unmatched++;
            if (rep->n_examples < KN_JOIN_EXAMPLES) {
                char *ex = rep->examples[rep->n_examples];
                kn__key_text(left, lcols, n_keys, r, ex, sizeof rep->examples[0]);
                rep->n_examples += ex[0] != '\0';
            }
            m += kind == KN_JOIN_LEFT || kind == KN_JOIN_ANTI;
            continue;
        }
        if (kind == KN_JOIN_SEMI || kind == KN_JOIN_ANTI) {
            m += kind == KN_JOIN_SEMI;
            for (size_t p = q; p != MISSING_KEY && !used[p]; p = t->next[p]) used[p] = 1;
            continue;
        }
        if (!chain[q]) {
            for (size_t p = q; p != MISSING_KEY; p = t->next[p]) {
                chain[q]++;
                used[p] = 1;
            }
        }
        m += chain[q];
    }
    uint64_t limit = KN_JOIN_ROW_LIMIT(rows, right_rows);
    kn_status e = KN_OK;
    if (m > limit)
        e = kn_fail(KN_ERR_INVALID,
                    "join: %zu x %zu rows would give %zu rows, past the limit of %llu (repeated "
                    "keys on both sides multiply); make the right side's keys unique first "
                    "(dedupe or group it) or join on more key columns",
                    rows, right_rows, m, (unsigned long long)limit);
    size_t *a = e == KN_OK ? kn_malloc((m ? m : 1) * sizeof *a) : NULL;
    size_t *b = a ? kn_malloc((m ? m : 1) * sizeof *b) : NULL;
    if (e == KN_OK && !b) e = KN_ERR_NOMEM;
    size_t k = 0;
    for (size_t r = 0; e == KN_OK && r < rows; r++) {
        size_t q = first[r];
        if (kind == KN_JOIN_SEMI || kind == KN_JOIN_ANTI) {
            if ((q != MISSING_KEY) == (kind == KN_JOIN_SEMI)) {
                a[k] = r;
                b[k++] = MISSING_KEY;
            }
            continue;
        }
        if (q == MISSING_KEY) {
            if (kind == KN_JOIN_LEFT) {
                a[k] = r;
                b[k++] = MISSING_KEY;
            }
            continue;
        }
        for (size_t p = q; p != MISSING_KEY; p = t->next[p]) {
            a[k] = r;
            b[k++] = p;
        }
    }
    for (size_t q = 0; e == KN_OK && q < right_rows; q++) rep->right_unmatched += !used[q];
    kn_free(chain);
    kn_free(used);
    if (e != KN_OK) {
        kn_free(a);
        kn_free(b);
        return e;
    }
    *li = a;
    *ri = b;
    *n = m;
    return KN_OK;
}

/* Right's non-key columns, for the paired rows (a missing row where none). */
static kn_status right_part(const kn_frame *right, const size_t *rcols, size_t n_keys,
                            const size_t *ri, size_t m, kn_frame **out)
{
    size_t *keep = kn_malloc((right->n_cols ? right->n_cols : 1) * sizeof *keep), nk = 0;
    if (!keep) return KN_ERR_NOMEM;
    for (size_t j = 0; j < right->n_cols; j++) {
        int is_key = 0;
        for (size_t i = 0; i < n_keys; i++) is_key |= rcols[i] == j;
        if (!is_key) keep[nk++] = j;
    }
    kn_frame *cols = NULL, *rows = NULL;
    size_t *idx = kn_malloc((m ? m : 1) * sizeof *idx);
    kn_status e = idx ? kn_frame_select_cols(right, keep, nk, &cols) : KN_ERR_NOMEM;
    if (e == KN_OK) e = kn_frame_resize(cols, right->n_rows + 1); /* the missing row */
    for (size_t i = 0; e == KN_OK && i < m; i++)
        idx[i] = ri[i] == MISSING_KEY ? right->n_rows : ri[i];
    if (e == KN_OK) e = kn_frame_select_rows(cols, idx, m, &rows);
    kn_frame_free(cols);
    kn_free(idx);
    kn_free(keep);
    if (e == KN_OK) *out = rows;
    return e;
}

/* Move every column of part into out, renaming clashes with "_right" (then _right2, ...). */
static kn_status attach(kn_frame *out, kn_frame *part)
{
    while (part->n_cols) {
        char name[1100];
        snprintf(name, sizeof name, "%s", part->cols[0]->name);
        size_t j;
        for (int k = 1; kn_frame_find(out, name, &j) == KN_OK; k++)
            snprintf(name, sizeof name, k == 1 ? "%s_right" : "%s_right%d", part->cols[0]->name, k);
        kn_status e = kn_frame_take_column(out, part, 0, name);
        if (e != KN_OK) return e;
    }
    return KN_OK;
}

kn_status kn_frame_join(const kn_frame *left, const kn_frame *right, const char *const *left_keys,
                        const char *const *right_keys, size_t n, kn_join_kind kind, kn_frame **out,
                        kn_join_report *report)
{
    if (n == 0 || n > 64) return kn_fail(KN_ERR_INVALID, "join: give 1 to 64 key columns");
    size_t lcols[64], rcols[64];
    kn_status e = find_keys(left, left_keys, n, "left", lcols);
    if (e == KN_OK) e = find_keys(right, right_keys, n, "right", rcols);
    if (e != KN_OK) return e;
    if ((unsigned)kind > KN_JOIN_ANTI)
        return kn_fail(KN_ERR_INVALID, "join: kind %d is not inner, left, semi or anti", (int)kind);
    const kn_column *lpeer[64], *rpeer[64];
    for (size_t i = 0; i < n; i++) {
        lpeer[i] = right->cols[rcols[i]];
        rpeer[i] = left->cols[lcols[i]];
    }
    kn_join_report rep = {left->n_rows, right->n_rows, 0, 0, 0, 0, {{0}}};
    kn__keys lk = {0}, rk = {0};
    kn__words lw = {0}, rw = {0};
    kn__table t = {0};
    size_t *li = NULL, *ri = NULL, m = 0;
    size_t *first = kn_malloc((left->n_rows ? left->n_rows : 1) * sizeof *first);
    kn_frame *res = NULL, *part = NULL;
    int words = kn__words_usable(left, lcols, lpeer, n);
    e = first ? KN_OK : KN_ERR_NOMEM;
    if (e == KN_OK && words) {
        /* right's categorical codes are mapped into left's dictionaries once */
        e = kn__words_build(left, lcols, lpeer, right->n_rows, n, 0, &lw);
        if (e == KN_OK) e = kn__words_build(right, rcols, rpeer, left->n_rows, n, 1, &rw);
        if (e == KN_OK) e = kn__wtable_build(&rw, &t);
        if (e == KN_OK) probe_words(&lw, &rw, &t, first);
    } else if (e == KN_OK) {
        e = kn__keys_build(left, lcols, lpeer, n, &lk);
        if (e == KN_OK) e = kn__keys_build(right, rcols, rpeer, n, &rk);
        if (e == KN_OK) e = kn__table_build(&rk, &t);
        if (e == KN_OK) probe_text(&lk, &rk, &t, first);
    }
    kn__keys_free(&lk);
    kn__keys_free(&rk);
    kn__words_free(&lw);
    kn__words_free(&rw);
    if (e == KN_OK)
        e = pair_rows(left, lcols, n, first, &t, right->n_rows, kind, &li, &ri, &m, &rep);
    kn_free(first);
    if (e == KN_OK) e = kn_frame_select_rows(left, li, m, &res);
    if (e == KN_OK && kind != KN_JOIN_SEMI && kind != KN_JOIN_ANTI)
        e = right_part(right, rcols, n, ri, m, &part);
    if (e == KN_OK && part) e = attach(res, part);
    kn__table_free(&t);
    kn_free(li);
    kn_free(ri);
    kn_frame_free(part);
    if (e != KN_OK) {
        kn_frame_free(res);
        return e;
    }
    rep.out_rows = m;
    if (report) *report = rep;
    *out = res;
    return KN_OK;
}
