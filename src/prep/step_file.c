/* .kst: fitted steps on disk (layout in step.h's comment on kn_steps_save).
 * Payload: u64 step count, each step (kn__step_encode); from format 3 a u32
 * flag, and when it is 1 the input record: target (string, NULL for none),
 * u64 column count, each column's name and u32 type. */
#include "kiln/container.h"
#include "kiln/io.h"
#include "kiln/mem.h"
#include "kiln/registry.h"
#include "kiln/step.h"
#include "prep/prep-impl.h"

#include <string.h>

static const char kst_magic[8] = {'K', 'I', 'L', 'N', 'S', 'T', 'P', '\0'};
/* 2: the shared container (end marker KCNEND01); 3: the input record; 4: the
 * reader settings after it (u32 flag, then when 1 the settings' text as a
 * string: kn_read_settings_format, kiln/io.h) */
#define KST_VERSION 4

void kn_steps_input_free(kn_steps_input *in)
{
    if (!in) return;
    kn_free(in->target);
    for (size_t j = 0; in->names && j < in->n_cols; j++) kn_free(in->names[j]);
    kn_free(in->names);
    kn_free(in->types);
    kn_free(in);
}

static kn_status input_alloc(size_t n_cols, kn_steps_input **out)
{
    kn_steps_input *in = kn_calloc(1, sizeof *in);
    if (!in) return KN_ERR_NOMEM;
    in->names = kn_calloc(n_cols ? n_cols : 1, sizeof *in->names);
    in->types = kn_calloc(n_cols ? n_cols : 1, sizeof *in->types);
    if (!in->names || !in->types) {
        kn_steps_input_free(in);
        return KN_ERR_NOMEM;
    }
    *out = in;
    return KN_OK;
}

kn_status kn_steps_input_of(const kn_frame *f, kn_steps_input **out)
{
    size_t p = kn_frame_n_cols(f);
    kn_steps_input *in = NULL;
    kn_status st = input_alloc(p, &in);
    for (size_t j = 0; st == KN_OK && j < p; j++) {
        kn_column *c = kn_frame_col(f, j);
        in->names[j] = kn_strdup(kn_column_name(c));
        in->types[j] = kn_column_type(c);
        in->n_cols = j + 1;
        if (!in->names[j]) st = KN_ERR_NOMEM;
        if (st == KN_OK && kn_column_role(c) == KN_ROLE_TARGET && !in->target &&
            !(in->target = kn_strdup(kn_column_name(c))))
            st = KN_ERR_NOMEM;
    }
    if (st != KN_OK) {
        kn_steps_input_free(in);
        return st;
    }
    *out = in;
    return KN_OK;
}

kn_status kn_steps_encode(kn_step *const *steps, size_t n, const kn_steps_input *in, kn_wbuf *w)
{
    kn_wbuf_u64(w, n);
    for (size_t k = 0; k < n; k++) {
        if (!kn_step_is_fitted(steps[k]))
            return kn_fail(KN_ERR_INVALID, "step %zu ('%s') is not fitted; fit it before saving",
                           k + 1, kn_step_name(steps[k]));
        kn_status st = kn__step_encode(steps[k], w);
        if (st != KN_OK) return st;
    }
    kn_wbuf_u32(w, in ? 1 : 0);
    if (in) {
        kn_wbuf_str(w, in->target);
        kn_wbuf_u64(w, in->n_cols);
        for (size_t j = 0; j < in->n_cols; j++) {
            kn_wbuf_str(w, in->names[j]);
            kn_wbuf_u32(w, (uint32_t)in->types[j]);
        }
    }
    return kn_wbuf_status(w);
}

kn_status kn_steps_save_with_read(kn_step *const *steps, size_t n, const kn_steps_input *in,
                                  const char *read, const char *path)
{
    kn_wbuf w = {0};
    char *def = NULL; /* none given: the default settings, so that only a file
                         older than format 4 reads with the settings of its time */
    size_t def_len = 0;
    kn_status st = kn_steps_encode(steps, n, in, &w);
    if (st == KN_OK && !read) {
        kn_read_opts o;
        kn_read_opts_default(&o);
        st = kn_read_settings_format(&o, NULL, &def, &def_len);
        read = def;
    }
    kn_wbuf_u32(&w, 1);
    if (read) kn_wbuf_str(&w, read);
    kn_free(def);
    if (st == KN_OK) st = kn_wbuf_status(&w);
    if (st == KN_OK) st = kn_container_write(path, kst_magic, KST_VERSION, &w);
    kn_wbuf_free(&w);
    return st;
}

kn_status kn_steps_save_with_input(kn_step *const *steps, size_t n, const kn_steps_input *in,
                                   const char *path)
{
    return kn_steps_save_with_read(steps, n, in, NULL, path);
}

kn_status kn_steps_save(kn_step *const *steps, size_t n, const char *path)
{
    return kn_steps_save_with_input(steps, n, NULL, path);
}

