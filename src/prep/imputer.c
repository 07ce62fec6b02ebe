/* simple_imputer: fill missing cells with a statistic learned at fit time
 * (mean, median, most frequent) or a constant, optionally adding a 0/1
 * "<name>_missing" column for each column that had missing cells at fit
 * (scikit-learn's SimpleImputer with add_indicator, features="missing-only").
 * Numeric columns take every strategy; categorical columns take
 * most_frequent and constant. A column with no value at fit has nothing to
 * learn from: it is left missing (unless the strategy is constant), and fit
 * logs a warning. */
#include "kiln/log.h"
#include "kiln/mem.h"
#include "kiln/step.h"
#include "prep/prep-impl.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

enum { IMP_MEAN = 0, IMP_MEDIAN = 1, IMP_MOST_FREQUENT = 2, IMP_CONSTANT = 3 };

typedef struct imputer_params {
    kn_step_common common;
    int strategy;
    double fill_value;
    const char *fill_text;
    int add_indicator;
} imputer_params;

static const kn_param_def imputer_defs[] = {
    KN_STEP_COMMON_PARAMS(imputer_params),
    KN_PARAM_ENUM(imputer_params, strategy, "mean", "mean|median|most_frequent|constant",
                  "what fills a missing cell"),
    KN_PARAM_DOUBLE(imputer_params, fill_value, "0", -1e300, 1e300,
                    "constant for numeric columns (strategy=constant)"),
    KN_PARAM_STRING(imputer_params, fill_text, "missing_value",
                    "constant for categorical columns (strategy=constant)"),
    KN_PARAM_BOOL(imputer_params, add_indicator, "false",
                  "add a 0/1 <name>_missing column for columns with missing cells at fit"),
    KN_PARAM_END};

typedef struct imputer_state {
    size_t n;          /* fitted columns */
    double *fill;      /* numeric columns: value (NaN: leave missing) */
    char **fill_level; /* categorical columns: level text (NULL: leave missing) */
    int *had_missing;  /* at fit time */
} imputer_state;

static void imputer_free(void *p)
{
    imputer_state *s = p;
    if (!s) return;
    kn_free(s->fill);
    kn_free(s->had_missing);
    for (size_t i = 0; i < s->n && s->fill_level; i++) kn_free(s->fill_level[i]);
    kn_free(s->fill_level);
    kn_free(s);
}

/* Most frequent value of sorted numbers (ties: the smallest, as scikit-learn). */
static double mode_sorted(const double *v, size_t n)
{
    double best = NAN;
    size_t best_run = 0;
    for (size_t i = 0; i < n;) {
        size_t j = i + 1;
        while (j < n && v[j] == v[i]) j++;
        if (j - i > best_run) {
            best_run = j - i;
            best = v[i];
        }
        i = j;
    }
    return best;
}

static kn_status fit_numeric(const imputer_params *p, kn_column *c, size_t rows, double *fill,
                             int *had_missing)
{
    double *v;
    size_t k;
    kn_status e = p->strategy == IMP_MOST_FREQUENT ? kn__sorted_values(c, rows, &v, &k)
                                                   : kn__present_values(c, rows, &v, &k);
    if (e != KN_OK) return KN_ERR_NOMEM;
    *had_missing = k < rows;
    double sum = 0;
    switch (p->strategy) {
    case IMP_MEAN:
        for (size_t i = 0; i < k; i++) sum += v[i];
        *fill = k ? sum / (double)k : NAN;
        break;
    case IMP_MEDIAN:
        *fill = kn__quantile_select(v, k, 0.5);
        break;
    case IMP_MOST_FREQUENT:
        *fill = mode_sorted(v, k);
        break;
    default:
        *fill = p->fill_value;
    }
    if (!k && p->strategy != IMP_CONSTANT)
        kn_log(KN_LOG_WARN, "simple_imputer: column '%s' has no value at fit; it stays missing",
               kn_column_name(c));
    kn_free(v);
    return KN_OK;
}

