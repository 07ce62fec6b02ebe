/* Missing tokens after a CSV read: count what each token did per column and,
 * with missing_in_text=auto, decide for each text column whether a token is
 * a real level there (frequent in the column, and not used by the file as a
 * missing marker in a numeric, int64 or time column) or missing. During the
 * parse such cells were parked as code (or string offset) -2 - token. */
#include "data/csv_reader-impl.h"
#include "kiln/mem.h"

#include <stdio.h>
#include <string.h>

static int is_text(const kn_column *c)
{
    return c->type == KN_COL_CATEGORICAL || c->type == KN_COL_STRING;
}

/* A categorical column's parked cells: kept tokens become levels in
 * first-appearance order (the dictionary is rebuilt in row order), the
 * others missing. */
static kn_status settle_codes(kn_column *c, size_t rows, const unsigned char *keep, csv_reader *r,
                              size_t j, size_t fixed)
{
    int any = 0;
    for (size_t k = 0; k < r->n_miss; k++) any |= keep[k];
    if (!any) {
        for (size_t i = 0; i < rows; i++)
            if (c->codes[i] < -1) c->codes[i] = -1;
        return KN_OK;
    }
    kn_dict nd;
    kn__dict_init(&nd);
    size_t n_old = c->dict.n;
    int32_t *remap = kn_malloc((n_old + r->n_miss + 1) * sizeof *remap);
    if (!remap) return KN_ERR_NOMEM;
    int32_t *token_code = remap + n_old;
    for (size_t l = 0; l < n_old + r->n_miss; l++) remap[l] = -1;
    kn_status st = KN_OK;
    /* levels of batches already handed out keep their codes */
    for (size_t l = 0; l < fixed && st == KN_OK; l++) {
        size_t len;
        const char *t = kn__dict_get(&c->dict, (int32_t)l, &len);
        st = kn__dict_intern(&nd, t, len, &remap[l]);
    }
    for (size_t i = 0; i < rows && st == KN_OK; i++) {
        int32_t code = c->codes[i];
        if (code >= 0) {
            if (remap[code] < 0) {
                size_t len;
                const char *t = kn__dict_get(&c->dict, code, &len);
                st = kn__dict_intern(&nd, t, len, &remap[code]);
            }
            c->codes[i] = remap[code];
        } else if (code < -1) {
            size_t k = (size_t)(-2 - code);
            if (keep[k] && token_code[k] < 0)
                st = kn__dict_intern(&nd, r->miss[k], r->miss_len[k], &token_code[k]);
            c->codes[i] = keep[k] ? token_code[k] : -1;
        }
    }
    /* levels no row uses (none after a plain read) keep their place at the end */
    for (size_t l = 0; l < n_old && st == KN_OK; l++)
        if (remap[l] < 0) {
            size_t len;
            const char *t = kn__dict_get(&c->dict, (int32_t)l, &len);
            st = kn__dict_intern(&nd, t, len, &remap[l]);
        }
    /* the parts' dictionaries go on mapping into the new codes (batch reads
     * settle every block and go on parsing) */
    for (int q = 0; st == KN_OK && q < r->nparts; q++)
        for (size_t i = 0; i < r->parts[q].remap_n[j]; i++)
            r->parts[q].remap[j][i] = remap[r->parts[q].remap[j][i]];
    kn_free(remap);
    if (st != KN_OK) {
        kn__dict_free(&nd);
        return st;
    }
    kn__dict_free(&c->dict);
    c->dict = nd;
    return KN_OK;
}

static kn_status settle_strings(kn_column *c, size_t rows, const unsigned char *keep,
                                const csv_reader *r)
{
    for (size_t i = 0; i < rows; i++) {
        if (c->str_off[i] >= -1) continue;
        size_t k = (size_t)(-2 - c->str_off[i]);
        kn_status st = kn_column_set_str(c, i, keep[k] ? r->miss[k] : NULL, r->miss_len[k]);
        if (st != KN_OK) return st;
    }
    return KN_OK;
}

static void note(kn_read_report *rep, const char *column, const char *token, uint64_t cells,
                 int kept)
{
    if (rep->n_token_notes == KN_READ_TOKEN_NOTES) {
        rep->token_notes_left_out++;
        return;
    }
    kn_token_note *n = &rep->token_notes[rep->n_token_notes++];
    snprintf(n->column, sizeof n->column, "%s", column);
    snprintf(n->token, sizeof n->token, "%s", token);
    n->cells = cells;
    n->kept = kept;
}

