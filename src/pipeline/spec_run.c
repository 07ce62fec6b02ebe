/* Running a prep spec (see kiln/prep_spec.h): sources -> frame -> validation
 * -> dedupe -> steps (a pipeline without a model) -> files. Each part is its
 * own stage in the records. */
#include "data/parse-impl.h"
#include "kiln/pipeline.h"
#include "kiln/tempfile.h"
#include "kiln/log.h"
#include "kiln/mem.h"
#include "kiln/prep_spec.h"
#include "pipeline/spec-impl.h"
#include "prep/profile_json-impl.h"
#include "kiln/profile.h"
#include "kiln/source.h"
#include "kiln/stage.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct run {
    const kn_prep_spec *s;
    const kn_prep_options *o;
    kn_prep_result *r;
    kn_frame **frames; /* per source, once read */
    char **watermarks; /* per source: the stored watermark (NULL: none) */
    int *busy;         /* cycle guard for group/fallback chains */
    char *read_text;   /* how the first source was read, for the saved steps */
} run;

static size_t source_index(const kn_prep_spec *s, const char *name)
{
    for (size_t i = 0; i < s->n_sources; i++)
        if (!strcmp(s->sources[i].name, name)) return i;
    return (size_t)-1;
}

/* What side files are named after: the output, or for a run spec without
 * one the spec's path less its extension. */
static const char *side_base(const kn_prep_spec *s, char *buf, size_t cap)
{
    if (s->output) return s->output;
    snprintf(buf, cap, "%s", s->path);
    char *dot = strrchr(buf, '.'), *slash = strrchr(buf, '/');
    if (dot && (!slash || dot > slash)) *dot = 0;
    return buf;
}

static char *state_path(const kn_prep_spec *s)
{
    if (s->state) return kn_strdup(s->state);
    char buf[4096];
    return kn_sprintf("%s.state", side_base(s, buf, sizeof buf));
}

/* Lines "source<TAB>watermark". A missing file means no watermarks yet. */
static kn_status load_state(run *w)
{
    char *path = state_path(w->s);
    if (!path) return KN_ERR_NOMEM;
    FILE *fp = fopen(path, "r");
    kn_free(path);
    if (!fp) return KN_OK;
    char line[2048];
    while (fgets(line, sizeof line, fp)) {
        line[strcspn(line, "\r\n")] = '\0';
        char *tab = strchr(line, '\t');
        if (!tab) continue;
        *tab = '\0';
        size_t i = source_index(w->s, line);
        if (i != (size_t)-1 && !w->watermarks[i]) w->watermarks[i] = kn_strdup(tab + 1);
    }
    fclose(fp);
    return KN_OK;
}

static kn_status save_state(const run *w)
{
    int any = 0;
    for (size_t i = 0; i < w->r->n_sources; i++) any |= w->r->sources[i].watermark != NULL;
    if (!any) return KN_OK;
    char *path = state_path(w->s);
    if (!path) return KN_ERR_NOMEM;
    char *tmp = kn_temp_path(path);
    FILE *fp = tmp ? fopen(tmp, "w") : NULL;
    kn_status e = fp    ? KN_OK
                  : tmp ? kn_fail(KN_ERR_IO, "cannot write the state file %s", tmp)
                        : KN_ERR_NOMEM;
    for (size_t i = 0; e == KN_OK && i < w->r->n_sources; i++) {
        const char *wm = w->r->sources[i].watermark ? w->r->sources[i].watermark : w->watermarks[i];
        if (wm) fprintf(fp, "%s\t%s\n", w->s->sources[i].name, wm);
    }
    if (fp && fclose(fp) != 0 && e == KN_OK) e = kn_fail(KN_ERR_IO, "writing %s failed", tmp);
    if (e == KN_OK)
        e = kn_temp_commit(tmp, path);
    else
        kn_temp_discard(tmp);
    kn_free(path);
    return e;
}

/* A cell of a numeric or time column as a double (NaN when missing). */
static double order_value(kn_column *c, size_t r)
{
    if (kn_column_type(c) == KN_COL_NUMERIC) return kn_column_f64(c)[r];
    int64_t t = kn_column_ts(c)[r];
    return t == KN_TS_MISSING ? NAN : (double)t;
}

