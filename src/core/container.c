/* Checksummed file container (see kiln/container.h). */
#include "kiln/tempfile.h"
#include "kiln/container.h"
#include "kiln/mem.h"

#include <errno.h>
#include <sodium.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

static const char end_magic[8] = {'K', 'C', 'N', 'E', 'N', 'D', '0', '1'};

kn_status kn_container_write(const char *path, const char magic[8], uint32_t version,
                             const kn_wbuf *payload)
{
    if (sodium_init() < 0) return kn_fail(KN_ERR_INTERNAL, "libsodium failed to initialise");
    kn_status st = kn_wbuf_status(payload);
    if (st != KN_OK) return st;
    kn_wbuf w = {0};
    kn_wbuf_bytes(&w, magic, 8);
    kn_wbuf_u32(&w, version);
    kn_wbuf_bytes(&w, payload->p, payload->n);
    unsigned char sum[32];
    if ((st = kn_wbuf_status(&w)) == KN_OK) {
        crypto_generichash(sum, sizeof sum, w.p, w.n, NULL, 0);
        kn_wbuf_bytes(&w, sum, sizeof sum);
        kn_wbuf_bytes(&w, end_magic, 8);
        st = kn_wbuf_status(&w);
    }
    char *tmp = st == KN_OK ? kn_temp_path(path) : NULL;
    if (st == KN_OK && !tmp) st = KN_ERR_NOMEM;
    FILE *fp = tmp ? fopen(tmp, "wb") : NULL;
    if (tmp && !fp) st = kn_fail(KN_ERR_IO, "cannot create %s: %s", tmp, strerror(errno));
    if (fp) {
        int ok = fwrite(w.p, 1, w.n, fp) == w.n;
        ok &= fflush(fp) == 0 && fsync(fileno(fp)) == 0;
        ok &= fclose(fp) == 0;
        if (!ok) st = kn_fail(KN_ERR_IO, "writing %s failed: %s", path, strerror(errno));
    }
    if (st == KN_OK)
        st = kn_temp_commit(tmp, path);
    else
        kn_temp_discard(tmp);
    kn_wbuf_free(&w);
    return st;
}

kn_status kn_container_read(const char *path, const char magic[8], const char *kind,
                            uint32_t max_version, char **buf_out, kn_rbuf *r, uint32_t *version)
{
    if (sodium_init() < 0) return kn_fail(KN_ERR_INTERNAL, "libsodium failed to initialise");
    FILE *fp = fopen(path, "rb");
    if (!fp)
        return kn_fail(errno == ENOENT ? KN_ERR_NOT_FOUND : KN_ERR_IO, "cannot open %s: %s", path,
                       strerror(errno));
    size_t cap = 1 << 16, len = 0;
    char *buf = kn_malloc(cap);
    kn_status st = buf ? KN_OK : KN_ERR_NOMEM;
    while (st == KN_OK) {
        if (len == cap) {
            char *nb = kn_realloc(buf, cap *= 2);
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
    if (st == KN_OK && ferror(fp)) st = kn_fail(KN_ERR_IO, "reading %s failed", path);
    fclose(fp);
    if (st == KN_OK && (len < 8 + 4 + 40 || memcmp(buf, magic, 8) != 0))
        st = kn_fail(KN_ERR_CORRUPT, "%s: not a Kiln %s (bad magic number)", path, kind);
    if (st == KN_OK && memcmp(buf + len - 8, end_magic, 8) != 0)
        st = kn_fail(KN_ERR_CORRUPT, "%s: end marker missing (truncated?); re-create the file",
                     path);
    unsigned char sum[32];
    if (st == KN_OK) {
        crypto_generichash(sum, sizeof sum, (const unsigned char *)buf, len - 40, NULL, 0);
        if (memcmp(sum, buf + len - 40, 32) != 0)
            st = kn_fail(KN_ERR_CORRUPT, "%s: checksum mismatch; the file is damaged, re-create it",
                         path);
    }
    if (st == KN_OK) {
        *r = kn_rbuf_init(buf + 8, len - 8 - 40, path);
        st = kn_rbuf_u32(r, version);
        if (st == KN_OK && *version > max_version)
            st = kn_fail(KN_ERR_VERSION, "%s: %s version %u is newer than this kiln reads (%u)",
                         path, kind, *version, max_version);
    }
    if (st != KN_OK) {
        kn_free(buf);
        return st;
    }
    *buf_out = buf;
    return KN_OK;
}
