/* The shortest round-trip text of a double (core/format-impl.h). */
#include "core/format-impl.h"

#include <stdio.h>
#include <stdlib.h>

int kn__format_shortest(double v, char *buf, size_t cap)
{
    char t[40];
    for (int prec = 15; prec <= 17; prec++) {
        snprintf(t, sizeof t, "%.*g", prec, v);
        if (strtod(t, NULL) == v) break; /* 17 digits always read back */
    }
    return snprintf(buf, cap, "%s", t);
}
