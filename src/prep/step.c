/* The generic step: parameters, column selection, fit/transform around a vtable. */
#include "kiln/init.h"
#include "kiln/step.h"
#include "prep/prep-impl.h"
#include "prep/row-impl.h"
#include "kiln/mem.h"
#include "kiln/registry.h"

#include <stdio.h>
#include <regex.h>
#include <string.h>

struct kn_step {
    kn_instance inst; /* component and parameters (kiln/component.h) */
    void *state;
    char **names; /* fitted columns */
    kn_col_type *types;
    size_t n;
    int fitted;
};

static void unfit(kn_step *s)
{
    const kn_step_vt *vt = s->inst.comp->vt;
    if (s->state && vt->free_state) vt->free_state(s->state);
    s->state = NULL;
    for (size_t i = 0; i < s->n; i++) kn_free(s->names[i]);
    kn_free(s->names);
    kn_free(s->types);
    s->names = NULL;
    s->types = NULL;
    s->n = 0;
    s->fitted = 0;
}

kn_status kn_step_new(const char *name, kn_step **out)
{
    kn_prep_register();
    const kn_component *c = kn_registry_find(KN_COMP_STEP, name);
    if (!c) return kn_last_status();
    kn_step *s = kn_calloc(1, sizeof *s);
    if (!s) return KN_ERR_NOMEM;
    kn_status st = kn_instance_init(&s->inst, c, ((const kn_step_vt *)c->vt)->validate);
    if (st != KN_OK) {
        kn_free(s);
        return st;
    }
    *out = s;
    return KN_OK;
}

void kn_step_free(kn_step *s)
{
    if (!s) return;
    unfit(s);
    kn_instance_release(&s->inst);
    kn_free(s);
}

kn_status kn_step_set(kn_step *s, const char *name_eq_value)
{
    kn_status st = kn_instance_set(&s->inst, name_eq_value);
    if (st != KN_OK) return st;
    unfit(s);
    return KN_OK;
}

kn_status kn_step_set_params(kn_step *s, const void *params, size_t size)
{
    kn_status st = kn_instance_set_params(&s->inst, params, size);
    if (st == KN_OK) unfit(s);
    return st;
}

kn_status kn_step_validate(const kn_step *s)
{
    kn_status st = kn_instance_validate(&s->inst);
    return st == KN_OK ? st : kn_fail_prefix(st, "step '%s': ", s->inst.comp->name);
}

kn_status kn_step_clone(const kn_step *s, int fitted, kn_step **out)
{
    if (fitted && s->fitted) { /* a deep copy through the encoding: every step has one */
        kn_wbuf w = {0};
        kn_status e = kn__step_encode(s, &w);
        if (e == KN_OK) e = kn_wbuf_status(&w);
        kn_rbuf r = kn_rbuf_init(w.p, w.n, "step copy");
        if (e == KN_OK) e = kn__step_decode(&r, out);
        kn_wbuf_free(&w);
        return e;
    }
    kn_step *c = kn_calloc(1, sizeof *c);
    if (!c) return KN_ERR_NOMEM;
    kn_status e = kn_instance_copy(&c->inst, &s->inst);
    if (e != KN_OK) {
        kn_free(c);
        return e;
    }
    *out = c;
    return KN_OK;
}

const char *kn_step_name(const kn_step *s)
{
    return s->inst.comp->name;
}

int kn_step_is_fitted(const kn_step *s)
{
    return s->fitted;
}

int kn_step_changes_rows(const kn_step *s)
{
    return ((const kn_step_vt *)s->inst.comp->vt)->resample != NULL;
}

const void *kn_step_params(const kn_step *s)
{
    return s->inst.params;
}

const void *kn_step_state(const kn_step *s)
{
    return s->state;
}

void kn_step_set_state(kn_step *s, void *state)
{
    const kn_step_vt *vt = s->inst.comp->vt;
    if (s->state && vt->free_state) vt->free_state(s->state);
    s->state = state;
}

