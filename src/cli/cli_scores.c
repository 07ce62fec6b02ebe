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

void cli_print_scores(const char *what, const kn_scores *s)
{
    printf("%s (%zu rows):", what, s->rows);
    for (size_t i = 0; i < s->n; i++) printf("  %s %.6g", s->name[i], s->value[i]);
    cli_print_scores_meaning(s->roc_auc_average, s->positive_class);
    putchar('\n');
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
