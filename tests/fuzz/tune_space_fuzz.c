/* libFuzzer harness for the search-space YAML parser (kiln tune --space):
 * any input parses or fails with a message, for a model with many kinds of
 * parameter (gbdt) and one with conditional ones (elastic_net); a parsed
 * space has at least one parameter, each named once, and every name is
 * one the space says it has. */
#include "kiln/init.h"
#include "kiln/tune.h"

#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    kn_init();
    static const char *const models[] = {"gbdt", "elastic_net"};
    for (size_t m = 0; m < 2; m++) {
        kn_tune_space *sp;
        if (kn_tune_space_parse((const char *)data, size, "fuzz/space.yaml", models[m], &sp) !=
            KN_OK)
            continue;
        size_t n = kn_tune_space_size(sp);
        if (!n) abort();
        for (size_t i = 0; i < n; i++) {
            const char *name = kn_tune_space_name(sp, i);
            if (!name || !kn_tune_space_has(sp, name)) abort();
            for (size_t j = 0; j < i; j++)
                if (!strcmp(name, kn_tune_space_name(sp, j))) abort();
        }
        kn_tune_space_free(sp);
    }
    return 0;
}