/* Add (or, with `remove`, take out) the feature columns one selector picks:
 * "type:T" (every feature column of type T) or "match:REGEX" (names matching). */
static kn_status apply_selector(const char *step, const char *sel, int remove, const kn_frame *x,
                                size_t *v, size_t *k)
{
    kn_col_type want = KN_COL_NUMERIC;
    regex_t re;
    int by_type = !strncmp(sel, "type:", 5);
    if (by_type && kn_col_type_parse(sel + 5, &want) != KN_OK)
        return kn_fail(KN_ERR_INVALID,
                       "step '%s': columns: '%s' names no type (numeric, "
                       "categorical, string, timestamp)",
                       step, sel);
    if (!by_type && regcomp(&re, sel + 6, REG_EXTENDED | REG_NOSUB) != 0)
        return kn_fail(KN_ERR_INVALID, "step '%s': columns: '%s' is not a valid regex", step, sel);
    for (size_t j = 0; j < kn_frame_n_cols(x); j++) {
        kn_column *c = kn_frame_col(x, j);
        if (kn_column_role(c) != KN_ROLE_FEATURE) continue;
        int hit =
            by_type ? kn_column_type(c) == want : regexec(&re, kn_column_name(c), 0, NULL, 0) == 0;
        if (!hit) continue;
        size_t at = 0;
        while (at < *k && v[at] != j) at++;
        if (remove && at < *k) {
            memmove(v + at, v + at + 1, (*k - at - 1) * sizeof *v);
            (*k)--;
        } else if (!remove && at == *k)
            v[(*k)++] = j;
    }
    if (!by_type) regfree(&re);
    return KN_OK;
}

/* Indices of the columns `spec` picks, or of every feature column of the
 * default type when spec is empty. spec is comma-separated: column names,
 * "type:T", "match:REGEX", each of them prefixed with '-' to take columns out. */
static kn_status select_columns(const char *step, const char *spec, kn_col_type type,
                                const kn_frame *x, size_t **cols, size_t *n)
{
    size_t cap = kn_frame_n_cols(x) + 1, k = 0;
    size_t *v = kn_malloc(cap * sizeof *v);
    if (!v) return KN_ERR_NOMEM;
    kn_status e = KN_OK;
    if (!spec[0]) {
        for (size_t j = 0; j < kn_frame_n_cols(x); j++) {
            kn_column *c = kn_frame_col(x, j);
            if (kn_column_type(c) == type && kn_column_role(c) == KN_ROLE_FEATURE) v[k++] = j;
        }
    }
    for (const char *p = spec; *p && e == KN_OK;) {
        const char *comma = strchr(p, ',');
        size_t len = comma ? (size_t)(comma - p) : strlen(p);
        char *name = kn_strndup(p, len);
        if (!name) {
            e = KN_ERR_NOMEM;
            break;
        }
        p += len + (comma ? 1 : 0);
        int remove = name[0] == '-';
        const char *sel = name + remove;
        size_t j;
        if (!strncmp(sel, "type:", 5) || !strncmp(sel, "match:", 6))
            e = apply_selector(step, sel, remove, x, v, &k);
        else if (kn_frame_find(x, sel, &j) != KN_OK)
            e = kn_fail_prefix(KN_ERR_NOT_FOUND, "step '%s': columns: ", step);
        else if (!remove && kn_column_role(kn_frame_col(x, j)) == KN_ROLE_TARGET)
            e = kn_fail(KN_ERR_INVALID,
                        "step '%s': columns names '%s', the target; steps never transform the "
                        "target (new data to transform has none, and a model must learn the "
                        "values as they are). Take it out of columns, or drop reader option "
                        "target if '%s' is a feature",
                        step, sel, sel);
        else {
            size_t at = 0;
            while (at < k && v[at] != j) at++;
            if (remove && at < k) {
                memmove(v + at, v + at + 1, (k - at - 1) * sizeof *v);
                k--;
            } else if (!remove && at < k)
                e = kn_fail(KN_ERR_INVALID, "step '%s': columns lists '%s' twice", step, sel);
            else if (!remove)
                v[k++] = j;
        }
        kn_free(name);
    }
    if (e != KN_OK) {
        kn_free(v);
        return e;
    }
    *cols = v;
    *n = k;
    return KN_OK;
}

