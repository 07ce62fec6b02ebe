/* Group-by of a file whose groups outgrow the memory budget
 * (kn_file_group_by_spill in kiln/combine.h): one pass over the file by
 * batches radix-partitions the rows by a hash of their key into temporary
 * files (kiln/tempfile.h), each row with its index; each partition is then
 * read back and grouped in memory (every row of a group is in one partition,
 * in file order, so each aggregate sees the same values in the same order);
 * the groups are put back in order of first appearance by their first row.
 *
 * A partition file is a sequence of chunks, one per batch: the row count
 * (uint64), the rows' indices in the file (uint64 each), then per column
 * written its cells: numbers as doubles, int64 and times as int64,
 * categorical codes as int64 (codes mean one level in every batch; the
 * result takes the last batch's dictionary), text as an int64 length (-1:
 * missing) and the bytes. Native byte order: the files live for one call. */
#include "data/dict-impl.h"
#include "data/frame-impl.h"
#include "data/sort-impl.h"
#include "kiln/combine.h"
#include "kiln/mem.h"
#include "kiln/tempfile.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define PARTS 16
#define NONE ((size_t)-1)
#define ROW_COL "__kiln_row"
#define FIRST_COL "__kiln_first_row"

typedef struct spill {
    FILE *fp[PARTS];
    char *tmp[PARTS];
    size_t n_cols, cols[256]; /* schema columns written, ascending */
    kn_col_type types[256];
    uint64_t rows[PARTS];
    kn_dict dicts[256]; /* categorical columns: the last batch's dictionary */
    int has_dict[256];
} spill;

static uint64_t mix(uint64_t h, uint64_t x)
{
    h ^= x + 0x9e3779b97f4a7c15u + (h << 6) + (h >> 2);
    h *= 0xff51afd7ed558ccdu;
    return h ^ (h >> 33);
}

/* The partition of row r by its key (NONE: a key cell is missing). */
static size_t part_of(const kn_frame *b, const size_t *by, size_t n_by, size_t r)
{
    uint64_t h = 0x243f6a8885a308d3u;
    for (size_t i = 0; i < n_by; i++) {
        const kn_column *c = b->cols[by[i]];
        uint64_t w = 0;
        size_t len;
        const char *s;
        switch (c->type) {
        case KN_COL_NUMERIC: {
            double v = c->f64[r];
            if (isnan(v)) return NONE;
            if (v == 0) v = 0;
            memcpy(&w, &v, sizeof w);
            break;
        }
        case KN_COL_INT64:
        case KN_COL_TIMESTAMP:
            if (c->ts[r] == KN_I64_MISSING) return NONE;
            w = (uint64_t)c->ts[r];
            break;
        case KN_COL_CATEGORICAL:
            if (c->codes[r] < 0) return NONE;
            w = (uint64_t)c->codes[r];
            break;
        case KN_COL_STRING:
            if (!(s = kn_column_str(c, r, &len))) return NONE;
            w = kn__hash_bytes(s, len);
            break;
        }
        h = mix(h, w);
    }
    return (size_t)(h >> 60) % PARTS;
}

static int put(FILE *fp, const void *p, size_t n)
{
    return fwrite(p, 1, n, fp) == n;
}

