/* A growing text buffer for the report: HTML and SVG are appended to one
 * buffer. Out of memory is remembered (failed) and reported once by the
 * caller; later appends do nothing. */
#ifndef KILN_REPORT_TEXT_IMPL_H
#define KILN_REPORT_TEXT_IMPL_H

#include <stddef.h>

typedef struct kn__text {
    char *p; /* NUL-terminated once anything was appended */
    size_t len, cap;
    int failed;
} kn__text;

void kn__text_free(kn__text *t);
void kn__text_put(kn__text *t, const char *s);
void kn__text_putn(kn__text *t, const char *s, size_t n);
void kn__text_printf(kn__text *t, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* s with & < > " ' escaped for HTML text and attribute values. NULL: nothing. */
void kn__text_esc(kn__text *t, const char *s);
void kn__text_escn(kn__text *t, const char *s, size_t n);
/* v with `decimals` digits after the point ("-0.00" printed as "0.00");
 * NaN and infinities as "n/a". */
void kn__text_fixed(kn__text *t, double v, int decimals);
/* A measured value for people: whole numbers in full, else 4 significant
 * digits, fixed notation between 1e-4 and 1e7, else scientific; NaN as
 * "n/a". */
void kn__text_num(kn__text *t, double v);
/* The same into buf (cap >= 32); returns buf. */
char *kn__fmt_num(double v, char *buf, size_t cap);

#endif
