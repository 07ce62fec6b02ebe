/* A webhook: an HTTP POST of a JSON body with retries and backoff (kiln/alert.h). */
#include "data/http-impl.h"
#include "data/lazy_curl-impl.h"
#include "kiln/alert.h"

static size_t discard(char *p, size_t size, size_t n, void *user)
{
    (void)p, (void)user;
    return size * n;
}

kn_status kn_webhook_post(const char *url, const char *json, int retries, double backoff_s,
                          double timeout_s, int *attempts)
{
    *attempts = 0;
    kn_status started = kn__curl_start();
    if (started != KN_OK) return kn_fail_prefix(started, "webhook %s: ", url);
    char err[CURL_ERROR_SIZE];
    double wait = backoff_s;
    for (int k = 0;; k++) {
        CURL *h = curl_easy_init();
        if (!h) return kn_fail(KN_ERR_NOMEM, "webhook %s: out of memory", url);
        struct curl_slist *hdr = curl_slist_append(NULL, "Content-Type: application/json");
        curl_easy_setopt(h, CURLOPT_URL, url);
        curl_easy_setopt(h, CURLOPT_POSTFIELDS, json);
        curl_easy_setopt(h, CURLOPT_HTTPHEADER, hdr);
        curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, discard);
        curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, (long)(timeout_s * 1000));
        curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, (long)(timeout_s * 1000));
        curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
        curl_easy_setopt(h, CURLOPT_ERRORBUFFER, err);
        curl_easy_setopt(h, CURLOPT_USERAGENT, "kiln");
        err[0] = '\0';
        CURLcode rc = curl_easy_perform(h);
        long status = 0;
        curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
        curl_easy_cleanup(h);
        curl_slist_free_all(hdr);
        *attempts = k + 1;
        if (rc == CURLE_OK && status >= 200 && status < 300) return KN_OK;
        int retry = rc != CURLE_OK || status >= 500 || status == 429;
        if (!retry || k >= retries) {
            if (rc != CURLE_OK)
                return kn_fail(KN_ERR_IO, "webhook %s: %s (after %d attempt%s)", url,
                               err[0] ? err : curl_easy_strerror(rc), k + 1, k ? "s" : "");
            return kn_fail(KN_ERR_IO, "webhook %s: HTTP status %ld (after %d attempt%s)", url,
                           status, k + 1, k ? "s" : "");
        }
        kn__sleep_s(wait);
        wait *= 2;
    }
}
