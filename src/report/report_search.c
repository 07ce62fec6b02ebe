/* The hyperparameter search of a run (metrics' "search", made when the
 * spec's model has a search:): the history as a figure (each trial's
 * cross-validated score and the best so far, by trial number), the best
 * configuration, and every trial's parameters and scores in a table.
 * Nothing is written when the model was not searched. */
#include "kiln/mem.h"
#include "report/report-impl.h"
#include "report/svg-impl.h"

#include <math.h>
#include <string.h>

/* params {name: value} as "name=value, ..." text. */
static void params_cell(kn__text *t, const json_t *params)
{
    const char *k;
    const json_t *v;
    int first = 1;
    json_object_foreach((json_t *)params, k, v)
    {
        if (!first) kn__text_put(t, ", ");
        first = 0;
        kn__text_esc(t, k);
        kn__text_put(t, "=");
        kn__text_esc(t, json_is_string(v) ? json_string_value(v) : "?");
    }
}

/* Each OK trial's score and the best so far, by trial number. */
static void history(kn__text *t, const json_t *trials, const char *metric, int higher)
{
    size_t n = json_array_size(trials), m = 0;
    double *x = kn_malloc((n ? n : 1) * sizeof *x), *y = kn_malloc((n ? n : 1) * sizeof *y);
    double *best = kn_malloc((n ? n : 1) * sizeof *best);
    if (x && y && best) {
        for (size_t i = 0; i < n; i++) {
            const json_t *tr = json_array_get(trials, i);
            const json_t *sc = json_object_get(tr, "score");
            const char *st = json_string_value(json_object_get(tr, "status"));
            if (!json_is_number(sc) || !st || strcmp(st, "ok")) continue;
            x[m] = (double)json_integer_value(json_object_get(tr, "trial"));
            y[m] = json_number_value(sc);
            best[m] = m == 0                                               ? y[m]
                      : (higher ? y[m] > best[m - 1] : y[m] < best[m - 1]) ? y[m]
                                                                           : best[m - 1];
            m++;
        }
    }
    if (m >= 2) {
        kn__svg_series s[2] = {{"trial", x, y, m, 0, 1}, {"best so far", x, best, m, 1, 0}};
        kn__svg_plot p = {"Search history",
                          {"trial", 0, 0, KN__SVG_INTEGER},
                          {metric ? metric : "score", 0, 0, 0},
                          0,
                          0,
                          0,
                          NULL,
                          !higher};
        kn__text_put(t, "<figure><h3>Search history</h3>");
        kn__svg_lines(t, &p, s, 2);
        kn__text_put(t, "<figcaption>Cross-validated score of each finished trial (points) and "
                        "the best so far (steps), in the order the trials were proposed."
                        "</figcaption></figure>\n");
    }
    kn_free(x), kn_free(y), kn_free(best);
}

void kn__report_search(const kn__report_in *in, kn__text *t)
{
    const json_t *s = json_is_object(in->metrics) ? json_object_get(in->metrics, "search") : NULL;
    if (!json_is_object(s)) return;
    const json_t *trials = json_object_get(s, "trials"), *best = json_object_get(s, "best");
    const char *metric = json_string_value(json_object_get(s, "metric"));
    int higher = json_is_true(json_object_get(s, "higher_is_better"));
    kn__report_h2(t, "search", "Hyperparameter search");
    kn__text_put(t, "<p>");
    kn__report_json_cell(t, json_object_get(s, "strategy"));
    kn__text_printf(t, " search, %zu trials, each cross-validated on the training rows (",
                    json_array_size(trials));
    kn__report_json_cell(t, json_object_get(s, "folds"));
    kn__text_put(t, " folds, steps fitted inside each), scored by ");
    kn__text_esc(t, metric ? metric : "?");
    kn__text_put(t, higher ? " (higher is better)" : " (lower is better)");
    kn__text_put(t, ", seed ");
    kn__report_json_cell(t, json_object_get(s, "seed"));
    kn__text_put(t, ".</p>\n");
    if (json_is_object(best)) {
        kn__text_put(t, "<p><b>Best configuration</b> (trial ");
        kn__report_json_cell(t, json_object_get(best, "trial"));
        kn__text_put(t, ", ");
        kn__text_esc(t, metric ? metric : "score");
        kn__text_put(t, " ");
        kn__report_json_cell(t, json_object_get(best, "score"));
        kn__text_put(t, " \xc2\xb1 ");
        kn__report_json_cell(t, json_object_get(best, "std"));
        kn__text_put(t, "): ");
        params_cell(t, json_object_get(best, "params"));
        kn__text_put(t, ". The final model was refitted with it on all training rows; its CV "
                        "score was the search's pick, so the test score is the honest "
                        "estimate.</p>\n");
    }
    history(t, trials, metric, higher);
    kn__text_put(t, "<table><tr><th>trial</th><th>parameters</th><th>status</th><th>mean</th>"
                    "<th>std</th><th>train mean</th></tr>\n");
    json_int_t best_id =
        json_is_object(best) ? json_integer_value(json_object_get(best, "trial")) : -1;
    for (size_t i = 0; i < json_array_size(trials); i++) {
        const json_t *tr = json_array_get(trials, i);
        json_int_t id = json_integer_value(json_object_get(tr, "trial"));
        kn__text_put(t, id == best_id ? "<tr class=\"best\"><td class=\"n\"><b>"
                                      : "<tr><td "
                                        "class=\"n\">");
        kn__report_json_cell(t, json_object_get(tr, "trial"));
        kn__text_put(t, id == best_id ? "</b></td><td>" : "</td><td>");
        params_cell(t, json_object_get(tr, "params"));
        kn__text_put(t, "</td><td>");
        kn__report_json_cell(t, json_object_get(tr, "status"));
        kn__text_put(t, "</td><td class=\"n\">");
        kn__report_json_cell(t, json_object_get(tr, "score"));
        kn__text_put(t, "</td><td class=\"n\">");
        kn__report_json_cell(t, json_object_get(tr, "std"));
        kn__text_put(t, "</td><td class=\"n\">");
        kn__report_json_cell(t, json_object_get(tr, "train"));
        kn__text_put(t, "</td></tr>\n");
    }
    kn__text_put(t, "</table>\n</section>\n");
}
