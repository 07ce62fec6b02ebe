/* Kiln: every public header. Link with -lkiln.
 *
 *     #include <kiln/kiln.h>
 *
 * Version: KN_VERSION_STRING at compile time, kn_version() at run time. */
#ifndef KILN_KILN_H
#define KILN_KILN_H

#include "kiln/artifact.h"
#include "kiln/brent.h"
#include "kiln/codec.h"
#include "kiln/combine.h"
#include "kiln/component.h"
#include "kiln/compare.h"
#include "kiln/container.h"
#include "kiln/core.h"
#include "kiln/ctx.h"
#include "kiln/cv.h"
#include "kiln/demo.h"
#include "kiln/evaluate.h"
#include "kiln/frame.h"
#include "kiln/importance.h"
#include "kiln/init.h"
#include "kiln/io.h"
#include "kiln/json.h"
#include "kiln/kfr.h"
#include "kiln/log.h"
#include "kiln/mem.h"
#include "kiln/metrics.h"
#include "kiln/model.h"
#include "kiln/param.h"
#include "kiln/pipeline.h"
#include "kiln/prep_spec.h"
#include "kiln/reader.h"
#include "kiln/profile.h"
#include "kiln/progress.h"
#include "kiln/registry.h"
#include "kiln/report.h"
#include "kiln/rng.h"
#include "kiln/run.h"
#include "kiln/schema.h"
#include "kiln/serve.h"
#include "kiln/sketch.h"
#include "kiln/source.h"
#include "kiln/split.h"
#include "kiln/stage.h"
#include "kiln/step.h"
#include "kiln/store.h"
#include "kiln/sum.h"
#include "kiln/tempfile.h"
#include "kiln/tune.h"

#endif
