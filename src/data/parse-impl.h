/* Internal: exact text-to-value parsers shared by every reader. */
#ifndef KILN_PARSE_IMPL_H
#define KILN_PARSE_IMPL_H

#include "kiln/core.h"

#include <stdio.h>
#include <string.h>

/* Parse a decimal number at p (no leading spaces): [+-]digits[.digits][e[+-]digits],
 * also "inf", "infinity", "nan" (any case). Returns the end of the number, or NULL
 * when p does not start with one. The result equals strtod's to the last bit. */
const char *kn__parse_double(const char *p, const char *end, double *out);

/* Shared with the inline fast path below. */
extern const uint64_t (*const kn__pow5)[2]; /* 128-bit 5^q, q in [-342, 308] */
extern const double kn__pow10_exact[23];

/* "[digits][.digits]" at p accumulated into *w, counting the digits before
 * and after the point; returns the end. A scalar loop: typical numbers are
 * short, and it measured faster here than 8-byte word tests. With more than
 * 19 digits *w is meaningless and callers take an exact slow path. */
static inline const char *kn__scan_decimal(const char *p, const char *end, uint64_t *w,
                                           size_t *n_int, size_t *n_frac)
{
    uint64_t v = 0;
    const char *q = p;
    while (q < end && (unsigned)(*q - '0') <= 9) v = v * 10 + (uint64_t)(*q++ - '0');
    *n_int = (size_t)(q - p);
    *n_frac = 0;
    if (q < end && *q == '.') {
        const char *f = ++q;
        while (q < end && (unsigned)(*q - '0') <= 9) v = v * 10 + (uint64_t)(*q++ - '0');
        *n_frac = (size_t)(q - f);
    }
    *w = v;
    return q;
}

/* Eisel-Lemire: w * 10^q for w != 0 into *out; 0 when it cannot decide. */
static inline int kn__eisel_lemire(uint64_t w, int64_t q, int neg, double *out)
{
    if (q < -342 || q > 308) return 0;
    int lz = __builtin_clzll(w);
    w <<= lz;
    const uint64_t *t = kn__pow5[q + 342];
    unsigned __int128 first = (unsigned __int128)w * t[0];
    uint64_t hi = (uint64_t)(first >> 64), lo = (uint64_t)first;
    if ((hi & 0x1ff) == 0x1ff) {
        /* the truncated table entry matters here: add the second product */
        unsigned __int128 second = (unsigned __int128)w * t[1];
        uint64_t s_hi = (uint64_t)(second >> 64);
        lo += s_hi;
        if (lo < s_hi) hi++;
        if (lo == UINT64_MAX && (q < -27 || q > 55)) return 0;
    }
    if (lo <= 1) return 0; /* possibly a halfway case: let strtod decide */
    int upper = (int)(hi >> 63);
    uint64_t mantissa = hi >> (upper + 9);
    int64_t power2 = (((152170 + 65536) * q) >> 16) + 63 + upper - lz + 1023;
    if (power2 <= 0) return 0; /* subnormal */
    mantissa += mantissa & 1;
    mantissa >>= 1;
    if (mantissa >= (2ull << 52)) {
        mantissa = 1ull << 52;
        power2++;
    }
    mantissa &= ~(1ull << 52);
    if (power2 >= 0x7ff) return 0; /* overflow */
    uint64_t bits = mantissa | (uint64_t)power2 << 52 | (uint64_t)neg << 63;
    memcpy(out, &bits, sizeof bits);
    return 1;
}

/* The common shape "[-]digits[.digits]" with at most 19 digits and nothing
 * after: parsed inline. Returns NULL for anything else (then use
 * kn__parse_double, which handles every form), and for the shapes a reader
 * must look at (kn__number_shape): leading zeros, and integer literals
 * beyond 2^53. */
static inline const char *kn__parse_double_fast(const char *p, const char *end, double *out)
{
    int neg = 0;
    if (p < end && *p == '-') {
        neg = 1;
        p++;
    }
    uint64_t w;
    size_t n_int, n_frac;
    const char *q = kn__scan_decimal(p, end, &w, &n_int, &n_frac);
    if (n_int + n_frac == 0 || n_int + n_frac > 19 || (q < end && (*q == 'e' || *q == 'E')) ||
        (n_int > 1 && *p == '0'))
        return NULL;
    if (n_frac == 0) {
        if (w > (1ull << 53)) return NULL;
        double d = (double)w;
        *out = neg ? -d : d;
        return q;
    }
    if (w <= (1ull << 53) && n_frac <= 22) {
        /* one correctly rounded division of exact operands (Clinger): exact */
        double d = (double)w / kn__pow10_exact[n_frac];
        *out = neg ? -d : d;
        return q;
    }
    if (w == 0) {
        *out = neg ? -0.0 : 0.0;
        return q;
    }
    return kn__eisel_lemire(w, -(int64_t)n_frac, neg, out) ? q : NULL;
}

/* kn__parse_double_fast for input known to hold a non-digit, non-sign,
 * non-dot byte before its end (a CSV part ending in '\n'): no bounds checks. */
static inline const char *kn__parse_double_sentinel(const char *p, double *out)
{
    int neg = *p == '-';
    p += neg;
    uint64_t w = 0;
    const char *q = p;
    while ((unsigned)(*q - '0') <= 9) w = w * 10 + (uint64_t)(*q++ - '0');
    size_t n_int = (size_t)(q - p), n_frac = 0;
    if (*q == '.') {
        const char *f = ++q;
        while ((unsigned)(*q - '0') <= 9) w = w * 10 + (uint64_t)(*q++ - '0');
        n_frac = (size_t)(q - f);
    }
    if (n_int + n_frac == 0 || n_int + n_frac > 19 || *q == 'e' || *q == 'E' ||
        (n_int > 1 && *p == '0'))
        return NULL;
    if (w <= (1ull << 53) && n_frac <= 22) {
        double d = (double)w / kn__pow10_exact[n_frac];
        *out = neg ? -d : d;
        return q;
    }
    if (n_frac == 0) return NULL; /* an integer a double may not hold */
    return kn__eisel_lemire(w, -(int64_t)n_frac, neg, out) ? q : NULL;
}

/* How number-like text must be kept so that it reads back byte for byte. */
typedef enum {
    KN_SHAPE_INT = 0,    /* integer literal of magnitude <= 2^53: exact as a double */
    KN_SHAPE_REAL = 1,   /* any other number kn__parse_double reads */
    KN_SHAPE_BIGINT = 2, /* integer literal beyond 2^53 within int64 (INT64_MIN excluded) */
    KN_SHAPE_TEXT = 3,   /* identifier-like: leading zeros ("007", "00.5"), or an
                            integer literal beyond int64 */
} kn_num_shape;

/* The shape of [p, end), which kn__parse_double reads whole. */
kn_num_shape kn__number_shape(const char *p, const char *end);

/* The exact value of the integer literal [+-]digits filling [p, end). Leading
 * zeros ("007") are refused unless allow_zeros. Returns 0 when the text is
 * no such literal or lies outside (INT64_MIN, INT64_MAX]. */
int kn__parse_int64(const char *p, const char *end, int allow_zeros, int64_t *out);

/* v in decimal into buf (at least 21 bytes, NUL-terminated); returns the length. */
int kn__format_int64(int64_t v, char *buf);
void kn__put_int64(FILE *fp, int64_t v);

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
