/* CSV reader driver: reads the input window by window (a regular file is
 * memory-mapped, a pipe read into a buffer), cuts each window
 * at a record boundary, splits it into one part per thread, counts records
 * per part, parses the parts in parallel straight into the frame's columns,
 * then stitches (categorical codes, string offsets, rejected rows) in part
 * order so the result never depends on the thread count. Memory stays near
 * the parsed columns: only one block of text is held at a time.
 * (Ideas from data.table's fread; the code is our own.) */
#include "data/csv_reader-impl.h"
#include "data/io-impl.h"
#include "kiln/mem.h"
#include "core/ctx-impl.h"
#include "kiln/reader.h"

#include <errno.h>
#include <fcntl.h>
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

/* The input as a moving window of unconsumed bytes. Regular files are
 * memory-mapped (no copy; consumed pages are dropped from the resident set
 * with MADV_DONTNEED); pipes and standard input are read into a buffer. */
typedef struct csv_source {
    int fd;
    int is_stdin;
    uint64_t size; /* 0 when unknown */
    const char *path;
    /* mapped mode */
    char *map;
    size_t pos;     /* first unconsumed byte */
    size_t dropped; /* bytes [0, dropped) already released */
    /* buffered mode */
    char *buf;
    size_t cap, have;
    uint64_t done; /* bytes read from fd */
    int eof;
} csv_source;

static kn_status source_open(csv_source *src, const char *path)
{
    memset(src, 0, sizeof *src);
    src->path = path;
    if (strcmp(path, "-") == 0) {
        src->is_stdin = 1;
        return KN_OK;
    }
    src->fd = open(path, O_RDONLY);
    if (src->fd < 0)
        return kn_fail(errno == ENOENT ? KN_ERR_NOT_FOUND : KN_ERR_IO,
                       "cannot open %s: %s; check the path", path, strerror(errno));
    struct stat sb;
    if (fstat(src->fd, &sb) == 0 && S_ISREG(sb.st_mode) && sb.st_size > 0) {
        src->size = (uint64_t)sb.st_size;
        void *m = mmap(NULL, (size_t)src->size, PROT_READ, MAP_PRIVATE, src->fd, 0);
        if (m != MAP_FAILED) {
            src->map = m;
            madvise(m, (size_t)src->size, MADV_SEQUENTIAL);
        }
    }
    return KN_OK;
}

static void source_close(csv_source *src)
{
    if (src->map) munmap(src->map, (size_t)src->size);
    kn_free(src->buf);
    if (!src->is_stdin && src->fd >= 0) close(src->fd);
}

/* Point [*start, *end) at the unconsumed input, at least `want` bytes of it
 * unless the input ends first (*eof). */
static kn_status source_window(csv_source *src, size_t want, const char **start, const char **end,
                               int *eof)
{
    if (src->map) {
        size_t stop = src->pos + want < src->size ? src->pos + want : (size_t)src->size;
        *start = src->map + src->pos;
        *end = src->map + stop;
        *eof = stop == src->size;
        return KN_OK;
    }
    if (want > src->cap) {
        char *nb = kn_realloc(src->buf, want);
        if (!nb) return KN_ERR_NOMEM;
        src->buf = nb;
        src->cap = want;
    }
    while (src->have < want && !src->eof) {
        ssize_t n = read(src->is_stdin ? 0 : src->fd, src->buf + src->have, want - src->have);
        if (n < 0) {
            if (errno == EINTR) continue;
            return kn_fail(KN_ERR_IO, "%s: read failed: %s", src->path, strerror(errno));
        }
        if (n == 0) src->eof = 1;
        src->have += (size_t)n;
        src->done += (uint64_t)n;
    }
    *start = src->buf;
    *end = src->buf + src->have;
    *eof = src->eof;
    return KN_OK;
}

/* Everything before `upto` (inside the last window) is parsed. */
static void source_consume(csv_source *src, const char *upto)
{
    if (src->map) {
        src->pos = (size_t)(upto - src->map);
        return;
    }
    size_t used = (size_t)(upto - src->buf);
    memmove(src->buf, upto, src->have - used);
    src->have -= used;
}

/* Release share k of n of the consumed pages not yet released (called by
 * each parsing thread, so unmapping runs in parallel with parsing). */
