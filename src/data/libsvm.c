/* LIBSVM / SVMlight sparse text: "label [qid:q] index:value ..." per line,
 * indices from 1, absent features are 0, '#' starts a comment. Read into a
 * dense frame: "label", optional "qid", then f1..fN (N = largest index). */
#include "data/frame-impl.h"
#include "data/io-impl.h"
#include "data/parse-impl.h"
#include "kiln/mem.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define KN_LIBSVM_MAX_FEATURES 100000

typedef struct svm_line {
    const char *start, *end; /* without the comment and line end */
} svm_line;

static const char *skip_blank(const char *p, const char *e)
{
    while (p < e && (*p == ' ' || *p == '\t')) p++;
    return p;
}

static const char *item_end(const char *p, const char *e)
{
    while (p < e && *p != ' ' && *p != '\t') p++;
    return p;
}

/* Validate one line; return a reason (and where) or NULL. Reports the largest index. */
static const char *scan_line(const char *p, const char *e, uint64_t *max_index, int *has_qid,
                             const char **at)
{
    p = skip_blank(p, e);
    const char *le = item_end(p, e);
    double v;
    *at = p;
    if (kn__parse_double(p, le, &v) != le) return "the label is not a number";
    uint64_t prev = 0;
    for (p = skip_blank(le, e); p < e; p = skip_blank(p, e)) {
        *at = p;
        const char *ie = item_end(p, e);
        const char *colon = memchr(p, ':', (size_t)(ie - p));
        if (!colon) return "expected index:value";
        if (colon - p == 3 && memcmp(p, "qid", 3) == 0) {
            if (kn__parse_double(colon + 1, ie, &v) != ie) return "qid is not a number";
            *has_qid = 1;
            p = ie;
            continue;
        }
        uint64_t idx = 0;
        for (const char *d = p; d < colon; d++) {
            if (*d < '0' || *d > '9') return "bad feature index";
            if (idx > KN_LIBSVM_MAX_FEATURES / 10)
                return "feature index above 100000 (Kiln frames are dense; reduce the features)";
            idx = idx * 10 + (uint64_t)(*d - '0');
        }
        if (colon == p || idx == 0) return "feature indices start at 1";
        if (idx > KN_LIBSVM_MAX_FEATURES)
            return "feature index above 100000 (Kiln frames are dense; reduce the features)";
        if (idx <= prev) return "feature indices must increase along a line";
        prev = idx;
        if (kn__parse_double(colon + 1, ie, &v) != ie) return "feature value is not a number";
        if (idx > *max_index) *max_index = idx;
        p = ie;
    }
    return NULL;
}

