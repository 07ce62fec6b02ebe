/* kiln monitor check: has a batch of new rows drifted from the rows a
 * model was trained on, column by column and in the model's predictions,
 * and how many rows break its input schema? (kiln/drift.h) */
#include "cli/cli_anomalies.h"
#include "cli/cli_monitor.h"
#include "cli/cli_retrain.h"
#include "kiln/alert.h"
#include "kiln/artifact.h"
#include "kiln/drift.h"
#include "kiln/mem.h"
#include "kiln/pipeline.h"
#include "kiln/schema.h"
#include "kiln/store.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

typedef struct check_args {
    const char *model, *data, *reference, *store, *alerts;
    int record;
    double alpha, min_psi, missing_change, unseen_share, max_invalid;
    int64_t window;
    int anomalies; /* input anomalies (cli_anomalies.c) */
    double contamination;
    uint64_t anomaly_seed;
    kn_read_opts read;
} check_args;

static const cli_opt check_opts[] = {
    CLI_OPT_NEED(check_args, model, "model", "NAME@STAGE|FILE",
                 "the model: a .kiln artifact or a registered NAME@production, NAME@vN"),
    CLI_OPT_NEED(check_args, data, "data", "FILE", "the new rows (a batch)"),
    CLI_OPT_TEXT(check_args, reference, "reference", "FILE",
                 "the reference rows (default: the artifact's reference of its training rows)"),
    CLI_OPT_TEXT(check_args, store, "store", "DIR",
                 "the store for NAME@STAGE (default $KILN_STORE, else ./kiln-store)"),
    CLI_OPT_NUM(check_args, alpha, "alpha", "P", "0.01", 1e-12, 0.5,
                "false discovery rate over the columns (Benjamini-Hochberg)"),
    CLI_OPT_NUM(check_args, min_psi, "min-psi", "X", "0.02", 0, 10,
                "the least PSI a drifted distribution needs (raised for small samples)"),
    CLI_OPT_NUM(check_args, missing_change, "missing-change", "X", "0.05", 0, 1,
                "a change of the missing share that counts as drift"),
    CLI_OPT_NUM(check_args, unseen_share, "unseen-share", "X", "0.01", 0, 1,
                "the share of cells with values the reference lacks that counts as drift"),
    CLI_OPT_NUM(check_args, max_invalid, "max-invalid", "X", "0.01", 0, 1,
                "the share of rows breaking the input schema that counts as drift"),
    CLI_OPT_INT(check_args, window, "window", "N", "0", 0, 1e9,
                "check the batch in consecutive windows of N rows (0: as one)"),
    CLI_OPT_TEXT(check_args, alerts, "alerts", "FILE",
                 "alert rules and sinks (YAML; 'kiln monitor check --help' shows the shape)"),
    CLI_OPT_FLAG(check_args, record, "record",
                 "keep each window's result and the alerts in the store (alerts then last "
                 "across checks: one per incident)"),
    CLI_OPT_FLAG(check_args, anomalies, "anomalies",
                 "also score the rows with an isolation forest fitted on the reference: each "
                 "window's share of anomalous rows against the reference's"),
    CLI_OPT_NUM(check_args, contamination, "contamination", "F", "0.01", 0.001, 0.5,
                "--anomalies: the reference's share of anomalous rows (sets the threshold)"),
    CLI_OPT_SEED(check_args, anomaly_seed, "anomaly-seed", "0",
                 "--anomalies: the seed of the isolation forest"),
    CLI_OPT_READ(check_args, read),
    CLI_OPT_END};

