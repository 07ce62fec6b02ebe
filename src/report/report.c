/* The report page: head with inline CSS, summary, then the sections in a
 * fixed order (report-impl.h). */
#include "report/report-impl.h"
#include "kiln/mem.h"

#include <string.h>
#include <yaml.h>

const char kn__report_css[] =
    "body{font:14px/1.45 -apple-system,'Segoe UI',Helvetica,Arial,sans-serif;color:#222;"
    "max-width:1100px;margin:0 auto;padding:16px;background:#fff}"
    "h1{font-size:24px;margin:8px 0 4px}h2{font-size:19px;margin:28px 0 8px;"
    "border-bottom:1px solid #ddd;padding-bottom:4px}h3{font-size:15px;margin:14px 0 6px}"
    "table{border-collapse:collapse;margin:6px 0 12px}"
    "th,td{border:1px solid #ddd;padding:3px 8px;text-align:left;vertical-align:top}"
    "th{background:#f4f6f8}td.n{text-align:right;font-variant-numeric:tabular-nums}"
    ".note{color:#666;font-style:italic}.sub{color:#555}"
    "nav a{margin-right:12px}code,pre{font:12px/1.4 Menlo,Consolas,monospace}"
    "pre{background:#f7f7f7;padding:8px;overflow:auto;max-height:400px}"
    ".wide{overflow-x:auto}td.top{min-width:220px}"
    ".figs{display:flex;flex-wrap:wrap;gap:12px 20px}figure{margin:0}"
    "figcaption{font-size:12px;color:#555;max-width:520px}"
    "svg text{font:11px Helvetica,Arial,sans-serif;fill:#333}"
    "svg text.label{font-size:12px}svg text.cell{font-size:12px}svg text.share{font-size:10px}"
    "svg .area{fill:#fff;stroke:none}svg .grid{stroke:#eee}svg .axis{stroke:#555}"
    "svg .ref{stroke:#888;stroke-dasharray:4 3}svg .legend{fill:#fff;fill-opacity:.9;"
    "stroke:#ccc}";

void kn__report_note(kn__text *t, const char *text)
{
    kn__text_put(t, "<p class=\"note\">");
    kn__text_esc(t, text);
    kn__text_put(t, "</p>\n");
}

void kn__report_h2(kn__text *t, const char *id, const char *title)
{
    kn__text_printf(t, "<section id=\"%s\">\n<h2>", id);
    kn__text_esc(t, title);
    kn__text_put(t, "</h2>\n");
}

void kn__report_json_cell(kn__text *t, const json_t *v)
{
    if (json_is_number(v))
        kn__text_num(t, json_number_value(v));
    else if (json_is_string(v))
        kn__text_esc(t, json_string_value(v));
    else if (json_is_true(v))
        kn__text_put(t, "yes");
    else if (json_is_false(v))
        kn__text_put(t, "no");
    else
        kn__text_put(t, "\xe2\x80\x93");
}

char *kn__report_spec_value(const char *spec, const char *key)
{
    if (!spec) return NULL;
    yaml_parser_t p;
    if (!yaml_parser_initialize(&p)) return NULL;
    yaml_parser_set_input_string(&p, (const unsigned char *)spec, strlen(spec));
    char *out = NULL;
    int depth = 0, want_key = 0, take = 0;
    for (;;) {
        yaml_event_t ev;
        if (!yaml_parser_parse(&p, &ev)) break;
        yaml_event_type_t type = ev.type;
        if (type == YAML_MAPPING_START_EVENT || type == YAML_SEQUENCE_START_EVENT) {
            if (depth == 1) { /* a collection value: the next scalar is a key */
                take = 0;
                want_key = 1;
            }
            if (depth++ == 0) want_key = type == YAML_MAPPING_START_EVENT;
        } else if (type == YAML_MAPPING_END_EVENT || type == YAML_SEQUENCE_END_EVENT) {
            depth--;
        } else if (type == YAML_SCALAR_EVENT && depth == 1) {
            const char *v = (const char *)ev.data.scalar.value;
            if (want_key) {
                take = !strcmp(v, key);
                want_key = 0;
            } else {
                if (take) out = kn_strndup(v, ev.data.scalar.length);
                take = 0;
                want_key = 1;
            }
        }
        yaml_event_delete(&ev);
        if (type == YAML_STREAM_END_EVENT || out) break;
    }
    yaml_parser_delete(&p);
    return out;
}

static const json_t *get(const json_t *o, const char *key)
{
    return json_is_object(o) ? json_object_get(o, key) : NULL;
}

