/* The serve layer's text buffer: response bodies and access-log lines. */
#include "kiln/json.h"
#include "serve/serve-impl.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static int grow(kn__sbuf *b, size_t extra)
{
    if (b->oom) return 0;
    if (b->len + extra + 1 <= b->cap) return 1;
    size_t cap = b->cap ? b->cap : 256;
    while (cap < b->len + extra + 1) {
        if (cap > ((size_t)-1) / 2) {
            b->oom = 1;
            return 0;
        }
        cap *= 2;
    }
    char *p = realloc(b->p, cap);
    if (!p) {
        b->oom = 1;
        return 0;
    }
    b->p = p;
    b->cap = cap;
    return 1;
}

void kn__sbuf_add(kn__sbuf *b, const char *s, size_t n)
{
    if (!grow(b, n)) return;
    memcpy(b->p + b->len, s, n);
    b->len += n;
    b->p[b->len] = 0;
}

void kn__sbuf_puts(kn__sbuf *b, const char *s)
{
    kn__sbuf_add(b, s, strlen(s));
}

void kn__sbuf_printf(kn__sbuf *b, const char *fmt, ...)
{
    char tmp[256];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(tmp, sizeof tmp, fmt, ap);
    va_end(ap);
    if (n < 0) return;
    if ((size_t)n < sizeof tmp) {
        kn__sbuf_add(b, tmp, (size_t)n);
        return;
    }
    if (!grow(b, (size_t)n)) return;
    va_start(ap, fmt);
    vsnprintf(b->p + b->len, (size_t)n + 1, fmt, ap);
    va_end(ap);
    b->len += (size_t)n;
}

void kn__sbuf_prom_label(kn__sbuf *b, const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (s[i] == '\\' || s[i] == '"')
            kn__sbuf_add(b, "\\", 1), kn__sbuf_add(b, s + i, 1);
        else if (s[i] == '\n')
            kn__sbuf_add(b, "\\n", 2);
        else
            kn__sbuf_add(b, s + i, 1);
    }
}

/* The length of the valid UTF-8 sequence at s (n bytes left), or 0. */
static size_t utf8_len(const unsigned char *s, size_t n)
{
    unsigned c = s[0];
    size_t len = c >= 0xf0 && c <= 0xf4 ? 4 : c >= 0xe0 ? 3 : c >= 0xc2 && c < 0xe0 ? 2 : 0;
    if (!len || len > n) return 0;
    for (size_t i = 1; i < len; i++)
        if ((s[i] & 0xc0) != 0x80) return 0;
    if (len == 3 && ((c == 0xe0 && s[1] < 0xa0) || (c == 0xed && s[1] >= 0xa0))) return 0;
    if (len == 4 && ((c == 0xf0 && s[1] < 0x90) || (c == 0xf4 && s[1] >= 0x90))) return 0;
    return len;
}

void kn__sbuf_json_str(kn__sbuf *b, const char *s, size_t n)
{
    static const char hex[] = "0123456789abcdef";
    /* worst case: every byte as \u00XX or \ufffd */
    if (!grow(b, n * 6 + 2)) return;
    const unsigned char *u = (const unsigned char *)s;
    char *o = b->p + b->len;
    *o++ = '"';
    for (size_t i = 0; i < n; i++) {
        unsigned char c = u[i];
        if (c >= 0x80) {
            /* text cut in a character, or not UTF-8: U+FFFD, so the JSON stays valid */
            size_t len = utf8_len(u + i, n - i);
            if (len) {
                memcpy(o, u + i, len);
                o += len;
                i += len - 1;
            } else {
                memcpy(o, "\\ufffd", 6);
                o += 6;
            }
        } else if (c == '"' || c == '\\') {
            *o++ = '\\';
            *o++ = (char)c;
        } else if (c == '\n') {
            *o++ = '\\';
            *o++ = 'n';
        } else if (c < 0x20 || c == 0x7f) {
            *o++ = '\\';
            *o++ = 'u';
            *o++ = '0';
            *o++ = '0';
            *o++ = hex[c >> 4];
            *o++ = hex[c & 15];
        } else {
            *o++ = (char)c;
        }
    }
    *o++ = '"';
    *o = 0;
    b->len = (size_t)(o - b->p);
}

void kn__sbuf_json_num(kn__sbuf *b, double v)
{
    if (!isfinite(v)) {
        kn__sbuf_add(b, "null", 4);
        return;
    }
    char tmp[40];
    int n = kn_format_double(v, tmp, sizeof tmp);
    if (n > 0 && (size_t)n < sizeof tmp) kn__sbuf_add(b, tmp, (size_t)n);
}

char *kn__sbuf_take(kn__sbuf *b, size_t *len)
{
    if (b->oom || !grow(b, 0)) {
        kn__sbuf_free(b);
        return NULL;
    }
    char *p = b->p;
    *len = b->len;
    b->p = NULL;
    b->len = b->cap = 0;
    return p;
}

void kn__sbuf_free(kn__sbuf *b)
{
    free(b->p);
    b->p = NULL;
    b->len = b->cap = 0;
    b->oom = 0;
}

void kn__serve_utc(int64_t ns, char *out, size_t n)
{
    time_t secs = (time_t)(ns / 1000000000);
    struct tm tm;
    gmtime_r(&secs, &tm);
    size_t k = strftime(out, n, "%Y-%m-%dT%H:%M:%S", &tm);
    snprintf(out + k, n - k, ".%06ldZ", (long)(ns % 1000000000 / 1000));
}

int64_t kn__serve_now_ns(void)
{
    struct timespec t;
    clock_gettime(CLOCK_REALTIME, &t);
    return (int64_t)t.tv_sec * 1000000000 + t.tv_nsec;
}

void kn__sbuf_prom_value(kn__sbuf *b, double v)
{
    if (isfinite(v))
        kn__sbuf_json_num(b, v);
    else
        kn__sbuf_puts(b, "NaN");
    kn__sbuf_puts(b, "\n");
}
