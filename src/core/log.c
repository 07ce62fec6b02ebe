#include "kiln/log.h"

#include <stdarg.h>
#include <stdio.h>

static kn_log_fn sink;
static void *sink_user;
static kn_log_level max_level = KN_LOG_INFO;

void kn_log_set(kn_log_fn fn, void *user)
{
    sink = fn;
    sink_user = user;
}

void kn_log_set_level(kn_log_level level)
{
    max_level = level;
}

kn_log_level kn_log_get_level(void)
{
    return max_level;
}

const char *kn_log_level_name(kn_log_level level)
{
    switch (level) {
    case KN_LOG_ERROR:
        return "error";
    case KN_LOG_WARN:
        return "warn";
    case KN_LOG_INFO:
        return "info";
    case KN_LOG_DEBUG:
        return "debug";
    }
    return "info";
}

void kn_log(kn_log_level level, const char *fmt, ...)
{
    if (!sink || level > max_level) return;
    char buf[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    sink(level, buf, sink_user);
}
