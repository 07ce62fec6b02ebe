/* The data sections (quarantine summary, data profile), resources and
 * cost, and the model card. */
#include "report/report-impl.h"
#include "report/svg-impl.h"
#include "kiln/mem.h"

#include <math.h>
#include <string.h>

static const json_t *get(const json_t *o, const char *key)
{
    return json_is_object(o) ? json_object_get(o, key) : NULL;
}

static void td_num(kn__text *t, const json_t *v)
{
    kn__text_put(t, "<td class=\"n\">");
    kn__report_json_cell(t, v);
    kn__text_put(t, "</td>");
}

void kn__report_rows(const kn__report_in *in, kn__text *t)
{
    kn__report_h2(t, "data", "Data");
    kn__text_put(t, "<h3>Rows and quarantine</h3>\n");
    const json_t *rows = get(in->metrics, "rows");
    const kn_run_info *r = in->run ? &in->run->info : NULL;
    if (!json_is_object(rows) && !r) {
        kn__report_note(t, "No row counts recorded for this run.");
        return;
    }
    static const char *const keys[] = {"in",           "kept",  "quarantined",
                                       "deduplicated", "train", "test"};
    static const char *const what[] = {"rows read from the sources",
                                       "rows kept (after validation and dedupe)",
                                       "rows quarantined by the schema's policies",
                                       "duplicate rows dropped",
                                       "rows used for training (and CV)",
                                       "rows held out for the test set"};
    kn__text_put(t, "<table><tr><th>rows</th><th>count</th><th>share of rows in</th></tr>\n");
    double total = NAN;
    if (json_is_number(get(rows, "in")))
        total = json_number_value(get(rows, "in"));
    else if (r)
        total = (double)r->rows_in;
    for (size_t i = 0; i < sizeof keys / sizeof *keys; i++) {
        double v = NAN;
        const json_t *j = get(rows, keys[i]);
        if (json_is_number(j))
            v = json_number_value(j);
        else if (r && i == 0)
            v = (double)r->rows_in;
        else if (r && i == 1)
            v = (double)r->rows_kept;
        else if (r && i == 2)
            v = (double)r->rows_quarantined;
        else if (r && i == 3)
            v = (double)r->rows_deduplicated;
        if (!isfinite(v)) continue;
        kn__text_put(t, "<tr><td>");
        kn__text_esc(t, what[i]);
        kn__text_printf(t, "</td><td class=\"n\">%.0f</td><td class=\"n\">", v);
        if (total > 0) kn__text_printf(t, "%.1f%%", 100 * v / total);
        kn__text_put(t, "</td></tr>\n");
    }
    kn__text_put(t, "</table>\n");
}

