/* Test tool: reads "y,pred,score,weight,p0,p1,...,p{k-1}" rows (CSV, no
 * header; y and pred class indices; yr,predr appended as regression values)
 * and prints every Kiln metric as JSON, unweighted and weighted, for the
 * parity test against sklearn.metrics. usage: metrics_probe FILE K */
#include "kiln/mem.h"
#include "kiln/metrics.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAXN 100000

static int32_t y[MAXN], pred[MAXN];
static double score[MAXN], w[MAXN], yr[MAXN], pr[MAXN], *proba;

static void emit(const char *name, kn_status e, double v, int *first)
{
    if (e == KN_OK)
        printf("%s\"%s\": %.17g", *first ? "" : ", ", name, v);
    else
        printf("%s\"%s\": null", *first ? "" : ", ", name);
    *first = 0;
}

static void emit_array(const char *name, const double *v, size_t n, int *first)
{
    printf("%s\"%s\": [", *first ? "" : ", ", name);
    for (size_t i = 0; i < n; i++)
        if (v[i] != v[i])
            printf("%snull", i ? ", " : "");
        else
            printf("%s%.17g", i ? ", " : "", v[i]);
    printf("]");
    *first = 0;
}

/* Binary curves: ROC (with and without intermediate points), PR, and the
 * calibration curve (5 and 10 bins, uniform and quantile; unweighted). */
static void curves(size_t n, const double *wt, int *first)
{
    kn_curve c;
    for (int drop = 0; drop < 2; drop++)
        if (kn_metric_roc_curve(y, score, wt, n, drop, &c) == KN_OK) {
            emit_array(drop ? "roc_fpr" : "roc_fpr_all", c.x, c.n, first);
            emit_array(drop ? "roc_tpr" : "roc_tpr_all", c.y, c.n, first);
            emit_array(drop ? "roc_thr" : "roc_thr_all", c.threshold, c.n, first);
            kn_curve_free(&c);
        }
    if (kn_metric_pr_curve(y, score, wt, n, &c) == KN_OK) {
        emit_array("pr_precision", c.y, c.n, first);
        emit_array("pr_recall", c.x, c.n, first);
        emit_array("pr_thr", c.threshold, c.n - 1, first);
        kn_curve_free(&c);
    }
    for (int q = 0; q < 2; q++)
        for (size_t bins = 5; bins <= 10; bins += 5) {
            char a[64], b[64];
            snprintf(a, sizeof a, "cal_true_%s_%zu", q ? "quantile" : "uniform", bins);
            snprintf(b, sizeof b, "cal_pred_%s_%zu", q ? "quantile" : "uniform", bins);
            if (kn_metric_calibration_curve(y, score, n, bins, q, &c) != KN_OK) continue;
            emit_array(a, c.y, c.n, first);
            emit_array(b, c.x, c.n, first);
            kn_curve_free(&c);
        }
}

static void all(size_t n, size_t k, const double *wt, const char *tag)
{
    double v;
    int first = 1;
    char name[64];
#define M(label, call)                                                                             \
    do {                                                                                           \
        snprintf(name, sizeof name, "%s%s", label, tag);                                           \
        kn_status e_ = (call); /* before v is read */                                              \
        emit(name, e_, v, &first);                                                                 \
    } while (0)
    printf("%s{", *tag ? ", \"weighted\": " : "");
    M("accuracy", kn_metric_accuracy(y, pred, wt, n, &v));
    M("balanced_accuracy", kn_metric_balanced_accuracy(y, pred, wt, n, k, &v));
    const char *avgs[] = {"binary", "macro", "micro", "weighted"};
    for (int a = 0; a < 4; a++) {
        if (a == 0 && k != 2) continue;
        char l[64];
        snprintf(l, sizeof l, "precision_%s", avgs[a]);
        M(l, kn_metric_precision(y, pred, wt, n, k, (kn_average)a, &v));
        snprintf(l, sizeof l, "recall_%s", avgs[a]);
        M(l, kn_metric_recall(y, pred, wt, n, k, (kn_average)a, &v));
        snprintf(l, sizeof l, "f1_%s", avgs[a]);
        M(l, kn_metric_f1(y, pred, wt, n, k, (kn_average)a, &v));
    }
    M("mcc", kn_metric_mcc(y, pred, wt, n, k, &v));
    M("cohen_kappa", kn_metric_cohen_kappa(y, pred, wt, n, k, &v));
    if (k == 2) {
        M("roc_auc", kn_metric_roc_auc(y, score, wt, n, &v));
        M("average_precision", kn_metric_average_precision(y, score, wt, n, &v));
        M("brier", kn_metric_brier(y, score, wt, n, &v));
        curves(n, wt, &first);
    } else {
        M("roc_auc_ovr_macro", kn_metric_roc_auc_ovr(y, proba, wt, n, k, KN_AVG_MACRO, &v));
        M("roc_auc_ovr_weighted", kn_metric_roc_auc_ovr(y, proba, wt, n, k, KN_AVG_WEIGHTED, &v));
    }
    M("log_loss", kn_metric_log_loss(y, proba, wt, n, k, &v));
    M("mse", kn_metric_mse(yr, pr, wt, n, &v));
    M("rmse", kn_metric_rmse(yr, pr, wt, n, &v));
    M("mae", kn_metric_mae(yr, pr, wt, n, &v));
    M("mape", kn_metric_mape(yr, pr, wt, n, &v));
    M("median_ae", kn_metric_median_ae(yr, pr, wt, n, &v));
    M("r2", kn_metric_r2(yr, pr, wt, n, &v));
    M("explained_variance", kn_metric_explained_variance(yr, pr, wt, n, &v));
    M("poisson_deviance", kn_metric_tweedie_deviance(yr, pr, wt, n, 1, &v));
    M("gamma_deviance", kn_metric_tweedie_deviance(yr, pr, wt, n, 2, &v));
    M("tweedie_1_5", kn_metric_tweedie_deviance(yr, pr, wt, n, 1.5, &v));
    M("tweedie_3", kn_metric_tweedie_deviance(yr, pr, wt, n, 3, &v));
    M("tweedie_neg", kn_metric_tweedie_deviance(yr, pr, wt, n, -1, &v));
    printf("}");
#undef M
}

int main(int argc, char **argv)
{
    if (argc < 3) return 2;
    FILE *fp = fopen(argv[1], "r");
    size_t k = (size_t)atoi(argv[2]), n = 0;
    proba = kn_malloc(MAXN * k * sizeof *proba);
    if (!fp || !proba) return 1;
    char line[4096];
    while (n < MAXN && fgets(line, sizeof line, fp)) {
        char *p = line;
        y[n] = (int32_t)strtol(p, &p, 10);
        pred[n] = (int32_t)strtol(p + 1, &p, 10);
        score[n] = strtod(p + 1, &p);
        w[n] = strtod(p + 1, &p);
        for (size_t c = 0; c < k; c++) proba[n * k + c] = strtod(p + 1, &p);
        yr[n] = strtod(p + 1, &p);
        pr[n] = strtod(p + 1, &p);
        n++;
    }
    fclose(fp);
    all(n, k, NULL, "");
    all(n, k, w, "");
    printf("\n");
    kn_free(proba);
    return 0;
}
