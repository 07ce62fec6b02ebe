/* The builtin component list: one line per component. This file sits in the
 * topmost layer of the library built so far; it moves up as layers are added. */
#include "core/registry-impl.h"
#include "data/io-impl.h"

static const kn_reader_vt csv_reader = {kn__csv_read};
static const kn_writer_vt csv_writer = {kn__csv_write};

static const kn_component builtins[] = {
    {KN_COMP_READER, "csv", "comma/tab/semicolon separated text (RFC 4180)", NULL, 0, &csv_reader},
    {KN_COMP_WRITER, "csv", "comma separated text (RFC 4180)", NULL, 0, &csv_writer},
};

void kn__register_builtins(void)
{
    for (size_t i = 0; i < sizeof builtins / sizeof *builtins; i++)
        kn__registry_add_builtin(&builtins[i]);
}
