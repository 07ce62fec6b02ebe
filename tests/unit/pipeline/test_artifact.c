/* The .kiln artifact (kiln/artifact.h): every section round-trips, the same
 * sections give the same bytes, a fitted pipeline predicts identically after
 * a load, signatures are checked, and every flipped bit and every truncation
 * of a small artifact is an error, never a crash:
 *
 *   region                         flipped bit gives
 *   magic (0..8)                   KN_ERR_CORRUPT "not a Kiln artifact"
 *   version (8..12)                KN_ERR_VERSION (newer) or KN_ERR_CORRUPT
 *   count, section headers, data   KN_ERR_CORRUPT (layout or checksum)
 *   checksum (32 bytes)            KN_ERR_CORRUPT "checksum mismatch"
 *   signed flag (1 byte)           KN_ERR_CORRUPT (layout)
 *   signature (64 bytes)           KN_ERR_SIGNATURE with the public key;
 *                                  without one the signature is not read
 *   end magic (8 bytes)            KN_ERR_CORRUPT "end marker missing"
 * The sample of reference rows (KN_ART_REFERENCE_ROWS) keeps every row up
 * to 1,000, else 1,000 of them in row order, and every truncation of it is
 * KN_ERR_CORRUPT. */
#include "test_util.h"

#include "kiln/artifact.h"
#include "kiln/io.h"
#include "kiln/mem.h"

#include <math.h>
#include <sodium.h>
#include <sys/stat.h>

static const char csv[] = "age,city,income,label\n"
                          "31,paris,2.5,yes\n"
                          ",lyon,1.0,no\n"
                          "45,paris,,yes\n"
                          "22,nice,0.7,no\n"
                          "38,lyon,2.2,yes\n"
                          "29,,1.1,no\n"
                          "51,nice,3.0,yes\n"
                          "24,paris,0.9,no\n"
                          "33,lyon,1.9,yes\n"
                          "27,nice,1.2,no\n";

static kn_frame *small_frame(void)
{
    const char *path = test_write_file(".csv", csv, sizeof csv - 1);
    kn_read_opts o;
    kn_read_opts_default(&o);
    kn_frame *f = NULL;
    KN_CHECK(kn_frame_read(path, &o, &f, NULL));
    remove(path);
    return f;
}

static kn_pipeline *fitted_pipeline(const kn_frame *f)
{
    kn_pipeline *p = NULL;
    KN_CHECK(kn_pipeline_new(&p));
    KN_CHECK(kn_pipeline_add_step_spec(p, "simple_imputer:strategy=median"));
    KN_CHECK(kn_pipeline_add_step_spec(p, "onehot_encoder:columns=city"));
    KN_CHECK(kn_pipeline_set_model_spec(p, "logistic_regression", NULL, 0));
    KN_CHECK(kn_pipeline_set_target(p, "label", NULL));
    KN_CHECK(kn_pipeline_fit(p, f, NULL));
    return p;
}

static const char spec_text[] = "target: label\nmodel: {name: logistic_regression}\n";
static const char metrics_text[] = "{\"task\": \"classification\"}";

/* A small artifact with every section. */
static kn_artifact *full_artifact(const kn_pipeline *p)
{
    kn_artifact *a = NULL;
    KN_CHECK(kn_artifact_new(&a));
    KN_CHECK(kn_artifact_set_pipeline(a, p));
    KN_CHECK(kn_artifact_set(a, KN_ART_METRICS, metrics_text, strlen(metrics_text)));
    KN_CHECK(kn_artifact_set(a, KN_ART_SPEC, spec_text, strlen(spec_text)));
    KN_CHECK(kn_artifact_set(a, KN_ART_SCHEMA, "columns: {}\n", 12));
    KN_CHECK(kn_artifact_set(a, KN_ART_PROFILE, "{}", 2));
    KN_CHECK(kn_artifact_set(a, KN_ART_LINEAGE, "{\"seed\": 1}", 11));
    char *classes[2] = {"no", "yes"};
    double y[3] = {0, 1, 1}, pred[3] = {0, 1, 0}, proba[6] = {.9, .1, .2, .8, .6, .4};
    kn_heldout h = {1, 3, 2, classes, y, pred, proba};
    unsigned char *hb = NULL;
    size_t hn = 0;
    KN_CHECK(kn_heldout_encode(&h, &hb, &hn));
    KN_CHECK(kn_artifact_set(a, KN_ART_HELDOUT, hb, hn));
    kn_free(hb);
    return a;
}

