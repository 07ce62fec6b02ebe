/* libFuzzer harness: the model file loader (.kmd) on arbitrary bytes
 * (checksum recomputed, see checksum_fuzz.h); a loaded model then predicts
 * on a small frame with its features. */
#include "checksum_fuzz.h"
#include "kiln/mem.h"
#include "kiln/model.h"

#include <sodium.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (sodium_init() < 0) return 0;
    char path[64];
    if (!fuzz_write_checksummed(data, size, 52, fuzz_blake2b, ".kmd", path)) return 0;
    kn_model *m;
    if (kn_model_load(path, &m) == KN_OK) {
        kn_frame *f;
        if (kn_frame_new(&f) == KN_OK) {
            for (size_t j = 0; j < kn_model_n_features(m); j++)
                kn_frame_add_column(f, kn_model_feature(m, j), KN_COL_NUMERIC, NULL);
            kn_frame_resize(f, 3);
            for (size_t j = 0; j < kn_frame_n_cols(f); j++)
                for (size_t i = 0; i < 3; i++) kn_column_f64(kn_frame_col(f, j))[i] = (double)i;
            double *p;
            size_t n;
            if (kn_model_predict(m, f, &p, &n) == KN_OK) kn_free(p);
            kn_frame_free(f);
        }
        kn_model_free(m);
    }
    remove(path);
    return 0;
}