static kn_status parse_mark(kn_column *c, const char *text, double *out, const char *source)
{
    char *end;
    int64_t us;
    if (kn_column_type(c) == KN_COL_NUMERIC) {
        *out = strtod(text, &end);
        if (*text && !*end) return KN_OK;
    } else if (kn__parse_timestamp(text, text + strlen(text), &us)) {
        *out = (double)us;
        return KN_OK;
    }
    return kn_fail(KN_ERR_INVALID, "source '%s': watermark '%s' is not a %s", source, text,
                   kn_column_type(c) == KN_COL_NUMERIC ? "number" : "time (ISO-8601)");
}

/* Keep rows whose `since` column is above the watermark; record the new one. */
static kn_status apply_since(run *w, size_t i, kn_frame **f, kn_prep_source_report *rep)
{
    const kn_spec_source *src = &w->s->sources[i];
    size_t j;
    if (kn_frame_find(*f, src->since, &j) != KN_OK)
        return kn_fail_prefix(KN_ERR_NOT_FOUND, "source '%s': since: ", src->name);
    kn_column *c = kn_frame_col(*f, j);
    if (kn_column_type(c) != KN_COL_NUMERIC && kn_column_type(c) != KN_COL_TIMESTAMP)
        return kn_fail(KN_ERR_TYPE, "source '%s': since column '%s' must be numeric or time",
                       src->name, src->since);
    const char *mark = w->o && w->o->full    ? NULL
                       : w->o && w->o->since ? w->o->since
                                             : w->watermarks[i];
    double lo = -INFINITY, hi = -INFINITY;
    if (mark) {
        kn_status e = parse_mark(c, mark, &lo, src->name);
        if (e != KN_OK) return e;
        hi = lo;
    }
    size_t rows = kn_frame_n_rows(*f), n = 0;
    size_t *keep = kn_malloc((rows ? rows : 1) * sizeof *keep);
    if (!keep) return KN_ERR_NOMEM;
    for (size_t r = 0; r < rows; r++) {
        double v = order_value(c, r);
        if (!(v > lo)) continue; /* at or below the mark, or missing */
        keep[n++] = r;
        if (v > hi) hi = v;
    }
    kn_col_type type = kn_column_type(c); /* c goes with the old frame */
    kn_frame *g;
    kn_status e = kn_frame_select_rows(*f, keep, n, &g);
    kn_free(keep);
    if (e != KN_OK) return e;
    kn_frame_free(*f);
    *f = g;
    rep->rows_before_since = rows;
    if (isfinite(hi)) {
        char buf[64];
        if (type == KN_COL_NUMERIC)
            snprintf(buf, sizeof buf, "%.17g", hi);
        else
            kn_timestamp_format((int64_t)hi, buf, sizeof buf);
        kn_free(rep->watermark);
        if (!(rep->watermark = kn_strdup(buf))) return KN_ERR_NOMEM;
    }
    return KN_OK;
}

static kn_status get_source(run *w, size_t i, const kn_frame **out);

/* Source i's reader options (its read: settings). */
static kn_status read_opts(const run *w, size_t i, kn_read_opts *o)
{
    const kn_spec_source *src = &w->s->sources[i];
    kn_read_opts_default(o);
    o->threads = w->o ? w->o->threads : 0;
    for (size_t k = 0; k < src->n_read; k++)
        if (kn_param_set(kn_read_params(), o, src->read[k]) != KN_OK)
            return kn_fail_prefix(KN_ERR_INVALID, "source '%s': read: ", src->name);
    return KN_OK;
}

/* 1 when source i can be read by batches: a file (not standard input)
 * without since: (its watermark spans every row) or fallback:. */
static int streamable_file(const run *w, size_t i)
{
    const kn_spec_source *src = &w->s->sources[i];
    return !(w->o && w->o->in_memory) && src->kind == KN_SOURCE_FILE && !src->since &&
           !src->fallback && strcmp(src->location, "-") != 0;
}

/* 1 when the frame is built by streaming frame.from through the joins
 * (stream_frame): a file source no other part needs whole, no union, and
 * joins that keep left order batch by batch (inner, left, semi, anti). */
