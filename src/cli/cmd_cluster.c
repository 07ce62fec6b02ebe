/* kiln cluster --data FILE --out LABELS: fits k-means without a target and
 * writes each row's cluster; prints the inertia and silhouette score. */
#include "cli/cli.h"
#include "kiln/cluster.h"
#include "kiln/io.h"
#include "kiln/mem.h"
#include "kiln/model.h"
#include "kiln/stage.h"

#include <math.h>
#include <string.h>

typedef struct cluster_args {
    const char *data, *out, *save, *ignore, *labels, *algorithm;
    cli_list params;
    kn_read_opts read;
} cluster_args;

static const cli_opt cluster_opts[] = {
    CLI_OPT_NEED(cluster_args, data, "data", "FILE", "the rows to cluster"),
    CLI_OPT_NEED(cluster_args, out, "out", "CLUSTERS.csv",
                 "where each row's cluster goes (column cluster; - for standard output)"),
    CLI_OPT_TEXT(cluster_args, save, "save", "MODEL.kmd",
                 "also save the fitted model ('kiln predict' gives new rows' clusters)"),
    CLI_OPT_CHOICE(cluster_args, algorithm, "algorithm", "lloyd|minibatch",
                   "lloyd (default): full passes; minibatch: steps over random batches of "
                   "batch_size rows, faster on many rows (same as --param algorithm=...)"),
    CLI_OPT_LIST(cluster_args, params, "param", "NAME=VALUE",
                 "a parameter of kmeans, e.g. n_clusters=5 ('kiln help model kmeans')"),
    CLI_OPT_TEXT(cluster_args, ignore, "ignore", "COLUMNS",
                 "columns that are not features (a,b), e.g. an id"),
    CLI_OPT_TEXT(cluster_args, labels, "labels", "COLUMN",
                 "known groups (a class column): left out of the features; the clusters' "
                 "agreement with them is printed (adjusted Rand index, NMI)"),
    CLI_OPT_READ(cluster_args, read),
    CLI_OPT_END};

const cli_spec cluster_spec = {
    "cluster",
    "group rows with k-means (no target)",
    "Fit k-means (model kmeans: k-means++ seeding, Lloyd iterations or, with\n"
    "--algorithm minibatch, scikit-learn's MiniBatchKMeans steps; the best of\n"
    "n_init runs by inertia) on the numeric columns of FILE, without a target, and\n"
    "write each row's cluster (0 .. n_clusters-1) to --out. Prints the inertia\n"
    "(sum of squared distances to the nearest centre) and the silhouette score\n"
    "(scikit-learn's silhouette_score, computed when the rows are at most\n"
    "silhouette_rows). --labels COLUMN leaves a class column out of the features\n"
    "and prints how well the clusters agree with it (adjusted Rand index and\n"
    "normalised mutual information, as scikit-learn's); --ignore a,b leaves other\n"
    "columns (an id) out. Text columns must be encoded or ignored, missing values\n"
    "imputed, and features on different scales standardised first ('kiln prep').\n"
    "--save keeps the model for 'kiln predict'. Same data, parameters and seed\n"
    "give the same clusters on any thread count.\n"
    "\n" CLI_LABEL_LIKE_HELP,
    "  kiln cluster --data wine.csv --labels class --param n_clusters=3 --out clusters.csv\n"
    "  kiln cluster --data big.csv --algorithm minibatch --param n_clusters=50 \\\n"
    "      --param batch_size=2048 --out clusters.csv\n",
    cluster_opts,
    0,
    cmd_cluster};

