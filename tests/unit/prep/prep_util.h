/* Helpers for the prep tests: a small frame from CSV text, fit+transform. */
#ifndef KILN_PREP_UTIL_H
#define KILN_PREP_UTIL_H

#include "read_util.h"

#include "kiln/mem.h"
#include "kiln/step.h"

/* Fit `name` with the given "k=v" settings (NULL-terminated) on f and transform f. */
static inline kn_frame *fit_transform(const char *name, const char *const *set, kn_frame *f)
{
    kn_step *s;
    KN_CHECK(kn_step_new(name, &s));
    for (int i = 0; set && set[i]; i++) KN_CHECK(kn_step_set(s, set[i]));
    KN_CHECK(kn_step_fit(s, f));
    kn_frame *out;
    KN_CHECK(kn_step_transform(s, f, &out));
    kn_step_free(s);
    return out;
}

/* Save s to a .kst file and load it back: a new step (kn_step_free). */
static inline kn_step *save_and_reload(kn_step *s)
{
    const char *path = "/tmp/kiln-test-reload.kst";
    KN_CHECK(kn_steps_save(&s, 1, path));
    kn_step **loaded;
    size_t n;
    KN_CHECK(kn_steps_load(path, &loaded, &n));
    remove(path);
    assert_int_equal(n, 1);
    kn_step *out = loaded[0];
    kn_free(loaded);
    return out;
}

static inline double cell(kn_frame *f, size_t j, size_t i)
{
    return kn_column_f64(kn_frame_col(f, j))[i];
}

#endif
