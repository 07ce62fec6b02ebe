#include "core/names-impl.h"
#include "data/frame-impl.h"
#include "data/parse-impl.h"
#include "kiln/mem.h"

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

static const char *const type_names[] = {"numeric", "categorical", "string", "timestamp", "int64"};
#define N_TYPES (sizeof type_names / sizeof *type_names)
static const char *const role_names[] = {"feature", "target", "weight", "id", "time", "ignore"};

const char *kn_col_type_name(kn_col_type t)
{
    return (unsigned)t < N_TYPES ? type_names[t] : "?";
}

kn_status kn_col_type_parse(const char *name, kn_col_type *t)
{
    for (size_t i = 0; i < N_TYPES; i++)
        if (strcmp(name, type_names[i]) == 0) {
            *t = (kn_col_type)i;
            return KN_OK;
        }
    if (!strcmp(name, "float") || !strcmp(name, "double") || !strcmp(name, "int") ||
        !strcmp(name, "integer") || !strcmp(name, "number")) {
        *t = KN_COL_NUMERIC;
        return KN_OK;
    }
    if (!strcmp(name, "bigint") || !strcmp(name, "long") || !strcmp(name, "integer64")) {
        *t = KN_COL_INT64;
        return KN_OK;
    }
    if (!strcmp(name, "category") || !strcmp(name, "factor")) {
        *t = KN_COL_CATEGORICAL;
        return KN_OK;
    }
    if (!strcmp(name, "text") || !strcmp(name, "str")) {
        *t = KN_COL_STRING;
        return KN_OK;
    }
    if (!strcmp(name, "datetime") || !strcmp(name, "date") || !strcmp(name, "time")) {
        *t = KN_COL_TIMESTAMP;
        return KN_OK;
    }
    return kn_fail(KN_ERR_INVALID,
                   "unknown column type '%s'; use numeric, categorical, string, timestamp or int64",
                   name);
}

int kn_timestamp_format(int64_t us, char *buf, size_t cap)
{
    return kn__format_timestamp(us, buf, cap);
}

const char *kn_role_name(kn_role r)
{
    return (unsigned)r < 6 ? role_names[r] : "?";
}

kn_status kn_role_parse(const char *name, kn_role *r)
{
    for (int i = 0; i < 6; i++)
        if (strcmp(name, role_names[i]) == 0) {
            *r = (kn_role)i;
            return KN_OK;
        }
    return kn_fail(KN_ERR_INVALID,
                   "unknown column role '%s'; use feature, target, weight, id, time or ignore",
                   name);
}

kn_status kn_frame_new(kn_frame **out)
{
    kn_frame *f = kn_calloc(1, sizeof *f);
    if (!f) return KN_ERR_NOMEM;
    *out = f;
    return KN_OK;
}

/* Give column c a name of its own (kept in a new block unless it is the
 * one in the column's slot); the old one is released. */
static kn_status column_rename(kn_column *c, const char *name)
{
    char *copy = kn_strdup(name);
    if (!copy) return KN_ERR_NOMEM;
    if (c->name != c->name_here) kn_free(c->name);
    c->name = copy;
    return KN_OK;
}

/* Release what column c holds (its slot stays with its frame). */
static void column_release(kn_column *c)
{
    if (c->name != c->name_here) kn_free(c->name);
    kn_free(c->f64);
    kn_free(c->codes);
    kn_free(c->ts);
    kn__dict_free(&c->dict);
    kn_free(c->str_off);
    kn_free(c->str_len);
    kn_free(c->text);
}

void kn_frame_free(kn_frame *f)
{
    if (!f) return;
    for (size_t j = 0; j < f->n_cols; j++) column_release(f->cols[j]);
    kn__col_blocks_free(f);
    kn_free(f->cols);
    kn_free(f);
}

size_t kn_frame_n_rows(const kn_frame *f)
{
    return f->n_rows;
}

size_t kn_frame_n_cols(const kn_frame *f)
{
    return f->n_cols;
}