static void source_release_share(const csv_source *src, int k, int n)
{
    if (!src->map) return;
    size_t from = src->dropped, to = src->pos / 4096 * 4096;
    if (to <= from) return;
    size_t pages = (to - from) / 4096;
    size_t a = from + pages * (size_t)k / (size_t)n * 4096;
    size_t b = from + pages * (size_t)(k + 1) / (size_t)n * 4096;
    if (b > a) madvise(src->map + a, b - a, MADV_DONTNEED);
}

static void source_released(csv_source *src)
{
    if (src->map && src->pos / 4096 * 4096 > src->dropped) src->dropped = src->pos / 4096 * 4096;
}

/* Bytes consumed so far (for progress). */
static uint64_t source_offset(const csv_source *src)
{
    return src->map ? src->pos : src->done - src->have;
}

static kn_status parse_missing_tokens(csv_reader *r)
{
    const char *spec = r->o->missing;
    size_t n = 1;
    for (const char *p = spec; *p; p++) n += *p == ',';
    r->miss = kn_calloc(n, sizeof *r->miss);
    r->miss_len = kn_calloc(n, sizeof *r->miss_len);
    if (!r->miss || !r->miss_len) return KN_ERR_NOMEM;
    const char *p = spec;
    while (*p) {
        const char *comma = strchr(p, ',');
        size_t len = comma ? (size_t)(comma - p) : strlen(p);
        if (len) {
            r->miss[r->n_miss] = kn_strndup(p, len);
            if (!r->miss[r->n_miss]) return KN_ERR_NOMEM;
            r->miss_len[r->n_miss++] = len;
            r->miss_first[(unsigned char)*p] |= 1u << (len & 31);
            if (len > r->miss_max) r->miss_max = len;
        }
        p += len + (comma ? 1 : 0);
    }
    /* group the token indices by first byte (counting sort) */
    r->miss_order = kn_malloc((r->n_miss ? r->n_miss : 1) * sizeof *r->miss_order);
    if (!r->miss_order) return KN_ERR_NOMEM;
    memset(r->miss_from, 0, sizeof r->miss_from);
    for (size_t k = 0; k < r->n_miss; k++) r->miss_from[(unsigned char)r->miss[k][0] + 1]++;
    for (int c = 0; c < 256; c++) r->miss_from[c + 1] += r->miss_from[c];
    uint32_t at[256];
    memcpy(at, r->miss_from, sizeof at);
    for (size_t k = 0; k < r->n_miss; k++)
        r->miss_order[at[(unsigned char)r->miss[k][0]]++] = (uint32_t)k;
    return KN_OK;
}

static void reader_free(csv_reader *r)
{
    for (size_t k = 0; k < r->n_miss; k++) kn_free(r->miss[k]);
    kn_free(r->miss);
    kn_free(r->miss_len);
    kn_free(r->miss_order);
    for (int k = 0; k < r->nparts && r->parts; k++) {
        csv_part *p = &r->parts[k];
        for (size_t j = 0; j < r->ncols && p->dicts; j++) {
            kn__dict_free(&p->dicts[j]);
            kn_free(p->remap[j]);
        }
        kn_free(p->dicts);
        kn_free(p->remap);
        kn_free(p->remap_n);
        kn_free(p->remap_cap);
        kn_free(p->text);
        kn_free(p->scratch);
        kn_free(p->bad);
        kn_free(p->tokens);
        kn_free(p->row_tokens);
    }
    kn_free(r->parts);
    for (size_t j = 0; j < r->ncols && r->cols; j++) kn_free(r->cols[j].name);
    kn_free(r->cols);
    kn_frame_free(r->f);
}

static size_t count_byte(const char *p, const char *end, char c)
{
    size_t n = 0;
    while ((p = memchr(p, c, (size_t)(end - p)))) {
        n++;
        p++;
    }
    return n;
}

/* Split [start, cut) into r->nparts parts at record boundaries and count the
 * records and newlines of each. Without quotes any newline ends a record and
 * the parts are counted in parallel; returns 1 when a part turns out to hold
 * a quote, so the caller re-splits with quoted = 1 (a sequential walk with
 * the parser's grammar). */
