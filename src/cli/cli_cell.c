/* Values shown in tables for people: control characters escaped (a newline
 * or tab in a value must not break the table), long values cut to a width
 * with an ellipsis, widths counted in characters (UTF-8 code points), not
 * bytes, so columns stay aligned. */
#include "cli/cli.h"

#include <string.h>

/* The display form of the character at p (at most 4 bytes before end): its
 * text into out (NUL-terminated), its width into *cols. Returns the bytes of
 * s it stands for. */
static size_t display_char(const unsigned char *p, const unsigned char *end, char out[8],
                           size_t *cols)
{
    static const char hex[] = "0123456789abcdef";
    unsigned char c = *p;
    size_t n = c < 0x80             ? 1
               : (c & 0xe0) == 0xc0 ? 2
               : (c & 0xf0) == 0xe0 ? 3
               : (c & 0xf8) == 0xf0 ? 4
                                    : 0;
    int valid = n > 0 && (size_t)(end - p) >= n && !(n > 1 && c < 0xc2);
    for (size_t k = 1; valid && k < n; k++) valid = (p[k] & 0xc0) == 0x80;
    if (valid && n > 1) {
        memcpy(out, p, n);
        out[n] = '\0';
        *cols = 1;
        return n;
    }
    const char *esc = c == '\n'   ? "\\n"
                      : c == '\t' ? "\\t"
                      : c == '\r' ? "\\r"
                      : c == '\\' ? "\\\\"
                                  : NULL;
    if (esc) {
        strcpy(out, esc);
    } else if (c < 0x20 || c >= 0x7f) { /* other control bytes, invalid UTF-8 */
        out[0] = '\\';
        out[1] = 'x';
        out[2] = hex[c >> 4];
        out[3] = hex[c & 15];
        out[4] = '\0';
    } else {
        out[0] = (char)c;
        out[1] = '\0';
    }
    *cols = strlen(out);
    return 1;
}

size_t cli_cell_width(const char *s)
{
    const unsigned char *p = (const unsigned char *)s, *end = p + strlen(s);
    size_t width = 0, cols;
    char buf[8];
    while (p < end) {
        p += display_char(p, end, buf, &cols);
        width += cols;
    }
    return width;
}

void cli_put_cell(FILE *fp, const char *s, size_t width, int pad)
{
    if (!width) return;
    const unsigned char *p = (const unsigned char *)s, *end = p + strlen(s);
    int fits = cli_cell_width(s) <= width;
    size_t used = 0, cols;
    char buf[8];
    while (p < end) {
        size_t n = display_char(p, end, buf, &cols);
        if (!fits && used + cols > width - 1) break; /* room for the ellipsis */
        fputs(buf, fp);
        used += cols;
        p += n;
    }
    if (!fits) {
        fputs("\xe2\x80\xa6", fp); /* U+2026 */
        used++;
    }
    for (; pad && used < width; used++) fputc(' ', fp);
}