kn_status kn_step_fit(kn_step *s, const kn_frame *x)
{
    unfit(s);
    kn_status st = kn_step_validate(s); /* rules across parameters, before any work */
    if (st != KN_OK) return st;
    const kn_step_common *common = s->inst.params;
    size_t *cols, n;
    const kn_step_vt *vt = s->inst.comp->vt;
    st = vt->names_own_columns
             ? ((cols = kn_malloc(sizeof *cols)) ? (n = 0, KN_OK) : KN_ERR_NOMEM)
             : select_columns(s->inst.comp->name, common->columns, vt->default_type, x, &cols, &n);
    if (st != KN_OK) return st;
    s->names = kn_calloc(n ? n : 1, sizeof *s->names);
    s->types = kn_calloc(n ? n : 1, sizeof *s->types);
    if (!s->names || !s->types) st = KN_ERR_NOMEM;
    for (size_t i = 0; i < n && st == KN_OK; i++) {
        kn_column *c = kn_frame_col(x, cols[i]);
        s->names[i] = kn_strdup(kn_column_name(c));
        s->types[i] = kn_column_type(c);
        if (!s->names[i]) st = KN_ERR_NOMEM;
        s->n = i + 1;
    }
    if (st == KN_OK) st = vt->fit(s, x, cols, n);
    kn_free(cols);
    if (st != KN_OK) {
        unfit(s);
        return st;
    }
    s->fitted = 1;
    return KN_OK;
}

static int all_missing(kn_column *c, size_t rows)
{
    for (size_t r = 0; r < rows; r++)
        if (!kn_column_is_missing(c, r)) return 0;
    return 1;
}

/* A column with no value at all carries no type (a reader calls an empty
 * column numeric): give it the fitted type, still all missing. */
static kn_status retype_empty(const kn_step *s, kn_frame *f, const size_t *cols)
{
    for (size_t i = 0; i < s->n; i++) {
        kn_column *c = kn_frame_col(f, cols[i]);
        if (kn_column_type(c) == s->types[i]) continue;
        kn_role role = kn_column_role(c);
        kn_status e = kn_frame_remove_column(f, cols[i]);
        if (e == KN_OK) e = kn_frame_insert_column(f, cols[i], s->names[i], s->types[i], &c);
        if (e != KN_OK) return e;
        kn_column_set_role(c, role);
    }
    return KN_OK;
}

/* The fitted columns' indices in `in`, checked for presence and type (an
 * entirely missing column passes: retype_empty gives it the fitted type). */
static kn_status fitted_columns(const kn_step *s, const kn_frame *in, size_t **out)
{
    size_t *cols = kn_malloc((s->n ? s->n : 1) * sizeof *cols);
    if (!cols) return KN_ERR_NOMEM;
    kn_status st = KN_OK;
    for (size_t i = 0; i < s->n && st == KN_OK; i++) {
        if (kn_frame_find(in, s->names[i], &cols[i]) != KN_OK)
            st = kn_fail(KN_ERR_NOT_FOUND,
                         "step '%s' was fitted on column '%s', which the data to transform lacks",
                         s->inst.comp->name, s->names[i]);
        else if (kn_column_type(kn_frame_col(in, cols[i])) != s->types[i] &&
                 !all_missing(kn_frame_col(in, cols[i]), kn_frame_n_rows(in)))
            st = kn_fail(KN_ERR_TYPE, "step '%s': column '%s' was %s at fit time but is %s now",
                         s->inst.comp->name, s->names[i], kn_col_type_name(s->types[i]),
                         kn_col_type_name(kn_column_type(kn_frame_col(in, cols[i]))));
    }
    if (st != KN_OK) {
        kn_free(cols);
        return st;
    }
    *out = cols;
    return KN_OK;
}