/* Rows idx[0..n) of b (file rows base + idx[i]) as one chunk of sp's partition p. */
static int write_chunk(spill *sp, size_t p, const kn_frame *b, const size_t *idx, size_t n,
                       uint64_t base)
{
    FILE *fp = sp->fp[p];
    uint64_t n64 = n;
    int ok = put(fp, &n64, sizeof n64);
    for (size_t i = 0; ok && i < n; i++) {
        uint64_t row = base + idx[i];
        ok = put(fp, &row, sizeof row);
    }
    for (size_t k = 0; ok && k < sp->n_cols; k++) {
        const kn_column *c = b->cols[sp->cols[k]];
        for (size_t i = 0; ok && i < n; i++) {
            size_t r = idx[i];
            int64_t x;
            switch (c->type) {
            case KN_COL_NUMERIC:
                ok = put(fp, &c->f64[r], sizeof c->f64[r]);
                break;
            case KN_COL_INT64:
            case KN_COL_TIMESTAMP:
                ok = put(fp, &c->ts[r], sizeof c->ts[r]);
                break;
            case KN_COL_CATEGORICAL:
                x = c->codes[r] < 0 ? KN_I64_MISSING : c->codes[r];
                ok = put(fp, &x, sizeof x);
                break;
            case KN_COL_STRING: {
                size_t len;
                const char *s = kn_column_str(c, r, &len);
                x = s ? (int64_t)len : -1;
                ok = put(fp, &x, sizeof x) && (!s || put(fp, s, len));
                break;
            }
            }
        }
    }
    sp->rows[p] += n;
    return ok;
}

static int get(FILE *fp, void *p, size_t n)
{
    return fread(p, 1, n, fp) == n;
}

/* Partition p read back: the written columns (categorical as int64 codes)
 * and the row index (numeric) last. */
static kn_status read_part(spill *sp, size_t p, const kn_frame *schema, kn_frame **out)
{
    kn_frame *f;
    kn_status e = kn_frame_new(&f);
    kn_column *cs[257];
    for (size_t k = 0; e == KN_OK && k < sp->n_cols; k++) {
        kn_col_type t = sp->types[k] == KN_COL_CATEGORICAL ? KN_COL_INT64 : sp->types[k];
        e = kn_frame_add_column(f, schema->cols[sp->cols[k]]->name, t, &cs[k]);
    }
    if (e == KN_OK) e = kn_frame_add_column(f, ROW_COL, KN_COL_NUMERIC, &cs[sp->n_cols]);
    if (e == KN_OK && (fflush(sp->fp[p]) != 0 || fseek(sp->fp[p], 0, SEEK_SET) != 0))
        e = kn_fail(KN_ERR_IO, "group by: cannot read back the spill file %s", sp->tmp[p]);
    if (e == KN_OK) e = kn_frame_reserve(f, (size_t)sp->rows[p]);
    FILE *fp = sp->fp[p];
    uint64_t n;
    char *buf = NULL;
    size_t cap = 0;
    int ok = 1;
    while (e == KN_OK && ok && get(fp, &n, sizeof n)) {
        size_t base = f->n_rows;
        if ((e = kn_frame_resize(f, base + (size_t)n)) != KN_OK) break;
        double *rows = kn_column_f64(cs[sp->n_cols]);
        for (size_t i = 0; ok && i < n; i++) {
            uint64_t row;
            ok = get(fp, &row, sizeof row);
            rows[base + i] = (double)row;
        }
        for (size_t k = 0; ok && e == KN_OK && k < sp->n_cols; k++) {
            kn_column *c = cs[k];
            if (c->type == KN_COL_NUMERIC)
                ok = get(fp, c->f64 + base, (size_t)n * sizeof *c->f64);
            else if (c->type != KN_COL_STRING)
                ok = get(fp, c->ts + base, (size_t)n * sizeof *c->ts);
            else
                for (size_t i = 0; ok && e == KN_OK && i < n; i++) {
                    int64_t len;
                    ok = get(fp, &len, sizeof len);
                    if (!ok || len < 0) continue;
                    if ((size_t)len > cap) {
                        char *nb = kn_realloc(buf, (size_t)len);
                        if (!nb) {
                            e = KN_ERR_NOMEM;
                            break;
                        }
                        buf = nb;
                        cap = (size_t)len;
                    }
                    ok = get(fp, buf, (size_t)len);
                    if (ok) e = kn_column_set_str(c, base + i, buf, (size_t)len);
                }
        }
    }
    kn_free(buf);
    if (e == KN_OK && (!ok || ferror(fp)))
        e = kn_fail(KN_ERR_IO, "group by: the spill file %s is cut short", sp->tmp[p]);
    if (e != KN_OK) {
        kn_frame_free(f);
        return e;
    }
    *out = f;
    return KN_OK;
}