static int split_block(csv_reader *r, const char *start, const char *cut, int quoted)
{
    size_t len = (size_t)(cut - start);
    int n = r->nparts;
    if (!quoted) {
        const char *b = start;
        for (int k = 0; k < n; k++) {
            csv_part *p = &r->parts[k];
            p->begin = b;
            if (k == n - 1) {
                p->end = cut;
            } else {
                const char *t = start + len / (size_t)n * (size_t)(k + 1);
                if (t < b) t = b;
                const char *nl = t < cut ? memchr(t, '\n', (size_t)(cut - t)) : NULL;
                p->end = nl ? nl + 1 : cut;
            }
            b = p->end;
        }
        int has_quote = 0;
#pragma omp parallel for num_threads(n) schedule(static, 1) reduction(| : has_quote)
        for (int k = 0; k < n; k++) {
            csv_part *p = &r->parts[k];
            has_quote |= memchr(p->begin, '"', (size_t)(p->end - p->begin)) != NULL;
            p->lines = count_byte(p->begin, p->end, '\n');
            p->records = p->lines + (p->end > p->begin && p->end[-1] != '\n');
        }
        return has_quote;
    }
    /* Quotes present: walk records once, sequentially, with the parser's grammar. */
    const char *s = start;
    for (int k = 0; k < n; k++) {
        csv_part *p = &r->parts[k];
        p->begin = s;
        p->records = 0;
        const char *target = k == n - 1 ? cut : start + len / (size_t)n * (size_t)(k + 1);
        while (s < cut && s < target) {
            int complete;
            s = kn__csv_next_record(s, cut, r->delim, &complete);
            p->records++;
        }
        p->end = s;
        p->lines = count_byte(p->begin, p->end, '\n');
    }
    return 0;
}

/* The end of the last complete record in [start, end), or start if none. */
static const char *last_boundary(const char *start, const char *end, char delim, int quoted)
{
    if (!quoted) {
        for (const char *p = end; p > start; p--)
            if (p[-1] == '\n') return p;
        return start;
    }
    const char *s = start, *last = start;
    while (s < end) {
        int complete;
        const char *next = kn__csv_next_record(s, end, delim, &complete);
        if (!complete) break;
        last = s = next;
    }
    return last;
}

/* Line (1-based) and column (1-based, bytes) of `at` within part k. */
static void locate(const csv_reader *r, int k, const char *at, uint64_t *line, uint64_t *col)
{
    uint64_t l = r->line_base;
    for (int i = 0; i < k; i++) l += r->parts[i].lines;
    const csv_part *p = &r->parts[k];
    l += count_byte(p->begin, at, '\n');
    const char *ls = at;
    while (ls > p->begin && ls[-1] != '\n') ls--;
    *line = l + 1;
    *col = (uint64_t)(at - ls) + 1;
}

/* After the parallel parse of a block: turn part-local categorical codes and
 * string offsets into frame ones, report rejected rows, close row gaps. */