static kn_status apply(const kn_step *s, const kn_frame *in, int training, kn_frame **out)
{
    if (!s->fitted)
        return kn_fail(KN_ERR_INVALID, "step '%s' is not fitted; call fit on training data first",
                       s->inst.comp->name);
    size_t *cols = NULL;
    kn_frame *copy = NULL;
    kn_status st = fitted_columns(s, in, &cols);
    if (st == KN_OK) st = kn_frame_copy(in, &copy);
    if (st == KN_OK) st = retype_empty(s, copy, cols);
    const kn_step_vt *vt = s->inst.comp->vt;
    if (st == KN_OK && training && vt->resample) { /* new training rows (fit time only) */
        kn_frame *rows = NULL;
        st = vt->resample(s, copy, cols, s->n, &rows);
        kn_frame_free(copy);
        copy = rows;
    } else if (st == KN_OK)
        st = training && vt->fit_transform ? vt->fit_transform(s, in, copy, cols, s->n)
                                           : vt->transform(s, copy, cols, s->n);
    kn_free(cols);
    if (st != KN_OK) {
        kn_frame_free(copy);
        return st;
    }
    *out = copy;
    return KN_OK;
}

kn_status kn_step_transform(const kn_step *s, const kn_frame *in, kn_frame **out)
{
    return apply(s, in, 0, out);
}

kn_status kn_step_fit_transform(kn_step *s, const kn_frame *x, kn_frame **out)
{
    kn_status st = kn_step_fit(s, x);
    return st == KN_OK ? apply(s, x, 1, out) : st;
}

kn_status kn__step_encode(const kn_step *s, kn_wbuf *w)
{
    const kn_step_vt *vt = s->inst.comp->vt;
    kn_wbuf_str(w, s->inst.comp->name);
    kn_status e = kn_instance_encode_params(&s->inst, w);
    if (e != KN_OK) return e;
    kn_wbuf_u64(w, s->n);
    for (size_t i = 0; i < s->n; i++) {
        kn_wbuf_str(w, s->names[i]);
        kn_wbuf_u32(w, (uint32_t)s->types[i]);
    }
    return vt->save(s, w);
}

kn_status kn__step_decode(kn_rbuf *r, kn_step **out)
{
    char *name = NULL;
    kn_step *s = NULL;
    kn_status st = kn_rbuf_str(r, &name);
    if (st == KN_OK && !name) st = kn_fail(KN_ERR_CORRUPT, "%s: a step has no name", r->what);
    if (st == KN_OK) st = kn_step_new(name, &s);
    kn_free(name);
    size_t n = 0;
    if (st == KN_OK) st = kn_instance_decode_params(&s->inst, r);
    if (st == KN_OK) st = kn_rbuf_count(r, 12, &n);
    if (st == KN_OK) {
        s->names = kn_calloc(n ? n : 1, sizeof *s->names);
        s->types = kn_calloc(n ? n : 1, sizeof *s->types);
        if (!s->names || !s->types) st = KN_ERR_NOMEM;
    }
    for (size_t i = 0; i < n && st == KN_OK; i++) {
        uint32_t t = 0;
        st = kn_rbuf_str(r, &s->names[i]);
        s->n = i + 1;
        if (st == KN_OK && !s->names[i])
            st = kn_fail(KN_ERR_CORRUPT, "%s: a column has no name", r->what);
        if (st == KN_OK) st = kn_rbuf_u32(r, &t);
        if (st == KN_OK && t > KN_COL_TIMESTAMP)
            st = kn_fail(KN_ERR_CORRUPT, "%s: bad column type %u", r->what, t);
        if (st == KN_OK) s->types[i] = (kn_col_type)t;
    }
    const kn_step_vt *vt = s ? s->inst.comp->vt : NULL;
    if (st == KN_OK) st = vt->load(s, r, n);
    if (st != KN_OK) {
        kn_step_free(s);
        return st == KN_ERR_INVALID || st == KN_ERR_TYPE || st == KN_ERR_RANGE
                   ? kn_fail_prefix(KN_ERR_CORRUPT, "%s: ", r->what)
                   : st;
    }
    s->fitted = 1;
    *out = s;
    return KN_OK;
}

