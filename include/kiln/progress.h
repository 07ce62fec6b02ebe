/* Progress of long loops (boosting rounds, trees, solver iterations), handed
 * to a sink the caller installs; the library never prints. A loop reports
 * through a kn_progress it owns:
 *
 *     kn_progress p;
 *     kn_progress_begin(&p, "gbdt", "round", n_rounds);
 *     for (r = 0; r < n_rounds; r++) { ...; kn_progress_step(&p, 1); }
 *     kn_progress_end(&p);
 *
 * Events start only once the loop has run for KN_PROGRESS_AFTER_S seconds
 * (short fits stay silent) and come at most every KN_PROGRESS_EVERY_S
 * seconds, with a last one (done == total or the count reached) at the end
 * when any came before. The estimate of the time left assumes the units cost
 * alike; for solvers `total` is the iteration limit, so it is an upper bound.
 *
 * Threading: a loop begun inside a parallel region (a cross-validation fold
 * fitted beside others) reports nothing: the caller reports the folds. Steps
 * may come from the threads of a region the loop opens (trees grown in
 * parallel); only the thread that began the loop calls the sink.
 */
#ifndef KILN_PROGRESS_H
#define KILN_PROGRESS_H

#include "kiln/core.h"

#ifdef __cplusplus
extern "C" {
#endif

#define KN_PROGRESS_AFTER_S 1.0
#define KN_PROGRESS_EVERY_S 0.25

typedef struct kn_progress_event {
    const char *task; /* "gbdt", "random_forest", ... */
    const char *unit; /* "round", "tree", "iteration" */
    uint64_t done;
    uint64_t total;     /* 0 when unknown */
    double elapsed_s;   /* since kn_progress_begin */
    double remaining_s; /* estimate; negative when unknown */
    int last;           /* the loop has ended */
} kn_progress_event;

typedef void (*kn_progress_sink)(const kn_progress_event *ev, void *user);

/* Install the current run context's sink (kiln/ctx.h; NULL removes it: the
 * loops then cost a branch). A loop reports to the sink of the context
 * current when it began. */
KN_API void kn_progress_set_sink(kn_progress_sink fn, void *user);

typedef struct kn_progress {
    const char *task, *unit;
    uint64_t done, total;
    double start, last_event;
    int level;             /* OpenMP nesting level at the start */
    int reporting;         /* a sink is set and the loop runs outside a parallel region */
    int emitted;           /* an event has gone out */
    kn_progress_sink sink; /* the context's, at the start */
    void *sink_user;
} kn_progress;

KN_API void kn_progress_begin(kn_progress *p, const char *task, const char *unit, uint64_t total);
/* n more units done (any thread of a region the loop opened). */
KN_API void kn_progress_step(kn_progress *p, uint64_t n);
KN_API void kn_progress_end(kn_progress *p);

#ifdef __cplusplus
}
#endif
#endif