static int cmd_monitor_check(int argc, char **argv);
static const cli_spec check_spec = {
    "monitor check",
    "has a batch drifted from the training rows?",
    "Compare a batch of new rows with the reference rows (the training data),\n"
    "for each input column of the model and for its predictions. The\n"
    "reference is --reference FILE, else the one the artifact keeps of its\n"
    "training rows (each numeric column's sample of at most 2,001 order\n"
    "statistics and counts, each text column's value counts: exact up to\n"
    "2,001 rows, D and PSI within about 1/2,000 above). Numeric\n"
    "columns: Kolmogorov-Smirnov D and p-value (as scipy.stats.ks_2samp:\n"
    "exact up to 10,000 values a side; against the artifact's reference only\n"
    "up to 200,000 cells, as kiln serve's windows, so both give the same\n"
    "figures), Wasserstein distance, PSI over the\n"
    "reference's deciles. Categorical columns: chi-square test of homogeneity\n"
    "(Yates' correction for two values), Jensen-Shannon distance, PSI, and\n"
    "the values the reference never holds. Both: the missing share.\n"
    "A column drifts when its p-value, adjusted over the columns\n"
    "(Benjamini-Hochberg), is under --alpha and its PSI over a threshold\n"
    "that grows as the samples shrink (max(--min-psi, the PSI two samples of\n"
    "these sizes from one distribution stay under with probability\n"
    "1 - alpha)); or its missing share moved by --missing-change (and 3\n"
    "standard errors); or unseen values make --unseen-share of it.\n"
    "The predictions: the model scores both sides (regression: the values;\n"
    "classification: the predicted classes, chi-square, and the scores, row\n"
    "(score): the positive class's probability for two classes, the top\n"
    "class's for more, tested as a numeric column) and the same tests apply,\n"
    "Benjamini-Hochberg over the two prediction tests (apart from the inputs).\n"
    "The rows that break the artifact's input schema (or cannot be read with\n"
    "its types) count too, over --max-invalid.\n"
    "Columns are listed drifted first, then by how far they moved (the larger\n"
    "of PSI and D or JS), with their importance to the model where the model\n"
    "has importances (tree models).\n"
    "--alerts FILE raises alerts (YAML):\n"
    "  rules:\n"
    "    - {name: rate_moved, metric: psi, column: int_rate, condition: \"> 0.2\",\n"
    "       for: 2, severity: critical}\n"
    "  sinks:\n"
    "    - log\n"
    "    - {webhook: \"http://127.0.0.1:9000/hook\", retries: 5, backoff: 0.5}\n"
    "metric: psi, ks_d, ks_p, wasserstein, chi2, chi2_p, js, p_adjusted, missing,\n"
    "missing_change, unseen_share (a column's, or the worst column's), or\n"
    "drifted_columns, drift, invalid_share, prediction_psi, prediction_p,\n"
    "prediction_drift (classes or scores), score_psi, score_p, score_drift.\n"
    "A rule fires after `for` consecutive windows meet its\n"
    "condition; that opens an incident, sent once to every sink (the webhook\n"
    "POSTs JSON and retries with doubling waits) until a window no longer\n"
    "meets it. With --record the windows, streaks and incidents live in the\n"
    "store (--store), so one incident spans checks and a delivery that failed\n"
    "is retried by the next check; 'kiln monitor alerts' lists them.\n"
    "A rule may retrain when its incident opens (with --record and --model\n"
    "NAME@STAGE; once per incident; 'kiln monitor retrain --help'):\n"
    "    - {name: drifted, metric: drift, condition: \">= 1\",\n"
    "       retrain: {spec: s.yaml, data: fresh.csv, holdout: h.csv, margin: 0.01}}\n"
    "--anomalies fits an isolation forest (seeded: --anomaly-seed) on the\n"
    "reference's numeric input columns (missing cells: the reference median),\n"
    "puts its threshold at the --contamination quantile of the reference's\n"
    "scores, and gives each window's share of rows past it; a window is\n"
    "anomalous when a one-sided binomial test puts its share over the\n"
    "reference's (p under --alpha / windows).\n"
    "Alert rules may watch it: anomaly_share, anomaly_p (the window's),\n"
    "anomalous (1: flagged), anomalous_windows (flagged so far); they need\n"
    "--anomalies. The ops_* metrics are kiln monitor ops --alerts'.\n"
    "Exit 0: no drift, no alert, no anomalous window; 1: any of them;\n"
    "2: usage (a bad alert file too); 3: the data cannot be checked (a\n"
    "batch whose columns do not match the model's input, an unreadable file).\n",
    "  kiln monitor check --model model.kiln --data week.csv\n"
    "  kiln monitor check --model model.kiln --data week.csv --reference train.csv\n"
    "  kiln monitor check --model credit@production --data week.csv --reference train.csv "
    "--json\n"
    "  kiln monitor check --model m.kiln --data stream.csv --reference train.csv --window 500\n"
    "  kiln monitor check --model m.kiln --data log.csv --reference train.csv --window 500 "
    "--anomalies\n"
    "  kiln monitor check --model credit@production --data day.csv --reference train.csv "
    "--alerts alerts.yaml --record\n",
    check_opts,
    0,
    cmd_monitor_check};

/* The artifact's model, schema and the input columns (without target and weight). */
typedef struct monitored {
    kn_artifact *art;
    kn_pipeline *p;
    const kn_model *m;
    kn_schema *schema;
    kn_col_decl *decls;
    size_t n_decls;
    double *importance; /* per decl: its share of the model's importances; NULL: none */
    kn_drift_ref *ref;  /* the artifact's drift reference, or NULL */
} monitored;

static void monitored_free(monitored *w)
{
    kn_artifact_free(w->art);
    kn_pipeline_free(w->p);
    kn_schema_free(w->schema);
    kn_free(w->decls);
    kn_free(w->importance);
    kn_drift_ref_free(w->ref);
}

/* Feature j of the model belongs to column `col` when it is named col or
 * col=VALUE (a one-hot level). */
static int feature_of(const char *feature, const char *col)
{
    size_t n = strlen(col);
    return !strncmp(feature, col, n) && (feature[n] == 0 || feature[n] == '=');
}

static kn_status load_model(const char *path, monitored *w)
{
    size_t n = strlen(path);
    if (n >= 4 && !strcmp(path + n - 4, ".kmd"))
        return kn_fail(KN_ERR_INVALID,
                       "%s is a bare model file; monitoring needs the whole pipeline with its "
                       "schema: a .kiln artifact (kiln run SPEC, or kiln train ... --out "
                       "model.kiln)",
                       path);
    kn_status e = kn_artifact_read(path, NULL, &w->art);
    if (e == KN_OK) e = kn_artifact_pipeline(w->art, &w->p);
    if (e == KN_OK) e = cli_monitor_ref_load(w->art, path, &w->ref);
    if (e != KN_OK) return e;
    w->m = kn_pipeline_model(w->p);
    const kn_steps_input *in = kn_pipeline_input(w->p);
    if (!w->m || !in)
        return kn_fail(KN_ERR_INVALID,
                       "%s holds no fitted model: monitor checks the input and predictions of "
                       "a model (train one with kiln run or kiln train --out FILE.kiln)",
                       path);
    const char *target = kn_pipeline_target(w->p), *weight = kn_pipeline_weight(w->p);
    w->decls = kn_malloc((in->n_cols + 1) * sizeof *w->decls);
    if (!w->decls) return KN_ERR_NOMEM;
    for (size_t j = 0; j < in->n_cols; j++) {
        if ((target && !strcmp(in->names[j], target)) || (weight && !strcmp(in->names[j], weight)))
            continue;
        w->decls[w->n_decls++] = (kn_col_decl){in->names[j], in->types[j]};
    }
    size_t len = 0;
    const char *text = kn_artifact_get(w->art, KN_ART_SCHEMA, &len);
    if (text) {
        char *what = kn_sprintf("%s (input schema)", path);
        e = what ? kn_schema_parse(text, len, what, &w->schema) : KN_ERR_NOMEM;
        kn_free(what);
        if (e != KN_OK) return e;
    }
    if (kn_model_has_importances(w->m)) {
        size_t p = kn_model_n_features(w->m);
        double *imp = kn_malloc((p ? p : 1) * sizeof *imp), total = 0;
        w->importance = kn_calloc(w->n_decls + 1, sizeof *w->importance);
        if (!imp || !w->importance) {
            kn_free(imp);
            return KN_ERR_NOMEM;
        }
        e = kn_model_importances(w->m, imp);
        for (size_t f = 0; e == KN_OK && f < p; f++) {
            total += imp[f];
            for (size_t j = 0; j < w->n_decls; j++)
                if (feature_of(kn_model_feature(w->m, f), w->decls[j].name)) {
                    w->importance[j] += imp[f];
                    break;
                }
        }
        for (size_t j = 0; total > 0 && j < w->n_decls; j++) w->importance[j] /= total;
        kn_free(imp);
    }
    return e;
}

