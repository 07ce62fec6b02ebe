/* Times Kiln's k-means for bench/cluster.
 *   bench_cluster DATA.csv CENTRES.f64 [name=value ...]
 * reads DATA (every column a feature; not timed), fits kmeans with the
 * given parameters and prints JSON: the fit seconds (wall and the process's
 * CPU time, steadier on a loaded machine), the inertia and the
 * iterations of the kept run; the centres (k x p raw doubles) go to
 * CENTRES.f64. Threads: OMP_NUM_THREADS. KILN_BENCH_REPEAT=R fits R times
 * and prints the least wall and CPU times. */
#include "bench_util.h"
#include "kiln/io.h"
#include "kiln/model.h"
#include "learn/unsup/kmeans-impl.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

static double cpu_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static void die(const char *what)
{
    fprintf(stderr, "bench_cluster: %s: %s\n", what, kn_last_error());
    exit(1);
}

int main(int argc, char **argv)
{
    if (argc < 3) {
        fprintf(stderr, "usage: bench_cluster DATA.csv CENTRES.f64 [name=value ...]\n");
        return 2;
    }
    kn_frame *f;
    kn_read_report rep;
    if (kn_frame_read(argv[1], NULL, &f, &rep) != KN_OK) die(argv[1]);
    kn_model *m;
    if (kn_model_new("kmeans", &m) != KN_OK) die("new");
    if (kn_model_set(m, "silhouette_rows=0") != KN_OK) die("silhouette_rows");
    for (int a = 3; a < argc; a++)
        if (kn_model_set(m, argv[a]) != KN_OK) die(argv[a]);
    /* KILN_BENCH_REPEAT=R: R fits, the least times kept (a loaded machine) */
    const char *repeat = getenv("KILN_BENCH_REPEAT");
    int reps = repeat && atoi(repeat) > 0 ? atoi(repeat) : 1;
    double wall = INFINITY, cpu = INFINITY;
    for (int r = 0; r < reps; r++) {
        double t0 = bench_now(), c0 = cpu_now();
        if (kn_model_fit(m, f, NULL, NULL) != KN_OK) die("fit");
        double t1 = bench_now(), c1 = cpu_now();
        wall = t1 - t0 < wall ? t1 - t0 : wall;
        cpu = c1 - c0 < cpu ? c1 - c0 : cpu;
    }
    kn_fit_summary fs;
    if (kn_model_summary(m, &fs) != KN_OK) die("summary");
    size_t k = 0, p = 0;
    const double *cen = kn__kmeans_centres(m, &k, &p);
    FILE *fp = fopen(argv[2], "wb");
    if (!cen || !fp || fwrite(cen, sizeof *cen, k * p, fp) != k * p || fclose(fp)) die(argv[2]);
    printf("{\"fit_s\": %.4f, \"fit_cpu_s\": %.4f, \"inertia\": %.17g, \"iterations\": %.0f}\n",
           wall, cpu, fs.stat[0], fs.stat[2]);
    kn_model_free(m);
    kn_frame_free(f);
    return 0;
}
