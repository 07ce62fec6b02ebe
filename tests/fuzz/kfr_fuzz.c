/* libFuzzer harness: the .kfr loader on arbitrary bytes. The checksum is
 * recomputed over the mutated bytes so the parser behind it is exercised,
 * not only the checksum check. */
#include "kiln/io.h"

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
    if (size >= 72) crypto_generichash(buf + size - 40, 32, buf, size - 40, NULL, 0);
    char path[64];
    snprintf(path, sizeof path, "/tmp/kiln-fuzz-%d.kfr", (int)getpid());
    FILE *f = fopen(path, "wb");
    if (f) {
        fwrite(buf, 1, size, f);
        fclose(f);
        kn_frame *fr = NULL;
        if (kn_frame_read(path, NULL, &fr, NULL) == KN_OK) kn_frame_free(fr);
        remove(path);
    }
    free(buf);
    return 0;
}
