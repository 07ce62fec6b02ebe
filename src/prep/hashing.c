/* hashing_encoder: feature hashing of high-cardinality text. Each non-missing
 * cell of the selected categorical or string columns becomes the text
 * "<column>=<value>" (or the bare value with with_names=false), hashed with
 * 32-bit MurmurHash3 (seed 0); the hash picks one of n_features output
 * columns ("<prefix>0".."<prefix>N-1", placed where the first selected column
 * was) and, with alternate_sign, adds +1 or -1 by the hash's sign, so
 * collisions cancel on average. This is scikit-learn's FeatureHasher
 * (input_type="string") fed those texts. Nothing is learned: fit only checks
 * the column types. */
#include "kiln/mem.h"
#include "kiln/step.h"
#include "prep/prep-impl.h"

#include <stdio.h>
#include <string.h>

typedef struct hash_params {
    kn_step_common common;
    int64_t n_features;
    int alternate_sign;
    int with_names;
    const char *prefix;
} hash_params;

static const kn_param_def hash_defs[] = {
    KN_STEP_COMMON_PARAMS_CATEGORICAL(hash_params),
    KN_PARAM_INT(hash_params, n_features, "64", 1, 65536, "output columns"),
    KN_PARAM_BOOL(hash_params, alternate_sign, "true", "add +1 or -1 by the hash's sign"),
    KN_PARAM_BOOL(hash_params, with_names, "true",
                  "hash \"<column>=<value>\" (false: the bare value, columns may collide)"),
    KN_PARAM_STRING(hash_params, prefix, "hash", "output column names: prefix0, prefix1, ..."),
    KN_PARAM_END};

static uint32_t rotl32(uint32_t x, int r)
{
    return (x << r) | (x >> (32 - r));
}

/* MurmurHash3, x86 32-bit variant (Austin Appleby's public-domain design). */
static uint32_t murmur3_32(const void *data, size_t len, uint32_t seed)
{
    const unsigned char *p = data;
    const uint32_t c1 = 0xcc9e2d51u, c2 = 0x1b873593u;
    uint32_t h = seed;
    size_t blocks = len / 4;
    for (size_t i = 0; i < blocks; i++) {
        uint32_t k = (uint32_t)p[4 * i] | (uint32_t)p[4 * i + 1] << 8 |
                     (uint32_t)p[4 * i + 2] << 16 | (uint32_t)p[4 * i + 3] << 24;
        k *= c1;
        k = rotl32(k, 15);
        k *= c2;
        h ^= k;
        h = rotl32(h, 13);
        h = h * 5 + 0xe6546b64u;
    }
    const unsigned char *tail = p + 4 * blocks;
    uint32_t k = 0;
    switch (len & 3) {
    case 3:
        k ^= (uint32_t)tail[2] << 16;
        /* fall through */
    case 2:
        k ^= (uint32_t)tail[1] << 8;
        /* fall through */
    case 1:
        k ^= tail[0];
        k *= c1;
        k = rotl32(k, 15);
        k *= c2;
        h ^= k;
    }
    h ^= (uint32_t)len;
    h ^= h >> 16;
    h *= 0x85ebca6bu;
    h ^= h >> 13;
    h *= 0xc2b2ae35u;
    h ^= h >> 16;
    return h;
}

static kn_status hash_fit(kn_step *st, const kn_frame *x, const size_t *cols, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        kn_column *c = kn_frame_col(x, cols[i]);
        if (kn_column_type(c) != KN_COL_CATEGORICAL && kn_column_type(c) != KN_COL_STRING)
            return kn_fail(KN_ERR_TYPE,
                           "%s: column '%s' is %s; it hashes categorical or string "
                           "columns",
                           kn_step_name(st), kn_column_name(c),
                           kn_col_type_name(kn_column_type(c)));
    }
    if (!n) return kn_fail(KN_ERR_INVALID, "%s: no columns to hash", kn_step_name(st));
    return kn__mark_fitted(st);
}

/* Output column and sign of one text. */
static void place(const hash_params *p, const char *s, size_t len, size_t *col, double *sign)
{
    int32_t h = (int32_t)murmur3_32(s, len, 0);
    uint32_t nf = (uint32_t)p->n_features;
    /* |INT32_MIN| does not fit: FeatureHasher maps it as below */
    *col = h == INT32_MIN ? (size_t)((2147483647u - (nf - 1)) % nf)
                          : (size_t)((uint32_t)(h < 0 ? -h : h) % nf);
    *sign = p->alternate_sign && h < 0 ? -1 : 1;
}

static kn_status hash_cell(const hash_params *p, kn_column *c, size_t r, char **buf, size_t *cap,
                           double *const *out)
{
    size_t len;
    const char *v = kn_column_type(c) == KN_COL_STRING
                        ? kn_column_str(c, r, &len)
                        : kn_column_level(c, kn_column_codes(c)[r], &len);
    if (!v) return KN_OK; /* missing: no contribution */
    const char *name = kn_column_name(c);
    size_t need = p->with_names ? strlen(name) + 1 + len : len;
    if (need + 1 > *cap) {
        kn_free(*buf);
        *cap = 2 * need + 64;
        if (!(*buf = kn_malloc(*cap))) return KN_ERR_NOMEM;
    }
    if (p->with_names)
        snprintf(*buf, *cap, "%s=%.*s", name, (int)len, v);
    else
        memcpy(*buf, v, len);
    size_t col;
    double sign;
    place(p, *buf, need, &col, &sign);
    out[col][r] += sign;
    return KN_OK;
}

static kn_status hash_apply(const kn_step *st, kn_frame *out, const size_t *cols, size_t n)
{
    const hash_params *p = kn_step_params(st);
    size_t rows = kn_frame_n_rows(out), last = 0;
    for (size_t i = 0; i < n; i++)
        if (cols[i] > last) last = cols[i];
    size_t nf = (size_t)p->n_features;
    double **dst = kn_malloc(nf * sizeof *dst);
    if (!dst) return KN_ERR_NOMEM;
    kn_status e = KN_OK;
    for (size_t f = 0; f < nf && e == KN_OK; f++) {
        char *name = kn_sprintf("%s%zu", p->prefix, f);
        if (!name) {
            e = KN_ERR_NOMEM;
            break;
        }
        kn_column *d;
        e = kn_frame_insert_column(out, last + 1 + f, name, KN_COL_NUMERIC, &d);
        kn_free(name);
        if (e == KN_OK) {
            dst[f] = kn_column_f64(d);
            memset(dst[f], 0, rows * sizeof *dst[f]);
        }
    }
    char *buf = NULL;
    size_t cap = 0;
    for (size_t i = 0; i < n && e == KN_OK; i++)
        for (size_t r = 0; r < rows && e == KN_OK; r++)
            e = hash_cell(p, kn_frame_col(out, cols[i]), r, &buf, &cap, dst);
    kn_free(buf);
    kn_free(dst);
    size_t order[n ? n : 1];
    kn__order_desc(cols, n, order);
    for (size_t k = 0; k < n && e == KN_OK; k++) e = kn_frame_remove_column(out, cols[order[k]]);
    return e;
}

static const kn_step_vt hash_vt = {.default_type = KN_COL_CATEGORICAL,
                                   .fit = hash_fit,
                                   .transform = hash_apply,
                                   .free_state = kn_free,
                                   .save = kn__stateless_save,
                                   .load = kn__stateless_load};

const kn_component kn__hashing_encoder = {
    KN_COMP_STEP, "hashing_encoder",   "feature hashing of high-cardinality text (MurmurHash3)",
    hash_defs,    sizeof(hash_params), &hash_vt};
