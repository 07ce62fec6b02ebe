/* .kfr writer and reader (layout in include/kiln/kfr.h). */
#include "kiln/kfr.h"
#include "kiln/codec.h"
#include "data/frame-impl.h"
#include "data/io-impl.h"
#include "kiln/mem.h"

#include <fcntl.h>
#include <sodium.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>
#include <string.h>
#include <zstd.h>

#if __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "the .kfr code assumes a little-endian host"
#endif

static const char kfr_magic[8] = {'K', 'I', 'L', 'N', 'F', 'R', 'M', '\0'};
static const char kfr_end[8] = {'K', 'F', 'R', 'E', 'N', 'D', '0', '1'};

/* BLAKE2b-256 over 4 MiB chunks (in parallel), then over the chunk hashes:
 * the file checksum costs a fraction of a read even for large frames. */
kn_status kn__kfr_checksum(const unsigned char *p, size_t n, unsigned char out[32])
{
    const size_t chunk = 4u << 20;
    size_t n_chunks = n / chunk + 1;
    unsigned char *h = kn_malloc(n_chunks * 32);
    if (!h) return KN_ERR_NOMEM;
#pragma omp parallel for schedule(static)
    for (size_t i = 0; i < n_chunks; i++) {
        size_t at = i * chunk, len = n - at < chunk ? n - at : chunk;
        crypto_generichash(h + 32 * i, 32, p + at, len, NULL, 0);
    }
    crypto_generichash(out, 32, h, n_chunks * 32, NULL, 0);
    kn_free(h);
    return KN_OK;
}

static void put_blob(kn_wbuf *b, const void *raw, size_t n)
{
    size_t bound = ZSTD_compressBound(n);
    kn_wbuf_u64(b, n);
    size_t at = b->n;
    kn_wbuf_u64(b, 0);
    if (b->failed) return;
    kn_wbuf_bytes(b, NULL, bound); /* reserve */
    if (b->failed) return;
    size_t got = ZSTD_compress(b->p + at + 8, bound, raw, n, 1);
    if (ZSTD_isError(got)) {
        b->failed = 1;
        return;
    }
    memcpy(b->p + at, &(uint64_t){got}, 8);
    b->n = at + 8 + got;
}

kn_status kn__kfr_write(const kn_frame *f, const char *path)
{
    if (sodium_init() < 0) return kn_fail(KN_ERR_INTERNAL, "libsodium failed to initialise");
    kn_wbuf b = {0};
    kn_wbuf_bytes(&b, kfr_magic, 8);
    /* version 1.1 unless an int64 column needs 2.0: files without one stay
     * readable by every kiln that reads 1.x */
    uint16_t major = 1, minor = KN_KFR_MINOR_1;
    for (size_t j = 0; j < f->n_cols; j++)
        if (f->cols[j]->type == KN_COL_INT64) {
            major = KN_KFR_MAJOR;
            minor = KN_KFR_MINOR;
        }
    uint32_t flags = 0, ncols = (uint32_t)f->n_cols, reserved = 0;
    kn_wbuf_bytes(&b, &major, 2);
    kn_wbuf_bytes(&b, &minor, 2);
    kn_wbuf_bytes(&b, &flags, 4);
    kn_wbuf_u64(&b, f->n_rows);
    kn_wbuf_bytes(&b, &ncols, 4);
    kn_wbuf_bytes(&b, &reserved, 4);
    for (size_t j = 0; j < f->n_cols && !b.failed; j++) {
        const kn_column *c = f->cols[j];
        uint32_t nl = (uint32_t)strlen(c->name);
        kn_wbuf_bytes(&b, &nl, 4);
        kn_wbuf_bytes(&b, c->name, nl);
        unsigned char tr[4] = {(unsigned char)c->type, (unsigned char)c->role,
                               (unsigned char)c->encoding, 0};
        kn_wbuf_bytes(&b, tr, 4);
        size_t n = f->n_rows;
        switch (c->type) {
        case KN_COL_NUMERIC:
            kn_wbuf_u64(&b, 0);
            put_blob(&b, c->f64, n * 8);
            break;
        case KN_COL_TIMESTAMP:
        case KN_COL_INT64:
            kn_wbuf_u64(&b, 0);
            put_blob(&b, c->ts, n * 8);
            break;
        case KN_COL_CATEGORICAL: {
            kn_wbuf_u64(&b, c->dict.n);
            put_blob(&b, c->codes, n * 4);
            put_blob(&b, c->dict.lens, c->dict.n * 4);
            /* level bytes without the NULs the dictionary keeps */
            kn_wbuf text = {0};
            for (size_t l = 0; l < c->dict.n; l++)
                kn_wbuf_bytes(&text, c->dict.bytes + c->dict.offs[l], c->dict.lens[l]);
            if (text.failed) b.failed = 1;
            put_blob(&b, text.p, text.n);
            kn_free(text.p);
            break;
        }
        case KN_COL_STRING: {
            /* compact: only the text the rows use, in row order */
            kn_wbuf text = {0};
            int64_t *off = kn_malloc((n ? n : 1) * 8);
            if (!off) {
                b.failed = 1;
                break;
            }
            for (size_t i = 0; i < n; i++) {
                if (c->str_off[i] < 0) {
                    off[i] = -1;
                    continue;
                }
                off[i] = (int64_t)text.n;
                kn_wbuf_bytes(&text, c->text + c->str_off[i], (size_t)c->str_len[i]);
            }
            kn_wbuf_u64(&b, text.n);
            put_blob(&b, off, n * 8);
            put_blob(&b, c->str_len, n * 8);
            put_blob(&b, text.p, text.n);
            if (text.failed) b.failed = 1;
            kn_free(text.p);
            kn_free(off);
            break;
        }
        }
    }
    unsigned char sum[32];
    if (!b.failed && kn__kfr_checksum(b.p, b.n, sum) != KN_OK) b.failed = 1;
    if (!b.failed) {
        kn_wbuf_bytes(&b, sum, sizeof sum);
        kn_wbuf_bytes(&b, kfr_end, 8);
    }
    if (b.failed) {
        kn_free(b.p);
        return kn_fail(KN_ERR_NOMEM, "%s: out of memory while encoding the frame", path);
    }
    kn_outfile out;
    kn_status s = kn__outfile_open(&out, path);
    if (s == KN_OK) {
        if (fwrite(b.p, 1, b.n, out.fp) != b.n) {
            kn__outfile_abort(&out);
            s = kn_fail(KN_ERR_IO, "writing %s failed", path);
        } else {
            s = kn__outfile_commit(&out);
        }
    }
    kn_free(b.p);
    return s;
}

