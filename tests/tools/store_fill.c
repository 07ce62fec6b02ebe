/* store_fill: record runs in a Kiln store through kn_store_add_run, for the
 * store's integration tests (kiln run makes real runs; this makes runs with
 * chosen per-fold scores).
 *
 *   store_fill DIR FOLDS_HASH METRIC S1,S2,... [NAME=VALUE...]
 *
 * records one finished run of experiment "paired" whose CV scores of METRIC
 * are S1, S2, ... (fold 0, 1, ...), with cv_mean, the parameters given, and
 * FOLDS_HASH; prints the run id. */
#include "kiln/mem.h"
#include "kiln/store.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int main(int argc, char **argv)
{
    if (argc < 5) {
        fprintf(stderr, "usage: store_fill DIR FOLDS_HASH METRIC S1,S2,... [NAME=VALUE...]\n");
        return 2;
    }
    kn_run_metric m[64];
    size_t k = 0;
    double sum = 0;
    for (char *p = strtok(argv[4], ","); p && k < 63; p = strtok(NULL, ",")) {
        m[k] = (kn_run_metric){argv[3], "cv", (int)k, strtod(p, NULL)};
        sum += m[k++].value;
    }
    m[k] = (kn_run_metric){argv[3], "cv_mean", -1, sum / (double)k};
    kn_run_stage st = {"cv", 1.0, 1.0, 1u << 20};
    kn_run_info r = {0};
    r.experiment = "paired";
    r.status = "finished";
    r.start = 1.8e9;
    r.end = 1.8e9 + 1;
    r.folds_hash = argv[2];
    r.model = "store_fill";
    r.n_params = (size_t)(argc - 5);
    r.params = (const char *const *)(argv + 5);
    r.n_metrics = k + 1;
    r.metrics = m;
    r.n_stages = 1;
    r.stages = &st;
    kn_store *s = NULL;
    char *id = NULL;
    if (kn_store_open(argv[1], 1, &s) || kn_store_add_run(s, &r, NULL, 0, &id)) {
        fprintf(stderr, "store_fill: %s\n", kn_last_error());
        kn_store_close(s);
        return 1;
    }
    printf("%s\n", id);
    kn_free(id);
    kn_store_close(s);
    return 0;
}
