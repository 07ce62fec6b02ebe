/* store: API keys (create, list, match, revoke, the audit rows), the key
 * text's parser on malformed input, the upgrade of a schema-1 store and
 * the data version that tells a server to read the keys again. */
#include "test_util.h"

#include "unit/store/store_util.h"

typedef struct seen {
    int n;
    kn_api_key k[4];
    unsigned char salt[4][KN_KEY_SALT_BYTES], hash[4][KN_KEY_HASH_BYTES];
} seen;

static int on_key(const kn_api_key *k, void *user)
{
    seen *s = user;
    if (s->n == 4) return 1;
    s->k[s->n] = *k;
    assert_non_null(k->salt);
    memcpy(s->salt[s->n], k->salt, KN_KEY_SALT_BYTES);
    memcpy(s->hash[s->n], k->hash, KN_KEY_HASH_BYTES);
    s->k[s->n].salt = s->salt[s->n];
    s->k[s->n].hash = s->hash[s->n];
    s->k[s->n].name = s->k[s->n].role = s->k[s->n].created_by = s->k[s->n].revoked_by = NULL;
    s->k[s->n].revoked = k->revoked;
    s->n++;
    return 0;
}

static int count_audit(const kn_audit_entry *e, void *user)
{
    if (!strncmp(e->action, "key ", 4)) ++*(int *)user;
    return 0;
}

static void create_match_revoke(void **state)
{
    (void)state;
    char dir[128];
    test_store_dir(dir, sizeof dir, "keys");
    kn_store *s = NULL;
    KN_CHECK(kn_store_open(dir, 1, &s));
    char *admin = NULL, *pred = NULL;
    int64_t id = 0;
    KN_CHECK(kn_store_key_create(s, "admin", "ops", 0, "tester", &admin, &id));
    assert_int_equal(id, 1);
    KN_CHECK(kn_store_key_create(s, "predict", NULL, 5, NULL, &pred, NULL));
    assert_int_equal(strlen(admin), strlen("kiln_1_") + 2 * KN_KEY_SECRET_BYTES);
    assert_int_equal(strncmp(pred, "kiln_2_", 7), 0);
    char *none = NULL;
    KN_CHECK_FAILS(kn_store_key_create(s, "root", NULL, 0, NULL, &none, NULL), KN_ERR_INVALID,
                   "predict or admin");
    KN_CHECK_FAILS(kn_store_key_create(s, "admin", NULL, -1, NULL, &none, NULL), KN_ERR_INVALID,
                   "rate");
    assert_null(none);

    seen got = {0};
    KN_CHECK(kn_store_keys_list(s, on_key, &got));
    assert_int_equal(got.n, 2);
    unsigned char secret[KN_KEY_SECRET_BYTES];
    int64_t pid = 0;
    assert_int_equal(kn_api_key_parse(admin, strlen(admin), &pid, secret), 0);
    assert_int_equal(pid, 1);
    assert_true(kn_api_key_matches(&got.k[0], secret));
    assert_false(kn_api_key_matches(&got.k[1], secret)); /* another key's row */
    secret[5] ^= 1;
    assert_false(kn_api_key_matches(&got.k[0], secret));
    assert_int_equal(kn_api_key_parse(pred, strlen(pred), &pid, secret), 0);
    assert_true(kn_api_key_matches(&got.k[1], secret));
    assert_true(got.k[1].rate == 5);
    assert_true(got.k[0].revoked == 0);

    KN_CHECK(kn_store_key_revoke(s, 1, "tester"));
    KN_CHECK_FAILS(kn_store_key_revoke(s, 1, NULL), KN_ERR_INVALID, "already revoked");
    KN_CHECK_FAILS(kn_store_key_revoke(s, 9, NULL), KN_ERR_NOT_FOUND, "no key 9");
    memset(&got, 0, sizeof got);
    KN_CHECK(kn_store_keys_list(s, on_key, &got));
    assert_true(got.k[0].revoked > 0 && got.k[1].revoked == 0);
    int audited = 0;
    KN_CHECK(kn_store_audit(s, NULL, 0, count_audit, &audited));
    assert_int_equal(audited, 3); /* two creates, one revoke; the failed calls none */
    kn_free(admin);
    kn_free(pred);
    kn_store_close(s);
}

