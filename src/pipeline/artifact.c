/* Kiln artifacts (.kiln): sections, encoding, checks, atomic writes (see
 * kiln/artifact.h for the byte layout). */
#include "kiln/artifact.h"
#include "kiln/codec.h"
#include "kiln/mem.h"
#include "kiln/tempfile.h"

#include <errno.h>
#include <fcntl.h>
#include <sodium.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <zstd.h>

static const char magic[8] = {'K', 'I', 'L', 'N', 'A', 'R', 'T', '1'};
static const char end_magic[8] = {'K', 'I', 'L', 'N', 'E', 'N', 'D', '1'};

enum {
    ZSTD_LEVEL = 3,      /* fixed: the same sections give the same bytes */
    MAX_RATIO = 4096,    /* raw <= stored * MAX_RATIO for a zstd section */
    FLAG_ZSTD = 1,       /* section flag bit 0 */
    SECTION_HEADER = 24, /* id, flags, stored, raw */
    MAX_KNOWN = KN_ART_READ,
    HEAD = 16,          /* magic, version, section count */
    TAIL_UNSIGNED = 41, /* checksum, flag, end magic */
    SIG_BYTES = 64,
};

typedef struct section {
    uint32_t id;
    unsigned char *p; /* len bytes and a NUL */
    size_t len;
} section;

struct kn_artifact {
    section *sec; /* increasing id */
    size_t n, cap;
    int is_signed;
    char *what; /* the file it was decoded from, for messages */
};

kn_status kn_artifact_new(kn_artifact **out)
{
    kn_artifact *a = kn_calloc(1, sizeof *a);
    if (!a) return KN_ERR_NOMEM;
    *out = a;
    return KN_OK;
}

void kn_artifact_free(kn_artifact *a)
{
    if (!a) return;
    for (size_t i = 0; i < a->n; i++) kn_free(a->sec[i].p);
    kn_free(a->sec);
    kn_free(a->what);
    kn_free(a);
}

/* Takes p (len bytes and a NUL, kn_malloc'd), also on failure. */
static kn_status put(kn_artifact *a, uint32_t id, unsigned char *p, size_t len)
{
    size_t at = 0;
    while (at < a->n && a->sec[at].id < id) at++;
    if (at < a->n && a->sec[at].id == id) {
        kn_free(a->sec[at].p);
        a->sec[at].p = p;
        a->sec[at].len = len;
        return KN_OK;
    }
    if (a->n == a->cap) {
        size_t cap = a->cap ? a->cap * 2 : 8;
        section *s = kn_realloc(a->sec, cap * sizeof *s);
        if (!s) {
            kn_free(p);
            return KN_ERR_NOMEM;
        }
        a->sec = s;
        a->cap = cap;
    }
    memmove(a->sec + at + 1, a->sec + at, (a->n - at) * sizeof *a->sec);
    a->sec[at] = (section){id, p, len};
    a->n++;
    return KN_OK;
}

kn_status kn_artifact_set(kn_artifact *a, kn_art_section id, const void *bytes, size_t len)
{
    if (!a || (int)id < 1 || (len && !bytes))
        return kn_fail(KN_ERR_INVALID,
                       "kn_artifact_set: no artifact, a bad section id or no bytes");
    if (len > SIZE_MAX - 1) return kn_fail_nomem(len);
    unsigned char *p = kn_malloc(len + 1);
    if (!p) return KN_ERR_NOMEM;
    if (len) memcpy(p, bytes, len);
    p[len] = '\0';
    return put(a, (uint32_t)id, p, len);
}

const void *kn_artifact_get(const kn_artifact *a, kn_art_section id, size_t *len)
{
    for (size_t i = 0; a && i < a->n; i++)
        if (a->sec[i].id == (uint32_t)id) {
            if (len) *len = a->sec[i].len;
            return a->sec[i].p;
        }
    if (len) *len = 0;
    return NULL;
}

int kn_artifact_signed(const kn_artifact *a)
{
    return a && a->is_signed;
}

kn_status kn_artifact_set_pipeline(kn_artifact *a, const kn_pipeline *p)
{
    unsigned char *buf = NULL;
    size_t len = 0;
    kn_status st = kn_pipeline_encode(p, &buf, &len);
    if (st != KN_OK) return st;
    st = kn_artifact_set(a, KN_ART_PIPELINE, buf, len);
    kn_free(buf);
    return st;
}

