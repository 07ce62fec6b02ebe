/* Internal: libcurl's process-wide start and the retries' sleep, shared by
 * every HTTP client in Kiln (the http source here, the alert webhook). */
#ifndef KILN_DATA_HTTP_IMPL_H
#define KILN_DATA_HTTP_IMPL_H

#include "kiln/core.h"

/* Load libcurl (data/lazy_curl-impl.h) and run curl_global_init, once per
 * process whichever thread calls first (it is not thread-safe, so every
 * caller must go through this one guard). KN_OK, or the failure set. */
kn_status kn__curl_start(void);
/* Sleep s seconds, resuming after a signal (the backoff between attempts). */
void kn__sleep_s(double s);

#endif
