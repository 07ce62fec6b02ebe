/* Exact decimal-to-double parsing.
 *
 * The significand w (at most 19 significant digits) and the power of ten q
 * are read in one pass. Then:
 *  1. w <= 2^53 and 0 <= q <= 22: w * 10^q is one correctly rounded IEEE
 *     multiplication of exact operands (Clinger), hence exact.
 *  2. Otherwise Eisel-Lemire (Lemire 2021): multiply w by a 128-bit
 *     truncation of 5^q from a table generated at build time
 *     (tools/gen_pow5.c) and read the rounded mantissa off the product;
 *     the few products too close to a rounding boundary to decide, and
 *     subnormal or overflowing results, are refused.
 *  3. Refused cases and significands over 19 digits go to strtod on a
 *     bounded copy.
 * So the result always equals strtod's, bit for bit (tested on random input).
 */
#include "core/format-impl.h"
#include "data/parse-impl.h"
#include "pow5_table.h"

const uint64_t (*const kn__pow5)[2] = kn_pow5_128;

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

const double kn__pow10_exact[23] = {1e0,  1e1,  1e2,  1e3,  1e4,  1e5,  1e6,  1e7,
                                    1e8,  1e9,  1e10, 1e11, 1e12, 1e13, 1e14, 1e15,
                                    1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22};

static const char *parse_special(const char *p, const char *end, int neg, double *out)
{
    size_t n = (size_t)(end - p);
    if (n >= 8 && strncasecmp(p, "infinity", 8) == 0) {
        *out = neg ? -INFINITY : INFINITY;
        return p + 8;
    }
    if (n >= 3 && strncasecmp(p, "inf", 3) == 0) {
        *out = neg ? -INFINITY : INFINITY;
        return p + 3;
    }
    if (n >= 3 && strncasecmp(p, "nan", 3) == 0) {
        *out = NAN;
        return p + 3;
    }
    return NULL;
}

/* strtod on a NUL-terminated copy of [start, stop). */
static const char *slow_path(const char *start, const char *stop, double *out)
{
    char buf[512];
    size_t n = (size_t)(stop - start);
    char *s = buf;
    if (n >= sizeof buf) {
        s = malloc(n + 1);
        if (!s) return NULL;
    }
    memcpy(s, start, n);
    s[n] = '\0';
    char *e;
    *out = strtod(s, &e);
    const char *r = (e == s + n) ? stop : NULL;
    if (s != buf) free(s);
    return r;
}

const char *kn__parse_double(const char *p, const char *end, double *out)
{
    const char *start = p;
    int neg = 0;
    if (p < end && (*p == '-' || *p == '+')) {
        neg = *p == '-';
        p++;
    }
    if (p == end) return NULL;
    if ((unsigned)(*p - '0') > 9 && *p != '.') return parse_special(p, end, neg, out);

    uint64_t w;
    size_t n_int, n_frac;
    const char *q = kn__scan_decimal(p, end, &w, &n_int, &n_frac);
    if (n_int + n_frac == 0) return NULL;
    int64_t e10 = 0;
    if (q < end && (*q == 'e' || *q == 'E')) {
        const char *r = q + 1;
        int eneg = 0;
        if (r < end && (*r == '-' || *r == '+')) {
            eneg = *r == '-';
            r++;
        }
        if (r < end && (unsigned)(*r - '0') <= 9) {
            while (r < end && (unsigned)(*r - '0') <= 9) {
                if (e10 < 100000) e10 = e10 * 10 + (*r - '0');
                r++;
            }
            if (eneg) e10 = -e10;
            q = r;
        }
    }
    if (n_int + n_frac > 19) {
        /* leading zeros do not count against the 19 significant digits */
        const char *d = p;
        size_t zeros = 0;
        while (d < q && (*d == '0' || *d == '.')) zeros += *d++ == '0';
        if (n_int + n_frac - zeros > 19) return slow_path(start, q, out);
    }
    if (w == 0) {
        *out = neg ? -0.0 : 0.0;
        return q;
    }
    int64_t e = e10 - (int64_t)n_frac;
    if (w <= (1ull << 53) && e >= 0 && e <= 22) {
        double d = (double)w * kn__pow10_exact[e];
        *out = neg ? -d : d;
        return q;
    }
    if (kn__eisel_lemire(w, e, neg, out)) return q;
    return slow_path(start, q, out);
}

/* Fixed-point fast path: the smallest k <= 9 with v == m / 10^k for an
 * integer m <= 2^53. Then "m with k decimals" parses back to exactly v (one
 * correctly rounded division of exact operands) and is the shortest such
 * text. Covers most tabular data without snprintf and strtod. */
