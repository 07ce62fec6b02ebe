/* Times the bench/prep chain in Kiln: simple_imputer(median) + standard_scaler
 * on f0..f17 and onehot_encoder(handle_unknown=ignore) on cat_a, cat_b, fit
 * and transform, REPS times on a frame read once (not timed). Prints JSON:
 * the runs, their median, and checksums of the output (per numeric column
 * the sum of squares, per one-hot level its count) for comparison with
 * scikit-learn's output.
 * usage: bench_prep FILE.csv [REPS] [compact|dense] */
#include "bench_util.h"
#include "kiln/mem.h"
#include "kiln/io.h"
#include "kiln/step.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static void die(const char *what)
{
    fprintf(stderr, "bench_prep: %s: %s\n", what, kn_last_error());
    exit(1);
}

static kn_frame *run_chain(const kn_frame *f, const char *mode)
{
    static const char *num =
        "columns=f0,f1,f2,f3,f4,f5,f6,f7,f8,f9,f10,f11,f12,f13,f14,f15,f16,f17";
    char compact[64];
    snprintf(compact, sizeof compact, "compact=%s", mode);
    const char *specs[3][4] = {
        {"simple_imputer", num, "strategy=median", NULL},
        {"standard_scaler", num, NULL, NULL},
        {"onehot_encoder", "columns=cat_a,cat_b", "handle_unknown=ignore", compact}};
    const kn_frame *in = f;
    kn_frame *cur = NULL;
    for (int k = 0; k < 3; k++) {
        kn_step *s;
        if (kn_step_new(specs[k][0], &s) != KN_OK) die(specs[k][0]);
        for (int p = 1; p < 4 && specs[k][p]; p++)
            if (kn_step_set(s, specs[k][p]) != KN_OK) die(specs[k][p]);
        kn_frame *out;
        if (kn_step_fit(s, in) != KN_OK || kn_step_transform(s, in, &out) != KN_OK)
            die(specs[k][0]);
        kn_step_free(s);
        kn_frame_free(cur);
        cur = out;
        in = cur;
    }
    return cur;
}

int main(int argc, char **argv)
{
    kn_mem_tune_process(); /* as the kiln binary does (src/cli/main.c) */
    if (argc < 2) {
        fprintf(stderr, "usage: bench_prep FILE.csv [REPS] [compact|dense]\n");
        return 2;
    }
    int reps = argc > 2 ? atoi(argv[2]) : 3;
    const char *mode = argc > 3 ? argv[3] : "compact";
    kn_frame *f;
    if (kn_frame_read(argv[1], NULL, &f, NULL) != KN_OK) die(argv[1]);
    double runs[64];
    kn_frame *out = NULL;
    for (int r = 0; r < reps && r < 64; r++) {
        kn_frame_free(out);
        double t = bench_now();
        out = run_chain(f, mode);
        runs[r] = bench_now() - t;
    }
    printf("{\"kiln_%s\": {\"runs_s\": [", mode);
    for (int r = 0; r < reps; r++) printf("%s%.3f", r ? ", " : "", runs[r]);
    qsort(runs, (size_t)reps, sizeof *runs, bench_cmp_double);
    kn_frame *wide = out;
    if (kn_frame_has_onehot(out) && kn_frame_expand_onehot(out, &wide) != KN_OK) die("expand");
    printf("], \"median_s\": %.3f, \"out_shape\": [%zu, %zu], \"checksums\": {", runs[reps / 2],
           kn_frame_n_rows(wide), kn_frame_n_cols(wide));
    for (size_t j = 0; j < kn_frame_n_cols(wide); j++) {
        kn_column *c = kn_frame_col(wide, j);
        const double *x = kn_column_f64(c);
        double s = 0;
        int indicator = strncmp(kn_column_name(c), "cat_", 4) == 0;
        for (size_t i = 0; x && i < kn_frame_n_rows(wide); i++) s += indicator ? x[i] : x[i] * x[i];
        printf("%s\"%s\": %.10g", j ? ", " : "", kn_column_name(c), s);
    }
    printf("}}}\n");
    if (wide != out) kn_frame_free(wide);
    kn_frame_free(out);
    kn_frame_free(f);
    return 0;
}