static void test_round_trip(void **state)
{
    (void)state;
    kn_frame *f = small_frame();
    kn_pipeline *p = fitted_pipeline(f);
    kn_artifact *a = full_artifact(p);
    unsigned char *buf = NULL, *again = NULL;
    size_t len = 0, len2 = 0;
    KN_CHECK(kn_artifact_encode(a, NULL, &buf, &len));
    kn_artifact *b = NULL;
    KN_CHECK(kn_artifact_decode(buf, len, "mem", NULL, &b));
    assert_false(kn_artifact_signed(b));
    for (int id = KN_ART_SPEC; id <= KN_ART_HELDOUT; id++) {
        size_t na = 0, nb = 0;
        const char *pa = kn_artifact_get(a, (kn_art_section)id, &na);
        const char *pb = kn_artifact_get(b, (kn_art_section)id, &nb);
        assert_non_null(pb);
        assert_int_equal(na, nb);
        assert_memory_equal(pa, pb, na);
        assert_int_equal(pb[nb], '\0');
    }
    /* re-encoding the decoded artifact gives the same bytes */
    KN_CHECK(kn_artifact_encode(b, NULL, &again, &len2));
    assert_int_equal(len, len2);
    assert_memory_equal(buf, again, len);

    /* held-out predictions */
    size_t hn = 0;
    const void *hb = kn_artifact_get(b, KN_ART_HELDOUT, &hn);
    kn_heldout h;
    KN_CHECK(kn_heldout_decode(hb, hn, "mem", &h));
    assert_int_equal(h.n, 3);
    assert_int_equal(h.k, 2);
    assert_string_equal(h.classes[1], "yes");
    assert_true(h.proba[3] == .8 && h.pred[2] == 0);
    kn_heldout_free(&h);
    KN_CHECK_FAILS(kn_heldout_decode(hb, hn - 1, "mem", &h), KN_ERR_CORRUPT, "mem");

    /* an absent section */
    kn_artifact *e = NULL;
    KN_CHECK(kn_artifact_new(&e));
    size_t n0 = 7;
    assert_null(kn_artifact_get(e, KN_ART_SPEC, &n0));
    assert_int_equal(n0, 0);
    kn_pipeline *none = NULL;
    KN_CHECK_FAILS(kn_artifact_pipeline(e, &none), KN_ERR_NOT_FOUND, "no fitted pipeline");
    kn_artifact_free(e);

    kn_free(buf);
    kn_free(again);
    kn_artifact_free(a);
    kn_artifact_free(b);
    kn_pipeline_free(p);
    kn_frame_free(f);
}

/* The same pipeline fitted twice gives byte-identical files. */
static void test_deterministic(void **state)
{
    (void)state;
    kn_frame *f = small_frame();
    unsigned char *buf[2];
    size_t len[2];
    for (int t = 0; t < 2; t++) {
        kn_pipeline *p = fitted_pipeline(f);
        kn_artifact *a = full_artifact(p);
        KN_CHECK(kn_artifact_encode(a, NULL, &buf[t], &len[t]));
        kn_artifact_free(a);
        kn_pipeline_free(p);
    }
    assert_int_equal(len[0], len[1]);
    assert_memory_equal(buf[0], buf[1], len[0]);
    char h0[65], h1[65];
    kn_artifact_hash_hex(buf[0], len[0], h0);
    kn_artifact_hash_hex(buf[1], len[1], h1);
    assert_int_equal(strlen(h0), 64);
    assert_string_equal(h0, h1);
    kn_free(buf[0]);
    kn_free(buf[1]);
    kn_frame_free(f);
}

