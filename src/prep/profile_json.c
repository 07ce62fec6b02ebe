/* Profiles as JSON: the "profile" object of `kiln describe --json`, and the
 * reference profile a prep spec keeps for later drift checks. An output
 * format, so it lives above the data layer that computes profiles. */
#include "data/json-impl.h"
#include "prep/profile_json-impl.h"
#include "kiln/json.h"
#include "kiln/tempfile.h"
#include "kiln/mem.h"

#include <math.h>
#include <stdio.h>

static json_t *num_or_null(double v)
{
    return isfinite(v) ? json_real(v) : json_null();
}

json_t *kn__profile_json(const kn_profile *p)
{
    json_t *cols = json_array();
    for (size_t j = 0; j < p->n_cols; j++) {
        const kn_col_profile *c = &p->cols[j];
        json_t *o = json_pack("{s:s, s:s, s:s, s:I, s:I, s:f, s:I, s:b, s:b}", "name", c->name,
                              "type", kn_col_type_name(c->type), "role", kn_role_name(c->role),
                              "count", (json_int_t)c->count, "missing", (json_int_t)c->missing,
                              "missing_frac", c->missing_frac, "distinct", (json_int_t)c->distinct,
                              "constant", c->constant, "likely_id", c->likely_id);
        if (c->type == KN_COL_NUMERIC || c->type == KN_COL_TIMESTAMP || c->type == KN_COL_INT64) {
            const char *keys[] = {"min", "max", "mean", "std", "p1", "p25", "p50", "p75", "p99"};
            double vals[] = {c->min, c->max, c->mean, c->std, c->p1,
                             c->p25, c->p50, c->p75,  c->p99};
            for (int k = 0; k < 9; k++) json_object_set_new(o, keys[k], num_or_null(vals[k]));
            if (c->type == KN_COL_TIMESTAMP && c->count) {
                char t[48];
                kn_timestamp_format((int64_t)c->min, t, sizeof t);
                json_object_set_new(o, "min_time", json_string(t));
                kn_timestamp_format((int64_t)c->max, t, sizeof t);
                json_object_set_new(o, "max_time", json_string(t));
            }
            if (c->type == KN_COL_INT64 && c->count) { /* exact, as JSON integers */
                json_object_set_new(o, "min", json_integer((json_int_t)c->min_i64));
                json_object_set_new(o, "max", json_integer((json_int_t)c->max_i64));
            }
            if (c->type == KN_COL_NUMERIC) {
                json_object_set_new(o, "skew", num_or_null(c->skew));
                json_object_set_new(o, "integer_valued", json_boolean(c->integer_valued));
                json_object_set_new(o, "infinite", json_integer((json_int_t)c->infinite));
            }
        } else {
            json_t *top = json_array();
            for (size_t t = 0; t < c->n_top; t++)
                json_array_append_new(top, json_pack("{s:s, s:I}", "value", c->top[t].value,
                                                     "count", (json_int_t)c->top[t].count));
            json_object_set_new(o, "top", top);
        }
        json_array_append_new(cols, o);
    }
    json_t *warn = json_array();
    for (size_t w = 0; w < p->n_warnings; w++)
        json_array_append_new(warn, json_string(p->warnings[w]));
    return json_pack("{s:I, s:I, s:o, s:I, s:o}", "rows", (json_int_t)p->rows, "columns",
                     (json_int_t)p->n_cols, "column_profiles", cols, "duplicate_rows",
                     (json_int_t)p->duplicate_rows, "warnings", warn);
}

kn_status kn__profile_save_json(const kn_profile *p, const char *path)
{
    json_t *j = kn__profile_json(p);
    if (!j) return KN_ERR_NOMEM;
    char *tmp = kn_temp_path(path);
    FILE *fp = tmp ? fopen(tmp, "w") : NULL;
    int rc = fp ? kn__json_write(j, fp, 2) : -1;
    if (fp && fclose(fp) != 0) rc = -1;
    json_decref(j);
    if (!tmp) return KN_ERR_NOMEM;
    if (rc != 0) {
        kn_temp_discard(tmp);
        return kn_fail(KN_ERR_IO, "cannot write the profile %s", path);
    }
    return kn_temp_commit(tmp, path);
}

json_t *kn_profile_json(const kn_profile *p)
{
    return kn__profile_json(p);
}
