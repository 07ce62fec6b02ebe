/* Interned text (see intern-impl.h): an open-addressing hash set of strings
 * under one mutex. Entries are never removed; the set grows by doubling. */
#include "core/intern-impl.h"
#include "core/ctx-impl.h"
#include "kiln/mem.h"

#include <pthread.h>
#include <stdint.h>
#include <string.h>

static pthread_mutex_t pool_lock = PTHREAD_MUTEX_INITIALIZER;
static char **slots; /* NULL = empty */
static size_t n_slots, n_used;

static uint64_t hash_text(const char *s, size_t len)
{
    uint64_t h = 1469598103934665603ull; /* FNV-1a */
    for (size_t i = 0; i < len; i++) h = (h ^ (unsigned char)s[i]) * 1099511628211ull;
    return h;
}

static size_t find_slot(char **table, size_t n, const char *s, size_t len)
{
    size_t i = (size_t)hash_text(s, len) & (n - 1);
    while (table[i] && (strncmp(table[i], s, len) || table[i][len])) i = (i + 1) & (n - 1);
    return i;
}

static int grow(void)
{
    size_t n = n_slots ? 2 * n_slots : 64;
    char **t = kn_calloc(n, sizeof *t);
    if (!t) return 0;
    for (size_t i = 0; i < n_slots; i++)
        if (slots[i]) t[find_slot(t, n, slots[i], strlen(slots[i]))] = slots[i];
    kn_free(slots);
    slots = t;
    n_slots = n;
    return 1;
}

const char *kn__intern(const char *s, size_t len)
{
    const char *out = NULL;
    /* kept for the life of the process: charged to the default context, not
     * to the run that happened to intern it first */
    kn_ctx *run = kn__ctx_swap(NULL);
    pthread_mutex_lock(&pool_lock);
    if ((n_used + 1) * 2 <= n_slots || grow()) {
        size_t i = find_slot(slots, n_slots, s, len);
        if (!slots[i] && (slots[i] = kn_strndup(s, len))) n_used++;
        out = slots[i];
    }
    pthread_mutex_unlock(&pool_lock);
    kn__ctx_swap(run);
    return out;
}
