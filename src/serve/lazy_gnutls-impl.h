/* Internal: GnuTLS, loaded on first use (core/lazylib-impl.h).
 *
 * Include this, not <gnutls/gnutls.h>; call kn__gnutls_load() before any
 * gnutls function on a path (the TLS key check of auth.c). The gnutls names
 * below are macros that call through the loaded table. */
#ifndef KILN_SERVE_LAZY_GNUTLS_IMPL_H
#define KILN_SERVE_LAZY_GNUTLS_IMPL_H

#include "kiln/core.h"

#include <gnutls/gnutls.h>

#define KN__GNUTLS_FNS(X)                                                                          \
    X(gnutls_certificate_allocate_credentials)                                                     \
    X(gnutls_certificate_set_x509_key_mem2)                                                        \
    X(gnutls_certificate_free_credentials)                                                         \
    X(gnutls_strerror)

typedef struct kn__gnutls_fns {
#define KN__GNUTLS_FIELD(f) __typeof__(f) *f;
    KN__GNUTLS_FNS(KN__GNUTLS_FIELD)
#undef KN__GNUTLS_FIELD
} kn__gnutls_fns;

/* Filled by kn__gnutls_load(); read only after it returned KN_OK. */
extern kn__gnutls_fns kn__gnutls;

/* Load GnuTLS once per process, from any thread. KN_OK, or
 * KN_ERR_UNSUPPORTED naming the library and the package to install. */
kn_status kn__gnutls_load(void);

#ifndef KN__LAZY_GNUTLS_TABLE
#define gnutls_certificate_allocate_credentials kn__gnutls.gnutls_certificate_allocate_credentials
#define gnutls_certificate_set_x509_key_mem2 kn__gnutls.gnutls_certificate_set_x509_key_mem2
#define gnutls_certificate_free_credentials kn__gnutls.gnutls_certificate_free_credentials
#define gnutls_strerror kn__gnutls.gnutls_strerror
#endif

#endif
