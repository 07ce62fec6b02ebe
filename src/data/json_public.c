/* The public names of the JSON writer (kiln/json.h); the work is in
 * json_write.c and core/format.c; kn_profile_json
 * is defined by the prep layer (prep/profile_json.c). */
#include "kiln/json.h"
#include "core/format-impl.h"
#include "data/json-impl.h"

int kn_json_write(const json_t *v, FILE *fp, int indent)
{
    return kn__json_write(v, fp, indent);
}

char *kn_json_text(const json_t *v, int indent)
{
    return kn__json_text(v, indent);
}

int kn_format_double(double v, char *buf, size_t cap)
{
    return kn__format_shortest(v, buf, cap);
}
