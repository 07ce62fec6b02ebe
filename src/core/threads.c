/* Team sizes as OpenMP will grant them (see threads.h). */
#include "core/threads.h"

#ifdef _OPENMP
#include <omp.h>
#endif

int kn__threads_here(void)
{
#ifdef _OPENMP
    if (omp_get_active_level() >= omp_get_max_active_levels()) return 1;
    int n = omp_get_max_threads();
    return n > 0 ? n : 1;
#else
    return 1;
#endif
}