static void summary(const kn__report_in *in, kn__text *t)
{
    kn__report_h2(t, "summary", "Summary");
    kn__text_put(t, "<table>\n");
    const json_t *task = get(in->metrics, "task");
    kn__text_put(t, "<tr><th>model</th><td>");
    kn__text_esc(t, in->model ? in->model : "\xe2\x80\x93");
    kn__text_put(t, "</td></tr>\n<tr><th>task</th><td>");
    kn__report_json_cell(t, task);
    if (in->heldout && in->heldout->classification)
        kn__text_printf(t, " (%zu classes)", in->heldout->k);
    kn__text_put(t, "</td></tr>\n<tr><th>target</th><td>");
    kn__text_esc(t, in->target ? in->target : "\xe2\x80\x93");
    kn__text_put(t, "</td></tr>\n");
    const json_t *rows = get(in->metrics, "rows");
    if (json_is_object(rows)) {
        kn__text_put(t, "<tr><th>rows</th><td>");
        const char *keys[] = {"train", "test"};
        for (int i = 0; i < 2; i++) {
            if (i) kn__text_put(t, ", ");
            kn__report_json_cell(t, get(rows, keys[i]));
            kn__text_printf(t, " %s", keys[i]);
        }
        kn__text_put(t, "</td></tr>\n");
    }
    const json_t *test = get(in->metrics, "test");
    const char *name;
    const json_t *v;
    if (json_is_object(test)) {
        kn__text_put(t, "<tr><th>test set</th><td>");
        int first = 1;
        json_object_foreach((json_t *)test, name, v)
        {
            if (!first) kn__text_put(t, ", ");
            first = 0;
            kn__text_esc(t, name);
            kn__text_put(t, " ");
            kn__report_json_cell(t, v);
        }
        kn__text_put(t, "</td></tr>\n");
    }
    const json_t *cv = get(get(in->metrics, "cv"), "metrics");
    if (json_is_object(cv)) {
        kn__text_put(t, "<tr><th>cross-validation</th><td>");
        int first = 1;
        json_object_foreach((json_t *)cv, name, v)
        {
            if (!first) kn__text_put(t, ", ");
            first = 0;
            kn__text_esc(t, name);
            kn__text_put(t, " ");
            kn__report_json_cell(t, get(v, "mean"));
            kn__text_put(t, " \xc2\xb1 ");
            kn__report_json_cell(t, get(v, "std"));
        }
        kn__text_put(t, "</td></tr>\n");
    }
    if (in->run) {
        kn__text_put(t, "<tr><th>run</th><td>");
        kn__text_esc(t, in->run->id);
        kn__text_put(t, "</td></tr>\n");
    }
    if (in->source) {
        kn__text_put(t, "<tr><th>reported from</th><td><code>");
        kn__text_esc(t, in->source);
        kn__text_put(t, "</code></td></tr>\n");
    }
    if (in->artifact_bytes) {
        kn__text_printf(t, "<tr><th>artifact</th><td>%llu bytes, %s</td></tr>\n",
                        (unsigned long long)in->artifact_bytes,
                        in->artifact_signed ? "signed (Ed25519)" : "unsigned");
    }
    kn__text_put(t, "</table>\n</section>\n");
}

kn_status kn__report_render(const kn__report_in *in, kn__text *t)
{
    char *title = NULL;
    if (in->title)
        title = kn_strdup(in->title);
    else if (in->model && in->target)
        title = kn_sprintf("Kiln report: %s predicting %s", in->model, in->target);
    else
        title = kn_sprintf("Kiln report: %s", in->model ? in->model : "model");
    if (!title) return KN_ERR_NOMEM;
    kn__text_put(t, "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
                    "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
                    "<meta name=\"generator\" content=\"Kiln " KN_VERSION_STRING "\">\n<title>");
    kn__text_esc(t, title);
    kn__text_printf(t, "</title>\n<style>%s</style>\n</head>\n<body>\n<h1>", kn__report_css);
    kn__text_esc(t, title);
    kn__text_put(t, "</h1>\n");
    kn_free(title);
    char *desc = kn__report_spec_value(in->spec, "description");
    if (desc) {
        kn__text_put(t, "<p class=\"sub\">");
        kn__text_esc(t, desc);
        kn__text_put(t, "</p>\n");
        kn_free(desc);
    }
    int cls = in->heldout
                  ? in->heldout->classification
                  : json_is_string(get(in->metrics, "task")) &&
                        !strcmp(json_string_value(get(in->metrics, "task")), "classification");
    kn__text_put(t, "<nav><a href=\"#summary\">summary</a><a href=\"#evaluation\">evaluation</a>"
                    "<a href=\"#importance\">features</a><a href=\"#cv\">cross-validation</a>"
                    "<a href=\"#data\">data</a><a href=\"#resources\">resources</a>"
                    "<a href=\"#card\">model card</a></nav>\n");
    summary(in, t);
    kn_status e = cls ? kn__report_classification(in, t) : kn__report_regression(in, t);
    if (e != KN_OK) return e;
    kn__report_importance(in, t);
    kn__report_search(in, t);
    kn__report_cv(in, t);
    kn__report_curves(in, t);
    kn__report_rows(in, t);
    kn__report_profile(in, t);
    kn__report_resources(in, t);
    kn__report_card(in, t);
    if (in->spec || in->schema) {
        kn__report_h2(t, "files", "Spec and input schema");
        if (in->spec) {
            kn__text_put(t, "<details><summary>spec</summary><pre>");
            kn__text_esc(t, in->spec);
            kn__text_put(t, "</pre></details>\n");
        }
        if (in->schema) {
            kn__text_put(t, "<details><summary>input schema</summary><pre>");
            kn__text_esc(t, in->schema);
            kn__text_put(t, "</pre></details>\n");
        }
        kn__text_put(t, "</section>\n");
    }
    kn__text_put(t, "<p class=\"note\">Drawn by Kiln " KN_VERSION_STRING
                    " without scripts; every figure is inline SVG.</p>\n</body>\n</html>\n");
    return t->failed ? kn_fail(KN_ERR_NOMEM, "report: out of memory writing the page") : KN_OK;
}
