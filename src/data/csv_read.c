/* CSV reader driver: reads the input in blocks with read(2), cuts each block
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
            r->miss_first[(unsigned char)*p] = 1;
            if (len > r->miss_max) r->miss_max = len;
        }
        p += len + (comma ? 1 : 0);
    }
    return KN_OK;
}

static void reader_free(csv_reader *r)
{
    for (size_t k = 0; k < r->n_miss; k++) kn_free(r->miss[k]);
    kn_free(r->miss);
    kn_free(r->miss_len);
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

/* One pass over the input. *bumped is set when a column needs a wider type. */
static kn_status read_once(csv_reader *r, const kn_col_type *forced, kn_read_report *rep,
                           int *bumped)
{
    csv_source src;
    kn_rejects rejects = {0};
    *bumped = 0;
    kn_status st = source_open(&src, r->path);
    if (st != KN_OK) return st;
    rep->bytes = src.size;
    if ((st = kn__rejects_open(&rejects, r->path, r->o, rep)) != KN_OK) goto done;

    const size_t block = (size_t)r->o->block_kib * 1024 * (size_t)r->nparts;
    size_t want = block;
    int first = 1;
    for (;;) {
        const char *start = NULL, *end = NULL;
        int eof = 1;
        if ((st = source_window(&src, want, &start, &end, &eof)) != KN_OK) goto done;
        if (first) {
            if (end - start >= 3 && memcmp(start, "\xef\xbb\xbf", 3) == 0) start += 3;
            if (start == end) {
                st =
                    kn_fail(KN_ERR_PARSE,
                            "%s: the file is empty (no header, no rows); nothing to read", r->path);
                goto done;
            }
            if (!r->delim) r->delim = kn__csv_sniff(start, (size_t)(end - start));
            const char *data;
            if ((st = kn__csv_infer(r, start, (size_t)(end - start), eof, &data)) != KN_OK)
                goto done;
            if (forced)
                for (size_t j = 0; j < r->ncols; j++)
                    if (!r->cols[j].declared) r->cols[j].type = forced[j];
            if ((st = setup_frame(r)) != KN_OK) goto done;
            r->line_base = count_byte(start, data, '\n');
            source_consume(&src, data);
            first = 0;
            continue;
        }
        if (start == end && eof) break;
        /* assume no quotes (cheap, parallel); re-split when a part has one */
        const char *cut = eof ? end : last_boundary(start, end, r->delim, 0);
        if (cut != start && split_block(r, start, cut, 0)) {
            cut = eof ? end : last_boundary(start, end, r->delim, 1);
            if (cut != start) split_block(r, start, cut, 1);
        }
        if (cut == start) {
            want *= 2; /* one record longer than the window: widen it */
            continue;
        }
        want = block;
        size_t total = 0;
        for (int k = 0; k < r->nparts; k++) {
            r->parts[k].row0 = r->f->n_rows + total;
            total += r->parts[k].records;
        }
        size_t need = r->f->n_rows + total;
        if (need > (r->f->n_cols ? r->f->cols[0]->cap : 0)) {
            /* estimate the whole file from this block to avoid repeated growth */
            size_t reserve = need;
            uint64_t left = src.size ? src.size - source_offset(&src) : 0;
            if (left && cut > start) {
                double per_byte = (double)total / (double)(cut - start);
                size_t est = (size_t)(per_byte * (double)left * 1.02);
                if (r->f->n_rows + est > reserve) reserve = r->f->n_rows + est;
            }
            if ((st = kn_frame_reserve(r->f, reserve)) != KN_OK) goto done;
            prefault_columns(r->f, r->f->n_rows, reserve, r->nparts);
        }
        kn_ctx *run = kn_ctx_current(); /* the parts are parsed in the caller's context */
#pragma omp parallel for num_threads(r->nparts) schedule(static, 1)
        for (int k = 0; k < r->nparts; k++) {
            kn_ctx *prev = kn__ctx_swap(run);
            source_release_share(&src, k, r->nparts); /* pages of earlier blocks */
            kn__csv_parse_part(r, &r->parts[k]);
            kn__ctx_swap(prev);
        }
        source_released(&src);
        if ((st = stitch(r, &rejects, rep)) != KN_OK) goto done;
        for (size_t j = 0; j < r->ncols; j++)
            if (atomic_load(&r->cols[j].bump)) *bumped = 1;
        if (*bumped) goto done;
        source_consume(&src, cut);
        if (r->o->progress) r->o->progress(source_offset(&src), src.size, r->o->progress_user);
        if (eof && cut == end) break;
    }
done:
    source_close(&src);
    if (kn__rejects_close(&rejects) != KN_OK && st == KN_OK) st = KN_ERR_IO;
    return st;
}

kn_status kn__csv_read(const char *path, const kn_read_opts *o, kn_frame **out, kn_read_report *rep)
{
    /* tokens may stay levels of text columns unless told otherwise: by
     * missing_in_text=always or by a missing list of the user's own */
    kn_read_opts defaults;
    kn_read_opts_default(&defaults);
    const int tokens_as_levels =
        o->missing_in_text == KN_MISSING_IN_TEXT_AUTO && strcmp(o->missing, defaults.missing) == 0;
    kn_col_type *forced = NULL;
    size_t n_forced = 0;
    uint64_t restarts = 0;
    for (;;) {
        csv_reader r;
        memset(&r, 0, sizeof r);
        r.path = path;
        r.o = o;
        r.tokens_as_levels = tokens_as_levels;
        r.delim = o->delimiter;
        const char *ext = strrchr(path, '.');
        if (!r.delim && ext && strcmp(ext, ".tsv") == 0) r.delim = '\t';
        r.nparts = o->threads > 0 ? (int)o->threads : omp_get_max_threads();
        if (r.nparts < 1) r.nparts = 1;
        memset(rep, 0, sizeof *rep);
        kn_status st = parse_missing_tokens(&r);
        int bumped = 0;
        if (st == KN_OK) st = read_once(&r, n_forced ? forced : NULL, rep, &bumped);
        if (st == KN_OK && bumped) {
            if (strcmp(path, "-") == 0) {
                st = kn_fail(KN_ERR_TYPE,
                             "stdin: a column's values changed type after the sampled rows, "
                             "and standard input cannot be re-read; declare the type with "
                             "--types name:categorical");
            } else if (!forced && !(forced = kn_calloc(r.ncols, sizeof *forced))) {
                st = KN_ERR_NOMEM;
            }
            if (st == KN_OK) {
                n_forced = r.ncols;
                for (size_t j = 0; j < r.ncols; j++) {
                    int bump = atomic_load(&r.cols[j].bump);
                    forced[j] = bump & CSV_BUMP_TEXT    ? KN_COL_CATEGORICAL
                                : bump & CSV_BUMP_INT64 ? KN_COL_INT64
                                                        : r.cols[j].type;
                }
                restarts++;
                reader_free(&r);
                continue;
            }
        }
        if (st == KN_OK) st = kn__csv_resolve_tokens(&r, rep);
        if (st == KN_OK) {
            *out = r.f;
            r.f = NULL;
            rep->rows_kept = kn_frame_n_rows(*out);
            rep->type_restarts = restarts;
        }
        reader_free(&r);
        kn_free(forced);
        return st;
    }
}
