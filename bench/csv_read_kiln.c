/* Times kn_frame_read on a CSV file: median of REPS reads after one warm-up,
 * MB/s, peak RSS against the size of the parsed columns.
 * usage: bench_csv_read FILE [REPS] [THREADS] [BLOCK_KIB] */
#include "bench_util.h"
#include "kiln/mem.h"
#include "kiln/io.h"
#include "kiln/stage.h"

#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <time.h>

/* Bytes of the parsed values: 8 per numeric/timestamp cell, 4 per code, plus level text. */
static double parsed_bytes(const kn_frame *f)
{
    double total = 0;
    for (size_t j = 0; j < kn_frame_n_cols(f); j++) {
        kn_column *c = kn_frame_col(f, j);
        size_t n = kn_frame_n_rows(f);
        if (kn_column_type(c) == KN_COL_CATEGORICAL) {
            total += 4.0 * (double)n;
            for (size_t l = 0; l < kn_column_n_levels(c); l++) {
                size_t len;
                kn_column_level(c, (int32_t)l, &len);
                total += (double)len + 1;
            }
        } else {
            total += 8.0 * (double)n;
        }
    }
    return total;
}

int main(int argc, char **argv)
{
    kn_mem_tune_process(); /* as the kiln binary does (src/cli/main.c) */
    if (argc < 2) {
        fprintf(stderr, "usage: bench_csv_read FILE [REPS] [THREADS] [BLOCK_KIB]\n");
        return 2;
    }
    const char *path = argv[1];
    int reps = argc > 2 ? atoi(argv[2]) : 5;
    int threads = argc > 3 ? atoi(argv[3]) : 2;
    int block_kib = argc > 4 ? atoi(argv[4]) : 0;
    struct stat sb;
    if (stat(path, &sb) != 0) {
        perror(path);
        return 1;
    }
    kn_read_opts o;
    kn_read_opts_default(&o);
    o.threads = threads;
    if (block_kib > 0) o.block_kib = block_kib;
    double t[64];
    if (reps > 64) reps = 64;
    kn_frame *f = NULL;
    for (int r = -1; r < reps; r++) {
        kn_frame_free(f);
        f = NULL;
        double t0 = bench_now();
        if (kn_frame_read(path, &o, &f, NULL) != KN_OK) {
            fprintf(stderr, "bench_csv_read: %s\n", kn_last_error());
            return 1;
        }
        if (r >= 0) t[r] = bench_now() - t0;
    }
    qsort(t, (size_t)reps, sizeof *t, bench_cmp_double);
    double med = t[reps / 2];
    double mb = (double)sb.st_size / 1e6;
    double parsed = parsed_bytes(f);
    double rss = (double)kn_rss_peak_bytes();
    printf("RESULT kiln threads=%d file=%s bytes=%lld median_s=%.4f min_s=%.4f MB_per_s=%.1f "
           "rows=%zu cols=%zu parsed_MB=%.1f peak_rss_MB=%.1f rss_over_parsed=%.2f\n",
           threads, path, (long long)sb.st_size, med, t[0], mb / med, kn_frame_n_rows(f),
           kn_frame_n_cols(f), parsed / 1e6, rss / 1e6, rss / parsed);
    kn_frame_free(f);
    return 0;
}
