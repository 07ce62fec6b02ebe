/* .kst: fitted steps on disk (layout in step.h's comment on kn_steps_save). */
#include "data/io-impl.h"
#include "kiln/mem.h"
#include "kiln/registry.h"
#include "kiln/step.h"
#include "prep/prep-impl.h"

#include <sodium.h>
#include <string.h>

static const char kst_magic[8] = {'K', 'I', 'L', 'N', 'S', 'T', 'P', '\0'};
static const char kst_end[8] = {'K', 'S', 'T', 'E', 'N', 'D', '0', '1'};
#define KST_VERSION 1

kn_status kn_steps_save(kn_step *const *steps, size_t n, const char *path)
{
    if (sodium_init() < 0) return kn_fail(KN_ERR_INTERNAL, "libsodium failed to initialise");
    kn_wbuf w = {0};
    kn_wbuf_bytes(&w, kst_magic, 8);
    kn_wbuf_u32(&w, KST_VERSION);
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
    if (st == KN_OK) {
        unsigned char sum[32];
        if ((st = kn_wbuf_status(&w)) == KN_OK) {
            crypto_generichash(sum, sizeof sum, w.p, w.n, NULL, 0);
            kn_wbuf_bytes(&w, sum, sizeof sum);
            kn_wbuf_bytes(&w, kst_end, 8);
            st = kn_wbuf_status(&w);
        }
    }
    if (st == KN_OK) {
        kn_outfile out;
        st = kn__outfile_open(&out, path);
        if (st == KN_OK) {
            if (fwrite(w.p, 1, w.n, out.fp) != w.n) {
                kn__outfile_abort(&out);
                st = kn_fail(KN_ERR_IO, "writing %s failed", path);
            } else {
                st = kn__outfile_commit(&out);
            }
        }
    }
    kn_wbuf_free(&w);
    return st;
}

kn_status kn_steps_load(const char *path, kn_step ***out, size_t *n_out)
{
    if (sodium_init() < 0) return kn_fail(KN_ERR_INTERNAL, "libsodium failed to initialise");
    char *buf;
    size_t len;
    kn_status st = kn__slurp(path, &buf, &len);
    if (st != KN_OK) return st;
    kn_step **steps = NULL;
    size_t n = 0, done = 0;
    if (len < 8 + 4 + 8 + 40 || memcmp(buf, kst_magic, 8) != 0) {
        st = kn_fail(KN_ERR_CORRUPT, "%s: not a Kiln steps file (bad magic number)", path);
        goto done;
    }
    if (memcmp(buf + len - 8, kst_end, 8) != 0) {
        st = kn_fail(KN_ERR_CORRUPT, "%s: end marker missing (truncated?); re-create the file",
                     path);
        goto done;
    }
    unsigned char sum[32];
    crypto_generichash(sum, sizeof sum, (const unsigned char *)buf, len - 40, NULL, 0);
    if (memcmp(sum, buf + len - 40, 32) != 0) {
        st = kn_fail(KN_ERR_CORRUPT, "%s: checksum mismatch; the file is damaged, re-create it",
                     path);
        goto done;
    }
    kn_rbuf r = kn_rbuf_init(buf + 8, len - 8 - 40, path);
    uint32_t version;
    if ((st = kn_rbuf_u32(&r, &version)) != KN_OK) goto done;
    if (version > KST_VERSION) {
        st = kn_fail(KN_ERR_VERSION, "%s: steps file version %u is newer than this kiln reads (%u)",
                     path, version, KST_VERSION);
        goto done;
    }
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
