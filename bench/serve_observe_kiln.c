/* The CPU cost of observing in kiln serve, in process (CPU time of the
 * whole process, so the prediction log's writer thread counts): the live
 * statistics of one 20-feature row (kn__livestats_add), GET /metrics'
 * feature families (kn__livestats_text), and the prediction log per row
 * at --sample 1, 0.1 and 0 (records on the request thread, JSON lines
 * and write() on the writer thread). Values are 6-decimal numbers, as
 * bench/serve sends them. The producer pauses now and then so the writer
 * keeps up (a pause costs no CPU); rows it had to drop are reported.
 * usage: bench_serve_observe [ROWS]   (default 500,000) */
#include "kiln/mem.h"
#include "kiln/rng.h"
#include "serve/serve-impl.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

static double cpu_s(void)
{
    struct timespec t;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
    return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

static void fill(kn_frame *f, const double *v)
{
    for (size_t j = 0; j < kn_frame_n_cols(f); j++) kn_column_f64(kn_frame_col(f, j))[0] = v[j];
}

static size_t lines(const char *path)
{
    FILE *fp = fopen(path, "r");
    size_t n = 0;
    int c;
    while (fp && (c = getc(fp)) != EOF) n += c == '\n';
    if (fp) fclose(fp);
    return n;
}

int main(int argc, char **argv)
{
    long n = argc > 1 ? atol(argv[1]) : 500000;
    enum { COLS = 20 };
    char *names[COLS];
    kn_col_type types[COLS];
    unsigned char required[COLS] = {0};
    kn_frame *f = NULL;
    if (kn_frame_new(&f) != KN_OK) return 1;
    for (int j = 0; j < COLS; j++) {
        names[j] = kn_sprintf("x%d", j);
        types[j] = KN_COL_NUMERIC;
        if (!names[j] || kn_frame_add_column(f, names[j], KN_COL_NUMERIC, NULL) != KN_OK) return 1;
    }
    if (kn_frame_resize(f, 1) != KN_OK) return 1;
    kn__serve_inputs in = {.n = COLS, .names = names, .types = types, .required = required};
    kn__serve_model m = {.name = "lr", .version = "1", .in = in};
    kn_rng r;
    kn_rng_init(&r, 1);

    /* the rows' values: a pool of 4096 drawn before the clock starts; the
     * cost of copying one into the frame is timed alone and taken off */
    enum { POOL = 4096 };
    double *pool = malloc(sizeof(double) * POOL * COLS);
    if (!pool) return 1;
    for (size_t i = 0; i < (size_t)POOL * COLS; i++)
        pool[i] = nearbyint(kn_rng_normal(&r) * 1e6) / 1e6;
    if (kn__livestats_new(&in, 2, &m.live) != KN_OK) return 1;
    double t0 = cpu_s();
    for (long i = 0; i < n; i++) {
        fill(f, pool + (size_t)(i % POOL) * COLS);
        kn__livestats_add(m.live, f);
    }
    double with = cpu_s() - t0;
    t0 = cpu_s();
    for (long i = 0; i < n; i++) fill(f, pool + (size_t)(i % POOL) * COLS);
    double copy = cpu_s() - t0;
    printf("live statistics, one 20-feature row: %.3f us CPU\n", (with - copy) / n * 1e6);
    kn__sbuf b = {0};
    t0 = cpu_s();
    kn__livestats_text(&(const kn__serve_model *){&m}, 1, &b);
    printf("GET /metrics, the feature families of 20 inputs: %.3f ms CPU, %zu bytes\n",
           (cpu_s() - t0) * 1e3, b.len);
    kn__sbuf_free(&b);

    const double samples[] = {1.0, 0.1, 0.0};
    char path[] = "/tmp/kiln-bench-predlog-XXXXXX";
    int fd = mkstemp(path);
    if (fd < 0) return 1;
    close(fd);
    double pred = 0.25;
    fill(f, pool);
    for (size_t s = 0; s < 3; s++) {
        remove(path);
        kn__predlog *pl = NULL;
        if (kn__predlog_open(path, samples[s], 0, &pl) != KN_OK) return 1;
        t0 = cpu_s();
        for (long i = 0; i < n; i++) {
            kn__predlog_begin(pl, (unsigned long long)i + 1);
            kn__predlog_rows(&m, f, &pred, NULL, 1);
            if (i % 1000 == 999) usleep(10000);
        }
        kn__predlog_begin(NULL, 0);
        kn__predlog_close(pl);
        double cpu = cpu_s() - t0;
        size_t kept = lines(path);
        printf("prediction log --sample %.1f: %.3f us CPU per row predicted, %zu lines", samples[s],
               cpu / n * 1e6, kept);
        if (kept) printf(" (%.3f us per line)", cpu / (double)kept * 1e6);
        printf("\n");
    }
    remove(path);
    free(pool);
    kn__livestats_free(m.live);
    kn_frame_free(f);
    for (int j = 0; j < COLS; j++) kn_free(names[j]);
    return 0;
}
