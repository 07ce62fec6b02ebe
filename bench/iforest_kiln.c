/* Times Kiln's isolation forest for bench/iforest.
 *   bench_iforest DATA.csv SCORES.f64 [name=value ...]
 * reads DATA (every column a feature; not timed), fits isolation_forest
 * without a target and scores every row, printing JSON with the fit and
 * score seconds; the scores go to SCORES.f64 (raw doubles) for the AUC.
 * Threads: OMP_NUM_THREADS. */
#include "bench_util.h"
#include "kiln/io.h"
#include "kiln/mem.h"
#include "kiln/model.h"

#include <stdio.h>
#include <stdlib.h>

static void die(const char *what)
{
    fprintf(stderr, "bench_iforest: %s: %s\n", what, kn_last_error());
    exit(1);
}

int main(int argc, char **argv)
{
    if (argc < 3) {
        fprintf(stderr, "usage: bench_iforest DATA.csv SCORES.f64 [name=value ...]\n");
        return 2;
    }
    kn_frame *f;
    kn_read_report rep;
    if (kn_frame_read(argv[1], NULL, &f, &rep) != KN_OK) die(argv[1]);
    kn_model *m;
    if (kn_model_new("isolation_forest", &m) != KN_OK) die("new");
    for (int a = 3; a < argc; a++)
        if (kn_model_set(m, argv[a]) != KN_OK) die(argv[a]);
    double t0 = bench_now();
    if (kn_model_fit(m, f, NULL, NULL) != KN_OK) die("fit");
    double t1 = bench_now();
    double *s;
    size_t n;
    if (kn_model_predict(m, f, &s, &n) != KN_OK) die("predict");
    double t2 = bench_now();
    FILE *fp = fopen(argv[2], "wb");
    if (!fp || fwrite(s, sizeof *s, n, fp) != n || fclose(fp)) die(argv[2]);
    printf("{\"fit_s\": %.4f, \"score_s\": %.4f, \"rows\": %zu}\n", t1 - t0, t2 - t1, n);
    kn_free(s);
    kn_model_free(m);
    kn_frame_free(f);
    return 0;
}
