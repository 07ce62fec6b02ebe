/* Reader settings recorded beside something fitted (an artifact's READ
 * section, a steps file), so that new data is read as the training data
 * was (kiln/io.h: kn_read_settings). The text is "name=value" lines of
 * reader parameters, then, when missing tokens could stay levels of text
 * columns at training (missing_in_text=auto with a default list), a line
 * "token_levels=listed" and one "level=TOKEN<tab>COLUMN" per token that was
 * a level of a text column (each %-escaped: %, tab, CR and LF as %XX). */
#include "data/io-impl.h"
#include "kiln/frame.h"
#include "kiln/mem.h"

#include <stdio.h>
#include <string.h>

/* The settings recorded, in this order: what decides what a CSV cell means. */
static const char *const recorded[] = {"missing", "missing_in_text", "thousands",
                                       "decimal", "delimiter",       NULL};

typedef struct text_buf {
    char *p;
    size_t n, cap;
    kn_status e;
} text_buf;

static void put(text_buf *b, const char *s, size_t n)
{
    if (b->e != KN_OK) return;
    if (b->n + n + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : 256;
        while (b->n + n + 1 > cap) cap *= 2;
        char *t = kn_realloc(b->p, cap);
        if (!t) {
            b->e = KN_ERR_NOMEM;
            return;
        }
        b->p = t;
        b->cap = cap;
    }
    memcpy(b->p + b->n, s, n);
    b->n += n;
    b->p[b->n] = '\0';
}

static void put_escaped(text_buf *b, const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (c == '%' || c == '\t' || c == '\n' || c == '\r') {
            char hex[4];
            snprintf(hex, sizeof hex, "%%%02X", (unsigned)(unsigned char)c);
            put(b, hex, 3);
        } else {
            put(b, &c, 1);
        }
    }
}

static int hex_digit(char c)
{
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    return -1;
}

/* Whether s[0..n), %-escaped, is the NUL-terminated text t. */
static int escaped_is(const char *s, size_t n, const char *t)
{
    for (size_t i = 0; i < n; t++) {
        char c = s[i++];
        if (c == '%') {
            int hi = i + 1 < n ? hex_digit(s[i]) : -1, lo = i + 1 < n ? hex_digit(s[i + 1]) : -1;
            if (hi < 0 || lo < 0) return 0;
            c = (char)(hi * 16 + lo);
            i += 2;
        }
        if (!*t || c != *t) return 0;
    }
    return *t == '\0';
}

/* The tokens of a missing list may stay levels of text columns (csv_read.c). */
static int tokens_as_levels(const kn_read_opts *o)
{
    kn_read_opts def;
    kn_read_opts_default(&def);
    return o->missing_in_text == KN_MISSING_IN_TEXT_AUTO &&
           (!strcmp(o->missing, def.missing) || !strcmp(o->missing, KN_READ_MISSING_V1));
}

/* The levels of train's text columns that are missing tokens of o. */
static void put_levels(text_buf *b, const kn_read_opts *o, const kn_frame *train)
{
    put(b, "token_levels=listed\n", strlen("token_levels=listed\n"));
    for (size_t j = 0; j < kn_frame_n_cols(train); j++) {
        kn_column *c = kn_frame_col((kn_frame *)train, j);
        kn_col_type t = kn_column_type(c);
        if (t != KN_COL_CATEGORICAL && t != KN_COL_STRING) continue;
        size_t rows = kn_frame_n_rows(train);
        for (const char *p = o->missing; *p;) {
            const char *comma = strchr(p, ',');
            size_t len = comma ? (size_t)(comma - p) : strlen(p);
            int level = 0;
            if (len && t == KN_COL_CATEGORICAL) {
                level = kn_column_find_level(c, p, len) >= 0;
            } else if (len) {
                for (size_t i = 0; i < rows && !level; i++) {
                    size_t n = 0;
                    const char *s = kn_column_str(c, i, &n);
                    level = s && n == len && !memcmp(s, p, len);
                }
            }
            if (level) {
                const char *name = kn_column_name(c);
                put(b, "level=", 6);
                put_escaped(b, p, len);
                put(b, "\t", 1);
                put_escaped(b, name, strlen(name));
                put(b, "\n", 1);
            }
            p += len + (comma ? 1 : 0);
        }
    }
}

