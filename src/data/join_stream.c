/* A join's build side held once, probed batch by batch (kn_join_table in
 * kiln/combine.h): the right frame's keys and hash table are made at
 * kn_join_table_new, and each left batch is joined as kn_frame_join would
 * join it (same pairs, same column order and names). The report and the
 * row limit run over the batches so far. */
#include "data/frame-impl.h"
#include "data/keys-impl.h"
#include "kiln/combine.h"
#include "kiln/mem.h"

#include <string.h>

struct kn_join_table {
    const kn_frame *right; /* borrowed */
    kn_join_kind kind;
    size_t n, rcols[64];
    const char *left_keys[64]; /* borrowed: found in each batch */
    int words;                 /* keyed by words (else canonical text) */
    kn__views bv;
    kn__words bw;
    kn__keys bk;
    kn__table t;
    const kn_column *bc[64]; /* build key columns (bv's, or right's) */
    int whole[64];
    kn__wmap maps[64];
    kn_frame *rpart;     /* right's non-key columns and a missing row (not semi/anti) */
    size_t *chain;       /* per chain head: rows in its chain (0: not yet counted) */
    unsigned char *used; /* per right row: a left row met it */
    kn_join_report rep;
};

void kn_join_table_free(kn_join_table *t)
{
    if (!t) return;
    kn__views_free(&t->bv);
    kn__words_free(&t->bw);
    kn__keys_free(&t->bk);
    kn__table_free(&t->t);
    for (size_t i = 0; i < t->n; i++) kn_free(t->maps[i].map);
    kn_frame_free(t->rpart);
    kn_free(t->chain);
    kn_free(t->used);
    kn_free(t);
}

/* Right's non-key columns with one missing row after the last. */
static kn_status right_columns(const kn_frame *right, const size_t *rcols, size_t n, kn_frame **out)
{
    size_t *keep = kn_malloc((right->n_cols ? right->n_cols : 1) * sizeof *keep), nk = 0;
    if (!keep) return KN_ERR_NOMEM;
    for (size_t j = 0; j < right->n_cols; j++) {
        int is_key = 0;
        for (size_t i = 0; i < n; i++) is_key |= rcols[i] == j;
        if (!is_key) keep[nk++] = j;
    }
    kn_status e = kn_frame_select_cols(right, keep, nk, out);
    kn_free(keep);
    if (e == KN_OK) e = kn_frame_resize(*out, right->n_rows + 1);
    return e;
}

