/* Hash join on key columns (row keys and the hash table: keys-impl.h). */
#include "data/dict-impl.h"
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

/* Right joins: the pairs a[0..k) (left order) and the unmatched right rows
 * into right order, each right row's pairs in left order (a stable counting
 * sort by right row), into a[0..m), b[0..m). */
static kn_status right_order(size_t *a, size_t *b, size_t k, size_t m, const unsigned char *used,
                             size_t right_rows)
{
    size_t *at = kn_calloc(right_rows + 1, sizeof *at);
    size_t *na = kn_malloc((m ? m : 1) * sizeof *na), *nb = kn_malloc((m ? m : 1) * sizeof *nb);
    if (!at || !na || !nb) {
        kn_free(at);
        kn_free(na);
        kn_free(nb);
        return KN_ERR_NOMEM;
    }
    for (size_t i = 0; i < k; i++) at[b[i] + 1]++;
    for (size_t q = 0; q < right_rows; q++) at[q + 1] += at[q] + !used[q];
    for (size_t q = 0; q < right_rows; q++)
        if (!used[q]) {
            na[at[q]] = MISSING_KEY;
            nb[at[q]] = q;
        }
    for (size_t i = 0; i < k; i++) {
        size_t p = at[b[i]]++;
        na[p] = a[i];
        nb[p] = b[i];
    }
    memcpy(a, na, m * sizeof *a);
    memcpy(b, nb, m * sizeof *b);
    kn_free(at);
    kn_free(na);
    kn_free(nb);
    return KN_OK;
}

/* Row pairs of the join: li[i] with ri[i] (MISSING_KEY: no row on that
 * side). Semi and anti joins keep left rows once, with no right row; full
 * joins end with the right rows no left row matched; right joins are put in
 * right order after. */
