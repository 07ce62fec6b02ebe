/* libFuzzer harness: the fitted-steps loader (.kst) on arbitrary bytes
 * (checksum recomputed, see checksum_fuzz.h); loaded steps are then applied
 * to a small frame. */
#include "checksum_fuzz.h"
#include "kiln/demo.h"
#include "kiln/mem.h"
#include "kiln/step.h"

#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (sodium_init() < 0) return 0;
    char path[64];
    if (!fuzz_write_checksummed(data, size, 60, fuzz_blake2b, ".kst", path)) return 0;
    kn_step **steps;
    size_t n;
    if (kn_steps_load(path, &steps, &n) == KN_OK) {
        kn_frame *fr;
        if (kn_demo_frame(50, 1, &fr) == KN_OK) {
            for (size_t k = 0; k < n; k++) {
                kn_frame *g;
                if (kn_step_transform(steps[k], fr, &g) == KN_OK) {
                    kn_frame_free(fr);
                    fr = g;
                }
            }
            kn_frame_free(fr);
        }
        for (size_t k = 0; k < n; k++) kn_step_free(steps[k]);
        kn_free(steps);
    }
    remove(path);
    return 0;
}