kn_status kn_step_from_spec(const char *spec, kn_step **out)
{
    char *buf = kn_strdup(spec);
    if (!buf) return KN_ERR_NOMEM;
    char *colon = strchr(buf, ':');
    if (colon) *colon = '\0';
    kn_step *s = NULL;
    kn_status e = kn_step_new(buf, &s);
    for (char *p = colon ? colon + 1 : NULL; e == KN_OK && p && *p;) {
        char *semi = strchr(p, ';');
        if (semi) *semi = '\0';
        if (*p) e = kn_step_set(s, p);
        p = semi ? semi + 1 : NULL;
    }
    kn_free(buf);
    if (e != KN_OK) {
        kn_step_free(s);
        return kn_fail_prefix(e, "step %s: ", spec);
    }
    *out = s;
    return KN_OK;
}

/* ---- the row path (prep/row-impl.h) ---- */

kn_status kn_step_row_insert(kn_step_row *r, size_t pos, size_t count, kn_col_type t)
{
    if (pos > r->n || count > r->cap - r->n)
        return kn_fail(KN_ERR_INTERNAL, "row path: %zu columns inserted at %zu of %zu (room %zu)",
                       count, pos, r->n, r->cap);
    size_t tail = r->n - pos;
    memmove(r->type + pos + count, r->type + pos, tail * sizeof *r->type);
    memmove(r->num + pos + count, r->num + pos, tail * sizeof *r->num);
    memmove(r->text + pos + count, r->text + pos, tail * sizeof *r->text);
    memmove(r->i64 + pos + count, r->i64 + pos, tail * sizeof *r->i64);
    for (size_t i = pos; i < pos + count; i++) {
        r->type[i] = t;
        r->num[i] = 0;
        r->text[i] = NULL;
        r->i64[i] = 0;
    }
    r->n += count;
    return KN_OK;
}

void kn_step_row_remove(kn_step_row *r, size_t pos)
{
    if (pos >= r->n) return;
    size_t tail = r->n - pos - 1;
    memmove(r->type + pos, r->type + pos + 1, tail * sizeof *r->type);
    memmove(r->num + pos, r->num + pos + 1, tail * sizeof *r->num);
    memmove(r->text + pos, r->text + pos + 1, tail * sizeof *r->text);
    memmove(r->i64 + pos, r->i64 + pos + 1, tail * sizeof *r->i64);
    r->n--;
}

size_t kn__step_n_fitted(const kn_step *s)
{
    return s->n;
}

kn_status kn__step_row_columns(const kn_step *s, const kn_frame *layout, size_t *cols)
{
    const kn_step_vt *vt = s->inst.comp->vt;
    if (!s->fitted || !vt->transform_row) return KN_ERR_UNSUPPORTED;
    for (size_t i = 0; i < s->n; i++)
        if (kn_frame_find(layout, s->names[i], &cols[i]) != KN_OK ||
            kn_column_type(kn_frame_col(layout, cols[i])) != s->types[i])
            return KN_ERR_UNSUPPORTED;
    return KN_OK;
}

kn_status kn__step_transform_row(const kn_step *s, kn_step_row *row, const size_t *cols)
{
    const kn_step_vt *vt = s->inst.comp->vt;
    return vt->transform_row(s, row, cols, s->n);
}