kn_status kn_join_table_new(const kn_frame *right, const char *const *right_keys,
                            const kn_frame *left_schema, const char *const *left_keys, size_t n,
                            kn_join_kind kind, kn_join_table **out)
{
    if (n == 0 || n > 64) return kn_fail(KN_ERR_INVALID, "join: give 1 to 64 key columns");
    if (kind == KN_JOIN_RIGHT || kind == KN_JOIN_FULL || (unsigned)kind > KN_JOIN_FULL)
        return kn_fail(KN_ERR_INVALID,
                       "join: a streamed join is inner, left, semi or anti (right and full joins "
                       "need every left row first)");
    size_t lcols[64];
    for (size_t i = 0; i < n; i++)
        if (kn_frame_find(left_schema, left_keys[i], &lcols[i]) != KN_OK)
            return kn_fail_prefix(KN_ERR_NOT_FOUND, "join: left key: ");
    kn_join_table *t = kn_calloc(1, sizeof *t);
    if (!t) return KN_ERR_NOMEM;
    t->right = right;
    t->kind = kind;
    t->n = n;
    t->rep.right_rows = right->n_rows;
    kn_status e = KN_OK;
    const kn_column *lcs[64], *rcs[64];
    for (size_t i = 0; e == KN_OK && i < n; i++) {
        t->left_keys[i] = left_keys[i];
        if (kn_frame_find(right, right_keys[i], &t->rcols[i]) != KN_OK)
            e = kn_fail_prefix(KN_ERR_NOT_FOUND, "join: right key: ");
        else {
            lcs[i] = left_schema->cols[lcols[i]];
            rcs[i] = right->cols[t->rcols[i]];
        }
    }
    size_t rows = right->n_rows;
    if (e == KN_OK && (t->words = kn__words_usable(lcs, rcs, n))) {
        e = kn__views_make(rcs, rows, n, &t->bv);
        if (e == KN_OK) e = kn__words_build(t->bv.c, rows, t->bv.c, rows, n, 0, &t->bw);
        if (e == KN_OK) e = kn__wtable_build(&t->bw, &t->t);
        if (e == KN_OK) { /* probes read the build words only to compare them in the hash table */
            kn_free(t->bw.hash);
            kn_free(t->bw.missing);
            t->bw.hash = NULL;
            t->bw.missing = NULL;
            if (t->t.direct) {
                kn_free(t->bw.w);
                t->bw.w = NULL;
            }
        }
        for (size_t i = 0; e == KN_OK && i < n; i++) {
            t->bc[i] = t->bv.c[i];
            t->whole[i] = kn__column_whole(t->bc[i], rows);
        }
    } else if (e == KN_OK) {
        e = kn__keys_build(right, t->rcols, lcs, n, &t->bk);
        if (e == KN_OK) e = kn__table_build(&t->bk, &t->t);
        for (size_t i = 0; i < n; i++) t->bc[i] = rcs[i];
    }
    if (e == KN_OK && kind != KN_JOIN_SEMI && kind != KN_JOIN_ANTI)
        e = right_columns(right, t->rcols, n, &t->rpart);
    if (e == KN_OK) {
        t->chain = kn_calloc(rows ? rows : 1, sizeof *t->chain);
        t->used = kn_calloc(rows ? rows : 1, 1);
        if (!t->chain || !t->used) e = KN_ERR_NOMEM;
    }
    if (e == KN_ERR_NOMEM)
        e = kn_fail_prefix(e,
                           "join: the right side (%zu rows) and its hash table do not fit, and "
                           "spilling them to disk is not implemented; make the smaller table the "
                           "right side (the side held in memory): ",
                           rows);
    if (e != KN_OK) {
        kn_join_table_free(t);
        return e;
    }
    *out = t;
    return KN_OK;
}

/* The first right row each batch row meets (MISSING_KEY: none). */
static kn_status probe(kn_join_table *t, const kn_frame *b, const size_t *lcols, size_t *first)
{
    const kn_column *cs[64];
    for (size_t i = 0; i < t->n; i++) cs[i] = b->cols[lcols[i]];
    long long nr = (long long)b->n_rows;
    kn_status e;
    if (t->words) {
        kn__words pw = {0};
        e = kn__words_probe(cs, b->n_rows, t->bc, t->whole, t->maps, t->n, &pw);
        if (e == KN_OK) {
#pragma omp parallel for schedule(static) if (nr > 65536)
            for (long long i = 0; i < nr; i++)
                first[i] = kn__wtable_find(&t->t, &t->bw, &pw, (size_t)i);
        }
        kn__words_free(&pw);
        return e;
    }
    kn__keys pk = {0};
    e = kn__keys_build(b, lcols, t->bc, t->n, &pk);
    if (e == KN_OK) {
#pragma omp parallel for schedule(static) if (nr > 65536)
        for (long long i = 0; i < nr; i++) {
            size_t r = (size_t)i;
            first[r] =
                pk.len[r] == MISSING_KEY ? MISSING_KEY : kn__table_find(&t->t, &t->bk, &pk, r);
        }
    }
    kn__keys_free(&pk);
    return e;
}

/* Rows of the batch's output: batch row li[i] with right row ri[i]
 * (MISSING_KEY: none), as kn_frame_join pairs them; counts and examples
 * into the report, the row limit over the rows so far. */
