/* Ed25519 key files for signed artifacts (see kiln/artifact.h): one line of
 * hex after a kind prefix, the secret one written with mode 0600. */
#include "kiln/artifact.h"
#include "kiln/mem.h"

#include <errno.h>
#include <fcntl.h>
#include <sodium.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static const char secret_prefix[] = "kiln-secret-key ";
static const char public_prefix[] = "kiln-public-key ";

/* Create path (never replacing a file) with the line prefix + hex(key). */
static kn_status write_key(const char *path, const char *prefix, const unsigned char *key, size_t n,
                           mode_t mode)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL, mode);
    if (fd < 0)
        return kn_fail(errno == EEXIST ? KN_ERR_REFUSED : KN_ERR_IO, "cannot create %s: %s%s", path,
                       strerror(errno),
                       errno == EEXIST ? " (kiln never replaces a key; pick another name)" : "");
    char hex[2 * KN_ARTIFACT_SECRET_KEY_BYTES + 1];
    sodium_bin2hex(hex, sizeof hex, key, n);
    char *line = kn_sprintf("%s%s\n", prefix, hex);
    sodium_memzero(hex, sizeof hex);
    kn_status st = line ? KN_OK : KN_ERR_NOMEM;
    if (line) {
        size_t len = strlen(line);
        int ok = fchmod(fd, mode) == 0 && write(fd, line, len) == (ssize_t)len && fsync(fd) == 0;
        if (!ok) st = kn_fail(KN_ERR_IO, "writing %s failed: %s", path, strerror(errno));
        sodium_memzero(line, len);
        kn_free(line);
    }
    if (close(fd) != 0 && st == KN_OK)
        st = kn_fail(KN_ERR_IO, "writing %s failed: %s", path, strerror(errno));
    if (st != KN_OK) remove(path);
    return st;
}

kn_status kn_artifact_keygen(const char *secret_path, const char *public_path)
{
    if (!secret_path || !public_path)
        return kn_fail(KN_ERR_INVALID, "kn_artifact_keygen: no key paths");
    if (sodium_init() < 0) return kn_fail(KN_ERR_INTERNAL, "libsodium failed to initialise");
    const char *paths[2] = {secret_path, public_path};
    for (int i = 0; i < 2; i++)
        if (access(paths[i], F_OK) == 0)
            return kn_fail(KN_ERR_REFUSED,
                           "%s already exists; kiln never replaces a key: pick another name",
                           paths[i]);
    unsigned char pk[KN_ARTIFACT_PUBLIC_KEY_BYTES], sk[KN_ARTIFACT_SECRET_KEY_BYTES];
    if (crypto_sign_keypair(pk, sk) != 0)
        return kn_fail(KN_ERR_INTERNAL, "libsodium could not make a key pair");
    kn_status st = write_key(secret_path, secret_prefix, sk, sizeof sk, 0600);
    sodium_memzero(sk, sizeof sk);
    if (st == KN_OK) {
        st = write_key(public_path, public_prefix, pk, sizeof pk, 0644);
        if (st != KN_OK) remove(secret_path);
    }
    return st;
}

kn_status kn_artifact_key_load(const char *path, int secret, unsigned char *key)
{
    if (!path || !key) return kn_fail(KN_ERR_INVALID, "kn_artifact_key_load: no path");
    if (sodium_init() < 0) return kn_fail(KN_ERR_INTERNAL, "libsodium failed to initialise");
    const char *prefix = secret ? secret_prefix : public_prefix;
    const char *kind = secret ? "secret" : "public";
    size_t n = secret ? KN_ARTIFACT_SECRET_KEY_BYTES : KN_ARTIFACT_PUBLIC_KEY_BYTES;
    FILE *fp = fopen(path, "rb");
    if (!fp)
        return kn_fail(errno == ENOENT ? KN_ERR_NOT_FOUND : KN_ERR_IO, "cannot open %s key %s: %s",
                       kind, path, strerror(errno));
    char line[256];
    size_t got = fread(line, 1, sizeof line - 1, fp);
    fclose(fp);
    line[got] = '\0';
    while (got && (line[got - 1] == '\n' || line[got - 1] == '\r')) line[--got] = '\0';
    size_t plen = strlen(prefix), hex_len = 0;
    kn_status st = KN_OK;
    if (got < plen || memcmp(line, prefix, plen) != 0) {
        const char *other = secret ? public_prefix : secret_prefix;
        int swapped = got >= plen && memcmp(line, other, plen) == 0;
        st = kn_fail(KN_ERR_PARSE, "%s: not a Kiln %s key%s", path, kind,
                     swapped ? (secret ? " (it is the public key: give NAME.key)"
                                       : " (it is the secret key: give NAME.pub)")
                             : " (make a pair with kiln keygen --out NAME)");
    } else if (got - plen != 2 * n ||
               sodium_hex2bin(key, n, line + plen, got - plen, NULL, &hex_len, NULL) != 0 ||
               hex_len != n) {
        st = kn_fail(KN_ERR_PARSE, "%s: damaged %s key (expected %zu hex digits after \"%s\")",
                     path, kind, 2 * n, prefix);
    } else if (secret) {
        /* a secret key holds its seed and its public key: they must agree,
           or a changed digit would sign with a key nobody can verify */
        unsigned char pk[crypto_sign_PUBLICKEYBYTES], sk[crypto_sign_SECRETKEYBYTES];
        crypto_sign_seed_keypair(pk, sk, key);
        if (sodium_memcmp(pk, key + crypto_sign_SEEDBYTES, sizeof pk) != 0)
            st = kn_fail(KN_ERR_PARSE,
                         "%s: damaged secret key (its public half does not match its seed); "
                         "make a new pair with kiln keygen --out NAME",
                         path);
        sodium_memzero(sk, sizeof sk);
    }
    sodium_memzero(line, sizeof line);
    return st;
}