static int frame_streams(const run *w)
{
    const kn_prep_spec *s = w->s;
    size_t i = source_index(s, s->from);
    if (i == (size_t)-1 || !streamable_file(w, i) || s->n_unions || !s->n_joins) return 0;
    for (size_t j = 0; j < s->n_joins; j++) {
        kn_join_kind how = s->joins[j].how;
        if (how == KN_JOIN_RIGHT || how == KN_JOIN_FULL || !strcmp(s->joins[j].with, s->from))
            return 0;
    }
    for (size_t k = 0; k < s->n_sources; k++)
        if (s->sources[k].fallback && !strcmp(s->sources[k].fallback, s->from)) return 0;
    return 1;
}

/* 1 when a part of the spec reads source i whole: a union, a join's right
 * side, a fallback, or frame.from when the frame does not stream. */
static int needed_whole(const run *w, size_t i)
{
    const kn_prep_spec *s = w->s;
    const char *name = s->sources[i].name;
    for (size_t u = 0; u < s->n_unions; u++)
        if (!strcmp(s->unions[u], name)) return 1;
    for (size_t j = 0; j < s->n_joins; j++)
        if (!strcmp(s->joins[j].with, name)) return 1;
    for (size_t k = 0; k < s->n_sources; k++)
        if (s->sources[k].fallback && !strcmp(s->sources[k].fallback, name)) return 1;
    return !strcmp(s->from, name) && !frame_streams(w);
}

/* kn_frame_read's warnings for a read by batches. */
static void log_read(const char *path, const kn_read_report *report)
{
    if (report->rows_skipped)
        kn_log(KN_LOG_WARN, "%s: %llu malformed rows skipped", path,
               (unsigned long long)report->rows_skipped);
    if (report->rows_quarantined)
        kn_log(KN_LOG_WARN, "%s: %llu malformed rows quarantined in %s", path,
               (unsigned long long)report->rows_quarantined, report->quarantine_path);
}

/* After a failed run over rd: 1 when the reader failed (it then fails every
 * call), 0 when the failure was the caller's; the error is kept. */
static int reader_failed(kn_reader *rd)
{
    char msg[2048];
    snprintf(msg, sizeof msg, "%s", kn_last_error());
    kn_frame *b = NULL;
    int failed = kn_reader_next(rd, &b) != KN_OK;
    kn_frame_free(b);
    kn_fail(KN_ERR_INVALID, "%s", msg); /* (the message back; callers keep their status) */
    return failed;
}

/* Group source i over file source `from` read by batches: memory for the
 * groups, not the rows. *whole is set when the file changed a column's type
 * after its first window, which a read by batches cannot take back: the
 * caller then reads it whole. */
static kn_status stream_group(run *w, size_t i, size_t from, kn_frame **out, int *whole)
{
    const kn_spec_source *src = &w->s->sources[i], *base = &w->s->sources[from];
    kn_read_opts o;
    kn_reader *rd = NULL;
    kn_status e = read_opts(w, from, &o);
    if (e == KN_OK) e = kn_reader_open(base->location, &o, 0, &rd);
    if (e != KN_OK && !strstr(kn_last_error(), base->name))
        e = kn_fail_prefix(e, "source '%s': ", base->name);
    size_t dropped = 0;
    if (e == KN_OK)
        e = kn_reader_group_by(rd, (const char *const *)src->by, src->n_by, src->aggs, src->n_aggs,
                               out, &dropped);
    if (e == KN_ERR_TYPE && rd && reader_failed(rd)) {
        kn_log(KN_LOG_INFO, "source '%s': %s; reading it whole instead", base->name,
               kn_last_error());
        *whole = 1;
    }
    kn_prep_source_report *rep = &w->r->sources[from];
    if (rd) rep->read = *kn_reader_report(rd);
    kn_reader_close(rd);
    if (e == KN_ERR_NOMEM && kn_mem_limit()) { /* the groups outgrew the budget: spill */
        kn_log(KN_LOG_INFO, "source '%s': %s; spilling its rows to disk by key", src->name,
               kn_last_error());
        e = kn_file_group_by_spill(base->location, &o, (const char *const *)src->by, src->n_by,
                                   src->aggs, src->n_aggs, out, &dropped, &rep->read);
    }
    rep->rows = (size_t)rep->read.rows_kept;
    if (e == KN_OK) log_read(base->location, &rep->read);
    if (e == KN_OK && dropped)
        kn_log(KN_LOG_WARN, "source '%s': %zu rows of '%s' have a missing key and are left out",
               src->name, dropped, src->location);
    return e;
}