static int format_fixed(double v, char *buf, size_t cap)
{
    /* integers up to 2^53 in full: an identifier never prints as "1e+15" */
    int whole = fabs(v) <= 9007199254740992.0 && v == nearbyint(v);
    if (!(fabs(v) < 1e15 || whole) || cap < 40) return -1;
    for (int k = 0; k <= 9; k++) {
        double m = nearbyint(v * kn__pow10_exact[k]);
        if (fabs(m) > 9007199254740992.0 || m / kn__pow10_exact[k] != v) continue;
        char digits[24];
        uint64_t u = (uint64_t)fabs(m);
        int n = 0;
        do {
            digits[n++] = (char)('0' + u % 10);
            u /= 10;
        } while (u);
        while (n <= k) digits[n++] = '0'; /* at least one digit before the point */
        int len = 0;
        if (signbit(v)) buf[len++] = '-';
        for (int i = n - 1; i >= 0; i--) {
            buf[len++] = digits[i];
            if (i == k && k > 0) buf[len++] = '.';
        }
        buf[len] = '\0';
        return len;
    }
    return -1;
}

int kn__format_double(double v, char *buf, size_t cap)
{
    if (isnan(v)) return snprintf(buf, cap, "NaN");
    if (isinf(v)) return snprintf(buf, cap, v < 0 ? "-inf" : "inf");
    int fixed = format_fixed(v, buf, cap);
    if (fixed >= 0) return fixed;
    return kn__format_shortest(v, buf, cap);
}

void kn__put_double(FILE *fp, double v)
{
    char buf[40];
    int n = kn__format_double(v, buf, sizeof buf);
    fwrite(buf, 1, (size_t)n, fp);
}

int kn__utf8_valid(const unsigned char *s, size_t n)
{
    size_t i = 0;
    while (i < n) {
        unsigned char c = s[i];
        if (c < 0x80) {
            i++;
            continue;
        }
        size_t len;
        uint32_t cp;
        if ((c & 0xe0) == 0xc0) {
            len = 2;
            cp = c & 0x1f;
        } else if ((c & 0xf0) == 0xe0) {
            len = 3;
            cp = c & 0x0f;
        } else if ((c & 0xf8) == 0xf0) {
            len = 4;
            cp = c & 0x07;
        } else {
            return 0;
        }
        if (i + len > n) return 0;
        for (size_t k = 1; k < len; k++) {
            if ((s[i + k] & 0xc0) != 0x80) return 0;
            cp = (cp << 6) | (s[i + k] & 0x3f);
        }
        /* overlong forms, surrogates, beyond U+10FFFF */
        if ((len == 2 && cp < 0x80) || (len == 3 && cp < 0x800) || (len == 4 && cp < 0x10000) ||
            (cp >= 0xd800 && cp <= 0xdfff) || cp > 0x10ffff)
            return 0;
        i += len;
    }
    return 1;
}

/* [+-] then digits only, at [p, end); *digits is where the digits start. */
static int integer_literal(const char *p, const char *end, const char **digits)
{
    if (p < end && (*p == '-' || *p == '+')) p++;
    *digits = p;
    if (p == end) return 0;
    for (; p < end; p++)
        if ((unsigned)(*p - '0') > 9) return 0;
    return 1;
}

int kn__parse_int64(const char *p, const char *end, int allow_zeros, int64_t *out)
{
    const char *d;
    if (!integer_literal(p, end, &d)) return 0;
    if (!allow_zeros && end - d > 1 && *d == '0') return 0;
    while (end - d > 1 && *d == '0') d++;
    if (end - d > 19) return 0;
    uint64_t v = 0;
    for (; d < end; d++) {
        uint64_t digit = (uint64_t)(*d - '0');
        if (v > (UINT64_MAX - digit) / 10) return 0;
        v = v * 10 + digit;
    }
    if (v > (uint64_t)INT64_MAX) return 0; /* INT64_MIN marks missing cells */
    *out = *p == '-' ? -(int64_t)v : (int64_t)v;
    return 1;
}

kn_num_shape kn__number_shape(const char *p, const char *end)
{
    const char *d = p;
    if (d < end && (*d == '-' || *d == '+')) d++;
    if (end - d > 1 && d[0] == '0' && (unsigned)(d[1] - '0') <= 9) return KN_SHAPE_TEXT;
    const char *digits;
    if (!integer_literal(p, end, &digits)) return KN_SHAPE_REAL;
    int64_t v;
    if (!kn__parse_int64(p, end, 0, &v)) return KN_SHAPE_TEXT;
    uint64_t mag = v < 0 ? -(uint64_t)v : (uint64_t)v;
    return mag > (1ull << 53) ? KN_SHAPE_BIGINT : KN_SHAPE_INT;
}

int kn__format_int64(int64_t v, char *buf)
{
    char digits[24];
    uint64_t u = v < 0 ? -(uint64_t)v : (uint64_t)v;
    int n = 0, len = 0;
    do {
        digits[n++] = (char)('0' + u % 10);
        u /= 10;
    } while (u);
    if (v < 0) buf[len++] = '-';
    while (n) buf[len++] = digits[--n];
    buf[len] = '\0';
    return len;
}

void kn__put_int64(FILE *fp, int64_t v)
{
    char buf[24];
    int n = kn__format_int64(v, buf);
    fwrite(buf, 1, (size_t)n, fp);
}
