/* HTTP(S) source through libcurl (see kiln/source.h). */
#include "data/http-impl.h"
#include "data/lazy_curl-impl.h"
#include "kiln/mem.h"
#include "kiln/tempfile.h"
#include "kiln/source.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

void kn__sleep_s(double s)
{
    struct timespec t = {(time_t)s, (long)((s - (double)(time_t)s) * 1e9)};
    while (nanosleep(&t, &t) != 0) {
    }
}

/* The extension of the URL's path ("csv" for .../x.csv?y=1), into ext. */
static void url_extension(const char *url, char *ext, size_t cap)
{
    ext[0] = '\0';
    const char *end = url + strcspn(url, "?#");
    const char *dot = NULL;
    for (const char *p = url; p < end; p++) {
        if (*p == '.') dot = p;
        if (*p == '/') dot = NULL;
    }
    if (dot && (size_t)(end - dot) < cap) snprintf(ext, cap, "%.*s", (int)(end - dot), dot);
}

/* One attempt: body into fp. Returns the curl code; *status the HTTP status. */
static CURLcode attempt(const char *url, double timeout_s, FILE *fp, long *status, char *err)
{
    CURL *h = curl_easy_init();
    if (!h) return CURLE_OUT_OF_MEMORY;
    curl_easy_setopt(h, CURLOPT_URL, url);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, fp);
    curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, 1L);
    curl_easy_setopt(h, CURLOPT_MAXREDIRS, 5L);
    curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, (long)(timeout_s * 1000));
    curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, (long)(timeout_s * 1000));
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(h, CURLOPT_ERRORBUFFER, err);
    curl_easy_setopt(h, CURLOPT_USERAGENT, "kiln");
    err[0] = '\0';
    CURLcode rc = curl_easy_perform(h);
    *status = 0;
    curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, status);
    curl_easy_cleanup(h);
    return rc;
}

static kn_status fetch(const char *url, double timeout_s, int retries, const char *path)
{
    char err[CURL_ERROR_SIZE];
    double wait = 0.5;
    for (int k = 0;; k++) {
        FILE *fp = fopen(path, "wb");
        if (!fp) return kn_fail(KN_ERR_IO, "http source %s: cannot create %s", url, path);
        long status = 0;
        CURLcode rc = attempt(url, timeout_s, fp, &status, err);
        int closed = fclose(fp) == 0;
        if (rc == CURLE_OK && status < 400 && closed) return KN_OK;
        int retry = rc != CURLE_OK || status >= 500;
        if (!retry || k >= retries) {
            if (rc != CURLE_OK)
                return kn_fail(KN_ERR_IO, "http source %s: %s (after %d attempt%s)", url,
                               err[0] ? err : curl_easy_strerror(rc), k + 1, k ? "s" : "");
            return kn_fail(KN_ERR_IO, "http source %s: HTTP status %ld (after %d attempt%s)", url,
                           status, k + 1, k ? "s" : "");
        }
        kn__sleep_s(wait);
        wait *= 2;
    }
}

static pthread_once_t curl_once = PTHREAD_ONCE_INIT;
static int curl_failed;

static void curl_start(void)
{
    curl_failed = curl_global_init(CURL_GLOBAL_DEFAULT) != 0;
}

kn_status kn__curl_start(void)
{
    kn_status e = kn__curl_load();
    if (e != KN_OK) return e;
    if (pthread_once(&curl_once, curl_start) != 0 || curl_failed)
        return kn_fail(KN_ERR_IO, "libcurl failed to start (curl_global_init)");
    return KN_OK;
}

kn_status kn_http_read(const char *url, const kn_read_opts *opts, double timeout_s, int retries,
                       kn_frame **out, kn_read_report *report)
{
    kn_status started = kn__curl_start();
    if (started != KN_OK) return kn_fail_prefix(started, "http source %s: ", url);
    kn_read_opts o;
    if (opts)
        o = *opts;
    else
        kn_read_opts_default(&o);
    char ext[16], path[64];
    url_extension(url, ext, sizeof ext);
    const char *fmt;
    if (!o.format[0]) /* the URL's extension, else CSV */
        o.format = ext[0] && kn_format_for_path(ext, &fmt) == KN_OK ? fmt : "csv";
    snprintf(path, sizeof path, "/tmp/kiln-http-XXXXXX");
    int fd = mkstemp(path);
    if (fd < 0) return kn_fail(KN_ERR_IO, "http source %s: cannot create a temporary file", url);
    close(fd);
    /* the download goes to a tracked temporary name (removed if a signal
     * stops the program); the mkstemp name only made it unique */
    char *named = kn_temp_path(path);
    remove(path);
    if (!named) return KN_ERR_NOMEM;
    kn_status e = fetch(url, timeout_s, retries, named);
    if (e == KN_OK) {
        e = kn_frame_read(named, &o, out, report);
        if (e != KN_OK) e = kn_fail_prefix(e, "http source %s: ", url);
    }
    kn_temp_discard(named);
    return e;
}