static kn_status stitch(csv_reader *r, kn_rejects *rejects, kn_read_report *rep)
{
    kn_frame *f = r->f;
    for (int k = 0; k < r->nparts; k++)
        if (r->parts[k].status != KN_OK) return kn_fail(KN_ERR_NOMEM, "%s", r->parts[k].message);
    /* rejected rows, in file order; data rows before this block: rows_read */
    uint64_t data_rows_before = rep->rows_read;
    for (int k = 0; k < r->nparts; k++) {
        csv_part *p = &r->parts[k];
        for (size_t b = 0; b < p->n_bad; b++) {
            const csv_bad *bad = &p->bad[b];
            uint64_t line, col, rline, rcol;
            locate(r, k, bad->at, &line, &col);
            locate(r, k, bad->start, &rline, &rcol);
            int complete;
            const char *rend = kn__csv_next_record(bad->start, p->end, r->delim, &complete);
            while (rend > bad->start && (rend[-1] == '\n' || rend[-1] == '\r')) rend--;
            kn_status st = kn__rejects_add(rejects, line, col, rline,
                                           data_rows_before + bad->kept_before + b + 1, bad->reason,
                                           bad->start, (size_t)(rend - bad->start));
            if (st != KN_OK) return st;
        }
        data_rows_before += p->written + p->n_bad;
        p->n_bad = 0;
    }
    for (size_t j = 0; j < r->ncols; j++) {
        kn_column *c = f->cols[j];
        if (c->type == KN_COL_CATEGORICAL) {
            for (int k = 0; k < r->nparts; k++) {
                csv_part *p = &r->parts[k];
                kn_dict *d = &p->dicts[j];
                if (d->n > p->remap_cap[j]) {
                    size_t cap = d->n * 2;
                    int32_t *m = kn_realloc(p->remap[j], cap * sizeof *m);
                    if (!m) return KN_ERR_NOMEM;
                    p->remap[j] = m;
                    p->remap_cap[j] = cap;
                }
                for (size_t code = p->remap_n[j]; code < d->n; code++) {
                    size_t len;
                    const char *s = kn__dict_get(d, (int32_t)code, &len);
                    if (kn__dict_intern(&c->dict, s, len, &p->remap[j][code]) != KN_OK)
                        return KN_ERR_NOMEM;
                }
                p->remap_n[j] = d->n;
            }
#pragma omp parallel for num_threads(r->nparts) schedule(static, 1)
            for (int k = 0; k < r->nparts; k++) {
                csv_part *p = &r->parts[k];
                const int32_t *m = p->remap[j];
                int32_t *codes = c->codes + p->row0;
                for (size_t i = 0; i < p->written; i++)
                    if (codes[i] >= 0) codes[i] = m[codes[i]];
            }
        } else if (c->type == KN_COL_STRING) {
            for (int k = 0; k < r->nparts; k++) {
                csv_part *p = &r->parts[k];
                int64_t base;
                if (kn__column_add_text(c, p->text, p->n_text, &base) != KN_OK) return KN_ERR_NOMEM;
                for (size_t i = 0; i < p->written; i++)
                    if (c->str_off[p->row0 + i] >= 0) c->str_off[p->row0 + i] += base;
            }
        }
    }
    /* close the gaps left by blank lines and rejected rows */
    size_t dest = f->n_rows;
    for (int k = 0; k < r->nparts; k++) {
        csv_part *p = &r->parts[k];
        if (p->row0 != dest && p->written) {
            for (size_t j = 0; j < r->ncols; j++) {
                kn_column *c = f->cols[j];
                switch (c->type) {
                case KN_COL_NUMERIC:
                    memmove(c->f64 + dest, c->f64 + p->row0, p->written * sizeof *c->f64);
                    break;
                case KN_COL_CATEGORICAL:
                    memmove(c->codes + dest, c->codes + p->row0, p->written * sizeof *c->codes);
                    break;
                case KN_COL_TIMESTAMP:
                case KN_COL_INT64:
                    memmove(c->ts + dest, c->ts + p->row0, p->written * sizeof *c->ts);
                    break;
                case KN_COL_STRING:
                    memmove(c->str_off + dest, c->str_off + p->row0,
                            p->written * sizeof *c->str_off);
                    memmove(c->str_len + dest, c->str_len + p->row0,
                            p->written * sizeof *c->str_len);
                    break;
                }
            }
        }
        dest += p->written;
        rep->rows_read += p->written;
        r->line_base += p->lines;
    }
    f->n_rows = dest;
    return KN_OK;
}

static kn_status setup_frame(csv_reader *r)
{
    kn_status st = kn_frame_new(&r->f);
    for (size_t j = 0; j < r->ncols && st == KN_OK; j++)
        st = kn_frame_add_column(r->f, r->cols[j].name, r->cols[j].type, NULL);
    if (st != KN_OK) return st;
    r->parts = kn_calloc((size_t)r->nparts, sizeof *r->parts);
    if (!r->parts) return KN_ERR_NOMEM;
    for (int k = 0; k < r->nparts; k++) {
        csv_part *p = &r->parts[k];
        size_t n = r->ncols ? r->ncols : 1;
        p->dicts = kn_calloc(n, sizeof *p->dicts);
        p->remap = kn_calloc(n, sizeof *p->remap);
        p->remap_n = kn_calloc(n, sizeof *p->remap_n);
        p->remap_cap = kn_calloc(n, sizeof *p->remap_cap);
        p->tokens = kn_calloc(n * (r->n_miss ? r->n_miss : 1), sizeof *p->tokens);
        p->row_tokens = kn_malloc(n * sizeof *p->row_tokens);
        if (!p->dicts || !p->remap || !p->remap_n || !p->remap_cap || !p->tokens || !p->row_tokens)
            return KN_ERR_NOMEM;
    }
    return KN_OK;
}

/* Map the pages of rows [from, to) of every column now, several columns at a
 * time: one call per column instead of a page fault per 4 KiB (or 2 MiB) from
 * the parsing threads, which contend on the address-space lock. */
