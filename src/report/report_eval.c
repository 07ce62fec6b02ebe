/* The evaluation sections: curves, confusion matrix and calibration
 * (classification), residuals (regression), CV folds and feature
 * importance. Curves come from kiln/metrics.h (scikit-learn's
 * definitions), drawn from the artifact's held-out predictions. */
#include "report/report-impl.h"
#include "report/svg-impl.h"
#include "kiln/mem.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define MAX_CURVES 10   /* one-vs-rest curves drawn for at most this many classes */
#define MAX_POINTS 3000 /* scatter points drawn */
#define TOP_FEATURES 20

double kn__report_auc(const kn_curve *c)
{
    double a = 0;
    for (size_t i = 1; i < c->n; i++) a += (c->x[i] - c->x[i - 1]) * (c->y[i] + c->y[i - 1]) / 2;
    return fabs(a);
}

size_t kn__report_positive(const kn__report_in *in)
{
    const kn_heldout *h = in->heldout;
    const json_t *pc =
        json_is_object(in->metrics) ? json_object_get(in->metrics, "positive_class") : NULL;
    if (json_is_string(pc))
        for (size_t c = 0; c < h->k; c++)
            if (h->classes[c] && !strcmp(h->classes[c], json_string_value(pc))) return c;
    return h->k > 1 ? 1 : 0;
}

static void figure_open(kn__text *t)
{
    kn__text_put(t, "<figure>");
}

static void figure_close(kn__text *t, const char *caption)
{
    kn__text_put(t, "<figcaption>");
    kn__text_esc(t, caption);
    kn__text_put(t, "</figcaption></figure>\n");
}

static const char *class_name(const kn_heldout *h, size_t c)
{
    return h->classes && h->classes[c] ? h->classes[c] : "?";
}

/* ROC and PR curves of class c against the rest. */
static kn_status curves(const kn_heldout *h, const int32_t *y, size_t c, double *score,
                        int32_t *y01, kn_curve *roc, kn_curve *pr, double *ap)
{
    for (size_t i = 0; i < h->n; i++) {
        y01[i] = y[i] == (int32_t)c;
        score[i] = h->proba[i * h->k + c];
    }
    kn_status e = kn_metric_roc_curve(y01, score, NULL, h->n, 1, roc);
    if (e == KN_OK) e = kn_metric_pr_curve(y01, score, NULL, h->n, pr);
    if (e == KN_OK) e = kn_metric_average_precision(y01, score, NULL, h->n, ap);
    return e;
}

