/* kiln anomaly --data FILE --out SCORES: fits an isolation forest without
 * a target and writes each row's anomaly score and label. */
#include "cli/cli.h"
#include "kiln/io.h"
#include "kiln/mem.h"
#include "kiln/model.h"
#include "kiln/stage.h"

#include <string.h>

typedef struct anomaly_args {
    const char *data, *out, *save, *ignore;
    cli_list params;
    kn_read_opts read;
} anomaly_args;

static const cli_opt anomaly_opts[] = {
    CLI_OPT_NEED(anomaly_args, data, "data", "FILE", "the rows to fit on and score"),
    CLI_OPT_NEED(anomaly_args, out, "out", "SCORES.csv",
                 "where the scores go (columns score and anomaly; - for standard output)"),
    CLI_OPT_TEXT(anomaly_args, save, "save", "MODEL.kmd",
                 "also save the fitted model ('kiln predict' scores new rows with it)"),
    CLI_OPT_LIST(anomaly_args, params, "param", "NAME=VALUE",
                 "a parameter of isolation_forest ('kiln help model isolation_forest')"),
    CLI_OPT_TEXT(anomaly_args, ignore, "ignore", "COLUMNS",
                 "columns that are not features (a,b), e.g. a label"),
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
    "the F quantile of the scores. --ignore a,b leaves columns (a label, an id)\n"
    "out of the features; text columns must be encoded or ignored, and missing\n"
    "values imputed first ('kiln prep'). --save keeps the model: 'kiln predict\n"
    "--model M.kmd' then writes new rows' scores (or their labels with\n"
    "--param predict_output=label at fit time). Same data, parameters and seed\n"
    "give the same scores on any thread count.\n",
    "  kiln anomaly --data transactions.csv --ignore fraud --out scores.csv\n"
    "  kiln anomaly --data d.csv --param contamination=0.02 --param n_estimators=200 \\\n"
    "      --save forest.kmd --out scores.csv\n",
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

int cmd_anomaly(int argc, char **argv)
{
    anomaly_args a = {0};
    int rc = cli_parse(&anomaly_spec, argc, argv, &a, NULL);
    if (rc) return rc < 0 ? CLI_OK : rc;
    const char *outs[2] = {a.out, a.save};
    if (cli_refuse_overwrite("anomaly", outs, a.save ? 2 : 1, &a.data, 1, -1) != CLI_OK)
        return CLI_USAGE;
    kn_model *m = NULL;
    if ((rc = cli_unsupervised_model("isolation_forest", &a.params, 1, &m)) != CLI_OK) return rc;
    kn_read_opts o = a.read;
    kn_frame *f = NULL;
    double *score = NULL;
    size_t n = 0, flagged = 0;
    kn_status e = cli_unsupervised_fit(m, a.data, &o, a.ignore, &f);
    kn_stage_begin("score");
    if (e == KN_OK) e = kn_model_set(m, "predict_output=score");
    if (e == KN_OK) e = kn_model_predict(m, f, &score, &n);
    kn_stage_end();
    if (e == KN_OK) e = write_scores(m, score, n, a.out, &flagged);
    for (size_t k = 0; e == KN_OK && a.save && k < a.params.n; k++) /* keep the user's output */
        if (!strncmp(a.params.v[k], "predict_output=", 15)) e = kn_model_set(m, a.params.v[k]);
    if (e == KN_OK && a.save) e = kn_model_save(m, a.save);
    if (e != KN_OK) {
        cli_error("anomaly: %s", kn_last_error());
        rc = CLI_FAIL;
    } else if (cli.json) {
        json_t *j = json_pack("{s:s, s:s, s:s, s:I, s:I, s:I}", "command", "anomaly", "input",
                              a.data, "output", a.out, "rows", (json_int_t)n, "features",
                              (json_int_t)kn_model_n_features(m), "anomalies", (json_int_t)flagged);
        if (a.save) json_object_set_new(j, "model_file", json_string(a.save));
        json_object_set_new(j, "stages", cli_stages_json());
        rc = cli_emit_json(j);
    } else if (!cli.quiet) {
        fprintf(stderr, "scored %zu rows on %zu features: %zu flagged as anomalies; wrote %s%s%s\n",
                n, kn_model_n_features(m), flagged, strcmp(a.out, "-") ? a.out : "standard output",
                a.save ? " and the model to " : "", a.save ? a.save : "");
    }
    kn_free(score);
    kn_frame_free(f);
    kn_model_free(m);
    return rc;
}