kn_column *kn_frame_col(const kn_frame *f, size_t j)
{
    return j < f->n_cols ? f->cols[j] : NULL;
}

const char *kn_frame_did_you_mean(const kn_frame *f, const char *name, char *buf, size_t cap)
{
    kn__closest c = {NULL, SIZE_MAX};
    for (size_t i = 0; f && i < f->n_cols; i++) kn__closest_offer(&c, name, f->cols[i]->name);
    return kn__closest_hint(&c, name, buf, cap);
}

kn_status kn_frame_find(const kn_frame *f, const char *name, size_t *j)
{
    for (size_t i = 0; i < f->n_cols; i++)
        if (strcmp(f->cols[i]->name, name) == 0) {
            *j = i;
            return KN_OK;
        }
    char list[400] = "";
    size_t used = 0;
    for (size_t i = 0; i < f->n_cols && used < sizeof list - 1; i++) {
        int n = snprintf(list + used, sizeof list - used, "%s%s", i ? ", " : "", f->cols[i]->name);
        if (n < 0) break;
        used += (size_t)n;
    }
    char hint[160];
    return kn_fail(KN_ERR_NOT_FOUND, "no column named '%s'%s; columns are: %s", name,
                   kn_frame_did_you_mean(f, name, hint, sizeof hint), f->n_cols ? list : "(none)");
}

kn_status kn__column_reserve(kn_column *c, size_t cap)
{
    if (cap <= c->cap) return KN_OK;
    size_t n = cap;
    void *p;
    switch (c->type) {
    case KN_COL_NUMERIC:
        if (!(p = kn_realloc(c->f64, n * sizeof *c->f64))) return KN_ERR_NOMEM;
        c->f64 = p;
        break;
    case KN_COL_CATEGORICAL:
        if (!(p = kn_realloc(c->codes, n * sizeof *c->codes))) return KN_ERR_NOMEM;
        c->codes = p;
        break;
    case KN_COL_TIMESTAMP:
    case KN_COL_INT64:
        if (!(p = kn_realloc(c->ts, n * sizeof *c->ts))) return KN_ERR_NOMEM;
        c->ts = p;
        break;
    case KN_COL_STRING:
        if (!(p = kn_realloc(c->str_off, n * sizeof *c->str_off))) return KN_ERR_NOMEM;
        c->str_off = p;
        if (!(p = kn_realloc(c->str_len, n * sizeof *c->str_len))) return KN_ERR_NOMEM;
        c->str_len = p;
        break;
    }
    c->cap = cap;
    return KN_OK;
}

void kn__column_fill_missing(kn_column *c, size_t from, size_t to)
{
    switch (c->type) {
    case KN_COL_NUMERIC:
        for (size_t i = from; i < to; i++) c->f64[i] = NAN;
        break;
    case KN_COL_CATEGORICAL:
        for (size_t i = from; i < to; i++) c->codes[i] = -1;
        break;
    case KN_COL_TIMESTAMP:
    case KN_COL_INT64: /* KN_TS_MISSING == KN_I64_MISSING */
        for (size_t i = from; i < to; i++) c->ts[i] = KN_TS_MISSING;
        break;
    case KN_COL_STRING:
        for (size_t i = from; i < to; i++) {
            c->str_off[i] = -1;
            c->str_len[i] = 0;
        }
        break;
    }
}

kn_status kn__column_add_text(kn_column *c, const char *s, size_t len, int64_t *off)
{
    if (c->n_text + len > c->cap_text) {
        size_t cap = c->cap_text ? c->cap_text * 2 : 4096;
        while (cap < c->n_text + len) cap *= 2;
        char *t = kn_realloc(c->text, cap);
        if (!t) return KN_ERR_NOMEM;
        c->text = t;
        c->cap_text = cap;
    }
    if (len) memcpy(c->text + c->n_text, s, len);
    *off = (int64_t)c->n_text;
    c->n_text += len;
    return KN_OK;
}