static kn_status read_kind(run *w, size_t i, kn_frame **out, kn_read_report *rep)
{
    const kn_spec_source *src = &w->s->sources[i];
    kn_read_opts o;
    kn_status oe = read_opts(w, i, &o);
    if (oe != KN_OK) return oe;
    switch (src->kind) {
    case KN_SOURCE_FILE:
        return kn_frame_read(src->location, &o, out, rep);
    case KN_SOURCE_SQLITE:
        return kn_sqlite_query(src->location, src->query, out);
    case KN_SOURCE_POSTGRES:
        return kn_postgres_query(src->location, src->query, out);
    case KN_SOURCE_HTTP:
        return kn_http_read(src->location, &o, src->timeout_s, src->retries, out, rep);
    case KN_SOURCE_GROUP: {
        const kn_frame *in;
        size_t from = source_index(w->s, src->location);
        int whole = 0;
        if (!w->frames[from] && streamable_file(w, from) && !needed_whole(w, from)) {
            kn_status e = stream_group(w, i, from, out, &whole);
            if (!whole) return e;
        }
        kn_status e = get_source(w, from, &in);
        if (e != KN_OK) return e;
        size_t dropped = 0;
        e = kn_frame_group_by(in, (const char *const *)src->by, src->n_by, src->aggs, src->n_aggs,
                              out, &dropped);
        if (e == KN_OK && dropped)
            kn_log(KN_LOG_WARN, "source '%s': %zu rows of '%s' have a missing key and are left out",
                   src->name, dropped, src->location);
        return e;
    }
    }
    return KN_ERR_INTERNAL;
}

/* Read source i once (its fallback when it fails), filtered by its watermark. */
static kn_status get_source(run *w, size_t i, const kn_frame **out)
{
    if (w->frames[i]) {
        *out = w->frames[i];
        return KN_OK;
    }
    const kn_spec_source *src = &w->s->sources[i];
    if (w->busy[i])
        return kn_fail(KN_ERR_INVALID,
                       "source '%s' depends on itself (through group: or "
                       "fallback:)",
                       src->name);
    w->busy[i] = 1;
    kn_prep_source_report *rep = &w->r->sources[i];
    kn_frame *f = NULL;
    kn_status e = read_kind(w, i, &f, &rep->read);
    if (e != KN_OK && src->fallback) {
        rep->error = kn_strdup(kn_last_error());
        kn_log(KN_LOG_WARN, "source '%s' failed (%s); using its fallback '%s'", src->name,
               kn_last_error(), src->fallback);
        const kn_frame *fb;
        size_t k = source_index(w->s, src->fallback);
        e = get_source(w, k, &fb);
        if (e == KN_OK) e = kn_frame_copy(fb, &f);
        kn_free(rep->used);
        rep->used = kn_strdup(src->fallback);
    } else if (e != KN_OK && !strstr(kn_last_error(), src->name))
        e = kn_fail_prefix(e, "source '%s': ", src->name);
    if (e == KN_OK && src->since) e = apply_since(w, i, &f, rep);
    w->busy[i] = 0;
    if (e != KN_OK) {
        kn_frame_free(f);
        return e;
    }
    rep->rows = kn_frame_n_rows(f);
    w->frames[i] = f;
    *out = f;
    return KN_OK;
}

/* The unmatched-rows warning of join j. */
static void log_join(const run *w, size_t j)
{
    const kn_join_report *jr = &w->r->joins[j];
    if (jr->left_unmatched)
        kn_log(KN_LOG_WARN, "join with '%s': %llu rows found no match%s%s%s", w->s->joins[j].with,
               (unsigned long long)jr->left_unmatched, jr->n_examples ? " (e.g. key " : "",
               jr->n_examples ? jr->examples[0] : "", jr->n_examples ? ")" : "");
}

/* frame.from read by batches, each joined through every join (right sides
 * in memory, built once): memory for the output, not for the input twice
 * over. *whole as in stream_group. */