static kn_status roc_pr(const kn__report_in *in, const int32_t *y, kn__text *t)
{
    const kn_heldout *h = in->heldout;
    size_t pos = kn__report_positive(in);
    size_t first = h->k == 2 ? pos : 0, last = h->k == 2 ? pos + 1 : h->k;
    if (last - first > MAX_CURVES) last = first + MAX_CURVES;
    kn_curve roc[MAX_CURVES], pr[MAX_CURVES];
    memset(roc, 0, sizeof roc);
    memset(pr, 0, sizeof pr);
    char *names_roc[MAX_CURVES] = {0}, *names_pr[MAX_CURVES] = {0};
    double *score = kn_malloc(h->n * sizeof *score);
    int32_t *y01 = kn_malloc(h->n * sizeof *y01);
    kn_status e = score && y01 ? KN_OK : KN_ERR_NOMEM;
    size_t present = 0;
    for (size_t c = first; e == KN_OK && c < last; c++) {
        double ap = NAN;
        size_t npos = 0;
        for (size_t r = 0; r < h->n; r++) npos += y[r] == (int32_t)c;
        if (npos == 0 || npos == h->n) continue; /* no curve without both kinds of rows */
        e = curves(h, y, c, score, y01, &roc[present], &pr[present], &ap);
        if (e != KN_OK) break;
        char auc[48], aps[48];
        kn__fmt_num(kn__report_auc(&roc[present]), auc, sizeof auc);
        kn__fmt_num(ap, aps, sizeof aps);
        names_roc[present] = kn_sprintf("%s (AUC %s)", class_name(h, c), auc);
        names_pr[present] = kn_sprintf("%s (AP %s)", class_name(h, c), aps);
        if (!names_roc[present] || !names_pr[present]) e = KN_ERR_NOMEM;
        present++;
    }
    if (e == KN_OK && present == 0) {
        kn__report_note(t,
                        "No ROC or precision-recall curve: the held-out rows hold one class only.");
    } else if (e == KN_OK) {
        kn__svg_series s[MAX_CURVES];
        for (size_t i = 0; i < present; i++)
            s[i] = (kn__svg_series){names_roc[i], roc[i].x, roc[i].y, roc[i].n, 0, 0};
        kn__svg_plot p = {"ROC curve",
                          {"false positive rate", 0, 1, 0},
                          {"true positive rate", 0, 1, 0},
                          1,
                          0,
                          0,
                          NULL,
                          1};
        figure_open(t);
        kn__text_put(t, "<h3>ROC curve</h3>");
        kn__svg_lines(t, &p, s, present);
        figure_close(t, h->k == 2 ? "Positive class against the rest; the dashed diagonal is a "
                                    "model that guesses."
                        : h->k > MAX_CURVES ? "The first 10 classes, each against the "
                                              "rest (one-vs-rest)."
                                            : "Each class against the rest "
                                              "(one-vs-rest).");
        for (size_t i = 0; i < present; i++)
            s[i] = (kn__svg_series){names_pr[i], pr[i].x, pr[i].y, pr[i].n, 1, 0};
        kn__svg_plot q = {"Precision-recall curve",
                          {"recall", 0, 1, 0},
                          {"precision", 0, 1, 0},
                          0,
                          0,
                          0,
                          NULL,
                          0};
        if (h->k == 2) { /* the share of positives: what guessing scores */
            size_t npos = 0;
            for (size_t r = 0; r < h->n; r++) npos += y[r] == (int32_t)pos;
            q.has_hline = 1;
            q.hline = (double)npos / (double)h->n;
            q.hline_name = "positive share";
        }
        figure_open(t);
        kn__text_put(t, "<h3>Precision-recall curve</h3>");
        kn__svg_lines(t, &q, s, present);
        figure_close(t, "Precision against recall as the threshold falls (steps, as average "
                        "precision sums them).");
    }
    for (size_t i = 0; i < MAX_CURVES; i++) {
        kn_curve_free(&roc[i]);
        kn_curve_free(&pr[i]);
        kn_free(names_roc[i]);
        kn_free(names_pr[i]);
    }
    kn_free(score);
    kn_free(y01);
    return e;
}

static kn_status calibration(const kn__report_in *in, const int32_t *y, const int32_t *pred,
                             kn__text *t)
{
    const kn_heldout *h = in->heldout;
    size_t pos = kn__report_positive(in);
    double *prob = kn_malloc(h->n * sizeof *prob);
    int32_t *hit = kn_malloc(h->n * sizeof *hit);
    kn_curve c = {0};
    kn_status e = prob && hit ? KN_OK : KN_ERR_NOMEM;
    for (size_t i = 0; e == KN_OK && i < h->n; i++) {
        double p;
        if (h->k == 2) { /* the positive class's probability against its share */
            p = h->proba[i * h->k + pos];
            hit[i] = y[i] == (int32_t)pos;
        } else { /* the predicted class's probability against how often it is right */
            p = h->proba[i * h->k + (size_t)pred[i]];
            hit[i] = y[i] == pred[i];
        }
        prob[i] = p < 0 ? 0 : p > 1 ? 1 : p;
    }
    if (e == KN_OK) e = kn_metric_calibration_curve(hit, prob, h->n, 10, 0, &c);
    if (e == KN_OK) {
        kn__svg_series s = {NULL, c.x, c.y, c.n, 0, 0};
        kn__svg_plot p = {"Calibration curve",
                          {h->k == 2 ? "mean predicted probability" : "mean confidence", 0, 1, 0},
                          {h->k == 2 ? "share of positives" : "share correct", 0, 1, 0},
                          1,
                          0,
                          0,
                          NULL,
                          0};
        figure_open(t);
        kn__text_put(t, "<h3>Calibration</h3>");
        kn__svg_lines(t, &p, &s, 1);
        figure_close(t, h->k == 2 ? "10 bins of equal width; on the diagonal, a predicted "
                                    "probability is the observed share."
                                  : "10 bins of the predicted class's probability against the "
                                    "share of those rows it gets right.");
    }
    kn_curve_free(&c);
    kn_free(prob);
    kn_free(hit);
    return e;
}

