/* GnuTLS loaded on first use (lazy_gnutls-impl.h). */
#define KN__LAZY_GNUTLS_TABLE /* the real names, for the table below */
#include "serve/lazy_gnutls-impl.h"
#include "core/lazylib-impl.h"

/* CMakeLists.txt passes the SONAME and package of the library it found */
#ifndef KN_SONAME_GNUTLS
#define KN_SONAME_GNUTLS "libgnutls.so.30"
#endif
#ifndef KN_DEBPKG_GNUTLS
#define KN_DEBPKG_GNUTLS "libgnutls30"
#endif

kn__gnutls_fns kn__gnutls;

#define KN__NAME(f) #f,
#define KN__OFFSET(f) offsetof(kn__gnutls_fns, f),
static const char *const names[] = {KN__GNUTLS_FNS(KN__NAME) NULL};
static const size_t offsets[] = {KN__GNUTLS_FNS(KN__OFFSET)};

static kn__lazylib lib = {
    "GnuTLS", KN_SONAME_GNUTLS, KN_DEBPKG_GNUTLS, names, offsets, &kn__gnutls, 0, ""};
static pthread_once_t once = PTHREAD_ONCE_INIT;

static void load(void)
{
    kn__lazylib_open(&lib);
}

kn_status kn__gnutls_load(void)
{
    return kn__lazylib_once(&lib, &once, load);
}