/* A blob to decompress later, in parallel with the others. */
typedef struct blob_job {
    const unsigned char *src;
    size_t stored, n;
    void *dst;
} blob_job;

typedef struct rbuf {
    const unsigned char *p, *end;
    const char *path;
    blob_job *jobs; /* NULL: decompress at once */
    size_t n_jobs, cap_jobs;
} rbuf;

static kn_status corrupt(const rbuf *r, const char *what)
{
    return kn_fail(KN_ERR_CORRUPT, "%s: corrupt .kfr file: %s; re-create it with kiln convert",
                   r->path, what);
}

static int get(rbuf *r, void *dst, size_t n)
{
    if ((size_t)(r->end - r->p) < n) return 0;
    memcpy(dst, r->p, n);
    r->p += n;
    return 1;
}

/* Decompress the next blob into dst, which must receive exactly n bytes. */
static kn_status get_blob(rbuf *r, void *dst, size_t n, const char *what, int defer)
{
    uint64_t raw, stored;
    if (!get(r, &raw, 8) || !get(r, &stored, 8)) return corrupt(r, "truncated blob header");
    if (raw != n) return corrupt(r, what);
    if (stored > (uint64_t)(r->end - r->p)) return corrupt(r, "blob runs past the end");
    if (defer && n) {
        if (r->n_jobs == r->cap_jobs) {
            size_t cap = r->cap_jobs * 2;
            blob_job *j = kn_realloc(r->jobs, cap * sizeof *j);
            if (!j) return KN_ERR_NOMEM;
            r->jobs = j;
            r->cap_jobs = cap;
        }
        r->jobs[r->n_jobs++] = (blob_job){r->p, (size_t)stored, n, dst};
        r->p += stored;
        return KN_OK;
    }
    size_t got = ZSTD_decompress(dst, n, r->p, (size_t)stored);
    if (ZSTD_isError(got) || got != n) return corrupt(r, "blob does not decompress");
    r->p += stored;
    return KN_OK;
}

/* The whole file: memory-mapped when it is a regular file, else read. */
static kn_status map_input(const char *path, char **buf, size_t *len, int *mapped)
{
    *mapped = 0;
    int fd = strcmp(path, "-") == 0 ? -1 : open(path, O_RDONLY);
    struct stat sb;
    if (fd >= 0 && fstat(fd, &sb) == 0 && S_ISREG(sb.st_mode) && sb.st_size > 0) {
        void *m = mmap(NULL, (size_t)sb.st_size, PROT_READ, MAP_PRIVATE | MAP_POPULATE, fd, 0);
        close(fd);
        if (m != MAP_FAILED) {
            *buf = m;
            *len = (size_t)sb.st_size;
            *mapped = 1;
            return KN_OK;
        }
    } else if (fd >= 0) {
        close(fd);
    }
    return kn__slurp(path, buf, len);
}