static void spill_close(spill *sp)
{
    for (size_t k = 0; k < sp->n_cols; k++)
        if (sp->has_dict[k]) kn__dict_free(&sp->dicts[k]);
    for (size_t p = 0; p < PARTS; p++) {
        if (sp->fp[p]) fclose(sp->fp[p]);
        if (sp->tmp[p]) kn_temp_discard(sp->tmp[p]);
    }
}

/* Mark schema column j as written. */
static void want_col(spill *sp, const kn_frame *schema, size_t j)
{
    for (size_t k = 0; k < sp->n_cols; k++)
        if (sp->cols[k] == j) return;
    size_t k = sp->n_cols++;
    while (k && sp->cols[k - 1] > j) { /* ascending: the key columns keep frame order */
        sp->cols[k] = sp->cols[k - 1];
        sp->types[k] = sp->types[k - 1];
        k--;
    }
    sp->cols[k] = j;
    sp->types[k] = schema->cols[j]->type;
}

/* Column j of the partitions' groups, in the order at[] gives (partition in
 * the top bits, row below), into template column d, which may be the
 * categorical form of the groups' int64 codes (then with dictionary dict). */
static kn_status gather_col(kn_column *d, kn_frame *const *res, size_t j, const uint64_t *at,
                            size_t n, const kn_dict *dict)
{
    kn_status e = KN_OK;
    for (size_t i = 0; e == KN_OK && i < n; i++) {
        const kn_column *s = res[at[i] >> 40]->cols[j];
        size_t r = (size_t)(at[i] & (((uint64_t)1 << 40) - 1));
        if (d->type == KN_COL_CATEGORICAL)
            d->codes[i] = s->ts[r] == KN_I64_MISSING ? -1 : (int32_t)s->ts[r];
        else if (d->type == KN_COL_NUMERIC)
            d->f64[i] = s->f64[r];
        else if (d->type != KN_COL_STRING)
            d->ts[i] = s->ts[r];
        else
            e = kn__column_copy_cell(d, i, s, r);
    }
    if (e == KN_OK && d->type == KN_COL_CATEGORICAL && dict) { /* (no dict: no batch, no rows) */
        kn__dict_free(&d->dict);
        e = kn__dict_copy(&d->dict, dict);
    }
    return e;
}

