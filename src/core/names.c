/* "Did you mean": the closest of a set of names (kiln/names.h, names-impl.h). */
#include "kiln/names.h"
#include "core/names-impl.h"

#include <ctype.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

size_t kn_name_distance(const char *a, const char *b)
{
    size_t n = strlen(a), m = strlen(b);
    if (n > 64) n = 64;
    if (m > 64) m = 64;
    size_t d[65][65];
    for (size_t i = 0; i <= n; i++) d[i][0] = i;
    for (size_t k = 0; k <= m; k++) d[0][k] = k;
    for (size_t i = 1; i <= n; i++)
        for (size_t k = 1; k <= m; k++) {
            int x = tolower((unsigned char)a[i - 1]), y = tolower((unsigned char)b[k - 1]);
            size_t best = d[i - 1][k - 1] + (x != y);
            if (d[i - 1][k] + 1 < best) best = d[i - 1][k] + 1;
            if (d[i][k - 1] + 1 < best) best = d[i][k - 1] + 1;
            if (i > 1 && k > 1 && x == tolower((unsigned char)b[k - 2]) &&
                tolower((unsigned char)a[i - 2]) == y && d[i - 2][k - 2] + 1 < best)
                best = d[i - 2][k - 2] + 1;
            d[i][k] = best;
        }
    return d[n][m];
}

int kn_name_is_close(const char *wanted, size_t distance)
{
    return distance <= (strlen(wanted) > 5 ? 2 : 1);
}

void kn__closest_offer(kn__closest *c, const char *wanted, const char *candidate)
{
    size_t d = kn_name_distance(wanted, candidate);
    if (!c->name || d < c->distance) c->name = candidate, c->distance = d;
}

const char *kn__closest_hint(const kn__closest *c, const char *wanted, char *buf, size_t cap)
{
    if (!cap) return buf;
    buf[0] = 0;
    if (c->name && kn_name_is_close(wanted, c->distance))
        snprintf(buf, cap, " (did you mean '%s'?)", c->name);
    return buf;
}
