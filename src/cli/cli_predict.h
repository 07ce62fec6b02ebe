/* Shared by kiln predict and eval: the .kmd route (cmd_predict.c) and the
 * .kiln route (cmd_predict_kiln.c). */
#ifndef KILN_CLI_PREDICT_H
#define KILN_CLI_PREDICT_H

#include "cli/cli.h"
#include "kiln/evaluate.h"
#include "kiln/model.h"

/* The arguments of predict and eval. */
typedef struct apply_args {
    const char *model, *data, *out, *weight, *rounds, *keep, *curves, *positive_class;
    const char *verify_key, *rejects, *store;
    const char *labels; /* eval of a clustering model: the true groups */
    int proba, overwrite_input, drop_missing_target;
    int64_t importance;
    kn_read_opts read;
    /* eval: intervals and slices */
    const char *slice_by;
    int64_t bootstrap, seed;
    int no_intervals;
} apply_args;

/* The interval and slice options of `kiln eval` into so, for `rows` rows. */
void eval_score_opts(const apply_args *a, size_t rows, kn_score_opts *so);

/* Data rows the reader set aside (reader callback note_rejected). */
typedef struct rejected_rows {
    uint64_t *v;
    size_t n, cap;
    int nomem;
} rejected_rows;
void note_rejected(uint64_t data_row, void *user);

/* --rounds K into po (only boosted models). */
kn_status parse_rounds(const kn_model *m, const char *rounds, kn_predict_opts *po);
/* --keep a,b into names; at most 256. CLI_OK or CLI_USAGE (printed). */
int split_keep(const char *keep, char (*names)[256], size_t *n);
/* The --keep columns of f, copied in the order given. */
kn_status keep_columns(const kn_frame *f, char (*names)[256], size_t n, kn_frame **out);
/* Column "prediction": the value, or the class label of a classifier. */
kn_status add_predictions(const kn_model *m, const double *pred, kn_frame *res);

/* predict and eval of a .kiln artifact at path (already resolved). */
int predict_artifact(const char *path, const apply_args *a, kn_read_opts *o,
                     char (*keep_names)[256], size_t n_keep);
int eval_artifact(const char *path, const apply_args *a, kn_read_opts *o);

/* Rows up to which cluster scores include the silhouette (its cost grows
 * with rows squared). */
#define CLI_SILHOUETTE_ROWS 20000
/* eval of a clustering model (cli_eval_cluster.c). */
int eval_clusters(const kn_model *m, const apply_args *a, kn_read_opts *o);
/* Cluster scores for people (indented lines) and as JSON fields; labels:
 * the column of true groups, or NULL. */
struct kn_cluster_scores;
void cli_print_cluster_scores(const struct kn_cluster_scores *s, const char *labels);
json_t *cli_cluster_scores_json(const struct kn_cluster_scores *s, const char *labels);

#endif
