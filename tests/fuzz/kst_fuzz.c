/* libFuzzer harness: the fitted-steps loader (.kst) on arbitrary bytes. The
 * checksum is recomputed over the mutated bytes so the decoder behind it is
 * exercised; a loaded set of steps is then applied to a small frame. */
#include "kiln/demo.h"
#include "kiln/mem.h"
#include "kiln/step.h"

#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (sodium_init() < 0) return 0;
    unsigned char *buf = malloc(size + 1);
    if (!buf) return 0;
    memcpy(buf, data, size);
    if (size >= 60) crypto_generichash(buf + size - 40, 32, buf, size - 40, NULL, 0);
    char path[64];
    snprintf(path, sizeof path, "/tmp/kiln-fuzz-%d.kst", (int)getpid());
    FILE *f = fopen(path, "wb");
    if (f) {
        fwrite(buf, 1, size, f);
        fclose(f);
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
    }
    free(buf);
    return 0;
}
