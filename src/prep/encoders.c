/* Categorical encoders. Both learn, per column, the levels seen at fit time
 * in sorted (byte) order, as scikit-learn does:
 *   ordinal_encoder  replaces the column by the level's index (missing stays
 *                    missing; an unknown level is an error, or unknown_value)
 *   onehot_encoder   replaces the column by one 0/1 column per level, named
 *                    "<column>_<level>", plus "<column>_nan" when the column
 *                    had missing cells at fit; an unknown level (or a missing
 *                    cell never seen at fit) is an error, or all zeros with
 *                    handle_unknown=ignore. With min_frequency, levels seen
 *                    fewer times (a count, or a share of the rows when below
 *                    1) share one "<column>_infrequent" column, last; unknown
 *                    levels go there too with handle_unknown=ignore (sklearn's
 *                    infrequent_if_exist). drop=first leaves out each column's
 *                    first output column, drop=if_binary only of a column with
 *                    two (sklearn's drop=): a model with an intercept then
 *                    sees no collinear block (what a GLM summary needs). */
#include "kiln/mem.h"
#include "kiln/step.h"
#include "prep/prep-impl.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct enc_column {
    size_t n;     /* levels */
    char **level; /* sorted */
    int has_missing;
    size_t n_rare; /* infrequent levels (one-hot with min_frequency), sorted */
    char **rare;
} enc_column;

#define RARE_CODE (-2) /* level_map's answer for an infrequent level */

typedef struct enc_state {
    size_t n;
    enc_column *cols;
} enc_state;