/* Written, read and loaded, the pipeline predicts bit for bit as before. */
static void test_load_predicts_identically(void **state)
{
    (void)state;
    kn_frame *f = small_frame();
    kn_pipeline *p = fitted_pipeline(f);
    kn_artifact *a = full_artifact(p);
    char path[128];
    snprintf(path, sizeof path, "/tmp/kiln-test-%d-model.kiln", (int)getpid());
    KN_CHECK(kn_artifact_write(a, path, NULL));
    kn_pipeline *q = NULL;
    KN_CHECK(kn_pipeline_load(path, NULL, &q));
    double *want = NULL, *got = NULL, *wp = NULL, *gp = NULL;
    size_t n1, n2, n3, n4;
    KN_CHECK(kn_pipeline_predict(p, f, &want, &n1));
    KN_CHECK(kn_pipeline_predict(q, f, &got, &n2));
    KN_CHECK(kn_pipeline_predict_proba(p, f, &wp, &n3));
    KN_CHECK(kn_pipeline_predict_proba(q, f, &gp, &n4));
    assert_int_equal(n1, n2);
    assert_memory_equal(want, got, n1 * sizeof *got);
    assert_int_equal(n3, n4);
    assert_memory_equal(wp, gp, n3 * 2 * sizeof *gp);
    kn_free(want);
    kn_free(got);
    kn_free(wp);
    kn_free(gp);
    kn_pipeline_free(q);

    /* a missing file and a file that is not an artifact */
    KN_CHECK_FAILS(kn_pipeline_load("/nonexistent/x.kiln", NULL, &q), KN_ERR_NOT_FOUND,
                   "/nonexistent/x.kiln");
    const char *txt = test_write_file(".kiln", csv, sizeof csv - 1);
    KN_CHECK_FAILS(kn_pipeline_load(txt, NULL, &q), KN_ERR_CORRUPT, "not a Kiln artifact");
    remove(txt);
    remove(path);
    kn_artifact_free(a);
    kn_pipeline_free(p);
    kn_frame_free(f);
}

static void test_signatures(void **state)
{
    (void)state;
    char sk_path[2][128], pk_path[2][128];
    for (int i = 0; i < 2; i++) {
        snprintf(sk_path[i], 128, "/tmp/kiln-test-%d-%d.key", (int)getpid(), i);
        snprintf(pk_path[i], 128, "/tmp/kiln-test-%d-%d.pub", (int)getpid(), i);
        KN_CHECK(kn_artifact_keygen(sk_path[i], pk_path[i]));
    }
    struct stat sb;
    assert_int_equal(stat(sk_path[0], &sb), 0);
    assert_int_equal(sb.st_mode & 0777, 0600);
    KN_CHECK_FAILS(kn_artifact_keygen(sk_path[0], "/tmp/unused.pub"), KN_ERR_REFUSED,
                   "already exists");
    unsigned char sk[64], pk[32], other[32];
    KN_CHECK(kn_artifact_key_load(sk_path[0], 1, sk));
    KN_CHECK(kn_artifact_key_load(pk_path[0], 0, pk));
    KN_CHECK(kn_artifact_key_load(pk_path[1], 0, other));
    KN_CHECK_FAILS(kn_artifact_key_load(sk_path[0], 0, pk), KN_ERR_PARSE, "secret key");

    kn_artifact *a = NULL;
    KN_CHECK(kn_artifact_new(&a));
    KN_CHECK(kn_artifact_set(a, KN_ART_SPEC, spec_text, strlen(spec_text)));
    unsigned char *s1 = NULL, *s2 = NULL, *u = NULL;
    size_t n1, n2, nu;
    KN_CHECK(kn_artifact_encode(a, sk, &s1, &n1));
    KN_CHECK(kn_artifact_encode(a, sk, &s2, &n2));
    KN_CHECK(kn_artifact_encode(a, NULL, &u, &nu));
    assert_int_equal(n1, nu + 64);
    assert_memory_equal(s1, s2, n1); /* Ed25519 signatures are deterministic */

    kn_artifact *b = NULL;
    KN_CHECK(kn_artifact_decode(s1, n1, "signed", pk, &b));
    assert_true(kn_artifact_signed(b));
    kn_artifact_free(b);
    KN_CHECK(kn_artifact_decode(s1, n1, "signed", NULL, &b)); /* no key: not checked */
    assert_true(kn_artifact_signed(b));
    kn_artifact_free(b);
    KN_CHECK_FAILS(kn_artifact_decode(s1, n1, "signed", other, &b), KN_ERR_SIGNATURE,
                   "signature does not match the public key");
    KN_CHECK_FAILS(kn_artifact_decode(u, nu, "plain", pk, &b), KN_ERR_SIGNATURE, "not signed");

    /* a flipped signature byte fails with the key */
    s1[n1 - 8 - 10] ^= 0x01;
    KN_CHECK_FAILS(kn_artifact_decode(s1, n1, "signed", pk, &b), KN_ERR_SIGNATURE,
                   "signature does not match");
    for (int i = 0; i < 2; i++) {
        remove(sk_path[i]);
        remove(pk_path[i]);
    }
    kn_free(s1);
    kn_free(s2);
    kn_free(u);
    kn_artifact_free(a);
}