/* The input record of a format 3 file (NULL when it says it has none). */
static kn_status decode_input(kn_rbuf *r, kn_steps_input **out)
{
    uint32_t has = 0;
    size_t n_cols = 0;
    char *target = NULL;
    *out = NULL;
    kn_status st = kn_rbuf_u32(r, &has);
    if (st != KN_OK || !has) return st;
    if (has != 1) return kn_fail(KN_ERR_CORRUPT, "%s: bad input record flag %u", r->what, has);
    st = kn_rbuf_str(r, &target);
    if (st == KN_OK) st = kn_rbuf_count(r, 12, &n_cols);
    kn_steps_input *in = NULL;
    if (st == KN_OK) st = input_alloc(n_cols, &in);
    if (st != KN_OK) {
        kn_free(target);
        return st;
    }
    in->target = target;
    for (size_t j = 0; j < n_cols && st == KN_OK; j++) {
        uint32_t t = 0;
        st = kn_rbuf_str(r, &in->names[j]);
        in->n_cols = j + 1;
        if (st == KN_OK && !in->names[j])
            st = kn_fail(KN_ERR_CORRUPT, "%s: an input column has no name", r->what);
        if (st == KN_OK) st = kn_rbuf_u32(r, &t);
        if (st == KN_OK && t > KN_COL_TIMESTAMP)
            st = kn_fail(KN_ERR_CORRUPT, "%s: bad column type %u", r->what, t);
        if (st == KN_OK) in->types[j] = (kn_col_type)t;
    }
    if (st != KN_OK) {
        kn_steps_input_free(in);
        return st;
    }
    *out = in;
    return KN_OK;
}

kn_status kn_steps_decode(kn_rbuf *r, int with_input, kn_step ***out, size_t *n_out,
                          kn_steps_input **in_out)
{
    kn_step **steps = NULL;
    kn_steps_input *in = NULL;
    size_t n = 0, done = 0;
    kn_status st = kn_rbuf_count(r, 1, &n);
    if (st != KN_OK) return st;
    if (!(steps = kn_calloc(n ? n : 1, sizeof *steps))) return KN_ERR_NOMEM;
    for (; done < n && st == KN_OK; done++) st = kn__step_decode(r, &steps[done]);
    if (st == KN_OK && with_input) st = decode_input(r, &in);
    if (st != KN_OK) {
        for (size_t k = 0; k < done; k++) kn_step_free(steps[k]);
        kn_free(steps);
        kn_steps_input_free(in);
        return st;
    }
    *out = steps;
    *n_out = n;
    if (in_out)
        *in_out = in;
    else
        kn_steps_input_free(in);
    return KN_OK;
}

kn_status kn_steps_load_with_read(const char *path, kn_step ***out, size_t *n_out,
                                  kn_steps_input **in_out, char **read_out)
{
    char *buf = NULL, *read = NULL;
    kn_rbuf r;
    uint32_t version, has_read = 0;
    if (read_out) *read_out = NULL;
    kn_status st =
        kn_container_read(path, kst_magic, "steps file", KST_VERSION, &buf, &r, &version);
    if (st != KN_OK) return st;
    kn_step **steps = NULL;
    kn_steps_input *in = NULL;
    size_t n = 0;
    st = kn_steps_decode(&r, version >= 3, &steps, &n, &in);
    int decoded = st == KN_OK; /* steps and in are ours to free on a later error */
    if (st == KN_OK && version >= 4) st = kn_rbuf_u32(&r, &has_read);
    if (st == KN_OK && has_read > 1)
        st = kn_fail(KN_ERR_CORRUPT, "%s: bad reader settings flag %u", path, has_read);
    if (st == KN_OK && has_read) st = kn_rbuf_str(&r, &read);
    if (st == KN_OK && has_read && !read)
        st = kn_fail(KN_ERR_CORRUPT, "%s: the reader settings are missing", path);
    if (st == KN_OK && kn_rbuf_left(&r))
        st = kn_fail(KN_ERR_CORRUPT, "%s: trailing bytes after the last step", path);
    kn_free(buf);
    if (st != KN_OK) {
        if (decoded) {
            for (size_t k = 0; k < n; k++) kn_step_free(steps[k]);
            kn_free(steps);
            kn_steps_input_free(in);
        }
        kn_free(read);
        return st;
    }
    *out = steps;
    *n_out = n;
    if (in_out)
        *in_out = in;
    else
        kn_steps_input_free(in);
    if (read_out)
        *read_out = read;
    else
        kn_free(read);
    return KN_OK;
}

kn_status kn_steps_load_with_input(const char *path, kn_step ***out, size_t *n_out,
                                   kn_steps_input **in_out)
{
    return kn_steps_load_with_read(path, out, n_out, in_out, NULL);
}

kn_status kn_steps_load(const char *path, kn_step ***out, size_t *n_out)
{
    return kn_steps_load_with_input(path, out, n_out, NULL);
}
