/* The learning and validation curves of a run (metrics' "curves", made
 * when the spec's evaluation asks for learning_curve or validation_curve):
 * the first metric's cross-validated train and validation means against
 * the training rows or the parameter's values, as lines, with a table of
 * the numbers (means and spreads over the folds). Nothing is written when
 * the run made no curve. */
#include "kiln/mem.h"
#include "report/report-impl.h"
#include "report/svg-impl.h"

#include <math.h>
#include <string.h>

/* The numbers of key as doubles (null: NaN); a new array (kn_free). */
static double *numbers(const json_t *curve, const char *key, size_t n)
{
    double *v = kn_malloc((n ? n : 1) * sizeof *v);
    const json_t *a = json_object_get(curve, key);
    for (size_t i = 0; v && i < n; i++) {
        const json_t *x = json_array_get(a, i);
        v[i] = json_is_number(x) ? json_number_value(x) : NAN;
    }
    return v;
}

static void mean_std(kn__text *t, double m, double s)
{
    kn__text_put(t, "<td class=\"n\">");
    if (isfinite(m)) {
        kn__text_num(t, m);
        if (isfinite(s)) {
            kn__text_put(t, " \xc2\xb1 ");
            kn__text_num(t, s);
        }
    } else
        kn__text_put(t, "\xe2\x80\x93");
    kn__text_put(t, "</td>");
}

static void curve(kn__text *t, const json_t *c, const char *metric, int learning)
{
    const json_t *xs = json_object_get(c, "x");
    size_t n = json_array_size(xs);
    if (n == 0) return;
    const json_t *values = json_object_get(c, "values");
    const char *x_name = json_string_value(json_object_get(c, "x_name"));
    double *x = numbers(c, "x", n), *tr = numbers(c, "train", n);
    double *trs = numbers(c, "train_std", n), *va = numbers(c, "validation", n);
    double *vas = numbers(c, "validation_std", n);
    if (x && tr && trs && va && vas) {
        char *title =
            kn_sprintf(learning ? "Learning curve" : "Validation curve: %s", x_name ? x_name : "");
        kn__svg_series s[2] = {{"train", x, tr, n, 0, 0}, {"validation", x, va, n, 0, 0}};
        kn__svg_plot p = {title ? title : "curve",
                          {learning ? "training rows per fold" : x_name, 0, 0, 0},
                          {metric ? metric : "score", 0, 0, 0},
                          0,
                          0,
                          0,
                          NULL,
                          1};
        kn__text_put(t, "<div><figure><h3>");
        kn__text_esc(t, title ? title : "curve");
        kn__text_put(t, "</h3>");
        kn__svg_lines(t, &p, s, 2);
        kn__text_put(t, "<figcaption>");
        kn__text_esc(t, learning ? "Cross-validated score of models fitted on a growing share of "
                                   "each fold's training rows: a gap that stays wide means "
                                   "over-fitting (more rows may help); two low lines that meet, "
                                   "under-fitting."
                                 : "Cross-validated score at each value of the parameter: the "
                                   "value where validation peaks; train far above validation "
                                   "means over-fitting there.");
        kn__text_put(t, "</figcaption></figure>\n<table><tr><th>");
        kn__text_esc(t, learning ? "training rows" : x_name ? x_name : "value");
        kn__text_put(t, "</th><th>train</th><th>validation</th></tr>\n");
        for (size_t i = 0; i < n; i++) {
            kn__text_put(t, "<tr><td class=\"n\">");
            const json_t *v = json_array_get(values, i);
            if (json_is_string(v))
                kn__text_esc(t, json_string_value(v));
            else
                kn__text_num(t, x[i]);
            kn__text_put(t, "</td>");
            mean_std(t, tr[i], trs[i]);
            mean_std(t, va[i], vas[i]);
            kn__text_put(t, "</tr>\n");
        }
        kn__text_put(t, "</table></div>\n");
        kn_free(title);
    }
    kn_free(x), kn_free(tr), kn_free(trs), kn_free(va), kn_free(vas);
}

void kn__report_curves(const kn__report_in *in, kn__text *t)
{
    const json_t *c = json_is_object(in->metrics) ? json_object_get(in->metrics, "curves") : NULL;
    if (!json_is_object(c)) return;
    const json_t *learn = json_object_get(c, "learning"), *valid = json_object_get(c, "validation");
    const char *metric = json_string_value(json_object_get(c, "metric"));
    kn__report_h2(t, "curves", "Learning and validation curves");
    kn__text_put(t, "<div class=\"figs\">\n");
    if (json_is_object(learn)) curve(t, learn, metric, 1);
    if (json_is_object(valid)) curve(t, valid, metric, 0);
    kn__text_put(t, "</div>\n</section>\n");
}