/* Read path with the model's input types; rows that do not parse are set
 * aside and counted. Every input column must be there. */
static kn_status read_side(const char *path, const char *role, kn_read_opts *o, const monitored *w,
                           kn_frame **f, uint64_t *unreadable)
{
    kn_read_report rep;
    memset(&rep, 0, sizeof rep);
    o->decls = w->decls;
    o->n_decls = w->n_decls;
    o->on_bad_rows = KN_BAD_ROWS_SKIP;
    kn_status e = cli_read_frame(path, o, f, &rep);
    o->decls = NULL;
    o->n_decls = 0;
    if (e != KN_OK) return e;
    *unreadable = rep.rows_skipped + rep.rows_quarantined;
    char lacking[512] = "";
    size_t n_lack = 0, used = 0;
    for (size_t j = 0; j < w->n_decls; j++) {
        size_t at;
        if (kn_frame_find(*f, w->decls[j].name, &at) == KN_OK) continue;
        if (used < sizeof lacking - 64)
            used += (size_t)snprintf(lacking + used, sizeof lacking - used, "%s%s",
                                     n_lack ? ", " : "", w->decls[j].name);
        n_lack++;
    }
    if (n_lack)
        return kn_fail(KN_ERR_INVALID,
                       "%s (the %s) lacks %zu of the model's %zu input column%s: %s; give rows "
                       "with the columns the model was trained on",
                       path, role, n_lack, w->n_decls, w->n_decls == 1 ? "" : "s", lacking);
    if (!kn_frame_n_rows(*f))
        return kn_fail(KN_ERR_INVALID, "%s (the %s) has no rows to check", path, role);
    return KN_OK;
}

/* Rows [from, to) of the batch that break the schema: those a rule took
 * (drop, quarantine); over the whole batch, at least the largest count of
 * a row rule that takes no rows (warn, fail). */
static double invalid_rows(size_t from, size_t to, const kn_validation *v)
{
    if (!v) return 0;
    size_t taken = 0;
    for (size_t i = from; v->row_fate && i < to; i++) taken += v->row_fate[i] != 0;
    double most = (double)taken;
    if (from == 0 && to == (size_t)v->rows)
        for (size_t i = 0; i < v->n_violations; i++)
            if (v->violations[i].row_rule && (double)v->violations[i].count > most)
                most = (double)v->violations[i].count;
    return most;
}

static kn_status validate(const monitored *w, const kn_frame *f, kn_validation **v)
{
    *v = NULL;
    return w->schema ? kn_schema_validate(w->schema, f, v) : KN_OK;
}

/* The model's predictions on every row of f (new array, kn_free). */
static kn_status predict(const monitored *w, const kn_frame *f, double **y)
{
    size_t n = 0;
    return kn_pipeline_predict(w->p, f, y, &n);
}

/* A classifier's classes (k >= 2), else 0. */
static size_t classes_of(const monitored *w)
{
    size_t k = kn_model_task(w->m) == KN_TASK_CLASSIFICATION ? kn_model_n_classes(w->m) : 0;
    return k >= 2 ? k : 0;
}

/* The scores (kn_drift_class_score) of n rows of k probabilities (new
 * array, kn_free; NULL: out of memory). */
static double *scores_of(const double *proba, size_t n, size_t k)
{
    double *s = kn_malloc((n ? n : 1) * sizeof *s);
    for (size_t i = 0; s && i < n; i++) s[i] = kn_drift_class_score(proba + i * k, k);
    return s;
}

/* A classifier's scores on every row of f (*s new, kn_free; NULL for a
 * regression). */
static kn_status predict_scores(const monitored *w, const kn_frame *f, double **s)
{
    *s = NULL;
    size_t k = classes_of(w), n = 0;
    if (!k) return KN_OK;
    double *proba = NULL;
    kn_status e = kn_pipeline_predict_proba(w->p, f, &proba, &n);
    if (e == KN_OK && !(*s = scores_of(proba, n, k))) e = KN_ERR_NOMEM;
    kn_free(proba);
    return e;
}

/* The predictions to compare the batch's with: the artifact's held-out
 * predictions (rows the model did not see; its own training rows would
 * look better predicted than any new rows), else the model on ref; a
 * classifier's scores from the same rows (*s; NULL with the stored
 * reference, which keeps its own). */