static kn_status stream_frame(run *w, kn_frame **out, int *whole)
{
    const kn_prep_spec *s = w->s;
    size_t from = source_index(s, s->from), nj = s->n_joins;
    const kn_spec_source *base = &s->sources[from];
    kn_join_table **tabs = kn_calloc(nj, sizeof *tabs);
    kn_frame **schemas = kn_calloc(nj + 1, sizeof *schemas); /* each join's left columns */
    kn_reader *rd = NULL;
    kn_read_opts o;
    kn_status e = tabs && schemas ? read_opts(w, from, &o) : KN_ERR_NOMEM;
    if (e == KN_OK) e = kn_reader_open(base->location, &o, 0, &rd);
    if (e != KN_OK && !strstr(kn_last_error(), base->name))
        e = kn_fail_prefix(e, "source '%s': ", base->name);
    for (size_t j = 0; e == KN_OK && j < nj; j++) {
        const kn_spec_join *jn = &s->joins[j];
        const kn_frame *right, *left = j ? schemas[j] : kn_reader_schema(rd);
        e = get_source(w, source_index(s, jn->with), &right);
        if (e == KN_OK)
            e = kn_join_table_new(right, (const char *const *)jn->right_on, left,
                                  (const char *const *)jn->on, jn->n_keys, jn->how, &tabs[j]);
        /* the next join's left columns: this join of no rows */
        if (e == KN_OK)
            e = kn_frame_join(left, right, (const char *const *)jn->on,
                              (const char *const *)jn->right_on, jn->n_keys, jn->how,
                              &schemas[j + 1], NULL);
        if (e != KN_OK && !strstr(kn_last_error(), "join"))
            e = kn_fail_prefix(e, "join with '%s': ", jn->with);
    }
    if (e == KN_OK) e = kn_reader_join(rd, tabs, nj, out);
    if (e == KN_ERR_TYPE && rd && reader_failed(rd)) {
        kn_log(KN_LOG_INFO, "source '%s': %s; reading it whole instead", base->name,
               kn_last_error());
        *whole = 1;
    }
    if (rd) {
        kn_prep_source_report *rep = &w->r->sources[from];
        rep->read = *kn_reader_report(rd);
        rep->rows = (size_t)rep->read.rows_kept;
        if (e == KN_OK) log_read(base->location, &rep->read);
    }
    for (size_t j = 0; e == KN_OK && j < nj; j++) {
        kn_join_table_report(tabs[j], &w->r->joins[j]);
        log_join(w, j);
    }
    for (size_t j = 0; tabs && j < nj; j++) kn_join_table_free(tabs[j]);
    for (size_t j = 0; schemas && j <= nj; j++) kn_frame_free(schemas[j]);
    kn_free(tabs);
    kn_free(schemas);
    kn_reader_close(rd);
    return e;
}

static kn_status combine(run *w, kn_frame **out)
{
    const kn_prep_spec *s = w->s;
    int whole = 0, streamed = 0;
    kn_frame *f = NULL;
    kn_status e = KN_OK;
    if (frame_streams(w)) {
        e = stream_frame(w, &f, &whole);
        streamed = !whole;
    }
    const kn_frame *base;
    if (!streamed) e = get_source(w, source_index(s, s->from), &base);
    if (!streamed && e == KN_OK) e = kn_frame_copy(base, &f);
    for (size_t u = 0; !streamed && e == KN_OK && u < s->n_unions; u++) {
        const kn_frame *more;
        e = get_source(w, source_index(s, s->unions[u]), &more);
        if (e == KN_OK && kn_frame_append_aligned(f, more) != KN_OK)
            e = kn_fail_prefix(KN_ERR_TYPE, "union of '%s' and '%s': ", s->from, s->unions[u]);
    }
    for (size_t j = 0; !streamed && e == KN_OK && j < s->n_joins; j++) {
        const kn_spec_join *jn = &s->joins[j];
        const kn_frame *right;
        kn_frame *g;
        e = get_source(w, source_index(s, jn->with), &right);
        if (e == KN_OK)
            e = kn_frame_join(f, right, (const char *const *)jn->on,
                              (const char *const *)jn->right_on, jn->n_keys, jn->how, &g,
                              &w->r->joins[j]);
        if (e == KN_OK) {
            kn_frame_free(f);
            f = g;
            log_join(w, j);
        } else if (!strstr(kn_last_error(), "join"))
            e = kn_fail_prefix(e, "join with '%s': ", jn->with);
    }
    if (e == KN_OK && s->n_sort) {
        kn_sort_key keys[64];
        kn_frame *g = NULL;
        size_t n = s->n_sort < 64 ? s->n_sort : 64;
        for (size_t k = 0; k < n; k++) {
            keys[k].column = s->sort_by[k];
            keys[k].descending = 0;
            for (size_t d = 0; d < s->n_sort_desc; d++)
                keys[k].descending |= !strcmp(s->sort_desc[d], s->sort_by[k]);
        }
        e = kn_frame_sort(f, keys, n, s->sort_nulls_first, &g);
        if (e == KN_OK) {
            kn_frame_free(f);
            f = g;
        }
    }
    if (e != KN_OK) {
        kn_frame_free(f);
        return e;
    }
    *out = f;
    return KN_OK;
}