kn_status kn_frame_add_column(kn_frame *f, const char *name, kn_col_type type, kn_column **out)
{
    for (size_t i = 0; i < f->n_cols; i++)
        if (strcmp(f->cols[i]->name, name) == 0)
            return kn_fail(KN_ERR_INVALID,
                           "column name '%s' appears twice; column names must be unique", name);
    return kn__frame_add_unique(f, name, type, out);
}

/* Room for one more column pointer. */
static kn_status grow_cols(kn_frame *f)
{
    if (f->n_cols < f->cap_cols) return KN_OK;
    size_t cap = f->cap_cols ? f->cap_cols * 2 : 8;
    kn_column **cols = kn_realloc(f->cols, cap * sizeof *cols);
    if (!cols) return KN_ERR_NOMEM;
    f->cols = cols;
    f->cap_cols = cap;
    return KN_OK;
}

kn_status kn__frame_add_unique(kn_frame *f, const char *name, kn_col_type type, kn_column **out)
{
    if ((unsigned)type > KN_COL_INT64)
        return kn_fail(KN_ERR_INVALID, "column '%s': unknown type %d", name, (int)type);
    if (grow_cols(f) != KN_OK) return KN_ERR_NOMEM;
    size_t len = strlen(name);
    kn_column *c = kn__col_slot_get(f);
    if (!c) return KN_ERR_NOMEM;
    c->name = len < sizeof c->name_here ? memcpy(c->name_here, name, len + 1) : kn_strdup(name);
    c->type = type;
    kn__dict_init(&c->dict);
    if (!c->name || kn__column_reserve(c, f->n_rows) != KN_OK) {
        if (c->name) column_release(c);
        kn__col_slot_put(f, c);
        return KN_ERR_NOMEM;
    }
    kn__column_fill_missing(c, 0, f->n_rows);
    f->cols[f->n_cols++] = c;
    if (out) *out = c;
    return KN_OK;
}

kn_status kn_frame_insert_column(kn_frame *f, size_t pos, const char *name, kn_col_type type,
                                 kn_column **out)
{
    if (pos > f->n_cols)
        return kn_fail(KN_ERR_RANGE, "column position %zu out of range (frame has %zu columns)",
                       pos, f->n_cols);
    kn_column *c;
    kn_status s = kn_frame_add_column(f, name, type, &c);
    if (s != KN_OK) return s;
    memmove(f->cols + pos + 1, f->cols + pos, (f->n_cols - 1 - pos) * sizeof *f->cols);
    f->cols[pos] = c;
    if (out) *out = c;
    return KN_OK;
}

kn_status kn_frame_rename_column(kn_frame *f, size_t j, const char *name)
{
    if (j >= f->n_cols)
        return kn_fail(KN_ERR_RANGE, "column index %zu out of range (frame has %zu columns)", j,
                       f->n_cols);
    for (size_t i = 0; i < f->n_cols; i++)
        if (i != j && strcmp(f->cols[i]->name, name) == 0)
            return kn_fail(KN_ERR_INVALID, "cannot rename column '%s' to '%s': the name is taken",
                           f->cols[j]->name, name);
    return column_rename(f->cols[j], name);
}

kn_status kn_frame_remove_column(kn_frame *f, size_t j)
{
    if (j >= f->n_cols)
        return kn_fail(KN_ERR_RANGE, "column index %zu out of range (frame has %zu columns)", j,
                       f->n_cols);
    column_release(f->cols[j]);
    kn__col_slot_put(f, f->cols[j]);
    memmove(f->cols + j, f->cols + j + 1, (f->n_cols - j - 1) * sizeof *f->cols);
    f->n_cols--;
    return KN_OK;
}

kn_status kn_frame_reserve(kn_frame *f, size_t n_rows)
{
    for (size_t j = 0; j < f->n_cols; j++)
        if (kn__column_reserve(f->cols[j], n_rows) != KN_OK) return KN_ERR_NOMEM;
    return KN_OK;
}