static kn_status reference_predictions(const monitored *w, const kn_frame *ref, double **y,
                                       size_t *n, double **s, const char **source)
{
    size_t len = 0;
    const void *bytes = kn_artifact_get(w->art, KN_ART_HELDOUT, &len);
    *y = *s = NULL;
    *n = 0;
    if (bytes) {
        kn_heldout h;
        kn_status e = kn_heldout_decode(bytes, len, "the artifact's held-out predictions", &h);
        if (e != KN_OK) return e;
        if (h.n) {
            if (classes_of(w) && h.proba && h.k == classes_of(w) &&
                !(*s = scores_of(h.proba, h.n, h.k)))
                e = KN_ERR_NOMEM;
            *y = h.pred;
            *n = h.n;
            h.pred = NULL;
            kn_heldout_free(&h);
            *source = "held-out";
            return e;
        }
        kn_heldout_free(&h);
    }
    if (!ref) { /* the artifact's reference: its stored predictions */
        *source = "stored reference";
        return KN_OK;
    }
    *source = "reference";
    *n = kn_frame_n_rows(ref);
    kn_status e = predict(w, ref, y);
    return e == KN_OK ? predict_scores(w, ref, s) : e;
}

/* Whether the batch's scores have a reference: held-out or file scores
 * (sr), else the stored reference's "(score)" column. */
static long stored_scores(const monitored *w)
{
    long j = w->ref ? kn_drift_ref_find(w->ref, KN_DRIFT_SCORE_NAME, KN_DRIFT_REF_PREDICTION) : -1;
    return j >= 0 && !kn_drift_ref_text(w->ref, (size_t)j) ? j : -1;
}

static kn_status prediction_drift(const monitored *w, const double *yr, size_t nr,
                                  const kn_drift_numref *y_nr, const double *yc, size_t nc,
                                  const kn_drift_opts *o, kn_drift_col *out, int *tested)
{
    if (kn_model_task(w->m) != KN_TASK_CLASSIFICATION) /* as kiln serve tests them */
        return kn_drift_numbers_vs("(prediction)", y_nr, yc, nc, o, out, tested);
    size_t k = kn_model_n_classes(w->m);
    double *r = kn_calloc(k + 1, sizeof *r), *c = kn_calloc(k + 1, sizeof *c);
    kn_status e = r && c ? KN_OK : KN_ERR_NOMEM;
    for (size_t i = 0; e == KN_OK && i < nr; i++)
        if (yr[i] >= 0 && yr[i] < (double)k) r[(size_t)yr[i]]++;
    for (size_t i = 0; e == KN_OK && i < nc; i++)
        if (yc[i] >= 0 && yc[i] < (double)k) c[(size_t)yc[i]]++;
    if (e == KN_OK) e = kn_drift_counts("(prediction)", r, c, k, o, out);
    *tested = e == KN_OK;
    kn_free(r), kn_free(c);
    return e;
}

static int by_drift(const void *x, const void *y)
{
    const kn_drift_col *a = x, *b = y;
    if (a->drifted != b->drifted) return b->drifted - a->drifted;
    double ea = isnan(a->score) ? 0 : a->score, eb = isnan(b->score) ? 0 : b->score;
    return (ea < eb) - (ea > eb);
}

/* One check of rows [from, to) of the batch. */
typedef struct check_result {
    size_t from, to;
    kn_drift_report cols;
    kn_drift_col pred;
    int pred_tested;
    kn_drift_col score; /* a classifier's scores (kn_drift_class_score) */
    int score_tested;
    double invalid; /* rows */
    int drifted;
} check_result;

static void check_result_free(check_result *c)
{
    kn_drift_report_free(&c->cols);
    kn_drift_col_free(&c->pred);
    kn_drift_col_free(&c->score);
}

static double importance_of(const monitored *w, const char *name)
{
    for (size_t j = 0; w->importance && j < w->n_decls; j++)
        if (!strcmp(w->decls[j].name, name)) return w->importance[j];
    return NAN;
}

static json_t *col_json(const monitored *w, const kn_drift_col *c)
{
    json_t *unseen = json_array();
    for (size_t i = 0; i < c->unseen && i < KN_DRIFT_UNSEEN_SHOWN; i++)
        json_array_append_new(unseen, json_string(c->unseen_values[i]));
    json_t *j = json_pack(
        "{s:s, s:s, s:b, s:o, s:I, s:I, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o, "
        "s:o, s:o, s:I, s:o, s:o, s:o}",
        "column", c->name, "kind", c->categorical ? "categorical" : "numeric", "drifted",
        c->drifted, "why", c->why ? json_string(c->why) : json_null(), "n_reference",
        (json_int_t)c->n_ref, "n", (json_int_t)c->n_cur, "psi", cli_json_num(c->psi),
        "psi_threshold", cli_json_num(c->psi_threshold), "ks_d", cli_json_num(c->ks_d), "ks_p",
        cli_json_num(c->ks_p), "wasserstein", cli_json_num(c->wasserstein), "chi2",
        cli_json_num(c->chi2), "chi2_p", cli_json_num(c->chi2_p), "js", cli_json_num(c->js), "p",
        cli_json_num(c->p), "p_adjusted", cli_json_num(c->p_adjusted), "missing_reference",
        cli_json_num(c->missing_ref), "missing", cli_json_num(c->missing_cur), "unseen_values",
        unseen, "unseen", (json_int_t)c->unseen, "unseen_share", cli_json_num(c->unseen_frac),
        "score", cli_json_num(c->score), "importance",
        cli_json_num(w ? importance_of(w, c->name) : NAN));
    return j;
}

