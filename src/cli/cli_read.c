/* New data read for something fitted as its training data was read
 * (cli.h: cli_read_as_trained), and the recorded settings' escapes undone
 * for kiln inspect (cli_read_unescape). */
#include "cli/cli.h"
#include "kiln/artifact.h"
#include "kiln/mem.h"
#include "kiln/model.h"

#include <stdio.h>
#include <string.h>

/* Whether the recorded text has a line "name=". */
static int has_line(const char *text, size_t len, const char *name)
{
    size_t n = strlen(name);
    for (const char *p = text, *end = text + len; p && p < end;) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        size_t l = nl ? (size_t)(nl - p) : (size_t)(end - p);
        if (l > n && !memcmp(p, name, n) && p[n] == '=') return 1;
        p += l + 1;
    }
    return 0;
}

kn_status cli_read_as_trained(const char *cmd, const kn_artifact *a, const kn_read_settings *s,
                              kn_read_opts *o)
{
    size_t len = 0;
    const char *text = a ? kn_artifact_get(a, KN_ART_READ, &len) : s ? s->text : NULL;
    if (!a && s) len = s->len;
    kn_read_opts rec;
    kn_read_opts_default(&rec);
    kn_status e = a ? kn_artifact_apply_read_given(a, &rec, 0) : kn_read_settings_apply(s, &rec, 0);
    size_t k = 0;
    for (const kn_param_def *d = kn_read_params(); e == KN_OK && d->name && k < 64; d++, k++) {
        if (!((cli_read_given >> k) & 1)) continue;
        if (text ? !has_line(text, len, d->name) : strcmp(d->name, "missing")) continue;
        char *mine = kn_param_format(d, o), *theirs = kn_param_format(d, &rec);
        if (mine && theirs && !strcmp(d->name, "thousands")) { /* no separator: "none" */
            if (!strcmp(mine, "thousands=auto")) strcpy(mine, "thousands=none");
            if (!strcmp(theirs, "thousands=auto")) strcpy(theirs, "thousands=none");
        }
        if (mine && theirs && strcmp(mine, theirs))
            fprintf(stderr,
                    "%s: note: the reader option %s given here overrides %s, recorded at "
                    "training (the training data was read with it)\n",
                    cmd, mine, theirs);
        kn_free(mine);
        kn_free(theirs);
    }
    if (e == KN_OK)
        e = a ? kn_artifact_apply_read_given(a, o, cli_read_given)
              : kn_read_settings_apply(s, o, cli_read_given);
    return e;
}

size_t cli_read_unescape(const char *s, size_t n, char *buf, size_t cap)
{
    size_t k = 0;
    for (size_t i = 0; i < n && k + 1 < cap; i++) {
        unsigned v;
        if (s[i] == '%' && i + 2 < n && sscanf(s + i + 1, "%2x", &v) == 1) {
            buf[k++] = (char)v;
            i += 2;
        } else {
            buf[k++] = s[i];
        }
    }
    buf[k] = '\0';
    return k;
}

kn_status cli_model_keep_read(kn_model *m, const kn_read_opts *o, const kn_frame *f)
{
    char *text = NULL;
    size_t len = 0;
    kn_status e = kn_read_settings_format(o, f, &text, &len);
    if (e == KN_OK) e = kn_model_set_read_settings(m, text);
    kn_free(text);
    return e;
}
