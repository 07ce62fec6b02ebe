/* The live score of a window of joined predictions (kiln/livescore.h). */
#include "kiln/livescore.h"
#include "kiln/mem.h"
#include "kiln/metrics.h"

#include <jansson.h>
#include <math.h>
#include <string.h>

static const char *const names[] = {"accuracy", "roc_auc", "rmse", "mae"};

kn_status kn_live_metric_parse(const char *s, kn_live_metric *out)
{
    for (size_t i = 0; i < sizeof names / sizeof *names; i++)
        if (s && !strcmp(s, names[i])) {
            *out = (kn_live_metric)i;
            return KN_OK;
        }
    return kn_fail(KN_ERR_INVALID, "unknown live metric '%s'; one of accuracy, roc_auc, rmse, mae",
                   s ? s : "(null)");
}

const char *kn_live_metric_name(kn_live_metric m)
{
    return (unsigned)m < sizeof names / sizeof *names ? names[m] : "unknown";
}

int kn_live_metric_lower_better(kn_live_metric m)
{
    return m == KN_LIVE_RMSE || m == KN_LIVE_MAE;
}

kn_status kn_live_score(kn_live_metric metric, const kn_live_row *rows, size_t n, double *out)
{
    *out = NAN;
    if (!n) return KN_OK;
    kn_status e = KN_OK;
    if (metric == KN_LIVE_RMSE || metric == KN_LIVE_MAE) {
        double *y = kn_malloc(n * sizeof *y), *p = kn_malloc(n * sizeof *p);
        size_t m = 0;
        if (!y || !p) e = KN_ERR_NOMEM;
        for (size_t i = 0; e == KN_OK && i < n; i++) {
            if (isnan(rows[i].truth) || isnan(rows[i].value)) continue;
            y[m] = rows[i].truth, p[m++] = rows[i].value;
        }
        if (e == KN_OK && m)
            e = (metric == KN_LIVE_RMSE ? kn_metric_rmse : kn_metric_mae)(y, p, NULL, m, out);
        kn_free(y), kn_free(p);
        return e;
    }
    if (metric == KN_LIVE_ACCURACY) {
        size_t hit = 0;
        for (size_t i = 0; i < n; i++) hit += rows[i].correct != 0;
        *out = (double)hit / (double)n;
        return KN_OK;
    }
    if (metric != KN_LIVE_ROC_AUC)
        return kn_fail(KN_ERR_INVALID, "unknown live metric %d", (int)metric);
    int32_t *y = kn_malloc(n * sizeof *y);
    double *s = kn_malloc(n * sizeof *s);
    size_t pos = 0;
    if (!y || !s) e = KN_ERR_NOMEM;
    for (size_t i = 0; e == KN_OK && i < n; i++) {
        if (isnan(rows[i].score)) goto none; /* a row without its probability */
        y[i] = rows[i].positive != 0;
        s[i] = rows[i].score;
        pos += (size_t)y[i];
    }
    if (e == KN_OK && pos && pos < n) e = kn_metric_roc_auc(y, s, NULL, n, out);
none:
    kn_free(y), kn_free(s);
    return e;
}

static json_t *num_or_null(double v)
{
    return isfinite(v) ? json_real(v) : json_null();
}

json_t *kn_live_record_json(uint64_t window, const char *version, const char *scope, uint64_t rows,
                            kn_live_metric headline, const double *live, const double *test)
{
    json_t *scores = json_object();
    for (size_t i = 0; scores && i < sizeof names / sizeof *names; i++)
        if (!isnan(live[i])) json_object_set_new(scores, names[i], json_real(live[i]));
    json_t *r = scores
                    ? json_pack("{s:I, s:s, s:s, s:I, s:s, s:o, s:o, s:o}", "window",
                                (json_int_t)window, "version", version ? version : "", "scope",
                                scope ? scope : "main", "rows", (json_int_t)rows, "metric",
                                kn_live_metric_name(headline), "value", num_or_null(live[headline]),
                                "test", num_or_null(test[headline]), "scores", scores)
                    : NULL;
    return r ? json_pack("{s:o}", "live", r) : NULL;
}
