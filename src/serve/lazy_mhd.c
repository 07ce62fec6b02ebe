/* libmicrohttpd loaded on first use (lazy_mhd-impl.h). */
#define KN__LAZY_MHD_TABLE /* the real names, for the table below */
#include "serve/lazy_mhd-impl.h"
#include "core/lazylib-impl.h"

/* CMakeLists.txt passes the SONAME and package of the library it found */
#ifndef KN_SONAME_MHD
#define KN_SONAME_MHD "libmicrohttpd.so.12"
#endif
#ifndef KN_DEBPKG_MHD
#define KN_DEBPKG_MHD "libmicrohttpd12"
#endif

kn__mhd_fns kn__mhd;

#define KN__NAME(f) #f,
#define KN__OFFSET(f) offsetof(kn__mhd_fns, f),
static const char *const names[] = {KN__MHD_FNS(KN__NAME) NULL};
static const size_t offsets[] = {KN__MHD_FNS(KN__OFFSET)};

static kn__lazylib lib = {
    "libmicrohttpd", KN_SONAME_MHD, KN_DEBPKG_MHD, names, offsets, &kn__mhd, 0, ""};
static pthread_once_t once = PTHREAD_ONCE_INIT;

static void load(void)
{
    kn__lazylib_open(&lib);
}

kn_status kn__mhd_load(void)
{
    return kn__lazylib_once(&lib, &once, load);
}