/* The rows of f with row_fate == 0, and (when any) the quarantined ones written out. */
static kn_status apply_validation(run *w, kn_frame **f)
{
    kn_schema *schema;
    kn_status e = kn_schema_load(w->s->schema, &schema);
    if (e != KN_OK) return e;
    kn_validation *v = NULL;
    e = kn_schema_validate(schema, *f, &v);
    kn_schema_free(schema);
    if (e != KN_OK) return e;
    w->r->validation = v;
    w->r->rows_dropped = v->rows_dropped;
    w->r->rows_quarantined = v->rows_quarantined;
    if (v->failed) {
        for (size_t i = 0; i < v->n_violations; i++)
            if (v->violations[i].policy == KN_POLICY_FAIL)
                return kn_fail(KN_ERR_INVALID,
                               "validation against %s failed: %s %s: %s (%llu rows); "
                               "`kiln validate` lists every rule",
                               w->s->schema,
                               v->violations[i].column ? v->violations[i].column : "(table)",
                               v->violations[i].rule, v->violations[i].detail,
                               (unsigned long long)v->violations[i].count);
    }
    if (!v->row_fate) return KN_OK;
    size_t rows = kn_frame_n_rows(*f), nk = 0, nq = 0;
    size_t *keep = kn_malloc((rows ? rows : 1) * sizeof *keep);
    size_t *quar = kn_malloc((rows ? rows : 1) * sizeof *quar);
    kn_frame *kept = NULL, *q = NULL;
    e = keep && quar ? KN_OK : KN_ERR_NOMEM;
    for (size_t r = 0; e == KN_OK && r < rows; r++) {
        if (!v->row_fate[r])
            keep[nk++] = r;
        else if (v->violations[v->row_fate[r] - 1].policy == KN_POLICY_QUARANTINE)
            quar[nq++] = r;
    }
    if (e == KN_OK && nq && !(w->o && w->o->write_nothing)) {
        char path[4096];
        char base[4096];
        if (w->s->rejects)
            snprintf(path, sizeof path, "%s", w->s->rejects);
        else
            snprintf(path, sizeof path, "%s.rejects.csv", side_base(w->s, base, sizeof base));
        kn_column *why;
        e = kn_frame_select_rows(*f, quar, nq, &q);
        if (e == KN_OK) e = kn_frame_insert_column(q, 0, "_violation", KN_COL_STRING, &why);
        for (size_t i = 0; e == KN_OK && i < nq; i++) {
            const kn_violation *x = &v->violations[v->row_fate[quar[i]] - 1];
            char buf[1400];
            int len = snprintf(buf, sizeof buf, "%s %s: %s", x->column ? x->column : "(table)",
                               x->rule, x->detail);
            e = kn_column_set_str(why, i, buf,
                                  (size_t)len < sizeof buf ? (size_t)len : sizeof buf - 1);
        }
        if (e == KN_OK) e = kn_frame_write(q, path, NULL);
    }
    if (e == KN_OK) e = kn_frame_select_rows(*f, keep, nk, &kept);
    kn_frame_free(q);
    kn_free(keep);
    kn_free(quar);
    if (e != KN_OK) return e;
    kn_frame_free(*f);
    *f = kept;
    return KN_OK;
}

static kn_status dedupe(run *w, kn_frame **f)
{
    size_t idx[256], n = w->s->n_dedupe_keys;
    if (n > 256) return kn_fail(KN_ERR_INVALID, "dedupe: at most 256 key columns");
    for (size_t i = 0; i < n; i++)
        if (kn_frame_find(*f, w->s->dedupe_keys[i], &idx[i]) != KN_OK)
            return kn_fail_prefix(KN_ERR_NOT_FOUND, "dedupe: ");
    kn_frame *g;
    size_t removed = 0;
    kn_status e = kn_frame_dedupe(*f, n ? idx : NULL, n, w->s->keep_last, &g, &removed);
    if (e != KN_OK) return e;
    kn_frame_free(*f);
    *f = g;
    w->r->duplicates_removed = removed;
    return KN_OK;
}

