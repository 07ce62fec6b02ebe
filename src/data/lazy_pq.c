/* libpq loaded on first use (lazy_pq-impl.h). */
#define KN__LAZY_PQ_TABLE /* the real names, for the table below */
#include "data/lazy_pq-impl.h"
#include "core/lazylib-impl.h"

/* CMakeLists.txt passes the SONAME and package of the library it found */
#ifndef KN_SONAME_PQ
#define KN_SONAME_PQ "libpq.so.5"
#endif
#ifndef KN_DEBPKG_PQ
#define KN_DEBPKG_PQ "libpq5"
#endif

kn__pq_fns kn__pq;

#define KN__NAME(f) #f,
#define KN__OFFSET(f) offsetof(kn__pq_fns, f),
static const char *const names[] = {KN__PQ_FNS(KN__NAME) NULL};
static const size_t offsets[] = {KN__PQ_FNS(KN__OFFSET)};

static kn__lazylib lib = {"libpq", KN_SONAME_PQ, KN_DEBPKG_PQ, names, offsets, &kn__pq, 0, ""};
static pthread_once_t once = PTHREAD_ONCE_INIT;

static void load(void)
{
    kn__lazylib_open(&lib);
}

kn_status kn__pq_load(void)
{
    return kn__lazylib_once(&lib, &once, load);
}
