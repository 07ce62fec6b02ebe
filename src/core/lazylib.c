/* Shared libraries loaded on first use (see lazylib-impl.h). */
#include "core/lazylib-impl.h"

#include <dlfcn.h>
#include <stdio.h>
#include <string.h>

void kn__lazylib_open(kn__lazylib *lib)
{
    /* RTLD_LOCAL: the library's symbols stay out of the global scope, so
     * nothing loaded later binds to them by accident */
    void *h = dlopen(lib->soname, RTLD_NOW | RTLD_LOCAL);
    if (!h) {
        const char *why = dlerror();
        snprintf(lib->error, sizeof lib->error,
                 "%s is needed here but cannot be loaded (%s); install Debian's package %s "
                 "(apt-get install %s)",
                 lib->name, why ? why : lib->soname, lib->package, lib->package);
        lib->failed = 1;
        return;
    }
    size_t n = 0;
    while (lib->symbols[n]) n++;
    /* resolve every symbol before the table is written: a library too old
     * for one of them leaves the table empty, not half filled */
    void *found[64];
    if (n > sizeof found / sizeof found[0]) {
        snprintf(lib->error, sizeof lib->error, "%s: %zu functions, more than the loader holds",
                 lib->name, n);
        lib->failed = 1;
        dlclose(h);
        return;
    }
    for (size_t i = 0; i < n; i++) {
        dlerror();
        found[i] = dlsym(h, lib->symbols[i]);
        if (!found[i]) {
            snprintf(lib->error, sizeof lib->error,
                     "%s (%s) has no function %s: it is older than the one Kiln was built "
                     "with; install a newer %s",
                     lib->name, lib->soname, lib->symbols[i], lib->package);
            lib->failed = 1;
            dlclose(h);
            return;
        }
    }
    /* a function pointer is stored as the object pointer dlsym gave (POSIX
     * guarantees they convert); memcpy keeps the conversion explicit */
    for (size_t i = 0; i < n; i++)
        memcpy((char *)lib->table + lib->offsets[i], &found[i], sizeof found[i]);
}

kn_status kn__lazylib_once(kn__lazylib *lib, pthread_once_t *once, void (*open)(void))
{
    if (pthread_once(once, open) != 0)
        return kn_fail(KN_ERR_INTERNAL, "%s: pthread_once failed", lib->name);
    if (lib->failed) return kn_fail(KN_ERR_UNSUPPORTED, "%s", lib->error);
    return KN_OK;
}
