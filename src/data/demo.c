#include "data/demo-impl.h"
#include "kiln/demo.h"
#include "kiln/rng.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

kn_status kn__demo_frame_new(const kn__demo_col *cols, size_t n, size_t rows, kn_frame **out,
                             kn_column **cols_out)
{
    kn_frame *f;
    kn_status s = kn_frame_new(&f);
    for (size_t j = 0; j < n && s == KN_OK; j++) {
        s = kn_frame_add_column(f, cols[j].name, cols[j].type, NULL);
    }
    if (s == KN_OK) s = kn_frame_resize(f, rows);
    if (s != KN_OK) {
        kn_frame_free(f);
        return s;
    }
    /* column pointers are taken after the last column is added */
    for (size_t j = 0; j < n; j++) {
        cols_out[j] = kn_frame_col(f, j);
        kn_column_set_role(cols_out[j], cols[j].role);
    }
    *out = f;
    return KN_OK;
}

kn_status kn__demo_levels(kn_column *c, const char *const *levels, size_t n, int32_t *codes)
{
    kn_status s = KN_OK;
    for (size_t k = 0; k < n && s == KN_OK; k++) {
        s = kn_column_intern(c, levels[k], strlen(levels[k]), &codes[k]);
    }
    return s;
}

void kn__demo_copy_row(kn_frame *f, size_t dst, size_t src)
{
    for (size_t j = 0; j < kn_frame_n_cols(f); j++) {
        kn_column *c = kn_frame_col(f, j);
        switch (kn_column_type(c)) {
        case KN_COL_NUMERIC:
            kn_column_f64(c)[dst] = kn_column_f64(c)[src];
            break;
        case KN_COL_CATEGORICAL:
            kn_column_codes(c)[dst] = kn_column_codes(c)[src];
            break;
        case KN_COL_TIMESTAMP:
            kn_column_ts(c)[dst] = kn_column_ts(c)[src];
            break;
        case KN_COL_INT64:
            kn_column_i64(c)[dst] = kn_column_i64(c)[src];
            break;
        case KN_COL_STRING:
            break; /* the demos make none */
        }
    }
}

static const char *const plans[] = {"basic", "standard", "premium", "enterprise"};
static const char *const regions[] = {"north", "south", "east", "west", "central"};

enum { C_ID, C_AGE, C_TENURE, C_SPEND, C_PLAN, C_REGION, C_SIGNUP, C_COUNTRY, C_CHURN, N_COLS };

static const kn__demo_col churn_cols[N_COLS] = {
    {"customer_id", KN_COL_NUMERIC, KN_ROLE_ID},
    {"age", KN_COL_NUMERIC, KN_ROLE_FEATURE},
    {"tenure_months", KN_COL_NUMERIC, KN_ROLE_FEATURE},
    {"monthly_spend", KN_COL_NUMERIC, KN_ROLE_FEATURE},
    {"plan", KN_COL_CATEGORICAL, KN_ROLE_FEATURE},
    {"region", KN_COL_CATEGORICAL, KN_ROLE_FEATURE},
    {"signup", KN_COL_TIMESTAMP, KN_ROLE_FEATURE},
    {"country", KN_COL_CATEGORICAL, KN_ROLE_FEATURE},
    {"churned", KN_COL_NUMERIC, KN_ROLE_TARGET},
};

kn_status kn_demo_frame(size_t rows, uint64_t seed, kn_frame **out)
{
    kn_frame *f;
    kn_column *c[N_COLS];
    kn_status s = kn__demo_frame_new(churn_cols, N_COLS, rows, &f, c);
    if (s != KN_OK) return s;
    kn_rng r;
    kn_rng_init(&r, seed);
    int32_t codes_plan[4], codes_region[5], code_country;
    static const char *const country[] = {"NL"};
    if ((s = kn__demo_levels(c[C_PLAN], plans, 4, codes_plan)) ||
        (s = kn__demo_levels(c[C_REGION], regions, 5, codes_region)) ||
        (s = kn__demo_levels(c[C_COUNTRY], country, 1, &code_country))) {
        kn_frame_free(f);
        return s;
    }
    double *id = kn_column_f64(c[C_ID]), *age = kn_column_f64(c[C_AGE]);
    double *tenure = kn_column_f64(c[C_TENURE]), *spend = kn_column_f64(c[C_SPEND]);
    double *churn = kn_column_f64(c[C_CHURN]);
    int32_t *plan = kn_column_codes(c[C_PLAN]), *region = kn_column_codes(c[C_REGION]);
    int32_t *ctry = kn_column_codes(c[C_COUNTRY]);
    int64_t *signup = kn_column_ts(c[C_SIGNUP]);
    const int64_t t0 = 1577836800LL * 1000000; /* 2020-01-01T00:00:00Z */
    for (size_t i = 0; i < rows; i++) {
        /* every 500th row repeats the row before it (duplicates to find) */
        if (i > 0 && i % 500 == 0) {
            kn__demo_copy_row(f, i, i - 1);
            continue;
        }
        id[i] = (double)(100000 + i);
        double a = floor(18 + 50 * kn_rng_uniform(&r));
        age[i] = kn_rng_uniform(&r) < 0.08 ? NAN : a; /* 8% missing */
        double ten = floor(72 * kn_rng_uniform(&r));
        tenure[i] = ten;
        int pl = (int)kn_rng_below(&r, 4);
        plan[i] = codes_plan[pl];
        region[i] =
            kn_rng_uniform(&r) < 0.25 ? -1 : codes_region[kn_rng_below(&r, 5)]; /* 25% missing */
        /* log-normal spend: skewed */
        double sp = exp(3.0 + 0.4 * pl + 0.8 * kn_rng_normal(&r));
        spend[i] = round(sp * 100) / 100;
        signup[i] = t0 + (int64_t)kn_rng_below(&r, 4 * 365 * 86400ULL) * 1000000;
        ctry[i] = code_country; /* constant */
        double z = 1.5 - 0.05 * ten + 0.004 * sp - 0.4 * pl + (isnan(a) ? 0 : -0.01 * (a - 40));
        churn[i] = kn_rng_uniform(&r) < 1 / (1 + exp(-z)) ? 1 : 0;
    }
    *out = f;
    return KN_OK;
}
