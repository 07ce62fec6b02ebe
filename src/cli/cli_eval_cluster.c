/* kiln eval of a clustering model (.kmd from kiln cluster --save): the
 * inertia and silhouette of FILE's rows under the model's centres and,
 * with --labels COLUMN, their agreement with those true groups. */
#include "cli/cli_predict.h"
#include "kiln/cluster.h"
#include "kiln/mem.h"
#include "kiln/stage.h"

#include <math.h>
#include <string.h>

/* An option of eval that a clustering model has no use for, or NULL. */
static const char *unused_option(const apply_args *a)
{
    if (a->weight) return "--weight";
    if (a->curves) return "--curves";
    if (a->importance) return "--importance";
    if (a->rounds) return "--rounds";
    if (a->slice_by) return "--slice-by";
    if (a->positive_class) return "--positive-class";
    if (a->drop_missing_target) return "--drop-missing-target";
    if (a->bootstrap) return "--bootstrap";
    return NULL;
}

void cli_print_cluster_scores(const kn_cluster_scores *s, const char *labels)
{
    printf("  %-24s %.10g\n", "inertia", s->inertia);
    if (!isnan(s->silhouette))
        printf("  %-24s %.12f\n", "silhouette", s->silhouette);
    else
        printf("  %-24s %s\n", "silhouette",
               s->rows > CLI_SILHOUETTE_ROWS ? "not computed (more rows than 20000)"
                                             : "undefined (fewer than 2 clusters in use)");
    if (labels) {
        printf("  %-24s %.12f\n", "adjusted_rand", s->adjusted_rand);
        printf("  %-24s %.12f\n", "normalized_mutual_info", s->nmi);
    }
}

json_t *cli_cluster_scores_json(const kn_cluster_scores *s, const char *labels)
{
    json_t *j = json_pack("{s:I, s:I, s:I, s:o, s:o}", "rows", (json_int_t)s->rows, "clusters",
                          (json_int_t)s->clusters, "clusters_used", (json_int_t)s->used, "inertia",
                          cli_json_num(s->inertia), "silhouette", cli_json_num(s->silhouette));
    if (labels) {
        json_object_set_new(j, "labels", json_string(labels));
        json_object_set_new(j, "groups", json_integer((json_int_t)s->groups));
        json_object_set_new(j, "adjusted_rand", cli_json_num(s->adjusted_rand));
        json_object_set_new(j, "normalized_mutual_info", cli_json_num(s->nmi));
    }
    return j;
}

int eval_clusters(const kn_model *m, const apply_args *a, kn_read_opts *o)
{
    const char *bad = unused_option(a);
    if (bad)
        return cli_usage_error("eval",
                               "%s does not apply to %s, a clustering model (it is scored by "
                               "inertia, silhouette and, with --labels, agreement with true "
                               "groups); drop it",
                               bad, a->model);
    size_t p = kn_model_n_features(m), n_decls = 0;
    for (size_t j = 0; a->labels && j < p; j++)
        if (!strcmp(kn_model_feature(m, j), a->labels))
            return cli_usage_error("eval",
                                   "--labels %s: label column '%s' is a feature of the model; "
                                   "name a column it was not fitted on",
                                   a->labels, a->labels);
    /* as the training data was read, where the model file recorded how */
    const char *text = kn_model_read_settings(m);
    kn_read_settings rs = {text, text ? strlen(text) : 0};
    if (text && cli_read_as_trained("eval", NULL, &rs, o) != KN_OK) {
        cli_error("eval: %s: %s", a->model, kn_last_error());
        return CLI_FAIL;
    }
    kn_col_decl *decls = kn_malloc((p + 1) * sizeof *decls);
    if (!decls) {
        cli_error("eval: out of memory");
        return CLI_FAIL;
    }
    for (size_t j = 0; j < p; j++)
        decls[n_decls++] = (kn_col_decl){kn_model_feature(m, j), KN_COL_NUMERIC};
    if (a->labels) decls[n_decls++] = (kn_col_decl){a->labels, KN_COL_CATEGORICAL};
    o->decls = decls;
    o->n_decls = n_decls;
    kn_frame *f = NULL;
    kn_read_report rep;
    kn_cluster_scores s;
    kn_status e = cli_read_frame(a->data, o, &f, &rep);
    o->decls = NULL;
    o->n_decls = 0;
    if (o->token_is_level_user == &rs) { /* (rs ends here) */
        o->token_is_level = NULL;
        o->token_is_level_user = NULL;
    }
    kn_free(decls);
    size_t j;
    if (e == KN_OK && a->labels && kn_frame_find(f, a->labels, &j) != KN_OK)
        e = kn_fail(KN_ERR_NOT_FOUND,
                    "--labels %s: %s has no such column; name the column of "
                    "true groups",
                    a->labels, a->data);
    kn_stage_begin("score");
    if (e == KN_OK) e = kn_cluster_score(m, f, a->labels, CLI_SILHOUETTE_ROWS, &s);
    kn_stage_end();
    int rc = CLI_OK;
    if (e != KN_OK) {
        cli_error("eval: %s", kn_last_error());
        rc = CLI_FAIL;
    } else if (cli.json) {
        json_t *doc = cli_cluster_scores_json(&s, a->labels);
        json_object_set_new(doc, "command", json_string("eval"));
        json_object_set_new(doc, "model", json_string(kn_model_name(m)));
        json_object_set_new(doc, "kind", json_string("cluster"));
        json_object_set_new(doc, "input", json_string(a->data));
        json_object_set_new(doc, "model_file", json_string(a->model));
        json_object_set_new(doc, "stages", cli_stages_json());
        rc = cli_emit_json(doc);
    } else if (!cli.quiet) {
        printf("%s (cluster) on %s: %zu rows, %zu clusters (%zu with rows)", kn_model_name(m),
               a->data, s.rows, s.clusters, s.used);
        if (a->labels) printf("; true groups: column %s (%zu)", a->labels, s.groups);
        putchar('\n');
        cli_print_cluster_scores(&s, a->labels);
    }
    kn_frame_free(f);
    return rc;
}