kn_status kn_artifact_pipeline(const kn_artifact *a, kn_pipeline **out)
{
    size_t len = 0;
    const void *p = kn_artifact_get(a, KN_ART_PIPELINE, &len);
    const char *what = a && a->what ? a->what : "artifact";
    if (!p)
        return kn_fail(KN_ERR_NOT_FOUND,
                       "%s: the artifact holds no fitted pipeline; write one with a model "
                       "(kiln train --out NAME.kiln or kiln run)",
                       what);
    return kn_pipeline_decode(p, len, what, out);
}

void kn_artifact_hash_hex(const void *buf, size_t len, char hex[65])
{
    unsigned char sum[32];
    if (sodium_init() < 0) {
        hex[0] = '\0';
        return;
    }
    crypto_generichash(sum, sizeof sum, buf, len, NULL, 0);
    sodium_bin2hex(hex, 65, sum, sizeof sum);
}

kn_status kn_artifact_hash_file(const char *path, char hex[65])
{
    if (!path || !hex) return kn_fail(KN_ERR_INVALID, "kn_artifact_hash_file: no path");
    if (sodium_init() < 0) return kn_fail(KN_ERR_INTERNAL, "libsodium failed to initialise");
    FILE *fp = fopen(path, "rb");
    if (!fp)
        return kn_fail(errno == ENOENT ? KN_ERR_NOT_FOUND : KN_ERR_IO, "cannot open %s: %s", path,
                       strerror(errno));
    crypto_generichash_state h;
    crypto_generichash_init(&h, NULL, 0, 32);
    unsigned char *chunk = kn_malloc(1 << 16);
    kn_status st = chunk ? KN_OK : KN_ERR_NOMEM;
    size_t got;
    while (st == KN_OK && (got = fread(chunk, 1, 1 << 16, fp)) > 0)
        crypto_generichash_update(&h, chunk, got);
    if (st == KN_OK && ferror(fp)) st = kn_fail(KN_ERR_IO, "reading %s failed", path);
    fclose(fp);
    kn_free(chunk);
    if (st != KN_OK) return st;
    unsigned char sum[32];
    crypto_generichash_final(&h, sum, sizeof sum);
    sodium_bin2hex(hex, 65, sum, sizeof sum);
    return KN_OK;
}

/* One section: header, then the zstd frame when it is smaller than the raw
 * bytes, else the raw bytes. */
static kn_status encode_section(kn_wbuf *w, const section *s)
{
    size_t bound = ZSTD_compressBound(s->len);
    unsigned char *z = kn_malloc(bound ? bound : 1);
    if (!z) return KN_ERR_NOMEM;
    size_t got = ZSTD_compress(z, bound, s->p, s->len, ZSTD_LEVEL);
    if (ZSTD_isError(got)) {
        kn_free(z);
        return kn_fail(KN_ERR_INTERNAL, "zstd failed on section %u: %s", s->id,
                       ZSTD_getErrorName(got));
    }
    /* a section that would shrink past MAX_RATIO is stored raw, so a
     * loader can refuse a small frame that claims a huge size */
    int packed = got < s->len && s->len / MAX_RATIO <= got;
    kn_wbuf_u32(w, s->id);
    kn_wbuf_u32(w, packed ? FLAG_ZSTD : 0);
    kn_wbuf_u64(w, packed ? got : s->len);
    kn_wbuf_u64(w, s->len);
    kn_wbuf_bytes(w, packed ? z : s->p, packed ? got : s->len);
    kn_free(z);
    return KN_OK;
}

kn_status kn_artifact_encode(const kn_artifact *a, const unsigned char *secret_key,
                             unsigned char **buf, size_t *len)
{
    if (!a || !buf || !len) return kn_fail(KN_ERR_INVALID, "kn_artifact_encode: no artifact");
    if (sodium_init() < 0) return kn_fail(KN_ERR_INTERNAL, "libsodium failed to initialise");
    kn_wbuf w = {0};
    kn_wbuf_bytes(&w, magic, 8);
    kn_wbuf_u32(&w, KN_ARTIFACT_VERSION);
    kn_wbuf_u32(&w, (uint32_t)a->n);
    kn_status st = KN_OK;
    for (size_t i = 0; i < a->n && st == KN_OK; i++) st = encode_section(&w, &a->sec[i]);
    if (st == KN_OK) st = kn_wbuf_status(&w);
    if (st == KN_OK) {
        unsigned char sum[32];
        crypto_generichash(sum, sizeof sum, w.p, w.n, NULL, 0);
        kn_wbuf_bytes(&w, sum, sizeof sum);
        unsigned char flag = secret_key ? 1 : 0;
        kn_wbuf_bytes(&w, &flag, 1);
        if (secret_key) {
            unsigned char sig[SIG_BYTES];
            if (crypto_sign_detached(sig, NULL, sum, sizeof sum, secret_key) != 0)
                st = kn_fail(KN_ERR_INVALID, "signing the artifact failed: a bad secret key");
            kn_wbuf_bytes(&w, sig, sizeof sig);
        }
        kn_wbuf_bytes(&w, end_magic, 8);
        if (st == KN_OK) st = kn_wbuf_status(&w);
    }
    if (st != KN_OK) {
        kn_wbuf_free(&w);
        return st;
    }
    *buf = w.p;
    *len = w.n;
    return KN_OK;
}

