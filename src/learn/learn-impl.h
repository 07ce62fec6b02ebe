/* Internal: the model components (registered in builtin.c). */
#ifndef KILN_LEARN_IMPL_H
#define KILN_LEARN_IMPL_H

#include "kiln/registry.h"

extern const kn_component kn__linear_regression, kn__ridge;

#endif
