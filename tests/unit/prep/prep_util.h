/* Helpers for the prep tests: a small frame from CSV text, fit+transform. */
#ifndef KILN_PREP_UTIL_H
#define KILN_PREP_UTIL_H

#include "read_util.h"

#include "kiln/mem.h"
#include "kiln/step.h"

#include <stdio.h>
#include <string.h>
#include <unistd.h>

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
    /* one file per process: several test programs use this at once under ctest -j */
    char path[64];
    snprintf(path, sizeof path, "/tmp/kiln-test-reload-%d.kst", (int)getpid());
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

/* Same columns (names, types) and cells (numbers bit for bit, categories by text). */
static inline int frames_equal(kn_frame *a, kn_frame *b)
{
    if (kn_frame_n_rows(a) != kn_frame_n_rows(b) || kn_frame_n_cols(a) != kn_frame_n_cols(b))
        return 0;
    for (size_t j = 0; j < kn_frame_n_cols(a); j++) {
        kn_column *x = kn_frame_col(a, j), *y = kn_frame_col(b, j);
        if (strcmp(kn_column_name(x), kn_column_name(y)) || kn_column_type(x) != kn_column_type(y))
            return 0;
        for (size_t i = 0; i < kn_frame_n_rows(a); i++) {
            if (kn_column_type(x) == KN_COL_NUMERIC) {
                double u = kn_column_f64(x)[i], v = kn_column_f64(y)[i];
                if (memcmp(&u, &v, sizeof u) != 0) return 0;
            } else if (kn_column_type(x) == KN_COL_CATEGORICAL) {
                int32_t u = kn_column_codes(x)[i], v = kn_column_codes(y)[i];
                if ((u < 0) != (v < 0)) return 0;
                if (u >= 0 && strcmp(kn_column_level(x, u, NULL), kn_column_level(y, v, NULL)))
                    return 0;
            }
        }
    }
    return 1;
}

#endif
