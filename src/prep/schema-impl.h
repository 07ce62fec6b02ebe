/* Internal helpers shared by the schema files. */
#ifndef KILN_SCHEMA_IMPL_H
#define KILN_SCHEMA_IMPL_H

#include "kiln/schema.h"

/* KN_OK when pattern compiles as a POSIX extended regex; else KN_ERR_INVALID
 * with the regex library's message. */
kn_status kn__schema_check_pattern(const char *pattern);

#endif
