/* kiln anomaly --data FILE --out SCORES: fits an isolation forest without
 * a target and writes each row's anomaly score and label. With --label C
 * --normal V (one-class) it fits on the rows whose C is V only, scores
 * every row and reports the ROC-AUC of the other rows as anomalies. */
#include "cli/cli.h"
#include "kiln/io.h"
#include "kiln/mem.h"
#include "kiln/metrics.h"
#include "kiln/model.h"
#include "kiln/stage.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

typedef struct anomaly_args {
    const char *data, *out, *save, *ignore, *labels, *label, *normal, *method;
    cli_list params;
    kn_read_opts read;
} anomaly_args;

static const cli_opt anomaly_opts[] = {
    CLI_OPT_NEED(anomaly_args, data, "data", "FILE", "the rows to fit on and score"),
    CLI_OPT_NEED(anomaly_args, out, "out", "SCORES.csv",
                 "where the scores go (columns score and anomaly; - for standard output)"),
    CLI_OPT_TEXT(anomaly_args, save, "save", "MODEL.kmd",
                 "also save the fitted model ('kiln predict' scores new rows with it)"),
    CLI_OPT_CHOICE(anomaly_args, method, "method", "isolation_forest|one_class_svm",
                   "the model: isolation_forest (default) or one_class_svm (RBF kernel, nu)"),
    CLI_OPT_LIST(anomaly_args, params, "param", "NAME=VALUE",
                 "a parameter of the model ('kiln help model isolation_forest')"),
    CLI_OPT_TEXT(anomaly_args, ignore, "ignore", "COLUMNS",
                 "columns that are not features (a,b), e.g. an id"),
    CLI_OPT_TEXT(anomaly_args, labels, "labels", "COLUMN",
                 "known anomalies: a column left out of the features; the ROC-AUC of the rows "
                 "outside its most common value, as anomalies, is printed"),
    CLI_OPT_TEXT(anomaly_args, label, "label", "COLUMN",
                 "one-class: a column naming each row's class (left out of the features)"),
    CLI_OPT_TEXT(anomaly_args, normal, "normal", "VALUE",
                 "one-class: the --label value of the normal rows, the only ones fitted on; "
                 "the other rows are the anomalies the ROC-AUC is reported for"),
    CLI_OPT_READ(anomaly_args, read),
    CLI_OPT_END};

const cli_spec anomaly_spec = {
    "anomaly",
    "score rows for anomalies with an isolation forest (no target)",
    "Fit an isolation forest (model isolation_forest) on the numeric columns of\n"
    "FILE, without a target, and write one row per input row: 'score', scikit-\n"
    "learn's score_samples (-2^(-mean path length / c(max_samples)), in [-1, 0);\n"
    "lower is more anomalous) and 'anomaly' (1 when the score is below the\n"
    "threshold, else 0). The threshold is -0.5, or with --param contamination=F\n"
    "the F quantile of the scores. --labels COLUMN leaves a known label out of the\n"
    "features and reports the ROC-AUC with which the score tells the rows outside\n"
    "its most common value (the anomalies) from the rest; --ignore a,b leaves\n"
    "other columns (an id) out. Text columns must be encoded or ignored, and missing\n"
    "values imputed first ('kiln prep'). --save keeps the model: 'kiln predict\n"
    "--model M.kmd' then writes new rows' scores (or their labels with\n"
    "--param predict_output=label at fit time). Same data, parameters and seed\n"
    "give the same scores on any thread count.\n"
    "\n"
    "One-class (a rare class as anomalies): --label COLUMN --normal VALUE fits on\n"
    "the rows whose COLUMN is VALUE only, scores every row, and reports the\n"
    "ROC-AUC with which the score (lower: more anomalous) tells the other rows\n"
    "(the rare class) from the normal ones. The saved model then scores new\n"
    "rows against the normal class.\n"
    "\n"
    "--method one_class_svm fits a one-class SVM instead (scikit-learn's\n"
    "OneClassSVM: RBF kernel, --param nu=0.5 and gamma, 0 for 'scale'): 'score'\n"
    "is its score_samples (lower is more anomalous) and 'anomaly' 1 where the\n"
    "decision function is negative. Standardise the features first.\n"
    "\n" CLI_LABEL_LIKE_HELP,
    "  kiln anomaly --data transactions.csv --labels fraud --out scores.csv\n"
    "  kiln anomaly --data d.csv --param contamination=0.02 --param n_estimators=200 \\\n"
    "      --save forest.kmd --out scores.csv\n"
    "  kiln anomaly --data cards.csv --label fraud --normal 0 --out scores.csv\n"
    "  kiln anomaly --data std.csv --label class --normal A --method one_class_svm \\\n"
    "      --param nu=0.1 --out scores.csv\n",
    anomaly_opts,
    0,
    cmd_anomaly};