kn_status kn_frame_resize(kn_frame *f, size_t n_rows)
{
    /* grow capacity geometrically so row-by-row growth stays linear */
    size_t cap = f->n_cols ? f->cols[0]->cap : 0;
    if (n_rows > cap &&
        kn_frame_reserve(f, n_rows > cap + cap / 2 ? n_rows : cap + cap / 2) != KN_OK)
        return KN_ERR_NOMEM;
    for (size_t j = 0; j < f->n_cols; j++) kn__column_fill_missing(f->cols[j], f->n_rows, n_rows);
    f->n_rows = n_rows;
    return KN_OK;
}

/* Copy row src_row of column s into row dst_row of column d (same type; for
 * categorical, d's dictionary receives the level). */
static kn_status copy_cell(kn_column *d, size_t dst_row, const kn_column *s, size_t src_row)
{
    switch (s->type) {
    case KN_COL_NUMERIC:
        d->f64[dst_row] = s->f64[src_row];
        return KN_OK;
    case KN_COL_TIMESTAMP:
    case KN_COL_INT64:
        d->ts[dst_row] = s->ts[src_row];
        return KN_OK;
    case KN_COL_CATEGORICAL: {
        int32_t code = s->codes[src_row];
        if (code < 0) {
            d->codes[dst_row] = code;
            return KN_OK;
        }
        size_t len;
        const char *t = kn__dict_get(&s->dict, code, &len);
        return kn__dict_intern(&d->dict, t, len, &d->codes[dst_row]);
    }
    case KN_COL_STRING: {
        size_t len;
        const char *t = kn_column_str(s, src_row, &len);
        return kn_column_set_str(d, dst_row, t, len);
    }
    }
    return KN_ERR_INTERNAL;
}

kn_status kn__column_copy_cell(kn_column *d, size_t dst_row, const kn_column *s, size_t src_row)
{
    return d->type == s->type ? copy_cell(d, dst_row, s, src_row) : KN_ERR_TYPE;
}

/* dst[i] = src[rows[i]], on the calling team for many rows (random reads
 * of a large column wait on memory more than on one core). */
static void gather_f64(double *dst, const double *src, const size_t *rows, size_t n)
{
    long long nn = (long long)n;
#pragma omp parallel for schedule(static) if (nn > 65536)
    for (long long i = 0; i < nn; i++) dst[i] = src[rows[i]];
}

static void gather_codes(int32_t *dst, const int32_t *src, const size_t *rows, size_t n)
{
    long long nn = (long long)n;
#pragma omp parallel for schedule(static) if (nn > 65536)
    for (long long i = 0; i < nn; i++) dst[i] = src[rows[i]];
}

static void gather_ts(int64_t *dst, const int64_t *src, const size_t *rows, size_t n)
{
    long long nn = (long long)n;
#pragma omp parallel for schedule(static) if (nn > 65536)
    for (long long i = 0; i < nn; i++) dst[i] = src[rows[i]];
}

/* Rows of src (all of them in order when rows is NULL) into dst, which has
 * room for n rows; numbers, codes and times are gathered without first
 * being set missing. */
static kn_status gather(kn_column *dst, const kn_column *src, const size_t *rows, size_t n)
{
    if (n == 0) return KN_OK; /* (a column with no rows may have no arrays) */
    switch (src->type) {
    case KN_COL_NUMERIC:
        if (!rows)
            memcpy(dst->f64, src->f64, n * sizeof *dst->f64);
        else
            gather_f64(dst->f64, src->f64, rows, n);
        return KN_OK;
    case KN_COL_CATEGORICAL:
        if (!rows)
            memcpy(dst->codes, src->codes, n * sizeof *dst->codes);
        else
            gather_codes(dst->codes, src->codes, rows, n);
        return KN_OK;
    case KN_COL_TIMESTAMP:
    case KN_COL_INT64:
        if (!rows)
            memcpy(dst->ts, src->ts, n * sizeof *dst->ts);
        else
            gather_ts(dst->ts, src->ts, rows, n);
        return KN_OK;
    case KN_COL_STRING: {
        kn__column_fill_missing(dst, 0, n);
        kn_status s = KN_OK;
        for (size_t i = 0; i < n && s == KN_OK; i++) s = copy_cell(dst, i, src, rows ? rows[i] : i);
        return s;
    }
    }
    return KN_ERR_INTERNAL;
}

