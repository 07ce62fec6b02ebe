/* The public report API (kiln/report.h): gather an artifact's sections
 * and a run record into a kn__report_in, render, write. */
#include "kiln/report.h"
#include "kiln/mem.h"
#include "kiln/model.h"
#include "kiln/tempfile.h"
#include "report/report-impl.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

void kn_report_opts_default(kn_report_opts *o)
{
    memset(o, 0, sizeof *o);
}

static kn_status load_json(const kn_artifact *a, kn_art_section id, const char *what, json_t **out)
{
    size_t len = 0;
    const char *p = kn_artifact_get(a, id, &len);
    *out = NULL;
    if (!p) return KN_OK;
    json_error_t err;
    *out = json_loadb(p, len, 0, &err);
    if (!*out)
        return kn_fail(KN_ERR_CORRUPT,
                       "report: the artifact's %s section is not JSON (line %d: %s); the "
                       "artifact is damaged: re-run the spec to remake it",
                       what, err.line, err.text);
    return KN_OK;
}

/* Importances, or mean absolute coefficients, of the pipeline's model. */
static kn_status importances(const kn_model *m, kn__report_in *in, double **imp,
                             const char ***names)
{
    size_t p = kn_model_n_features(m), rows = kn_model_coef_rows(m);
    int has_imp = kn_model_has_importances(m);
    if (!p || (!has_imp && !rows)) return KN_OK;
    double *v = kn_calloc(p, sizeof *v);
    const char **f = kn_calloc(p, sizeof *f);
    double *coef = !has_imp ? kn_malloc(rows * p * sizeof *coef) : NULL;
    double *b = !has_imp ? kn_malloc(rows * sizeof *b) : NULL;
    kn_status e = v && f && (has_imp || (coef && b)) ? KN_OK : KN_ERR_NOMEM;
    if (e == KN_OK && has_imp) {
        e = kn_model_importances(m, v);
        in->importance_kind = "importance (share of the split gain or impurity decrease)";
    } else if (e == KN_OK) {
        e = kn_model_coefficients(m, coef, b);
        for (size_t r = 0; e == KN_OK && r < rows; r++)
            for (size_t j = 0; j < p; j++) v[j] += fabs(coef[r * p + j]) / (double)rows;
        in->importance_kind = rows > 1 ? "mean |coefficient| over the classes" : "|coefficient|";
    }
    for (size_t j = 0; e == KN_OK && j < p; j++) f[j] = kn_model_feature(m, j);
    kn_free(coef);
    kn_free(b);
    if (e != KN_OK) {
        kn_free(v);
        kn_free(f);
        in->importance_kind = NULL;
        return e;
    }
    *imp = v;
    *names = f;
    in->n_features = p;
    in->importance = v;
    in->feature = f;
    return KN_OK;
}

kn_status kn_report_render(const kn_artifact *a, const kn_report_opts *o, char **html, size_t *len)
{
    kn_report_opts def;
    if (!o) {
        kn_report_opts_default(&def);
        o = &def;
    }
    kn__report_in in;
    memset(&in, 0, sizeof in);
    in.title = o->title;
    in.source = o->source;
    in.run = o->run;
    in.spec = kn_artifact_get(a, KN_ART_SPEC, NULL);
    in.schema = kn_artifact_get(a, KN_ART_SCHEMA, NULL);
    in.artifact_signed = kn_artifact_signed(a);
    if (o->run) in.artifact_bytes = o->run->artifact_bytes;
    json_t *metrics = NULL, *lineage = NULL, *profile = NULL;
    kn_heldout held;
    memset(&held, 0, sizeof held);
    int have_held = 0;
    kn_pipeline *p = NULL;
    double *imp = NULL;
    const char **names = NULL;
    kn__text t = {0};
    kn_status e = load_json(a, KN_ART_METRICS, "metrics", &metrics);
    if (e == KN_OK) e = load_json(a, KN_ART_LINEAGE, "lineage", &lineage);
    if (e == KN_OK) e = load_json(a, KN_ART_PROFILE, "profile", &profile);
    size_t hl = 0;
    const void *hb = kn_artifact_get(a, KN_ART_HELDOUT, &hl);
    if (e == KN_OK && hb) {
        e = kn_heldout_decode(hb, hl, "the artifact's held-out section", &held);
        have_held = e == KN_OK;
    }
    if (e == KN_OK && kn_artifact_get(a, KN_ART_PIPELINE, NULL)) {
        e = kn_artifact_pipeline(a, &p);
        const kn_model *m = e == KN_OK ? kn_pipeline_model(p) : NULL;
        if (m) {
            in.model = kn_model_name(m);
            in.target = kn_model_target(m);
            e = importances(m, &in, &imp, &names);
        }
        if (e == KN_OK && !in.target) in.target = kn_pipeline_target(p);
    }
    in.metrics = metrics;
    in.lineage = lineage;
    in.profile = profile;
    in.heldout = have_held ? &held : NULL;
    if (e == KN_OK) e = kn__report_render(&in, &t);
    if (e == KN_OK && t.failed) e = kn_fail(KN_ERR_NOMEM, "report: out of memory");
    if (e == KN_OK) {
        *html = t.p;
        if (len) *len = t.len;
        t.p = NULL;
    }
    kn__text_free(&t);
    kn_free(imp);
    kn_free(names);
    kn_pipeline_free(p);
    if (have_held) kn_heldout_free(&held);
    json_decref(metrics);
    json_decref(lineage);
    json_decref(profile);
    return e;
}

static kn_status write_failed(const char *path)
{
    return kn_fail(KN_ERR_IO,
                   "report: cannot write %s: %s (is the folder there, writable and not "
                   "full?)",
                   path, strerror(errno));
}

kn_status kn_report_write(const kn_artifact *a, const kn_report_opts *o, const char *path)
{
    char *html = NULL;
    size_t len = 0;
    kn_status e = kn_report_render(a, o, &html, &len);
    if (e != KN_OK) return e;
    char *tmp = kn_temp_path(path);
    if (!tmp) {
        kn_free(html);
        return kn_fail_nomem(strlen(path) + 16);
    }
    FILE *fp = fopen(tmp, "wb");
    int ok = fp && fwrite(html, 1, len, fp) == len && fflush(fp) == 0;
    if (!ok) e = write_failed(path);
    if (fp && fclose(fp) != 0 && e == KN_OK) e = write_failed(path);
    kn_free(html);
    if (e != KN_OK) {
        kn_temp_discard(tmp);
        return e;
    }
    return kn_temp_commit(tmp, path);
}