static kn_status write_scores(const kn_model *m, const double *score, size_t n, const char *out,
                              size_t *flagged)
{
    kn_fit_summary fs;
    kn_status e = kn_model_summary(m, &fs);
    double thr = e == KN_OK ? fs.stat[0] : -0.5; /* stat 0: the threshold */
    kn_frame *res = NULL;
    kn_column *cs = NULL, *ca = NULL;
    *flagged = 0;
    if (e == KN_OK) e = kn_frame_new(&res);
    if (e == KN_OK) e = kn_frame_add_column(res, "score", KN_COL_NUMERIC, &cs);
    if (e == KN_OK) e = kn_frame_add_column(res, "anomaly", KN_COL_NUMERIC, &ca);
    if (e == KN_OK) e = kn_frame_resize(res, n);
    for (size_t i = 0; e == KN_OK && i < n; i++) {
        kn_column_f64(cs)[i] = score[i];
        kn_column_f64(ca)[i] = score[i] < thr;
        *flagged += score[i] < thr;
    }
    if (e == KN_OK) e = kn_frame_write(res, out, !strcmp(out, "-") ? "csv" : NULL);
    kn_frame_free(res);
    return e;
}

/* Row i's --label cell equals value (text, or the same number). */
static int is_value(kn_column *c, size_t i, const char *value, double number)
{
    size_t len = 0;
    const char *t = NULL;
    switch (kn_column_type(c)) {
    case KN_COL_CATEGORICAL:
        t = kn_column_level(c, kn_column_codes(c)[i], &len);
        break;
    case KN_COL_STRING:
        t = kn_column_str(c, i, &len);
        break;
    default:
        return kn_column_number(c, i) == number;
    }
    return t && len == strlen(value) && !memcmp(t, value, len);
}

/* One-class: the label column left out of the features, y (1: not the
 * normal value, an anomaly) and the normal rows' indices. */
static kn_status one_class_rows(kn_frame *f, const char *label, const char *normal, int32_t **y,
                                size_t **rows, size_t *n_normal)
{
    size_t j, n = kn_frame_n_rows(f);
    *y = NULL;
    *rows = NULL;
    if (kn_frame_find(f, label, &j) != KN_OK)
        return kn_fail(KN_ERR_NOT_FOUND, "--label: the data has no column '%s'", label);
    kn_column *c = kn_frame_col(f, j);
    kn_column_set_role(c, KN_ROLE_IGNORE);
    char *end = NULL;
    double number = strtod(normal, &end);
    int text = kn_column_type(c) == KN_COL_CATEGORICAL || kn_column_type(c) == KN_COL_STRING;
    if (!text && (end == normal || *end))
        return kn_fail(KN_ERR_INVALID, "--normal %s: column '%s' holds numbers; give a number",
                       normal, label);
    *y = kn_malloc((n ? n : 1) * sizeof **y);
    *rows = kn_malloc((n ? n : 1) * sizeof **rows);
    if (!*y || !*rows) return KN_ERR_NOMEM;
    size_t m = 0;
    for (size_t i = 0; i < n; i++) {
        if (kn_column_is_missing(c, i))
            return kn_fail(KN_ERR_INVALID,
                           "--label %s: row %zu has no value; every row needs its class", label,
                           i + 1);
        int normal_row = is_value(c, i, normal, number);
        (*y)[i] = !normal_row;
        if (normal_row) (*rows)[m++] = i;
    }
    *n_normal = m;
    if (m < 2 && kn_column_type(c) == KN_COL_CATEGORICAL) {
        char seen[512]; /* the column's values, to pick from */
        size_t k = 0, n_lev = kn_column_n_levels(c);
        seen[0] = '\0';
        for (size_t l = 0; l < n_lev && k < sizeof seen - 64; l++) {
            size_t len = 0;
            const char *lv = kn_column_level(c, (int32_t)l, &len);
            if (len > 40) len = 40;
            int w = snprintf(seen + k, sizeof seen - k, "%s'%.*s'", l ? ", " : "", (int)len,
                             lv ? lv : "");
            if (w > 0) k += (size_t)w;
            if (l + 1 < n_lev && k >= sizeof seen - 64)
                snprintf(seen + k, sizeof seen - k, ", ...");
        }
        return kn_fail(KN_ERR_INVALID,
                       "--normal %s: %zu rows of '%s' have it; the model is fitted on those, so "
                       "give a value at least 2 rows hold (its values: %s; case matters)",
                       normal, m, label, seen);
    }
    if (m < 2)
        return kn_fail(KN_ERR_INVALID,
                       "--normal %s: %zu rows of '%s' have it; the model is fitted on those, so "
                       "give a value at least 2 rows hold",
                       normal, m, label);
    if (m == n)
        return kn_fail(KN_ERR_INVALID,
                       "--normal %s: every row of '%s' has it; the ROC-AUC needs rows of another "
                       "class (the anomalies)",
                       normal, label);
    return KN_OK;
}