/* kn_frame_select_rows, with rows == NULL meaning every row in order. */
static kn_status select_rows(const kn_frame *f, const size_t *rows, size_t n, kn_frame **out)
{
    kn_frame *g;
    if (kn_frame_new(&g) != KN_OK) return KN_ERR_NOMEM;
    kn_status s = KN_OK;
    for (size_t j = 0; j < f->n_cols && s == KN_OK; j++) {
        const kn_column *src = f->cols[j];
        kn_column *dst;
        s = kn__frame_add_unique(g, src->name, src->type, &dst);
        if (s == KN_OK) s = kn__column_reserve(dst, n);
        if (s != KN_OK) break;
        dst->role = src->role;
        dst->encoding = src->encoding;
        /* Keep the level order (and codes) of the source. */
        if (src->type == KN_COL_CATEGORICAL) {
            kn__dict_free(&dst->dict);
            s = kn__dict_copy(&dst->dict, &src->dict);
        }
        if (s == KN_OK) s = gather(dst, src, rows, n);
    }
    g->n_rows = n;
    if (s != KN_OK) {
        kn_frame_free(g);
        return s;
    }
    *out = g;
    return KN_OK;
}

kn_status kn_frame_select_rows(const kn_frame *f, const size_t *rows, size_t n, kn_frame **out)
{
    for (size_t i = 0; i < n; i++)
        if (rows[i] >= f->n_rows)
            return kn_fail(KN_ERR_RANGE, "row index %zu out of range (frame has %zu rows)", rows[i],
                           f->n_rows);
    return select_rows(f, rows, n, out);
}

kn_status kn_frame_keep_rows(kn_frame *f, const size_t *rows, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (rows[i] >= f->n_rows || (i && rows[i] <= rows[i - 1]))
            return kn_fail(KN_ERR_INVALID, "keep_rows: row indices must ascend below %zu",
                           f->n_rows);
    /* rows[i] >= i, so moving each kept cell down never overwrites one still needed */
    for (size_t j = 0; j < f->n_cols; j++) {
        kn_column *c = f->cols[j];
        for (size_t i = 0; i < n; i++) switch (c->type) {
            case KN_COL_NUMERIC:
                c->f64[i] = c->f64[rows[i]];
                break;
            case KN_COL_CATEGORICAL:
                c->codes[i] = c->codes[rows[i]];
                break;
            case KN_COL_TIMESTAMP:
            case KN_COL_INT64:
                c->ts[i] = c->ts[rows[i]];
                break;
            case KN_COL_STRING:
                c->str_off[i] = c->str_off[rows[i]];
                c->str_len[i] = c->str_len[rows[i]];
                break;
            }
    }
    f->n_rows = n;
    return KN_OK;
}

kn_status kn_frame_copy(const kn_frame *f, kn_frame **out)
{
    return select_rows(f, NULL, f->n_rows, out);
}

kn_status kn_frame_select_cols(const kn_frame *f, const size_t *cols, size_t n, kn_frame **out)
{
    for (size_t i = 0; i < n; i++)
        if (cols[i] >= f->n_cols)
            return kn_fail(KN_ERR_RANGE, "column index %zu out of range (frame has %zu columns)",
                           cols[i], f->n_cols);
    kn_column **picked = kn_malloc((n ? n : 1) * sizeof *picked);
    if (!picked) return KN_ERR_NOMEM;
    for (size_t i = 0; i < n; i++) picked[i] = f->cols[cols[i]];
    kn_frame view = {f->n_rows, n, n, picked, NULL, NULL};
    kn_status s = select_rows(&view, NULL, f->n_rows, out);
    kn_free(picked);
    return s;
}

