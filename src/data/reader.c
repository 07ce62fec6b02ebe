/* Batch readers (kiln/reader.h): the handle over a format's kn_reader_vt,
 * the slicing reader that formats read whole use, and kn_frame_read as a
 * loop over it. */
#include "kiln/reader.h"
#include "data/frame-impl.h"
#include "data/io-impl.h"
#include "kiln/init.h"
#include "kiln/log.h"
#include "kiln/mem.h"
#include "kiln/registry.h"

#include <string.h>

struct kn_reader {
    const kn_reader_vt *vt;
    void *state;
    kn_frame *schema;
    char *path;
    const char *format; /* static (the component's name) */
    kn_read_opts opts;
    size_t target; /* column given the target role, or SIZE_MAX */
    int done;
    kn_status failed; /* a failed next: every later call fails the same way */
    char *failed_msg;
    kn_read_report *report; /* own_report, or the caller's (kn_frame_read) */
    kn_read_report own_report;
};

/* Formats with their own types (all but CSV, which reads with the
 * declarations): a declared column with no value takes the declared type;
 * any other mismatch is an error naming the column. Applied to the schema
 * and to every batch, so a column entirely missing is retyped in each. */
static kn_status conform_decls(const char *path, const kn_read_opts *o, kn_frame *f)
{
    for (size_t d = 0; d < o->n_decls; d++) {
        const kn_col_decl *x = &o->decls[d];
        size_t j;
        if (kn_frame_find(f, x->name, &j) != KN_OK) {
            kn_clear_error();
            continue;
        }
        kn_column *c = kn_frame_col(f, j);
        if (kn_column_type(c) == x->type) continue;
        for (size_t r = 0; r < kn_frame_n_rows(f); r++)
            if (!kn_column_is_missing(c, r))
                return kn_fail(KN_ERR_TYPE,
                               "%s: column '%s' is %s here but %s is expected (the type it had "
                               "when the model or steps were fitted); convert the file's "
                               "column, or read it from CSV",
                               path, x->name, kn_col_type_name(kn_column_type(c)),
                               kn_col_type_name(x->type));
        kn_role role = kn_column_role(c);
        kn_status e = kn_frame_remove_column(f, j);
        if (e == KN_OK) e = kn_frame_insert_column(f, j, x->name, x->type, &c);
        if (e != KN_OK) return e;
        kn_column_set_role(c, role);
    }
    return KN_OK;
}

/* Open with the report written to `report` (kn_frame_read's), or to the
 * reader's own when NULL. */
static kn_status reader_open(const char *path, const kn_read_opts *opts, size_t batch_rows,
                             kn_read_report *report, kn_reader **out)
{
    kn_read_opts defaults;
    if (!opts) {
        kn_read_opts_default(&defaults);
        opts = &defaults;
    }
    const char *format = opts->format;
    if (!format[0]) {
        if (strcmp(path, "-") == 0)
            format = "csv";
        else if (kn_format_for_path(path, &format) != KN_OK)
            return KN_ERR_INVALID;
    }
    kn_data_register();
    const kn_component *c = kn_registry_find(KN_COMP_READER, format);
    if (!c) return kn_fail_prefix(KN_ERR_INVALID, "reading %s: ", path);
    kn_reader *rd = kn_calloc(1, sizeof *rd);
    if (!rd || !(rd->path = kn_strdup(path))) {
        kn_free(rd);
        return KN_ERR_NOMEM;
    }
    rd->vt = c->vt;
    rd->format = c->name;
    rd->opts = *opts;
    rd->target = SIZE_MAX;
    rd->report = report ? report : &rd->own_report;
    memset(rd->report, 0, sizeof *rd->report);
    kn_status s = rd->vt->open(rd->path, &rd->opts, batch_rows ? batch_rows : KN_READER_BATCH_ROWS,
                               rd->report, &rd->state, &rd->schema);
    if (s != KN_OK) {
        kn_free(rd->path);
        kn_free(rd);
        return s;
    }
    rd->report->rows_kept = 0; /* counted as batches go out */
    s = conform_decls(path, opts, rd->schema);
    if (s == KN_OK && opts->target[0]) {
        size_t j;
        if (kn_frame_find(rd->schema, opts->target, &j) != KN_OK)
            s = kn_fail_prefix(KN_ERR_NOT_FOUND, "%s: target: ", path);
        else
            rd->target = j;
    }
    if (s == KN_OK && rd->target != SIZE_MAX)
        kn_column_set_role(kn_frame_col(rd->schema, rd->target), KN_ROLE_TARGET);
    if (s != KN_OK) {
        kn_reader_close(rd);
        return s;
    }
    *out = rd;
    return KN_OK;
}

kn_status kn_reader_open(const char *path, const kn_read_opts *opts, size_t batch_rows,
                         kn_reader **out)
{
    return reader_open(path, opts, batch_rows, NULL, out);
}

const kn_frame *kn_reader_schema(const kn_reader *rd)
{
    return rd->schema;
}

const kn_read_report *kn_reader_report(const kn_reader *rd)
{
    return rd->report;
}

kn_status kn_reader_next(kn_reader *rd, kn_frame **batch)
{
    *batch = NULL;
    if (rd->failed != KN_OK)
        return kn_fail(rd->failed, "%s", rd->failed_msg ? rd->failed_msg : "read failed");
    if (rd->done) return KN_OK;
    kn_frame *b = NULL;
    kn_status s = rd->vt->next(rd->state, &b);
    if (s != KN_OK) {
        rd->failed = s;
        rd->failed_msg = kn_strdup(kn_last_error());
        return s;
    }
    if (!b) {
        rd->done = 1;
        return KN_OK;
    }
    if ((s = conform_decls(rd->path, &rd->opts, b)) != KN_OK) {
        kn_frame_free(b);
        rd->failed = s;
        rd->failed_msg = kn_strdup(kn_last_error());
        return s;
    }
    if (rd->target != SIZE_MAX) kn_column_set_role(b->cols[rd->target], KN_ROLE_TARGET);
    rd->report->rows_kept += b->n_rows;
    *batch = b;
    return KN_OK;
}

