/* Tracked temporary files of atomic writes (see tempfile.h). The table is
 * static and fixed so that a signal handler can walk it: a slot is claimed
 * with a compare-and-swap, filled, then published; the handler only reads
 * published slots and calls unlink(), which is async-signal-safe. */
#include "kiln/tempfile.h"
#include "kiln/mem.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

enum { SLOT_FREE = 0, SLOT_FILLING = 1, SLOT_LIVE = 2 };
enum { SLOT_PATH = 4096 };

static struct {
    int state;
    char path[SLOT_PATH];
} slots[KN_TEMP_TRACKED];

static void track(const char *tmp)
{
    size_t len = strlen(tmp);
    if (len >= SLOT_PATH) return; /* written all the same, untracked */
    for (size_t i = 0; i < KN_TEMP_TRACKED; i++) {
        int expected = SLOT_FREE;
        if (!__atomic_compare_exchange_n(&slots[i].state, &expected, SLOT_FILLING, 0,
                                         __ATOMIC_ACQUIRE, __ATOMIC_RELAXED))
            continue;
        memcpy(slots[i].path, tmp, len + 1);
        __atomic_store_n(&slots[i].state, SLOT_LIVE, __ATOMIC_RELEASE);
        return;
    }
}

static void untrack(const char *tmp)
{
    for (size_t i = 0; i < KN_TEMP_TRACKED; i++)
        if (__atomic_load_n(&slots[i].state, __ATOMIC_ACQUIRE) == SLOT_LIVE &&
            strcmp(slots[i].path, tmp) == 0) {
            __atomic_store_n(&slots[i].state, SLOT_FILLING, __ATOMIC_RELAXED);
            slots[i].path[0] = '\0';
            __atomic_store_n(&slots[i].state, SLOT_FREE, __ATOMIC_RELEASE);
            return;
        }
}

/* A target that exists and is not a regular file (a device such as
 * /dev/full or /dev/null, a FIFO) is written in place: renaming a file over
 * it would replace the device. */
static int write_in_place(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 && !S_ISREG(st.st_mode);
}

char *kn_temp_path(const char *path)
{
    if (write_in_place(path)) return kn_strdup(path);
    char *tmp = kn_sprintf("%s.tmp.%ld", path, (long)getpid());
    if (tmp) track(tmp);
    return tmp;
}

kn_status kn_temp_commit(char *tmp, const char *path)
{
    kn_status s = KN_OK;
    if (!strcmp(tmp, path)) { /* written in place */
        kn_free(tmp);
        return KN_OK;
    }
    if (rename(tmp, path) != 0) {
        s = kn_fail(KN_ERR_IO, "renaming %s to %s failed: %s", tmp, path, strerror(errno));
        remove(tmp);
    }
    untrack(tmp);
    kn_free(tmp);
    return s;
}

void kn_temp_discard(char *tmp)
{
    if (!tmp) return;
    if (!write_in_place(tmp)) remove(tmp);
    untrack(tmp);
    kn_free(tmp);
}

void kn_temp_remove_all(void)
{
    for (size_t i = 0; i < KN_TEMP_TRACKED; i++)
        if (__atomic_load_n(&slots[i].state, __ATOMIC_ACQUIRE) == SLOT_LIVE) unlink(slots[i].path);
}