/* Every single-bit flip of buf, decoded with key (may be NULL), is an
 * error, except flips of the signature bytes when no key is given. */
static void flip_every_bit(unsigned char *buf, size_t len, const unsigned char *key, int is_signed)
{
    size_t sig_at = len - 8 - 64;
    for (size_t i = 0; i < len; i++) {
        for (int bit = 0; bit < 8; bit++) {
            buf[i] ^= (unsigned char)(1u << bit);
            kn_artifact *b = NULL;
            kn_status st = kn_artifact_decode(buf, len, "flip", key, &b);
            int in_sig = is_signed && i >= sig_at && i < len - 8;
            if (in_sig && !key) {
                if (st != KN_OK)
                    fail_msg("byte %zu bit %d of the signature: %s", i, bit, kn_last_error());
                kn_artifact_free(b);
            } else if (st == KN_OK) {
                kn_artifact_free(b);
                fail_msg("byte %zu bit %d flipped of %zu: decoded without an error", i, bit, len);
            } else {
                kn_status want = in_sig ? KN_ERR_SIGNATURE : KN_ERR_CORRUPT;
                if (i >= 8 && i < 12) {
                    if (st != KN_ERR_VERSION && st != KN_ERR_CORRUPT)
                        fail_msg("version byte %zu: %s", i, kn_status_name(st));
                } else if (st != want) {
                    fail_msg("byte %zu bit %d: %s (%s), expected %s", i, bit, kn_status_name(st),
                             kn_last_error(), kn_status_name(want));
                }
            }
            buf[i] ^= (unsigned char)(1u << bit);
        }
    }
    for (size_t cut = 0; cut < len; cut++) {
        kn_artifact *b = NULL;
        kn_status st = kn_artifact_decode(buf, cut, "cut", key, &b);
        if (st != KN_ERR_CORRUPT)
            fail_msg("truncated to %zu of %zu bytes: %s (%s)", cut, len, kn_status_name(st),
                     kn_last_error());
    }
}

static void test_flip_and_truncate(void **state)
{
    (void)state;
    kn_frame *f = small_frame();
    kn_pipeline *p = fitted_pipeline(f);
    kn_artifact *a = full_artifact(p);
    unsigned char pk[32], sk[64];
    assert_int_equal(sodium_init() >= 0, 1);
    crypto_sign_keypair(pk, sk);
    unsigned char *buf = NULL;
    size_t len = 0;
    KN_CHECK(kn_artifact_encode(a, NULL, &buf, &len));
    assert_true(len < 8192); /* small enough to flip every bit */
    flip_every_bit(buf, len, NULL, 0);
    kn_free(buf);
    KN_CHECK(kn_artifact_encode(a, sk, &buf, &len));
    flip_every_bit(buf, len, pk, 1);
    flip_every_bit(buf, len, NULL, 1);
    /* the checks name the damage */
    buf[0] ^= 1;
    kn_artifact *b = NULL;
    KN_CHECK_FAILS(kn_artifact_decode(buf, len, "x.kiln", NULL, &b), KN_ERR_CORRUPT,
                   "x.kiln: not a Kiln artifact");
    buf[0] ^= 1;
    buf[len - 8 - 64 - 1 - 5] ^= 1;
    KN_CHECK_FAILS(kn_artifact_decode(buf, len, "x.kiln", NULL, &b), KN_ERR_CORRUPT,
                   "damaged: checksum mismatch");
    buf[len - 8 - 64 - 1 - 5] ^= 1;
    KN_CHECK_FAILS(kn_artifact_decode(buf, len - 3, "x.kiln", NULL, &b), KN_ERR_CORRUPT,
                   "truncated");
    buf[8] = 9; /* a newer format version */
    KN_CHECK_FAILS(kn_artifact_decode(buf, len, "x.kiln", NULL, &b), KN_ERR_VERSION,
                   "newer than this kiln reads");
    kn_free(buf);
    kn_artifact_free(a);
    kn_pipeline_free(p);
    kn_frame_free(f);
}