static kn_status fit_categorical(const imputer_params *p, kn_column *c, size_t rows, char **level,
                                 int *had_missing)
{
    if (p->strategy == IMP_MEAN || p->strategy == IMP_MEDIAN)
        return kn_fail(KN_ERR_TYPE,
                       "simple_imputer: column '%s' is categorical; use strategy=most_frequent "
                       "or constant for it",
                       kn_column_name(c));
    const int32_t *codes = kn_column_codes(c);
    size_t n_levels = kn_column_n_levels(c);
    uint64_t *count = kn_calloc(n_levels ? n_levels : 1, sizeof *count);
    if (!count) return KN_ERR_NOMEM;
    size_t missing = 0;
    for (size_t r = 0; r < rows; r++) {
        if (codes[r] < 0)
            missing++;
        else
            count[codes[r]]++;
    }
    *had_missing = missing > 0;
    const char *text = NULL;
    if (p->strategy == IMP_CONSTANT) {
        text = p->fill_text;
    } else {
        /* ties: the smallest text, as scikit-learn sorts values */
        int32_t best = -1;
        for (size_t l = 0; l < n_levels; l++) {
            if (!count[l]) continue;
            if (best < 0 || count[l] > count[best] ||
                (count[l] == count[best] &&
                 strcmp(kn_column_level(c, (int32_t)l, NULL), kn_column_level(c, best, NULL)) < 0))
                best = (int32_t)l;
        }
        if (best >= 0)
            text = kn_column_level(c, best, NULL);
        else
            kn_log(KN_LOG_WARN, "simple_imputer: column '%s' has no value at fit; it stays missing",
                   kn_column_name(c));
    }
    kn_free(count);
    *level = NULL;
    if (text && !(*level = kn_strdup(text))) return KN_ERR_NOMEM;
    return KN_OK;
}

static kn_status imputer_fit(kn_step *st, const kn_frame *x, const size_t *cols, size_t n)
{
    const imputer_params *p = kn_step_params(st);
    imputer_state *s = kn_calloc(1, sizeof *s);
    if (!s) return KN_ERR_NOMEM;
    s->fill = kn_calloc(n + 1, sizeof *s->fill);
    s->had_missing = kn_calloc(n + 1, sizeof *s->had_missing);
    s->fill_level = kn_calloc(n + 1, sizeof *s->fill_level);
    if (!s->fill || !s->had_missing || !s->fill_level) {
        kn_free(s->fill);
        kn_free(s->had_missing);
        kn_free(s->fill_level);
        kn_free(s);
        return KN_ERR_NOMEM;
    }
    s->n = n;
    kn_status e = KN_OK;
    size_t rows = kn_frame_n_rows(x);
    for (size_t i = 0; i < n && e == KN_OK; i++) {
        kn_column *c = kn_frame_col(x, cols[i]);
        switch (kn_column_type(c)) {
        case KN_COL_NUMERIC:
            e = fit_numeric(p, c, rows, &s->fill[i], &s->had_missing[i]);
            break;
        case KN_COL_CATEGORICAL:
            e = fit_categorical(p, c, rows, &s->fill_level[i], &s->had_missing[i]);
            break;
        default:
            e = kn_fail(KN_ERR_TYPE,
                        "simple_imputer: column '%s' is %s; it imputes numeric and categorical "
                        "columns",
                        kn_column_name(c), kn_col_type_name(kn_column_type(c)));
        }
    }
    if (e != KN_OK) {
        imputer_free(s);
        return e;
    }
    kn_step_set_state(st, s);
    return KN_OK;
}