/* The spec's steps as a pipeline (no model) fitted on *f, which becomes
 * the prepared frame. */
static kn_status fit_steps(run *w, kn_frame **f)
{
    const kn_prep_spec *s = w->s;
    kn_prep_result *r = w->r;
    size_t rows_before = kn_frame_n_rows(*f), j;
    char hint[160], at[4200];
    if (s->target && kn_frame_find(*f, s->target, &j) != KN_OK)
        return kn_fail(KN_ERR_NOT_FOUND, "%s: target: the frame has no column '%s'%s",
                       kn__spec_at(s, s->target_at, at, sizeof at), s->target,
                       kn_frame_did_you_mean(*f, s->target, hint, sizeof hint));
    if (s->target) /* marked here, so the pipeline need not copy the frame to mark it */
        kn_column_set_role(kn_frame_col(*f, j), KN_ROLE_TARGET);
    kn_status e = kn_pipeline_new(&r->pipeline);
    if (e == KN_OK) e = kn_pipeline_set_target(r->pipeline, s->target, NULL);
    for (size_t k = 0; e == KN_OK && k < s->n_steps; k++) {
        kn_step *st = NULL;
        e = kn_step_new(s->steps[k].name, &st);
        for (size_t p = 0; e == KN_OK && p < s->steps[k].n_params; p++)
            e = kn_step_set(st, s->steps[k].params[p]);
        if (e != KN_OK) {
            kn_step_free(st);
            return kn_fail_prefix(e, "step %zu (%s): ", k + 1, s->steps[k].name);
        }
        e = kn_pipeline_add_step(r->pipeline, st);
    }
    kn_frame *g = NULL;
    if (e == KN_OK) e = kn_pipeline_fit(r->pipeline, *f, &g);
    if (e != KN_OK) return e;
    kn_frame_free(*f);
    *f = g;
    r->rows_dropped_by_steps = rows_before - kn_frame_n_rows(*f);
    return KN_OK;
}

/* The reference profile of the frame the steps will learn from. */
static kn_status save_profile(run *w, kn_frame **f)
{
    kn_profile *p;
    kn_status e = kn_profile_compute(*f, &p);
    if (e != KN_OK) return e;
    e = kn__profile_save_json(p, w->s->profile);
    kn_profile_free(p);
    return e;
}

/* No output may replace one of the spec's inputs (compared as files). */
static kn_status refuse_overwrite(const kn_prep_spec *s)
{
    char *state = state_path(s), rejects[4096], what[512] = "", base[4096];
    if (!state) return KN_ERR_NOMEM;
    snprintf(rejects, sizeof rejects, "%s.rejects.csv", side_base(s, base, sizeof base));
    const char *outs[] = {s->output, s->save, s->profile, s->rejects ? s->rejects : rejects, state};
    static const char *const out_keys[] = {"output", "save", "profile", "rejects", "state"};
    size_t i = 0;
    for (; i < sizeof outs / sizeof *outs && !what[0]; i++) {
        if (!outs[i]) continue;
        if (kn_same_file(outs[i], s->path)) snprintf(what, sizeof what, "the spec itself");
        if (s->schema && kn_same_file(outs[i], s->schema))
            snprintf(what, sizeof what, "the schema");
        for (size_t k = 0; k < s->n_sources && !what[0]; k++) {
            const kn_spec_source *src = &s->sources[k];
            if ((src->kind == KN_SOURCE_FILE || src->kind == KN_SOURCE_SQLITE) &&
                kn_same_file(outs[i], src->location))
                snprintf(what, sizeof what, "the file of source '%s'", src->name);
        }
    }
    kn_status e = what[0] ? kn_fail(KN_ERR_INVALID,
                                    "%s: %s: %s is %s; writing it would replace that input. "
                                    "Choose another path, or set prep option overwrite_input "
                                    "to replace it on purpose",
                                    s->path, out_keys[i - 1], outs[i - 1], what)
                          : KN_OK;
    kn_free(state);
    return e;
}

