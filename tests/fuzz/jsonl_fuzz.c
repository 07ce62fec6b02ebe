/* libFuzzer harness: the jsonl reader on arbitrary bytes must either read a
 * frame or fail with a message; never crash, leak or hang. */
#include "kiln/io.h"

#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char path[64];
    snprintf(path, sizeof path, "/tmp/kiln-fuzz-%d.jsonl", (int)getpid());
    FILE *f = fopen(path, "wb");
    if (!f) return 0;
    fwrite(data, 1, size, f);
    fclose(f);
    kn_read_opts o;
    kn_read_opts_default(&o);
    o.threads = 2;
    o.block_kib = 1;          /* exercise block boundaries */
    o.on_bad_rows = size % 3; /* fail, skip, quarantine */
    snprintf(o.quarantine, sizeof o.quarantine, "%s.rejects", path);
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
