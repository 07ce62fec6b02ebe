/* Times Kiln's group-by and join (bench/relational) on frames read once (not
 * timed), REPS times, and prints one RESULT line: the runs' median, min and
 * max, the median process CPU time, the output rows and a checksum per numeric column (sum of
 * values). Threads: OMP_NUM_THREADS. usage: bench_relational groupby FILE.csv KEY COL... [-r REPS]
 *        bench_relational join LEFT.csv RIGHT.csv KEY [inner|left|right|full] [-r REPS]
 *        bench_relational sort FILE.csv COL... [-r REPS] (ascending, nulls last)
 *        bench_relational dedupe FILE.csv [COL...] [-r REPS] (keep first; no COL: all) */
#include "bench_util.h"
#include "kiln/combine.h"
#include "kiln/io.h"
#include "kiln/mem.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void die(const char *what)
{
    fprintf(stderr, "bench_relational: %s: %s\n", what, kn_last_error());
    exit(1);
}

static kn_frame *load(const char *path)
{
    kn_frame *f;
    if (kn_frame_read(path, NULL, &f, NULL) != KN_OK) die(path);
    return f;
}

int main(int argc, char **argv)
{
    kn_mem_tune_process();
    int reps = 5;
    if (argc > 2 && !strcmp(argv[argc - 2], "-r")) {
        reps = atoi(argv[argc - 1]);
        argc -= 2;
    }
    int dedupe = argc > 1 && !strcmp(argv[1], "dedupe");
    if (reps < 1 || reps > 99 || argc < 3 + !dedupe ||
        (argc < 5 && strcmp(argv[1], "sort") && !dedupe) ||
        (strcmp(argv[1], "groupby") && strcmp(argv[1], "join") && strcmp(argv[1], "sort") &&
         !dedupe)) {
        fprintf(stderr,
                "usage: bench_relational groupby FILE.csv KEY COL... [-r REPS]\n"
                "       bench_relational join LEFT.csv RIGHT.csv KEY [inner|left|right|full] "
                "[-r REPS]\n"
                "       bench_relational sort FILE.csv COL... [-r REPS]\n"
                "       bench_relational dedupe FILE.csv [COL...] [-r REPS]\n");
        return 2;
    }
    int join = !strcmp(argv[1], "join"), sort = !strcmp(argv[1], "sort");
    kn_join_kind how = KN_JOIN_LEFT;
    const char *hows[] = {"inner", "left", "semi", "anti", "right", "full"};
    for (int h = 0; join && argc > 5 && h < 6; h++)
        if (!strcmp(argv[5], hows[h])) how = (kn_join_kind)h;
    kn_sort_key skeys[64];
    size_t n_skeys = 0;
    for (int i = 3; sort && i < argc && n_skeys < 64; i++)
        skeys[n_skeys++] = (kn_sort_key){argv[i], 0};
    kn_frame *a = load(argv[2]), *b = join ? load(argv[3]) : NULL, *out = NULL;
    const char *key = argv[join ? 4 : 3];
    size_t dkeys[64], n_dkeys = 0;
    for (int i = 3; dedupe && i < argc && n_dkeys < 64; i++)
        if (kn_frame_find(a, argv[i], &dkeys[n_dkeys++]) != KN_OK) die(argv[i]);
    kn_agg aggs[64];
    size_t n_aggs = 0;
    for (int i = 4; !join && !sort && !dedupe && i < argc && n_aggs < 64; i++)
        aggs[n_aggs++] = (kn_agg){argv[i], KN_AGG_MEAN, argv[i], NULL};
    double t[99], cpu[99];
    for (int k = 0; k < reps; k++) {
        kn_frame_free(out);
        out = NULL;
        struct timespec c0, c1;
        clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &c0);
        double t0 = bench_now();
        kn_status e = join     ? kn_frame_join(a, b, &key, &key, 1, how, &out, NULL)
                      : sort   ? kn_frame_sort(a, skeys, n_skeys, 0, &out)
                      : dedupe ? kn_frame_dedupe(a, n_dkeys ? dkeys : NULL, n_dkeys, 0, &out, NULL)
                               : kn_frame_group_by(a, &key, 1, aggs, n_aggs, &out, NULL);
        if (e != KN_OK) die(argv[1]);
        t[k] = bench_now() - t0;
        clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &c1);
        cpu[k] = (double)(c1.tv_sec - c0.tv_sec) + (double)(c1.tv_nsec - c0.tv_nsec) * 1e-9;
    }
    qsort(t, (size_t)reps, sizeof *t, bench_cmp_double);
    qsort(cpu, (size_t)reps, sizeof *cpu, bench_cmp_double);
    printf("RESULT kiln %s median_s=%.4f min_s=%.4f max_s=%.4f cpu_median_s=%.4f rows=%zu "
           "checksums=",
           argv[1], t[reps / 2], t[0], t[reps - 1], cpu[reps / 2], kn_frame_n_rows(out));
    for (size_t j = 0, shown = 0; j < kn_frame_n_cols(out); j++) {
        kn_column *c = kn_frame_col(out, j);
        if (kn_column_type(c) != KN_COL_NUMERIC) continue;
        double s = 0;
        for (size_t r = 0; r < kn_frame_n_rows(out); r++)
            if (!isnan(kn_column_f64(c)[r])) s += kn_column_f64(c)[r];
        printf("%s%s:%.6g", shown++ ? "," : "", kn_column_name(c), s);
    }
    printf("\n");
    kn_frame_free(out);
    kn_frame_free(a);
    kn_frame_free(b);
    return 0;
}