static int by_value(const void *x, const void *y)
{
    double a = *(const double *)x, b = *(const double *)y;
    return (a > b) - (a < b);
}

/* --labels: y (1: the row's value is not the column's most common one, an
 * anomaly), the count of the most common value's rows and that value. */
static kn_status known_anomalies(const kn_frame *f, const char *labels, int32_t **y,
                                 size_t *n_normal, char *value, size_t len)
{
    size_t j, n = kn_frame_n_rows(f);
    if (kn_frame_find(f, labels, &j) != KN_OK)
        return kn_fail(KN_ERR_NOT_FOUND, "--labels: the data has no column '%s'", labels);
    kn_column *c = kn_frame_col(f, j);
    kn_col_type t = kn_column_type(c);
    if (t != KN_COL_CATEGORICAL && t != KN_COL_NUMERIC)
        return kn_fail(KN_ERR_TYPE,
                       "--labels %s: give a column of classes (text values or numbers)", labels);
    for (size_t i = 0; i < n; i++)
        if (kn_column_is_missing(c, i))
            return kn_fail(KN_ERR_INVALID,
                           "--labels %s: row %zu has no value; every row needs its class", labels,
                           i + 1);
    double number = NAN;
    size_t best = 0, at = 0;
    if (t == KN_COL_CATEGORICAL) { /* the most rows; ties: the first level */
        size_t k = kn_column_n_levels(c);
        size_t *count = kn_calloc(k + 1, sizeof *count);
        if (!count) return KN_ERR_NOMEM;
        for (size_t i = 0; i < n; i++) count[kn_column_codes(c)[i]]++;
        for (size_t l = 0; l < k; l++)
            if (count[l] > best) best = count[l], at = l;
        kn_free(count);
        size_t vl = 0;
        const char *v = kn_column_level(c, (int32_t)at, &vl);
        snprintf(value, len, "'%.*s'", (int)(vl < 80 ? vl : 80), v ? v : "");
    } else { /* the longest run of sorted values; ties: the smallest */
        double *v = kn_malloc((n ? n : 1) * sizeof *v);
        if (!v) return KN_ERR_NOMEM;
        memcpy(v, kn_column_f64(c), n * sizeof *v);
        qsort(v, n, sizeof *v, by_value);
        for (size_t i = 0, run = 0; i < n; i++) {
            run = i && v[i] == v[i - 1] ? run + 1 : 1;
            if (run > best) best = run, number = v[i];
        }
        kn_free(v);
        snprintf(value, len, "%.17g", number);
    }
    if (best == n)
        return kn_fail(KN_ERR_INVALID,
                       "--labels %s: every row has the value %s; the ROC-AUC needs rows of "
                       "another value (the anomalies)",
                       labels, value);
    *y = kn_malloc((n ? n : 1) * sizeof **y);
    if (!*y) return KN_ERR_NOMEM;
    for (size_t i = 0; i < n; i++)
        (*y)[i] = t == KN_COL_CATEGORICAL ? kn_column_codes(c)[i] != (int32_t)at
                                          : kn_column_f64(c)[i] != number;
    *n_normal = best;
    return KN_OK;
}

/* Fits m on the normal rows of f only (one-class). */
static kn_status fit_normal(kn_model *m, const kn_frame *f, const size_t *rows, size_t n)
{
    kn_frame *sub = NULL;
    kn_status e = kn_frame_select_rows(f, rows, n, &sub);
    kn_stage_begin("fit");
    if (e == KN_OK) e = kn_model_fit(m, sub, NULL, NULL);
    kn_stage_end();
    kn_frame_free(sub);
    return e;
}

