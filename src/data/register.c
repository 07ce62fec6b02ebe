/* The data layer's builtin components: one line per reader or writer. */
#include "data/io-impl.h"
#include "kiln/init.h"
#include "kiln/registry.h"

#include <pthread.h>

/* A format read whole, handed out in slices: its reader's open. */
#define SLICED_OPEN(fmt, read)                                                                     \
    static kn_status fmt##_open(const char *path, const kn_read_opts *o, size_t batch_rows,        \
                                kn_read_report *rep, void **state, kn_frame **schema)              \
    {                                                                                              \
        return kn__sliced_open(read, path, o, batch_rows, rep, state, schema);                     \
    }
SLICED_OPEN(arff, kn__arff_read)
SLICED_OPEN(libsvm, kn__libsvm_read)
SLICED_OPEN(jsonl, kn__jsonl_read)
SLICED_OPEN(kfr, kn__kfr_read)

static const kn_reader_vt csv_reader = {kn__csv_open, kn__csv_next, kn__csv_close},
                          arff_reader = {arff_open, kn__sliced_next, kn__sliced_close},
                          libsvm_reader = {libsvm_open, kn__sliced_next, kn__sliced_close},
                          jsonl_reader = {jsonl_open, kn__sliced_next, kn__sliced_close},
                          kfr_reader = {kfr_open, kn__sliced_next, kn__sliced_close};
static const kn_writer_vt csv_writer = {kn__csv_write}, arff_writer = {kn__arff_write},
                          libsvm_writer = {kn__libsvm_write}, jsonl_writer = {kn__jsonl_write},
                          kfr_writer = {kn__kfr_write};

static const kn_component formats[] = {
    {KN_COMP_READER, "csv", "comma/tab/semicolon separated text (RFC 4180)", NULL, 0, &csv_reader},
    {KN_COMP_READER, "arff", "Weka ARFF (dense and sparse rows)", NULL, 0, &arff_reader},
    {KN_COMP_READER, "libsvm", "LIBSVM/SVMlight sparse text", NULL, 0, &libsvm_reader},
    {KN_COMP_READER, "jsonl", "JSON Lines: one object per line", NULL, 0, &jsonl_reader},
    {KN_COMP_READER, "kfr", "Kiln binary columnar frame (zstd, BLAKE2b)", NULL, 0, &kfr_reader},
    {KN_COMP_WRITER, "csv", "comma separated text (RFC 4180)", NULL, 0, &csv_writer},
    {KN_COMP_WRITER, "arff", "Weka ARFF", NULL, 0, &arff_writer},
    {KN_COMP_WRITER, "libsvm", "LIBSVM sparse text (numeric columns)", NULL, 0, &libsvm_writer},
    {KN_COMP_WRITER, "jsonl", "JSON Lines", NULL, 0, &jsonl_writer},
    {KN_COMP_WRITER, "kfr", "Kiln binary columnar frame", NULL, 0, &kfr_writer},
};

static void register_formats(void)
{
    for (size_t i = 0; i < sizeof formats / sizeof *formats; i++) kn_registry_add(&formats[i]);
}

void kn_data_register(void)
{
    static pthread_once_t once = PTHREAD_ONCE_INIT;
    pthread_once(&once, register_formats);
}