void kn__report_profile(const kn__report_in *in, kn__text *t)
{
    kn__text_put(t, "<h3>Profile of the training data</h3>\n");
    const json_t *cols = get(in->profile, "column_profiles");
    if (!json_is_array(cols) || !json_array_size(cols)) {
        kn__report_note(t, "No data profile in this artifact.");
        kn__text_put(t, "</section>\n");
        return;
    }
    kn__text_put(t, "<p>");
    kn__report_json_cell(t, get(in->profile, "rows"));
    kn__text_put(t, " rows, ");
    kn__report_json_cell(t, get(in->profile, "columns"));
    kn__text_put(
        t,
        " columns.</p>\n<div class=\"wide\"><table><tr><th>column</th><th>type</th><th>missing</th>"
        "<th>distinct</th><th>mean</th><th>std</th><th>min</th><th>max</th>"
        "<th>p1 to p99 (box: p25 to p75)</th>"
        "<th>top categories</th></tr>\n");
    for (size_t j = 0; j < json_array_size(cols); j++) {
        const json_t *c = json_array_get(cols, j);
        kn__text_put(t, "<tr><td>");
        kn__report_json_cell(t, get(c, "name"));
        kn__text_put(t, "</td><td>");
        kn__report_json_cell(t, get(c, "type"));
        kn__text_put(t, "</td><td class=\"n\">");
        kn__report_json_cell(t, get(c, "missing"));
        const json_t *mf = get(c, "missing_frac");
        if (json_is_number(mf) && json_number_value(mf) > 0)
            kn__text_printf(t, " (%.1f%%)", 100 * json_number_value(mf));
        kn__text_put(t, "</td>");
        td_num(t, get(c, "distinct"));
        int numeric = json_is_number(get(c, "mean")) || json_is_null(get(c, "mean"));
        if (numeric) {
            if (get(c, "min_time")) { /* a timestamp's mean in seconds says little */
                kn__text_put(t, "<td></td><td></td>");
            } else {
                td_num(t, get(c, "mean"));
                td_num(t, get(c, "std"));
            }
            const json_t *mn = get(c, "min_time"), *mx = get(c, "max_time");
            td_num(t, mn ? mn : get(c, "min"));
            td_num(t, mx ? mx : get(c, "max"));
            static const char *const qk[7] = {"min", "p1", "p25", "p50", "p75", "p99", "max"};
            double q[7];
            for (int i = 0; i < 7; i++) {
                const json_t *qv = get(c, qk[i]);
                q[i] = json_is_number(qv) ? json_number_value(qv) : NAN;
            }
            kn__text_put(t, "<td>");
            char *label = kn_sprintf("distribution of %s", json_is_string(get(c, "name"))
                                                               ? json_string_value(get(c, "name"))
                                                               : "a column");
            kn__svg_strip(t, label ? label : "distribution", q);
            kn_free(label);
            kn__text_put(t, "</td><td></td>");
        } else {
            kn__text_put(t, "<td></td><td></td><td></td><td></td><td></td><td class=\"top\">");
            const json_t *top = get(c, "top");
            for (size_t i = 0; i < json_array_size(top) && i < 4; i++) {
                const json_t *e = json_array_get(top, i);
                if (i) kn__text_put(t, ", ");
                kn__report_json_cell(t, get(e, "value"));
                kn__text_put(t, " (");
                kn__report_json_cell(t, get(e, "count"));
                kn__text_put(t, ")");
            }
            kn__text_put(t, "</td>");
        }
        kn__text_put(t, "</tr>\n");
    }
    kn__text_put(t, "</table></div>\n");
    const json_t *warn = get(in->profile, "warnings");
    if (json_array_size(warn)) {
        kn__text_put(t, "<ul>");
        for (size_t i = 0; i < json_array_size(warn); i++) {
            kn__text_put(t, "<li>");
            kn__report_json_cell(t, json_array_get(warn, i));
            kn__text_put(t, "</li>");
        }
        kn__text_put(t, "</ul>\n");
    }
    kn__text_put(t, "</section>\n");
}

/* Bytes as the command line prints them (decimal units). */
static void bytes_cell(kn__text *t, uint64_t b)
{
    kn__text_put(t, "<td class=\"n\">");
    if (b >= 1000000000u)
        kn__text_printf(t, "%.2f GB", (double)b / 1e9);
    else if (b >= 1000000u)
        kn__text_printf(t, "%.1f MB", (double)b / 1e6);
    else
        kn__text_printf(t, "%.1f kB", (double)b / 1e3);
    kn__text_put(t, "</td>");
}

void kn__report_resources(const kn__report_in *in, kn__text *t)
{
    kn__report_h2(t, "resources", "Resources and cost");
    if (!in->run) {
        kn__report_note(t, "Resources and cost are kept in the store: report a run or a model "
                           "version (kiln report RUN or MODEL@vN) to see them.");
        kn__text_put(t, "</section>\n");
        return;
    }
    const kn_run_info *r = &in->run->info;
    if (!r->n_stages) {
        kn__report_note(t, "The run recorded no stages.");
    } else {
        kn__text_put(t, "<table><tr><th>stage</th><th>wall (s)</th><th>CPU (s)</th>"
                        "<th>peak RSS</th></tr>\n");
        double wall = 0, cpu = 0;
        uint64_t rss = 0;
        for (size_t i = 0; i < r->n_stages; i++) {
            const kn_run_stage *s = &r->stages[i];
            kn__text_put(t, "<tr><td>");
            kn__text_esc(t, s->name);
            kn__text_put(t, "</td><td class=\"n\">");
            kn__text_fixed(t, s->wall_s, 3);
            kn__text_put(t, "</td><td class=\"n\">");
            kn__text_fixed(t, s->cpu_s, 3);
            kn__text_put(t, "</td>");
            bytes_cell(t, s->peak_rss);
            kn__text_put(t, "</tr>\n");
            wall += s->wall_s;
            cpu += s->cpu_s;
            if (s->peak_rss > rss) rss = s->peak_rss;
        }
        kn__text_put(t, "<tr><th>total</th><td class=\"n\">");
        kn__text_fixed(t, wall, 3);
        kn__text_put(t, "</td><td class=\"n\">");
        kn__text_fixed(t, cpu, 3);
        kn__text_put(t, "</td>");
        bytes_cell(t, rss);
        kn__text_put(t, "</tr>\n</table>\n");
    }
    kn__text_put(t, "<p>Estimated cost of the run: $");
    kn__text_fixed(t, in->run->cost, 6);
    kn__text_put(t, " (CPU time, peak memory over the wall time, and a month of storing the "
                    "artifact, at the store's prices when the run was recorded).</p>\n");
    kn__text_put(t, "</section>\n");
}

