/* Scores of a model for people and for machines (train, eval, cv). */
#include "cli/cli.h"
#include "kiln/evaluate.h"
#include "kiln/log.h"
#include "kiln/mem.h"

#include <math.h>
#include <string.h>

/* What the scores mean beyond their names: how roc_auc averages and which
 * class is positive, as keys of j (absent when they do not apply). */
void cli_scores_meaning_json(json_t *j, const char *roc_auc_average, const char *positive_class)
{
    if (roc_auc_average) json_object_set_new(j, "roc_auc_average", json_string(roc_auc_average));
    if (positive_class) json_object_set_new(j, "positive_class", json_string(positive_class));
}

/* v as a JSON number, or null when it is NaN or infinite (which JSON
 * cannot hold: json_real refuses them). */
json_t *cli_json_num(double v)
{
    return isfinite(v) ? json_real(v) : json_null();
}

/* Scores as a JSON object {"rows": n, name: value, ..., "roc_auc_average":
 * "binary" | "macro-ovr", "positive_class": label}. */
json_t *cli_scores_json(const kn_scores *sc)
{
    json_t *j = json_pack("{s:I}", "rows", (json_int_t)sc->rows);
    for (size_t i = 0; i < sc->n; i++)
        json_object_set_new(j, sc->name[i], cli_json_num(sc->value[i]));
    cli_scores_meaning_json(j, sc->roc_auc_average, sc->positive_class);
    if (sc->lo) { /* "intervals": {name: [lo, hi]}, "level": 0.95 */
        json_t *iv = json_object();
        for (size_t i = 0; i < sc->n; i++)
            json_object_set_new(
                iv, sc->name[i],
                json_pack("[o, o]", cli_json_num(sc->lo[i]), cli_json_num(sc->hi[i])));
        json_object_set_new(j, "intervals", iv);
        json_object_set_new(j, "level", json_real(sc->level));
    }
    if (sc->n_slices) {
        json_t *sl = json_array();
        for (size_t v = 0; v < sc->n_slices; v++) {
            json_t *one = cli_scores_json(&sc->slices[v].scores);
            json_object_del(one, "roc_auc_average");
            json_object_del(one, "positive_class");
            json_object_del(one, "level");
            json_object_set_new(one, "value", json_string(sc->slices[v].value));
            json_array_append_new(sl, one);
        }
        json_object_set_new(j, "slices", sl);
        json_object_set_new(j, "worst_slice",
                            sc->worst >= 0 ? json_string(sc->slices[sc->worst].value)
                                           : json_null());
    }
    return j;
}

/* "  (positive class 'yes'; roc_auc binary)" for a line of scores. */
void cli_print_scores_meaning(const char *roc_auc_average, const char *positive_class)
{
    if (!roc_auc_average && !positive_class) return;
    printf("  (");
    if (positive_class)
        printf("positive class '%s'%s", positive_class, roc_auc_average ? "; " : "");
    if (roc_auc_average) printf("roc_auc %s", roc_auc_average);
    putchar(')');
}

/* "[0.81, 0.89]" or "[undefined]" into buf. */
static const char *interval(const kn_scores *s, size_t i, char *buf, size_t len)
{
    if (isfinite(s->lo[i]))
        snprintf(buf, len, "[%.4g, %.4g]", s->lo[i], s->hi[i]);
    else
        snprintf(buf, len, "[undefined]");
    return buf;
}

/* The slices' table: value, rows, and the first scores with intervals;
 * then the worst slice beside the overall score. */
static void print_slices(const kn_scores *s, const char *column)
{
    size_t shown = s->n < 4 ? s->n : 4;
    printf("by %s:\n  %-20s %8s", column ? column : "slice", "value", "rows");
    for (size_t i = 0; i < shown; i++) printf("  %-26s", s->name[i]);
    putchar('\n');
    for (size_t v = 0; v < s->n_slices; v++) {
        const kn_scores *x = &s->slices[v].scores;
        printf("  %-20s %8zu", s->slices[v].value, x->rows);
        for (size_t i = 0; i < shown; i++) {
            char b[64], cell[96];
            snprintf(cell, sizeof cell, "%.4g %s", x->value[i],
                     x->lo ? interval(x, i, b, sizeof b) : "");
            printf("  %-26s", cell);
        }
        putchar('\n');
    }
    if (s->worst >= 0 && s->n) {
        const kn_scores *w = &s->slices[s->worst].scores;
        char b[64];
        printf("worst slice: %s = %s (%zu rows): %s %.4g %s, overall %.4g\n",
               column ? column : "slice", s->slices[s->worst].value, w->rows, s->name[0],
               w->value[0], w->lo ? interval(w, 0, b, sizeof b) : "", s->value[0]);
    }
}