static kn_status imputer_transform(const kn_step *st, kn_frame *out, const size_t *cols, size_t n)
{
    const imputer_params *p = kn_step_params(st);
    const imputer_state *s = kn_step_state(st);
    size_t rows = kn_frame_n_rows(out);
    for (size_t i = 0; i < n; i++) {
        kn_column *c = kn_frame_col(out, cols[i]);
        kn_column *ind = NULL;
        if (p->add_indicator && s->had_missing[i]) {
            char *name = kn_sprintf("%s_missing", kn_column_name(c));
            kn_status e =
                name ? kn_frame_add_column(out, name, KN_COL_NUMERIC, &ind) : KN_ERR_NOMEM;
            kn_free(name);
            if (e != KN_OK) return kn_fail_prefix(e, "simple_imputer: indicator: ");
        }
        if (kn_column_type(c) == KN_COL_NUMERIC) {
            double *x = kn_column_f64(c), f = s->fill[i];
            for (size_t r = 0; r < rows; r++) {
                int miss = isnan(x[r]);
                if (ind) kn_column_f64(ind)[r] = miss;
                if (miss) x[r] = f;
            }
        } else {
            int32_t code = -1;
            if (s->fill_level[i] &&
                kn_column_intern(c, s->fill_level[i], strlen(s->fill_level[i]), &code) != KN_OK)
                return KN_ERR_NOMEM;
            int32_t *x = kn_column_codes(c);
            for (size_t r = 0; r < rows; r++) {
                int miss = x[r] < 0;
                if (ind) kn_column_f64(ind)[r] = miss;
                if (miss) x[r] = code;
            }
        }
    }
    return KN_OK;
}

static kn_status imputer_transform_row(const kn_step *st, kn_step_row *row, const size_t *cols,
                                       size_t n)
{
    const imputer_params *p = kn_step_params(st);
    const imputer_state *s = kn_step_state(st);
    for (size_t i = 0; i < n; i++) {
        size_t c = cols[i];
        if (row->type[c] != KN_COL_NUMERIC && row->type[c] != KN_COL_CATEGORICAL)
            return KN_ERR_UNSUPPORTED;
        int miss = row->type[c] == KN_COL_NUMERIC ? isnan(row->num[c]) : !row->text[c];
        if (p->add_indicator && s->had_missing[i]) { /* appended, as kn_frame_add_column does */
            kn_status e = kn_step_row_insert(row, row->n, 1, KN_COL_NUMERIC);
            if (e != KN_OK) return e;
            row->num[row->n - 1] = miss;
        }
        if (!miss) continue;
        if (row->type[c] == KN_COL_NUMERIC)
            row->num[c] = s->fill[i];
        else
            row->text[c] = s->fill_level[i];
    }
    return KN_OK;
}

static kn_status imputer_save(const kn_step *st, kn_wbuf *w)
{
    const imputer_state *s = kn_step_state(st);
    kn_wbuf_u64(w, s->n);
    kn_wbuf_f64s(w, s->fill, s->n);
    for (size_t i = 0; i < s->n; i++) {
        kn_wbuf_u32(w, (uint32_t)s->had_missing[i]);
        kn_wbuf_str(w, s->fill_level[i]);
    }
    return KN_OK;
}

static kn_status imputer_load(kn_step *st, kn_rbuf *r, size_t n)
{
    kn_status e = kn__state_count(r, n, "imputer");
    if (e != KN_OK) return e;
    imputer_state *s = kn_calloc(1, sizeof *s);
    if (!s) return KN_ERR_NOMEM;
    s->n = n;
    s->had_missing = kn_calloc(n + 1, sizeof *s->had_missing);
    s->fill_level = kn_calloc(n + 1, sizeof *s->fill_level);
    e = s->had_missing && s->fill_level ? kn__decode_f64s(r, n, &s->fill) : KN_ERR_NOMEM;
    for (size_t i = 0; i < n && e == KN_OK; i++) {
        uint32_t had = 0;
        e = kn_rbuf_u32(r, &had);
        s->had_missing[i] = had != 0;
        if (e == KN_OK) e = kn_rbuf_str(r, &s->fill_level[i]);
    }
    if (e != KN_OK) {
        imputer_free(s);
        return e;
    }
    kn_step_set_state(st, s);
    return KN_OK;
}

static const kn_step_vt imputer_vt = {.default_type = KN_COL_NUMERIC,
                                      .fit = imputer_fit,
                                      .transform = imputer_transform,
                                      .transform_row = imputer_transform_row,
                                      .free_state = imputer_free,
                                      .save = imputer_save,
                                      .load = imputer_load};

const kn_component kn__simple_imputer = {KN_COMP_STEP,
                                         "simple_imputer",
                                         "fill missing cells with the mean, median, most "
                                         "frequent value or a constant",
                                         imputer_defs,
                                         sizeof(imputer_params),
                                         &imputer_vt};