static json_t *result_json(const monitored *w, const check_result *r, int with_cols)
{
    json_t *cols = json_array(), *drifted = json_array();
    for (size_t i = 0; i < r->cols.n_cols; i++) {
        if (with_cols) json_array_append_new(cols, col_json(w, &r->cols.cols[i]));
        if (r->cols.cols[i].drifted)
            json_array_append_new(drifted, json_string(r->cols.cols[i].name));
    }
    size_t n = r->to - r->from;
    json_t *j = json_pack(
        "{s:I, s:I, s:b, s:I, s:I, s:o, s:o, s:f, s:I, s:o}", "from", (json_int_t)r->from, "rows",
        (json_int_t)n, "drift", r->drifted, "columns_checked", (json_int_t)r->cols.n_cols,
        "columns_drifted", (json_int_t)r->cols.n_drifted, "drifted", drifted, "prediction",
        r->pred_tested ? col_json(NULL, &r->pred) : json_null(), "invalid_share",
        n ? r->invalid / (double)n : 0.0, "invalid_rows", (json_int_t)r->invalid, "columns", cols);
    json_object_set_new(j, "score", r->score_tested ? col_json(NULL, &r->score) : json_null());
    return j;
}

static void print_result(const monitored *w, const check_result *r, const char *pred_source,
                         double alpha)
{
    size_t small = 0; /* rows whose adjusted p passes but whose PSI is under its threshold */
    size_t n = r->to - r->from;
    int pred_drifted = (r->pred_tested && r->pred.drifted) || (r->score_tested && r->score.drifted);
    char classes[64] = "";
    if (r->score_tested)
        snprintf(classes, sizeof classes, " (classes %s, scores %s)",
                 !r->pred_tested   ? "not compared"
                 : r->pred.drifted ? "drifted"
                                   : "stable",
                 r->score.drifted ? "drifted" : "stable");
    printf("%s: %zu of %zu columns drifted; predictions %s%s; %.2f%% of rows break the input "
           "schema\n",
           r->drifted ? "DRIFT" : "no drift", r->cols.n_drifted, r->cols.n_cols,
           !r->pred_tested && !r->score_tested ? "not compared"
           : pred_drifted                      ? "drifted"
                                               : "stable",
           classes, n ? 100 * r->invalid / (double)n : 0.0);
    printf("%-26s %-4s %8s %8s %9s %9s %9s %8s %8s %10s  %s\n", "column", "kind", "PSI", "PSI max",
           "D or JS", "p", "p adj.", "missing", "was", "importance", "");
    /* the inputs, ranked; then the predictions (classes or values) and the scores */
    for (size_t i = 0; i <= r->cols.n_cols + 1; i++) {
        const kn_drift_col *c = i < r->cols.n_cols    ? &r->cols.cols[i]
                                : i == r->cols.n_cols ? &r->pred
                                                      : &r->score;
        if (i == r->cols.n_cols && !r->pred_tested) continue;
        if (i > r->cols.n_cols && !r->score_tested) break;
        double imp = i < r->cols.n_cols ? importance_of(w, c->name) : NAN;
        char impt[32] = "?";
        if (!isnan(imp)) snprintf(impt, sizeof impt, "%.3f", imp);
        if (i >= r->cols.n_cols) snprintf(impt, sizeof impt, "-");
        printf("%-26s %-4s %8.4f %8.4f %9.4f %9.3g %9.3g %7.1f%% %7.1f%% %10s  %s", c->name,
               c->categorical ? "cat" : "num", c->psi, c->psi_threshold,
               c->categorical ? c->js : c->ks_d, c->p, c->p_adjusted, 100 * c->missing_cur,
               100 * c->missing_ref, impt, c->why ? c->why : "");
        int said = c->why != NULL;
        if (!c->drifted && c->p_adjusted < alpha && !(c->psi > c->psi_threshold)) {
            printf("%sPSI small", said ? ", " : "");
            small++, said = 1;
        }
        if (c->unseen) {
            printf("%s%zu unseen:", said ? ", " : "", c->unseen);
            for (size_t k = 0; k < c->unseen && k < 3; k++) printf(" %s", c->unseen_values[k]);
        }
        putchar('\n');
    }
    if (r->pred_tested)
        printf("(prediction: the batch's against the %s predictions, %zu rows)\n", pred_source,
               r->pred.n_ref);
    if (r->score_tested)
        printf("(score: the %s, against the %s predictions' (numeric tests); with the "
               "prediction, one Benjamini-Hochberg family apart from the inputs)\n",
               classes_of(w) == 2 ? "positive class's probability" : "top class's probability",
               pred_source);
    if (!w->importance) printf("(the model has no importances: '?' above)\n");
    if (small)
        printf("(PSI small: the adjusted p is under --alpha %g, but the PSI is not over its "
               "threshold ('PSI max'): a difference too small to matter, not drift)\n",
               alpha);
}

/* part without the model's inputs that the artifact's reference leaves
 * out (ignored in training: the model never reads them, and an id column
 * drifts in every batch), so --reference FILE tests what the stored
 * reference would; part itself when there are none (*out NULL). */
static kn_status without_unread(const monitored *w, const kn_frame *part, kn_frame **out)
{
    *out = NULL;
    if (!w->ref) return KN_OK;
    size_t n = kn_frame_n_cols(part), k = 0, *keep = kn_malloc((n ? n : 1) * sizeof *keep);
    if (!keep) return KN_ERR_NOMEM;
    for (size_t j = 0; j < n; j++) {
        const char *name = kn_column_name(kn_frame_col(part, j));
        int input = 0;
        for (size_t d = 0; d < w->n_decls && !input; d++) input = !strcmp(w->decls[d].name, name);
        if (!input || kn_drift_ref_find(w->ref, name, KN_DRIFT_REF_INPUT) >= 0) keep[k++] = j;
    }
    kn_status e = k < n ? kn_frame_select_cols(part, keep, k, out) : KN_OK;
    kn_free(keep);
    return e;
}

