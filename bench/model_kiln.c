/* Times Kiln's models for bench/linear and bench/gbdt.
 *   bench_model fit MODEL TRAIN.csv TEST.csv TARGET REPS [name=value ...]
 *       fits REPS times on TRAIN (read once, not timed) and scores the last
 *       model on TEST: JSON with the runs, their median, the test scores,
 *       and the seconds to predict (probabilities for classifiers) every
 *       row of TRAIN and TEST.
 *   bench_model path TRAIN.csv TARGET N_ALPHAS EPS REPS
 *       the lasso path (coordinate descent, warm starts) on TRAIN: runs,
 *       median, the alphas and the last coefficients.
 * Threads: OMP_NUM_THREADS. */
#include "bench_util.h"
#include "kiln/evaluate.h"
#include "kiln/io.h"
#include "kiln/mem.h"
#include "learn/learn-impl.h"

#include <cblas.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void die(const char *what)
{
    fprintf(stderr, "bench_model: %s: %s\n", what, kn_last_error());
    exit(1);
}

static kn_frame *read_csv(const char *path)
{
    kn_frame *f;
    kn_read_report rep;
    if (kn_frame_read(path, NULL, &f, &rep) != KN_OK) die(path);
    return f;
}

static void print_runs(const double *t, int reps)
{
    double *s = malloc((size_t)reps * sizeof *s);
    memcpy(s, t, (size_t)reps * sizeof *s);
    qsort(s, (size_t)reps, sizeof *s, bench_cmp_double);
    printf("\"runs_s\": [");
    for (int r = 0; r < reps; r++) printf("%s%.4f", r ? ", " : "", t[r]);
    printf("], \"median_s\": %.4f", s[reps / 2]);
    free(s);
}

static int fit_mode(int argc, char **argv)
{
    const char *model = argv[2], *target = argv[5];
    int reps = atoi(argv[6]);
    kn_frame *train = read_csv(argv[3]), *test = read_csv(argv[4]);
    double *t = malloc((size_t)reps * sizeof *t);
    kn_model *m = NULL;
    for (int r = 0; r < reps; r++) {
        kn_model_free(m);
        if (kn_model_new(model, &m) != KN_OK) die(model);
        for (int a = 7; a < argc; a++)
            if (kn_model_set(m, argv[a]) != KN_OK) die(argv[a]);
        double t0 = bench_now();
        if (kn_model_fit(m, train, target, NULL) != KN_OK) die("fit");
        t[r] = bench_now() - t0;
    }
    double *out, t0 = bench_now();
    size_t n_out, predicted = 0;
    for (int k = 0; k < 2; k++) {
        kn_frame *f = k ? test : train;
        kn_status e = kn_model_task(m) == KN_TASK_CLASSIFICATION
                          ? kn_model_predict_proba(m, f, &out, &n_out)
                          : kn_model_predict(m, f, &out, &n_out);
        if (e != KN_OK) die("predict");
        predicted += n_out;
        kn_free(out);
    }
    double predict_s = bench_now() - t0;
    kn_scores sc;
    if (kn_model_score(m, test, NULL, &sc) != KN_OK) die("score");
    printf("{\"kiln\": {\"model\": \"%s\", \"train_rows\": %zu, ", model, kn_frame_n_rows(train));
    print_runs(t, reps);
    printf(", \"predict_s\": %.4f, \"predict_rows\": %zu", predict_s, predicted);
    for (size_t i = 0; i < sc.n; i++) printf(", \"test_%s\": %.17g", sc.name[i], sc.value[i]);
    if (kn_model_score(m, train, NULL, &sc) != KN_OK) die("score");
    for (size_t i = 0; i < sc.n; i++)
        if (!strcmp(sc.name[i], "log_loss")) printf(", \"train_log_loss\": %.17g", sc.value[i]);
    size_t p = kn_model_n_features(m), rows = kn_model_coef_rows(m);
    double *coef = malloc((rows * p > 0 ? rows * p : 1) * sizeof *coef);
    double *b = malloc((rows ? rows : 1) * sizeof *b), sq = 0;
    if (rows && kn_model_coefficients(m, coef, b) == KN_OK) {
        printf(", \"coef\": [");
        for (size_t j = 0; j < rows * p; j++) {
            printf("%s%.17g", j ? ", " : "", coef[j]);
            sq += coef[j] * coef[j];
        }
        printf("], \"coef_sq_sum\": %.17g", sq);
    }
    free(coef);
    free(b);
    printf("}}\n");
    kn_model_free(m);
    kn_frame_free(train);
    kn_frame_free(test);
    free(t);
    return 0;
}

