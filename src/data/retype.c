/* In-place type promotion of a column whose later values do not fit its
 * type (row-by-row readers: ARFF, SQL sources). See frame-impl.h. */
#include "data/frame-impl.h"
#include "data/parse-impl.h"
#include "kiln/mem.h"

#include <math.h>

/* Numeric to int64: every present value is an integer a double holds exactly. */
static kn_status to_int64(kn_column *c, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        double v = c->f64[i];
        if (!isnan(v) && !(v == nearbyint(v) && fabs(v) <= KN_F64_EXACT_INT)) return KN_ERR_TYPE;
    }
    int64_t *a = kn_malloc((c->cap ? c->cap : 1) * sizeof *a);
    if (!a) return KN_ERR_NOMEM;
    for (size_t i = 0; i < n; i++) a[i] = isnan(c->f64[i]) ? KN_I64_MISSING : (int64_t)c->f64[i];
    kn_free(c->f64);
    c->f64 = NULL;
    c->ts = a;
    c->type = KN_COL_INT64;
    return KN_OK;
}

/* Numeric or int64 to categorical: each value's text becomes its level. */
static kn_status to_text(kn_column *c, size_t n)
{
    int32_t *codes = kn_malloc((c->cap ? c->cap : 1) * sizeof *codes);
    if (!codes) return KN_ERR_NOMEM;
    char buf[48];
    for (size_t i = 0; i < n; i++) {
        int len;
        if (c->type == KN_COL_NUMERIC) {
            if (isnan(c->f64[i])) {
                codes[i] = -1;
                continue;
            }
            len = kn__format_double(c->f64[i], buf, sizeof buf);
        } else {
            if (c->ts[i] == KN_I64_MISSING) {
                codes[i] = -1;
                continue;
            }
            len = kn__format_int64(c->ts[i], buf);
        }
        if (kn__dict_intern(&c->dict, buf, (size_t)len, &codes[i]) != KN_OK) {
            kn_free(codes);
            return KN_ERR_NOMEM;
        }
    }
    kn_free(c->f64);
    kn_free(c->ts);
    c->f64 = NULL;
    c->ts = NULL;
    c->codes = codes;
    c->type = KN_COL_CATEGORICAL;
    return KN_OK;
}

kn_status kn__column_retype(kn_frame *f, size_t j, kn_col_type to)
{
    kn_column *c = f->cols[j];
    if (c->type == to) return KN_OK;
    if (c->type == KN_COL_NUMERIC && to == KN_COL_INT64) return to_int64(c, f->n_rows);
    if ((c->type == KN_COL_NUMERIC || c->type == KN_COL_INT64) && to == KN_COL_CATEGORICAL)
        return to_text(c, f->n_rows);
    return KN_ERR_TYPE;
}
