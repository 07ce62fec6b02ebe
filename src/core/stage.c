/* Stage records. Peak RSS per stage uses Linux's /proc/self/clear_refs ("5"
 * resets the VmHWM high-water mark); without it the process peak is used. */
#include "kiln/stage.h"
#include "kiln/mem.h"

#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#define MAX_STAGES 64

static kn_stage_record records[MAX_STAGES];
static size_t n_records;
static char open_name[32];
static int is_open;
static double open_wall, open_cpu;

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

void kn_stage_begin(const char *name)
{
    if (is_open) kn_stage_end();
    snprintf(open_name, sizeof open_name, "%s", name);
    is_open = 1;
    reset_hwm();
    kn_mem_reset_peak();
    open_wall = clock_s(CLOCK_MONOTONIC);
    open_cpu = clock_s(CLOCK_PROCESS_CPUTIME_ID);
}

void kn_stage_end(void)
{
    if (!is_open) return;
    is_open = 0;
    if (n_records == MAX_STAGES) return; /* keep the first 64; later ones are not recorded */
    kn_stage_record *r = &records[n_records++];
    memcpy(r->name, open_name, sizeof r->name);
    r->wall_s = clock_s(CLOCK_MONOTONIC) - open_wall;
    r->cpu_s = clock_s(CLOCK_PROCESS_CPUTIME_ID) - open_cpu;
    r->peak_rss_bytes = kn_rss_peak_bytes();
    r->peak_alloc_bytes = kn_mem_peak();
    r->threads = (uint32_t)proc_status("Threads");
}

const char *kn_stage_current(void)
{
    return is_open ? open_name : "main";
}

size_t kn_stage_count(void)
{
    return n_records;
}

const kn_stage_record *kn_stage_get(size_t i)
{
    return i < n_records ? &records[i] : NULL;
}

void kn_stage_reset(void)
{
    n_records = 0;
    is_open = 0;
}
