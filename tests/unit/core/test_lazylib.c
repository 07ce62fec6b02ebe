/* core: libraries loaded on first use (core/lazylib-impl.h), and the four
 * that Kiln loads that way (libpq, libcurl, libmicrohttpd, GnuTLS). */
#include "test_util.h"

#include "core/lazylib-impl.h"
#include "data/lazy_curl-impl.h"
#include "data/lazy_pq-impl.h"
#include "serve/lazy_gnutls-impl.h"
#include "serve/lazy_mhd-impl.h"

#include <pthread.h>
#include <stdatomic.h>

/* a table as a module keeps one: typed pointers, one per name */
typedef struct m_fns {
    double (*cos)(double);
    double (*sqrt)(double);
} m_fns;
static const size_t m_offsets[] = {offsetof(m_fns, cos), offsetof(m_fns, sqrt)};

/* a library that is not installed: the message names it and the package */
static const char *const absent_names[] = {"cos", "sqrt", NULL};
static m_fns absent_fns;
static kn__lazylib absent = {"libexample",
                             "libkiln-no-such-library.so.9",
                             "libexample9",
                             absent_names,
                             m_offsets,
                             &absent_fns,
                             0,
                             ""};
static pthread_once_t absent_once = PTHREAD_ONCE_INIT;
static atomic_int absent_opens;
static void absent_open(void)
{
    atomic_fetch_add(&absent_opens, 1);
    kn__lazylib_open(&absent);
}

static void missing_library_names_library_and_package(void **state)
{
    (void)state;
    KN_CHECK_FAILS(kn__lazylib_once(&absent, &absent_once, absent_open), KN_ERR_UNSUPPORTED,
                   "libexample is needed here but cannot be loaded");
    assert_non_null(strstr(kn_last_error(), "libkiln-no-such-library.so.9"));
    assert_non_null(strstr(kn_last_error(), "apt-get install libexample9"));
    /* a second call does not try again, and says the same */
    kn_clear_error();
    KN_CHECK_FAILS(kn__lazylib_once(&absent, &absent_once, absent_open), KN_ERR_UNSUPPORTED,
                   "apt-get install libexample9");
    assert_int_equal(atomic_load(&absent_opens), 1);
    assert_null(absent_fns.cos);
}

/* a library without one of the functions: named, and the table left empty */
static const char *const old_names[] = {"cos", "kn_no_such_function", NULL};
static m_fns old_fns;
static kn__lazylib old = {"libm", "libm.so.6", "libc6", old_names, m_offsets, &old_fns, 0, ""};
static pthread_once_t old_once = PTHREAD_ONCE_INIT;
static void old_open(void)
{
    kn__lazylib_open(&old);
}

static void missing_function_is_named(void **state)
{
    (void)state;
    KN_CHECK_FAILS(kn__lazylib_once(&old, &old_once, old_open), KN_ERR_UNSUPPORTED,
                   "has no function kn_no_such_function");
    assert_null(old_fns.cos);
    assert_null(old_fns.sqrt);
}

/* a library found: every pointer set, first use from many threads at once */
static const char *const m_names[] = {"cos", "sqrt", NULL};
static m_fns mfns;
static kn__lazylib m = {"libm", "libm.so.6", "libc6", m_names, m_offsets, &mfns, 0, ""};
static pthread_once_t m_once = PTHREAD_ONCE_INIT;
static atomic_int m_opens;
static void m_open(void)
{
    atomic_fetch_add(&m_opens, 1);
    kn__lazylib_open(&m);
}

static void *first_use(void *arg)
{
    double *out = arg;
    if (kn__lazylib_once(&m, &m_once, m_open) != KN_OK) return NULL;
    *out = mfns.sqrt(16.0) + mfns.cos(0.0);
    return arg;
}

static void loads_once_from_many_threads(void **state)
{
    (void)state;
    pthread_t t[8];
    double got[8] = {0};
    for (int i = 0; i < 8; i++)
        assert_int_equal(pthread_create(&t[i], NULL, first_use, &got[i]), 0);
    for (int i = 0; i < 8; i++) {
        void *r;
        assert_int_equal(pthread_join(t[i], &r), 0);
        assert_non_null(r);
        assert_true(got[i] == 5.0);
    }
    assert_int_equal(atomic_load(&m_opens), 1);
}

/* the four libraries Kiln loads on first use are there on a build machine,
 * with every function Kiln calls */
static void kiln_libraries_load(void **state)
{
    (void)state;
    KN_CHECK(kn__pq_load());
    KN_CHECK(kn__curl_load());
    KN_CHECK(kn__mhd_load());
    KN_CHECK(kn__gnutls_load());
    assert_int_equal(PQresultStatus(NULL), PGRES_FATAL_ERROR);
    assert_non_null(strstr(curl_easy_strerror(CURLE_OK), "No error"));
    assert_int_equal(MHD_is_feature_supported(MHD_FEATURE_MESSAGES), MHD_YES);
    assert_non_null(gnutls_strerror(0));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(missing_library_names_library_and_package),
        cmocka_unit_test(missing_function_is_named),
        cmocka_unit_test(loads_once_from_many_threads),
        cmocka_unit_test(kiln_libraries_load),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
