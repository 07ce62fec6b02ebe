/* The artifact's READ section (kiln/artifact.h): the reader settings that
 * decide what a CSV cell means, recorded at training and applied when new
 * data is read for the artifact (predict, eval). */
#include "kiln/artifact.h"
#include "kiln/mem.h"

#include <stdio.h>
#include <string.h>

/* The settings recorded, in this order. */
static const char *const recorded[] = {"missing", "missing_in_text", "thousands", "decimal", NULL};

kn_status kn_artifact_set_read(kn_artifact *a, const kn_read_opts *o)
{
    size_t len = 0, cap = 256;
    char *text = kn_malloc(cap);
    if (!text) return KN_ERR_NOMEM;
    kn_status e = KN_OK;
    for (size_t k = 0; e == KN_OK && recorded[k]; k++) {
        char *line = kn_param_format(kn_param_find(kn_read_params(), recorded[k]), o);
        if (!line) {
            e = KN_ERR_NOMEM;
            break;
        }
        if (strchr(line, '\n'))
            e = kn_fail(KN_ERR_INVALID, "reader setting '%s' holds a line break", recorded[k]);
        size_t n = strlen(line);
        if (e == KN_OK && len + n + 2 > cap) {
            while (len + n + 2 > cap) cap *= 2;
            char *t = kn_realloc(text, cap);
            if (t)
                text = t;
            else
                e = KN_ERR_NOMEM;
        }
        if (e == KN_OK) {
            memcpy(text + len, line, n);
            len += n;
            text[len++] = '\n';
        }
        kn_free(line);
    }
    if (e == KN_OK) e = kn_artifact_set(a, KN_ART_READ, text, len);
    kn_free(text);
    return e;
}

/* Whether o's value of parameter d is its default. */
static int is_default(const kn_param_def *d, const kn_read_opts *o, const kn_read_opts *def)
{
    char *a = kn_param_format(d, o), *b = kn_param_format(d, def);
    int same = a && b && !strcmp(a, b);
    kn_free(a);
    kn_free(b);
    return same;
}

kn_status kn_artifact_apply_read(const kn_artifact *a, kn_read_opts *o)
{
    kn_read_opts def;
    kn_read_opts_default(&def);
    const kn_param_def *miss = kn_param_find(kn_read_params(), "missing");
    size_t len = 0;
    const char *text = kn_artifact_get(a, KN_ART_READ, &len);
    if (!text) { /* written before the section: the reader settings of that time */
        if (is_default(miss, o, &def))
            return kn_param_set_value(kn_read_params(), o, "missing", KN_READ_MISSING_V1);
        return KN_OK;
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
        }
        /* a setting this version does not know is left to its default */
        if (d && is_default(d, o, &def) &&
            kn_param_set_value(kn_read_params(), o, line, eq + 1) != KN_OK)
            e = kn_fail(KN_ERR_CORRUPT,
                        "the artifact's reader setting '%s' does not read back (%s); re-create "
                        "the artifact",
                        line, kn_last_error());
        else if (!eq && n)
            e = kn_fail(KN_ERR_CORRUPT,
                        "the artifact's reader settings hold '%s', not name=value; re-create "
                        "the artifact",
                        line);
        kn_free(line);
        p += n + 1;
    }
    return e;
}
