/* libFuzzer harness: the artifact loader (kn_artifact_decode) on arbitrary
 * bytes, twice: as they are (magic, version, end marker, checksum, signature
 * flag), and as the body of a file (everything before the checksum) with a
 * valid checksum, flag and end marker appended, so the section parser, zstd
 * and the pipeline, held-out and drift-reference decoders behind the
 * checksum get fuzzed too. A decoded pipeline then predicts one row of its
 * input columns; a decoded drift reference is tested against a few numbers
 * and must encode back to the same bytes; a decoded sample of reference
 * rows (KN_ART_REFERENCE_ROWS) must hold as many values as its frame says. */
#include "kiln/artifact.h"
#include "kiln/drift_ref.h"
#include "kiln/mem.h"

#include <math.h>

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
    kn_frame *rows = NULL;
    uint64_t from = 0;
    if (kn_artifact_reference_rows(a, "fuzz", &rows, &from) == KN_OK) {
        if (kn_frame_n_rows(rows) > from || !kn_frame_n_cols(rows)) __builtin_trap();
        double sum = 0;
        for (size_t j = 0; j < kn_frame_n_cols(rows); j++)
            for (size_t i = 0; i < kn_frame_n_rows(rows); i++)
                sum += kn_column_number(kn_frame_col(rows, j), i);
        (void)sum;
        kn_frame_free(rows);
    }
    const void *rb = kn_artifact_get(a, KN_ART_REFERENCE, &n);
    kn_drift_ref *r = NULL;
    if (!rb || kn_drift_ref_decode(rb, n, "fuzz", &r) != KN_OK) return;
    const double batch[] = {-1, 0, 0.5, NAN, 3, 1e300};
    for (size_t j = 0; j < kn_drift_ref_n_cols(r); j++) {
        kn_drift_col c;
        int tested = 0;
        if (!kn_drift_ref_text(r, j) &&
            kn_drift_ref_numbers(r, j, batch, sizeof batch / sizeof *batch, NULL, &c, &tested) ==
                KN_OK)
            kn_drift_col_free(&c);
    }
    unsigned char *again = NULL;
    size_t len = 0;
    if (kn_drift_ref_encode(r, &again, &len) == KN_OK && (len != n || memcmp(again, rb, n)))
        __builtin_trap(); /* a decoded reference encodes to the bytes it came from */
    kn_free(again);
    kn_drift_ref_free(r);
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
