/* Shared by the harnesses of checksummed binary formats (.kfr, .kst, .kmd): the
 * fuzzer's bytes are written to a file with the checksum in the 32 bytes
 * before the 8-byte end marker recomputed, so the decoder behind the
 * checksum check is what gets fuzzed. */
#ifndef KILN_CHECKSUM_FUZZ_H
#define KILN_CHECKSUM_FUZZ_H

#include <sodium.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

typedef void (*fuzz_checksum_fn)(const unsigned char *p, size_t n, unsigned char out[32]);

/* The container checksum (.kst, .kmd): BLAKE2b-256 of everything before it. */
static inline void fuzz_blake2b(const unsigned char *p, size_t n, unsigned char out[32])
{
    crypto_generichash(out, 32, p, n, NULL, 0);
}

/* Writes the file; returns 0 when it could not. path needs 64 bytes. */
static int fuzz_write_checksummed(const uint8_t *data, size_t size, size_t min_size,
                                  fuzz_checksum_fn sum, const char *suffix, char *path)
{
    unsigned char *buf = malloc(size + 1);
    if (!buf) return 0;
    memcpy(buf, data, size);
    if (size >= min_size) sum(buf, size - 40, buf + size - 40);
    snprintf(path, 64, "/tmp/kiln-fuzz-%d%s", (int)getpid(), suffix);
    FILE *f = fopen(path, "wb");
    int ok = f != NULL;
    if (f) {
        fwrite(buf, 1, size, f);
        fclose(f);
    }
    free(buf);
    return ok;
}

#endif