static void prefault_columns(kn_frame *f, size_t from, size_t to, int threads)
{
#ifdef MADV_POPULATE_WRITE
#pragma omp parallel for num_threads(threads) schedule(dynamic, 1)
    for (size_t j = 0; j < f->n_cols; j++) {
        kn_column *c = f->cols[j];
        size_t w = c->type == KN_COL_CATEGORICAL ? 4 : 8;
        char *base = c->type == KN_COL_NUMERIC       ? (char *)c->f64
                     : c->type == KN_COL_CATEGORICAL ? (char *)c->codes
                     : c->type == KN_COL_STRING      ? (char *)c->str_off
                                                     : (char *)c->ts;
        uintptr_t a = ((uintptr_t)(base + from * w) + 4095) & ~(uintptr_t)4095;
        uintptr_t b = (uintptr_t)(base + to * w) & ~(uintptr_t)4095;
        if (b > a) madvise((void *)a, b - a, MADV_POPULATE_WRITE);
    }
#else
    (void)f, (void)from, (void)to, (void)threads;
#endif
}

/* One pass over the input as a cursor over windows: run_start reads the
 * header and infers the types from the first window, run_block parses the
 * next window into r.f. Two drivers share it: the whole read (kn__csv_read)
 * appends every window to one frame and may start over after a promotion;
 * the batch read (kn__csv_open/next) empties the frame before each window,
 * keeping its dictionaries, and hands the rows out. */
typedef struct csv_run {
    csv_reader r;
    csv_source src;
    kn_rejects rejects;
    int src_open, rejects_open;
    size_t block, want;
    int batch;                /* windows go out as batches: reserve one window, not the file */
    uint64_t block_line_base; /* newlines before the last window parsed */
} csv_run;

static kn_status run_init(csv_run *run, const char *path, const kn_read_opts *o)
{
    memset(run, 0, sizeof *run);
    csv_reader *r = &run->r;
    /* tokens may stay levels of text columns unless told otherwise: by
     * missing_in_text=always or by a missing list of the user's own */
    kn_read_opts defaults;
    kn_read_opts_default(&defaults);
    r->tokens_as_levels =
        o->missing_in_text == KN_MISSING_IN_TEXT_AUTO &&
        (strcmp(o->missing, defaults.missing) == 0 || strcmp(o->missing, KN_READ_MISSING_V1) == 0);
    r->path = path;
    r->o = o;
    r->delim = o->delimiter;
    r->tsep = o->thousands;
    r->dec = o->decimal ? o->decimal : '.';
    r->numfmt = r->tsep || r->dec != '.';
    if (r->numfmt) {
        const char *bad = "0123456789+-eE\"\r\n";
        if (r->tsep == r->dec)
            return kn_fail(KN_ERR_INVALID,
                           "%s: thousands and decimal are both '%c'; give different marks (as "
                           "thousands=. decimal=, for 1.234,5)",
                           path, r->dec);
        if (strchr(bad, r->dec) || (r->tsep && strchr(bad, r->tsep)))
            return kn_fail(KN_ERR_INVALID,
                           "%s: '%c' cannot be a %s mark in numbers (a digit, sign, exponent, "
                           "quote or line end); give e.g. thousands=, or decimal=,",
                           path, strchr(bad, r->dec) ? r->dec : r->tsep,
                           strchr(bad, r->dec) ? "decimal" : "thousands");
    }
    const char *ext = strrchr(path, '.');
    if (!r->delim && ext && strcmp(ext, ".tsv") == 0) r->delim = '\t';
    r->nparts = o->threads > 0 ? (int)o->threads : omp_get_max_threads();
    if (r->nparts < 1) r->nparts = 1;
    return parse_missing_tokens(r);
}

/* Close the input and the quarantine file (the parsed frame stays). */
static kn_status run_end_input(csv_run *run)
{
    kn_status st = KN_OK;
    if (run->src_open) source_close(&run->src);
    if (run->rejects_open && kn__rejects_close(&run->rejects) != KN_OK) st = KN_ERR_IO;
    run->src_open = run->rejects_open = 0;
    return st;
}

static void run_free(csv_run *run)
{
    run_end_input(run);
    reader_free(&run->r);
    memset(run, 0, sizeof *run);
}