kn_status kn__report_classification(const kn__report_in *in, kn__text *t)
{
    kn__report_h2(t, "evaluation", "Evaluation on the held-out test set");
    const kn_heldout *h = in->heldout;
    if (!h || !h->n || !h->k) {
        kn__report_note(t, "No held-out predictions in this artifact: no curves or confusion "
                           "matrix (the run kept no test set).");
        kn__text_put(t, "</section>\n");
        return KN_OK;
    }
    int32_t *y = kn_malloc(h->n * sizeof *y), *pred = kn_malloc(h->n * sizeof *pred);
    double *m = kn_calloc(h->k * h->k, sizeof *m);
    kn_status e = y && pred && m ? KN_OK : KN_ERR_NOMEM;
    for (size_t i = 0; e == KN_OK && i < h->n; i++) {
        if (!(h->y[i] >= 0 && h->y[i] < (double)h->k && h->pred[i] >= 0 &&
              h->pred[i] < (double)h->k)) {
            e = kn_fail(KN_ERR_CORRUPT,
                        "report: held-out row %zu has a class index outside "
                        "0..%zu; the artifact is damaged: re-run to remake it",
                        i + 1, h->k - 1);
            break;
        }
        y[i] = (int32_t)h->y[i];
        pred[i] = (int32_t)h->pred[i];
    }
    kn__text_printf(t, "<p>%zu held-out rows, %zu classes.</p>\n<div class=\"figs\">\n", h->n,
                    h->k);
    if (e == KN_OK) {
        if (h->proba)
            e = roc_pr(in, y, t);
        else
            kn__report_note(t, "The model gives no probabilities: no ROC, precision-recall or "
                               "calibration curve.");
    }
    if (e == KN_OK) e = kn_metric_confusion(y, pred, NULL, h->n, h->k, m);
    if (e == KN_OK) {
        figure_open(t);
        kn__text_put(t, "<h3>Confusion matrix</h3>");
        kn__svg_heatmap(t, "Confusion matrix", (const char *const *)h->classes, h->k, m);
        figure_close(t, "Rows: true class; columns: predicted class. Each cell: rows, and their "
                        "share of the true class.");
    }
    if (e == KN_OK && h->proba) e = calibration(in, y, pred, t);
    kn__text_put(t, "</div>\n</section>\n");
    kn_free(y);
    kn_free(pred);
    kn_free(m);
    return e;
}

