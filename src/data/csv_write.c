/* CSV writer: header row, RFC 4180 quoting where needed, numbers in the
 * shortest form that reads back exactly, int64 in full, timestamps in ISO-8601 UTC,
 * missing cells empty. */
#include "data/frame-impl.h"
#include "data/io-impl.h"
#include "data/parse-impl.h"

#include <math.h>
#include <string.h>

static void write_text(FILE *fp, const char *s, size_t n)
{
    int quote = n == 0;
    for (size_t i = 0; i < n && !quote; i++)
        quote = s[i] == ',' || s[i] == '"' || s[i] == '\n' || s[i] == '\r';
    if (!quote) {
        fwrite(s, 1, n, fp);
        return;
    }
    fputc('"', fp);
    for (size_t i = 0; i < n; i++) {
        if (s[i] == '"') fputc('"', fp);
        fputc(s[i], fp);
    }
    fputc('"', fp);
}

kn_status kn__csv_write(const kn_frame *f, const char *path)
{
    kn_outfile out;
    kn_status s = kn__outfile_open(&out, path);
    if (s != KN_OK) return s;
    FILE *fp = out.fp;
    for (size_t j = 0; j < f->n_cols; j++) {
        if (j) fputc(',', fp);
        write_text(fp, f->cols[j]->name, strlen(f->cols[j]->name));
    }
    fputc('\n', fp);
    for (size_t i = 0; i < f->n_rows; i++) {
        for (size_t j = 0; j < f->n_cols; j++) {
            const kn_column *c = f->cols[j];
            if (j) fputc(',', fp);
            switch (c->type) {
            case KN_COL_NUMERIC:
                if (!isnan(c->f64[i])) kn__put_double(fp, c->f64[i]);
                break;
            case KN_COL_CATEGORICAL:
                if (c->codes[i] >= 0) {
                    size_t len;
                    const char *t = kn__dict_get(&c->dict, c->codes[i], &len);
                    write_text(fp, t, len);
                }
                break;
            case KN_COL_STRING: {
                size_t len;
                const char *t = kn_column_str(c, i, &len);
                if (t) write_text(fp, t, len);
                break;
            }
            case KN_COL_TIMESTAMP:
                if (c->ts[i] != KN_TS_MISSING) kn__put_timestamp(fp, c->ts[i]);
                break;
            case KN_COL_INT64:
                if (c->ts[i] != KN_I64_MISSING) kn__put_int64(fp, c->ts[i]);
                break;
            }
        }
        fputc('\n', fp);
    }
    return kn__outfile_commit(&out);
}