/* A section id this kiln does not know (a newer kiln's) is skipped. */
static void test_unknown_section_skipped(void **state)
{
    (void)state;
    kn_artifact *a = NULL;
    KN_CHECK(kn_artifact_new(&a));
    KN_CHECK(kn_artifact_set(a, KN_ART_SPEC, spec_text, strlen(spec_text)));
    KN_CHECK(kn_artifact_set(a, (kn_art_section)99, "future", 6));
    unsigned char *buf = NULL;
    size_t len = 0;
    KN_CHECK(kn_artifact_encode(a, NULL, &buf, &len));
    kn_artifact *b = NULL;
    KN_CHECK(kn_artifact_decode(buf, len, "mem", NULL, &b));
    assert_null(kn_artifact_get(b, (kn_art_section)99, NULL));
    size_t n = 0;
    assert_non_null(kn_artifact_get(b, KN_ART_SPEC, &n));
    assert_int_equal(n, strlen(spec_text));
    kn_artifact_free(b);
    kn_artifact_free(a);
    kn_free(buf);
}

/* A section zstd would shrink over 4096 times is stored raw; a zstd section
 * that claims more than that is refused before anything is inflated. */
static void test_compression_bounds(void **state)
{
    (void)state;
    size_t big = 1u << 20;
    char *zeros = calloc(big, 1), *text = malloc(8192);
    assert_non_null(zeros);
    assert_non_null(text);
    memset(text, 'a', 8192);
    kn_artifact *a = NULL, *b = NULL;
    KN_CHECK(kn_artifact_new(&a));
    KN_CHECK(kn_artifact_set(a, KN_ART_SPEC, zeros, big));
    unsigned char *buf = NULL;
    size_t len = 0, n = 0;
    KN_CHECK(kn_artifact_encode(a, NULL, &buf, &len));
    assert_true(len > big); /* stored raw */
    KN_CHECK(kn_artifact_decode(buf, len, "mem", NULL, &b));
    const void *got = kn_artifact_get(b, KN_ART_SPEC, &n);
    assert_int_equal(n, big);
    assert_memory_equal(got, zeros, big);
    kn_artifact_free(b);
    kn_free(buf);

    KN_CHECK(kn_artifact_set(a, KN_ART_SPEC, text, 8192));
    KN_CHECK(kn_artifact_encode(a, NULL, &buf, &len));
    assert_true(len < 8192); /* zstd */
    uint64_t stored, raw;
    memcpy(&stored, buf + 24, 8);
    memcpy(&raw, buf + 32, 8);
    assert_int_equal(raw, 8192);
    raw = stored * 4096 + 4096; /* claims too much; the checksum made to match */
    memcpy(buf + 32, &raw, 8);
    size_t body = len - 41;
    crypto_generichash(buf + body, 32, buf, body, NULL, 0);
    KN_CHECK_FAILS(kn_artifact_decode(buf, len, "mem", NULL, &b), KN_ERR_CORRUPT,
                   "claims more bytes");
    kn_free(buf);
    kn_artifact_free(a);
    free(zeros);
    free(text);
}

/* KN_ART_REFERENCE_ROWS: the numeric inputs of every row of a small fit,
 * of 1,000 of a large one (in row order, the same each time); a truncated
 * section is corrupt, a newer one KN_ERR_VERSION, an absent one
 * KN_ERR_NOT_FOUND. */
