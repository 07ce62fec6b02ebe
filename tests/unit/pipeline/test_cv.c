/* kn_cv_run's per-fold callback (kiln/cv.h): it hears every fold in fold
 * order with the fold's score, whatever the thread count; stopping after a
 * fold keeps exactly the folds up to it, with the scores of the full run. */
#include "test_util.h"

#include "kiln/cv.h"
#include "kiln/ctx.h"
#include "kiln/init.h"
#include "kiln/io.h"

#include <math.h>
#include <stdint.h>
#include <stdlib.h>

static kn_frame *read_data(const char *name)
{
    char path[512];
    const char *dir = getenv("KILN_TEST_DATA");
    snprintf(path, sizeof path, "%s/%s", dir ? dir : "tests/data", name);
    kn_read_opts o;
    kn_read_opts_default(&o);
    kn_frame *f = NULL;
    KN_CHECK(kn_frame_read(path, &o, &f, NULL));
    return f;
}

typedef struct heard {
    size_t n, stop_after;
    size_t fold[16];
    double score[16];
} heard;

static int on_fold(size_t fold, size_t k, double score, int higher_is_better, void *user)
{
    heard *h = user;
    assert_int_equal(k, 6);
    assert_true(higher_is_better); /* accuracy */
    h->fold[h->n] = fold;
    h->score[h->n++] = score;
    return fold == h->stop_after;
}

static void run(const kn_frame *f, int threads, size_t stop_after, heard *h, kn_cv_result *r)
{
    static const char *const params[] = {"n_estimators=10"};
    kn_cv_spec s = {.model = "gbdt", .target = "Class", .params = params, .n_params = 1};
    kn_split_opts_default(&s.split);
    s.split.folds = 6;
    s.split.shuffle = 1;
    s.split.seed = 5;
    s.threads = threads;
    s.on_fold = on_fold;
    s.fold_user = h;
    h->n = 0;
    h->stop_after = stop_after;
    KN_CHECK(kn_cv_run(f, &s, r));
}

static void test_fold_hook(void **state)
{
    (void)state;
    kn_init();
    kn_frame *f = read_data("vehicle.csv");
    for (int threads = 1; threads <= 3; threads++) {
        heard all, part;
        kn_cv_result full, cut;
        run(f, threads, SIZE_MAX, &all, &full);
        assert_int_equal(all.n, 6);
        assert_int_equal(full.k, 6);
        assert_false(full.stopped);
        for (size_t i = 0; i < 6; i++) {
            assert_int_equal(all.fold[i], i);
            assert_true(all.score[i] == full.score[i * full.n_scores]);
        }
        run(f, threads, 2, &part, &cut);
        assert_int_equal(part.n, 3); /* folds 0, 1, 2: none after the stop */
        assert_true(cut.stopped);
        assert_int_equal(cut.k, 3);
        assert_int_equal(cut.k_planned, 6);
        double sum = 0;
        for (size_t i = 0; i < 3; i++) {
            assert_int_equal(part.fold[i], i);
            assert_true(cut.score[i * cut.n_scores] == full.score[i * full.n_scores]);
            sum += cut.score[i * cut.n_scores];
        }
        assert_true(fabs(cut.mean[0] - sum / 3) < 1e-12);
        kn_cv_result_free(&full);
        kn_cv_result_free(&cut);
    }
    kn_frame_free(f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {cmocka_unit_test(test_fold_hook)};
    return cmocka_run_group_tests(tests, NULL, NULL);
}
