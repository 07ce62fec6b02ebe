/* The public names of the JSON writer (kiln/json.h); the work is in
 * json_write.c, profile_json.c and core/format.c. */
#include "kiln/json.h"
#include "core/format-impl.h"
#include "data/json-impl.h"
#include "data/profile-impl.h"

int kn_json_write(const json_t *v, FILE *fp, int indent)
{
    return kn__json_write(v, fp, indent);
}

char *kn_json_text(const json_t *v, int indent)
{
    return kn__json_text(v, indent);
}

json_t *kn_profile_json(const kn_profile *p)
{
    return kn__profile_json(p);
}

int kn_format_double(double v, char *buf, size_t cap)
{
    return kn__format_shortest(v, buf, cap);
}