static kn_status damaged(const char *what, const char *why)
{
    return kn_fail(KN_ERR_CORRUPT, "%s: damaged: %s; re-create the artifact or copy it again", what,
                   why);
}

/* Inflate a zstd frame of exactly raw bytes, growing the output only as
 * bytes arrive (a forged raw length cannot make a huge allocation). */
static kn_status inflate(const unsigned char *src, size_t stored, uint64_t raw, const char *what,
                         unsigned char **out)
{
    if (raw > SIZE_MAX - 1) return damaged(what, "a section is too large for this machine");
    size_t cap = raw < (1u << 20) ? (size_t)raw : (1u << 20), n = 0;
    unsigned char *dst = kn_malloc(cap + 1);
    ZSTD_DCtx *dc = ZSTD_createDCtx();
    kn_status st = dst && dc ? KN_OK : kn_fail_nomem(cap + 1);
    ZSTD_inBuffer in = {src, stored, 0};
    while (st == KN_OK) {
        if (n == cap && cap < raw) {
            size_t ncap = cap > raw / 2 ? (size_t)raw : cap * 2;
            unsigned char *nd = kn_realloc(dst, ncap + 1);
            if (!nd) {
                st = KN_ERR_NOMEM;
                break;
            }
            dst = nd;
            cap = ncap;
        }
        /* one byte of room past raw shows a frame that is too long */
        ZSTD_outBuffer o = {dst, cap == raw ? cap + 1 : cap, n};
        size_t left = ZSTD_decompressStream(dc, &o, &in);
        n = o.pos;
        if (ZSTD_isError(left))
            st = damaged(what, "a section does not decompress");
        else if (n > raw)
            st = damaged(what, "a section inflates past its length");
        else if (left == 0) { /* frame complete */
            if (n != raw || in.pos != stored)
                st = damaged(what, "a section's length does not match its header");
            break;
        } else if (in.pos == stored && o.pos < o.size)
            st = damaged(what, "a section's compressed bytes end early");
    }
    ZSTD_freeDCtx(dc);
    if (st != KN_OK) {
        kn_free(dst);
        return st;
    }
    dst[n] = '\0';
    *out = dst;
    return KN_OK;
}

/* Where the sections end, from their headers alone (NULL when a header does
 * not fit): the checksum is checked before any section is inflated, so a
 * flipped bit reads as the damage it is, not as a section's zstd error. */
static const unsigned char *sections_end(kn_rbuf r, uint32_t count)
{
    for (uint32_t i = 0; i < count; i++) {
        uint32_t id, flags;
        uint64_t stored, raw;
        if (kn_rbuf_u32(&r, &id) != KN_OK || kn_rbuf_u32(&r, &flags) != KN_OK ||
            kn_rbuf_u64(&r, &stored) != KN_OK || kn_rbuf_u64(&r, &raw) != KN_OK ||
            stored > kn_rbuf_left(&r))
            return NULL;
        r.p += stored;
    }
    return r.p;
}

