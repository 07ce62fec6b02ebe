/* Permutation importance (kiln/importance.h). */
#include "kiln/evaluate.h"
#include "kiln/importance.h"
#include "kiln/mem.h"
#include "kiln/rng.h"

#include <math.h>
#include <string.h>

/* The score whose fall is measured: accuracy, or R^2 (only that metric,
 * by name). */
static kn_status score_of(const kn_model *m, const kn_predict_opts *po, const kn_frame *f,
                          double *out)
{
    const char *name = kn_model_task(m) == KN_TASK_CLASSIFICATION ? "accuracy" : "r2";
    kn_score_opts o = {.metrics = &name, .n_metrics = 1, .predict = po};
    kn_scores s;
    kn_status e = kn_model_score_with(m, f, &o, &s);
    if (e == KN_OK && s.n != 1)
        e = kn_fail(KN_ERR_INTERNAL, "permutation importance: no score to compare");
    if (e == KN_OK) *out = s.value[0];
    kn_scores_free(&s);
    return e;
}

/* Shuffles n cells of `size` bytes (Fisher-Yates). */
static void shuffle(void *cells, size_t n, size_t size, kn_rng *rng)
{
    unsigned char *c = cells, t[8];
    for (size_t i = n; i > 1; i--) {
        size_t j = (size_t)kn_rng_below(rng, i);
        memcpy(t, c + (i - 1) * size, size);
        memcpy(c + (i - 1) * size, c + j * size, size);
        memcpy(c + j * size, t, size);
    }
}

kn_status kn_permutation_importance(const kn_model *m, const kn_frame *f, size_t repeats,
                                    uint64_t seed, double *mean, double *std)
{
    return kn_permutation_importance_with(m, f, NULL, repeats, seed, mean, std);
}

kn_status kn_permutation_importance_with(const kn_model *m, const kn_frame *f,
                                         const kn_predict_opts *po, size_t repeats, uint64_t seed,
                                         double *mean, double *std)
{
    if (repeats == 0)
        return kn_fail(KN_ERR_INVALID, "permutation importance: repeats must be >= 1");
    size_t p = kn_model_n_features(m), n = kn_frame_n_rows(f);
    kn_frame *g = NULL;
    double base = 0, *drop = kn_malloc(repeats * sizeof *drop);
    void *saved = kn_malloc((n ? n : 1) * sizeof(double));
    kn_status e = drop && saved ? score_of(m, po, f, &base) : KN_ERR_NOMEM;
    if (e == KN_OK) e = kn_frame_copy(f, &g);
    for (size_t j = 0; e == KN_OK && j < p; j++) {
        size_t col;
        e = kn_frame_find(g, kn_model_feature(m, j), &col);
        if (e != KN_OK) break;
        kn_column *c = kn_frame_col(g, col);
        int numeric = kn_column_type(c) == KN_COL_NUMERIC;
        if (!numeric && kn_column_type(c) != KN_COL_CATEGORICAL) {
            e = kn_fail(KN_ERR_TYPE, "permutation importance: feature '%s' is %s",
                        kn_model_feature(m, j), kn_col_type_name(kn_column_type(c)));
            break;
        }
        void *cells = numeric ? (void *)kn_column_f64(c) : (void *)kn_column_codes(c);
        size_t size = numeric ? sizeof(double) : sizeof(int32_t);
        memcpy(saved, cells, n * size);
        kn_rng rng;
        kn_rng_init_stream(&rng, seed, j);
        double sum = 0, sq = 0;
        for (size_t r = 0; e == KN_OK && r < repeats; r++) {
            double s;
            shuffle(cells, n, size, &rng);
            e = score_of(m, po, g, &s);
            drop[r] = base - s;
            sum += drop[r];
        }
        memcpy(cells, saved, n * size); /* the next feature sees this one intact */
        if (e != KN_OK) break;
        mean[j] = sum / (double)repeats;
        for (size_t r = 0; r < repeats; r++) sq += (drop[r] - mean[j]) * (drop[r] - mean[j]);
        std[j] = sqrt(sq / (double)repeats);
    }
    kn_frame_free(g);
    kn_free(drop);
    kn_free(saved);
    return e;
}
