/* store durability: children record runs with artifacts and are killed
 * with SIGKILL at random moments, 60 times; the store must then open, pass
 * SQLite's integrity check, hold no row pointing at a missing or partial
 * artifact (every artifact file re-hashed), and list its runs. */
#include "test_util.h"

#include "kiln/mem.h"
#include "kiln/rng.h"
#include "unit/store/store_util.h"

#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>

enum { KILLS = 60 };

static void writer(const char *dir, int child, int done_fd)
{
    kn_store *s = NULL;
    if (kn_store_open(dir, 1, &s)) _exit(3);
    kn_rng r;
    kn_rng_init_stream(&r, 17, (uint64_t)child);
    for (int i = 0;; i++) {
        size_t len = 1000 + (size_t)kn_rng_below(&r, 3u << 20);
        unsigned char *bytes = malloc(len);
        if (!bytes) _exit(4);
        for (size_t j = 0; j < len; j += 8) {
            uint64_t v = kn_rng_next(&r);
            memcpy(bytes + j, &v, len - j < 8 ? len - j : 8);
        }
        test_run t;
        static const double folds[5] = {0.8, 0.8, 0.8, 0.8, 0.8};
        test_run_init(&t, "durable", 0.8, folds);
        char *id = NULL;
        if (kn_store_add_run(s, &t.info, bytes, len, &id)) _exit(5);
        kn_gate_opts o;
        kn_gate_opts_default(&o);
        if (i % 3 == 0 && kn_store_register(s, "durable", id, "staging", &o, NULL)) _exit(6);
        kn_free(id);
        free(bytes);
        if (write(done_fd, "x", 1) != 1) _exit(7); /* one more run recorded */
    }
}

static int count_run(const kn_run_summary *r, void *user)
{
    (void)r;
    ++*(int *)user;
    return 0;
}

static void killed_writers_leave_a_sound_store(void **state)
{
    (void)state;
    char dir[256];
    test_store_dir(dir, sizeof dir, "durable");
    kn_rng r;
    kn_rng_init(&r, 2026);
    for (int k = 0; k < KILLS; k++) {
        int fds[2];
        assert_int_equal(pipe(fds), 0);
        pid_t pid = fork();
        assert_true(pid >= 0);
        if (pid == 0) {
            close(fds[0]);
            writer(dir, k, fds[1]);
        }
        close(fds[1]);
        /* every other writer is killed after its first run (however slow
           this build is), the others from the start: then 0 to 60 ms on,
           anywhere from opening the store to several runs in */
        char c;
        if (k % 2 == 0 && read(fds[0], &c, 1) != 1) fail_msg("writer %d stopped early", k);
        struct timespec ts = {0, (long)kn_rng_below(&r, 60000) * 1000L};
        nanosleep(&ts, NULL);
        kill(pid, SIGKILL);
        int status = 0;
        waitpid(pid, &status, 0);
        close(fds[0]);
        if (!WIFSIGNALED(status)) fail_msg("writer %d ended with status %d", k, status);
    }

    char path[512];
    snprintf(path, sizeof path, "%s/kiln.db", dir);
    sqlite3 *db = NULL;
    assert_int_equal(sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE, NULL), SQLITE_OK);
    sqlite3_stmt *st = NULL;
    sqlite3_prepare_v2(db, "PRAGMA integrity_check", -1, &st, NULL);
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    assert_string_equal((const char *)sqlite3_column_text(st, 0), "ok");
    sqlite3_finalize(st);
    sqlite3_prepare_v2(db, "PRAGMA foreign_key_check", -1, &st, NULL);
    assert_int_equal(sqlite3_step(st), SQLITE_DONE); /* no run without its artifact row */
    sqlite3_finalize(st);
    /* every recorded artifact is whole: its file's hash is its name */
    sqlite3_prepare_v2(db, "SELECT hash, path, bytes FROM artifacts", -1, &st, NULL);
    int artifacts = 0;
    while (sqlite3_step(st) == SQLITE_ROW) {
        char file[600], hex[65];
        snprintf(file, sizeof file, "%s/%s", dir, (const char *)sqlite3_column_text(st, 1));
        struct stat sb;
        if (stat(file, &sb)) fail_msg("artifact %s is missing", file);
        assert_int_equal((uint64_t)sb.st_size, (uint64_t)sqlite3_column_int64(st, 2));
        KN_CHECK(kn_store_file_hash(file, hex));
        assert_string_equal(hex, (const char *)sqlite3_column_text(st, 0));
        artifacts++;
    }
    sqlite3_finalize(st);
    sqlite3_prepare_v2(db, "SELECT count(*) FROM runs WHERE artifact_hash IS NULL", -1, &st, NULL);
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    assert_int_equal(sqlite3_column_int(st, 0), 0);
    sqlite3_finalize(st);
    sqlite3_close(db);
    print_message("%d kills, %d artifacts recorded, all whole\n", KILLS, artifacts);

    kn_store *s = NULL;
    KN_CHECK(kn_store_open(dir, 0, &s));
    uint64_t n = 0;
    KN_CHECK(kn_store_runs_count(s, NULL, &n));
    assert_int_equal(n, (uint64_t)artifacts); /* each artifact distinct, one per run */
    int listed = 0;
    KN_CHECK(kn_store_runs_list(s, NULL, 50, count_run, &listed));
    assert_int_equal(listed, n < 50 ? (int)n : 50);
    assert_true(n > 0);
    /* the store still takes writes */
    test_run t;
    static const double folds[5] = {0.8, 0.8, 0.8, 0.8, 0.8};
    test_run_init(&t, "durable", 0.8, folds);
    KN_CHECK(kn_store_add_run(s, &t.info, "after", 5, NULL));
    kn_store_close(s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {cmocka_unit_test(killed_writers_leave_a_sound_store)};
    return cmocka_run_group_tests(tests, NULL, NULL);
}