static kn_status stage(const char *name, kn_status (*fn)(run *, kn_frame **), run *w, kn_frame **f)
{
    kn_stage_begin(name);
    kn_status e = fn(w, f);
    kn_stage_end();
    return e;
}

static kn_status read_all(run *w, kn_frame **f)
{
    kn_status e = combine(w, f);
    if (e == KN_OK) w->r->rows_in = kn_frame_n_rows(*f);
    return e;
}

static kn_status write_all(run *w, kn_frame **f)
{
    kn_status e = kn_frame_write(*f, w->s->output, NULL);
    if (e == KN_OK && w->s->save)
        e = kn_steps_save_with_read(kn_pipeline_steps(w->r->pipeline),
                                    kn_pipeline_n_steps(w->r->pipeline),
                                    kn_pipeline_input(w->r->pipeline), w->read_text, w->s->save);
    if (e == KN_OK) e = save_state(w);
    return e;
}

kn_status kn_prep_run(const kn_prep_spec *s, const kn_prep_options *opts, kn_prep_result **out)
{
    kn_prep_result *r = kn_calloc(1, sizeof *r);
    if (!r) return KN_ERR_NOMEM;
    *out = r;
    size_t n = s->n_sources ? s->n_sources : 1;
    run w = {s,
             opts,
             r,
             kn_calloc(n, sizeof(kn_frame *)),
             kn_calloc(n, sizeof(char *)),
             kn_calloc(n, sizeof(int)),
             NULL};
    r->sources = kn_calloc(n, sizeof *r->sources);
    r->joins = kn_calloc(s->n_joins ? s->n_joins : 1, sizeof *r->joins);
    kn_status e =
        w.frames && w.watermarks && w.busy && r->sources && r->joins ? KN_OK : KN_ERR_NOMEM;
    if (e == KN_OK) {
        r->n_sources = s->n_sources;
        r->n_joins = s->n_joins;
        for (size_t i = 0; e == KN_OK && i < s->n_sources; i++)
            if (!(r->sources[i].name = kn_strdup(s->sources[i].name))) e = KN_ERR_NOMEM;
    }
    if (e == KN_OK && !(opts && opts->overwrite_input)) e = refuse_overwrite(s);
    if (e == KN_OK) e = load_state(&w);
    kn_frame *f = NULL;
    if (e == KN_OK) e = stage("sources", read_all, &w, &f);
    if (e == KN_OK && s->save && s->n_sources &&
        !(opts && opts->data_only)) { /* kiln transform reads so too */
        kn_read_opts ro;
        size_t len = 0;
        e = read_opts(&w, 0, &ro);
        if (e == KN_OK) e = kn_read_settings_format(&ro, f, &w.read_text, &len);
    }
    if (e == KN_OK && s->schema) e = stage("validate", apply_validation, &w, &f);
    if (e == KN_OK && s->dedupe) e = stage("dedupe", dedupe, &w, &f);
    if (e == KN_OK && s->profile && !(opts && opts->write_nothing))
        e = stage("profile", save_profile, &w, &f);
    if (e == KN_OK && !(opts && opts->data_only)) e = stage("prep", fit_steps, &w, &f);
    if (e == KN_OK && !(opts && opts->data_only)) e = stage("write", write_all, &w, &f);
    for (size_t i = 0; i < s->n_sources; i++) {
        if (w.frames) kn_frame_free(w.frames[i]);
        if (w.watermarks) kn_free(w.watermarks[i]);
    }
    kn_free(w.frames);
    kn_free(w.watermarks);
    kn_free(w.busy);
    kn_free(w.read_text);
    if (e == KN_OK)
        r->frame = f;
    else
        kn_frame_free(f);
    return e;
}

void kn_prep_result_free(kn_prep_result *r)
{
    if (!r) return;
    kn_frame_free(r->frame);
    for (size_t i = 0; r->sources && i < r->n_sources; i++) {
        kn_free(r->sources[i].name);
        kn_free(r->sources[i].used);
        kn_free(r->sources[i].watermark);
        kn_free(r->sources[i].error);
    }
    kn_free(r->sources);
    kn_free(r->joins);
    kn_validation_free(r->validation);
    kn_pipeline_free(r->pipeline);
    kn_free(r);
}
