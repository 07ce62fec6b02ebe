/* kn_frame_read / kn_frame_write: the one entry point over every format. */
#include "kiln/init.h"
#include "kiln/tempfile.h"
#include "data/io-impl.h"
#include "kiln/log.h"
#include "kiln/mem.h"
#include "kiln/registry.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const kn_param_def read_params[] = {
    KN_PARAM_STRING(kn_read_opts, format, "",
                    "file format: csv, arff, libsvm, jsonl, kfr (default: from the extension)"),
    KN_PARAM_CHAR(kn_read_opts, delimiter, "auto",
                  "CSV field delimiter (auto = sniff among , tab ; |)"),
    KN_PARAM_ENUM(kn_read_opts, header, "auto", "auto|yes|no", "CSV first row holds column names"),
    KN_PARAM_STRING(kn_read_opts, missing, KN_READ_MISSING_DEFAULT,
                    "comma-separated tokens read as missing (empty cells always are); the "
                    "default is pandas' list (read_csv's na_values) with None and ?"),
    KN_PARAM_ENUM(kn_read_opts, on_bad_rows, "fail", "fail|skip|quarantine",
                  "what to do with a malformed row"),
    KN_PARAM_STRING(kn_read_opts, quarantine, "",
                    "file for quarantined rows (default: <input>.rejects.csv)"),
    KN_PARAM_INT(kn_read_opts, threads, "0", 0, 1024, "reader threads (0 = all cores)"),
    KN_PARAM_INT(kn_read_opts, sample_rows, "10000", 1, 1e9, "rows sampled to infer column types"),
    KN_PARAM_INT(kn_read_opts, block_kib, "8192", 1, 1048576,
                 "CSV text held in memory per thread, in KiB"),
    KN_PARAM_STRING(
        kn_read_opts, types, "",
        "declared column types: name:type,... (numeric, categorical, string, timestamp, int64); "
        "?name:type applies only when the file has the column"),
    KN_PARAM_STRING(kn_read_opts, target, "", "column to mark as the target"),
    KN_PARAM_ENUM(kn_read_opts, missing_in_text, "auto", "auto|always",
                  "missing tokens in text columns: auto keeps a token that is a frequent level "
                  "there (>= 1% of the cells, not used in number columns), always reads it as "
                  "missing (as does a missing list given explicitly)"),
    KN_PARAM_CHAR(kn_read_opts, thousands, "none",
                  "CSV: thousands separator inside numbers, as pandas' thousands= (e.g. , or . "
                  "or space; none: numbers have no separator)"),
    KN_PARAM_CHAR(kn_read_opts, decimal, ".",
                  "CSV: decimal mark of numbers, as pandas' decimal= (, for 1,5; then 1.5 is "
                  "text unless thousands is .)"),
    KN_PARAM_END};

const kn_param_def *kn_read_params(void)
{
    return read_params;
}

void kn_read_opts_default(kn_read_opts *o)
{
    memset(o, 0, sizeof *o);
    kn_param_defaults(read_params, o);
}

static const struct {
    const char *ext, *format;
} extensions[] = {{".csv", "csv"},         {".tsv", "csv"},       {".txt", "csv"},
                  {".arff", "arff"},       {".libsvm", "libsvm"}, {".svm", "libsvm"},
                  {".svmlight", "libsvm"}, {".jsonl", "jsonl"},   {".ndjson", "jsonl"},
                  {".kfr", "kfr"},         {NULL, NULL}};

kn_status kn_format_for_path(const char *path, const char **format)
{
    const char *dot = strrchr(path, '.');
    const char *slash = strrchr(path, '/');
    if (dot && (!slash || dot > slash))
        for (int i = 0; extensions[i].ext; i++)
            if (strcmp(dot, extensions[i].ext) == 0) {
                *format = extensions[i].format;
                return KN_OK;
            }
    return kn_fail(KN_ERR_NOT_FOUND,
                   "cannot tell the format of '%s' from its extension; name it with reader "
                   "option format "
                   "(csv, arff, libsvm, jsonl, kfr)",
                   path);
}