static int path_mode(char **argv)
{
    const char *target = argv[3];
    size_t n_alphas = (size_t)atoi(argv[4]);
    double eps = atof(argv[5]);
    int reps = atoi(argv[6]);
    kn_frame *train = read_csv(argv[2]);
    kn_dataset *d;
    if (kn_dataset_from_frame(train, target, NULL, NULL, 0, KN_TASK_REGRESSION, &d) != KN_OK)
        die("dataset");
    double *alphas = malloc(n_alphas * sizeof *alphas), *t = malloc((size_t)reps * sizeof *t);
    double *coefs = malloc(n_alphas * d->p * sizeof *coefs);
    for (int r = 0; r < reps; r++) {
        double t0 = bench_now();
        kn__enet_data e;
        if (kn__enet_prepare(d, 1, -1, &e) != KN_OK) die("prepare");
        kn__enet_alpha_grid(kn__enet_alpha_max(&e, 1.0), eps, n_alphas, alphas);
        if (kn__enet_path(&e, alphas, n_alphas, 1.0, 1000, 1e-4, coefs) != KN_OK) die("path");
        t[r] = bench_now() - t0;
        kn__enet_data_free(&e);
    }
    printf("{\"kiln\": {\"model\": \"lasso_path\", \"train_rows\": %zu, ", d->n);
    print_runs(t, reps);
    printf(", \"alpha_first\": %.17g, \"alpha_last\": %.17g, \"last_coef\": [", alphas[0],
           alphas[n_alphas - 1]);
    for (size_t j = 0; j < d->p; j++)
        printf("%s%.17g", j ? ", " : "", coefs[(n_alphas - 1) * d->p + j]);
    printf("]}}\n");
    kn_dataset_free(d);
    kn_frame_free(train);
    free(alphas), free(t), free(coefs);
    return 0;
}

/* predict MODEL_FILE DATA REPS: seconds to predict every row (probabilities
 * for a classifier), each repetition. */
static int predict_mode(char **argv)
{
    kn_model *m;
    if (kn_model_load(argv[2], &m) != KN_OK) die(argv[2]);
    kn_frame *f = read_csv(argv[3]);
    int reps = atoi(argv[4]);
    double *t = malloc((size_t)(reps > 0 ? reps : 1) * sizeof *t);
    for (int r = 0; r < reps; r++) {
        double *out, t0 = bench_now();
        size_t n;
        kn_status e = kn_model_task(m) == KN_TASK_CLASSIFICATION
                          ? kn_model_predict_proba(m, f, &out, &n)
                          : kn_model_predict(m, f, &out, &n);
        if (e != KN_OK) die("predict");
        t[r] = bench_now() - t0;
        kn_free(out);
    }
    printf("{\"kiln\": {\"rows\": %zu, ", kn_frame_n_rows(f));
    print_runs(t, reps);
    printf("}}\n");
    free(t);
    kn_frame_free(f);
    kn_model_free(m);
    return 0;
}

int main(int argc, char **argv)
{
    /* the process settings the kiln binary makes (the library no longer does) */
    kn_mem_tune_process();
    if (!getenv("OPENBLAS_NUM_THREADS")) openblas_set_num_threads(1);
    if (argc >= 7 && !strcmp(argv[1], "fit")) return fit_mode(argc, argv);
    if (argc >= 7 && !strcmp(argv[1], "path")) return path_mode(argv);
    if (argc >= 5 && !strcmp(argv[1], "predict")) return predict_mode(argv);
    fprintf(stderr, "usage: bench_model fit MODEL TRAIN TEST TARGET REPS [name=value ...]\n"
                    "       bench_model path TRAIN TARGET N_ALPHAS EPS REPS\n"
                    "       bench_model predict MODEL_FILE DATA REPS\n");
    return 2;
}
