/* The accounting allocator: a 16-byte header before each block holds its
 * size and the run context it is charged to. */
#include "kiln/mem.h"
#include "core/ctx-impl.h"
#include "kiln/stage.h"

#include <ctype.h>
#include <inttypes.h>
#include <malloc.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

/* The header: the block's size, then the context it is charged to (NULL
 * for a zero-byte block, which charges nothing). 16 bytes keep the user
 * pointer 16-byte aligned. */
#define HDR 16
_Static_assert(sizeof(size_t) + sizeof(kn_ctx *) <= HDR, "block header too small");

/* Process totals, over every context. */
static _Atomic uint64_t proc_live;
static _Atomic uint64_t proc_peak;

static void note_peak(_Atomic uint64_t *peak, uint64_t now)
{
    uint64_t p = atomic_load_explicit(peak, memory_order_relaxed);
    while (now > p && !atomic_compare_exchange_weak(peak, &p, now)) {
    }
}

static kn_status fail_nomem_in(const kn_ctx *c, size_t n);

/* Reserve n bytes against c's budget; false (message set) when over it. */
static int reserve(kn_ctx *c, size_t n)
{
    uint64_t now = (atomic_fetch_add(&c->live, n) + n) & ~KN__CTX_RELEASED;
    uint64_t lim = atomic_load_explicit(&c->limit, memory_order_relaxed);
    if (lim && now > lim) {
        atomic_fetch_sub(&c->live, n);
        fail_nomem_in(c, n);
        return 0;
    }
    note_peak(&c->peak, now);
    note_peak(&proc_peak, atomic_fetch_add(&proc_live, n) + n);
    return 1;
}

/* Give back n > 0 bytes of c's; the last block of a released context
 * frees it. */
static void unreserve(kn_ctx *c, size_t n)
{
    atomic_fetch_sub(&proc_live, n);
    uint64_t old = atomic_fetch_sub(&c->live, n);
    if (old == (KN__CTX_RELEASED | n)) kn__ctx_destroy(c);
}

static void stamp(unsigned char *b, size_t n, kn_ctx *c)
{
    memcpy(b, &n, sizeof n);
    memcpy(b + sizeof n, &c, sizeof c);
}

static size_t size_of(const unsigned char *b, kn_ctx **c)
{
    size_t n;
    memcpy(&n, b, sizeof n);
    memcpy(c, b + sizeof n, sizeof *c);
    return n;
}

/* Large blocks ask for transparent huge pages before their first touch:
 * filling a fresh 128 MB block page by page costs more in page faults than
 * in copying (measured: 0.4 s of a 0.45 s ridge fit on a paravirtualised
 * machine); 2 MB pages cut the faults 512-fold. Only the 2 MB-aligned
 * interior of the block is advised (a hint: harmless to whatever reuses
 * that memory after the block is freed). */
#define HUGE_MIN ((size_t)16 << 20)
#define HUGE_PAGE ((uintptr_t)2 << 20)
static void advise_huge(void *b, size_t n)
{
#ifdef MADV_HUGEPAGE
    if (n < HUGE_MIN) return;
    uintptr_t lo = ((uintptr_t)b + HUGE_PAGE - 1) & ~(HUGE_PAGE - 1);
    uintptr_t hi = ((uintptr_t)b + n) & ~(HUGE_PAGE - 1);
    if (hi > lo) (void)madvise((void *)lo, hi - lo, MADV_HUGEPAGE);
#else
    (void)b;
    (void)n;
#endif
}

/* Tree learners allocate and free multi-megabyte buffers per node (a
 * histogram of 784 features is 3 MB). glibc serves such blocks by mmap or
 * trims them off the heap top when freed, so every reuse pays page faults
 * again (15 % of a Fashion-MNIST gbdt fit). Blocks under 64 MB then come
 * from the heap, and up to 256 MB of free heap top is kept. A user's own
 * malloc tunables win. This is the process's malloc, not Kiln's: the
 * application decides (the kiln binary calls it), never a constructor. */
void kn_mem_tune_process(void)
{
#if defined(__GLIBC__) && defined(M_MMAP_THRESHOLD) && defined(M_TRIM_THRESHOLD)
    const char *t = getenv("GLIBC_TUNABLES");
    if ((t && strstr(t, "glibc.malloc.")) || getenv("MALLOC_MMAP_THRESHOLD_") ||
        getenv("MALLOC_TRIM_THRESHOLD_"))
        return;
    mallopt(M_MMAP_THRESHOLD, 64 << 20);
    mallopt(M_TRIM_THRESHOLD, 256 << 20);
#endif
}

/* Reserve, allocate (zeroed when asked), and stamp the size header. */
static void *alloc(size_t n, int zero)
{
    if (n > SIZE_MAX - HDR) {
        kn_fail_nomem(n);
        return NULL;
    }
    kn_ctx *c = n ? kn__ctx_get() : NULL;
    if (c && !reserve(c, n)) return NULL;
    unsigned char *b = zero ? calloc(1, n + HDR) : malloc(n + HDR);
    if (!b) {
        if (c) unreserve(c, n);
        kn_fail_nomem(n);
        return NULL;
    }
    advise_huge(b, n + HDR);
    stamp(b, n, c);
    return b + HDR;
}

void *kn_malloc(size_t n)
{
    return alloc(n, 0);
}

void *kn_calloc(size_t count, size_t size)
{
    if (size && count > SIZE_MAX / size) {
        kn_fail(KN_ERR_NOMEM, "allocation of %zu x %zu bytes overflows", count, size);
        return NULL;
    }
    return alloc(count * size, 1);
}

