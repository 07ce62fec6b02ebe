/* Internal: Kiln's one JSON writer. Every JSON that Kiln writes (command
 * output, profiles, JSON Lines rows) goes through it, so numbers look the
 * same everywhere: a real is printed in the shortest form that reads back
 * to the same double (kn__format_double: 0.1, not 0.10000000000000001),
 * with ".0" added to a whole number so it reads back as a real. */
#ifndef KILN_JSON_IMPL_H
#define KILN_JSON_IMPL_H

#include <jansson.h>
#include <stdio.h>

/* Write v to fp. indent > 0: one member per line, indented by `indent`
 * spaces per level (jansson's JSON_INDENT layout); 0: one line without
 * spaces (JSON_COMPACT). Object members keep their insertion order.
 * Returns 0, or -1 when fp reports an error. */
int kn__json_write(const json_t *v, FILE *fp, int indent);

/* The same as a new string (free() it, not kn_free); NULL when out of memory. */
char *kn__json_text(const json_t *v, int indent);

#endif