static kn_status pair_rows(const kn_frame *left, const size_t *lcols, size_t n_keys,
                           const size_t *first, const kn__table *t, size_t right_rows,
                           kn_join_kind kind, size_t **li, size_t **ri, size_t *n,
                           kn_join_report *rep)
{
    size_t rows = left->n_rows, m = 0;
    /* left and full joins keep unmatched left rows; right and full joins add the
     * unmatched right rows */
    int keep = kind == KN_JOIN_LEFT || kind == KN_JOIN_FULL;
    int outer_right = kind == KN_JOIN_RIGHT || kind == KN_JOIN_FULL;
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
            m += keep || kind == KN_JOIN_ANTI;
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
    for (size_t q = 0; outer_right && q < right_rows; q++) m += !used[q];
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
            if (keep) {
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
    for (size_t q = 0; e == KN_OK && q < right_rows; q++) {
        rep->right_unmatched += !used[q];
        if (kind == KN_JOIN_FULL && !used[q]) {
            a[k] = MISSING_KEY;
            b[k++] = q;
        }
    }
    if (e == KN_OK && kind == KN_JOIN_RIGHT) e = right_order(a, b, k, m, used, right_rows);
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

/* Output key column j of f takes right key column rc's values in the rows
 * where no left row pairs; a column of another type than rc holds text. */
static kn_status fill_key(kn_frame *f, size_t j, const kn_column *rc, const size_t *li,
                          const size_t *ri, size_t m)
{
    kn_column *c = f->cols[j];
    if (c->type != rc->type && (c->type == KN_COL_NUMERIC || c->type == KN_COL_INT64)) {
        kn_status e = kn__column_retype(f, j, KN_COL_CATEGORICAL);
        if (e != KN_OK) return e;
        c = f->cols[j];
    }
    for (size_t i = 0; i < m; i++) {
        if (li[i] != MISSING_KEY || ri[i] == MISSING_KEY) continue;
        kn_status e = KN_OK;
        char buf[64];
        const char *text;
        size_t len;
        if (c->type == rc->type)
            e = kn__column_copy_cell(c, i, rc, ri[i]);
        else if (!kn__cell_text(rc, ri[i], buf, sizeof buf, &text, &len))
            continue; /* a missing right key stays missing */
        else if (c->type == KN_COL_CATEGORICAL)
            e = kn__dict_intern(&c->dict, text, len, &c->codes[i]);
        else
            e = kn_column_set_str(c, i, text, len);
        if (e != KN_OK) return e;
    }
    return KN_OK;
}

/* Left's columns for the pairs of a right or full join: missing where no left
 * row pairs, but the key columns, which take right's keys there. */
static kn_status outer_left_part(const kn_frame *left, const kn_frame *right, const size_t *lcols,
                                 const size_t *rcols, size_t n, const size_t *li, const size_t *ri,
                                 size_t m, kn_frame **out)
{
    for (size_t k = 0; k < n; k++) {
        kn_col_type lt = left->cols[lcols[k]]->type, rt = right->cols[rcols[k]]->type;
        if (lt != rt && (lt == KN_COL_TIMESTAMP || rt == KN_COL_TIMESTAMP))
            return kn_fail(KN_ERR_TYPE,
                           "join: key '%s' is %s on the left and '%s' %s on the right; a right "
                           "or full join gives one key column, so convert one side's type "
                           "(a retype step) to the other's first",
                           left->cols[lcols[k]]->name, kn_col_type_name(lt),
                           right->cols[rcols[k]]->name, kn_col_type_name(rt));
    }
    size_t *idx = kn_malloc((m ? m : 1) * sizeof *idx);
    if (!idx) return KN_ERR_NOMEM;
    for (size_t i = 0; i < m; i++) idx[i] = li[i] == MISSING_KEY ? 0 : li[i];
    kn_frame *rows = NULL;
    /* an empty left side gives a frame of its columns, every cell missing */
    kn_status e = kn_frame_select_rows(left, idx, left->n_rows ? m : 0, &rows);
    kn_free(idx);
    if (e == KN_OK && !left->n_rows) e = kn_frame_resize(rows, m);
    for (size_t j = 0; e == KN_OK && j < rows->n_cols; j++)
        for (size_t i = 0; i < m; i++)
            if (li[i] == MISSING_KEY) kn__column_fill_missing(rows->cols[j], i, i + 1);
    for (size_t k = 0; e == KN_OK && k < n; k++)
        e = fill_key(rows, lcols[k], right->cols[rcols[k]], li, ri, m);
    if (e != KN_OK) {
        kn_frame_free(rows);
        return e;
    }
    *out = rows;
    return KN_OK;
}

kn_status kn__join_attach(kn_frame *out, kn_frame *part)
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

/* Key rows of probe against a table over build's rows: first[r] is the first
 * build row probe row r meets (MISSING_KEY: none); t holds build's chains. */
static kn_status match(const kn_frame *probe, const size_t *pcols, const kn_frame *build,
                       const size_t *bcols, size_t n, size_t *first, kn__table *t)
{
    const kn_column *pcs[64], *bcs[64];
    for (size_t i = 0; i < n; i++) {
        pcs[i] = probe->cols[pcols[i]];
        bcs[i] = build->cols[bcols[i]];
    }
    kn__keys pk = {0}, bk = {0};
    kn__words pw = {0}, bw = {0};
    kn__views pv = {0}, bv = {0};
    kn_status e;
    if (kn__words_usable(pcs, bcs, n)) {
        /* free text keys as codes, then build's codes mapped into probe's
         * dictionaries once */
        e = kn__views_make(pcs, probe->n_rows, n, &pv);
        if (e == KN_OK) e = kn__views_make(bcs, build->n_rows, n, &bv);
        if (e == KN_OK) e = kn__words_build(pv.c, probe->n_rows, bv.c, build->n_rows, n, 0, &pw);
        if (e == KN_OK)
            e = kn__words_build(bv.c, build->n_rows, pv.c, probe->n_rows, n, KN__WORDS_MAP_TO_PEER,
                                &bw);
        if (e == KN_OK) e = kn__wtable_build(&bw, t);
        if (e == KN_OK) probe_words(&pw, &bw, t, first);
    } else {
        e = kn__keys_build(probe, pcols, bcs, n, &pk);
        if (e == KN_OK) e = kn__keys_build(build, bcols, pcs, n, &bk);
        if (e == KN_OK) e = kn__table_build(&bk, t);
        if (e == KN_OK) probe_text(&pk, &bk, t, first);
    }
    kn__views_free(&pv);
    kn__views_free(&bv);
    kn__keys_free(&pk);
    kn__keys_free(&bk);
    kn__words_free(&pw);
    kn__words_free(&bw);
    return e;
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
    if ((unsigned)kind > KN_JOIN_FULL)
        return kn_fail(KN_ERR_INVALID,
                       "join: kind %d is not inner, left, right, full, semi or anti", (int)kind);
    kn_join_report rep = {left->n_rows, right->n_rows, 0, 0, 0, 0, {{0}}};
    kn__table t = {0};
    size_t *li = NULL, *ri = NULL, m = 0;
    size_t *first = kn_malloc((left->n_rows ? left->n_rows : 1) * sizeof *first);
    kn_frame *res = NULL, *part = NULL;
    e = first ? match(left, lcols, right, rcols, n, first, &t) : KN_ERR_NOMEM;
    if (e == KN_OK)
        e = pair_rows(left, lcols, n, first, &t, right->n_rows, kind, &li, &ri, &m, &rep);
    kn_free(first);
    if (e == KN_OK && (kind == KN_JOIN_RIGHT || kind == KN_JOIN_FULL))
        e = outer_left_part(left, right, lcols, rcols, n, li, ri, m, &res);
    else if (e == KN_OK)
        e = kn_frame_select_rows(left, li, m, &res);
    if (e == KN_OK && kind != KN_JOIN_SEMI && kind != KN_JOIN_ANTI)
        e = right_part(right, rcols, n, ri, m, &part);
    if (e == KN_OK && part) e = kn__join_attach(res, part);
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