kn_status kn_frame_write(const kn_frame *f, const char *path, const char *format)
{
    if (!format || !format[0]) {
        if (kn_format_for_path(path, &format) != KN_OK) return KN_ERR_INVALID;
    }
    kn_data_register();
    const kn_component *c = kn_registry_find(KN_COMP_WRITER, format);
    if (!c) return kn_fail_prefix(KN_ERR_INVALID, "writing %s: ", path);
    const kn_writer_vt *vt = c->vt;
    if (strcmp(format, "kfr") != 0 && kn_frame_has_onehot(f)) {
        /* text formats carry one-hot columns as 0/1 columns */
        kn_frame *wide;
        kn_status s = kn_frame_expand_onehot(f, &wide);
        if (s == KN_OK) s = vt->write(wide, path);
        kn_frame_free(wide);
        return s;
    }
    return vt->write(f, path);
}

kn_status kn__slurp(const char *path, char **buf, size_t *len)
{
    FILE *fp = strcmp(path, "-") == 0 ? stdin : fopen(path, "rb");
    if (!fp)
        return kn_fail(errno == ENOENT ? KN_ERR_NOT_FOUND : KN_ERR_IO,
                       "cannot open %s: %s; check the path", path, strerror(errno));
    size_t cap = 65536, n = 0;
    char *b = kn_malloc(cap);
    kn_status st = b ? KN_OK : KN_ERR_NOMEM;
    while (st == KN_OK) {
        if (n + 1 >= cap) {
            char *nb = kn_realloc(b, cap * 2);
            if (!nb) {
                st = KN_ERR_NOMEM;
                break;
            }
            b = nb;
            cap *= 2;
        }
        size_t got = fread(b + n, 1, cap - n - 1, fp);
        n += got;
        if (got == 0) {
            if (ferror(fp)) st = kn_fail(KN_ERR_IO, "%s: read failed", path);
            break;
        }
    }
    if (fp != stdin) fclose(fp);
    if (st != KN_OK) {
        kn_free(b);
        return st;
    }
    b[n] = '\0';
    *buf = b;
    *len = n;
    return KN_OK;
}

kn_status kn__read_input(const char *path, char **buf, size_t *len, kn_read_report *rep)
{
    kn_status st = kn__slurp(path, buf, len);
    if (st == KN_OK) rep->bytes = *len;
    return st;
}

kn_status kn__outfile_open(kn_outfile *o, const char *path)
{
    memset(o, 0, sizeof *o);
    if (!strcmp(path, "-")) { /* standard output: written in place */
        o->fp = stdout;
        return KN_OK;
    }
    o->path = kn_strdup(path);
    o->tmp = kn_temp_path(path);
    if (!o->path || !o->tmp) {
        kn__outfile_abort(o);
        return KN_ERR_NOMEM;
    }
    o->fp = fopen(o->tmp, "wb");
    if (!o->fp) {
        kn_status s = kn_fail(KN_ERR_IO, "cannot create %s: %s", o->tmp, strerror(errno));
        kn__outfile_abort(o);
        return s;
    }
    return KN_OK;
}

kn_status kn__outfile_commit(kn_outfile *o)
{
    kn_status s = KN_OK;
    if (o->fp == stdout && !o->path) {
        if (fflush(stdout) != 0 || ferror(stdout))
            s = kn_fail(KN_ERR_IO, "writing to standard output failed: %s", strerror(errno));
        o->fp = NULL;
        return s;
    }
    if (fflush(o->fp) != 0 || ferror(o->fp) || fsync(fileno(o->fp)) != 0)
        s = kn_fail(KN_ERR_IO, "writing %s failed: %s", o->path, strerror(errno));
    if (fclose(o->fp) != 0 && s == KN_OK)
        s = kn_fail(KN_ERR_IO, "closing %s failed: %s", o->path, strerror(errno));
    o->fp = NULL;
    if (s == KN_OK)
        s = kn_temp_commit(o->tmp, o->path);
    else
        kn_temp_discard(o->tmp);
    kn_free(o->path);
    o->path = o->tmp = NULL;
    return s;
}