/* Open the input, read the header and infer the types (forced: types from
 * an earlier pass that found a value needing a wider one, or NULL). */
static kn_status run_start(csv_run *run, const kn_col_type *forced, kn_read_report *rep)
{
    csv_reader *r = &run->r;
    kn_status st = source_open(&run->src, r->path);
    if (st != KN_OK) return st;
    run->src_open = 1;
    rep->bytes = run->src.size;
    if ((st = kn__rejects_open(&run->rejects, r->path, r->o, rep)) != KN_OK) return st;
    run->rejects_open = 1;
    run->block = run->want = (size_t)r->o->block_kib * 1024 * (size_t)r->nparts;
    const char *start = NULL, *end = NULL;
    int eof = 1;
    if ((st = source_window(&run->src, run->want, &start, &end, &eof)) != KN_OK) return st;
    if (end - start >= 3 && memcmp(start, "\xef\xbb\xbf", 3) == 0) start += 3;
    if (start == end)
        return kn_fail(KN_ERR_PARSE, "%s: the file is empty (no header, no rows); nothing to read",
                       r->path);
    if (!r->delim) r->delim = kn__csv_sniff(start, (size_t)(end - start));
    const char *data;
    if ((st = kn__csv_infer(r, start, (size_t)(end - start), eof, &data)) != KN_OK) return st;
    if (forced)
        for (size_t j = 0; j < r->ncols; j++)
            if (!r->cols[j].declared) r->cols[j].type = forced[j];
    if ((st = setup_frame(r)) != KN_OK) return st;
    r->line_base = count_byte(start, data, '\n');
    source_consume(&run->src, data);
    return KN_OK;
}

/* Parse the next window into r.f (after its rows). *more = 0 at the end of
 * the input; *bumped = 1 when a column needs a wider type (the window's
 * rows are then not to be used). */
static kn_status run_block(csv_run *run, kn_read_report *rep, int *bumped, int *more)
{
    csv_reader *r = &run->r;
    csv_source *src = &run->src;
    kn_status st;
    *bumped = 0;
    for (;;) {
        const char *start = NULL, *end = NULL;
        int eof = 1;
        if ((st = source_window(src, run->want, &start, &end, &eof)) != KN_OK) return st;
        if (start == end && eof) {
            *more = 0;
            return KN_OK;
        }
        /* assume no quotes (cheap, parallel); re-split when a part has one */
        const char *cut = eof ? end : last_boundary(start, end, r->delim, 0);
        if (cut != start && split_block(r, start, cut, 0)) {
            cut = eof ? end : last_boundary(start, end, r->delim, 1);
            if (cut != start) split_block(r, start, cut, 1);
        }
        if (cut == start) {
            run->want *= 2; /* one record longer than the window: widen it */
            continue;
        }
        run->want = run->block;
        size_t total = 0;
        for (int k = 0; k < r->nparts; k++) {
            r->parts[k].row0 = r->f->n_rows + total;
            total += r->parts[k].records;
        }
        size_t need = r->f->n_rows + total;
        if (need > (r->f->n_cols ? r->f->cols[0]->cap : 0)) {
            /* estimate the whole file from this block to avoid repeated growth */
            size_t reserve = need;
            uint64_t left = src->size && !run->batch ? src->size - source_offset(src) : 0;
            if (left && cut > start) {
                double per_byte = (double)total / (double)(cut - start);
                size_t est = (size_t)(per_byte * (double)left * 1.02);
                if (r->f->n_rows + est > reserve) reserve = r->f->n_rows + est;
            }
            if ((st = kn_frame_reserve(r->f, reserve)) != KN_OK) return st;
            prefault_columns(r->f, r->f->n_rows, reserve, r->nparts);
        }
        run->block_line_base = r->line_base;
        kn_ctx *caller = kn_ctx_current(); /* the parts are parsed in the caller's context */
#pragma omp parallel for num_threads(r->nparts) schedule(static, 1)
        for (int k = 0; k < r->nparts; k++) {
            kn_ctx *prev = kn__ctx_swap(caller);
            source_release_share(src, k, r->nparts); /* pages of earlier blocks */
            kn__csv_parse_part(r, &r->parts[k]);
            kn__ctx_swap(prev);
        }
        source_released(src);
        if ((st = stitch(r, &run->rejects, rep)) != KN_OK) return st;
        for (size_t j = 0; j < r->ncols; j++)
            if (atomic_load(&r->cols[j].bump)) *bumped = 1;
        if (*bumped) return KN_OK;
        source_consume(src, cut);
        if (r->o->progress) r->o->progress(source_offset(src), src->size, r->o->progress_user);
        *more = !(eof && cut == end);
        return KN_OK;
    }
}