/* Check rows [from, to) of cur against ref. */
static kn_status check_rows(const monitored *w, const kn_frame *ref, const kn_frame *cur,
                            size_t from, size_t to, const double *yr, size_t n_yr,
                            const kn_drift_numref *y_nr, const double *yc,
                            const kn_drift_numref *s_nr, const double *sc, const kn_validation *v,
                            double unreadable, const kn_drift_opts *o, double max_invalid,
                            check_result *r)
{
    memset(r, 0, sizeof *r);
    r->from = from;
    r->to = to;
    size_t n = to - from, *rows = kn_malloc((n ? n : 1) * sizeof *rows);
    kn_frame *part = NULL;
    if (!rows) return KN_ERR_NOMEM;
    for (size_t i = 0; i < n; i++) rows[i] = from + i;
    kn_status e = kn_frame_select_rows(cur, rows, n, &part);
    kn_free(rows);
    kn_frame *read = NULL;
    if (e == KN_OK && ref) e = without_unread(w, part, &read);
    if (e == KN_OK)
        e = ref ? kn_drift_frames(ref, read ? read : part, o, &r->cols)
                : kn_drift_ref_frames(w->ref, part, o, &r->cols);
    kn_frame_free(read);
    kn_frame_free(part);
    if (e == KN_OK && !yr)
        e = cli_monitor_ref_predictions(w->ref, w->m, yc + from, n, o, &r->pred, &r->pred_tested);
    else if (e == KN_OK)
        e = prediction_drift(w, yr, n_yr, y_nr, yc + from, n, o, &r->pred, &r->pred_tested);
    /* a classifier's scores: against the held-out or file rows' (sr), else the stored ones */
    long sj = stored_scores(w);
    if (e == KN_OK && sc && s_nr) /* sorted and indexed once, as kiln serve does */
        e = kn_drift_numbers_vs(KN_DRIFT_SCORE_NAME, s_nr, sc + from, n, o, &r->score,
                                &r->score_tested);
    else if (e == KN_OK && sc && !yr && sj >= 0)
        e = kn_drift_ref_numbers(w->ref, (size_t)sj, sc + from, n, o, &r->score, &r->score_tested);
    if (e == KN_OK)
        e = kn_drift_decide_predictions(&r->pred, r->pred_tested, &r->score, r->score_tested, o);
    if (e == KN_OK) r->invalid = invalid_rows(from, to, v);
    r->invalid += unreadable;
    r->drifted = r->cols.n_drifted > 0 || (r->pred_tested && r->pred.drifted) ||
                 (r->score_tested && r->score.drifted) ||
                 (n && r->invalid / (double)(n + unreadable) > max_invalid);
    if (e == KN_OK) qsort(r->cols.cols, r->cols.n_cols, sizeof *r->cols.cols, by_drift);
    return e;
}

/* What window [from, to) measured, for the alert rules: its drift and,
 * with an (--anomalies), its anomalous rows (*anom: their new JSON;
 * *n_anomalous counts the flagged windows so far). */
static void check_inputs(const check_result *r, size_t n, const cli_anomalies *an, size_t from,
                         size_t to, size_t *n_anomalous, kn_alert_inputs *in, json_t **anom)
{
    kn_alert_inputs_init(in);
    in->cols = &r->cols;
    in->pred = r->pred_tested ? &r->pred : NULL;
    in->score = r->score_tested ? &r->score : NULL;
    in->invalid_share = n ? r->invalid / (double)n : 0;
    *anom = NULL;
    if (!an) return;
    int flagged = 0;
    *anom = cli_anomalies_window(an, from, to, &flagged);
    *n_anomalous += (size_t)flagged;
    in->anomaly_share = json_real_value(json_object_get(*anom, "share"));
    in->anomaly_p = json_real_value(json_object_get(*anom, "p"));
    in->anomalous = flagged;
    in->anomalous_windows = (double)*n_anomalous;
}

