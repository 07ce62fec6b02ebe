/* Row keys as canonical text and a hash table over them (keys-impl.h). */
#include "data/frame-impl.h"
#include "data/keys-impl.h"
#include "data/parse-impl.h"
#include "kiln/mem.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

void kn__keys_free(kn__keys *k)
{
    kn_free(k->text);
    kn_free(k->off);
    kn_free(k->len);
}

/* Whole numbers as plain integers (the form int64 keys take, so 2^53 as a
 * double meets 2^53 as an int64); others in their shortest exact form. */
static int canon_number(double v, char *buf, size_t cap)
{
    if (v == floor(v) && fabs(v) < 9.2e18) return kn__format_int64((int64_t)v, buf);
    return kn__format_double(v, buf, cap);
}

/* One cell as canonical text: *text points into buf (numbers, times) or at
 * the cell's own bytes. 0 when missing. `numeric_peer`: the other side's key
 * is numeric, so text that reads as a number is normalised. */
static int canon_cell(const kn_column *c, size_t r, int numeric_peer, char *buf, size_t cap,
                      const char **text, size_t *len)
{
    *text = buf;
    const char *s = NULL;
    size_t n = 0;
    switch (c->type) {
    case KN_COL_NUMERIC:
        if (isnan(c->f64[r])) return 0;
        *len = (size_t)canon_number(c->f64[r], buf, cap);
        return 1;
    case KN_COL_TIMESTAMP:
        if (c->ts[r] == KN_TS_MISSING) return 0;
        *len = (size_t)kn__format_timestamp(c->ts[r], buf, cap);
        return 1;
    case KN_COL_INT64:
        if (c->ts[r] == KN_I64_MISSING) return 0;
        *len = (size_t)kn__format_int64(c->ts[r], buf);
        return 1;
    case KN_COL_CATEGORICAL:
        if (c->codes[r] < 0) return 0;
        s = kn__dict_get(&c->dict, c->codes[r], &n);
        break;
    case KN_COL_STRING:
        if (!(s = kn_column_str(c, r, &n))) return 0;
        break;
    }
    if (numeric_peer && n && n < 64) {
        double v;
        int64_t x;
        if (kn__parse_int64(s, s + n, 1, &x)) { /* exact, even beyond 2^53 */
            *len = (size_t)kn__format_int64(x, buf);
            return 1;
        }
        if (kn__parse_double(s, s + n, &v) == s + n) {
            *len = (size_t)canon_number(v, buf, cap);
            return 1;
        }
    }
    *text = s;
    *len = n;
    return 1;
}

kn_status kn__keys_build(const kn_frame *f, const size_t *cols, const kn_column *const *peer,
                         size_t n, kn__keys *k)
{
    size_t rows = f->n_rows, cap = 64 * (rows ? rows : 1), used = 0;
    k->n_rows = rows;
    k->text = kn_malloc(cap);
    k->off = kn_malloc((rows + 1) * sizeof *k->off);
    k->len = kn_malloc((rows + 1) * sizeof *k->len);
    if (!k->text || !k->off || !k->len) return KN_ERR_NOMEM;
    char cell[64];
    for (size_t r = 0; r < rows; r++) {
        k->off[r] = used;
        int missing = 0;
        for (size_t i = 0; i < n && !missing; i++) {
            size_t len = 0;
            const char *text;
            const kn_column *c = f->cols[cols[i]];
            int numeric_peer = peer[i]->type == KN_COL_NUMERIC || peer[i]->type == KN_COL_INT64;
            if (!canon_cell(c, r, numeric_peer, cell, sizeof cell, &text, &len)) {
                missing = 1;
                break;
            }
            if (used + len + 16 > cap) {
                cap = 2 * cap + len + 16;
                char *t = kn_realloc(k->text, cap);
                if (!t) return KN_ERR_NOMEM;
                k->text = t;
            }
            /* length-prefixed parts, so ("a|", "b") and ("a", "|b") differ */
            used += (size_t)snprintf(k->text + used, 16, "%zu:", len);
            memcpy(k->text + used, text, len);
            used += len;
        }
        k->len[r] = missing ? MISSING_KEY : used - k->off[r];
        if (missing) used = k->off[r];
    }
    return KN_OK;
}

static uint64_t key_hash(const kn__keys *k, size_t r)
{
    return kn__hash_bytes(k->text + k->off[r], k->len[r]);
}

int kn__keys_equal(const kn__keys *a, size_t i, const kn__keys *b, size_t j)
{
    return a->len[i] == b->len[j] && !memcmp(a->text + a->off[i], b->text + b->off[j], a->len[i]);
}

kn_status kn__table_build(const kn__keys *k, kn__table *t)
{
    size_t size = 16;
    while (size < 2 * k->n_rows) size *= 2;
    t->mask = size - 1;
    t->head = kn_malloc(size * sizeof *t->head);
    t->hash = kn_malloc(size * sizeof *t->hash);
    t->next = kn_malloc((k->n_rows ? k->n_rows : 1) * sizeof *t->next);
    if (!t->head || !t->hash || !t->next) return KN_ERR_NOMEM;
    for (size_t i = 0; i < size; i++) t->head[i] = MISSING_KEY;
    /* insert from the last row so each chain lists rows in order */
    for (size_t r = k->n_rows; r-- > 0;) {
        if (k->len[r] == MISSING_KEY) continue;
        uint64_t h = key_hash(k, r);
        size_t slot = h & t->mask;
        while (t->head[slot] != MISSING_KEY &&
               !(t->hash[slot] == h && kn__keys_equal(k, t->head[slot], k, r)))
            slot = (slot + 1) & t->mask;
        t->next[r] = t->head[slot];
        t->head[slot] = r;
        t->hash[slot] = h;
    }
    return KN_OK;
}

size_t kn__table_find(const kn__table *t, const kn__keys *rk, const kn__keys *lk, size_t r)
{
    uint64_t h = key_hash(lk, r);
    for (size_t slot = h & t->mask; t->head[slot] != MISSING_KEY; slot = (slot + 1) & t->mask)
        if (t->hash[slot] == h && kn__keys_equal(rk, t->head[slot], lk, r)) return t->head[slot];
    return MISSING_KEY;
}

void kn__table_free(kn__table *t)
{
    kn_free(t->head);
    kn_free(t->next);
    kn_free(t->hash);
}

int kn__cell_text(const kn_column *c, size_t r, char *buf, size_t cap, const char **text,
                  size_t *len)
{
    return canon_cell(c, r, 0, buf, cap, text, len);
}

void kn__key_text(const kn_frame *f, const size_t *cols, size_t n, size_t r, char *out, size_t cap)
{
    size_t used = 0;
    char buf[64];
    out[0] = '\0';
    for (size_t i = 0; i < n && used + 1 < cap; i++) {
        const char *text;
        size_t len = 0;
        if (!canon_cell(f->cols[cols[i]], r, 0, buf, sizeof buf, &text, &len)) {
            out[0] = '\0';
            return;
        }
        int w = snprintf(out + used, cap - used, "%s%.*s", i ? "|" : "", (int)len, text);
        used += w > 0 ? (size_t)w : 0;
        if (used >= cap) used = cap - 1;
    }
    out[used] = '\0';
}
