/* Internal: libpq, loaded on first use (core/lazylib-impl.h).
 *
 * Include this, not <libpq-fe.h>; call kn__pq_load() before any PQ
 * function on a path. The PQ names below are macros that call through the
 * loaded table, so the code reads as plain libpq. */
#ifndef KILN_DATA_LAZY_PQ_IMPL_H
#define KILN_DATA_LAZY_PQ_IMPL_H

#include "kiln/core.h"

#include <libpq-fe.h>

#define KN__PQ_FNS(X)                                                                              \
    X(PQconnectdb)                                                                                 \
    X(PQstatus)                                                                                    \
    X(PQerrorMessage)                                                                              \
    X(PQfinish)                                                                                    \
    X(PQuser)                                                                                      \
    X(PQhost)                                                                                      \
    X(PQport)                                                                                      \
    X(PQdb)                                                                                        \
    X(PQexec)                                                                                      \
    X(PQsendQuery)                                                                                 \
    X(PQsetSingleRowMode)                                                                          \
    X(PQgetResult)                                                                                 \
    X(PQresultStatus)                                                                              \
    X(PQresultErrorMessage)                                                                        \
    X(PQclear)                                                                                     \
    X(PQnfields)                                                                                   \
    X(PQfname)                                                                                     \
    X(PQftype)                                                                                     \
    X(PQgetisnull)                                                                                 \
    X(PQgetvalue)                                                                                  \
    X(PQgetlength)

typedef struct kn__pq_fns {
#define KN__PQ_FIELD(f) __typeof__(f) *f;
    KN__PQ_FNS(KN__PQ_FIELD)
#undef KN__PQ_FIELD
} kn__pq_fns;

/* Filled by kn__pq_load(); read only after it returned KN_OK. */
extern kn__pq_fns kn__pq;

/* Load libpq once per process, from any thread. KN_OK, or
 * KN_ERR_UNSUPPORTED naming the library and the package to install. */
kn_status kn__pq_load(void);

#ifndef KN__LAZY_PQ_TABLE
#define PQconnectdb kn__pq.PQconnectdb
#define PQstatus kn__pq.PQstatus
#define PQerrorMessage kn__pq.PQerrorMessage
#define PQfinish kn__pq.PQfinish
#define PQuser kn__pq.PQuser
#define PQhost kn__pq.PQhost
#define PQport kn__pq.PQport
#define PQdb kn__pq.PQdb
#define PQexec kn__pq.PQexec
#define PQsendQuery kn__pq.PQsendQuery
#define PQsetSingleRowMode kn__pq.PQsetSingleRowMode
#define PQgetResult kn__pq.PQgetResult
#define PQresultStatus kn__pq.PQresultStatus
#define PQresultErrorMessage kn__pq.PQresultErrorMessage
#define PQclear kn__pq.PQclear
#define PQnfields kn__pq.PQnfields
#define PQfname kn__pq.PQfname
#define PQftype kn__pq.PQftype
#define PQgetisnull kn__pq.PQgetisnull
#define PQgetvalue kn__pq.PQgetvalue
#define PQgetlength kn__pq.PQgetlength
#endif

#endif
