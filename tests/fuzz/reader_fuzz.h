/* Shared body of the reader fuzz harnesses: write the input to a file with
 * the format's extension and read it; a read either succeeds with a
 * consistent report or fails with a message, and never crashes. */
#ifndef KILN_READER_FUZZ_H
#define KILN_READER_FUZZ_H

#include "kiln/io.h"

#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int fuzz_read(const uint8_t *data, size_t size, const char *suffix)
{
    char path[64];
    snprintf(path, sizeof path, "/tmp/kiln-fuzz-%d%s", (int)getpid(), suffix);
    FILE *f = fopen(path, "wb");
    if (!f) return 0;
    fwrite(data, 1, size, f);
    fclose(f);
    kn_read_opts o;
    kn_read_opts_default(&o);
    o.threads = 2;
    o.block_kib = 1;          /* exercise block boundaries */
    o.on_bad_rows = size % 3; /* fail, skip, quarantine */
    char rejects[80];
    snprintf(rejects, sizeof rejects, "%s.rejects", path);
    o.quarantine = rejects;
    kn_frame *fr = NULL;
    kn_read_report rep;
    if (kn_frame_read(path, &o, &fr, &rep) == KN_OK) {
        if (rep.rows_kept != kn_frame_n_rows(fr)) abort();
        kn_frame_free(fr);
    }
    remove(o.quarantine);
    remove(path);
    return 0;
}

#endif
