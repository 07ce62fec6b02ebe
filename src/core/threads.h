/* Internal: how many threads a parallel region opened here really gets.
 *
 * omp_get_max_threads() is what a region would ask for, not what it gets:
 * inside an outer team (cross-validation's folds) nested regions are
 * inactive once the active-level limit is reached, and they run on one
 * thread whatever num_threads says. Code that splits work by thread number
 * must size its parts by the team it actually has (omp_get_num_threads()
 * inside the region) or by kn__threads_here() before it. */
#ifndef KILN_CORE_THREADS_H
#define KILN_CORE_THREADS_H

/* The team size a parallel region opened by the calling thread would get
 * without a num_threads clause (1 where nesting is exhausted or OpenMP is
 * off). */
int kn__threads_here(void);

#endif