kn_status kn_frame_append(kn_frame *dst, const kn_frame *src)
{
    if (dst->n_cols != src->n_cols)
        return kn_fail(KN_ERR_INVALID, "cannot append a frame of %zu columns to one of %zu",
                       src->n_cols, dst->n_cols);
    size_t *map = kn_malloc((src->n_cols ? src->n_cols : 1) * sizeof *map);
    if (!map) return KN_ERR_NOMEM;
    kn_status s = KN_OK;
    for (size_t j = 0; j < src->n_cols && s == KN_OK; j++) {
        s = kn_frame_find(dst, src->cols[j]->name, &map[j]);
        if (s == KN_OK && dst->cols[map[j]]->type != src->cols[j]->type)
            s = kn_fail(KN_ERR_TYPE, "column '%s' is %s in the frame but %s in the appended rows",
                        src->cols[j]->name, kn_col_type_name(dst->cols[map[j]]->type),
                        kn_col_type_name(src->cols[j]->type));
    }
    size_t base = dst->n_rows;
    if (s == KN_OK) s = kn_frame_resize(dst, base + src->n_rows);
    for (size_t j = 0; j < src->n_cols && s == KN_OK; j++)
        for (size_t i = 0; i < src->n_rows && s == KN_OK; i++)
            s = copy_cell(dst->cols[map[j]], base + i, src->cols[j], i);
    kn_free(map);
    if (s != KN_OK) kn_frame_resize(dst, base);
    return s;
}

kn_status kn_frame_append_aligned(kn_frame *dst, const kn_frame *src)
{
    for (size_t j = 0; j < src->n_cols; j++) {
        size_t k;
        if (kn_frame_find(dst, src->cols[j]->name, &k) != KN_OK) continue;
        if (dst->cols[k]->type != src->cols[j]->type)
            return kn_fail(KN_ERR_TYPE, "column '%s' is %s in one source and %s in the other",
                           src->cols[j]->name, kn_col_type_name(dst->cols[k]->type),
                           kn_col_type_name(src->cols[j]->type));
    }
    size_t *map = kn_malloc((src->n_cols ? src->n_cols : 1) * sizeof *map);
    if (!map) return KN_ERR_NOMEM;
    kn_status s = KN_OK;
    size_t base = dst->n_rows, had_cols = dst->n_cols;
    for (size_t j = 0; j < src->n_cols && s == KN_OK; j++)
        if (kn_frame_find(dst, src->cols[j]->name, &map[j]) != KN_OK) {
            map[j] = dst->n_cols;
            s = kn__frame_add_unique(dst, src->cols[j]->name, src->cols[j]->type, NULL);
            if (s == KN_OK) dst->cols[map[j]]->role = src->cols[j]->role;
        }
    if (s == KN_OK) s = kn_frame_resize(dst, base + src->n_rows);
    for (size_t j = 0; j < src->n_cols && s == KN_OK; j++)
        for (size_t i = 0; i < src->n_rows && s == KN_OK; i++)
            s = copy_cell(dst->cols[map[j]], base + i, src->cols[j], i);
    kn_free(map);
    if (s != KN_OK) {
        while (dst->n_cols > had_cols) kn_frame_remove_column(dst, dst->n_cols - 1);
        kn_frame_resize(dst, base);
    }
    return s;
}

