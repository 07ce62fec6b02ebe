/* Kiln's JSON output: one writer for every JSON that Kiln writes (command
 * output, profiles, JSON Lines rows), so numbers look the same everywhere.
 * Values are jansson trees (<jansson.h>); this header only names the type.
 *
 *     json_t *o = json_pack("{s:f}", "x", 0.1);
 *     kn_json_write(o, stdout, 2);   // {\n  "x": 0.1\n}: shortest form, not 0.10000000000000001
 *     json_decref(o);
 *
 * A real is printed in the shortest form that reads back to the same double
 * (kn_format_double), with ".0" added to a whole number so it reads back as
 * a real. Object members keep their insertion order.
 *
 * Threading: every function works only on what it is given.
 */
#ifndef KILN_JSON_H
#define KILN_JSON_H

#include "kiln/core.h"
#include "kiln/profile.h"

#include <stddef.h>
#include <stdio.h>

#ifdef __cplusplus
extern "C" {
#endif

struct json_t; /* jansson's value */

/* Write v to fp. indent > 0: one member per line, indented by `indent`
 * spaces per level; 0: one line without spaces. Returns 0, or -1 when fp
 * reports an error. */
KN_API int kn_json_write(const struct json_t *v, FILE *fp, int indent);
/* The same as text. Returns a new string; free with free() (not kn_free).
 * NULL when out of memory. */
KN_API char *kn_json_text(const struct json_t *v, int indent);
/* A profile as a JSON tree (what kn_profile_save_json writes). Returns a
 * new reference; release with json_decref(). NULL when out of memory. */
KN_API struct json_t *kn_profile_json(const kn_profile *p);
/* v into buf (cap >= 32 holds any double) in the shortest of %.15g, %.16g
 * and %.17g that reads back to the same double; returns the length, by
 * snprintf's rules (buf may be NULL with cap 0 to measure). NaN and
 * infinities come out as snprintf writes them. */
KN_API int kn_format_double(double v, char *buf, size_t cap);

#ifdef __cplusplus
}
#endif
#endif
