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

/* Example text of a left key: its parts joined by '|'. */
static void example(const kn__keys *k, size_t r, char *out, size_t cap)
{
    const char *p = k->text + k->off[r], *end = p + k->len[r];
    size_t used = 0;
    while (p < end && used + 1 < cap) {
        char *colon;
        size_t len = strtoull(p, &colon, 10);
        p = colon + 1;
        int w = snprintf(out + used, cap - used, "%s%.*s", used ? "|" : "", (int)len, p);
        used += w > 0 ? (size_t)w : 0;
        if (used >= cap) used = cap - 1;
        p += len;
    }
    out[used < cap ? used : cap - 1] = '\0';
}

/* Row pairs of the join: li[i] with ri[i] (MISSING_KEY: no right row). */
static kn_status pair_rows(const kn__keys *lk, const kn__keys *rk, const kn__table *t,
                           kn_join_kind kind, size_t **li, size_t **ri, size_t *n,
                           kn_join_report *rep)
{
    size_t cap = lk->n_rows + 16, m = 0;
    size_t *a = kn_malloc(cap * sizeof *a), *b = kn_malloc(cap * sizeof *b);
    unsigned char *used = kn_calloc(rk->n_rows ? rk->n_rows : 1, 1);
    kn_status e = a && b && used ? KN_OK : KN_ERR_NOMEM;
    for (size_t r = 0; e == KN_OK && r < lk->n_rows; r++) {
        size_t first = lk->len[r] == MISSING_KEY ? MISSING_KEY : kn__table_find(t, rk, lk, r);
        if (first == MISSING_KEY) {
            rep->left_unmatched++;
            if (rep->n_examples < KN_JOIN_EXAMPLES && lk->len[r] != MISSING_KEY)
                example(lk, r, rep->examples[rep->n_examples++], sizeof rep->examples[0]);
            if (kind == KN_JOIN_INNER) continue;
        }
        for (size_t q = first;; q = t->next[q]) {
            if (m == cap) {
                cap *= 2;
                size_t *na = kn_realloc(a, cap * sizeof *a),
                       *nb = na ? kn_realloc(b, cap * sizeof *b) : NULL;
                if (na) a = na;
                if (nb) b = nb;
                if (!na || !nb) {
                    e = KN_ERR_NOMEM;
                    break;
                }
            }
            a[m] = r;
            b[m++] = q;
            if (q == MISSING_KEY) break;
            used[q] = 1;
            if (t->next[q] == MISSING_KEY) break;
        }
    }
    for (size_t q = 0; e == KN_OK && q < rk->n_rows; q++) rep->right_unmatched += !used[q];
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
    const kn_column *lpeer[64], *rpeer[64];
    for (size_t i = 0; i < n; i++) {
        lpeer[i] = right->cols[rcols[i]];
        rpeer[i] = left->cols[lcols[i]];
    }
    kn_join_report rep = {left->n_rows, right->n_rows, 0, 0, 0, 0, {{0}}};
    kn__keys lk = {0}, rk = {0};
    kn__table t = {0};
    size_t *li = NULL, *ri = NULL, m = 0;
    kn_frame *res = NULL, *part = NULL;
    e = kn__keys_build(left, lcols, lpeer, n, &lk);
    if (e == KN_OK) e = kn__keys_build(right, rcols, rpeer, n, &rk);
    if (e == KN_OK) e = kn__table_build(&rk, &t);
    if (e == KN_OK) e = pair_rows(&lk, &rk, &t, kind, &li, &ri, &m, &rep);
    if (e == KN_OK) e = kn_frame_select_rows(left, li, m, &res);
    if (e == KN_OK) e = right_part(right, rcols, n, ri, m, &part);
    if (e == KN_OK) e = attach(res, part);
    kn__keys_free(&lk);
    kn__keys_free(&rk);
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
