#include "kiln/demo.h"
#include "kiln/rng.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

static const char *const plans[] = {"basic", "standard", "premium", "enterprise"};
static const char *const regions[] = {"north", "south", "east", "west", "central"};

kn_status kn_demo_frame(size_t rows, uint64_t seed, kn_frame **out)
{
    kn_frame *f;
    kn_status s = kn_frame_new(&f);
    if (s != KN_OK) return s;
    kn_column *id, *age, *tenure, *spend, *plan, *region, *signup, *country, *churn;
    if ((s = kn_frame_add_column(f, "customer_id", KN_COL_NUMERIC, &id)) ||
        (s = kn_frame_add_column(f, "age", KN_COL_NUMERIC, &age)) ||
        (s = kn_frame_add_column(f, "tenure_months", KN_COL_NUMERIC, &tenure)) ||
        (s = kn_frame_add_column(f, "monthly_spend", KN_COL_NUMERIC, &spend)) ||
        (s = kn_frame_add_column(f, "plan", KN_COL_CATEGORICAL, &plan)) ||
        (s = kn_frame_add_column(f, "region", KN_COL_CATEGORICAL, &region)) ||
        (s = kn_frame_add_column(f, "signup", KN_COL_TIMESTAMP, &signup)) ||
        (s = kn_frame_add_column(f, "country", KN_COL_CATEGORICAL, &country)) ||
        (s = kn_frame_add_column(f, "churned", KN_COL_NUMERIC, &churn)) ||
        (s = kn_frame_resize(f, rows))) {
        kn_frame_free(f);
        return s;
    }
    kn_column_set_role(id, KN_ROLE_ID);
    kn_column_set_role(churn, KN_ROLE_TARGET);
    kn_rng r;
    kn_rng_init(&r, seed);
    int32_t codes_plan[4], codes_region[5], code_country;
    for (int k = 0; k < 4 && !s; k++)
        s = kn_column_intern(plan, plans[k], strlen(plans[k]), &codes_plan[k]);
    for (int k = 0; k < 5 && !s; k++)
        s = kn_column_intern(region, regions[k], strlen(regions[k]), &codes_region[k]);
    if (!s) s = kn_column_intern(country, "NL", 2, &code_country);
    if (s) {
        kn_frame_free(f);
        return s;
    }
    const int64_t t0 = 1577836800LL * 1000000; /* 2020-01-01T00:00:00Z */
    for (size_t i = 0; i < rows; i++) {
        size_t src = i;
        /* every 500th row repeats the row before it (duplicates to find) */
        if (i > 0 && i % 500 == 0) src = i - 1;
        if (src != i) {
            kn_column_f64(id)[i] = kn_column_f64(id)[src];
            kn_column_f64(age)[i] = kn_column_f64(age)[src];
            kn_column_f64(tenure)[i] = kn_column_f64(tenure)[src];
            kn_column_f64(spend)[i] = kn_column_f64(spend)[src];
            kn_column_codes(plan)[i] = kn_column_codes(plan)[src];
            kn_column_codes(region)[i] = kn_column_codes(region)[src];
            kn_column_ts(signup)[i] = kn_column_ts(signup)[src];
            kn_column_codes(country)[i] = kn_column_codes(country)[src];
            kn_column_f64(churn)[i] = kn_column_f64(churn)[src];
            continue;
        }
        kn_column_f64(id)[i] = (double)(100000 + i);
        double a = floor(18 + 50 * kn_rng_uniform(&r));
        kn_column_f64(age)[i] = kn_rng_uniform(&r) < 0.08 ? NAN : a; /* 8% missing */
        double ten = floor(72 * kn_rng_uniform(&r));
        kn_column_f64(tenure)[i] = ten;
        int pl = (int)kn_rng_below(&r, 4);
        kn_column_codes(plan)[i] = codes_plan[pl];
        kn_column_codes(region)[i] =
            kn_rng_uniform(&r) < 0.25 ? -1 : codes_region[kn_rng_below(&r, 5)]; /* 25% missing */
        /* log-normal spend: skewed */
        double sp = exp(3.0 + 0.4 * pl + 0.8 * kn_rng_normal(&r));
        kn_column_f64(spend)[i] = round(sp * 100) / 100;
        kn_column_ts(signup)[i] = t0 + (int64_t)kn_rng_below(&r, 4 * 365 * 86400ULL) * 1000000;
        kn_column_codes(country)[i] = code_country; /* constant */
        double z = 1.5 - 0.05 * ten + 0.004 * sp - 0.4 * pl + (isnan(a) ? 0 : -0.01 * (a - 40));
        kn_column_f64(churn)[i] = kn_rng_uniform(&r) < 1 / (1 + exp(-z)) ? 1 : 0;
    }
    *out = f;
    return KN_OK;
}