static int cmd_monitor_check(int argc, char **argv)
{
    check_args a = {0};
    int rc = cli_parse(&check_spec, argc, argv, &a, NULL);
    if (rc) return rc < 0 ? CLI_OK : rc;
    cli_store_dir = a.store;
    monitored w = {0};
    kn_frame *ref = NULL, *cur = NULL;
    kn_validation *v = NULL;
    double *yr = NULL, *yc = NULL, *sr = NULL, *sc = NULL;
    size_t n_yr = 0;
    kn_drift_numref *y_nr = NULL, *s_nr = NULL; /* yr (a regressor's) and sr, prepared once */
    const char *pred_source = NULL;
    char *path = NULL;
    uint64_t bad_ref = 0, bad_cur = 0;
    kn_drift_opts o;
    kn_drift_opts_default(&o);
    o.alpha = a.alpha;
    o.min_psi = a.min_psi;
    o.missing_change = a.missing_change;
    o.unseen_share = a.unseen_share;
    /* against the artifact's reference, kiln serve's windows' KS p-value (exact up to
     * 200,000 cells): the same rows give the same figures in both; a file: scipy's rule */
    if (!a.reference) o.ks_exact_cells = KN_DRIFT_WINDOW_EXACT_CELLS;
    kn_read_opts ro = a.read;
    cli_alerting *al = NULL;
    cli_anomalies *an = NULL;
    size_t n_anomalous = 0;
    int64_t window = a.window;
    if ((rc = cli_alerts_open("monitor check", a.alerts, a.record, a.model, &window, &al)) ||
        (rc = cli_alerts_check_sources(al, a.anomalies))) {
        cli_alerts_close(al);
        return rc;
    }
    kn_status e = cli_resolve_model(a.model, &path);
    if (e == KN_OK) e = load_model(path, &w);
    /* the files are read as the training data was (the artifact's reader settings) */
    if (e == KN_OK) e = cli_read_as_trained("monitor check", w.art, NULL, &ro);
    if (e == KN_OK) {
        const char **names = kn_malloc((w.n_decls + 1) * sizeof *names);
        for (size_t j = 0; names && j < w.n_decls; j++) names[j] = w.decls[j].name;
        rc = names ? cli_alerts_check_columns(al, names, w.n_decls) : CLI_ERROR;
        kn_free(names);
        if (rc) goto done;
    }
    if (e == KN_OK && !a.reference && !w.ref) {
        cli_error("monitor check: %s holds no drift reference (it was written before artifacts "
                  "kept one): pass --reference FILE, the rows the model was trained on, or "
                  "rebuild it with kiln run / kiln train --out",
                  path);
        rc = CLI_USAGE;
        goto done;
    }
    if (e == KN_OK && a.anomalies && !a.reference) {
        /* the stored reference keeps each column's values apart: the forest needs whole rows */
        cli_error("monitor check: --anomalies needs --reference FILE, the rows the model was "
                  "trained on (the isolation forest is fitted on whole rows; the drift "
                  "reference in %s keeps each column's values apart, and this check's binomial "
                  "test takes the reference's share as exact: the artifact's sample of at most "
                  "1,000 training rows serves 'kiln monitor anomalies --log', which allows for it)",
                  path);
        rc = CLI_USAGE;
        goto done;
    }
    if (e == KN_OK && a.reference) e = read_side(a.reference, "reference", &ro, &w, &ref, &bad_ref);
    if (e == KN_OK) e = read_side(a.data, "batch", &ro, &w, &cur, &bad_cur);
    if (e == KN_OK) e = validate(&w, cur, &v);
    if (e == KN_OK) e = reference_predictions(&w, ref, &yr, &n_yr, &sr, &pred_source);
    if (e == KN_OK) e = predict(&w, cur, &yc);
    if (e == KN_OK) e = predict_scores(&w, cur, &sc);
    int no_scores = e == KN_OK && sc && !sr && (yr || stored_scores(&w) < 0);
    if (no_scores) /* said once, not per window */
        fprintf(stderr,
                "monitor check: note: %s keeps no reference scores (written before kiln kept "
                "them): the predicted classes alone are tested; rebuild it (kiln run, kiln "
                "train --out) to test the scores too\n",
                path);
    if (e != KN_OK) {
        cli_error("monitor check: %s", kn_last_error());
        rc = CLI_ERROR;
        goto done;
    }
    {
        /* only the model's input columns are compared */
        for (size_t j = ref ? kn_frame_n_cols(ref) : 0; j-- > 0;) {
            const char *name = kn_column_name(kn_frame_col(ref, j));
            size_t k = 0;
            while (k < w.n_decls && strcmp(w.decls[k].name, name)) k++;
            if (k == w.n_decls && (e = kn_frame_remove_column(ref, j)) != KN_OK) break;
        }
        size_t n = kn_frame_n_rows(cur), win = window ? (size_t)window : n;
        size_t n_win = (n + win - 1) / win, n_drifted = 0, first = 0, n_alerting = 0;
        if (e == KN_OK && a.anomalies) { /* the inputs the model reads (as drift, above) */
            kn_col_decl *read = kn_malloc((w.n_decls ? w.n_decls : 1) * sizeof *read);
            size_t n_read = 0;
            for (size_t d = 0; read && d < w.n_decls; d++)
                if (!w.ref || kn_drift_ref_find(w.ref, w.decls[d].name, KN_DRIFT_REF_INPUT) >= 0)
                    read[n_read++] = w.decls[d];
            e = read ? cli_anomalies_new(ref, cur, read, n_read, a.contamination, a.anomaly_seed,
                                         a.alpha, n_win, &an)
                     : KN_ERR_NOMEM;
            kn_free(read);
        }
        if (e == KN_OK && yr && kn_model_task(w.m) != KN_TASK_CLASSIFICATION)
            e = kn_drift_numref_new(yr, n_yr, &o, &y_nr);
        if (e == KN_OK && sr) e = kn_drift_numref_new(sr, n_yr, &o, &s_nr);
        json_t *wins = cli.json ? json_array() : NULL;
        for (size_t k = 0; e == KN_OK && k < n_win; k++) {
            check_result r;
            size_t from = k * win, to = from + win < n ? from + win : n;
            e = check_rows(&w, ref, cur, from, to, yr, n_yr, y_nr, yc, s_nr, sc, v,
                           window ? 0 : (double)bad_cur, &o, a.max_invalid, &r);
            if (e != KN_OK) break;
            if (r.drifted && !n_drifted++) first = k + 1;
            json_t *res = result_json(&w, &r, !window || a.record), *alerts = NULL, *anom = NULL;
            int alerting = 0;
            kn_alert_inputs in;
            check_inputs(&r, to - from, an, from, to, &n_anomalous, &in, &anom);
            if (anom) json_object_set(res, "anomalies", anom);
            e = cli_alerts_window(al, k + 1, a.data, window ? (uint64_t)window : 0, to - from,
                                  r.drifted, res, &in, NULL, &alerts, &alerting);
            n_alerting += (size_t)alerting;
            if (window && !a.record) json_object_del(res, "columns");
            json_object_set_new(res, "alerts", alerts ? alerts : json_array());
            if (e != KN_OK) {
                json_decref(res);
                json_decref(anom);
                check_result_free(&r);
                break;
            }
            if (wins)
                json_array_append_new(wins, res);
            else if (!window) {
                print_result(&w, &r, pred_source, a.alpha);
                if (anom) printf("rows:"), cli_anomalies_print(anom), putchar('\n');
            } else {
                printf("window %zu (rows %zu-%zu): %s", k + 1, from + 1, to,
                       r.drifted ? "DRIFT" : "no drift");
                for (size_t i = 0; i < r.cols.n_cols; i++)
                    if (r.cols.cols[i].drifted)
                        printf(" %s (%s)", r.cols.cols[i].name, r.cols.cols[i].why);
                if (r.pred_tested && r.pred.drifted) printf(" (prediction)");
                if (r.score_tested && r.score.drifted) printf(" " KN_DRIFT_SCORE_NAME);
                if (anom) putchar(';'), cli_anomalies_print(anom);
                putchar('\n');
            }
            json_decref(anom);
            if (!wins) json_decref(res);
            check_result_free(&r);
        }
        if (e != KN_OK) {
            json_decref(wins);
            cli_error("monitor check: %s", kn_last_error());
            rc = CLI_ERROR;
            goto done;
        }
        if (wins) {
            json_t *j =
                json_pack("{s:s, s:s, s:s, s:s?, s:I, s:I, s:I, s:I, s:I}", "command",
                          "monitor check", "model", a.model, "data", a.data, "reference",
                          a.reference, "rows", (json_int_t)n, "unreadable_rows",
                          (json_int_t)bad_cur, "windows", (json_int_t)n_win, "windows_drifted",
                          (json_int_t)n_drifted, "first_drifted_window", (json_int_t)first);
            json_object_set_new(j, "reference_source",
                                json_string(a.reference ? "file" : "artifact"));
            json_object_set_new(j, "reference_predictions", json_string(pred_source));
            json_object_set_new(j, "reference_scores", json_boolean(sc && !no_scores));
            json_object_set_new(j, "windows_alerting", json_integer((json_int_t)n_alerting));
            if (window)
                json_object_set_new(j, "window_results", wins);
            else {
                json_object_update(j, json_array_get(wins, 0));
                json_decref(wins);
            }
            json_object_set_new(j, "importances", json_boolean(w.importance != NULL));
            if (an) {
                json_object_set_new(j, "anomaly_model", cli_anomalies_json(an));
                json_object_set_new(j, "windows_anomalous", json_integer((json_int_t)n_anomalous));
            }
            if (cli_emit_json(j) != CLI_OK) rc = CLI_ERROR;
        } else if (window)
            printf(n_drifted ? "%zu of %zu windows of %zu rows drifted (first: %zu)\n"
                             : "%zu of %zu windows of %zu rows drifted\n",
                   n_drifted, n_win, win, first);
        if (!wins && n_alerting)
            printf("%zu window%s with an open alert\n", n_alerting, n_alerting == 1 ? "" : "s");
        if (!wins && an && window)
            printf("%zu of %zu windows with anomalous rows well over the reference's share\n",
                   n_anomalous, n_win);
        if (rc == CLI_OK && (n_drifted || n_alerting || n_anomalous)) rc = CLI_FAIL;
    }
done:
    cli_anomalies_free(an);
    cli_alerts_close(al);
    kn_validation_free(v);
    kn_free(yr), kn_free(yc), kn_free(sr), kn_free(sc), kn_free(path);
    kn_drift_numref_free(y_nr), kn_drift_numref_free(s_nr);
    kn_frame_free(ref), kn_frame_free(cur);
    monitored_free(&w);
    return rc;
}