kn_status kn_read_settings_format(const kn_read_opts *o, const kn_frame *train, char **text,
                                  size_t *len)
{
    text_buf b = {0};
    for (size_t k = 0; b.e == KN_OK && recorded[k]; k++) {
        char *line = kn_param_format(kn_param_find(kn_read_params(), recorded[k]), o);
        if (!line) {
            b.e = KN_ERR_NOMEM;
            break;
        }
        if (strchr(line, '\n') || strchr(line, '\r'))
            b.e = kn_fail(KN_ERR_INVALID, "reader setting '%s' holds a line break", recorded[k]);
        put(&b, line, strlen(line));
        put(&b, "\n", 1);
        kn_free(line);
    }
    if (train && tokens_as_levels(o)) put_levels(&b, o, train);
    if (b.e != KN_OK) {
        kn_free(b.p);
        return b.e;
    }
    *text = b.p;
    *len = b.n;
    return KN_OK;
}

/* The index of parameter d in kn_read_params(). */
static size_t param_index(const kn_param_def *d)
{
    return (size_t)(d - kn_read_params());
}

kn_status kn__read_settings_apply_text(const char *text, size_t len, kn_read_opts *o,
                                       uint64_t given, int *listed)
{
    *listed = 0;
    if (!text) { /* recorded before settings were: the reader settings of that time */
        const kn_param_def *miss = kn_param_find(kn_read_params(), "missing");
        if (param_index(miss) < 64 && (given >> param_index(miss)) & 1) return KN_OK;
        return kn_param_set_value(kn_read_params(), o, "missing", KN_READ_MISSING_V1);
    }
    kn_status e = KN_OK;
    for (const char *p = text, *end = text + len; e == KN_OK && p < end;) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        size_t n = nl ? (size_t)(nl - p) : (size_t)(end - p);
        char *line = kn_strndup(p, n);
        if (!line) return KN_ERR_NOMEM;
        char *eq = strchr(line, '=');
        const kn_param_def *d = NULL;
        if (eq) {
            *eq = '\0';
            d = kn_param_find(kn_read_params(), line);
            if (!strcmp(line, "token_levels") && !strcmp(eq + 1, "listed")) *listed = 1;
        }
        /* a setting this version does not know is left to its default */
        size_t k = d ? param_index(d) : 0;
        int kept = d && k < 64 && ((given >> k) & 1);
        if (d && !kept && kn_param_set_value(kn_read_params(), o, line, eq + 1) != KN_OK)
            e = kn_fail(KN_ERR_CORRUPT,
                        "the recorded reader setting '%s' does not read back (%s); fit it again",
                        line, kn_last_error());
        else if (!eq && n)
            e = kn_fail(KN_ERR_CORRUPT,
                        "the recorded reader settings hold '%s', not name=value; fit it again",
                        line);
        kn_free(line);
        p += n + 1;
    }
    return e;
}

int kn__read_settings_level(const char *text, size_t len, const char *column, const char *token)
{
    for (const char *p = text, *end = text + len; p && p < end;) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        size_t n = nl ? (size_t)(nl - p) : (size_t)(end - p);
        if (n > 6 && !memcmp(p, "level=", 6)) {
            const char *tab = memchr(p + 6, '\t', n - 6);
            if (tab && escaped_is(p + 6, (size_t)(tab - p - 6), token) &&
                escaped_is(tab + 1, (size_t)(p + n - tab - 1), column))
                return 1;
        }
        p += n + 1;
    }
    return 0;
}

int kn_read_settings_token_level(const char *column, const char *token, void *settings)
{
    const kn_read_settings *s = settings;
    return kn__read_settings_level(s->text, s->len, column, token);
}

kn_status kn_read_settings_apply(const kn_read_settings *s, kn_read_opts *o, uint64_t given)
{
    int listed = 0;
    kn_status e =
        kn__read_settings_apply_text(s ? s->text : NULL, s ? s->len : 0, o, given, &listed);
    if (e == KN_OK && listed) {
        o->token_is_level = kn_read_settings_token_level;
        o->token_is_level_user = (void *)s;
    }
    return e;
}

uint64_t kn_read_settings_given(const kn_read_opts *o)
{
    kn_read_opts def;
    kn_read_opts_default(&def);
    uint64_t given = 0;
    size_t k = 0;
    for (const kn_param_def *d = kn_read_params(); d->name && k < 64; d++, k++) {
        char *a = kn_param_format(d, o), *b = kn_param_format(d, &def);
        if (!a || !b || strcmp(a, b)) given |= (uint64_t)1 << k;
        kn_free(a);
        kn_free(b);
    }
    return given;
}
