/* The store's files: content-addressed artifacts written durably, and the
 * BLAKE2b hash of a data file (lineage). */
#include "kiln/artifact.h"
#include "store/store-impl.h"

#include "kiln/mem.h"
#include "kiln/tempfile.h"

#include <errno.h>
#include <fcntl.h>
#include <sodium.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static void to_hex(const unsigned char *h, size_t n, char *hex)
{
    static const char digits[] = "0123456789abcdef";
    for (size_t i = 0; i < n; i++) {
        hex[2 * i] = digits[h[i] >> 4];
        hex[2 * i + 1] = digits[h[i] & 15];
    }
    hex[2 * n] = '\0';
}

static kn_status write_all(int fd, const unsigned char *p, size_t len, const char *path)
{
    while (len) {
        ssize_t w = write(fd, p, len > (1u << 30) ? (1u << 30) : len);
        if (w < 0 && errno == EINTR) continue;
        if (w <= 0)
            return kn_fail(KN_ERR_IO, "writing %s failed: %s; the disk may be full", path,
                           w < 0 ? strerror(errno) : "no progress");
        p += w;
        len -= (size_t)w;
    }
    return KN_OK;
}

static kn_status sync_folder(const char *dir)
{
    int fd = open(dir, O_RDONLY | O_DIRECTORY);
    if (fd < 0) return kn_fail(KN_ERR_IO, "opening %s failed: %s", dir, strerror(errno));
    int rc = fsync(fd);
    int err = errno;
    close(fd);
    /* Some file systems cannot sync a folder (EINVAL): the rename stands. */
    if (rc != 0 && err != EINVAL)
        return kn_fail(KN_ERR_IO, "syncing %s failed: %s", dir, strerror(err));
    return KN_OK;
}

kn_status kn__store_put_artifact(kn_store *s, const void *bytes, size_t len, char hex[65])
{
    unsigned char h[32];
    crypto_generichash(h, sizeof h, bytes, len, NULL, 0);
    to_hex(h, sizeof h, hex);
    char *dir = kn_sprintf("%s/artifacts", s->dir);
    char *path = kn_sprintf("%s/%s.kiln", dir ? dir : "", hex);
    char *tmp = path ? kn_temp_path(path) : NULL;
    kn_status e = KN_OK;
    int fd = -1;
    if (!dir || !path || !tmp) {
        e = kn_fail(KN_ERR_NOMEM, "out of memory writing an artifact to store %s", s->dir);
        goto done;
    }
    struct stat sb;
    /* Content-addressed: a complete file of this name holds these bytes
     * (files appear only by rename, whole). */
    if (stat(path, &sb) == 0 && (uint64_t)sb.st_size == len) goto done;
    if (mkdir(dir, 0777) != 0 && errno != EEXIST) {
        e = kn_fail(KN_ERR_IO, "store %s: cannot create %s: %s", s->dir, dir, strerror(errno));
        goto done;
    }
    fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0) {
        e = kn_fail(KN_ERR_IO,
                    "store %s: cannot write the artifact %s: %s; make the store folder "
                    "writable or choose another with --store DIR or KILN_STORE",
                    s->dir, tmp, strerror(errno));
        goto done;
    }
    e = write_all(fd, bytes, len, tmp);
    if (!e && fsync(fd) != 0) e = kn_fail(KN_ERR_IO, "syncing %s failed: %s", tmp, strerror(errno));
    if (close(fd) != 0 && !e) e = kn_fail(KN_ERR_IO, "closing %s failed: %s", tmp, strerror(errno));
    fd = -1;
    if (e) goto done;
    e = kn_temp_commit(tmp, path);
    tmp = NULL;
    if (!e) e = sync_folder(dir);
done:
    if (fd >= 0) close(fd);
    kn_temp_discard(tmp);
    kn_free(path);
    kn_free(dir);
    return e;
}

kn_status kn_store_file_hash(const char *path, char hex[65])
{
    return kn_artifact_hash_file(path, hex); /* the lineage's hash, one definition */
}
