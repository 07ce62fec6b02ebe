/* Kiln's JSON writer (data/json-impl.h): jansson builds the tree, this
 * prints it with shortest round-trip reals. */
#include "data/json-impl.h"
#include "data/parse-impl.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

static void put_string(FILE *fp, const char *s, size_t n)
{
    static const char hex[] = "0123456789abcdef";
    fputc('"', fp);
    size_t run = 0; /* bytes since the last escape, written in one call */
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c >= 0x20 && c != '"' && c != '\\') continue;
        fwrite(s + run, 1, i - run, fp);
        run = i + 1;
        fputc('\\', fp);
        switch (c) {
        case '"':
            fputc('"', fp);
            break;
        case '\\':
            fputc('\\', fp);
            break;
        case '\b':
            fputc('b', fp);
            break;
        case '\f':
            fputc('f', fp);
            break;
        case '\n':
            fputc('n', fp);
            break;
        case '\r':
            fputc('r', fp);
            break;
        case '\t':
            fputc('t', fp);
            break;
        default:
            fputs("u00", fp);
            fputc(hex[c >> 4], fp);
            fputc(hex[c & 15], fp);
        }
    }
    fwrite(s + run, 1, n - run, fp);
    fputc('"', fp);
}

static void put_real(FILE *fp, double v)
{
    if (!isfinite(v)) { /* jansson refuses these; never invalid JSON */
        fputs("null", fp);
        return;
    }
    char buf[48];
    int n = kn__format_double(v, buf, sizeof buf - 2);
    if (!strpbrk(buf, ".eE")) { /* "3" would read back as an integer */
        buf[n++] = '.';
        buf[n++] = '0';
    }
    fwrite(buf, 1, (size_t)n, fp);
}

static void newline(FILE *fp, int indent, int depth)
{
    fputc('\n', fp);
    for (int i = 0; i < indent * depth; i++) fputc(' ', fp);
}

static void put_value(const json_t *v, FILE *fp, int indent, int depth)
{
    switch (json_typeof(v)) {
    case JSON_OBJECT: {
        const char *key;
        json_t *x;
        size_t k = 0;
        fputc('{', fp);
        json_object_foreach((json_t *)v, key, x)
        {
            if (k++) fputc(',', fp);
            if (indent) newline(fp, indent, depth + 1);
            put_string(fp, key, strlen(key));
            fputs(indent ? ": " : ":", fp);
            put_value(x, fp, indent, depth + 1);
        }
        if (k && indent) newline(fp, indent, depth);
        fputc('}', fp);
        break;
    }
    case JSON_ARRAY: {
        size_t n = json_array_size(v);
        fputc('[', fp);
        for (size_t i = 0; i < n; i++) {
            if (i) fputc(',', fp);
            if (indent) newline(fp, indent, depth + 1);
            put_value(json_array_get(v, i), fp, indent, depth + 1);
        }
        if (n && indent) newline(fp, indent, depth);
        fputc(']', fp);
        break;
    }
    case JSON_STRING:
        put_string(fp, json_string_value(v), json_string_length(v));
        break;
    case JSON_INTEGER:
        fprintf(fp, "%" JSON_INTEGER_FORMAT, json_integer_value(v));
        break;
    case JSON_REAL:
        put_real(fp, json_real_value(v));
        break;
    case JSON_TRUE:
        fputs("true", fp);
        break;
    case JSON_FALSE:
        fputs("false", fp);
        break;
    default:
        fputs("null", fp);
        break;
    }
}

int kn__json_write(const json_t *v, FILE *fp, int indent)
{
    if (v) put_value(v, fp, indent < 0 ? 0 : indent, 0);
    return ferror(fp) ? -1 : 0;
}

char *kn__json_text(const json_t *v, int indent)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *fp = open_memstream(&buf, &len);
    if (!fp) return NULL;
    int bad = kn__json_write(v, fp, indent) != 0;
    if (fclose(fp) != 0 || bad) {
        free(buf);
        return NULL;
    }
    return buf;
}
