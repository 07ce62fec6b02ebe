/* Stage records. Peak RSS per stage uses Linux's /proc/self/clear_refs ("5"
 * resets the VmHWM high-water mark); without it the process peak is used. */
#include "kiln/stage.h"
#include "core/ctx-impl.h"
#include "kiln/mem.h"

#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

/* The current stage's name as kn_stage_current() hands it out. */
static _Thread_local char current_name[32];

static double clock_s(clockid_t id)
{
    struct timespec ts;
    clock_gettime(id, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* Reads "Key:   123 kB" from /proc/self/status; 0 when unavailable. */
static uint64_t proc_status_kb(const char *key);

/* The number after "Key:" in /proc/self/status; 0 when unavailable. */
static uint64_t proc_status(const char *key)
{
    FILE *f = fopen("/proc/self/status", "r");
    if (!f) return 0;
    char line[256];
    size_t klen = strlen(key);
    uint64_t v = 0;
    while (fgets(line, sizeof line, f)) {
        if (strncmp(line, key, klen) == 0 && line[klen] == ':') {
            unsigned long long kb = 0;
            if (sscanf(line + klen + 1, "%llu", &kb) == 1) v = kb;
            break;
        }
    }
    fclose(f);
    return v;
}

static uint64_t proc_status_kb(const char *key)
{
    return proc_status(key) * 1024;
}

uint64_t kn_rss_peak_bytes(void)
{
    uint64_t v = proc_status_kb("VmHWM");
    if (v) return v;
    struct rusage ru;
    if (getrusage(RUSAGE_SELF, &ru) == 0) return (uint64_t)ru.ru_maxrss * 1024;
    return 0;
}

uint64_t kn_rss_now_bytes(void)
{
    return proc_status_kb("VmRSS");
}

static void reset_hwm(void)
{
    FILE *f = fopen("/proc/self/clear_refs", "w");
    if (!f) return;
    fputs("5", f);
    fclose(f);
}

/* Ends c's open stage; c's stage lock held. */
static void end_locked(kn_ctx *c)
{
    if (!c->is_open) return;
    c->is_open = 0;
    if (c->n_records == KN__MAX_STAGES) return; /* keep the first 64 */
    kn_stage_record *r = &c->records[c->n_records++];
    memcpy(r->name, c->open_name, sizeof r->name);
    r->wall_s = clock_s(CLOCK_MONOTONIC) - c->open_wall;
    r->cpu_s = clock_s(CLOCK_PROCESS_CPUTIME_ID) - c->open_cpu;
    r->peak_rss_bytes = kn_rss_peak_bytes();
    r->peak_alloc_bytes = kn_ctx_mem_peak(c);
    r->threads = (uint32_t)proc_status("Threads");
}

void kn_stage_begin(const char *name)
{
    kn_ctx *c = kn__ctx_get();
    pthread_mutex_lock(&c->stage_lock);
    end_locked(c);
    snprintf(c->open_name, sizeof c->open_name, "%s", name);
    c->is_open = 1;
    reset_hwm();
    kn_mem_reset_peak();
    c->open_wall = clock_s(CLOCK_MONOTONIC);
    c->open_cpu = clock_s(CLOCK_PROCESS_CPUTIME_ID);
    pthread_mutex_unlock(&c->stage_lock);
}

void kn_stage_end(void)
{
    kn_ctx *c = kn__ctx_get();
    pthread_mutex_lock(&c->stage_lock);
    end_locked(c);
    pthread_mutex_unlock(&c->stage_lock);
}

const char *kn_stage_current(void)
{
    kn_ctx *c = kn__ctx_get();
    pthread_mutex_lock(&c->stage_lock);
    memcpy(current_name, c->is_open ? c->open_name : "main", c->is_open ? sizeof current_name : 5);
    pthread_mutex_unlock(&c->stage_lock);
    return current_name;
}

size_t kn_stage_count(void)
{
    kn_ctx *c = kn__ctx_get();
    pthread_mutex_lock(&c->stage_lock);
    size_t n = c->n_records;
    pthread_mutex_unlock(&c->stage_lock);
    return n;
}

const kn_stage_record *kn_stage_get(size_t i)
{
    kn_ctx *c = kn__ctx_get();
    pthread_mutex_lock(&c->stage_lock);
    const kn_stage_record *r = i < c->n_records ? &c->records[i] : NULL;
    pthread_mutex_unlock(&c->stage_lock);
    return r;
}

void kn_stage_reset(void)
{
    kn_ctx *c = kn__ctx_get();
    pthread_mutex_lock(&c->stage_lock);
    c->n_records = 0;
    c->is_open = 0;
    pthread_mutex_unlock(&c->stage_lock);
}