static kn_status pairs(kn_join_table *t, const kn_frame *b, const size_t *lcols,
                       const size_t *first, size_t **li, size_t **ri, size_t *n)
{
    size_t rows = b->n_rows, m = 0;
    kn_join_kind kind = t->kind;
    int keep = kind == KN_JOIN_LEFT, half = kind == KN_JOIN_SEMI || kind == KN_JOIN_ANTI;
    const size_t *next = t->t.next;
    kn_join_report *rep = &t->rep;
    for (size_t r = 0; r < rows; r++) {
        size_t q = first[r];
        if (q == MISSING_KEY) {
            rep->left_unmatched++;
            if (rep->n_examples < KN_JOIN_EXAMPLES) {
                char *ex = rep->examples[rep->n_examples];
                kn__key_text(b, lcols, t->n, r, ex, sizeof rep->examples[0]);
                rep->n_examples += ex[0] != '\0';
            }
            m += keep || kind == KN_JOIN_ANTI;
            continue;
        }
        if (half) {
            m += kind == KN_JOIN_SEMI;
            for (size_t p = q; p != MISSING_KEY && !t->used[p]; p = next[p]) t->used[p] = 1;
            continue;
        }
        if (!t->chain[q])
            for (size_t p = q; p != MISSING_KEY; p = next[p]) {
                t->chain[q]++;
                t->used[p] = 1;
            }
        m += t->chain[q];
    }
    uint64_t left = rep->left_rows + rows, total = rep->out_rows + m;
    uint64_t limit = KN_JOIN_ROW_LIMIT(left, t->right->n_rows);
    if (total > limit)
        return kn_fail(KN_ERR_INVALID,
                       "join: %llu x %zu rows would give %llu rows, past the limit of %llu "
                       "(repeated keys on both sides multiply; a streamed join counts the left "
                       "rows read so far); make the right side's keys unique first (dedupe or "
                       "group it) or join on more key columns",
                       (unsigned long long)left, t->right->n_rows, (unsigned long long)total,
                       (unsigned long long)limit);
    size_t *a = kn_malloc((m ? m : 1) * sizeof *a);
    size_t *c = kn_malloc((m ? m : 1) * sizeof *c);
    if (!a || !c) {
        kn_free(a);
        kn_free(c);
        return KN_ERR_NOMEM;
    }
    size_t k = 0;
    for (size_t r = 0; r < rows; r++) {
        size_t q = first[r];
        if (half) {
            if ((q != MISSING_KEY) == (kind == KN_JOIN_SEMI)) {
                a[k] = r;
                c[k++] = MISSING_KEY;
            }
        } else if (q == MISSING_KEY) {
            if (keep) {
                a[k] = r;
                c[k++] = MISSING_KEY;
            }
        } else
            for (size_t p = q; p != MISSING_KEY; p = next[p]) {
                a[k] = r;
                c[k++] = p;
            }
    }
    rep->left_rows = left;
    rep->out_rows = total;
    *li = a;
    *ri = c;
    *n = m;
    return KN_OK;
}

kn_status kn_join_table_probe(kn_join_table *t, const kn_frame *batch, kn_frame **out)
{
    size_t lcols[64];
    for (size_t i = 0; i < t->n; i++)
        if (kn_frame_find(batch, t->left_keys[i], &lcols[i]) != KN_OK)
            return kn_fail_prefix(KN_ERR_NOT_FOUND, "join: left key: ");
    size_t rows = batch->n_rows, *li = NULL, *ri = NULL, m = 0;
    size_t *first = kn_malloc((rows ? rows : 1) * sizeof *first);
    kn_status e = first ? probe(t, batch, lcols, first) : KN_ERR_NOMEM;
    if (e == KN_OK) e = pairs(t, batch, lcols, first, &li, &ri, &m);
    kn_free(first);
    kn_frame *res = NULL, *part = NULL;
    if (e == KN_OK) e = kn_frame_select_rows(batch, li, m, &res);
    if (e == KN_OK && t->rpart) {
        for (size_t i = 0; i < m; i++)
            if (ri[i] == MISSING_KEY) ri[i] = t->right->n_rows; /* the missing row */
        e = kn_frame_select_rows(t->rpart, ri, m, &part);
    }
    if (e == KN_OK && part) e = kn__join_attach(res, part);
    kn_frame_free(part);
    kn_free(li);
    kn_free(ri);
    if (e != KN_OK) {
        kn_frame_free(res);
        return e;
    }
    *out = res;
    return KN_OK;
}

