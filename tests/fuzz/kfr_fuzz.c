/* libFuzzer harness: the .kfr loader on arbitrary bytes (checksum recomputed,
 * see checksum_fuzz.h). */
#include "checksum_fuzz.h"
#include "data/io-impl.h"
#include "kiln/io.h"

static void kfr_sum(const unsigned char *p, size_t n, unsigned char out[32])
{
    kn__kfr_checksum(p, n, out);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char path[64];
    if (!fuzz_write_checksummed(data, size, 72, kfr_sum, ".kfr", path)) return 0;
    kn_frame *fr = NULL;
    if (kn_frame_read(path, NULL, &fr, NULL) == KN_OK) kn_frame_free(fr);
    remove(path);
    return 0;
}
