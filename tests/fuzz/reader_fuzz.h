/* Shared body of the reader fuzz harnesses: write the input to a file with
 * the format's extension and read it, whole and by batches of 7 rows (the
 * batch reader's window-by-window path); a read either succeeds with a
 * consistent report or fails with a message, and never crashes. When both
 * succeed they keep the same number of rows. */
#ifndef KILN_READER_FUZZ_H
#define KILN_READER_FUZZ_H

#include "kiln/reader.h"

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
    size_t whole_rows = SIZE_MAX;
    if (kn_frame_read(path, &o, &fr, &rep) == KN_OK) {
        if (rep.rows_kept != kn_frame_n_rows(fr)) abort();
        whole_rows = kn_frame_n_rows(fr);
        kn_frame_free(fr);
    }
    kn_reader *rd;
    if (kn_reader_open(path, &o, 7, &rd) == KN_OK) {
        size_t cols = kn_frame_n_cols(kn_reader_schema(rd)), rows = 0;
        kn_status s;
        kn_frame *b;
        while ((s = kn_reader_next(rd, &b)) == KN_OK && b) {
            if (kn_frame_n_rows(b) < 1 || kn_frame_n_rows(b) > 7 || kn_frame_n_cols(b) != cols)
                abort();
            rows += kn_frame_n_rows(b);
            kn_frame_free(b);
        }
        if (s == KN_OK && (kn_reader_report(rd)->rows_kept != rows ||
                           (whole_rows != SIZE_MAX && rows != whole_rows)))
            abort();
        kn_reader_close(rd);
    }
    remove(o.quarantine);
    remove(path);
    return 0;
}

#endif