static kn_status decode_sections(kn_artifact *a, kn_rbuf *r, uint32_t count, const char *what)
{
    uint32_t last = 0;
    for (uint32_t i = 0; i < count; i++) {
        uint32_t id, flags;
        uint64_t stored, raw;
        if (kn_rbuf_u32(r, &id) != KN_OK || kn_rbuf_u32(r, &flags) != KN_OK ||
            kn_rbuf_u64(r, &stored) != KN_OK || kn_rbuf_u64(r, &raw) != KN_OK)
            return damaged(what, "a section header runs past the end");
        if (id <= last) return damaged(what, "section ids out of order");
        last = id;
        if (flags & ~(uint32_t)FLAG_ZSTD) return damaged(what, "a section has unknown flags");
        if (stored > kn_rbuf_left(r)) return damaged(what, "a section runs past the end");
        if (!(flags & FLAG_ZSTD) && stored != raw)
            return damaged(what, "a stored section's lengths disagree");
        if ((flags & FLAG_ZSTD) && raw / MAX_RATIO > stored)
            return damaged(what, "a section claims more bytes than its compressed size allows");
        const unsigned char *src = r->p;
        r->p += stored;
        if (id > MAX_KNOWN) continue; /* a newer kiln's section: skipped */
        unsigned char *p = NULL;
        if (flags & FLAG_ZSTD) {
            kn_status st = inflate(src, (size_t)stored, raw, what, &p);
            if (st != KN_OK) return st;
        } else {
            p = kn_malloc((size_t)stored + 1);
            if (!p) return KN_ERR_NOMEM;
            if (stored) memcpy(p, src, (size_t)stored);
            p[stored] = '\0';
        }
        kn_status st = put(a, id, p, (size_t)raw);
        if (st != KN_OK) return st;
    }
    return KN_OK;
}

kn_status kn_artifact_decode(const void *buf, size_t len, const char *what,
                             const unsigned char *public_key, kn_artifact **out)
{
    if (!what) what = "artifact";
    if (!buf && len) return kn_fail(KN_ERR_INVALID, "kn_artifact_decode: no bytes");
    if (sodium_init() < 0) return kn_fail(KN_ERR_INTERNAL, "libsodium failed to initialise");
    const unsigned char *b = buf;
    if (len < 8 || memcmp(b, magic, 8) != 0)
        return kn_fail(KN_ERR_CORRUPT,
                       "%s: not a Kiln artifact (bad magic number); give a .kiln file that "
                       "kiln wrote",
                       what);
    if (len < HEAD + TAIL_UNSIGNED)
        return kn_fail(KN_ERR_CORRUPT,
                       "%s: truncated Kiln artifact (%zu bytes); re-create it or copy it again",
                       what, len);
    kn_rbuf r = kn_rbuf_init(b + 8, len - 8, what);
    uint32_t version = 0, count = 0;
    (void)kn_rbuf_u32(&r, &version);
    (void)kn_rbuf_u32(&r, &count);
    if (version > KN_ARTIFACT_VERSION)
        return kn_fail(KN_ERR_VERSION,
                       "%s: artifact format version %u is newer than this kiln reads (%u); "
                       "upgrade kiln",
                       what, version, KN_ARTIFACT_VERSION);
    if (version == 0) return damaged(what, "format version 0");
    if (memcmp(b + len - 8, end_magic, 8) != 0)
        return kn_fail(KN_ERR_CORRUPT,
                       "%s: truncated or damaged Kiln artifact (end marker missing); re-create "
                       "it or copy it again",
                       what);
    if (count > (len - HEAD) / SECTION_HEADER) return damaged(what, "a bad section count");
    kn_artifact *a = NULL;
    kn_status st = kn_artifact_new(&a);
    if (st != KN_OK) return st;
    /* the sections end where the checksum starts */
    r = kn_rbuf_init(b + HEAD, len - HEAD - TAIL_UNSIGNED, what);
    const unsigned char *end = sections_end(r, count);
    if (end) {
        unsigned char sum[32];
        crypto_generichash(sum, sizeof sum, b, (size_t)(end - b), NULL, 0);
        if (memcmp(sum, end, 32) != 0) st = damaged(what, "checksum mismatch");
    }
    if (st == KN_OK) st = decode_sections(a, &r, count, what);
    size_t body = (size_t)(r.p - b);
    if (st == KN_OK) {
        unsigned char sum[32];
        crypto_generichash(sum, sizeof sum, b, body, NULL, 0);
        if (memcmp(sum, b + body, 32) != 0) st = damaged(what, "checksum mismatch");
    }
    if (st == KN_OK) {
        unsigned char flag = b[body + 32];
        size_t tail = flag == 1 ? TAIL_UNSIGNED + SIG_BYTES : TAIL_UNSIGNED;
        if (flag > 1)
            st = damaged(what, "a bad signature flag");
        else if (len - body != tail)
            st = damaged(what, "bytes after the sections do not match the layout");
        else
            a->is_signed = flag;
    }
    if (st == KN_OK && public_key) {
        if (!a->is_signed)
            st = kn_fail(KN_ERR_SIGNATURE,
                         "%s: the artifact is not signed, but a public key was given to verify "
                         "it; sign it when writing it (--sign-key) or leave out the key",
                         what);
        else if (crypto_sign_verify_detached(b + body + 33, b + body, 32, public_key) != 0)
            st = kn_fail(KN_ERR_SIGNATURE,
                         "%s: signature does not match the public key; the file was altered "
                         "or signed with another key",
                         what);
    }
    if (st == KN_OK && !(a->what = kn_strdup(what))) st = KN_ERR_NOMEM;
    if (st != KN_OK) {
        kn_artifact_free(a);
        return st;
    }
    *out = a;
    return KN_OK;
}