void kn_reader_close(kn_reader *rd)
{
    if (!rd) return;
    if (rd->state) rd->vt->close(rd->state);
    kn_frame_free(rd->schema);
    kn_free(rd->failed_msg);
    kn_free(rd->path);
    kn_free(rd);
}

kn_status kn_frame_read(const char *path, const kn_read_opts *opts, kn_frame **out,
                        kn_read_report *report)
{
    kn_read_report local;
    if (!report) report = &local;
    kn_reader *rd;
    kn_status s = reader_open(path, opts, KN_READER_ALL_ROWS, report, &rd);
    if (s != KN_OK) return s;
    kn_frame *f = NULL, *b;
    while ((s = kn_reader_next(rd, &b)) == KN_OK && b) {
        if (!f) {
            f = b; /* (the only batch, unless a reader sliced it) */
            continue;
        }
        s = kn_frame_append(f, b);
        kn_frame_free(b);
        if (s != KN_OK) break;
    }
    if (s == KN_OK && !f) s = kn__frame_empty_like(rd->schema, &f); /* no rows */
    const char *format = rd->format;
    kn_reader_close(rd);
    if (s != KN_OK) {
        kn_frame_free(f);
        return s;
    }
    kn_log(KN_LOG_DEBUG, "read %s (%s): %zu rows x %zu columns", path, format, kn_frame_n_rows(f),
           kn_frame_n_cols(f));
    if (report->rows_skipped)
        kn_log(KN_LOG_WARN, "%s: %llu malformed rows skipped", path,
               (unsigned long long)report->rows_skipped);
    if (report->rows_quarantined)
        kn_log(KN_LOG_WARN, "%s: %llu malformed rows quarantined in %s", path,
               (unsigned long long)report->rows_quarantined, report->quarantine_path);
    if (report->type_restarts)
        kn_log(KN_LOG_INFO,
               "%s: a column changed type after the sampled rows and the file was read again; "
               "declare types (reader option types) or sample more rows (reader option "
               "sample_rows) to "
               "save the re-read",
               path);
    *out = f;
    return KN_OK;
}

/* The reader of a format read whole: the frame handed out in slices. */
typedef struct sliced {
    kn_frame *f;
    size_t off, batch_rows;
} sliced;

kn_status kn__frame_empty_like(const kn_frame *f, kn_frame **out)
{
    kn_frame *g;
    kn_status s = kn_frame_new(&g);
    if (s != KN_OK) return s;
    for (size_t j = 0; j < f->n_cols && s == KN_OK; j++) {
        const kn_column *c = f->cols[j];
        kn_column *d;
        s = kn__frame_add_unique(g, c->name, c->type, &d);
        if (s != KN_OK) break;
        d->role = c->role;
        d->encoding = c->encoding;
        if (c->type == KN_COL_CATEGORICAL) {
            kn__dict_free(&d->dict);
            s = kn__dict_copy(&d->dict, &c->dict);
        }
    }
    if (s != KN_OK) {
        kn_frame_free(g);
        return s;
    }
    *out = g;
    return KN_OK;
}

kn_status kn__frame_slice(const kn_frame *f, size_t from, size_t n, kn_frame **out)
{
    size_t *rows = kn_malloc((n ? n : 1) * sizeof *rows);
    if (!rows) return KN_ERR_NOMEM;
    for (size_t i = 0; i < n; i++) rows[i] = from + i;
    kn_status s = kn_frame_select_rows(f, rows, n, out);
    kn_free(rows);
    return s;
}

kn_status kn__batch_take(kn_frame **pending, size_t *off, size_t batch_rows, kn_frame **batch)
{
    *batch = NULL;
    kn_frame *f = *pending;
    if (!f || *off >= f->n_rows) return KN_OK;
    size_t n = f->n_rows - *off < batch_rows ? f->n_rows - *off : batch_rows;
    if (*off == 0 && n == f->n_rows) { /* all of it: moved, not copied */
        *batch = f;
        *pending = NULL;
        return KN_OK;
    }
    kn_status s = kn__frame_slice(f, *off, n, batch);
    if (s == KN_OK) *off += n;
    return s;
}

kn_status kn__sliced_open(kn__whole_read_fn read, const char *path, const kn_read_opts *o,
                          size_t batch_rows, kn_read_report *rep, void **state, kn_frame **schema)
{
    sliced *sl = kn_calloc(1, sizeof *sl);
    if (!sl) return KN_ERR_NOMEM;
    sl->batch_rows = batch_rows;
    kn_status s = read(path, o, &sl->f, rep);
    if (s == KN_OK) s = kn__frame_empty_like(sl->f, schema);
    if (s != KN_OK) {
        kn__sliced_close(sl);
        return s;
    }
    *state = sl;
    return KN_OK;
}

kn_status kn__sliced_next(void *state, kn_frame **batch)
{
    sliced *sl = state;
    return kn__batch_take(&sl->f, &sl->off, sl->batch_rows, batch);
}

void kn__sliced_close(void *state)
{
    sliced *sl = state;
    if (!sl) return;
    kn_frame_free(sl->f);
    kn_free(sl);
}