int cmd_anomaly(int argc, char **argv)
{
    anomaly_args a = {0};
    int rc = cli_parse(&anomaly_spec, argc, argv, &a, NULL);
    if (rc) return rc < 0 ? CLI_OK : rc;
    const char *outs[2] = {a.out, a.save};
    if (cli_refuse_overwrite("anomaly", outs, a.save ? 2 : 1, &a.data, 1, -1) != CLI_OK)
        return CLI_USAGE;
    if (a.labels && a.label)
        return cli_usage_error("anomaly",
                               "--labels %s scores a fit on every row; --label %s "
                               "--normal V fits on one class: choose one",
                               a.labels, a.label);
    if (!a.label != !a.normal)
        return cli_usage_error("anomaly", "--label and --normal go together (one-class: %s)",
                               a.label ? "add --normal VALUE" : "add --label COLUMN");
    kn_model *m = NULL;
    const char *method = a.method ? a.method : "isolation_forest";
    if ((rc = cli_unsupervised_model(method, &a.params, 1, &m)) != CLI_OK) return rc;
    kn_read_opts o = a.read;
    kn_frame *f = NULL;
    double *score = NULL, auc = NAN;
    int32_t *y = NULL;
    size_t *rows = NULL, n = 0, flagged = 0, n_normal = 0;
    kn_status e;
    if (a.label) {
        kn_read_report rep;
        e = cli_read_frame(a.data, &o, &f, &rep);
        if (e == KN_OK) e = cli_ignore_columns(f, a.ignore);
        if (e == KN_OK) e = one_class_rows(f, a.label, a.normal, &y, &rows, &n_normal);
        if (e == KN_OK) e = cli_refuse_infinite(f, NULL);
        if (e == KN_OK) e = fit_normal(m, f, rows, n_normal);
    } else
        e = cli_unsupervised_fit(m, a.data, &o, a.ignore, a.labels, &f);
    char normal_value[96] = "";
    if (e == KN_OK && a.labels)
        e = known_anomalies(f, a.labels, &y, &n_normal, normal_value, sizeof normal_value);
    kn_stage_begin("score");
    if (e == KN_OK) e = kn_model_set(m, "predict_output=score");
    if (e == KN_OK) e = kn_model_predict(m, f, &score, &n);
    kn_stage_end();
    if (e == KN_OK) e = write_scores(m, score, n, a.out, &flagged);
    if (e == KN_OK && y) { /* lower scores are more anomalous */
        double *neg = kn_malloc((n ? n : 1) * sizeof *neg);
        for (size_t i = 0; neg && i < n; i++) neg[i] = -score[i];
        e = neg ? kn_metric_roc_auc(y, neg, NULL, n, &auc) : KN_ERR_NOMEM;
        kn_free(neg);
    }
    for (size_t k = 0; e == KN_OK && a.save && k < a.params.n; k++) /* keep the user's output */
        if (!strncmp(a.params.v[k], "predict_output=", 15)) e = kn_model_set(m, a.params.v[k]);
    if (e == KN_OK && a.save) e = cli_model_keep_read(m, &o, f); /* predict replays them */
    if (e == KN_OK && a.save) e = kn_model_save(m, a.save);
    if (e != KN_OK) {
        cli_error("anomaly: %s", kn_last_error());
        rc = CLI_FAIL;
    } else if (cli.json) {
        json_t *j = json_pack("{s:s, s:s, s:s, s:I, s:I, s:I}", "command", "anomaly", "input",
                              a.data, "output", a.out, "rows", (json_int_t)n, "features",
                              (json_int_t)kn_model_n_features(m), "anomalies", (json_int_t)flagged);
        if (a.save) json_object_set_new(j, "model_file", json_string(a.save));
        if (a.label) {
            json_object_set_new(j, "normal_rows", json_integer((json_int_t)n_normal));
            json_object_set_new(j, "rare_rows", json_integer((json_int_t)(n - n_normal)));
            json_object_set_new(j, "roc_auc", cli_json_num(auc));
        }
        if (a.labels) {
            json_object_set_new(j, "labels", json_string(a.labels));
            json_object_set_new(j, "normal_value", json_string(normal_value));
            json_object_set_new(j, "normal_rows", json_integer((json_int_t)n_normal));
            json_object_set_new(j, "rare_rows", json_integer((json_int_t)(n - n_normal)));
            json_object_set_new(j, "roc_auc", cli_json_num(auc));
        }
        json_object_set_new(j, "stages", cli_stages_json());
        rc = cli_emit_json(j);
    } else if (!cli.quiet) {
        fprintf(stderr, "scored %zu rows on %zu features: %zu flagged as anomalies; wrote %s%s%s\n",
                n, kn_model_n_features(m), flagged, strcmp(a.out, "-") ? a.out : "standard output",
                a.save ? " and the model to " : "", a.save ? a.save : "");
        if (a.label)
            fprintf(stderr,
                    "one-class: fitted on the %zu rows with %s = %s; ROC-AUC of the other %zu "
                    "rows as anomalies %.4f\n",
                    n_normal, a.label, a.normal, n - n_normal, auc);
        if (a.labels)
            fprintf(stderr,
                    "against column %s: ROC-AUC of the %zu rows outside its most common value %s "
                    "(%zu rows) as anomalies %.4f\n",
                    a.labels, n - n_normal, normal_value, n_normal, auc);
    }
    kn_free(score);
    kn_free(y);
    kn_free(rows);
    kn_frame_free(f);
    kn_model_free(m);
    return rc;
}
