/* Internal: libcurl, loaded on first use (core/lazylib-impl.h).
 *
 * Include this, not <curl/curl.h>; call kn__curl_load() (or
 * kn__curl_start(), data/http-impl.h) before any curl_ function on a path.
 * The curl_ names below are macros that call through the loaded table, so
 * the code reads as plain libcurl. curl's compile-time option type checks
 * (typecheck-gcc.h) are off here: curl.h makes curl_easy_setopt and
 * curl_easy_getinfo macros of their own, replaced below. */
#ifndef KILN_DATA_LAZY_CURL_IMPL_H
#define KILN_DATA_LAZY_CURL_IMPL_H

#define CURL_DISABLE_TYPECHECK
#include "kiln/core.h"

#include <curl/curl.h>

#define KN__CURL_FNS(X)                                                                            \
    X(curl_global_init)                                                                            \
    X(curl_easy_init)                                                                              \
    X(curl_easy_setopt)                                                                            \
    X(curl_easy_perform)                                                                           \
    X(curl_easy_getinfo)                                                                           \
    X(curl_easy_cleanup)                                                                           \
    X(curl_easy_strerror)                                                                          \
    X(curl_slist_append)                                                                           \
    X(curl_slist_free_all)

typedef struct kn__curl_fns {
#define KN__CURL_FIELD(f) __typeof__(f) *f;
    KN__CURL_FNS(KN__CURL_FIELD)
#undef KN__CURL_FIELD
} kn__curl_fns;

/* Filled by kn__curl_load(); read only after it returned KN_OK. */
extern kn__curl_fns kn__curl;

/* Load libcurl once per process, from any thread. KN_OK, or
 * KN_ERR_UNSUPPORTED naming the library and the package to install. */
kn_status kn__curl_load(void);

#ifndef KN__LAZY_CURL_TABLE
#undef curl_easy_setopt
#undef curl_easy_getinfo
#define curl_global_init kn__curl.curl_global_init
#define curl_easy_init kn__curl.curl_easy_init
#define curl_easy_setopt kn__curl.curl_easy_setopt
#define curl_easy_perform kn__curl.curl_easy_perform
#define curl_easy_getinfo kn__curl.curl_easy_getinfo
#define curl_easy_cleanup kn__curl.curl_easy_cleanup
#define curl_easy_strerror kn__curl.curl_easy_strerror
#define curl_slist_append kn__curl.curl_slist_append
#define curl_slist_free_all kn__curl.curl_slist_free_all
#endif

#endif
