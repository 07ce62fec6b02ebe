/* The estimated cost of a run from its resources and the store's prices. */
#include "store/store-impl.h"

#include <math.h>
#include <stdlib.h>

static const kn_prices default_prices = {0.048, 0.0065, 0.023};

static double env_price(const char *name, double def)
{
    const char *t = getenv(name);
    char *end = NULL;
    double v = t && *t ? strtod(t, &end) : NAN;
    return t && *t && end && !*end && isfinite(v) && v >= 0 ? v : def;
}

kn_status kn_store_prices(kn_store *s, kn_prices *out)
{
    kn_prices p = default_prices;
    if (s) {
        p.core_hour = kn__store_setting(s, "price.core_hour", p.core_hour);
        p.gb_hour = kn__store_setting(s, "price.gb_hour", p.gb_hour);
        p.gb_month = kn__store_setting(s, "price.gb_month", p.gb_month);
    }
    p.core_hour = env_price("KILN_PRICE_CORE_HOUR", p.core_hour);
    p.gb_hour = env_price("KILN_PRICE_GB_HOUR", p.gb_hour);
    p.gb_month = env_price("KILN_PRICE_GB_MONTH", p.gb_month);
    *out = p;
    return KN_OK;
}

double kn_run_cost(const kn_prices *p, const kn_run_stage *stages, size_t n,
                   uint64_t artifact_bytes)
{
    const kn_prices *pr = p ? p : &default_prices;
    double cpu_h = 0, gb_h = 0;
    for (size_t i = 0; i < n; i++) {
        if (stages[i].cpu_s > 0) cpu_h += stages[i].cpu_s / 3600.0;
        if (stages[i].wall_s > 0)
            gb_h += (double)stages[i].peak_rss / 1e9 * stages[i].wall_s / 3600.0;
    }
    return cpu_h * pr->core_hour + gb_h * pr->gb_hour + (double)artifact_bytes / 1e9 * pr->gb_month;
}