static void parse_malformed(void **state)
{
    (void)state;
    static const char hex[] = "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff";
    char ok[128];
    snprintf(ok, sizeof ok, "kiln_12_%s", hex);
    unsigned char secret[KN_KEY_SECRET_BYTES];
    int64_t id = 0;
    assert_int_equal(kn_api_key_parse(ok, strlen(ok), &id, secret), 0);
    assert_int_equal(id, 12);
    assert_int_equal(secret[31], 0xff);
    /* cut anywhere: never a key */
    for (size_t n = 0; n < strlen(ok); n++)
        assert_int_equal(kn_api_key_parse(ok, n, &id, secret), -1);
    const char *bad[] = {
        "",
        "kiln_",
        "kiln__00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff",
        "kiln_0_00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff",
        "kiln_-1_00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff",
        "kiln_1234567890123456789_00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff",
        "kiln_1_00112233445566778899aabbccddeeff00112233445566778899aabbccddeefg",
        "kiln_1_00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff0",
        "kiln_1_00112233445566778899aabbccddeeff00112233445566778899aabbccddee ff",
        "KILN_1_00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff",
        "kiln_1x00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff",
    };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++)
        if (kn_api_key_parse(bad[i], strlen(bad[i]), &id, secret) != -1)
            fail_msg("'%s' parsed as a key", bad[i]);
    /* an embedded NUL inside the given length */
    char nul[128];
    memcpy(nul, ok, strlen(ok));
    nul[20] = 0;
    assert_int_equal(kn_api_key_parse(nul, strlen(ok), &id, secret), -1);
}

static int user_version(const char *dir)
{
    char path[256];
    snprintf(path, sizeof path, "%s/kiln.db", dir);
    sqlite3 *db = NULL;
    sqlite3_stmt *st = NULL;
    assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
    sqlite3_prepare_v2(db, "PRAGMA user_version", -1, &st, NULL);
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    int v = sqlite3_column_int(st, 0);
    sqlite3_finalize(st);
    sqlite3_close(db);
    return v;
}

static void sql(const char *dir, const char *text)
{
    char path[256];
    snprintf(path, sizeof path, "%s/kiln.db", dir);
    sqlite3 *db = NULL;
    assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
    if (sqlite3_exec(db, text, NULL, NULL, NULL) != SQLITE_OK)
        fail_msg("%s: %s", text, sqlite3_errmsg(db));
    sqlite3_close(db);
}

static void upgrade_and_data_version(void **state)
{
    (void)state;
    char dir[128];
    test_store_dir(dir, sizeof dir, "keys-v1");
    kn_store *s = NULL;
    KN_CHECK(kn_store_open(dir, 1, &s));
    kn_store_close(s);
    assert_int_equal(user_version(dir), 4);
    /* back to schema 1 as an older kiln made it */
    sql(dir, "DROP TABLE api_keys; DROP TABLE monitor_checks; DROP TABLE monitor_rule_state;"
             " DROP TABLE monitor_alerts; PRAGMA user_version = 1;");
    KN_CHECK(kn_store_open(dir, 0, &s)); /* a writable open upgrades */
    assert_int_equal(user_version(dir), 4);
    seen got = {0};
    KN_CHECK(kn_store_keys_list(s, on_key, &got));
    assert_int_equal(got.n, 0);
    uint64_t v0 = 0, v1 = 0, v2 = 0;
    KN_CHECK(kn_store_data_version(s, &v0));
    KN_CHECK(kn_store_data_version(s, &v1));
    assert_true(v0 == v1); /* nothing committed meanwhile */
    kn_store *other = NULL;
    char *key = NULL;
    KN_CHECK(kn_store_open(dir, 0, &other));
    KN_CHECK(kn_store_key_create(other, "predict", "b", 0, NULL, &key, NULL));
    kn_store_close(other);
    KN_CHECK(kn_store_data_version(s, &v2));
    assert_true(v2 != v1); /* another connection's commit */
    memset(&got, 0, sizeof got);
    KN_CHECK(kn_store_keys_list(s, on_key, &got));
    assert_int_equal(got.n, 1);
    kn_free(key);
    kn_store_close(s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(create_match_revoke),
        cmocka_unit_test(parse_malformed),
        cmocka_unit_test(upgrade_and_data_version),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