kn_status kn__report_regression(const kn__report_in *in, kn__text *t)
{
    kn__report_h2(t, "evaluation", "Evaluation on the held-out test set");
    const kn_heldout *h = in->heldout;
    if (!h || !h->n) {
        kn__report_note(t, "No held-out predictions in this artifact: no residual plots (the run "
                           "kept no test set).");
        kn__text_put(t, "</section>\n");
        return KN_OK;
    }
    double *r = kn_malloc(h->n * sizeof *r);
    if (!r) return KN_ERR_NOMEM;
    double sum = 0, sq = 0;
    for (size_t i = 0; i < h->n; i++) {
        r[i] = h->y[i] - h->pred[i];
        sum += r[i];
    }
    double mean = sum / (double)h->n;
    for (size_t i = 0; i < h->n; i++) sq += (r[i] - mean) * (r[i] - mean);
    kn__text_printf(t, "<p>%zu held-out rows; residual (true \xe2\x88\x92 predicted) mean ", h->n);
    kn__text_num(t, mean);
    kn__text_put(t, ", standard deviation ");
    kn__text_num(t, sqrt(sq / (double)h->n));
    kn__text_put(t, ".</p>\n<div class=\"figs\">\n");
    kn__svg_plot p = {"Residuals against predictions",
                      {"predicted", 0, 0, 0},
                      {"residual (true \xe2\x88\x92 predicted)", 0, 0, 0},
                      0,
                      1,
                      0,
                      NULL,
                      0};
    figure_open(t);
    kn__text_put(t, "<h3>Residuals against predictions</h3>");
    size_t drawn = kn__svg_scatter(t, &p, h->pred, r, h->n, MAX_POINTS);
    char cap[160];
    if (drawn < h->n)
        snprintf(cap, sizeof cap, "%zu of %zu rows drawn (every %zu-th row).", drawn, h->n,
                 (h->n + MAX_POINTS - 1) / MAX_POINTS);
    else
        snprintf(cap, sizeof cap, "Every held-out row; the dashed line is a residual of 0.");
    figure_close(t, cap);
    kn__svg_plot q = {"Histogram of residuals",
                      {"residual", 0, 0, 0},
                      {"rows", 0, 0, KN__SVG_INTEGER | KN__SVG_NONNEG},
                      0,
                      1,
                      0,
                      NULL,
                      0};
    figure_open(t);
    kn__text_put(t, "<h3>Residuals</h3>");
    kn__svg_hist(t, &q, r, h->n, 40);
    figure_close(t, "40 bins between the smallest and the largest residual; dashed: 0.");
    kn__text_put(t, "</div>\n</section>\n");
    kn_free(r);
    return KN_OK;
}

void kn__report_cv(const kn__report_in *in, kn__text *t)
{
    kn__report_h2(t, "cv", "Cross-validation");
    const json_t *cv = json_is_object(in->metrics) ? json_object_get(in->metrics, "cv") : NULL;
    const json_t *ms = json_is_object(cv) ? json_object_get(cv, "metrics") : NULL;
    if (!json_is_object(ms) || !json_object_size(ms)) {
        kn__report_note(t, "No cross-validation in this run.");
        kn__text_put(t, "</section>\n");
        return;
    }
    kn__text_put(t, "<p>");
    kn__report_json_cell(t, json_object_get(cv, "split"));
    kn__text_put(t, " split, ");
    kn__report_json_cell(t, json_object_get(cv, "k"));
    kn__text_put(t, " folds.</p>\n<table><tr><th>metric</th><th>mean</th><th>std</th>"
                    "<th>train mean</th><th>per fold</th></tr>\n");
    const json_t *train = json_object_get(cv, "train");
    const char *name;
    const json_t *v;
    json_object_foreach((json_t *)ms, name, v)
    {
        kn__text_put(t, "<tr><td>");
        kn__text_esc(t, name);
        kn__text_put(t, "</td><td class=\"n\">");
        kn__report_json_cell(t, json_object_get(v, "mean"));
        kn__text_put(t, "</td><td class=\"n\">");
        kn__report_json_cell(t, json_object_get(v, "std"));
        kn__text_put(t, "</td><td class=\"n\">");
        kn__report_json_cell(t, json_is_object(train)
                                    ? json_object_get(json_object_get(train, name), "mean")
                                    : NULL);
        kn__text_put(t, "</td><td class=\"n\">");
        const json_t *folds = json_object_get(v, "folds");
        for (size_t i = 0; i < json_array_size(folds); i++) {
            if (i) kn__text_put(t, " ");
            kn__report_json_cell(t, json_array_get(folds, i));
        }
        kn__text_put(t, "</td></tr>\n");
    }
    kn__text_put(t, "</table>\n");
    const json_t *verdict = json_object_get(cv, "verdict");
    const char *evidence = json_string_value(json_object_get(verdict, "evidence"));
    if (evidence) { /* "over-fitting: train ... " with the verdict in bold */
        const char *colon = strchr(evidence, ':');
        size_t head = colon ? (size_t)(colon - evidence) : 0;
        kn__text_put(t, "<p class=\"verdict\"><b>Fit: ");
        kn__text_escn(t, evidence, head);
        kn__text_put(t, "</b>");
        kn__text_esc(t, evidence + head);
        kn__text_put(t, "</p>\n");
    }
    kn__text_put(t, "<div class=\"figs\">\n");
    size_t drawn = 0;
    json_object_foreach((json_t *)ms, name, v)
    {
        const json_t *folds = json_object_get(v, "folds");
        size_t n = json_array_size(folds);
        if (!n || n > 100 || drawn == 3) continue;
        double vals[100], fold[100];
        for (size_t i = 0; i < n; i++) {
            const json_t *f = json_array_get(folds, i);
            vals[i] = json_is_number(f) ? json_number_value(f) : NAN;
            fold[i] = (double)(i + 1);
        }
        const json_t *mean = json_object_get(v, "mean");
        kn__svg_series s = {NULL, fold, vals, n, 0, 1};
        kn__svg_plot p = {name,
                          {"fold", 0.5, (double)n + 0.5, KN__SVG_INTEGER},
                          {name, 0, 0, 0},
                          0,
                          json_is_number(mean),
                          json_is_number(mean) ? json_number_value(mean) : 0,
                          "mean",
                          1};
        figure_open(t);
        kn__text_put(t, "<h3>");
        kn__text_esc(t, name);
        kn__text_put(t, " per fold</h3>");
        kn__svg_lines(t, &p, &s, 1);
        figure_close(t, "The validation score of each fold; dashed: their mean. The axis spans "
                        "the scores, not zero to one.");
        drawn++;
    }
    kn__text_put(t, "</div>\n</section>\n");
}