/* fsync the folder that holds path, so the rename is durable. */
static kn_status sync_dir(const char *path)
{
    const char *slash = strrchr(path, '/');
    char *dir =
        slash ? kn_strndup(path, slash == path ? 1 : (size_t)(slash - path)) : kn_strdup(".");
    if (!dir) return KN_ERR_NOMEM;
    kn_status st = KN_OK;
    int fd = open(dir, O_RDONLY | O_DIRECTORY);
    if (fd < 0 || (fsync(fd) != 0 && errno != EINVAL))
        st = kn_fail(KN_ERR_IO, "syncing the folder %s failed: %s", dir, strerror(errno));
    if (fd >= 0) close(fd);
    kn_free(dir);
    return st;
}

kn_status kn_artifact_write(const kn_artifact *a, const char *path, const unsigned char *secret_key)
{
    if (!path) return kn_fail(KN_ERR_INVALID, "kn_artifact_write: no path");
    unsigned char *buf = NULL;
    size_t len = 0;
    kn_status st = kn_artifact_encode(a, secret_key, &buf, &len);
    if (st != KN_OK) return st;
    char *tmp = kn_temp_path(path);
    if (!tmp) st = KN_ERR_NOMEM;
    FILE *fp = tmp ? fopen(tmp, "wb") : NULL;
    if (tmp && !fp) st = kn_fail(KN_ERR_IO, "cannot create %s: %s", tmp, strerror(errno));
    if (fp) {
        int ok = fwrite(buf, 1, len, fp) == len;
        ok = ok && fflush(fp) == 0 && fsync(fileno(fp)) == 0;
        int err = errno;
        ok = (fclose(fp) == 0) && ok;
        if (!ok)
            st = kn_fail(KN_ERR_IO, "writing %s failed: %s", path, strerror(err ? err : errno));
    }
    if (st == KN_OK) {
        st = kn_temp_commit(tmp, path);
        if (st == KN_OK) st = sync_dir(path);
    } else {
        kn_temp_discard(tmp);
    }
    kn_free(buf);
    return st;
}

/* The whole file in accounted memory. */
static kn_status slurp(const char *path, unsigned char **out, size_t *len_out)
{
    FILE *fp = fopen(path, "rb");
    if (!fp)
        return kn_fail(errno == ENOENT ? KN_ERR_NOT_FOUND : KN_ERR_IO, "cannot open %s: %s", path,
                       strerror(errno));
    size_t cap = 1 << 16, len = 0;
    unsigned char *buf = kn_malloc(cap);
    kn_status st = buf ? KN_OK : KN_ERR_NOMEM;
    while (st == KN_OK) {
        if (len == cap) {
            unsigned char *nb = kn_realloc(buf, cap *= 2);
            if (!nb) {
                st = KN_ERR_NOMEM;
                break;
            }
            buf = nb;
        }
        size_t got = fread(buf + len, 1, cap - len, fp);
        len += got;
        if (got == 0) break;
    }
    if (st == KN_OK && ferror(fp))
        st = kn_fail(KN_ERR_IO, "reading %s failed (is it a folder?)", path);
    fclose(fp);
    if (st != KN_OK) {
        kn_free(buf);
        return st;
    }
    *out = buf;
    *len_out = len;
    return KN_OK;
}

kn_status kn_artifact_read(const char *path, const unsigned char *public_key, kn_artifact **out)
{
    if (!path || !out) return kn_fail(KN_ERR_INVALID, "kn_artifact_read: no path");
    unsigned char *buf = NULL;
    size_t len = 0;
    kn_status st = slurp(path, &buf, &len);
    if (st != KN_OK) return st;
    st = kn_artifact_decode(buf, len, path, public_key, out);
    kn_free(buf);
    return st;
}

kn_status kn_pipeline_load(const char *path, const unsigned char *public_key, kn_pipeline **out)
{
    kn_artifact *a = NULL;
    kn_status st = kn_artifact_read(path, public_key, &a);
    if (st != KN_OK) return st;
    st = kn_artifact_pipeline(a, out);
    kn_artifact_free(a);
    return st;
}