kn_status kn_file_group_by_spill(const char *path, const kn_read_opts *opts, const char *const *by,
                                 size_t n_by, const kn_agg *aggs, size_t n_aggs, kn_frame **out,
                                 size_t *dropped, kn_read_report *report)
{
    kn_reader *rd;
    kn_status e = kn_reader_open(path, opts, 0, &rd);
    if (e != KN_OK) return e;
    const kn_frame *schema = kn_reader_schema(rd);
    kn_frame *tmpl = NULL, *b = NULL, *last = NULL, *res[PARTS] = {0};
    size_t total = 0;
    kn_frame *own_schema = NULL;
    spill sp = {0};
    size_t byc[64], *idx = NULL, n_drop = 0, cap = 0;
    kn_agg *ag2 = NULL;
    e = kn_frame_group_by(schema, by, n_by, aggs, n_aggs, &tmpl, NULL);
    if (e == KN_OK && (kn_frame_find(schema, ROW_COL, &byc[0]) == KN_OK ||
                       kn_frame_find(schema, FIRST_COL, &byc[0]) == KN_OK))
        e = kn_fail(KN_ERR_INVALID,
                    "group by: a column is named %s or %s, which a spilled "
                    "group-by uses; rename it",
                    ROW_COL, FIRST_COL);
    if (e == KN_OK) kn_clear_error();
    if (e == KN_OK && n_by + 2 * n_aggs > 250)
        e = kn_fail(KN_ERR_INVALID, "group by: too many columns to spill (at most 250)");
    for (size_t i = 0; e == KN_OK && i < n_by; i++) {
        e = kn_frame_find(schema, by[i], &byc[i]);
        if (e == KN_OK) want_col(&sp, schema, byc[i]);
    }
    for (size_t i = 0; e == KN_OK && i < n_aggs; i++) {
        size_t j;
        if (aggs[i].column && (e = kn_frame_find(schema, aggs[i].column, &j)) == KN_OK)
            want_col(&sp, schema, j);
        if (e == KN_OK && aggs[i].order_by &&
            (e = kn_frame_find(schema, aggs[i].order_by, &j)) == KN_OK)
            want_col(&sp, schema, j);
    }
    const char *dir = getenv("TMPDIR");
    static int counter;
    int serial = __atomic_fetch_add(&counter, 1, __ATOMIC_RELAXED);
    for (size_t p = 0; e == KN_OK && p < PARTS; p++) {
        char name[4096];
        snprintf(name, sizeof name, "%s/kiln-spill-%d-%d.p%zu", dir && *dir ? dir : "/tmp",
                 (int)getpid(), serial, p);
        if (!(sp.tmp[p] = kn_temp_path(name)))
            e = KN_ERR_NOMEM;
        else if (!(sp.fp[p] = fopen(sp.tmp[p], "w+b")))
            e = kn_fail(KN_ERR_IO,
                        "group by: cannot create the spill file %s (set TMPDIR to a "
                        "folder with room)",
                        sp.tmp[p]);
    }
    /* pass 1: rows to their partitions */
    uint64_t base = 0;
    while (e == KN_OK && (e = kn_reader_next(rd, &b)) == KN_OK && b) {
        size_t rows = b->n_rows;
        if (rows > cap) {
            kn_free(idx);
            cap = rows;
            if (!(idx = kn_malloc(2 * cap * sizeof *idx))) e = KN_ERR_NOMEM;
        }
        size_t count[PARTS + 1] = {0}, *pos = idx ? idx + cap : NULL;
        for (size_t r = 0; e == KN_OK && r < rows; r++) { /* a counting sort by partition */
            size_t p = part_of(b, byc, n_by, r);
            pos[r] = p;
            if (p == NONE)
                n_drop++;
            else
                count[p + 1]++;
        }
        for (size_t p = 0; p < PARTS; p++) count[p + 1] += count[p];
        size_t at[PARTS];
        memcpy(at, count, sizeof at);
        for (size_t r = 0; e == KN_OK && r < rows; r++)
            if (pos[r] != NONE) idx[at[pos[r]]++] = r;
        for (size_t p = 0; e == KN_OK && p < PARTS; p++)
            if (count[p + 1] > count[p] &&
                !write_chunk(&sp, p, b, idx + count[p], count[p + 1] - count[p], base))
                e = kn_fail(KN_ERR_IO,
                            "group by: writing the spill file %s failed (is its "
                            "disk full? set TMPDIR to a folder with room)",
                            sp.tmp[p]);
        base += rows;
        kn_frame_free(last); /* the last batch is kept for its dictionaries */
        last = b;
        b = NULL;
    }
    if (report) *report = *kn_reader_report(rd);
    kn_free(idx);
    idx = NULL;
    /* only the categorical columns' dictionaries of the last batch stay */
    for (size_t k = 0; e == KN_OK && last && k < sp.n_cols; k++) {
        const kn_column *c = last->cols[sp.cols[k]];
        if (c->type != KN_COL_CATEGORICAL) continue;
        kn__dict_init(&sp.dicts[k]);
        e = kn__dict_copy(&sp.dicts[k], &c->dict);
        sp.has_dict[k] = 1;
    }
    kn_frame_free(last);
    last = NULL;
    if (e == KN_OK) e = kn_frame_copy(schema, &own_schema); /* (the reader's goes with it) */
    schema = own_schema;
    kn_reader_close(rd); /* (its buffers, before the partitions come in) */
    rd = NULL;
    /* pass 2: each partition grouped in memory */
    ag2 = e == KN_OK ? kn_malloc((n_aggs + 1) * sizeof *ag2) : NULL;
    if (e == KN_OK && !ag2) e = KN_ERR_NOMEM;
    if (e == KN_OK) {
        memcpy(ag2, aggs, n_aggs * sizeof *ag2);
        ag2[n_aggs] = (kn_agg){FIRST_COL, KN_AGG_FIRST, ROW_COL, NULL};
    }
    for (size_t p = 0; e == KN_OK && p < PARTS; p++) {
        kn_frame *part = NULL, *res_p = NULL;
        e = read_part(&sp, p, schema, &part);
        if (e == KN_OK) e = kn_frame_group_by(part, by, n_by, ag2, n_aggs + 1, &res_p, NULL);
        if (e == KN_ERR_NOMEM)
            e = kn_fail_prefix(e,
                               "group by: spilled to %d partitions, partition %zu (%llu rows) "
                               "still does not fit; raise --memory-limit: ",
                               PARTS, p + 1, (unsigned long long)sp.rows[p]);
        kn_frame_free(part);
        fclose(sp.fp[p]);
        sp.fp[p] = NULL;
        kn_temp_discard(sp.tmp[p]);
        sp.tmp[p] = NULL;
        res[p] = res_p;
        total += res_p ? res_p->n_rows : 0;
    }
    /* the groups in order of their first row (a radix sort of (row, where)) */
    int assembling = e == KN_OK;
    uint64_t *key = e == KN_OK ? kn_malloc(4 * (total ? total : 1) * sizeof *key) : NULL;
    if (e == KN_OK && !key) e = KN_ERR_NOMEM;
    size_t n = 0;
    for (size_t p = 0; e == KN_OK && p < PARTS; p++) {
        size_t fc = res[p]->n_cols - 1; /* FIRST_COL, last */
        for (size_t r = 0; r < res[p]->n_rows; r++, n++) {
            key[n] = (uint64_t)res[p]->cols[fc]->f64[r];
            key[total + n] = ((uint64_t)p << 40) | r;
        }
    }
    if (e == KN_OK) kn__sort_u64_pairs(key, key + total, key + 2 * total, key + 3 * total, total);
    if (e == KN_OK) e = kn_frame_resize(tmpl, n);
    size_t nk = tmpl ? tmpl->n_cols - n_aggs : 0; /* (repeated by columns appear once) */
    for (size_t j = 0; e == KN_OK && j < tmpl->n_cols; j++) {
        const kn_dict *dict = NULL;
        size_t src = NONE;
        if (j >= nk) {
            if (aggs[j - nk].column) kn_frame_find(schema, aggs[j - nk].column, &src);
        } else /* the key columns come first, in frame order, as in sp.cols */
            kn_frame_find(schema, tmpl->cols[j]->name, &src);
        for (size_t k = 0; src != NONE && k < sp.n_cols; k++)
            if (sp.cols[k] == src && sp.has_dict[k]) dict = &sp.dicts[k];
        e = gather_col(tmpl->cols[j], res, j, key + total, n, dict);
    }
    kn_free(key);
    if (assembling && e == KN_ERR_NOMEM)
        e = kn_fail_prefix(e,
                           "group by: the result of %zu groups does not fit while it is put in "
                           "order (the groups, 32 bytes each to sort them, and the result); "
                           "raise --memory-limit: ",
                           total);
    if (e == KN_OK) kn_clear_error();
    kn_free(ag2);
    for (size_t p = 0; p < PARTS; p++) kn_frame_free(res[p]);
    kn_frame_free(own_schema);
    kn_frame_free(last);
    kn_frame_free(b);
    spill_close(&sp);
    kn_reader_close(rd); /* (NULL once pass 1 is done) */
    if (e != KN_OK) {
        kn_frame_free(tmpl);
        return e;
    }
    if (dropped) *dropped = n_drop;
    *out = tmpl;
    return KN_OK;
}
