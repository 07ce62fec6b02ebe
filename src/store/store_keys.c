/* The API keys of kiln serve (kiln/store.h): made from random bytes, kept
 * only as a salted hash, revoked, listed, and every change audited.
 *
 * The hash is one BLAKE2b-256 (libsodium's generichash) of the secret,
 * salted with the key's own random salt, not a password hash
 * (crypto_pwhash). A slow
 * hash is there to make guessing a low-entropy password expensive; a key's
 * secret is 256 random bits, which no number of fast guesses can find, and
 * a server checks a key on every request, where Argon2's tens of
 * milliseconds and megabytes per check would be the server's whole budget.
 * The salt makes two rows' hashes unrelated and precomputed tables useless. */
#include "store/store-impl.h"

#include "kiln/mem.h"

#include <sodium.h>
#include <stdio.h>
#include <string.h>

static const char prefix[] = "kiln_";
_Static_assert(KN_KEY_SALT_BYTES == crypto_generichash_blake2b_SALTBYTES, "salt size");

static kn_status need_keys_table(kn_store *s)
{
    if (s->schema >= 2) return KN_OK;
    return kn_fail(KN_ERR_IO,
                   "store %s predates API keys (schema version %d) and is read-only, so it "
                   "cannot be upgraded: make the folder and kiln.db writable, or use another "
                   "store with --store DIR",
                   s->dir, s->schema);
}

/* BLAKE2b-256 of the secret with the row's salt and "kiln api key" as
 * BLAKE2b's own salt and personalisation parameters (one compression: a
 * keyed BLAKE2b would take two). */
static void key_hash(const unsigned char *salt, const unsigned char *secret, unsigned char *out)
{
    static const unsigned char person[crypto_generichash_blake2b_PERSONALBYTES] = "kiln api key";
    crypto_generichash_blake2b_salt_personal(out, KN_KEY_HASH_BYTES, secret, KN_KEY_SECRET_BYTES,
                                             NULL, 0, salt, person);
}

kn_status kn_store_key_create(kn_store *s, const char *role, const char *name, double rate,
                              const char *actor, char **key, int64_t *id)
{
    *key = NULL;
    if (!role || (strcmp(role, "predict") && strcmp(role, "admin")))
        return kn_fail(KN_ERR_INVALID, "key role '%s' is not predict or admin",
                       role ? role : "(none)");
    if (!(rate >= 0) || rate > 1e9)
        return kn_fail(KN_ERR_INVALID, "key rate %g is not 0 (the server's default) to 1e9", rate);
    if (name && !*name) name = NULL;
    kn_status e = need_keys_table(s);
    if (e) return e;
    if (sodium_init() < 0) return kn_fail(KN_ERR_INTERNAL, "libsodium failed to initialise");
    unsigned char secret[KN_KEY_SECRET_BYTES], salt[KN_KEY_SALT_BYTES], hash[KN_KEY_HASH_BYTES];
    char hex[2 * KN_KEY_SECRET_BYTES + 1];
    randombytes_buf(secret, sizeof secret);
    randombytes_buf(salt, sizeof salt);
    key_hash(salt, secret, hash);
    sodium_bin2hex(hex, sizeof hex, secret, sizeof secret);
    sodium_memzero(secret, sizeof secret);

    sqlite3_stmt *st = NULL;
    int64_t row = 0;
    char *text = NULL, *detail = NULL;
    e = kn__store_begin(s);
    if (e) goto done;
    e = kn__store_prepare(s,
                          "INSERT INTO api_keys(name, role, salt, hash, rate, created, created_by)"
                          " VALUES (?,?,?,?,?,?,?)",
                          &st);
    if (e) goto fail;
    sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, role, -1, SQLITE_STATIC);
    sqlite3_bind_blob(st, 3, salt, sizeof salt, SQLITE_STATIC);
    sqlite3_bind_blob(st, 4, hash, sizeof hash, SQLITE_STATIC);
    if (rate > 0) sqlite3_bind_double(st, 5, rate);
    sqlite3_bind_double(st, 6, kn__store_now());
    sqlite3_bind_text(st, 7, kn__store_actor(actor), -1, SQLITE_TRANSIENT);
    int rc = sqlite3_step(st);
    sqlite3_finalize(st);
    if (rc != SQLITE_DONE) {
        e = kn__store_sql_fail(s, rc, "adding the key");
        goto fail;
    }
    row = sqlite3_last_insert_rowid(s->db);
    detail = rate > 0 ? kn_sprintf("key %lld (%s), role %s, %g requests/s", (long long)row,
                                   name ? name : "no name", role, rate)
                      : kn_sprintf("key %lld (%s), role %s", (long long)row,
                                   name ? name : "no name", role);
    text = kn_sprintf("%s%lld_%s", prefix, (long long)row, hex);
    if (!detail || !text) {
        e = kn_fail(KN_ERR_NOMEM, "out of memory making a key");
        goto fail;
    }
    e = kn__store_audit_add(s, actor, "key create", 0, 0, 0, NULL, NULL, NULL, detail);
    if (e) goto fail;
    e = kn__store_commit(s);
    if (e) goto done;
    *key = text;
    text = NULL;
    if (id) *id = row;
    goto done;
fail:
    kn__store_rollback(s);
done:
    sodium_memzero(hex, sizeof hex);
    if (text) sodium_memzero(text, strlen(text));
    kn_free(text);
    kn_free(detail);
    return e;
}

