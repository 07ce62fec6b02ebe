/* libFuzzer harness: the artifact loader (kn_artifact_decode) on arbitrary
 * bytes, twice: as they are (magic, version, end marker, checksum, signature
 * flag), and as the body of a file (everything before the checksum) with a
 * valid checksum, flag and end marker appended, so the section parser, zstd
 * and the pipeline and held-out decoders behind the checksum get fuzzed too.
 * A decoded pipeline then predicts one row of its input columns. */
#include "kiln/artifact.h"
#include "kiln/mem.h"

#include <sodium.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void use(const kn_artifact *a)
{
    kn_pipeline *p = NULL;
    if (kn_artifact_pipeline(a, &p) == KN_OK) {
        const kn_steps_input *in = kn_pipeline_input(p);
        if (in && kn_pipeline_model(p) && in->n_cols <= 64) {
            const char *values[64];
            for (size_t j = 0; j < in->n_cols; j++) values[j] = j % 2 ? "1.5" : "a";
            double y;
            (void)kn_pipeline_predict_row(p, (const char *const *)in->names, values, in->n_cols, &y,
                                          NULL);
        }
        kn_pipeline_free(p);
    }
    size_t n = 0;
    const void *h = kn_artifact_get(a, KN_ART_HELDOUT, &n);
    kn_heldout ho;
    if (h && kn_heldout_decode(h, n, "fuzz", &ho) == KN_OK) kn_heldout_free(&ho);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (sodium_init() < 0) return 0;
    kn_artifact *a = NULL;
    if (kn_artifact_decode(data, size, "fuzz", NULL, &a) == KN_OK) {
        use(a);
        kn_artifact_free(a);
    }
    unsigned char *buf = malloc(size + 41);
    if (!buf) return 0;
    if (size) memcpy(buf, data, size);
    crypto_generichash(buf + size, 32, buf, size, NULL, 0);
    buf[size + 32] = 0;
    memcpy(buf + size + 33, "KILNEND1", 8);
    if (kn_artifact_decode(buf, size + 41, "fuzz", NULL, &a) == KN_OK) {
        use(a);
        kn_artifact_free(a);
    }
    free(buf);
    return 0;
}
