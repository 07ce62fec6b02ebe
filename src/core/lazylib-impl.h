/* Internal: a shared library loaded on first use (dlopen), not at start.
 *
 * libpq, libcurl, libmicrohttpd and GnuTLS (with their krb5, LDAP and
 * p11-kit chain: 21 of kiln's ~49 libraries) are needed only by the
 * PostgreSQL source, the HTTP source, the webhook and `kiln serve`; linked,
 * ld.so maps and relocates them at every start. Each is instead reached
 * through one small module (src/data/lib_pq.c, lib_curl.c,
 * src/serve/lib_mhd.c, lib_gnutls.c) that keeps a table of the functions
 * Kiln calls, typed from the library's own header, and fills it once:
 *
 *     static kn__lazylib lib = {"libcurl", KN_SONAME_CURL, KN_DEBPKG_CURL,
 *                               names, offsets, &kn__curl_fns};
 *     static void load(void) { kn__lazylib_open(&lib); }
 *     kn_status kn__curl_load(void) { return kn__lazylib_once(&lib, &once, load); }
 *
 * The library stays loaded for the life of the process. */
#ifndef KILN_CORE_LAZYLIB_IMPL_H
#define KILN_CORE_LAZYLIB_IMPL_H

#include "kiln/core.h"

#include <pthread.h>
#include <stddef.h>

typedef struct kn__lazylib {
    const char *name;           /* for messages: "libcurl" */
    const char *soname;         /* what dlopen is given: "libcurl-gnutls.so.4" */
    const char *package;        /* the Debian package that ships it */
    const char *const *symbols; /* the functions, NULL-terminated ... */
    const size_t *offsets;      /* ... and where each pointer goes in table */
    void *table;                /* a struct of function pointers */
    int failed;                 /* set by kn__lazylib_open */
    char error[480];            /* why, when failed */
} kn__lazylib;

/* dlopen lib->soname and fill lib->table; on failure set lib->failed and
 * lib->error (the library, the dlerror text, the package to install), and
 * leave the table as it was. Not thread-safe: run it under pthread_once. */
void kn__lazylib_open(kn__lazylib *lib);

/* Run open once per process (pthread_once: any thread may be first), then
 * return KN_OK, or KN_ERR_UNSUPPORTED with lib->error as the message (set
 * on every call, in the calling thread). */
kn_status kn__lazylib_once(kn__lazylib *lib, pthread_once_t *once, void (*open)(void));

#endif