kn_status kn__libsvm_read(const char *path, const kn_read_opts *o, kn_frame **out,
                          kn_read_report *rep)
{
    char *buf;
    size_t len;
    kn_status st = kn__read_input(path, &buf, &len, rep);
    if (st != KN_OK) return st;
    kn_rejects rj;
    if ((st = kn__rejects_open(&rj, path, o, rep)) != KN_OK) {
        kn_free(buf);
        return st;
    }
    /* pass 1: validate, find the width, remember good lines */
    size_t cap = 1024, n = 0;
    svm_line *lines = kn_malloc(cap * sizeof *lines);
    uint64_t max_index = 0, line_no = 0;
    int has_qid = 0;
    kn_frame *f = NULL;
    if (!lines) st = KN_ERR_NOMEM;
    for (const char *p = buf, *end = buf + len; p < end && st == KN_OK;) {
        const char *le = memchr(p, '\n', (size_t)(end - p));
        if (!le) le = end;
        line_no++;
        const char *ce = memchr(p, '#', (size_t)(le - p));
        if (!ce) ce = le;
        while (ce > p && (ce[-1] == '\r' || ce[-1] == ' ' || ce[-1] == '\t')) ce--;
        const char *start = p;
        p = le < end ? le + 1 : le;
        if (skip_blank(start, ce) == ce) continue;
        const char *at;
        uint64_t mi = max_index;
        int q = has_qid;
        const char *why = scan_line(start, ce, &mi, &q, &at);
        if (why) {
            const char *re = le;
            while (re > start && re[-1] == '\r') re--;
            st = kn__rejects_add(&rj, line_no, (uint64_t)(at - start) + 1, line_no,
                                 rep->rows_read + 1, why, start, (size_t)(re - start));
            continue;
        }
        max_index = mi;
        has_qid = q;
        if (n == cap) {
            svm_line *nl = kn_realloc(lines, 2 * cap * sizeof *nl);
            if (!nl) {
                st = KN_ERR_NOMEM;
                break;
            }
            lines = nl;
            cap *= 2;
        }
        lines[n].start = start;
        lines[n].end = ce;
        n++;
        rep->rows_read++;
    }
    if (kn__rejects_close(&rj) != KN_OK && st == KN_OK) st = KN_ERR_IO;
    if (st == KN_OK) st = kn_frame_new(&f);
    if (st == KN_OK) st = kn_frame_add_column(f, "label", KN_COL_NUMERIC, NULL);
    if (st == KN_OK && has_qid) st = kn_frame_add_column(f, "qid", KN_COL_NUMERIC, NULL);
    for (uint64_t k = 1; k <= max_index && st == KN_OK; k++) {
        char name[32];
        snprintf(name, sizeof name, "f%llu", (unsigned long long)k);
        st = kn__frame_add_unique(f, name, KN_COL_NUMERIC, NULL);
    }
    if (st == KN_OK) st = kn_frame_resize(f, n);
    if (st == KN_OK) {
        size_t first = has_qid ? 2 : 1;
        kn_column_set_role(f->cols[0], KN_ROLE_TARGET);
        for (size_t j = first; j < f->n_cols; j++) memset(f->cols[j]->f64, 0, n * sizeof(double));
        /* pass 2: fill (lines were validated) */
        for (size_t i = 0; i < n; i++) {
            const char *p = skip_blank(lines[i].start, lines[i].end), *e = lines[i].end;
            const char *ie = item_end(p, e);
            kn__parse_double(p, ie, &f->cols[0]->f64[i]);
            for (p = skip_blank(ie, e); p < e; p = skip_blank(p, e)) {
                ie = item_end(p, e);
                const char *colon = memchr(p, ':', (size_t)(ie - p));
                size_t j = 1;
                if (colon - p == 3 && memcmp(p, "qid", 3) == 0)
                    j = 1;
                else
                    j = first - 1 + (size_t)strtoull(p, NULL, 10);
                kn__parse_double(colon + 1, ie, &f->cols[j]->f64[i]);
                p = ie;
            }
        }
    }
    kn_free(lines);
    kn_free(buf);
    if (st != KN_OK) {
        kn_frame_free(f);
        return st;
    }
    *out = f;
    return KN_OK;
}

kn_status kn__libsvm_write(const kn_frame *f, const char *path)
{
    /* label: the target column, else the first; every other column must be numeric */
    size_t label = 0;
    for (size_t j = 0; j < f->n_cols; j++)
        if (f->cols[j]->role == KN_ROLE_TARGET) {
            label = j;
            break;
        }
    if (!f->n_cols)
        return kn_fail(KN_ERR_INVALID, "%s: LIBSVM needs at least a label column", path);
    for (size_t j = 0; j < f->n_cols; j++)
        if (f->cols[j]->type != KN_COL_NUMERIC)
            return kn_fail(KN_ERR_TYPE,
                           "%s: LIBSVM holds numbers only, but column '%s' is %s; encode it first "
                           "or write CSV, JSON Lines or .kfr",
                           path, f->cols[j]->name, kn_col_type_name(f->cols[j]->type));
    kn_outfile out;
    kn_status s = kn__outfile_open(&out, path);
    if (s != KN_OK) return s;
    for (size_t i = 0; i < f->n_rows; i++) {
        double y = f->cols[label]->f64[i];
        kn__put_double(out.fp, y);
        size_t k = 0;
        for (size_t j = 0; j < f->n_cols; j++) {
            if (j == label) continue;
            k++;
            double v = f->cols[j]->f64[i];
            if (v == 0) continue; /* sparse; missing values are written as nan */
            fprintf(out.fp, " %zu:", k);
            kn__put_double(out.fp, v);
        }
        fputc('\n', out.fp);
    }
    return kn__outfile_commit(&out);
}