/* Token totals per [column * n_miss + token], summed over the parts. */
static uint64_t *token_totals(const csv_reader *r)
{
    size_t nm = r->n_miss, nc = r->ncols;
    uint64_t *total = kn_calloc(nc * nm, sizeof *total);
    if (!total) return NULL;
    for (int q = 0; q < r->nparts; q++)
        for (size_t i = 0; i < nc * nm; i++) total[i] += r->parts[q].tokens[i];
    return total;
}

kn_status kn__csv_token_decide(const csv_reader *r, unsigned char *keep)
{
    size_t nm = r->n_miss, nc = r->ncols, rows = r->f->n_rows;
    memset(keep, 0, nc * nm);
    if (!nm || !nc || !r->parts || !r->tokens_as_levels) return KN_OK;
    uint64_t *total = token_totals(r);
    unsigned char *in_numbers = kn_calloc(nm, 1);
    if (!total || !in_numbers) {
        kn_free(total);
        kn_free(in_numbers);
        return KN_ERR_NOMEM;
    }
    for (size_t j = 0; j < nc; j++)
        for (size_t k = 0; k < nm; k++)
            if (!is_text(r->f->cols[j]) && total[j * nm + k]) in_numbers[k] = 1;
    for (size_t j = 0; j < nc; j++) {
        kn_column *c = r->f->cols[j];
        const uint64_t *t = total + j * nm;
        uint64_t seen = 0;
        for (size_t k = 0; k < nm; k++) seen += t[k];
        if (!seen || !is_text(c)) continue;
        if (r->o->token_is_level) { /* the caller knows the column's levels */
            for (size_t k = 0; k < nm; k++)
                keep[j * nm + k] = t[k] && r->o->token_is_level(c->name, r->miss[k],
                                                                r->o->token_is_level_user) > 0;
            continue;
        }
        uint64_t empty = 0;
        for (size_t i = 0; i < rows; i++)
            empty += c->type == KN_COL_CATEGORICAL ? c->codes[i] == -1 : c->str_off[i] == -1;
        double non_empty = (double)(rows - empty);
        for (size_t k = 0; k < nm; k++)
            keep[j * nm + k] = t[k] >= KN_TOKEN_LEVEL_MIN &&
                               (double)t[k] >= KN_TOKEN_LEVEL_SHARE * non_empty && !in_numbers[k];
    }
    kn_free(total);
    kn_free(in_numbers);
    return KN_OK;
}

kn_status kn__csv_token_settle(csv_reader *r, const unsigned char *keep, const size_t *fixed)
{
    size_t nm = r->n_miss, rows = r->f->n_rows;
    if (!nm || !r->ncols || !r->parts || !r->tokens_as_levels) return KN_OK;
    uint64_t *total = token_totals(r);
    if (!total) return KN_ERR_NOMEM;
    kn_status st = KN_OK;
    for (size_t j = 0; j < r->ncols && st == KN_OK; j++) {
        kn_column *c = r->f->cols[j];
        uint64_t seen = 0; /* (counts of the whole read so far: none, no parked cell) */
        for (size_t k = 0; k < nm; k++) seen += total[j * nm + k];
        if (!seen) continue;
        if (c->type == KN_COL_CATEGORICAL)
            st = settle_codes(c, rows, keep + j * nm, r, j, fixed ? fixed[j] : 0);
        else if (c->type == KN_COL_STRING)
            st = settle_strings(c, rows, keep + j * nm, r);
    }
    kn_free(total);
    return st;
}

kn_status kn__csv_token_notes(const csv_reader *r, const unsigned char *keep, kn_read_report *rep)
{
    size_t nm = r->n_miss, nc = r->ncols;
    if (!nm || !nc || !r->parts) return KN_OK;
    uint64_t *total = token_totals(r);
    if (!total) return KN_ERR_NOMEM;
    for (size_t j = 0; j < nc; j++)
        for (size_t k = 0; k < nm; k++)
            if (total[j * nm + k])
                note(rep, r->f->cols[j]->name, r->miss[k], total[j * nm + k], keep[j * nm + k]);
    kn_free(total);
    return KN_OK;
}

kn_status kn__csv_resolve_tokens(csv_reader *r, kn_read_report *rep)
{
    size_t n = r->ncols * r->n_miss;
    if (!n || !r->parts) return KN_OK;
    unsigned char *keep = kn_malloc(n);
    if (!keep) return KN_ERR_NOMEM;
    kn_status st = kn__csv_token_decide(r, keep);
    if (st == KN_OK) st = kn__csv_token_settle(r, keep, NULL);
    if (st == KN_OK) st = kn__csv_token_notes(r, keep, rep);
    kn_free(keep);
    return st;
}