/* ---- kiln monitor ---- */

static const cli_spec *const subs[] = {
    &check_spec,           &monitor_feedback_spec, &monitor_alerts_spec,   &monitor_report_spec,
    &monitor_retrain_spec, &monitor_ops_spec,      &monitor_anomalies_spec};

typedef struct monitor_args {
    const char *sub;
} monitor_args;
static const cli_opt monitor_opts[] = {
    CLI_OPT_ARG(monitor_args, sub, "check|feedback|alerts|report|retrain|ops|anomalies", 1,
                "the subcommand"),
    CLI_OPT_END};

const cli_spec monitor_spec = {
    "monitor",
    "watch a model in production: drift, live score, alerts",
    "  kiln monitor check --model M --data NEW [--reference TRAIN] drift of a batch\n"
    "  kiln monitor feedback --log LOG --labels LABELS --model M   the live score\n"
    "  kiln monitor alerts                                         the alert incidents\n"
    "  kiln monitor report --model M --out monitor.html            drift and alerts (HTML)\n"
    "  kiln monitor retrain --model NAME --spec S --holdout H      retrain, promote if better\n"
    "  kiln monitor ops --log access.jsonl --interval 60           request, error, latency "
    "anomalies\n"
    "  kiln monitor anomalies --log predictions.jsonl --model M   input anomalies of served "
    "rows\n"
    "'kiln monitor SUB --help' explains each.\n",
    "  kiln monitor check --model credit@production --data week.csv\n",
    monitor_opts,
    0,
    cmd_monitor};

int cmd_monitor(int argc, char **argv)
{
    return cli_subcommand(&monitor_spec, subs, sizeof subs / sizeof *subs, argc, argv);
}
