/* The locks that requests take on every row (kn__serve_lock_init). */
#define _GNU_SOURCE /* PTHREAD_MUTEX_ADAPTIVE_NP */
#include "serve/serve-impl.h"

#include <pthread.h>

void kn__serve_lock_init(pthread_mutex_t *mu)
{
    /* Adaptive: a thread that finds the lock taken spins a little before
     * it sleeps. These locks are held for tens of nanoseconds by request
     * threads that meet on them all the time; a plain mutex then sleeps
     * and wakes through the kernel (futex calls, the largest cost of
     * monitoring in a profile of bench/serve on a virtual machine). */
    pthread_mutexattr_t a;
    if (pthread_mutexattr_init(&a) != 0) {
        pthread_mutex_init(mu, NULL);
        return;
    }
    if (pthread_mutexattr_settype(&a, PTHREAD_MUTEX_ADAPTIVE_NP) != 0 ||
        pthread_mutex_init(mu, &a) != 0)
        pthread_mutex_init(mu, NULL);
    pthread_mutexattr_destroy(&a);
}
