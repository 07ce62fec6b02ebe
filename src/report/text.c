/* The report's text buffer (text-impl.h). */
#include "report/text-impl.h"
#include "kiln/mem.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

void kn__text_free(kn__text *t)
{
    kn_free(t->p);
    memset(t, 0, sizeof *t);
}

static int reserve(kn__text *t, size_t extra)
{
    if (t->failed) return 0;
    if (t->len + extra + 1 <= t->cap) return 1;
    size_t cap = t->cap ? t->cap : 4096;
    while (cap < t->len + extra + 1) cap *= 2;
    char *p = kn_realloc(t->p, cap);
    if (!p) {
        t->failed = 1;
        return 0;
    }
    t->p = p;
    t->cap = cap;
    return 1;
}

void kn__text_putn(kn__text *t, const char *s, size_t n)
{
    if (!reserve(t, n)) return;
    memcpy(t->p + t->len, s, n);
    t->len += n;
    t->p[t->len] = 0;
}

void kn__text_put(kn__text *t, const char *s)
{
    if (s) kn__text_putn(t, s, strlen(s));
}

void kn__text_printf(kn__text *t, const char *fmt, ...)
{
    char small[256];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(small, sizeof small, fmt, ap);
    va_end(ap);
    if (n < 0) return;
    if ((size_t)n < sizeof small) {
        kn__text_putn(t, small, (size_t)n);
        return;
    }
    if (!reserve(t, (size_t)n)) return;
    va_start(ap, fmt);
    vsnprintf(t->p + t->len, (size_t)n + 1, fmt, ap);
    va_end(ap);
    t->len += (size_t)n;
}

void kn__text_escn(kn__text *t, const char *s, size_t n)
{
    if (!s) return;
    size_t start = 0;
    for (size_t i = 0; i < n; i++) {
        const char *rep = NULL;
        switch (s[i]) {
        case '&':
            rep = "&amp;";
            break;
        case '<':
            rep = "&lt;";
            break;
        case '>':
            rep = "&gt;";
            break;
        case '"':
            rep = "&quot;";
            break;
        case '\'':
            rep = "&#39;";
            break;
        default:
            break;
        }
        if (!rep) continue;
        kn__text_putn(t, s + start, i - start);
        kn__text_put(t, rep);
        start = i + 1;
    }
    kn__text_putn(t, s + start, n - start);
}

void kn__text_esc(kn__text *t, const char *s)
{
    if (s) kn__text_escn(t, s, strlen(s));
}

void kn__text_fixed(kn__text *t, double v, int decimals)
{
    if (!isfinite(v)) {
        kn__text_put(t, "n/a");
        return;
    }
    char buf[64];
    int n = snprintf(buf, sizeof buf, "%.*f", decimals, v);
    const char *s = buf;
    if (n > 0 && buf[0] == '-') { /* "-0.00" -> "0.00" */
        int zero = 1;
        for (int i = 1; i < n; i++)
            if (buf[i] != '0' && buf[i] != '.') zero = 0;
        if (zero) s = buf + 1;
    }
    kn__text_put(t, s);
}

char *kn__fmt_num(double v, char *buf, size_t cap)
{
    if (!isfinite(v)) {
        snprintf(buf, cap, "n/a");
        return buf;
    }
    double a = fabs(v);
    if (a == 0) {
        snprintf(buf, cap, "0");
    } else if (a < 1e15 && v == floor(v)) { /* counts and other whole numbers */
        snprintf(buf, cap, "%.0f", v);
    } else if (a >= 1e-4 && a < 1e7) {
        int digits = 3 - (int)floor(log10(a)); /* 4 significant digits */
        if (digits < 0) digits = 0;
        snprintf(buf, cap, "%.*f", digits, v);
        /* drop trailing zeros after the point */
        char *dot = strchr(buf, '.');
        if (dot) {
            char *end = buf + strlen(buf) - 1;
            while (end > dot && *end == '0') *end-- = 0;
            if (end == dot) *end = 0;
        }
    } else {
        snprintf(buf, cap, "%.3e", v);
    }
    if (!strcmp(buf, "-0")) snprintf(buf, cap, "0");
    return buf;
}

void kn__text_num(kn__text *t, double v)
{
    char buf[48];
    kn__text_put(t, kn__fmt_num(v, buf, sizeof buf));
}