/* ---- model card ---- */

static void kv(kn__text *t, const char *key, const json_t *v)
{
    kn__text_printf(t, "<tr><th>%s</th><td>", key);
    kn__report_json_cell(t, v);
    kn__text_put(t, "</td></tr>\n");
}

static void card_metrics(const kn__report_in *in, kn__text *t)
{
    const json_t *test = get(in->metrics, "test"), *base = get(in->metrics, "baseline");
    const json_t *cv = get(get(in->metrics, "cv"), "metrics");
    kn__text_put(t, "<h3>Metrics</h3>\n");
    if (!json_is_object(test) && !json_is_object(cv)) {
        kn__report_note(t, "No metrics recorded.");
        return;
    }
    kn__text_put(t, "<table><tr><th>metric</th><th>test</th><th>baseline</th>"
                    "<th>CV mean \xc2\xb1 std</th></tr>\n");
    /* the test metrics first, then CV-only ones */
    const char *name;
    const json_t *v;
    for (int pass = 0; pass < 2; pass++) {
        const json_t *src = pass == 0 ? test : cv;
        if (!json_is_object(src)) continue;
        json_object_foreach((json_t *)src, name, v)
        {
            if (pass == 1 && get(test, name)) continue;
            kn__text_put(t, "<tr><td>");
            kn__text_esc(t, name);
            kn__text_put(t, "</td>");
            td_num(t, get(test, name));
            td_num(t, get(base, name));
            kn__text_put(t, "<td class=\"n\">");
            const json_t *c = get(cv, name);
            if (c) {
                kn__report_json_cell(t, get(c, "mean"));
                kn__text_put(t, " \xc2\xb1 ");
                kn__report_json_cell(t, get(c, "std"));
            } else {
                kn__text_put(t, "\xe2\x80\x93");
            }
            kn__text_put(t, "</td></tr>\n");
        }
    }
    kn__text_put(t, "</table>\n<p class=\"sub\">The baseline predicts the class prior "
                    "(classification) or the training mean (regression) for every row.</p>\n");
}

static void card_limits(const kn__report_in *in, kn__text *t)
{
    kn__text_put(t, "<h3>Limits</h3>\n<ul>\n");
    const kn_heldout *h = in->heldout;
    if (h && h->classification && h->k) {
        kn__text_printf(t, "<li>Classes seen in training (%zu): ", h->k);
        for (size_t c = 0; c < h->k && c < 50; c++) {
            if (c) kn__text_put(t, ", ");
            kn__text_esc(t, h->classes && h->classes[c] ? h->classes[c] : "?");
        }
        if (h->k > 50) kn__text_put(t, ", \xe2\x80\xa6");
        kn__text_put(t, ". The model never predicts another class.</li>\n");
    }
    const json_t *cols = get(in->profile, "column_profiles");
    size_t ranges = 0;
    for (size_t j = 0; j < json_array_size(cols); j++) {
        const json_t *c = json_array_get(cols, j);
        if (!json_is_number(get(c, "min")) || !json_is_number(get(c, "max"))) continue;
        if (in->target && json_is_string(get(c, "name")) &&
            !strcmp(json_string_value(get(c, "name")), in->target))
            continue;
        if (!ranges++)
            kn__text_put(t, "<li>Numeric ranges of the training data (predictions outside them "
                            "are extrapolation): ");
        else
            kn__text_put(t, "; ");
        kn__report_json_cell(t, get(c, "name"));
        kn__text_put(t, " ");
        kn__report_json_cell(t, get(c, "min"));
        kn__text_put(t, " to ");
        kn__report_json_cell(t, get(c, "max"));
    }
    if (ranges) kn__text_put(t, ".</li>\n");
    const json_t *cv = get(in->metrics, "cv"), *rows = get(in->metrics, "rows");
    kn__text_put(t, "<li>Validation: ");
    if (json_is_object(cv)) {
        kn__report_json_cell(t, get(cv, "split"));
        kn__text_put(t, " ");
        kn__report_json_cell(t, get(cv, "k"));
        kn__text_put(t, "-fold cross-validation with the steps fitted inside each fold");
    } else {
        kn__text_put(t, "no cross-validation");
    }
    if (json_is_number(get(rows, "test"))) {
        kn__text_put(t, "; scored once on ");
        kn__report_json_cell(t, get(rows, "test"));
        kn__text_put(t, " held-out rows.");
    } else {
        kn__text_put(t, "; no held-out test set.");
    }
    kn__text_put(t, "</li>\n<li>Scores hold for data like the training data; check new data "
                    "against the input schema and the profile above.</li>\n</ul>\n");
}

