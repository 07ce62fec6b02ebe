/* Exact decimal-to-double parsing.
 *
 * Fast path (Clinger): when the decimal significand has at most 19 digits,
 * fits in 2^53 and the power of ten is within +-22, w * 10^e (or w / 10^-e)
 * is one correctly rounded IEEE operation on exact operands, hence exact.
 * This covers typical data ("-0.123456", "42", "3.5e3"). Everything else
 * goes through strtod on a bounded copy, so the result always equals strtod's.
 */
#include "data/parse-impl.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

static const double pow10_exact[23] = {1e0,  1e1,  1e2,  1e3,  1e4,  1e5,  1e6,  1e7,
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

    uint64_t w = 0;
    int digits = 0;  /* significant digits taken into w */
    int dropped = 0; /* integer digits beyond 19 (scale up) */
    int any = 0;
    const char *q = p;
    while (q < end && (unsigned)(*q - '0') <= 9) {
        if (digits < 19) {
            if (w || *q != '0') {
                w = w * 10 + (uint64_t)(*q - '0');
                digits += w != 0;
            }
        } else {
            dropped++;
        }
        any = 1;
        q++;
    }
    int frac = 0;
    if (q < end && *q == '.') {
        q++;
        while (q < end && (unsigned)(*q - '0') <= 9) {
            if (digits < 19) {
                w = w * 10 + (uint64_t)(*q - '0');
                if (w) digits++;
                frac++;
            } else {
                digits = 20; /* too many digits for the fast path: use strtod */
            }
            any = 1;
            q++;
        }
    }
    if (!any) return NULL;
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
    if (digits > 19 || dropped) return slow_path(start, q, out);
    if (w == 0) {
        *out = neg ? -0.0 : 0.0;
        return q;
    }
    int64_t e = e10 - frac;
    if (w <= (1ull << 53) && e >= -22 && e <= 22) {
        double d = (double)w;
        d = e < 0 ? d / pow10_exact[-e] : d * pow10_exact[e];
        *out = neg ? -d : d;
        return q;
    }
    return slow_path(start, q, out);
}

int kn__format_double(double v, char *buf, size_t cap)
{
    if (isnan(v)) return snprintf(buf, cap, "NaN");
    if (isinf(v)) return snprintf(buf, cap, v < 0 ? "-inf" : "inf");
    for (int prec = 15; prec <= 17; prec++) {
        int n = snprintf(buf, cap, "%.*g", prec, v);
        if (strtod(buf, NULL) == v) return n;
    }
    return snprintf(buf, cap, "%.17g", v);
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
