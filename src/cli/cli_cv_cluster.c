/* kiln cv of a clustering model (kmeans): each fold's model is fitted on
 * the other folds' rows without the --target column, then scored on the
 * fold's held-out rows (and on its own training rows): inertia,
 * silhouette, and agreement of the clusters with the --target column's
 * true groups (adjusted Rand index, normalised mutual information). */
#include "cli/cli_cv.h"
#include "cli/cli_predict.h"
#include "kiln/cluster.h"
#include "kiln/mem.h"
#include "kiln/model.h"
#include "kiln/split.h"

#include <math.h>
#include <string.h>
#include <time.h>

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

enum { N_SCORES = 4 };
static const char *const score_name[N_SCORES] = {"inertia", "silhouette", "adjusted_rand",
                                                 "normalized_mutual_info"};

static void scores_of(const kn_cluster_scores *s, double *v)
{
    v[0] = s->inertia;
    v[1] = s->silhouette;
    v[2] = s->adjusted_rand;
    v[3] = s->nmi;
}

int cli_cv_is_clusters(const char *model)
{
    kn_model *m = NULL;
    int yes = kn_model_new(model, &m) == KN_OK && !strcmp(kn_model_kind(m), "cluster");
    kn_model_free(m);
    return yes;
}

/* An option of cv that clustering has no use for, or NULL. */
static const char *unused_option(const cv_args *a)
{
    if (a->steps.n) return "--step";
    if (a->weight) return "--weight";
    if (a->task) return "--task";
    if (a->positive_class) return "--positive-class";
    if (a->time_series) return "--time-series";
    return NULL;
}

/* The features: f without the target and the groups column. */
static kn_status features_of(const kn_frame *f, const cv_args *a, kn_frame **out)
{
    size_t n = kn_frame_n_cols(f), m = 0, skip[2] = {SIZE_MAX, SIZE_MAX};
    size_t *keep = kn_malloc((n ? n : 1) * sizeof *keep);
    if (!keep) return KN_ERR_NOMEM;
    if (kn_frame_find(f, a->spec.target, &skip[0]) != KN_OK) skip[0] = SIZE_MAX;
    if (a->spec.groups && kn_frame_find(f, a->spec.groups, &skip[1]) != KN_OK) skip[1] = SIZE_MAX;
    for (size_t j = 0; j < n; j++)
        if (j != skip[0] && j != skip[1]) keep[m++] = j;
    kn_status e = kn_frame_select_cols(f, keep, m, out);
    kn_free(keep);
    return e;
}

/* Fold i: fit on its training rows, score its test and training rows. */
static kn_status run_fold(const cv_args *a, const kn_frame *f, const kn_frame *feat,
                          const kn_fold *fo, double *test, double *train, double *seconds)
{
    kn_model *m = NULL;
    kn_frame *fit = NULL, *held = NULL, *own = NULL;
    kn_cluster_scores s;
    kn_status e = kn_model_new(a->spec.model, &m);
    for (size_t q = 0; e == KN_OK && q < a->params.n; q++) e = kn_model_set(m, a->params.v[q]);
    if (e == KN_OK) e = kn_frame_select_rows(feat, fo->train, fo->n_train, &fit);
    if (e == KN_OK) e = kn_frame_select_rows(f, fo->test, fo->n_test, &held);
    if (e == KN_OK) e = kn_frame_select_rows(f, fo->train, fo->n_train, &own);
    double t0 = now_s();
    if (e == KN_OK) e = kn_model_fit(m, fit, NULL, NULL);
    *seconds = now_s() - t0;
    if (e == KN_OK) e = kn_cluster_score(m, held, a->spec.target, CLI_SILHOUETTE_ROWS, &s);
    if (e == KN_OK) scores_of(&s, test);
    if (e == KN_OK) e = kn_cluster_score(m, own, a->spec.target, CLI_SILHOUETTE_ROWS, &s);
    if (e == KN_OK) scores_of(&s, train);
    kn_frame_free(fit), kn_frame_free(held), kn_frame_free(own);
    kn_model_free(m);
    return e;
}

/* Mean and population std of column q of v (rows x N_SCORES), NaN rows
 * left out (a silhouette not computed). */
static void mean_std(const double *v, size_t rows, size_t q, double *mean, double *std)
{
    double s = 0, ss = 0;
    size_t c = 0;
    for (size_t i = 0; i < rows; i++)
        if (!isnan(v[i * N_SCORES + q])) s += v[i * N_SCORES + q], c++;
    *mean = c ? s / (double)c : NAN;
    for (size_t i = 0; i < rows; i++)
        if (!isnan(v[i * N_SCORES + q]))
            ss += (v[i * N_SCORES + q] - *mean) * (v[i * N_SCORES + q] - *mean);
    *std = c ? sqrt(ss / (double)c) : NAN;
}

static json_t *scores_json(const double *v)
{
    json_t *j = json_object();
    for (size_t q = 0; q < N_SCORES; q++) json_object_set_new(j, score_name[q], cli_json_num(v[q]));
    return j;
}

static void print_row(const char *head, const double *v, const double *sd)
{
    printf("%-23s", head);
    for (size_t q = 0; q < N_SCORES; q++) {
        char buf[64];
        if (sd)
            snprintf(buf, sizeof buf, "%.6g +- %.2g", v[q], sd[q]);
        else
            snprintf(buf, sizeof buf, "%.8g", v[q]);
        printf(" %24s", buf);
    }
}

