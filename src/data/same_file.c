/* kn_same_file: do two paths name one file? (Outputs must not replace inputs.) */
#include "kiln/io.h"

#include <string.h>
#include <sys/stat.h>

int kn_same_file(const char *a, const char *b)
{
    if (!a || !b || !strcmp(a, "-") || !strcmp(b, "-")) return 0;
    struct stat sa, sb;
    if (stat(a, &sa) != 0 || stat(b, &sb) != 0) return 0;
    return sa.st_dev == sb.st_dev && sa.st_ino == sb.st_ino;
}
