/* Kiln: every public header. Link with -lkiln.
 *
 *     #include <kiln/kiln.h>
 *
 * Version: KN_VERSION_STRING at compile time, kn_version() at run time. */
#ifndef KILN_KILN_H
#define KILN_KILN_H

#include "kiln/core.h"
#include "kiln/demo.h"
#include "kiln/frame.h"
#include "kiln/io.h"
#include "kiln/kfr.h"
#include "kiln/log.h"
#include "kiln/mem.h"
#include "kiln/param.h"
#include "kiln/profile.h"
#include "kiln/registry.h"
#include "kiln/rng.h"
#include "kiln/stage.h"

#endif
