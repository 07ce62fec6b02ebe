/* A run's test rows rebuilt from its artifact (kn_run_test_rows, see
 * kiln/run.h): the spec it keeps, with each source where the lineage says
 * the run read it and as it was (the content hash), read and split again
 * with the run's seed by the run's own code (kn_prep_run, then
 * kn__run_split_test). The registry's gate scores production on them. */
#include "kiln/mem.h"
#include "pipeline/run-impl.h"

#include <jansson.h>
#include <string.h>

static json_t *section(const kn_artifact *a, kn_art_section id)
{
    size_t len = 0;
    const char *text = kn_artifact_get(a, id, &len);
    return text ? json_loadb(text, len, 0, NULL) : NULL;
}

static const char *kind_name(kn_source_kind k)
{
    return k == KN_SOURCE_SQLITE     ? "SQLite"
           : k == KN_SOURCE_POSTGRES ? "PostgreSQL"
           : k == KN_SOURCE_HTTP     ? "HTTP"
                                     : "file";
}

/* Point each source of s at the location the run read and check that a file
 * is still what it was; *data receives the first file's name and hash (for
 * the recipe). */
static kn_status sources_as_run(kn_prep_spec *s, json_t *lineage, char *data, size_t cap)
{
    json_t *srcs = json_object_get(lineage, "sources");
    if (json_array_size(srcs) != s->n_sources)
        return kn_fail(KN_ERR_NOT_FOUND,
                       "its lineage lists %zu sources, its spec %zu: the spec was changed",
                       json_array_size(srcs), s->n_sources);
    size_t files = 0;
    for (size_t i = 0; i < s->n_sources; i++) {
        kn_spec_source *src = &s->sources[i];
        json_t *l = json_array_get(srcs, i);
        const char *name = json_string_value(json_object_get(l, "name")),
                   *where = json_string_value(json_object_get(l, "location")),
                   *hash = json_string_value(json_object_get(l, "hash"));
        if (!name || strcmp(name, src->name) || !where || !hash)
            return kn_fail(KN_ERR_NOT_FOUND,
                           "its lineage does not name source '%s' with a location and hash",
                           src->name);
        if (src->kind == KN_SOURCE_GROUP) continue; /* built from the others */
        if (src->kind != KN_SOURCE_FILE)
            return kn_fail(KN_ERR_NOT_FOUND,
                           "source '%s' is a %s source, whose rows the run did not hash (only a "
                           "file's bytes are), so reading it again may give other rows",
                           src->name, kind_name(src->kind));
        if (src->since)
            return kn_fail(KN_ERR_NOT_FOUND,
                           "source '%s' reads incrementally (since: %s): which of its rows the "
                           "run read cannot be told again",
                           src->name, src->since);
        char now[65], why[256];
        if (kn_artifact_hash_file(where, now) != KN_OK) {
            snprintf(why, sizeof why, "%s", kn_last_error());
            return kn_fail(
                KN_ERR_NOT_FOUND, "source '%s': %s, which the run read, cannot be read here (%s%s)",
                src->name, where, why,
                where[0] == '/' ? "" : "; a relative path is from the folder kiln ran in");
        }
        if (strcmp(now, hash))
            return kn_fail(KN_ERR_NOT_FOUND,
                           "source '%s': %s changed since the run (BLAKE2b %.12s, the run read "
                           "%.12s)",
                           src->name, where, now, hash);
        char *loc = kn_strdup(where);
        if (!loc) return KN_ERR_NOMEM;
        kn_free(src->location);
        src->location = loc;
        if (!files++) snprintf(data, cap, "%s at BLAKE2b %.12s", where, hash);
    }
    if (files > 1) {
        size_t used = strlen(data);
        snprintf(data + used, cap - used, " and %zu other file%s", files - 1, files > 2 ? "s" : "");
    }
    return KN_OK;
}

kn_status kn_run_test_rows(const kn_artifact *a, kn_frame **train, kn_frame **out, char **recipe)
{
    size_t len = 0;
    const char *text = kn_artifact_get(a, KN_ART_SPEC, &len);
    json_t *lineage = section(a, KN_ART_LINEAGE), *metrics = section(a, KN_ART_METRICS);
    json_t *test = json_object_get(json_object_get(metrics, "rows"), "test"),
           *fit = json_object_get(json_object_get(metrics, "rows"), "train"),
           *seed = json_object_get(lineage, "seed");
    const char *task = json_string_value(json_object_get(metrics, "task"));
    kn_prep_spec *s = NULL;
    kn_run_output r;
    memset(&r, 0, sizeof r);
    kn__run_state w;
    memset(&w, 0, sizeof w);
    char data[512] = "no file";
    kn_status e = KN_OK;
    if (!text || !lineage || !metrics || !task || !json_is_integer(seed))
        e = kn_fail(KN_ERR_NOT_FOUND, "the artifact keeps no %s to rebuild them from%s",
                    !text                                ? "spec"
                    : !lineage || !json_is_integer(seed) ? "lineage"
                                                         : "metrics",
                    !text ? " (kiln train writes none: kiln run does)" : "");
    else if (out && json_integer_value(test) <= 0)
        e = kn_fail(KN_ERR_NOT_FOUND, "its run held out no test rows");
    if (e == KN_OK) e = kn_prep_spec_parse(text, len, "(the artifact's spec)", &s);
    if (e == KN_OK) e = sources_as_run(s, lineage, data, sizeof data);
    kn_prep_options po = {NULL, 0, 0, 0, 1, 0, 1}; /* the run's reading; nothing written */
    if (e == KN_OK && (e = kn_prep_run(s, &po, &r.prep)) != KN_OK)
        e = kn_fail_prefix(KN_ERR_NOT_FOUND, "its data could not be read again: ");
    if (e == KN_OK) {
        r.seed = (uint64_t)json_integer_value(seed);
        w.s = s;
        w.r = &r;
        e = kn__run_split_test(&w, !strcmp(task, "classification"));
        if (e != KN_OK) e = kn_fail_prefix(KN_ERR_NOT_FOUND, "its split could not be made again: ");
    }
    size_t n = w.test ? kn_frame_n_rows(w.test) : 0, nt = w.train ? kn_frame_n_rows(w.train) : 0;
    if (e == KN_OK && n != (size_t)json_integer_value(test))
        e = kn_fail(KN_ERR_NOT_FOUND, "rebuilt %zu test rows where the run held out %lld", n,
                    (long long)json_integer_value(test));
    if (e == KN_OK && json_is_integer(fit) && nt != (size_t)json_integer_value(fit))
        e = kn_fail(KN_ERR_NOT_FOUND, "rebuilt %zu training rows where the run had %lld", nt,
                    (long long)json_integer_value(fit));
    if (e == KN_OK && recipe &&
        !(*recipe = kn_sprintf("spec, seed %llu, data %s", (unsigned long long)r.seed, data)))
        e = KN_ERR_NOMEM;
    if (e == KN_OK && out) {
        *out = w.test;
        w.test = NULL;
    }
    if (e == KN_OK && train) {
        *train = w.train;
        w.train = NULL;
    }
    kn_frame_free(w.train);
    kn_frame_free(w.test);
    kn_prep_result_free(r.prep);
    kn_prep_spec_free(s);
    json_decref(lineage);
    json_decref(metrics);
    return e;
}