kn_status kn_store_key_revoke(kn_store *s, int64_t id, const char *actor)
{
    kn_status e = need_keys_table(s);
    if (e) return e;
    sqlite3_stmt *st = NULL;
    char *detail = NULL;
    e = kn__store_begin(s);
    if (e) return e;
    e = kn__store_prepare(s, "SELECT role, name, revoked FROM api_keys WHERE id = ?", &st);
    if (e) goto fail;
    sqlite3_bind_int64(st, 1, id);
    int found = sqlite3_step(st) == SQLITE_ROW;
    int revoked = found && sqlite3_column_type(st, 2) != SQLITE_NULL;
    if (found) {
        const char *name = (const char *)sqlite3_column_text(st, 1);
        detail = kn_sprintf("key %lld (%s), role %s", (long long)id, name ? name : "no name",
                            (const char *)sqlite3_column_text(st, 0));
    }
    sqlite3_finalize(st);
    if (!found) {
        e = kn_fail(KN_ERR_NOT_FOUND, "store %s has no key %lld ('kiln keys list' shows them)",
                    s->dir, (long long)id);
        goto fail;
    }
    if (revoked) {
        e = kn_fail(KN_ERR_INVALID, "key %lld in store %s is already revoked", (long long)id,
                    s->dir);
        goto fail;
    }
    if (!detail) {
        e = kn_fail(KN_ERR_NOMEM, "out of memory revoking a key");
        goto fail;
    }
    e = kn__store_prepare(s, "UPDATE api_keys SET revoked = ?, revoked_by = ? WHERE id = ?", &st);
    if (e) goto fail;
    sqlite3_bind_double(st, 1, kn__store_now());
    sqlite3_bind_text(st, 2, kn__store_actor(actor), -1, SQLITE_TRANSIENT);
    sqlite3_bind_int64(st, 3, id);
    int rc = sqlite3_step(st);
    sqlite3_finalize(st);
    if (rc != SQLITE_DONE) {
        e = kn__store_sql_fail(s, rc, "revoking the key");
        goto fail;
    }
    e = kn__store_audit_add(s, actor, "key revoke", 0, 0, 0, NULL, NULL, NULL, detail);
    if (e) goto fail;
    kn_free(detail);
    return kn__store_commit(s);
fail:
    kn__store_rollback(s);
    kn_free(detail);
    return e;
}

kn_status kn_store_keys_list(kn_store *s, kn_api_key_fn fn, void *user)
{
    if (s->schema < 2) return KN_OK; /* a read-only store from before keys: none */
    sqlite3_stmt *st = NULL;
    kn_status e = kn__store_prepare(s,
                                    "SELECT id, name, role, rate, created, revoked, created_by,"
                                    " revoked_by, salt, hash FROM api_keys ORDER BY id",
                                    &st);
    if (e) return e;
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        kn_api_key k = {0};
        k.id = sqlite3_column_int64(st, 0);
        k.name = (const char *)sqlite3_column_text(st, 1);
        k.role = (const char *)sqlite3_column_text(st, 2);
        k.rate = sqlite3_column_double(st, 3);
        k.created = sqlite3_column_double(st, 4);
        k.revoked = sqlite3_column_double(st, 5);
        k.created_by = (const char *)sqlite3_column_text(st, 6);
        k.revoked_by = (const char *)sqlite3_column_text(st, 7);
        /* a row whose salt or hash has the wrong size matches no key */
        if (sqlite3_column_bytes(st, 8) == KN_KEY_SALT_BYTES &&
            sqlite3_column_bytes(st, 9) == KN_KEY_HASH_BYTES) {
            k.salt = sqlite3_column_blob(st, 8);
            k.hash = sqlite3_column_blob(st, 9);
        }
        if (!k.role) k.role = "";
        if (fn(&k, user)) {
            rc = SQLITE_DONE;
            break;
        }
    }
    sqlite3_finalize(st);
    return rc == SQLITE_DONE ? KN_OK : kn__store_sql_fail(s, rc, "reading the keys");
}

kn_status kn_store_data_version(kn_store *s, uint64_t *v)
{
    sqlite3_stmt *st = NULL;
    kn_status e = kn__store_prepare(s, "PRAGMA data_version", &st);
    if (e) return e;
    int rc = sqlite3_step(st);
    *v = rc == SQLITE_ROW ? (uint64_t)sqlite3_column_int64(st, 0) : 0;
    sqlite3_finalize(st);
    return rc == SQLITE_ROW ? KN_OK : kn__store_sql_fail(s, rc, "reading");
}

int kn_api_key_parse(const char *text, size_t len, int64_t *id,
                     unsigned char secret[KN_KEY_SECRET_BYTES])
{
    size_t n = sizeof prefix - 1, i = n;
    if (len < n || memcmp(text, prefix, n)) return -1;
    int64_t v = 0;
    for (; i < len && text[i] >= '0' && text[i] <= '9'; i++) {
        if (i - n >= 18) return -1; /* no overflow: at most 18 digits */
        v = v * 10 + (text[i] - '0');
    }
    if (i == n || i >= len || text[i] != '_' || v < 1) return -1;
    i++;
    if (len - i != 2 * KN_KEY_SECRET_BYTES) return -1;
    size_t got = 0;
    const char *end = NULL;
    if (sodium_hex2bin(secret, KN_KEY_SECRET_BYTES, text + i, len - i, NULL, &got, &end) != 0 ||
        got != KN_KEY_SECRET_BYTES || end != text + len)
        return -1;
    *id = v;
    return 0;
}

int kn_api_key_matches(const kn_api_key *k, const unsigned char secret[KN_KEY_SECRET_BYTES])
{
    if (!k->salt || !k->hash) return 0;
    unsigned char h[KN_KEY_HASH_BYTES];
    key_hash(k->salt, secret, h);
    return sodium_memcmp(h, k->hash, sizeof h) == 0;
}
