/* libcurl loaded on first use (lazy_curl-impl.h). */
#define KN__LAZY_CURL_TABLE /* the real names, for the table below */
#include "data/lazy_curl-impl.h"
#include "core/lazylib-impl.h"

/* CMakeLists.txt passes the SONAME and package of the library it found */
#ifndef KN_SONAME_CURL
#define KN_SONAME_CURL "libcurl.so.4"
#endif
#ifndef KN_DEBPKG_CURL
#define KN_DEBPKG_CURL "libcurl4"
#endif

kn__curl_fns kn__curl;

#define KN__NAME(f) #f,
#define KN__OFFSET(f) offsetof(kn__curl_fns, f),
static const char *const names[] = {KN__CURL_FNS(KN__NAME) NULL};
static const size_t offsets[] = {KN__CURL_FNS(KN__OFFSET)};

static kn__lazylib lib = {"libcurl", KN_SONAME_CURL, KN_DEBPKG_CURL, names, offsets, &kn__curl, 0,
                          ""};
static pthread_once_t once = PTHREAD_ONCE_INIT;

static void load(void)
{
    kn__lazylib_open(&lib);
}

kn_status kn__curl_load(void)
{
    return kn__lazylib_once(&lib, &once, load);
}