int cli_cv_clusters(const cv_args *a, const kn_frame *f)
{
    const char *bad = unused_option(a);
    if (bad)
        return cli_usage_error("cv",
                               "%s does not apply to %s, a clustering model (prepare the data with "
                               "'kiln prep' first); drop it",
                               bad, a->spec.model);
    kn_split_opts so = a->spec.split;
    int32_t *codes = NULL;
    size_t k = 0, n = kn_frame_n_rows(f);
    kn_status e = KN_OK;
    if (so.kind == KN_SPLIT_AUTO) so.kind = KN_SPLIT_KFOLD;
    if (so.kind == KN_SPLIT_STRATIFIED) e = kn_split_labels(f, a->spec.target, &codes, &k);
    if (so.kind == KN_SPLIT_GROUP) e = kn_split_labels(f, a->spec.groups, &codes, &k);
    kn_folds folds = {0};
    kn_frame *feat = NULL;
    if (e == KN_OK) e = kn_split_folds(n, codes, &so, &folds);
    if (e == KN_OK) e = features_of(f, a, &feat);
    size_t nf = folds.k;
    double *test = kn_malloc((nf * N_SCORES + 1) * sizeof *test);
    double *train = kn_malloc((nf * N_SCORES + 1) * sizeof *train);
    double *secs = kn_malloc((nf + 1) * sizeof *secs);
    if (e == KN_OK && (!test || !train || !secs)) e = KN_ERR_NOMEM;
    for (size_t i = 0; e == KN_OK && i < nf; i++) {
        e = run_fold(a, f, feat, &folds.fold[i], test + i * N_SCORES, train + i * N_SCORES,
                     &secs[i]);
        if (e != KN_OK) e = kn_fail_prefix(e, "fold %zu: ", i + 1);
    }
    double mean[N_SCORES], sd[N_SCORES], tmean[N_SCORES], tsd[N_SCORES];
    for (size_t q = 0; e == KN_OK && q < N_SCORES; q++) {
        mean_std(test, nf, q, &mean[q], &sd[q]);
        mean_std(train, nf, q, &tmean[q], &tsd[q]);
    }
    static const char *const kinds[] = {"kfold", "stratified", "group", "time_series", "auto"};
    int rc = CLI_OK;
    if (e != KN_OK) {
        cli_error("cv: %s", kn_last_error());
        rc = CLI_FAIL;
    } else if (cli.json) {
        json_t *arr = json_array();
        for (size_t i = 0; i < nf; i++) {
            json_t *fo = scores_json(test + i * N_SCORES);
            json_object_set_new(fo, "fold", json_integer((json_int_t)(i + 1)));
            json_object_set_new(fo, "train_rows", json_integer((json_int_t)folds.fold[i].n_train));
            json_object_set_new(fo, "test_rows", json_integer((json_int_t)folds.fold[i].n_test));
            json_object_set_new(fo, "fit_seconds", json_real(secs[i]));
            json_object_set_new(fo, "train", scores_json(train + i * N_SCORES));
            json_array_append_new(arr, fo);
        }
        json_t *doc =
            json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:b, s:o, s:o, s:o}", "command", "cv", "kind",
                      "cluster", "input", a->data, "model", a->spec.model, "labels", a->spec.target,
                      "split", kinds[so.kind], "shuffle", so.shuffle, "folds", arr, "mean",
                      scores_json(mean), "std", scores_json(sd));
        json_t *tr = json_object();
        for (size_t q = 0; q < N_SCORES; q++)
            json_object_set_new(tr, score_name[q],
                                json_pack("{s:o, s:o}", "mean", cli_json_num(tmean[q]), "std",
                                          cli_json_num(tsd[q])));
        json_object_set_new(doc, "train", tr);
        json_object_set_new(doc, "stages", cli_stages_json());
        rc = cli_emit_json(doc);
    } else {
        printf("%s (cluster), %zu folds (%s%s) on %s; true groups: column %s (never a "
               "feature)\n",
               a->spec.model, nf, kinds[so.kind], so.shuffle ? ", shuffled" : "", a->data,
               a->spec.target);
        printf("%-5s %8s %8s", "fold", "train", "test");
        for (size_t q = 0; q < N_SCORES; q++) printf(" %24s", score_name[q]);
        printf(" %9s\n", "fit s");
        for (size_t i = 0; i < nf; i++) {
            char head[64];
            snprintf(head, sizeof head, "%-5zu %8zu %8zu", i + 1, folds.fold[i].n_train,
                     folds.fold[i].n_test);
            print_row(head, test + i * N_SCORES, NULL);
            printf(" %9.3f\n", secs[i]);
        }
        print_row("mean +- std", mean, sd);
        putchar('\n');
        print_row("train mean +- std", tmean, tsd);
        printf("\nscores on each fold's held-out rows (train: on its own training rows); "
               "inertia sums over the rows scored; silhouette up to %d rows\n",
               CLI_SILHOUETTE_ROWS);
    }
    kn_free(test), kn_free(train), kn_free(secs), kn_free(codes);
    kn_folds_free(&folds);
    kn_frame_free(feat);
    return rc;
}
