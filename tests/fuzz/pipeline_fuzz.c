/* libFuzzer harness: a pipeline's decoder (kn_pipeline_decode, what an
 * artifact holds) on arbitrary bytes; a decoded pipeline then predicts one
 * row of its input columns. */
#include "kiln/mem.h"
#include "kiln/pipeline.h"

#include <stdint.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    kn_pipeline *p = NULL;
    if (kn_pipeline_decode(data, size, "fuzz", &p) != KN_OK) return 0;
    const kn_steps_input *in = kn_pipeline_input(p);
    if (in && kn_pipeline_model(p) && in->n_cols <= 64) {
        const char *values[64];
        for (size_t j = 0; j < in->n_cols; j++) values[j] = j % 2 ? "1.5" : "a";
        double y;
        (void)kn_pipeline_predict_row(p, (const char *const *)in->names, values, in->n_cols, &y,
                                      NULL);
    }
    kn_pipeline_free(p);
    return 0;
}
