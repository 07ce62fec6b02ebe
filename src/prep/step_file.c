/* .kst: fitted steps on disk (layout in step.h's comment on kn_steps_save). */
#include "kiln/container.h"
#include "kiln/mem.h"
#include "kiln/registry.h"
#include "kiln/step.h"
#include "prep/prep-impl.h"

#include <string.h>

static const char kst_magic[8] = {'K', 'I', 'L', 'N', 'S', 'T', 'P', '\0'};
#define KST_VERSION 2 /* 2: the shared container (end marker KCNEND01) */

kn_status kn_steps_save(kn_step *const *steps, size_t n, const char *path)
{
    kn_wbuf w = {0};
    kn_wbuf_u64(&w, n);
    kn_status st = KN_OK;
    for (size_t k = 0; k < n && st == KN_OK; k++) {
        if (!kn_step_is_fitted(steps[k])) {
            st = kn_fail(KN_ERR_INVALID, "step %zu ('%s') is not fitted; fit it before saving",
                         k + 1, kn_step_name(steps[k]));
            break;
        }
        st = kn__step_encode(steps[k], &w);
    }
    if (st == KN_OK) st = kn_container_write(path, kst_magic, KST_VERSION, &w);
    kn_wbuf_free(&w);
    return st;
}

kn_status kn_steps_load(const char *path, kn_step ***out, size_t *n_out)
{
    char *buf = NULL;
    kn_rbuf r;
    uint32_t version;
    kn_status st =
        kn_container_read(path, kst_magic, "steps file", KST_VERSION, &buf, &r, &version);
    if (st != KN_OK) return st;
    kn_step **steps = NULL;
    size_t n = 0, done = 0;
    if ((st = kn_rbuf_count(&r, 1, &n)) != KN_OK) goto done;
    steps = kn_calloc(n ? n : 1, sizeof *steps);
    if (!steps) {
        st = KN_ERR_NOMEM;
        goto done;
    }
    for (; done < n && st == KN_OK; done++) st = kn__step_decode(&r, &steps[done]);
    if (st == KN_OK && kn_rbuf_left(&r))
        st = kn_fail(KN_ERR_CORRUPT, "%s: trailing bytes after the last step", path);
done:
    kn_free(buf);
    if (st != KN_OK) {
        for (size_t k = 0; k < done && steps; k++) kn_step_free(steps[k]);
        kn_free(steps);
        return st;
    }
    *out = steps;
    *n_out = n;
    return KN_OK;
}