void cli_print_scores_sliced(const char *what, const kn_scores *s, const char *slice_by)
{
    printf("%s (%zu rows):", what, s->rows);
    for (size_t i = 0; i < s->n; i++) printf("  %s %.6g", s->name[i], s->value[i]);
    cli_print_scores_meaning(s->roc_auc_average, s->positive_class);
    putchar('\n');
    if (s->lo) {
        printf("%.0f %% intervals (bootstrap):", 100 * s->level);
        for (size_t i = 0; i < s->n; i++) {
            char b[64];
            printf("  %s %s", s->name[i], interval(s, i, b, sizeof b));
        }
        putchar('\n');
    }
    if (s->n_slices) print_slices(s, slice_by);
}

void cli_print_scores(const char *what, const kn_scores *s)
{
    cli_print_scores_sliced(what, s, NULL);
}

void cli_print_per_class(const kn_model *m, const kn_scores *s)
{
    if (!s->n_classes) return;
    printf("per class:%22s%11s%11s%11s%11s\n", "", "precision", "recall", "f1", "support");
    for (size_t c = 0; c < s->n_classes; c++)
        printf("  %-30.30s %10.4f %10.4f %10.4f %10.6g\n", kn_model_class(m, c),
               s->class_precision[c], s->class_recall[c], s->class_f1[c], s->class_support[c]);
}

json_t *cli_per_class_json(const kn_model *m, const kn_scores *s)
{
    if (!s->n_classes) return NULL;
    json_t *a = json_array();
    for (size_t c = 0; c < s->n_classes; c++)
        json_array_append_new(
            a, json_pack("{s:s, s:o, s:o, s:o, s:o}", "class", kn_model_class(m, c), "precision",
                         cli_json_num(s->class_precision[c]), "recall",
                         cli_json_num(s->class_recall[c]), "f1", cli_json_num(s->class_f1[c]),
                         "support", cli_json_num(s->class_support[c])));
    return a;
}

kn_status cli_target_rows(kn_frame **f, const char *target, int drop)
{
    size_t j, n = kn_frame_n_rows(*f), k = 0, first = 0;
    if (!target || kn_frame_find(*f, target, &j) != KN_OK) return KN_OK; /* told later */
    kn_column *c = kn_frame_col(*f, j);
    size_t *keep = kn_malloc((n ? n : 1) * sizeof *keep);
    if (!keep) return KN_ERR_NOMEM;
    for (size_t i = 0; i < n; i++)
        if (!kn_column_is_missing(c, i))
            keep[k++] = i;
        else if (!first)
            first = i + 1;
    kn_status e = KN_OK;
    kn_frame *g = NULL;
    if (k < n && !drop)
        e = kn_fail(KN_ERR_INVALID,
                    "target '%s' is missing in %zu of %zu rows (first: row %zu); a model "
                    "cannot learn from or be scored on them: drop those rows with "
                    "--drop-missing-target",
                    target, n - k, n, first);
    else if (k < n)
        e = kn_frame_select_rows(*f, keep, k, &g);
    kn_free(keep);
    if (e != KN_OK || k == n) return e;
    kn_log(KN_LOG_INFO,
           "--drop-missing-target: dropped %zu of %zu rows whose target '%s' is missing", n - k, n,
           target);
    kn_frame_free(*f);
    *f = g;
    return KN_OK;
}

kn_status cli_refuse_infinite(const kn_frame *f, const char *target)
{
    for (size_t j = 0; j < kn_frame_n_cols(f); j++) {
        kn_column *c = kn_frame_col(f, j);
        const char *name = kn_column_name(c);
        int is_target = target && !strcmp(name, target);
        if (kn_column_type(c) != KN_COL_NUMERIC ||
            (kn_column_role(c) != KN_ROLE_FEATURE && !is_target))
            continue;
        const double *v = kn_column_f64(c);
        size_t n = kn_frame_n_rows(f), i = 0;
        int inf = 0;
        for (size_t r = 0; r < n; r++) inf |= fabs(v[r]) == INFINITY;
        if (!inf) continue;
        while (fabs(v[i]) != INFINITY) i++;
        return kn_fail(KN_ERR_INVALID,
                       "%s '%s', row %zu is %s; models take finite numbers: correct it at its "
                       "source, or clip it with kiln prep IN OUT --step "
                       "'outlier_clip:columns=%s' (every value beyond the IQR fences is "
                       "clipped)",
                       is_target ? "target" : "feature", name, i + 1, v[i] > 0 ? "inf" : "-inf",
                       name);
    }
    return KN_OK;
}