static void test_reference_rows(void **state)
{
    (void)state;
    kn_frame *f = small_frame(), *rows = NULL;
    kn_pipeline *p = fitted_pipeline(f);
    kn_artifact *a = NULL;
    uint64_t from = 0;
    KN_CHECK(kn_artifact_new(&a));
    KN_CHECK_FAILS(kn_artifact_reference_rows(a, "a.kiln", &rows, &from), KN_ERR_NOT_FOUND,
                   "a.kiln holds no sample");
    KN_CHECK(kn_artifact_set_reference(a, p, f));
    KN_CHECK(kn_artifact_reference_rows(a, "a.kiln", &rows, &from));
    assert_int_equal(from, 10);
    assert_int_equal(kn_frame_n_rows(rows), 10);
    assert_int_equal(kn_frame_n_cols(rows), 2); /* age, income: not city, not the label */
    assert_string_equal(kn_column_name(kn_frame_col(rows, 0)), "age");
    assert_string_equal(kn_column_name(kn_frame_col(rows, 1)), "income");
    for (size_t j = 0; j < 2; j++) {
        size_t at = 0;
        KN_CHECK(kn_frame_find(f, j ? "income" : "age", &at));
        for (size_t i = 0; i < 10; i++) {
            double want = kn_column_is_missing(kn_frame_col(f, at), i)
                              ? NAN
                              : kn_column_number(kn_frame_col(f, at), i);
            double got = kn_column_number(kn_frame_col(rows, j), i);
            assert_true(isnan(want) ? isnan(got) : got == want);
        }
    }
    kn_frame_free(rows);
    /* every truncation of the section, and a newer version */
    size_t len = 0;
    const unsigned char *bytes = kn_artifact_get(a, KN_ART_REFERENCE_ROWS, &len);
    unsigned char *copy = malloc(len);
    assert_non_null(copy);
    memcpy(copy, bytes, len);
    for (size_t k = 1; k < len; k++) {
        KN_CHECK(kn_artifact_set(a, KN_ART_REFERENCE_ROWS, copy, k));
        assert_int_equal(kn_artifact_reference_rows(a, "a.kiln", &rows, NULL), KN_ERR_CORRUPT);
        assert_null(rows);
    }
    copy[0] = 2;
    KN_CHECK(kn_artifact_set(a, KN_ART_REFERENCE_ROWS, copy, len));
    KN_CHECK_FAILS(kn_artifact_reference_rows(a, "a.kiln", &rows, NULL), KN_ERR_VERSION,
                   "newer than this kiln reads");
    free(copy);
    kn_artifact_free(a);
    kn_pipeline_free(p);
    kn_frame_free(f);

    /* 2,500 rows: 1,000 kept, rows of the fit in row order, deterministic */
    size_t n = 2500, used = 0, cap = 64 * n;
    char *text = malloc(cap);
    assert_non_null(text);
    used += (size_t)snprintf(text, cap, "age,city,income,label\n");
    for (size_t i = 0; i < n; i++)
        used += (size_t)snprintf(text + used, cap - used, "%zu,%s,%zu.5,%s\n", i,
                                 i % 3 ? "paris" : "lyon", 2 * i, i % 2 ? "yes" : "no");
    const char *path = test_write_file(".csv", text, used);
    free(text);
    kn_read_opts o;
    kn_read_opts_default(&o);
    KN_CHECK(kn_frame_read(path, &o, &f, NULL));
    remove(path);
    p = fitted_pipeline(f);
    unsigned char *enc[2] = {NULL, NULL};
    size_t enc_len[2] = {0, 0};
    for (int t = 0; t < 2; t++) {
        KN_CHECK(kn_artifact_new(&a));
        KN_CHECK(kn_artifact_set_reference(a, p, f));
        const void *b = kn_artifact_get(a, KN_ART_REFERENCE_ROWS, &enc_len[t]);
        enc[t] = malloc(enc_len[t]);
        assert_non_null(enc[t]);
        memcpy(enc[t], b, enc_len[t]);
        if (t == 0) {
            KN_CHECK(kn_artifact_reference_rows(a, "a.kiln", &rows, &from));
            assert_int_equal(from, n);
            assert_int_equal(kn_frame_n_rows(rows), KN_ART_REFERENCE_ROWS_MAX);
            double last = -1;
            for (size_t i = 0; i < KN_ART_REFERENCE_ROWS_MAX; i++) {
                double age = kn_column_number(kn_frame_col(rows, 0), i);
                double income = kn_column_number(kn_frame_col(rows, 1), i);
                assert_true(age > last && age < (double)n && age == floor(age));
                assert_true(income == 2 * age + 0.5); /* whole rows */
                last = age;
            }
            kn_frame_free(rows);
        }
        kn_artifact_free(a);
    }
    assert_int_equal(enc_len[0], enc_len[1]);
    assert_memory_equal(enc[0], enc[1], enc_len[0]);
    free(enc[0]);
    free(enc[1]);
    kn_pipeline_free(p);
    kn_frame_free(f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_round_trip),
        cmocka_unit_test(test_deterministic),
        cmocka_unit_test(test_load_predicts_identically),
        cmocka_unit_test(test_signatures),
        cmocka_unit_test(test_flip_and_truncate),
        cmocka_unit_test(test_unknown_section_skipped),
        cmocka_unit_test(test_compression_bounds),
        cmocka_unit_test(test_reference_rows),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