kn_status kn_frame_take_column(kn_frame *dst, kn_frame *src, size_t j, const char *name)
{
    if (j >= src->n_cols) return kn_fail(KN_ERR_RANGE, "no column %zu", j);
    if (src->n_rows != dst->n_rows)
        return kn_fail(KN_ERR_INVALID, "cannot move a column of %zu rows into a frame of %zu",
                       src->n_rows, dst->n_rows);
    size_t k;
    if (kn_frame_find(dst, name, &k) == KN_OK)
        return kn_fail(KN_ERR_INVALID, "column '%s' already exists", name);
    kn_column *moved = src->cols[j], *c;
    /* every column of a frame has the same capacity (kn_frame_resize relies on it) */
    if (grow_cols(dst) != KN_OK ||
        (dst->n_cols && kn__column_reserve(moved, dst->cols[0]->cap) != KN_OK))
        return KN_ERR_NOMEM;
    if (strcmp(moved->name, name) != 0 && column_rename(moved, name) != KN_OK) return KN_ERR_NOMEM;
    /* the column's struct goes into a slot of dst; its slot in src is free */
    if (!(c = kn__col_slot_get(dst))) return KN_ERR_NOMEM;
    *c = *moved;
    if (moved->name == moved->name_here) c->name = c->name_here;
    c->next_spare = NULL;
    kn__col_slot_put(src, moved);
    memmove(src->cols + j, src->cols + j + 1, (src->n_cols - j - 1) * sizeof *src->cols);
    src->n_cols--;
    dst->cols[dst->n_cols++] = c;
    return KN_OK;
}

int kn_frame_has_onehot(const kn_frame *f)
{
    for (size_t j = 0; j < f->n_cols; j++)
        if (f->cols[j]->encoding == KN_ENC_ONEHOT) return 1;
    return 0;
}

kn_status kn_frame_expand_onehot(const kn_frame *f, kn_frame **out)
{
    kn_frame *g;
    if (kn_frame_new(&g) != KN_OK) return KN_ERR_NOMEM;
    kn_status s = kn_frame_reserve(g, f->n_rows);
    g->n_rows = f->n_rows;
    for (size_t j = 0; j < f->n_cols && s == KN_OK; j++) {
        const kn_column *c = f->cols[j];
        if (c->encoding != KN_ENC_ONEHOT) {
            kn_column *d;
            s = kn_frame_add_column(g, c->name, c->type, &d);
            if (s != KN_OK) break;
            d->role = c->role;
            if (c->type == KN_COL_CATEGORICAL) {
                kn__dict_free(&d->dict);
                s = kn__dict_copy(&d->dict, &c->dict);
            }
            for (size_t r = 0; r < f->n_rows && s == KN_OK; r++) s = copy_cell(d, r, c, r);
            continue;
        }
        for (size_t l = 0; l < c->dict.n && s == KN_OK; l++) {
            size_t len;
            const char *level = kn__dict_get(&c->dict, (int32_t)l, &len);
            size_t nlen = strlen(c->name) + len + 2;
            char *name = kn_malloc(nlen);
            if (!name) {
                s = KN_ERR_NOMEM;
                break;
            }
            snprintf(name, nlen, "%s_%.*s", c->name, (int)len, level);
            kn_column *d;
            s = kn_frame_add_column(g, name, KN_COL_NUMERIC, &d);
            kn_free(name);
            if (s != KN_OK) break;
            d->role = c->role;
            for (size_t r = 0; r < f->n_rows; r++) d->f64[r] = c->codes[r] == (int32_t)l;
        }
    }
    if (s != KN_OK) {
        kn_frame_free(g);
        return s;
    }
    *out = g;
    return KN_OK;
}

size_t kn_frame_memory_bytes(const kn_frame *f)
{
    size_t total = 0;
    for (size_t j = 0; j < f->n_cols; j++) {
        const kn_column *c = f->cols[j];
        size_t per_row = c->type == KN_COL_NUMERIC       ? sizeof(double)
                         : c->type == KN_COL_CATEGORICAL ? sizeof(int32_t)
                         : c->type == KN_COL_STRING      ? 2 * sizeof(int64_t)
                                                         : sizeof(int64_t);
        total += c->cap * per_row + c->cap_text + kn__dict_memory(&c->dict);
    }
    return total;
}