/* After a pass found values needing wider types: the types of the next
 * pass in *forced (allocated on first use), or the error for stdin. */
static kn_status plan_restart(const csv_run *run, kn_col_type **forced)
{
    const csv_reader *r = &run->r;
    if (strcmp(r->path, "-") == 0)
        return kn_fail(KN_ERR_TYPE, "stdin: a column's values changed type after the sampled rows, "
                                    "and standard input cannot be re-read; declare the type with "
                                    "reader option types=name:categorical");
    if (!*forced && !(*forced = kn_calloc(r->ncols, sizeof **forced))) return KN_ERR_NOMEM;
    for (size_t j = 0; j < r->ncols; j++) {
        int bump = atomic_load(&r->cols[j].bump);
        (*forced)[j] = bump & CSV_BUMP_TEXT    ? KN_COL_CATEGORICAL
                       : bump & CSV_BUMP_INT64 ? KN_COL_INT64
                                               : r->cols[j].type;
    }
    return KN_OK;
}

kn_status kn__csv_read(const char *path, const kn_read_opts *o, kn_frame **out, kn_read_report *rep)
{
    kn_col_type *forced = NULL;
    uint64_t restarts = 0;
    for (;;) {
        csv_run run;
        memset(rep, 0, sizeof *rep);
        kn_status st = run_init(&run, path, o);
        int bumped = 0, more = 1;
        if (st == KN_OK) st = run_start(&run, restarts ? forced : NULL, rep);
        while (st == KN_OK && more && !bumped) st = run_block(&run, rep, &bumped, &more);
        kn_status end = run_end_input(&run);
        if (st == KN_OK) st = end;
        if (st == KN_OK && bumped) {
            st = plan_restart(&run, &forced);
            if (st == KN_OK) {
                restarts++;
                run_free(&run);
                continue;
            }
        }
        if (st == KN_OK) st = kn__csv_resolve_tokens(&run.r, rep);
        if (st == KN_OK) {
            *out = run.r.f;
            run.r.f = NULL;
            rep->rows_kept = kn_frame_n_rows(*out);
            rep->type_restarts = restarts;
        }
        run_free(&run);
        kn_free(forced);
        return st;
    }
}

/* The batch read: one window at a time; see kiln/reader.h for the rules. */
typedef struct csv_batch {
    csv_run run;
    kn_read_report *rep;
    size_t batch_rows;
    size_t off;          /* rows of r.f already handed out */
    int more;            /* input left after r.f's window */
    unsigned char *keep; /* missing tokens kept as levels (decided on the first window) */
    size_t *fixed;       /* per column: levels before the current window */
    kn_frame *whole;     /* batch_rows = KN_READER_ALL_ROWS: the whole read */
} csv_batch;

void kn__csv_close(void *state)
{
    csv_batch *b = state;
    if (!b) return;
    run_free(&b->run);
    kn_free(b->keep);
    kn_free(b->fixed);
    kn_frame_free(b->whole);
    kn_free(b);
}

/* Settle the missing tokens parked in the window just parsed. */
static kn_status settle_window(csv_batch *b)
{
    return b->keep ? kn__csv_token_settle(&b->run.r, b->keep, b->fixed) : KN_OK;
}

/* The error for a value after the first window that needs a wider type. */
static kn_status late_promotion(csv_run *run)
{
    csv_reader *r = &run->r;
    for (int k = 0; k < r->nparts; k++) {
        const csv_part *p = &r->parts[k];
        if (!p->bump_at) continue;
        const csv_col *c = &r->cols[p->bump_col];
        int bump = atomic_load(&c->bump);
        const char *wider = bump & CSV_BUMP_TEXT ? "categorical" : "int64";
        uint64_t line, col, saved = r->line_base;
        r->line_base = run->block_line_base;
        locate(r, k, p->bump_at, &line, &col);
        r->line_base = saved;
        return kn_fail(KN_ERR_TYPE,
                       "%s:%llu:%llu: column '%s' was read as %s from the first rows, but this "
                       "value needs %s, and a batch read cannot change the type of batches it "
                       "has handed out; declare the type with reader option types=%s:%s",
                       r->path, (unsigned long long)line, (unsigned long long)col, c->name,
                       kn_col_type_name(c->type), wider, c->name, wider);
    }
    return kn_fail(KN_ERR_INTERNAL, "%s: a column changed type after the first rows", r->path);
}

