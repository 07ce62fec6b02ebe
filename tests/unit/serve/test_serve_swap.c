/* kiln serve's versions (src/serve/swap.c, model.c) without a server: the
 * readers' guard under a writer swapping thousands of times (every
 * snapshot a reader holds is whole and alive until it drops it, and each
 * one is freed exactly once: ASan and TSan builds check both), and what
 * makes a new version incompatible with the one serving. */
#include "test_util.h"

#include "kiln/mem.h"
#include "serve/serve-impl.h"

#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>

enum { READERS = 4, SWAPS = 5000 };

static kn__serve_snap *snap_new(int n)
{
    kn__serve_snap *sn = kn_calloc(1, sizeof *sn);
    assert_non_null(sn);
    char v[16];
    snprintf(v, sizeof v, "%d", n);
    sn->m.version = kn_strdup(v);
    sn->reg_version = n;
    sn->m.load_s = n;
    atomic_init(&sn->refs, 1);
    return sn;
}

typedef struct shared {
    kn__serve_slot sl;
    _Atomic int stop, ready;
    _Atomic long reads, bad;
} shared;

static void read_once(shared *sh)
{
    kn__serve_snap *sn = kn__serve_slot_get(&sh->sl, KN__SNAP_MAIN);
    /* the snapshot is whole while held: its fields agree */
    char v[16];
    snprintf(v, sizeof v, "%d", sn->reg_version);
    if (strcmp(v, sn->m.version) || sn->m.load_s != sn->reg_version) atomic_fetch_add(&sh->bad, 1);
    kn__serve_snap_put(sn);
    atomic_fetch_add(&sh->reads, 1);
}

/* Reads once, says it is running, then reads until told to stop (on a
 * loaded machine the writer's swaps could all end before a reader ran). */
static void *reader(void *arg)
{
    shared *sh = arg;
    read_once(sh);
    atomic_fetch_add(&sh->ready, 1);
    while (!atomic_load(&sh->stop)) read_once(sh);
    return NULL;
}

static void guard_under_swaps(void **state)
{
    (void)state;
    static shared sh;
    memset(&sh, 0, sizeof sh);
    pthread_mutex_init(&sh.sl.lock, NULL);
    atomic_store(&sh.sl.snap[KN__SNAP_MAIN], snap_new(1));
    pthread_t t[READERS];
    for (int i = 0; i < READERS; i++) assert_int_equal(pthread_create(&t[i], NULL, reader, &sh), 0);
    while (atomic_load(&sh.ready) < READERS) sched_yield(); /* the swaps run under the readers */
    for (int n = 2; n <= SWAPS; n++) {
        pthread_mutex_lock(&sh.sl.lock);
        kn__serve_snap *old = kn__serve_slot_swap(&sh.sl, KN__SNAP_MAIN, snap_new(n));
        pthread_mutex_unlock(&sh.sl.lock);
        assert_int_equal(old->reg_version, n - 1);
        kn__serve_snap_put(old);
    }
    atomic_store(&sh.stop, 1);
    for (int i = 0; i < READERS; i++) pthread_join(t[i], NULL);
    assert_int_equal(atomic_load(&sh.bad), 0);
    assert_true(atomic_load(&sh.reads) > 0);
    kn__serve_snap *last = atomic_load(&sh.sl.snap[KN__SNAP_MAIN]);
    assert_int_equal(last->reg_version, SWAPS);
    assert_int_equal(atomic_load(&last->refs), 1);
    kn__serve_slot_free(&sh.sl); /* frees the last one */
}

/* A regression model's request contract, by hand. */
static char *n_old[] = {"a", "b", "c"};
static kn_col_type t_old[] = {KN_COL_NUMERIC, KN_COL_CATEGORICAL, KN_COL_INT64};
static unsigned char r_old[] = {1, 0, 0};

static kn__serve_model model(char **names, kn_col_type *types, unsigned char *req, size_t n,
                             const char *version)
{
    kn__serve_model m;
    memset(&m, 0, sizeof m);
    m.in.n = n;
    m.in.names = names;
    m.in.types = types;
    m.in.required = req;
    m.version = (char *)version;
    return m;
}

static void compatible(void **state)
{
    (void)state;
    char why[512];
    kn__serve_model old = model(n_old, t_old, r_old, 3, "1");
    /* the same contract, and one with a new optional column */
    char *n_more[] = {"c", "a", "b", "d"};
    kn_col_type t_more[] = {KN_COL_INT64, KN_COL_NUMERIC, KN_COL_STRING, KN_COL_NUMERIC};
    unsigned char r_more[] = {0, 1, 0, 0};
    kn__serve_model nw = model(n_old, t_old, r_old, 3, "2");
    assert_int_equal(kn__serve_model_compatible(&old, &nw, why, sizeof why), 0);
    nw = model(n_more, t_more, r_more, 4, "2");
    assert_int_equal(kn__serve_model_compatible(&old, &nw, why, sizeof why), 0);
    /* a column dropped: clients that send it would get 400 */
    nw = model(n_old, t_old, r_old, 2, "2");
    assert_int_equal(kn__serve_model_compatible(&old, &nw, why, sizeof why), -1);
    assert_non_null(strstr(why, "'c'"));
    /* a column retyped (number to text) */
    kn_col_type t_text[] = {KN_COL_NUMERIC, KN_COL_CATEGORICAL, KN_COL_STRING};
    nw = model(n_old, t_text, r_old, 3, "2");
    assert_int_equal(kn__serve_model_compatible(&old, &nw, why, sizeof why), -1);
    assert_non_null(strstr(why, "INT64"));
    /* a column newly required, or a new required one */
    unsigned char r_b[] = {1, 1, 0};
    nw = model(n_old, t_old, r_b, 3, "2");
    assert_int_equal(kn__serve_model_compatible(&old, &nw, why, sizeof why), -1);
    assert_non_null(strstr(why, "'b'"));
    unsigned char r_d[] = {0, 1, 0, 1};
    nw = model(n_more, t_more, r_d, 4, "2");
    assert_int_equal(kn__serve_model_compatible(&old, &nw, why, sizeof why), -1);
    assert_non_null(strstr(why, "'d'"));
    /* another task */
    nw = model(n_old, t_old, r_old, 3, "2");
    nw.n_classes = 2;
    assert_int_equal(kn__serve_model_compatible(&old, &nw, why, sizeof why), -1);
    assert_non_null(strstr(why, "classifier"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(guard_under_swaps),
        cmocka_unit_test(compatible),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
