/* bench_store DIR [RUNS]: fill a Kiln store with RUNS runs (default
 * 100,000) of 50 metrics each (5 metrics x 5 CV folds, CV mean and std,
 * CV train mean and std, test), 10 parameters, 5 stages and a source, in
 * transactions of 1,000 runs (kn_store_add_runs), over 10 experiments; all
 * scored on the same folds. Prints the fill time. Values come from a fixed
 * seed. */
#include "kiln/mem.h"
#include "kiln/rng.h"
#include "kiln/store.h"

#include <stdio.h>
#include <stdlib.h>
#include <time.h>

enum { BATCH = 1000, METRICS = 50, PARAMS = 10, STAGES = 5 };

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static const char *const names[5] = {"roc_auc", "log_loss", "accuracy", "average_precision", "f1"};
static const char *const experiments[10] = {"e0", "e1", "e2", "e3", "e4",
                                            "e5", "e6", "e7", "e8", "e9"};

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: bench_store DIR [RUNS]\n");
        return 2;
    }
    long total = argc > 2 ? atol(argv[2]) : 100000;
    kn_store *s = NULL;
    if (kn_store_open(argv[1], 1, &s)) {
        fprintf(stderr, "bench_store: %s\n", kn_last_error());
        return 1;
    }
    static kn_run_info runs[BATCH];
    static kn_run_metric metrics[BATCH][METRICS];
    static char param_text[BATCH][PARAMS][48];
    static const char *params[BATCH][PARAMS];
    static kn_run_stage stages[BATCH][STAGES];
    static const char *const stage_names[STAGES] = {"sources", "split", "cv", "fit", "test"};
    kn_run_source src = {"loans", "file", "loans.csv",
                         "5f1c0e8a3b7d49e2a1c6b0d4f8e2a9c7b3d5f1e0a2c4b6d8e0f1a3c5b7d9e1f3",
                         100000};
    kn_rng r;
    kn_rng_init(&r, 1);
    double t0 = now_s();
    for (long done = 0; done < total;) {
        size_t n = total - done < BATCH ? (size_t)(total - done) : BATCH;
        for (size_t i = 0; i < n; i++) {
            size_t m = 0;
            for (int k = 0; k < 5; k++) {
                double base = 0.6 + 0.3 * kn_rng_uniform(&r), sum = 0;
                for (int f = 0; f < 5; f++) {
                    double v = base + 0.02 * (kn_rng_uniform(&r) - 0.5);
                    metrics[i][m++] = (kn_run_metric){names[k], "cv", f, v};
                    sum += v;
                }
                metrics[i][m++] = (kn_run_metric){names[k], "cv_mean", -1, sum / 5};
                metrics[i][m++] = (kn_run_metric){names[k], "cv_std", -1, 0.01};
                metrics[i][m++] = (kn_run_metric){names[k], "train_mean", -1, base + 0.05};
                metrics[i][m++] = (kn_run_metric){names[k], "train_std", -1, 0.005};
                metrics[i][m++] = (kn_run_metric){names[k], "test", -1, base};
            }
            for (int p = 0; p < PARAMS; p++) {
                snprintf(param_text[i][p], sizeof param_text[i][p], "param_%d=%llu", p,
                         (unsigned long long)kn_rng_below(&r, 1000));
                params[i][p] = param_text[i][p];
            }
            for (int g = 0; g < STAGES; g++)
                stages[i][g] = (kn_run_stage){stage_names[g], 1 + kn_rng_uniform(&r),
                                              2 + kn_rng_uniform(&r), 100000000};
            long id = done + (long)i;
            runs[i] = (kn_run_info){.experiment = experiments[id % 10],
                                    .status = "finished",
                                    .start = 1.8e9 + (double)id,
                                    .end = 1.8e9 + (double)id + 10,
                                    .spec_hash = "bench",
                                    .seed = 42,
                                    .folds_hash = "bench-folds",
                                    .model = "gbdt",
                                    .n_params = PARAMS,
                                    .params = params[i],
                                    .n_metrics = METRICS,
                                    .metrics = metrics[i],
                                    .n_stages = STAGES,
                                    .stages = stages[i],
                                    .n_sources = 1,
                                    .sources = &src,
                                    .rows_in = 100000,
                                    .rows_kept = 99000,
                                    .actor = "bench"};
        }
        if (kn_store_add_runs(s, runs, n)) {
            fprintf(stderr, "bench_store: %s\n", kn_last_error());
            kn_store_close(s);
            return 1;
        }
        done += (long)n;
    }
    double t = now_s() - t0;
    printf("filled %ld runs x %d metrics in %.2f s (%.0f runs/s, transactions of %d)\n", total,
           METRICS, t, (double)total / t, BATCH);
    kn_store_close(s);
    return 0;
}