kn_status kn__csv_open(const char *path, const kn_read_opts *o, size_t batch_rows,
                       kn_read_report *rep, void **state, kn_frame **schema)
{
    csv_batch *b = kn_calloc(1, sizeof *b);
    if (!b) return KN_ERR_NOMEM;
    b->rep = rep;
    b->batch_rows = batch_rows;
    kn_status st;
    if (batch_rows == KN_READER_ALL_ROWS) { /* the whole read: it may start over */
        st = kn__csv_read(path, o, &b->whole, rep);
        if (st == KN_OK) st = kn__frame_empty_like(b->whole, schema);
        if (st != KN_OK) {
            kn__csv_close(b);
            return st;
        }
        *state = b;
        return KN_OK;
    }
    /* parse the first window before the schema goes out, starting over when
     * a value there needs a wider type */
    kn_col_type *forced = NULL;
    uint64_t restarts = 0;
    for (;;) {
        memset(rep, 0, sizeof *rep);
        csv_run *run = &b->run;
        st = run_init(run, path, o);
        run->batch = 1;
        int bumped = 0;
        b->more = 1;
        if (st == KN_OK) st = run_start(run, restarts ? forced : NULL, rep);
        if (st == KN_OK) st = run_block(run, rep, &bumped, &b->more);
        if (st == KN_OK && bumped) {
            st = plan_restart(run, &forced);
            run_free(run);
            if (st == KN_OK) {
                restarts++;
                continue;
            }
        }
        break;
    }
    kn_free(forced);
    rep->type_restarts = restarts;
    csv_reader *r = &b->run.r;
    size_t nk = r->ncols * r->n_miss;
    if (st == KN_OK && nk && r->tokens_as_levels) {
        b->keep = kn_malloc(nk);
        st = b->keep ? kn__csv_token_decide(r, b->keep) : KN_ERR_NOMEM;
    }
    if (st == KN_OK && !(b->fixed = kn_calloc(r->ncols ? r->ncols : 1, sizeof *b->fixed)))
        st = KN_ERR_NOMEM;
    if (st == KN_OK) st = settle_window(b);
    if (st == KN_OK) st = kn__frame_empty_like(r->f, schema);
    if (st != KN_OK) {
        kn__csv_close(b);
        return st;
    }
    *state = b;
    return KN_OK;
}

kn_status kn__csv_next(void *state, kn_frame **batch)
{
    csv_batch *b = state;
    *batch = NULL;
    if (b->whole) return kn__batch_take(&b->whole, &b->off, b->batch_rows, batch);
    if (b->batch_rows == KN_READER_ALL_ROWS) return KN_OK; /* (handed out) */
    csv_run *run = &b->run;
    csv_reader *r = &run->r;
    kn_status st;
    while (b->off == r->f->n_rows) {
        if (!b->more) {
            if (!run->src_open) return KN_OK; /* ended before */
            if ((st = run_end_input(run)) != KN_OK) return st;
            return b->keep ? kn__csv_token_notes(r, b->keep, b->rep) : KN_OK;
        }
        /* empty the frame for the next window; codes and levels stay */
        for (size_t j = 0; j < r->ncols; j++) {
            kn_column *c = r->f->cols[j];
            b->fixed[j] = c->type == KN_COL_CATEGORICAL ? c->dict.n : 0;
            c->n_text = 0;
        }
        r->f->n_rows = 0;
        b->off = 0;
        int bumped = 0;
        if ((st = run_block(run, b->rep, &bumped, &b->more)) != KN_OK) return st;
        if (bumped) return late_promotion(run);
        if ((st = settle_window(b)) != KN_OK) return st;
    }
    size_t n = r->f->n_rows - b->off < b->batch_rows ? r->f->n_rows - b->off : b->batch_rows;
    if ((st = kn__frame_slice(r->f, b->off, n, batch)) == KN_OK) b->off += n;
    return st;
}