void kn__outfile_abort(kn_outfile *o)
{
    if (o->fp == stdout && !o->path) {
        fflush(stdout);
        o->fp = NULL;
    }
    if (o->fp) fclose(o->fp);
    kn_temp_discard(o->tmp); /* (created with the file: removed whether or not it opened) */
    kn_free(o->path);
    memset(o, 0, sizeof *o);
}

kn_status kn__rejects_open(kn_rejects *r, const char *path, const kn_read_opts *o,
                           kn_read_report *rep)
{
    memset(r, 0, sizeof *r);
    r->o = o;
    r->path = path;
    r->rep = rep;
    if (o->on_reject) o->on_reject(0, o->on_reject_user); /* a (re-)read starts */
    if (o->on_bad_rows != KN_BAD_ROWS_QUARANTINE) return KN_OK;
    int n = o->quarantine[0]
                ? snprintf(rep->quarantine_path, sizeof rep->quarantine_path, "%s", o->quarantine)
                : snprintf(rep->quarantine_path, sizeof rep->quarantine_path, "%s.rejects.csv",
                           strcmp(path, "-") ? path : "stdin");
    if (n < 0 || (size_t)n >= sizeof rep->quarantine_path) {
        rep->quarantine_path[0] = '\0';
        return kn_fail(KN_ERR_INVALID,
                       "the quarantine file's path is longer than %d bytes; name a shorter one "
                       "with reader option quarantine",
                       KN_PATH_MAX - 1);
    }
    if (kn_same_file(rep->quarantine_path, path))
        return kn_fail(KN_ERR_INVALID,
                       "the quarantine file %s is the input %s; writing it would destroy the "
                       "data being read. Name another file with reader option quarantine",
                       rep->quarantine_path, path);
    r->fp = fopen(rep->quarantine_path, "w");
    if (!r->fp)
        return kn_fail(KN_ERR_IO, "cannot create the quarantine file %s: %s", rep->quarantine_path,
                       strerror(errno));
    fputs("line,reason,row\n", r->fp);
    return KN_OK;
}

kn_status kn__rejects_add(kn_rejects *r, uint64_t line, uint64_t col, uint64_t row_line,
                          uint64_t data_row, const char *reason, const char *row, size_t row_len)
{
    r->rep->rows_read++;
    if (r->o->on_bad_rows == KN_BAD_ROWS_FAIL)
        return kn_fail(KN_ERR_PARSE,
                       "%s:%llu:%llu: %s; fix the row, or pass reader option on_bad_rows=skip "
                       "(or quarantine) to set such rows aside",
                       r->path, (unsigned long long)line, (unsigned long long)col, reason);
    if (r->o->on_reject) r->o->on_reject(data_row, r->o->on_reject_user);
    if (!r->fp) {
        r->rep->rows_skipped++;
        return KN_OK;
    }
    fprintf(r->fp, "%llu,\"", (unsigned long long)row_line);
    for (const char *s = reason; *s; s++) {
        if (*s == '"') fputc('"', r->fp);
        fputc(*s, r->fp);
    }
    fputs("\",\"", r->fp);
    for (size_t i = 0; i < row_len; i++) {
        if (row[i] == '"') fputc('"', r->fp);
        fputc(row[i], r->fp);
    }
    fputs("\"\n", r->fp);
    r->rep->rows_quarantined++;
    return ferror(r->fp) ? kn_fail(KN_ERR_IO, "writing %s failed", r->rep->quarantine_path) : KN_OK;
}

kn_status kn__rejects_close(kn_rejects *r)
{
    if (r->fp && fclose(r->fp) != 0)
        return kn_fail(KN_ERR_IO, "closing %s failed", r->rep->quarantine_path);
    r->fp = NULL;
    return KN_OK;
}
