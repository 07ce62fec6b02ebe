/* Helpers for the prep tests: a small frame from CSV text, fit+transform. */
#ifndef KILN_PREP_UTIL_H
#define KILN_PREP_UTIL_H

#include "read_util.h"

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

static inline double cell(kn_frame *f, size_t j, size_t i)
{
    return kn_column_f64(kn_frame_col(f, j))[i];
}

#endif