const char *kn_column_name(const kn_column *c)
{
    return c->name;
}

kn_col_type kn_column_type(const kn_column *c)
{
    return c->type;
}

kn_encoding kn_column_encoding(const kn_column *c)
{
    return c->encoding;
}

kn_status kn_column_set_encoding(kn_column *c, kn_encoding e)
{
    if (e != KN_ENC_PLAIN && c->type != KN_COL_CATEGORICAL)
        return kn_fail(KN_ERR_TYPE, "column '%s' is %s; only categorical columns can be one-hot",
                       c->name, kn_col_type_name(c->type));
    c->encoding = e;
    return KN_OK;
}

kn_role kn_column_role(const kn_column *c)
{
    return c->role;
}

void kn_column_set_role(kn_column *c, kn_role role)
{
    c->role = role;
}

double *kn_column_f64(kn_column *c)
{
    return c->type == KN_COL_NUMERIC ? c->f64 : NULL;
}

int32_t *kn_column_codes(kn_column *c)
{
    return c->type == KN_COL_CATEGORICAL ? c->codes : NULL;
}

int64_t *kn_column_ts(kn_column *c)
{
    return c->type == KN_COL_TIMESTAMP ? c->ts : NULL;
}

int64_t *kn_column_i64(kn_column *c)
{
    return c->type == KN_COL_INT64 ? c->ts : NULL;
}

double kn_column_number(const kn_column *c, size_t row)
{
    if (c->type == KN_COL_NUMERIC) return c->f64[row];
    if (c->type == KN_COL_INT64 && c->ts[row] != KN_I64_MISSING) return (double)c->ts[row];
    return NAN;
}

int kn_column_is_missing(const kn_column *c, size_t row)
{
    switch (c->type) {
    case KN_COL_NUMERIC:
        return isnan(c->f64[row]);
    case KN_COL_CATEGORICAL:
        return c->codes[row] < 0;
    case KN_COL_TIMESTAMP:
    case KN_COL_INT64:
        return c->ts[row] == KN_TS_MISSING;
    case KN_COL_STRING:
        return c->str_off[row] < 0;
    }
    return 1;
}

size_t kn_column_n_levels(const kn_column *c)
{
    return c->dict.n;
}

const char *kn_column_level(const kn_column *c, int32_t code, size_t *len)
{
    if (code < 0 || (size_t)code >= c->dict.n) return NULL;
    return kn__dict_get(&c->dict, code, len);
}

kn_status kn_column_intern(kn_column *c, const char *s, size_t len, int32_t *code)
{
    if (c->type != KN_COL_CATEGORICAL)
        return kn_fail(KN_ERR_TYPE, "column '%s' is %s, not categorical", c->name,
                       kn_col_type_name(c->type));
    return kn__dict_intern(&c->dict, s, len, code);
}

int32_t kn_column_find_level(const kn_column *c, const char *s, size_t len)
{
    return kn__dict_find(&c->dict, s, len);
}

const char *kn_column_str(const kn_column *c, size_t row, size_t *len)
{
    if (c->type != KN_COL_STRING || c->str_off[row] < 0) {
        if (len) *len = 0;
        return NULL;
    }
    if (len) *len = (size_t)c->str_len[row];
    return c->text ? c->text + c->str_off[row] : "";
}

kn_status kn_column_set_str(kn_column *c, size_t row, const char *s, size_t len)
{
    if (c->type != KN_COL_STRING)
        return kn_fail(KN_ERR_TYPE, "column '%s' is %s, not string", c->name,
                       kn_col_type_name(c->type));
    if (!s) {
        c->str_off[row] = -1;
        c->str_len[row] = 0;
        return KN_OK;
    }
    int64_t off;
    if (kn__column_add_text(c, s, len, &off) != KN_OK) return KN_ERR_NOMEM;
    c->str_off[row] = off;
    c->str_len[row] = (int64_t)len;
    return KN_OK;
}
