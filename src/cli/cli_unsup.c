/* Shared by kiln anomaly and kiln cluster: an unsupervised model made from
 * its name and --param values, and fitted on a file's rows. */
#include "cli/cli.h"
#include "kiln/log.h"
#include "kiln/model.h"
#include "kiln/stage.h"

#include <math.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

int cli_unsupervised_model(const char *name, const cli_list *params, int validate, kn_model **m)
{
    if (kn_model_new(name, m) != KN_OK) {
        cli_error("%s", kn_last_error());
        return CLI_FAIL;
    }
    for (size_t k = 0; k < params->n; k++)
        if (kn_model_set(*m, params->v[k]) != KN_OK) {
            cli_error("--param %s: %s", params->v[k], kn_last_error());
            kn_model_free(*m);
            *m = NULL;
            return CLI_USAGE;
        }
    if (validate && kn_model_validate(*m) != KN_OK) {
        cli_error("%s", kn_last_error());
        kn_model_free(*m);
        *m = NULL;
        return CLI_USAGE;
    }
    return CLI_OK;
}

/* Whether name, in any case, alone or as its last '_' word, is one of
 * words ("fraud_label" is a label; "label_count" is not). */
static int name_is(const char *name, const char *const *words, size_t n)
{
    const char *us = strrchr(name, '_'), *tail = us ? us + 1 : name;
    for (size_t i = 0; i < n; i++)
        if (!strcasecmp(name, words[i]) || !strcasecmp(tail, words[i])) return 1;
    return 0;
}

/* The rule is CLI_LABEL_LIKE_HELP's (cli.h): keep the two in step.
 * Names that labels take: a numeric column so named is warned about
 * whatever its values. */
static const char *const label_words[] = {"target", "label", "class", "y", "outcome", "response"};
/* Names often given to a target that could as well be a feature: warned
 * about when the numbers are few whole values (whole_values). */
static const char *const target_words[] = {"quality", "grade",   "rating",   "score",
                                           "rank",    "churn",   "default",  "survived",
                                           "fraud",   "species", "diagnosis"};

enum { FEW_VALUES = 20 };

/* The count of distinct values of numeric column c when they are 2 to
 * FEW_VALUES whole numbers and fewer than half the rows; else 0. Missing
 * cells are passed over. */
static size_t whole_values(const kn_column *c, size_t n)
{
    double seen[FEW_VALUES];
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        if (kn_column_is_missing(c, i)) continue;
        double v = kn_column_number(c, i);
        if (v != floor(v) || fabs(v) > 1e15) return 0;
        size_t s = 0;
        while (s < k && seen[s] != v) s++;
        if (s < k) continue;
        if (k == FEW_VALUES) return 0;
        seen[k++] = v;
    }
    return k >= 2 && 2 * k < n ? k : 0;
}

/* The feature column that looks like a label (NULL: none): first, in column
 * order, a numeric one named like a label (label_words), or named like a
 * target (target_words) with few whole values; else a text (categorical)
 * column with few levels (2 to 20, and under half the rows), the last such
 * in column order. *text receives whether it is text and *levels its level
 * count, or for numbers its count of whole values (0: not counted). */
static const kn_column *label_like(const kn_frame *f, int *text, size_t *levels)
{
    const kn_column *named = NULL, *few = NULL;
    size_t n = kn_frame_n_rows(f), named_values = 0;
    for (size_t j = 0; j < kn_frame_n_cols(f); j++) {
        const kn_column *c = kn_frame_col(f, j);
        if (kn_column_role(c) != KN_ROLE_FEATURE) continue;
        int is_text = kn_column_type(c) == KN_COL_CATEGORICAL;
        size_t k = is_text ? kn_column_n_levels(c) : 0;
        const char *name = kn_column_name(c);
        if (!named && name_is(name, label_words, sizeof label_words / sizeof *label_words))
            named = c;
        else if (!named &&
                 (kn_column_type(c) == KN_COL_NUMERIC || kn_column_type(c) == KN_COL_INT64) &&
                 name_is(name, target_words, sizeof target_words / sizeof *target_words) &&
                 (named_values = whole_values(c, n)))
            named = c;
        if (is_text && k >= 2 && k <= 20 && 2 * k < n) few = c;
    }
    const kn_column *c = named ? named : few;
    if (c) {
        *text = kn_column_type(c) == KN_COL_CATEGORICAL;
        *levels = *text ? kn_column_n_levels(c) : c == named ? named_values : 0;
    }
    return c;
}

kn_status cli_unsupervised_fit(kn_model *m, const char *data, kn_read_opts *o, const char *ignore,
                               const char *labels, kn_frame **f)
{
    kn_read_report rep;
    kn_status e = cli_read_frame(data, o, f, &rep);
    if (e == KN_OK) e = cli_ignore_columns(*f, ignore);
    size_t j;
    char hint[160];
    if (e == KN_OK && labels && kn_frame_find(*f, labels, &j) != KN_OK)
        e = kn_fail(KN_ERR_NOT_FOUND, "--labels: the data has no column '%s'%s", labels,
                    kn_frame_did_you_mean(*f, labels, hint, sizeof hint));
    else if (e == KN_OK && labels) {
        kn_column *lc = kn_frame_col(*f, j);
        kn_column_set_role(lc, KN_ROLE_IGNORE);
        for (size_t i = 0; e == KN_OK && i < kn_frame_n_rows(*f); i++) /* before the fit */
            if (kn_column_is_missing(lc, i))
                e = kn_fail(KN_ERR_INVALID,
                            "--labels %s: row %zu has no value; every row needs its class "
                            "(drop or fill those rows first)",
                            labels, i + 1);
    }
    if (e == KN_OK) e = cli_refuse_infinite(*f, NULL);
    int reached_fit = e == KN_OK; /* the hint below is for the fit's own errors */
    kn_stage_begin("fit");
    if (e == KN_OK) e = kn_model_fit(m, *f, NULL, NULL);
    kn_stage_end();
    /* a label left among the features: a text one stops the fit, a numeric
     * one named like a label is taken as a feature; either way name it */
    int text = 0;
    size_t levels = 0;
    const kn_column *c = *f && reached_fit ? label_like(*f, &text, &levels) : NULL;
    /* --labels leaves a label out and scores the clusters or anomalies against it */
    char more[300] = "";
    if (c)
        snprintf(more, sizeof more, " (or --labels %s to %s against it)", kn_column_name(c),
                 !strcmp(kn_model_kind(m), "cluster") ? "score the clusters"
                                                      : "measure the scores");
    if (c && e != KN_OK && text && e != KN_ERR_NOMEM) {
        char why[1024];
        snprintf(why, sizeof why, "%s", kn_last_error());
        e = kn_fail(e,
                    "%s; column '%s' looks like a label (text with %zu values): leave it out "
                    "with --ignore %s%s",
                    why, kn_column_name(c), levels, kn_column_name(c), more);
    } else if (c && e == KN_OK && !text) {
        char values[64] = "";
        if (levels) snprintf(values, sizeof values, " (numbers with %zu whole values)", levels);
        kn_log(KN_LOG_WARN,
               "column '%s' is named like a label%s and was used as a feature: if it is one, "
               "leave it out with --ignore %s%s",
               kn_column_name(c), values, kn_column_name(c), more);
    }
    return e;
}
