/* libFuzzer harness for the libsvm reader (see reader_fuzz.h). */
#include "reader_fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    return fuzz_read(data, size, ".svm");
}
