/* Logging through the current context's sink (see log.h, ctx.h). */
#include "kiln/log.h"
#include "core/ctx-impl.h"

#include <stdarg.h>
#include <stdio.h>

void kn_log_set(kn_log_fn fn, void *user)
{
    kn_ctx *c = kn__ctx_get();
    c->log_fn = fn;
    c->log_user = user;
}

void kn_log_set_level(kn_log_level level)
{
    atomic_store(&kn__ctx_get()->log_level, (int)level);
}

kn_log_level kn_log_get_level(void)
{
    return (kn_log_level)atomic_load(&kn__ctx_get()->log_level);
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

static _Thread_local int quiet_info; /* kn__log_quiet_info's count */

void kn__log_quiet_info(int delta)
{
    quiet_info += delta;
}

void kn_log(kn_log_level level, const char *fmt, ...)
{
    const kn_ctx *c = kn__ctx_get();
    int max = atomic_load_explicit(&c->log_level, memory_order_relaxed);
    if (!c->log_fn || (int)level > max ||
        (quiet_info > 0 && level == KN_LOG_INFO && max < KN_LOG_DEBUG))
        return;
    char buf[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    c->log_fn(level, buf, c->log_user);
}