kn_status kn__kfr_read(const char *path, const kn_read_opts *o, kn_frame **out, kn_read_report *rep)
{
    (void)o;
    if (sodium_init() < 0) return kn_fail(KN_ERR_INTERNAL, "libsodium failed to initialise");
    char *buf;
    size_t len;
    int mapped;
    kn_status st = map_input(path, &buf, &len, &mapped);
    if (st != KN_OK) return st;
    rep->bytes = len;
    rbuf r = {(const unsigned char *)buf, (const unsigned char *)buf + len, path, NULL, 0, 16};
    kn_frame *f = NULL;
    unsigned char *scratch = NULL;
    r.jobs = kn_malloc(r.cap_jobs * sizeof *r.jobs);
    if (!r.jobs) {
        st = KN_ERR_NOMEM;
        goto done;
    }
    if (len < 32 + 40 || memcmp(buf, kfr_magic, 8) != 0) {
        st = kn_fail(KN_ERR_CORRUPT, "%s: not a .kfr file (bad magic number)", path);
        goto done;
    }
    uint16_t major, minor;
    memcpy(&major, buf + 8, 2);
    memcpy(&minor, buf + 10, 2);
    if (major > KN_KFR_MAJOR) {
        st = kn_fail(KN_ERR_VERSION,
                     "%s: .kfr format %u.%u is newer than this kiln reads (%u.x); upgrade kiln",
                     path, major, minor, KN_KFR_MAJOR);
        goto done;
    }
    if (memcmp(buf + len - 8, kfr_end, 8) != 0) {
        st = corrupt(&r, "end marker missing (truncated?)");
        goto done;
    }
    unsigned char sum[32];
    if ((st = kn__kfr_checksum((const unsigned char *)buf, len - 40, sum)) != KN_OK) goto done;
    if (memcmp(sum, buf + len - 40, 32) != 0) {
        st = corrupt(&r, "checksum mismatch");
        goto done;
    }
    r.end = (const unsigned char *)buf + len - 40;
    r.p += 16;
    uint64_t n_rows = 0;
    uint32_t ncols = 0, reserved = 0;
    get(&r, &n_rows, 8);
    get(&r, &ncols, 4);
    get(&r, &reserved, 4);
    if (n_rows > (uint64_t)len * 1024 || ncols > len) {
        st = corrupt(&r, "implausible row or column count");
        goto done;
    }
    if ((st = kn_frame_new(&f)) != KN_OK) goto done;
    for (uint32_t j = 0; j < ncols && st == KN_OK; j++) {
        uint32_t nl;
        unsigned char tr[4];
        uint64_t extra;
        if (!get(&r, &nl, 4) || nl > (size_t)(r.end - r.p)) {
            st = corrupt(&r, "truncated column name");
            break;
        }
        char *name = kn_strndup((const char *)r.p, nl);
        r.p += nl;
        if (!name) {
            st = KN_ERR_NOMEM;
            break;
        }
        if (!get(&r, tr, 4) || !get(&r, &extra, 8) ||
            tr[0] > (major >= 2 ? KN_COL_INT64 : KN_COL_TIMESTAMP) || tr[1] > KN_ROLE_IGNORE) {
            kn_free(name);
            st = corrupt(&r, "bad column record");
            break;
        }
        kn_column *c;
        st = kn_frame_add_column(f, name, (kn_col_type)tr[0], &c);
        kn_free(name);
        if (st != KN_OK) {
            st = corrupt(&r, "duplicate column name");
            break;
        }
        c->role = (kn_role)tr[1];
        if (tr[2] > KN_ENC_ONEHOT || (tr[2] && c->type != KN_COL_CATEGORICAL)) {
            st = corrupt(&r, "bad column encoding");
            break;
        }
        c->encoding = (kn_encoding)tr[2];
        /* the first blob's raw length must match n_rows before anything is allocated */
        uint64_t first_raw;
        size_t width = c->type == KN_COL_CATEGORICAL ? 4 : 8;
        if ((size_t)(r.end - r.p) < 8 ||
            (memcpy(&first_raw, r.p, 8), first_raw != n_rows * width)) {
            st = corrupt(&r, "column length does not match the row count");
            break;
        }
        if ((st = kn__column_reserve(c, n_rows)) != KN_OK) break;
        size_t n = (size_t)n_rows;
        switch (c->type) {
        case KN_COL_NUMERIC:
            st = get_blob(&r, c->f64, n * 8, "numeric column has the wrong length", 1);
            break;
        case KN_COL_TIMESTAMP:
            st = get_blob(&r, c->ts, n * 8, "timestamp column has the wrong length", 1);
            break;
        case KN_COL_INT64:
            st = get_blob(&r, c->ts, n * 8, "int64 column has the wrong length", 1);
            break;
        case KN_COL_CATEGORICAL: {
            if (extra > (uint64_t)len) {
                st = corrupt(&r, "implausible level count");
                break;
            }
            size_t nlev = (size_t)extra;
            uint32_t *lens = kn_malloc((nlev ? nlev : 1) * 4);
            if (!lens) {
                st = KN_ERR_NOMEM;
                break;
            }
            st = get_blob(&r, c->codes, n * 4, "codes have the wrong length", 1);
            if (st == KN_OK)
                st = get_blob(&r, lens, nlev * 4, "level lengths have the wrong length", 0);
            uint64_t total = 0;
            for (size_t l = 0; l < nlev && st == KN_OK; l++) total += lens[l];
            if (st == KN_OK && total > (uint64_t)len * 1024)
                st = corrupt(&r, "implausible level text size");
            if (st == KN_OK) {
                kn_free(scratch);
                scratch = kn_malloc(total ? (size_t)total : 1);
                if (!scratch) st = KN_ERR_NOMEM;
            }
            if (st == KN_OK)
                st = get_blob(&r, scratch, (size_t)total, "level text has the wrong length", 0);
            size_t at = 0;
            for (size_t l = 0; l < nlev && st == KN_OK; l++) {
                int32_t code;
                st = kn__dict_intern(&c->dict, (const char *)scratch + at, lens[l], &code);
                if (st == KN_OK && (size_t)code != l) st = corrupt(&r, "repeated category level");
                at += lens[l];
            }
            kn_free(lens);
            break;
        }
        case KN_COL_STRING: {
            if (extra > (uint64_t)len * 1024) {
                st = corrupt(&r, "implausible text size");
                break;
            }
            st = get_blob(&r, c->str_off, n * 8, "string offsets have the wrong length", 1);
            if (st == KN_OK)
                st = get_blob(&r, c->str_len, n * 8, "string lengths have the wrong length", 1);
            if (st == KN_OK && extra) {
                c->text = kn_malloc((size_t)extra);
                if (!c->text)
                    st = KN_ERR_NOMEM;
                else {
                    c->cap_text = c->n_text = (size_t)extra;
                    st =
                        get_blob(&r, c->text, (size_t)extra, "string text has the wrong length", 1);
                }
            } else if (st == KN_OK) {
                st = get_blob(&r, NULL, 0, "string text has the wrong length", 0);
            }
            break;
        }
        }
    }
    /* decompress the column blobs in parallel, then check what they hold */
    int bad = 0;
#pragma omp parallel for schedule(dynamic, 1) reduction(| : bad)
    for (size_t k = 0; k < (st == KN_OK ? r.n_jobs : 0); k++) {
        const blob_job *jb = &r.jobs[k];
        size_t got = ZSTD_decompress(jb->dst, jb->n, jb->src, jb->stored);
        bad |= ZSTD_isError(got) || got != jb->n;
    }
    if (st == KN_OK && bad) st = corrupt(&r, "blob does not decompress");
    for (size_t j = 0; j < (st == KN_OK ? f->n_cols : 0) && st == KN_OK; j++) {
        const kn_column *c = f->cols[j];
        size_t n = (size_t)n_rows;
        int out_of_range = 0;
        if (c->type == KN_COL_CATEGORICAL) {
            int32_t nlev = (int32_t)c->dict.n;
            for (size_t i = 0; i < n; i++) out_of_range |= c->codes[i] < -1 || c->codes[i] >= nlev;
        } else if (c->type == KN_COL_STRING) {
            uint64_t text = c->n_text;
            for (size_t i = 0; i < n; i++) {
                int64_t off = c->str_off[i], sl = c->str_len[i];
                if (off == -1) continue;
                out_of_range |= off < 0 || sl < 0 || (uint64_t)off > text ||
                                (uint64_t)sl > text - (uint64_t)off;
            }
        }
        if (out_of_range)
            st = corrupt(&r, c->type == KN_COL_STRING ? "string span out of range"
                                                      : "category code out of range");
    }
    if (st == KN_OK) f->n_rows = (size_t)n_rows;
    if (st == KN_OK && r.p != r.end) st = corrupt(&r, "trailing bytes after the last column");
    if (st == KN_OK) rep->rows_read = n_rows;
done:
    kn_free(scratch);
    kn_free(r.jobs);
    if (mapped)
        munmap(buf, len);
    else
        kn_free(buf);
    if (st != KN_OK) {
        kn_frame_free(f);
        return st;
    }
    *out = f;
    return KN_OK;
}