void kn_join_table_report(const kn_join_table *t, kn_join_report *report)
{
    *report = t->rep;
    report->right_unmatched = 0;
    for (size_t q = 0; q < t->right->n_rows; q++) report->right_unmatched += !t->used[q];
}

/* src's rows after dst's (the same columns, as one chain of joins gives
 * them): categorical codes copied as they are, the caller then giving dst
 * the last batch's dictionaries, where earlier codes mean the same levels. */
static kn_status append_codes(kn_frame *dst, const kn_frame *src)
{
    if (dst->n_cols != src->n_cols)
        return kn_fail(KN_ERR_INTERNAL, "join: a batch gave %zu columns, not %zu", src->n_cols,
                       dst->n_cols);
    for (size_t j = 0; j < src->n_cols; j++)
        if (dst->cols[j]->type != src->cols[j]->type)
            return kn_fail(KN_ERR_INTERNAL, "join: column '%s' changed type between batches",
                           src->cols[j]->name);
    size_t base = dst->n_rows, n = src->n_rows;
    kn_status e = kn_frame_resize(dst, base + n);
    for (size_t j = 0; e == KN_OK && n && j < src->n_cols; j++) {
        kn_column *d = dst->cols[j];
        const kn_column *s = src->cols[j];
        switch (s->type) {
        case KN_COL_NUMERIC:
            memcpy(d->f64 + base, s->f64, n * sizeof *d->f64);
            break;
        case KN_COL_CATEGORICAL:
            memcpy(d->codes + base, s->codes, n * sizeof *d->codes);
            break;
        case KN_COL_TIMESTAMP:
        case KN_COL_INT64:
            memcpy(d->ts + base, s->ts, n * sizeof *d->ts);
            break;
        case KN_COL_STRING:
            for (size_t i = 0; e == KN_OK && i < n; i++)
                e = kn__column_copy_cell(d, base + i, s, i);
            break;
        }
    }
    return e;
}

kn_status kn_reader_join(kn_reader *rd, kn_join_table *const *tables, size_t n_tables,
                         kn_frame **out)
{
    if (!n_tables) return kn_fail(KN_ERR_INVALID, "join: no join to stream through");
    kn_frame *acc = NULL, *last = NULL, *b = NULL;
    kn_status e;
    while ((e = kn_reader_next(rd, &b)) == KN_OK && b) {
        kn_frame *x = b;
        for (size_t j = 0; e == KN_OK && j < n_tables; j++) {
            kn_frame *y = NULL;
            e = kn_join_table_probe(tables[j], x, &y);
            kn_frame_free(x);
            x = y;
        }
        b = NULL;
        if (e != KN_OK) break;
        if (!acc) {
            acc = x;
            continue;
        }
        e = append_codes(acc, x);
        kn_frame_free(last); /* the last batch is kept for its dictionaries */
        last = x;
    }
    /* no rows: the chain's columns, from the schema */
    const kn_frame *x = kn_reader_schema(rd);
    for (size_t j = 0; e == KN_OK && !acc && j < n_tables; j++) {
        kn_frame *y = NULL;
        e = kn_join_table_probe(tables[j], x, &y);
        if (j) kn_frame_free((kn_frame *)x);
        x = y;
        if (j + 1 == n_tables) acc = y;
    }
    for (size_t j = 0; e == KN_OK && last && j < acc->n_cols; j++) {
        kn_column *d = acc->cols[j];
        if (d->type != KN_COL_CATEGORICAL) continue;
        kn__dict_free(&d->dict);
        e = kn__dict_copy(&d->dict, &last->cols[j]->dict);
    }
    kn_frame_free(last);
    if (e == KN_ERR_NOMEM)
        e = kn_fail_prefix(e,
                           "join: the joined rows (%zu so far) do not fit, and spilling them to "
                           "disk is not implemented; keep fewer columns or rows (a narrower "
                           "source, a semi join) or: ",
                           acc ? acc->n_rows : 0);
    if (e != KN_OK) {
        kn_frame_free(acc);
        return e;
    }
    *out = acc;
    return KN_OK;
}
