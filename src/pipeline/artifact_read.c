/* The artifact's READ section (kiln/artifact.h): the reader settings that
 * decide what a CSV cell means, recorded at training and applied when new
 * data is read for the artifact (kn_read_settings, kiln/io.h). */
#include "data/io-impl.h"
#include "kiln/artifact.h"
#include "kiln/mem.h"

kn_status kn_artifact_set_read_rows(kn_artifact *a, const kn_read_opts *o, const kn_frame *train)
{
    char *text = NULL;
    size_t len = 0;
    kn_status e = kn_read_settings_format(o, train, &text, &len);
    if (e == KN_OK) e = kn_artifact_set(a, KN_ART_READ, text, len);
    kn_free(text);
    return e;
}

/* o->token_is_level for an artifact (user): the section's level lines. */
static int artifact_level(const char *column, const char *token, void *user)
{
    size_t len = 0;
    const char *text = kn_artifact_get(user, KN_ART_READ, &len);
    return text ? kn__read_settings_level(text, len, column, token) : 0;
}

kn_status kn_artifact_apply_read_given(const kn_artifact *a, kn_read_opts *o, uint64_t given)
{
    size_t len = 0;
    const char *text = kn_artifact_get(a, KN_ART_READ, &len);
    int listed = 0;
    kn_status e = kn__read_settings_apply_text(text, len, o, given, &listed);
    if (e != KN_OK)
        return kn_fail(KN_ERR_CORRUPT, "the artifact's reader settings: %s; re-create the artifact",
                       kn_last_error());
    if (listed) {
        o->token_is_level = artifact_level;
        o->token_is_level_user = (void *)a;
    }
    return KN_OK;
}

kn_status kn_artifact_set_read(kn_artifact *a, const kn_read_opts *o)
{
    return kn_artifact_set_read_rows(a, o, NULL);
}

kn_status kn_artifact_apply_read(const kn_artifact *a, kn_read_opts *o)
{
    return kn_artifact_apply_read_given(a, o, kn_read_settings_given(o));
}