void kn__report_card(const kn__report_in *in, kn__text *t)
{
    kn__report_h2(t, "card", "Model card");
    kn__text_put(t, "<h3>Intended use</h3>\n");
    char *desc = kn__report_spec_value(in->spec, "description");
    if (desc) {
        kn__text_put(t, "<p>");
        kn__text_esc(t, desc);
        kn__text_put(t, "</p>\n");
        kn_free(desc);
    } else {
        kn__report_note(t, "The spec gives no description: add `description:` to say what the "
                           "model is for.");
    }
    kn__text_put(t, "<h3>Data</h3>\n");
    const json_t *src = get(in->lineage, "sources");
    if (json_array_size(src)) {
        kn__text_put(t, "<table><tr><th>source</th><th>kind</th><th>location</th>"
                        "<th>BLAKE2b-256</th><th>rows</th></tr>\n");
        for (size_t i = 0; i < json_array_size(src); i++) {
            const json_t *s = json_array_get(src, i);
            kn__text_put(t, "<tr><td>");
            kn__report_json_cell(t, get(s, "name"));
            kn__text_put(t, "</td><td>");
            kn__report_json_cell(t, get(s, "kind"));
            kn__text_put(t, "</td><td><code>");
            kn__report_json_cell(t, get(s, "location"));
            kn__text_put(t, "</code></td><td><code>");
            kn__report_json_cell(t, get(s, "hash"));
            kn__text_put(t, "</code></td>");
            td_num(t, get(s, "rows"));
            kn__text_put(t, "</tr>\n");
        }
        kn__text_put(t, "</table>\n");
    } else {
        kn__report_note(t, "No sources recorded in the lineage.");
    }
    card_metrics(in, t);
    card_limits(in, t);
    kn__text_put(t, "<h3>Lineage</h3>\n");
    if (!json_is_object(in->lineage) && !in->run) {
        kn__report_note(t, "No lineage recorded.");
    } else {
        kn__text_put(t, "<table>\n");
        if (in->run) {
            kn__text_put(t, "<tr><th>run</th><td>");
            kn__text_esc(t, in->run->id);
            kn__text_put(t, "</td></tr>\n");
        }
        kv(t, "spec hash", get(in->lineage, "spec_hash"));
        kv(t, "seed", get(in->lineage, "seed"));
        kv(t, "Kiln version", get(in->lineage, "kiln_version"));
        kv(t, "git commit", get(in->lineage, "git_commit"));
        kv(t, "parent run", get(in->lineage, "parent_run"));
        if (get(in->lineage, "created")) kv(t, "created", get(in->lineage, "created"));
        if (in->run && in->run->artifact_hash) {
            kn__text_put(t, "<tr><th>artifact hash</th><td><code>");
            kn__text_esc(t, in->run->artifact_hash);
            kn__text_put(t, "</code></td></tr>\n");
        }
        if (in->run) {
            kn__text_put(t, "<tr><th>estimated cost</th><td>$");
            kn__text_fixed(t, in->run->cost, 6);
            kn__text_put(t, "</td></tr>\n");
        }
        kn__text_put(t, "</table>\n");
    }
    kn__text_put(t, "</section>\n");
}
