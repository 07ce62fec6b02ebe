/* Progress events of long loops (see progress.h). */
#include "kiln/progress.h"
#include "core/ctx-impl.h"

#include <time.h>
#ifdef _OPENMP
#include <omp.h>
#endif

void kn_progress_set_sink(kn_progress_sink fn, void *user)
{
    kn_ctx *c = kn__ctx_get();
    c->progress_fn = fn;
    c->progress_user = user;
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static int in_parallel(void)
{
#ifdef _OPENMP
    return omp_in_parallel();
#else
    return 0;
#endif
}

static int level(void)
{
#ifdef _OPENMP
    return omp_get_level();
#else
    return 0;
#endif
}

/* Whether the caller is the thread that began the loop: that thread, or
 * thread 0 of a region the loop opened (the same thread, as its master). */
static int beginner(const kn_progress *p)
{
#ifdef _OPENMP
    return omp_get_level() == p->level ||
           (omp_get_level() == p->level + 1 && omp_get_thread_num() == 0);
#else
    (void)p;
    return 1;
#endif
}

void kn_progress_begin(kn_progress *p, const char *task, const char *unit, uint64_t total)
{
    const kn_ctx *c = kn__ctx_get();
    *p = (kn_progress){.task = task,
                       .unit = unit,
                       .total = total,
                       .sink = c->progress_fn,
                       .sink_user = c->progress_user};
    p->reporting = p->sink && !in_parallel();
    p->level = level();
    if (p->reporting) p->start = p->last_event = now_s();
}

static void emit(kn_progress *p, uint64_t done, double t, int last)
{
    kn_progress_event ev = {.task = p->task,
                            .unit = p->unit,
                            .done = done,
                            .total = p->total,
                            .elapsed_s = t - p->start,
                            .remaining_s = -1,
                            .last = last};
    if (last)
        ev.remaining_s = 0;
    else if (p->total && done > 0 && done <= p->total)
        ev.remaining_s = ev.elapsed_s / (double)done * (double)(p->total - done);
    p->emitted = 1;
    p->last_event = t;
    p->sink(&ev, p->sink_user);
}

void kn_progress_step(kn_progress *p, uint64_t n)
{
    if (!p->reporting) return;
    uint64_t done;
#pragma omp atomic capture
    done = p->done += n;
    if (!beginner(p)) return;
    double t = now_s();
    if (t - p->start < KN_PROGRESS_AFTER_S || t - p->last_event < KN_PROGRESS_EVERY_S) return;
    emit(p, done, t, 0);
}

void kn_progress_end(kn_progress *p)
{
    if (p->reporting && p->emitted) emit(p, p->done, now_s(), 1);
    p->reporting = 0;
}