typedef struct ranked {
    double v;
    size_t i;
} ranked;

static int by_value_desc(const void *a, const void *b)
{
    const ranked *x = a, *y = b;
    if (x->v != y->v) return x->v > y->v ? -1 : 1;
    return x->i < y->i ? -1 : x->i > y->i;
}

void kn__report_importance(const kn__report_in *in, kn__text *t)
{
    kn__report_h2(t, "importance", "Feature importance");
    if (!in->n_features || !in->importance) {
        kn__report_note(t, "This model reports no feature importances or coefficients.");
        kn__text_put(t, "</section>\n");
        return;
    }
    ranked *r = kn_malloc(in->n_features * sizeof *r);
    if (!r) {
        t->failed = 1;
        return;
    }
    size_t n = 0;
    for (size_t j = 0; j < in->n_features; j++)
        if (isfinite(in->importance[j])) r[n++] = (ranked){in->importance[j], j};
    qsort(r, n, sizeof *r, by_value_desc);
    size_t top = n < TOP_FEATURES ? n : TOP_FEATURES;
    double v[TOP_FEATURES];
    const char *labels[TOP_FEATURES];
    for (size_t i = 0; i < top; i++) {
        v[i] = r[i].v;
        labels[i] = in->feature && in->feature[r[i].i] ? in->feature[r[i].i] : "?";
    }
    kn_free(r);
    const char *kind = in->importance_kind ? in->importance_kind : "importance";
    kn__svg_plot p = {"Feature importance", {kind, 0, 0, 0}, {NULL, 0, 0, 0}, 0, 0, 0, NULL, 0};
    figure_open(t);
    kn__svg_bars(t, &p, labels, v, top, 1);
    char cap[200];
    snprintf(cap, sizeof cap,
             "The %zu largest of %zu features (as the model sees them, after the "
             "steps).",
             top, in->n_features);
    figure_close(t, cap);
    kn__text_put(t, "</section>\n");
}
