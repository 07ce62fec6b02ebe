/* Internal: numbers as text. One rule for every double Kiln writes for
 * people or files (JSON, parameters, CSV): the shortest of %.15g, %.16g
 * and %.17g that reads back to the same double. */
#ifndef KILN_FORMAT_IMPL_H
#define KILN_FORMAT_IMPL_H

#include <stddef.h>

/* v into buf (cap >= 32 holds any double); returns the length, which
 * snprintf's rules (buf may be NULL with cap 0 to measure). NaN and
 * infinities come out as snprintf writes them. */
int kn__format_shortest(double v, char *buf, size_t cap);

#endif
