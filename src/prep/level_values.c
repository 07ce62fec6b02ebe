/* Learned numbers per category (see prep-impl.h): the state, file form and
 * transform shared by the frequency and target encoders. */
#include "kiln/mem.h"
#include "prep/prep-impl.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

kn__lv_state *kn__lv_new(size_t n_cols, double unknown, double missing)
{
    kn__lv_state *s = kn_calloc(1, sizeof *s);
    if (!s || !(s->cols = kn_calloc(n_cols ? n_cols : 1, sizeof *s->cols))) {
        kn_free(s);
        return NULL;
    }
    s->n = n_cols;
    s->unknown = unknown;
    s->missing = missing;
    return s;
}

void kn__lv_free(void *p)
{
    kn__lv_state *s = p;
    if (!s) return;
    for (size_t i = 0; i < s->n; i++) {
        for (size_t l = 0; l < s->cols[i].n; l++) kn_free(s->cols[i].level[l]);
        kn_free(s->cols[i].level);
        kn_free(s->cols[i].value);
    }
    kn_free(s->cols);
    kn_free(s);
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

kn_status kn__lv_set(kn__level_values *lv, kn_column *c, const double *value, const double *keep)
{
    size_t nl = kn_column_n_levels(c);
    size_t *order = kn_malloc((nl + 1) * sizeof *order);
    lv->level = kn_calloc(nl + 1, sizeof *lv->level);
    lv->value = kn_calloc(nl + 1, sizeof *lv->value);
    if (!order || !lv->level || !lv->value) {
        kn_free(order);
        return KN_ERR_NOMEM;
    }
    size_t k = 0;
    for (size_t l = 0; l < nl; l++)
        if (keep[l] > 0) order[k++] = l;
    /* sort the kept codes by their text (insertion sort on indices; levels are few
     * next to rows, and qsort has no context argument in C11) */
    for (size_t a = 1; a < k; a++)
        for (size_t b = a; b > 0 && strcmp(kn_column_level(c, (int32_t)order[b - 1], NULL),
                                           kn_column_level(c, (int32_t)order[b], NULL)) > 0;
             b--) {
            size_t t = order[b];
            order[b] = order[b - 1];
            order[b - 1] = t;
        }
    kn_status e = KN_OK;
    for (size_t i = 0; i < k && e == KN_OK; i++) {
        if (!(lv->level[i] = kn_strdup(kn_column_level(c, (int32_t)order[i], NULL))))
            e = KN_ERR_NOMEM;
        lv->value[i] = value[order[i]];
        lv->n = i + 1;
    }
    kn_free(order);
    return e;
}

kn_status kn__lv_replace(kn_frame *out, size_t pos, double **v)
{
    kn_column *c = kn_frame_col(out, pos), *d;
    char *name = kn_strdup(kn_column_name(c));
    kn_role role = kn_column_role(c);
    kn_status e = name
                      ? kn_frame_insert_column(out, pos + 1, "\x01kiln-numeric", KN_COL_NUMERIC, &d)
                      : KN_ERR_NOMEM;
    if (e == KN_OK) {
        kn_column_set_role(d, role);
        *v = kn_column_f64(d);
        e = kn_frame_remove_column(out, pos);
    }
    if (e == KN_OK) e = kn_frame_rename_column(out, pos, name);
    kn_free(name);
    return e;
}

kn_status kn__lv_apply(const kn_step *st, kn_frame *out, const size_t *cols, size_t n)
{
    const kn__lv_state *s = kn_step_state(st);
    size_t rows = kn_frame_n_rows(out);
    for (size_t i = 0; i < n; i++) {
        const kn__level_values *lv = &s->cols[i];
        kn_column *c = kn_frame_col(out, cols[i]);
        size_t nl = kn_column_n_levels(c);
        double *map = kn_malloc((nl + 1) * sizeof *map);
        int32_t *code = kn_malloc((rows ? rows : 1) * sizeof *code);
        double *v = NULL;
        kn_status e = map && code ? KN_OK : KN_ERR_NOMEM;
        for (size_t l = 0; e == KN_OK && l < nl; l++) {
            const char *t = kn_column_level(c, (int32_t)l, NULL);
            char **hit = bsearch(&t, lv->level, lv->n, sizeof *lv->level, cmp_str);
            map[l] = hit ? lv->value[hit - lv->level] : s->unknown;
        }
        if (e == KN_OK) memcpy(code, kn_column_codes(c), rows * sizeof *code);
        if (e == KN_OK) e = kn__lv_replace(out, cols[i], &v);
        for (size_t r = 0; e == KN_OK && r < rows; r++)
            v[r] = code[r] < 0 ? s->missing : map[code[r]];
        kn_free(code);
        kn_free(map);
        if (e != KN_OK) return e;
    }
    return KN_OK;
}

kn_status kn__lv_save(const kn_step *st, kn_wbuf *w)
{
    const kn__lv_state *s = kn_step_state(st);
    kn_wbuf_u64(w, s->n);
    kn_wbuf_f64(w, s->unknown);
    kn_wbuf_f64(w, s->missing);
    for (size_t i = 0; i < s->n; i++) {
        kn_wbuf_u64(w, s->cols[i].n);
        for (size_t l = 0; l < s->cols[i].n; l++) kn_wbuf_str(w, s->cols[i].level[l]);
        kn_wbuf_f64s(w, s->cols[i].value, s->cols[i].n);
    }
    return KN_OK;
}

kn_status kn__read_sorted_levels(kn_rbuf *r, size_t count, char **v, size_t *n)
{
    for (size_t l = 0; l < count; l++) {
        kn_status e = kn_rbuf_str(r, &v[l]);
        if (e != KN_OK) return e;
        *n = l + 1;
        /* transforms binary-search the levels: they must be sorted and unique */
        if (!v[l] || (l && strcmp(v[l - 1], v[l]) >= 0))
            return kn_fail(KN_ERR_CORRUPT, "%s: category levels out of order", r->what);
    }
    return KN_OK;
}

kn_status kn__lv_load(kn_step *st, kn_rbuf *r, size_t n)
{
    kn_status e = kn__state_count(r, n, kn_step_name(st));
    if (e != KN_OK) return e;
    kn__lv_state *s = kn__lv_new(n, 0, 0);
    if (!s) return KN_ERR_NOMEM;
    e = kn_rbuf_f64(r, &s->unknown);
    if (e == KN_OK) e = kn_rbuf_f64(r, &s->missing);
    for (size_t i = 0; i < n && e == KN_OK; i++) {
        kn__level_values *lv = &s->cols[i];
        size_t count = 0;
        e = kn_rbuf_count(r, 8, &count);
        if (e == KN_OK && !(lv->level = kn_calloc(count + 1, sizeof *lv->level))) e = KN_ERR_NOMEM;
        if (e == KN_OK) e = kn__read_sorted_levels(r, count, lv->level, &lv->n);
        if (e == KN_OK) e = kn__decode_f64s(r, lv->n, &lv->value);
    }
    if (e != KN_OK) {
        kn__lv_free(s);
        return e;
    }
    kn_step_set_state(st, s);
    return KN_OK;
}
