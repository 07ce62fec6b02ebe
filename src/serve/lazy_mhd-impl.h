/* Internal: libmicrohttpd, loaded on first use (core/lazylib-impl.h).
 *
 * Include this, not <microhttpd.h>; kn_server_new() calls kn__mhd_load()
 * before any MHD function runs (every other call is on a server it made).
 * The MHD names below are macros that call through the loaded table, so
 * the code reads as plain libmicrohttpd. */
#ifndef KILN_SERVE_LAZY_MHD_IMPL_H
#define KILN_SERVE_LAZY_MHD_IMPL_H

#include "kiln/core.h"

#include <microhttpd.h>

#define KN__MHD_FNS(X)                                                                             \
    X(MHD_start_daemon)                                                                            \
    X(MHD_stop_daemon)                                                                             \
    X(MHD_quiesce_daemon)                                                                          \
    X(MHD_get_daemon_info)                                                                         \
    X(MHD_is_feature_supported)                                                                    \
    X(MHD_lookup_connection_value)                                                                 \
    X(MHD_create_response_from_buffer)                                                             \
    X(MHD_add_response_header)                                                                     \
    X(MHD_queue_response)                                                                          \
    X(MHD_destroy_response)

typedef struct kn__mhd_fns {
#define KN__MHD_FIELD(f) __typeof__(f) *f;
    KN__MHD_FNS(KN__MHD_FIELD)
#undef KN__MHD_FIELD
} kn__mhd_fns;

/* Filled by kn__mhd_load(); read only after it returned KN_OK. */
extern kn__mhd_fns kn__mhd;

/* Load libmicrohttpd once per process, from any thread. KN_OK, or
 * KN_ERR_UNSUPPORTED naming the library and the package to install. */
kn_status kn__mhd_load(void);

#ifndef KN__LAZY_MHD_TABLE
#define MHD_start_daemon kn__mhd.MHD_start_daemon
#define MHD_stop_daemon kn__mhd.MHD_stop_daemon
#define MHD_quiesce_daemon kn__mhd.MHD_quiesce_daemon
#define MHD_get_daemon_info kn__mhd.MHD_get_daemon_info
#define MHD_is_feature_supported kn__mhd.MHD_is_feature_supported
#define MHD_lookup_connection_value kn__mhd.MHD_lookup_connection_value
#define MHD_create_response_from_buffer kn__mhd.MHD_create_response_from_buffer
#define MHD_add_response_header kn__mhd.MHD_add_response_header
#define MHD_queue_response kn__mhd.MHD_queue_response
#define MHD_destroy_response kn__mhd.MHD_destroy_response
#endif

#endif