void *kn_realloc(void *p, size_t n)
{
    if (!p) return kn_malloc(n);
    unsigned char *b = (unsigned char *)p - HDR;
    kn_ctx *c;
    size_t old = size_of(b, &c);
    if (n > SIZE_MAX - HDR) {
        kn_fail_nomem(n);
        return NULL;
    }
    /* the block stays charged to its context; a zero-byte one (charged to
     * none) takes the current one */
    kn_ctx *to = n ? (c ? c : kn__ctx_get()) : NULL;
    if (n > old && !reserve(to, n - old)) return NULL;
    unsigned char *nb = realloc(b, n + HDR);
    if (!nb) {
        if (n > old) unreserve(to, n - old);
        kn_fail_nomem(n);
        return NULL;
    }
    stamp(nb, n, to);
    if (n < old) unreserve(c, old - n); /* last: it may free a released context */
    return nb + HDR;
}

void kn_free(void *p)
{
    if (!p) return;
    unsigned char *b = (unsigned char *)p - HDR;
    kn_ctx *c;
    size_t n = size_of(b, &c);
    free(b);
    if (c) unreserve(c, n);
}

char *kn_strndup(const char *s, size_t n)
{
    char *d = kn_malloc(n + 1);
    if (!d) return NULL;
    memcpy(d, s, n);
    d[n] = '\0';
    return d;
}

char *kn_strdup(const char *s)
{
    return kn_strndup(s, strlen(s));
}

char *kn_sprintf(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0) {
        kn_fail(KN_ERR_INVALID, "a message could not be formatted");
        return NULL;
    }
    char *s = kn_malloc((size_t)n + 1);
    if (!s) return NULL;
    va_start(ap, fmt);
    vsnprintf(s, (size_t)n + 1, fmt, ap);
    va_end(ap);
    return s;
}

void kn_mem_set_limit(uint64_t bytes)
{
    atomic_store(&kn__ctx_get()->limit, bytes);
}

uint64_t kn_mem_limit(void)
{
    return atomic_load(&kn__ctx_get()->limit);
}

uint64_t kn_mem_live(void)
{
    return kn_ctx_mem_live(kn__ctx_get());
}

uint64_t kn_mem_peak(void)
{
    return atomic_load(&kn__ctx_get()->peak);
}

void kn_mem_reset_peak(void)
{
    kn_ctx *c = kn__ctx_get();
    atomic_store(&c->peak, kn_ctx_mem_live(c));
}

uint64_t kn_mem_process_live(void)
{
    return atomic_load(&proc_live);
}

uint64_t kn_mem_process_peak(void)
{
    return atomic_load(&proc_peak);
}

kn_status kn_mem_parse_size(const char *text, uint64_t *bytes)
{
    if (!text || !*text)
        return kn_fail(KN_ERR_INVALID, "empty memory size; write e.g. 2G, 512M or 1000000");
    char *end;
    double v = strtod(text, &end);
    if (end == text || v < 0 || v != v)
        return kn_fail(KN_ERR_INVALID, "memory size '%s' is not a number; write e.g. 2G or 512M",
                       text);
    double mult = 1;
    char u = (char)toupper((unsigned char)*end);
    if (u == 'K')
        mult = 1024.0;
    else if (u == 'M')
        mult = 1024.0 * 1024;
    else if (u == 'G')
        mult = 1024.0 * 1024 * 1024;
    else if (u == 'T')
        mult = 1024.0 * 1024 * 1024 * 1024;
    else if (u != '\0' && u != 'B')
        return kn_fail(KN_ERR_INVALID, "memory size '%s' has unknown unit '%s'; use K, M, G or T",
                       text, end);
    if (u && u != 'B') {
        end++;
        if (*end == 'i' || *end == 'I') end++;
        if (*end == 'B' || *end == 'b') end++;
    } else if (u == 'B') {
        end++;
    }
    if (*end) return kn_fail(KN_ERR_INVALID, "memory size '%s' has trailing text '%s'", text, end);
    double b = v * mult;
    if (b >= 18446744073709551615.0)
        return kn_fail(KN_ERR_RANGE, "memory size '%s' is too large", text);
    *bytes = (uint64_t)b;
    return KN_OK;
}

static void human_bytes(uint64_t n, char *buf, size_t cap)
{
    const char *u[] = {"B", "KiB", "MiB", "GiB", "TiB"};
    double v = (double)n;
    int i = 0;
    while (v >= 1024 && i < 4) {
        v /= 1024;
        i++;
    }
    snprintf(buf, cap, i ? "%.1f %s" : "%.0f %s", v, u[i]);
}

kn_status kn_fail_nomem(size_t n)
{
    return fail_nomem_in(kn__ctx_get(), n);
}

static kn_status fail_nomem_in(const kn_ctx *c, size_t n)
{
    char req[32], live[32], lim[32];
    human_bytes(n, req, sizeof req);
    human_bytes(kn_ctx_mem_live(c), live, sizeof live);
    uint64_t l = atomic_load(&c->limit);
    const char *stage = kn_stage_current();
    if (l) {
        human_bytes(l, lim, sizeof lim);
        return kn_fail(KN_ERR_NOMEM,
                       "memory limit exceeded in stage '%s': needed %s more with %s in use, "
                       "limit %s; raise the memory limit (kn_mem_set_limit, or "
                       "KILN_MEMORY_LIMIT) or use less data",
                       stage, req, live, lim);
    }
    return kn_fail(KN_ERR_NOMEM,
                   "out of memory in stage '%s': the system refused %s with %s in use", stage, req,
                   live);
}