static void enc_free(void *p)
{
    enc_state *s = p;
    if (!s) return;
    for (size_t i = 0; i < s->n; i++) {
        for (size_t l = 0; l < s->cols[i].n; l++) kn_free(s->cols[i].level[l]);
        kn_free(s->cols[i].level);
        for (size_t l = 0; l < s->cols[i].n_rare; l++) kn_free(s->cols[i].rare[l]);
        kn_free(s->cols[i].rare);
    }
    kn_free(s->cols);
    kn_free(s);
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static kn_status enc_fit(kn_step *st, const kn_frame *x, const size_t *cols, size_t n)
{
    enc_state *s = kn_calloc(1, sizeof *s);
    if (!s || !(s->cols = kn_calloc(n ? n : 1, sizeof *s->cols))) {
        kn_free(s);
        return KN_ERR_NOMEM;
    }
    s->n = n;
    size_t rows = kn_frame_n_rows(x);
    kn_status e = KN_OK;
    for (size_t i = 0; i < n && e == KN_OK; i++) {
        kn_column *c = kn_frame_col(x, cols[i]);
        if (kn_column_type(c) != KN_COL_CATEGORICAL) {
            e = kn_fail(KN_ERR_TYPE, "%s: column '%s' is %s; encoders take categorical columns",
                        kn_step_name(st), kn_column_name(c), kn_col_type_name(kn_column_type(c)));
            break;
        }
        size_t n_levels = kn_column_n_levels(c);
        char *seen = kn_calloc(n_levels + 1, 1);
        enc_column *ec = &s->cols[i];
        ec->level = kn_calloc(n_levels + 1, sizeof *ec->level);
        if (!seen || !ec->level) {
            kn_free(seen);
            e = KN_ERR_NOMEM;
            break;
        }
        const int32_t *codes = kn_column_codes(c);
        for (size_t r = 0; r < rows; r++) {
            if (codes[r] < 0)
                ec->has_missing = 1;
            else
                seen[codes[r]] = 1;
        }
        for (size_t l = 0; l < n_levels && e == KN_OK; l++) {
            if (!seen[l]) continue;
            if (!(ec->level[ec->n] = kn_strdup(kn_column_level(c, (int32_t)l, NULL))))
                e = KN_ERR_NOMEM;
            else
                ec->n++;
        }
        kn_free(seen);
        qsort(ec->level, ec->n, sizeof *ec->level, cmp_str);
    }
    if (e != KN_OK) {
        enc_free(s);
        return e;
    }
    kn_step_set_state(st, s);
    return KN_OK;
}

static kn_status enc_save(const kn_step *st, kn_wbuf *w)
{
    const enc_state *s = kn_step_state(st);
    kn_wbuf_u64(w, s->n);
    for (size_t i = 0; i < s->n; i++) {
        kn_wbuf_u32(w, (uint32_t)s->cols[i].has_missing);
        kn_wbuf_u64(w, s->cols[i].n);
        for (size_t l = 0; l < s->cols[i].n; l++) kn_wbuf_str(w, s->cols[i].level[l]);
        kn_wbuf_u64(w, s->cols[i].n_rare);
        for (size_t l = 0; l < s->cols[i].n_rare; l++) kn_wbuf_str(w, s->cols[i].rare[l]);
    }
    return KN_OK;
}

static kn_status enc_load(kn_step *st, kn_rbuf *r, size_t n)
{
    kn_status e = kn__state_count(r, n, "encoder");
    if (e != KN_OK) return e;
    enc_state *s = kn_calloc(1, sizeof *s);
    if (!s || !(s->cols = kn_calloc(n ? n : 1, sizeof *s->cols))) {
        kn_free(s);
        return KN_ERR_NOMEM;
    }
    s->n = n;
    for (size_t i = 0; i < n && e == KN_OK; i++) {
        enc_column *ec = &s->cols[i];
        uint32_t had = 0;
        size_t count = 0;
        e = kn_rbuf_u32(r, &had);
        ec->has_missing = had != 0;
        if (e == KN_OK) e = kn_rbuf_count(r, 8, &count);
        if (e == KN_OK && !(ec->level = kn_calloc(count + 1, sizeof *ec->level))) e = KN_ERR_NOMEM;
        e = e == KN_OK ? kn__read_sorted_levels(r, count, ec->level, &ec->n) : e;
        if (e == KN_OK) e = kn_rbuf_count(r, 8, &count);
        if (e == KN_OK && !(ec->rare = kn_calloc(count + 1, sizeof *ec->rare))) e = KN_ERR_NOMEM;
        e = e == KN_OK ? kn__read_sorted_levels(r, count, ec->rare, &ec->n_rare) : e;
    }
    if (e != KN_OK) {
        enc_free(s);
        return e;
    }
    kn_step_set_state(st, s);
    return KN_OK;
}

/* For each level of the column being transformed: its index among the fitted
 * levels, or -1 when unknown. Returns a new array (kn_free). */
static kn_status level_map(const enc_column *ec, kn_column *c, int64_t **out)
{
    size_t n_levels = kn_column_n_levels(c);
    int64_t *m = kn_malloc((n_levels + 1) * sizeof *m);
    if (!m) return KN_ERR_NOMEM;
    for (size_t l = 0; l < n_levels; l++) {
        const char *t = kn_column_level(c, (int32_t)l, NULL);
        char **hit = bsearch(&t, ec->level, ec->n, sizeof *ec->level, cmp_str);
        m[l] = hit ? hit - ec->level
               : ec->n_rare && bsearch(&t, ec->rare, ec->n_rare, sizeof *ec->rare, cmp_str)
                   ? RARE_CODE
                   : -1;
    }
    *out = m;
    return KN_OK;
}

static kn_status unknown_error(const kn_step *st, kn_column *c, size_t row)
{
    int32_t code = kn_column_codes(c)[row];
    return kn_fail(KN_ERR_INVALID,
                   "%s: column '%s', row %zu: %s%s%s was not seen at fit time; pass "
                   "handle_unknown=%s to accept it",
                   kn_step_name(st), kn_column_name(c), row + 1, code < 0 ? "a missing value" : "'",
                   code < 0 ? "" : kn_column_level(c, code, NULL), code < 0 ? "" : "'",
                   strcmp(kn_step_name(st), "onehot_encoder") ? "use_encoded_value" : "ignore");
}

/* A row's cell (text, NULL when missing) as level_map gives it: its index
 * among the fitted levels, RARE_CODE, or -1 when unknown. */
static int64_t level_of(const enc_column *ec, const char *t)
{
    char **hit = bsearch(&t, ec->level, ec->n, sizeof *ec->level, cmp_str);
    return hit ? hit - ec->level
           : ec->n_rare && bsearch(&t, ec->rare, ec->n_rare, sizeof *ec->rare, cmp_str) ? RARE_CODE
                                                                                        : -1;
}

/* ---- ordinal_encoder ---- */
typedef struct ordinal_params {
    kn_step_common common;
    int handle_unknown;
    double unknown_value;
} ordinal_params;

static const kn_param_def ordinal_defs[] = {
    KN_STEP_COMMON_PARAMS_CATEGORICAL(ordinal_params),
    KN_PARAM_ENUM(ordinal_params, handle_unknown, "error", "error|use_encoded_value",
                  "a level not seen at fit: fail, or encode it as unknown_value"),
    KN_PARAM_DOUBLE(ordinal_params, unknown_value, "-1", -1e300, 1e300,
                    "code for unseen levels (handle_unknown=use_encoded_value)"),
    KN_PARAM_END};

static kn_status ordinal_transform(const kn_step *st, kn_frame *out, const size_t *cols, size_t n)
{
    const ordinal_params *p = kn_step_params(st);
    const enc_state *s = kn_step_state(st);
    size_t rows = kn_frame_n_rows(out), order[n ? n : 1];
    kn__order_desc(cols, n, order);
    for (size_t k = 0; k < n; k++) {
        size_t i = order[k], pos = cols[i];
        kn_column *c = kn_frame_col(out, pos);
        int64_t *m;
        if (level_map(&s->cols[i], c, &m) != KN_OK) return KN_ERR_NOMEM;
        const int32_t *codes = kn_column_codes(c);
        for (size_t r = 0; r < rows && !p->handle_unknown; r++)
            if (codes[r] >= 0 && m[codes[r]] < 0) {
                kn_free(m);
                return unknown_error(st, c, r);
            }
        char *name = kn_strdup(kn_column_name(c));
        kn_column *num;
        /* insert under a temporary name, fill, drop the old column, take its name */
        kn_status e =
            name ? kn_frame_insert_column(out, pos + 1, "\x01kiln-ordinal", KN_COL_NUMERIC, &num)
                 : KN_ERR_NOMEM;
        if (e != KN_OK) {
            kn_free(name);
            kn_free(m);
            return e;
        }
        double *x = kn_column_f64(num);
        for (size_t r = 0; r < rows; r++)
            x[r] = codes[r] < 0 ? NAN : m[codes[r]] < 0 ? p->unknown_value : (double)m[codes[r]];
        kn_free(m);
        kn_column_set_role(num, kn_column_role(c));
        e = kn_frame_remove_column(out, pos);
        if (e == KN_OK) e = kn_frame_rename_column(out, pos, name);
        kn_free(name);
        if (e != KN_OK) return e;
    }
    return KN_OK;
}

static kn_status ordinal_transform_row(const kn_step *st, kn_step_row *row, const size_t *cols,
                                       size_t n)
{
    const ordinal_params *p = kn_step_params(st);
    const enc_state *s = kn_step_state(st);
    for (size_t i = 0; i < n; i++) {
        size_t pos = cols[i];
        const char *t = row->text[pos];
        int64_t m = t ? level_of(&s->cols[i], t) : 0;
        if (t && m < 0 && !p->handle_unknown) return KN_ERR_UNSUPPORTED; /* transform says why */
        row->num[pos] = !t ? NAN : m < 0 ? p->unknown_value : (double)m;
        row->text[pos] = NULL;
        row->type[pos] = KN_COL_NUMERIC;
    }
    return KN_OK;
}

static const kn_step_vt ordinal_vt = {.transform_row = ordinal_transform_row,
                                      .default_type = KN_COL_CATEGORICAL,
                                      .fit = enc_fit,
                                      .transform = ordinal_transform,
                                      .free_state = enc_free,
                                      .save = enc_save,
                                      .load = enc_load};

/* ---- onehot_encoder ---- */
typedef struct onehot_params {
    kn_step_common common;
    int handle_unknown;
    int compact;
    double min_frequency;
    int drop;
} onehot_params;

enum { DROP_NONE = 0, DROP_FIRST = 1, DROP_IF_BINARY = 2 };

static const kn_param_def onehot_defs[] = {
    KN_STEP_COMMON_PARAMS_CATEGORICAL(onehot_params),
    KN_PARAM_ENUM(onehot_params, handle_unknown, "error", "error|ignore",
                  "a level not seen at fit: fail, or encode it as all zeros"),
    KN_PARAM_ENUM(onehot_params, compact, "dense", "dense|compact",
                  "dense: one numeric 0/1 column per level; compact: one categorical column "
                  "marked one-hot (4 bytes a row; written out as the same 0/1 columns)"),
    KN_PARAM_DOUBLE(onehot_params, min_frequency, "0", 0, 1e15,
                    "levels seen fewer times (a count; below 1: a share of the rows) share one "
                    "'<column>_infrequent' column (0: off)"),
    KN_PARAM_ENUM(onehot_params, drop, "none", "none|first|if_binary",
                  "leave out each column's first output column (first), or only where there "
                  "are two (if_binary), so the columns are not collinear with an intercept"),
    KN_PARAM_END};

/* Move levels seen fewer than the threshold times at fit into ec->rare. */
static kn_status split_rare(const onehot_params *p, kn_column *c, size_t rows, enc_column *ec)
{
    double threshold = p->min_frequency >= 1 ? p->min_frequency : p->min_frequency * (double)rows;
    int64_t *m;
    size_t *count = kn_calloc(ec->n + 1, sizeof *count);
    if (!count || level_map(ec, c, &m) != KN_OK) {
        kn_free(count);
        return KN_ERR_NOMEM;
    }
    const int32_t *codes = kn_column_codes(c);
    for (size_t r = 0; r < rows; r++)
        if (codes[r] >= 0 && m[codes[r]] >= 0) count[m[codes[r]]]++;
    kn_free(m);
    if (!(ec->rare = kn_calloc(ec->n + 1, sizeof *ec->rare))) {
        kn_free(count);
        return KN_ERR_NOMEM;
    }
    size_t kept = 0;
    for (size_t l = 0; l < ec->n; l++) {
        if ((double)count[l] < threshold)
            ec->rare[ec->n_rare++] = ec->level[l];
        else
            ec->level[kept++] = ec->level[l];
    }
    ec->n = kept;
    kn_free(count);
    return KN_OK;
}

static kn_status onehot_fit(kn_step *st, const kn_frame *x, const size_t *cols, size_t n)
{
    const onehot_params *p = kn_step_params(st);
    if (p->drop != DROP_NONE && p->compact)
        return kn_fail(KN_ERR_INVALID,
                       "onehot_encoder: drop=%s goes with compact=dense (the compact form keeps "
                       "every level)",
                       p->drop == DROP_FIRST ? "first" : "if_binary");
    kn_status e = enc_fit(st, x, cols, n);
    if (e != KN_OK || p->min_frequency <= 0) return e;
    enc_state *s = (enc_state *)kn_step_state(st);
    for (size_t i = 0; i < n && e == KN_OK; i++)
        e = split_rare(p, kn_frame_col(x, cols[i]), kn_frame_n_rows(x), &s->cols[i]);
    return e;
}

/* The output index of a cell: a fitted level, the missing column, the
 * infrequent column, or -1 (all zeros). */
static int64_t onehot_index(const onehot_params *p, const enc_column *ec, const int64_t *m,
                            int32_t code)
{
    int64_t rare = (int64_t)ec->n + ec->has_missing;
    if (code < 0) return ec->has_missing ? (int64_t)ec->n : -1;
    if (m[code] >= 0) return m[code];
    if (m[code] == RARE_CODE || (p->handle_unknown && ec->n_rare)) return rare;
    return -1;
}

/* Compact form: the column keeps one code per row, into the fitted levels in
 * their sorted order ("nan" last when missing was seen at fit; unknown -> -1). */
static kn_status onehot_compact(const onehot_params *p, kn_frame *out, size_t pos,
                                const enc_column *ec, const int64_t *m)
{
    kn_column *c = kn_frame_col(out, pos);
    size_t rows = kn_frame_n_rows(out);
    char *name = kn_strdup(kn_column_name(c));
    if (!name) return KN_ERR_NOMEM;
    kn_column *d;
    kn_status e = kn_frame_insert_column(out, pos + 1, "\x01kiln-onehot", KN_COL_CATEGORICAL, &d);
    for (size_t l = 0; e == KN_OK && l < ec->n + (size_t)ec->has_missing + (ec->n_rare > 0); l++) {
        const char *level = l < ec->n                       ? ec->level[l]
                            : l == ec->n && ec->has_missing ? "nan"
                                                            : "infrequent";
        int32_t code;
        e = kn_column_intern(d, level, strlen(level), &code);
    }
    if (e == KN_OK) {
        kn_column_set_role(d, kn_column_role(c));
        const int32_t *codes = kn_column_codes(c);
        int32_t *dst = kn_column_codes(d);
        for (size_t r = 0; r < rows; r++) dst[r] = (int32_t)onehot_index(p, ec, m, codes[r]);
        e = kn_column_set_encoding(d, KN_ENC_ONEHOT);
    }
    if (e == KN_OK) e = kn_frame_remove_column(out, pos);
    if (e == KN_OK) e = kn_frame_rename_column(out, pos, name);
    kn_free(name);
    return e;
}

static kn_status onehot_transform(const kn_step *st, kn_frame *out, const size_t *cols, size_t n)
{
    const onehot_params *p = kn_step_params(st);
    const enc_state *s = kn_step_state(st);
    size_t rows = kn_frame_n_rows(out), order[n ? n : 1];
    kn__order_desc(cols, n, order);
    for (size_t k = 0; k < n; k++) {
        size_t i = order[k], pos = cols[i];
        const enc_column *ec = &s->cols[i];
        kn_column *c = kn_frame_col(out, pos);
        int64_t *m;
        if (level_map(ec, c, &m) != KN_OK) return KN_ERR_NOMEM;
        const int32_t *codes = kn_column_codes(c);
        for (size_t r = 0; r < rows && !p->handle_unknown; r++)
            if ((codes[r] < 0 && !ec->has_missing) || (codes[r] >= 0 && m[codes[r]] == -1)) {
                kn_free(m);
                return unknown_error(st, c, r);
            }
        size_t width = ec->n + (size_t)ec->has_missing + (ec->n_rare > 0);
        kn_status e = KN_OK;
        if (p->compact) {
            e = onehot_compact(p, out, pos, ec, m);
            kn_free(m);
            if (e != KN_OK) return e;
            continue;
        }
        /* drop: the first output column, always or when there are two */
        size_t dropped =
            p->drop == DROP_FIRST || (p->drop == DROP_IF_BINARY && width == 2) ? 0 : width;
        for (size_t l = 0, at = pos + 1; l < width && e == KN_OK; l++) {
            if (l == dropped) continue;
            char *name = kn_sprintf("%s_%s", kn_column_name(c),
                                    l < ec->n                       ? ec->level[l]
                                    : l == ec->n && ec->has_missing ? "nan"
                                                                    : "infrequent");
            kn_column *d;
            e = name ? kn_frame_insert_column(out, at++, name, KN_COL_NUMERIC, &d) : KN_ERR_NOMEM;
            kn_free(name);
            if (e != KN_OK) break;
            kn_column_set_role(d, kn_column_role(c));
            double *x = kn_column_f64(d);
            for (size_t r = 0; r < rows; r++) x[r] = onehot_index(p, ec, m, codes[r]) == (int64_t)l;
        }
        kn_free(m);
        if (e == KN_OK) e = kn_frame_remove_column(out, pos);
        if (e != KN_OK) return e;
    }
    return KN_OK;
}

static kn_status onehot_transform_row(const kn_step *st, kn_step_row *row, const size_t *cols,
                                      size_t n)
{
    const onehot_params *p = kn_step_params(st);
    const enc_state *s = kn_step_state(st);
    size_t order[n ? n : 1];
    if (p->compact) return KN_ERR_UNSUPPORTED;
    kn__order_desc(cols, n, order);
    for (size_t k = 0; k < n; k++) {
        size_t i = order[k], pos = cols[i];
        const enc_column *ec = &s->cols[i];
        const char *t = row->text[pos];
        /* onehot_index's code: -1 for missing, else 0 with m the level's map */
        int64_t m = t ? level_of(ec, t) : 0;
        if (!p->handle_unknown && ((!t && !ec->has_missing) || (t && m == -1)))
            return KN_ERR_UNSUPPORTED; /* transform says why */
        int64_t hot = onehot_index(p, ec, &m, t ? 0 : -1);
        size_t width = ec->n + (size_t)ec->has_missing + (ec->n_rare > 0);
        size_t dropped =
            p->drop == DROP_FIRST || (p->drop == DROP_IF_BINARY && width == 2) ? 0 : width;
        size_t out = width - (dropped < width);
        if (!out) { /* (every output column dropped) */
            kn_step_row_remove(row, pos);
            continue;
        }
        /* the output columns in place of the input one: pos and out - 1 more */
        kn_status e = kn_step_row_insert(row, pos + 1, out - 1, KN_COL_NUMERIC);
        if (e != KN_OK) return e;
        row->type[pos] = KN_COL_NUMERIC;
        row->text[pos] = NULL;
        for (size_t l = 0, at = pos; l < width; l++) {
            if (l == dropped) continue;
            row->num[at++] = hot == (int64_t)l;
        }
    }
    return KN_OK;
}

static const kn_step_vt onehot_vt = {.transform_row = onehot_transform_row,
                                     .default_type = KN_COL_CATEGORICAL,
                                     .fit = onehot_fit,
                                     .transform = onehot_transform,
                                     .free_state = enc_free,
                                     .save = enc_save,
                                     .load = enc_load};

const kn_component kn__ordinal_encoder = {KN_COMP_STEP,
                                          "ordinal_encoder",
                                          "replace each category by its index among the sorted "
                                          "levels seen at fit",
                                          ordinal_defs,
                                          sizeof(ordinal_params),
                                          &ordinal_vt};
const kn_component kn__onehot_encoder = {KN_COMP_STEP,
                                         "onehot_encoder",
                                         "replace each categorical column by one 0/1 column per "
                                         "level seen at fit",
                                         onehot_defs,
                                         sizeof(onehot_params),
                                         &onehot_vt};