int cmd_cluster(int argc, char **argv)
{
    cluster_args a = {0};
    int rc = cli_parse(&cluster_spec, argc, argv, &a, NULL);
    if (rc) return rc < 0 ? CLI_OK : rc;
    const char *outs[2] = {a.out, a.save};
    if (cli_refuse_overwrite("cluster", outs, a.save ? 2 : 1, &a.data, 1, -1) != CLI_OK)
        return CLI_USAGE;
    kn_model *m = NULL;
    if ((rc = cli_unsupervised_model("kmeans", &a.params, 0, &m)) != CLI_OK) return rc;
    char alg[64];
    snprintf(alg, sizeof alg, "algorithm=%s", a.algorithm ? a.algorithm : "lloyd");
    if (a.algorithm && kn_model_set(m, alg) != KN_OK) {
        cli_error("--algorithm %s: %s", a.algorithm, kn_last_error());
        kn_model_free(m);
        return CLI_USAGE;
    }
    kn_read_opts o = a.read;
    kn_frame *f = NULL, *res = NULL;
    double *label = NULL;
    size_t n = 0;
    kn_fit_summary fs = {0};
    kn_column *c = NULL;
    kn_cluster_scores agree = {0};
    kn_status e = cli_unsupervised_fit(m, a.data, &o, a.ignore, a.labels, &f);
    if (e == KN_OK) e = kn_model_predict(m, f, &label, &n);
    if (e == KN_OK) e = kn_model_summary(m, &fs); /* inertia, silhouette, iterations */
    /* the known groups: silhouette_rows 0, the summary has it already */
    if (e == KN_OK && a.labels) e = kn_cluster_score(m, f, a.labels, 0, &agree);
    if (e == KN_OK) e = kn_frame_new(&res);
    if (e == KN_OK) e = kn_frame_add_column(res, "cluster", KN_COL_NUMERIC, &c);
    if (e == KN_OK) e = kn_frame_resize(res, n);
    for (size_t i = 0; e == KN_OK && i < n; i++) kn_column_f64(c)[i] = label[i];
    if (e == KN_OK) e = kn_frame_write(res, a.out, !strcmp(a.out, "-") ? "csv" : NULL);
    if (e == KN_OK && a.save) e = cli_model_keep_read(m, &o, f); /* predict, eval replay them */
    if (e == KN_OK && a.save) e = kn_model_save(m, a.save);
    if (e != KN_OK) {
        cli_error("cluster: %s", kn_last_error());
        rc = CLI_FAIL;
    } else if (cli.json) {
        json_t *j = json_pack(
            "{s:s, s:s, s:s, s:I, s:I, s:I, s:o, s:o, s:I}", "command", "cluster", "input", a.data,
            "output", a.out, "rows", (json_int_t)n, "features", (json_int_t)kn_model_n_features(m),
            "clusters", (json_int_t)fs.stat[3], "inertia", cli_json_num(fs.stat[0]), "silhouette",
            cli_json_num(fs.stat[1]), "iterations", (json_int_t)fs.stat[2]);
        if (a.save) json_object_set_new(j, "model_file", json_string(a.save));
        if (a.labels) {
            json_object_set_new(j, "labels", json_string(a.labels));
            json_object_set_new(j, "groups", json_integer((json_int_t)agree.groups));
            json_object_set_new(j, "adjusted_rand", cli_json_num(agree.adjusted_rand));
            json_object_set_new(j, "normalized_mutual_info", cli_json_num(agree.nmi));
        }
        json_object_set_new(j, "stages", cli_stages_json());
        rc = cli_emit_json(j);
    } else if (!cli.quiet) {
        int mb = a.algorithm && !strcmp(a.algorithm, "minibatch");
        /* --out -: the clusters hold standard output, the summary goes beside */
        FILE *to = strcmp(a.out, "-") ? stdout : stderr;
        fprintf(to,
                "k-means%s: %zu rows x %zu features into %.0f clusters; inertia %.10g "
                "(%.0f %s)\n",
                mb ? " (mini-batch)" : "", n, kn_model_n_features(m), fs.stat[3], fs.stat[0],
                fs.stat[2], mb ? "steps" : "iterations");
        if (!isnan(fs.stat[1])) fprintf(to, "silhouette score %.12f\n", fs.stat[1]);
        if (a.labels)
            fprintf(to,
                    "against column %s (%zu groups): adjusted_rand %.12f, "
                    "normalized_mutual_info %.12f\n",
                    a.labels, agree.groups, agree.adjusted_rand, agree.nmi);
    }
    kn_free(label);
    kn_frame_free(res);
    kn_frame_free(f);
    kn_model_free(m);
    return rc;
}
