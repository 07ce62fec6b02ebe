/* Status names and the per-thread last-error message. */
#include "kiln/core.h"

#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* One heap buffer per thread, replaced on each failure. The same pointer is
 * kept under a pthread key whose destructor frees it when the thread exits
 * (a caller's worker threads, OpenMP threads), so failures in short-lived
 * threads leak nothing. */
static _Thread_local char *last_msg;
static _Thread_local kn_status last_status;
static pthread_once_t key_once = PTHREAD_ONCE_INIT;
static pthread_key_t msg_key;
static int key_ok;

static void make_key(void)
{
    key_ok = pthread_key_create(&msg_key, free) == 0;
}

/* Hand the thread's message to the key's destructor. */
static void keep(char *msg)
{
    if (pthread_once(&key_once, make_key) == 0 && key_ok) pthread_setspecific(msg_key, msg);
}

const char *kn_status_name(kn_status s)
{
    switch (s) {
#define KN__STATUS_NAME(name, value, desc)                                                         \
    case name:                                                                                     \
        return #name;
        KN_STATUS_MAP(KN__STATUS_NAME)
#undef KN__STATUS_NAME
    }
    return "KN_UNKNOWN";
}

const char *kn_status_str(kn_status s)
{
    switch (s) {
#define KN__STATUS_STR(name, value, desc)                                                          \
    case name:                                                                                     \
        return desc;
        KN_STATUS_MAP(KN__STATUS_STR)
#undef KN__STATUS_STR
    }
    return "unknown status";
}

const char *kn_last_error(void)
{
    return last_msg ? last_msg : "";
}

kn_status kn_last_status(void)
{
    return last_status;
}

void kn_clear_error(void)
{
    free(last_msg);
    last_msg = NULL;
    keep(NULL);
    last_status = KN_OK;
}

/* Replace the thread's message with the formatted text. Uses plain
 * malloc: the error path must work even when the accounted allocator refuses
 * memory (on failure the old message stays). */
static void set_message(const char *fmt, va_list ap)
{
    va_list ap2;
    va_copy(ap2, ap);
    int n = vsnprintf(NULL, 0, fmt, ap2);
    va_end(ap2);
    if (n < 0) return;
    char *msg = malloc((size_t)n + 1);
    if (!msg) return;
    vsnprintf(msg, (size_t)n + 1, fmt, ap);
    free(last_msg);
    last_msg = msg;
    keep(msg);
}

kn_status kn_fail(kn_status s, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    set_message(fmt, ap);
    va_end(ap);
    last_status = s;
    return s;
}

kn_status kn_fail_prefix(kn_status s, const char *fmt, ...)
{
    /* The new text goes first, the old message after it. */
    va_list ap;
    va_start(ap, fmt);
    char *old = last_msg;
    last_msg = NULL;
    set_message(fmt, ap);
    va_end(ap);
    if (old) {
        char *head = last_msg;
        last_msg = NULL;
        kn_fail(s, "%s%s", head ? head : "", old);
        free(head);
        free(old);
    }
    keep(last_msg); /* whichever buffer survived */
    last_status = s;
    return s;
}

const char *kn_version(void)
{
    return KN_VERSION_STRING;
}
