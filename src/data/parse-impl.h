/* Internal: exact text-to-value parsers shared by every reader. */
#ifndef KILN_PARSE_IMPL_H
#define KILN_PARSE_IMPL_H

#include "kiln/core.h"

#include <stdio.h>

/* Parse a decimal number at p (no leading spaces): [+-]digits[.digits][e[+-]digits],
 * also "inf", "infinity", "nan" (any case). Returns the end of the number, or NULL
 * when p does not start with one. The result equals strtod's to the last bit. */
const char *kn__parse_double(const char *p, const char *end, double *out);

/* Parse an ISO-8601 date or date-time filling [p, end) exactly:
 * YYYY-MM-DD[(T| )HH:MM[:SS[.ffffff]]][Z|(+|-)HH[:]MM] into microseconds since
 * the Unix epoch, UTC. Returns 1 on success, 0 otherwise. */
int kn__parse_timestamp(const char *p, const char *end, int64_t *out);

/* Write a timestamp as ISO-8601 UTC ("2024-05-01T12:00:00Z", with .ffffff when
 * needed) into buf (at least 40 bytes). Returns the length. */
int kn__format_timestamp(int64_t us, char *buf, size_t cap);

/* Shortest text that parses back to exactly v ("%.15g", then 16, then 17). */
int kn__format_double(double v, char *buf, size_t cap);

/* Write the shortest exact form of v, or the ISO-8601 text of a timestamp, to fp. */
void kn__put_double(FILE *fp, double v);
void kn__put_timestamp(FILE *fp, int64_t us);

/* 1 if s[0..n) is valid UTF-8. */
int kn__utf8_valid(const unsigned char *s, size_t n);

#endif
