/* store: runs, artifacts, cost, registry (register, promote with the gate,
 * rollback, archive, resolve), audit, lineage, the paired t-test, and
 * failed calls that leave the store unchanged. */
#include "test_util.h"

#include "kiln/distrib.h"
#include "kiln/mem.h"
#include "unit/store/store_util.h"

#include <math.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>

static const double folds_a[5] = {0.81, 0.83, 0.80, 0.82, 0.84};
static const double folds_b[5] = {0.80, 0.81, 0.80, 0.80, 0.82};

static kn_store *fresh(char *dir, size_t cap, const char *tag)
{
    test_store_dir(dir, cap, tag);
    kn_store *s = NULL;
    KN_CHECK(kn_store_open(dir, 1, &s));
    return s;
}

static char *add(kn_store *s, double auc, const char *artifact)
{
    test_run t;
    test_run_init(&t, "credit", auc, folds_a);
    char *id = NULL;
    KN_CHECK(kn_store_add_run(s, &t.info, artifact, artifact ? strlen(artifact) : 0, &id));
    return id;
}

/* A run with a real artifact (tag tells them apart) and the given schema. */
static char *add_real(kn_store *s, double auc, const char *tag, const char *schema)
{
    test_run t;
    test_run_init(&t, "credit", auc, folds_a);
    unsigned char *buf = NULL;
    size_t len = 0;
    test_artifact(tag, schema ? schema : test_schema_yaml, &buf, &len);
    char *id = NULL;
    KN_CHECK(kn_store_add_run(s, &t.info, buf, len, &id));
    kn_free(buf);
    return id;
}

static void open_missing_store(void **state)
{
    (void)state;
    kn_store *s = NULL;
    KN_CHECK_FAILS(kn_store_open("/tmp/kiln-no-such-store", 0, &s), KN_ERR_NOT_FOUND, "kiln run");
    assert_null(s);
    char dir[256];
    test_store_dir(dir, sizeof dir, "env");
    setenv("KILN_STORE", dir, 1);
    KN_CHECK(kn_store_open(NULL, 1, &s));
    assert_string_equal(kn_store_dir(s), dir);
    kn_store_close(s);
    unsetenv("KILN_STORE");
    KN_CHECK(kn_store_open(dir, 0, &s)); /* exists now */
    kn_store_close(s);
}

static void add_and_get_run(void **state)
{
    (void)state;
    char dir[256];
    kn_store *s = fresh(dir, sizeof dir, "get");
    const char *art = "KILNART1 pretend artifact bytes";
    char *id1 = add(s, 0.84, art), *id2 = add(s, 0.85, NULL);
    assert_string_equal(id1, "r000001");
    assert_string_equal(id2, "r000002");
    kn_run_record *r = NULL;
    KN_CHECK(kn_store_run_get(s, "r1", &r));
    assert_string_equal(r->id, "r000001");
    assert_string_equal(r->info.experiment, "credit");
    assert_string_equal(r->info.status, "finished");
    assert_string_equal(r->info.actor, "tester");
    assert_int_equal(r->info.seed, 42);
    assert_int_equal(r->info.n_params, 2);
    assert_string_equal(r->info.params[1], "learning_rate=0.1");
    assert_int_equal(r->info.n_metrics, 8);
    assert_string_equal(r->info.metrics[4].scope, "cv");
    assert_int_equal(r->info.metrics[4].fold, 2);
    assert_true(r->info.metrics[4].value == 0.80);
    assert_int_equal(r->info.n_stages, 2);
    assert_int_equal(r->info.stages[1].peak_rss, 2000000000);
    assert_int_equal(r->info.n_sources, 1);
    assert_int_equal(r->info.sources[0].rows, 5000);
    assert_non_null(r->artifact_path);
    char hex[65];
    KN_CHECK(kn_store_file_hash(r->artifact_path, hex));
    assert_string_equal(hex, r->artifact_hash);
    assert_int_equal(r->artifact_bytes, strlen(art));
    assert_true(strstr(r->artifact_path, "/artifacts/") != NULL);
    kn_prices p;
    KN_CHECK(kn_store_prices(s, &p));
    assert_true(fabs(r->cost - kn_run_cost(&p, r->info.stages, 2, strlen(art))) < 1e-15);
    kn_run_record_free(r);
    KN_CHECK(kn_store_run_get(s, "latest", &r));
    assert_string_equal(r->id, "r000002");
    assert_null(r->artifact_path);
    kn_run_record_free(r);
    KN_CHECK_FAILS(kn_store_run_get(s, "r9", &r), KN_ERR_NOT_FOUND, "r000002, r000001");
    uint64_t n = 0;
    KN_CHECK(kn_store_runs_count(s, NULL, &n));
    assert_int_equal(n, 2);
    KN_CHECK_FAILS(kn_store_runs_count(s, "nope", &n), KN_ERR_NOT_FOUND, "credit");
    kn_free(id1);
    kn_free(id2);
    kn_store_close(s);
}

typedef struct seen {
    int n;
    char ids[8][24];
    char metric[32];
} seen;

static int on_run(const kn_run_summary *r, void *user)
{
    seen *v = user;
    snprintf(v->ids[v->n++], 24, "%s", r->id);
    if (r->metric) snprintf(v->metric, sizeof v->metric, "%s:%s", r->metric_scope, r->metric);
    return v->n == 8;
}

static void list_runs(void **state)
{
    (void)state;
    char dir[256];
    kn_store *s = fresh(dir, sizeof dir, "list");
    for (int i = 0; i < 5; i++) kn_free(add(s, 0.8, NULL));
    seen v = {0};
    KN_CHECK(kn_store_runs_list(s, NULL, 3, on_run, &v));
    assert_int_equal(v.n, 3);
    assert_string_equal(v.ids[0], "r000005");
    assert_string_equal(v.ids[2], "r000003");
    assert_string_equal(v.metric, "test:roc_auc");
    memset(&v, 0, sizeof v);
    KN_CHECK(kn_store_runs_list(s, "credit", 0, on_run, &v));
    assert_int_equal(v.n, 5);
    KN_CHECK_FAILS(kn_store_runs_list(s, "other", 0, on_run, &v), KN_ERR_NOT_FOUND, "credit");
    kn_store_close(s);
}

static void cost_by_hand(void **state)
{
    (void)state;
    kn_prices p = {0.048, 0.0065, 0.023};
    kn_run_stage st[2] = {{"read", 1800, 3600, 2000000000}, {"fit", 3600, 7200, 1000000000}};
    /* 3 core-hours; 2 GB * 0.5 h + 1 GB * 1 h = 2 GB-hours; 0.5 GB-month */
    double want = 3 * 0.048 + 2 * 0.0065 + 0.5 * 0.023;
    assert_true(fabs(kn_run_cost(&p, st, 2, 500000000) - want) < 1e-15);
    assert_true(fabs(kn_run_cost(NULL, st, 2, 500000000) - want) < 1e-15);
    char dir[256];
    kn_store *s = fresh(dir, sizeof dir, "cost");
    setenv("KILN_PRICE_CORE_HOUR", "1.5", 1);
    KN_CHECK(kn_store_prices(s, &p));
    assert_true(p.core_hour == 1.5 && p.gb_hour == 0.0065);
    unsetenv("KILN_PRICE_CORE_HOUR");
    kn_store_close(s);
}

typedef struct audit_seen {
    int n;
    char rows[16][512];
} audit_seen;

static int on_audit(const kn_audit_entry *e, void *user)
{
    audit_seen *a = user;
    snprintf(a->rows[a->n++], 160, "%s %s v%d %s>%s %s %s", e->actor, e->action, e->version,
             e->from_stage ? e->from_stage : "-", e->to_stage ? e->to_stage : "-",
             e->run_id ? e->run_id : "-", e->reason ? e->reason : "-");
    return a->n == 16;
}

static int on_audit_detail(const kn_audit_entry *e, void *user)
{
    audit_seen *a = user;
    snprintf(a->rows[a->n++], sizeof a->rows[0], "%s", e->detail ? e->detail : "-");
    return a->n == 16;
}

static void registry_flow(void **state)
{
    (void)state;
    char dir[256];
    kn_store *s = fresh(dir, sizeof dir, "reg");
    char *r1 = add_real(s, 0.84, "one", NULL), *r2 = add_real(s, 0.86, "two", NULL),
         *r3 = add_real(s, 0.80, "three", NULL), *r4 = add_real(s, 0.845, "four", NULL);
    kn_gate_opts o;
    kn_gate_opts_default(&o);
    o.actor = "alice";
    int v = 0;
    KN_CHECK(kn_store_register(s, "credit", r1, "production", &o, &v));
    assert_int_equal(v, 1);
    KN_CHECK(kn_store_register(s, "credit", r2, "staging", &o, &v));
    assert_int_equal(v, 2);
    KN_CHECK(kn_store_register(s, "credit", r3, "none", &o, &v));
    assert_int_equal(v, 3);
    char *path = NULL, *run = NULL;
    KN_CHECK(kn_store_resolve(s, "credit@production", &path, &v, &run));
    assert_int_equal(v, 1);
    assert_string_equal(run, r1);
    char hex[65];
    KN_CHECK(kn_store_file_hash(path, hex));
    kn_free(path);
    kn_free(run);
    KN_CHECK(kn_store_resolve(s, "credit@staging", NULL, &v, NULL));
    assert_int_equal(v, 2);
    KN_CHECK(kn_store_resolve(s, "credit@v3", NULL, &v, NULL));
    assert_int_equal(v, 3);
    KN_CHECK(kn_store_resolve(s, "credit", NULL, &v, NULL));
    assert_int_equal(v, 1);
    KN_CHECK_FAILS(kn_store_resolve(s, "credit@v7", NULL, &v, NULL), KN_ERR_NOT_FOUND,
                   "v3 (none), v2 (staging), v1 (production)");
    KN_CHECK_FAILS(kn_store_resolve(s, "loans@production", NULL, &v, NULL), KN_ERR_NOT_FOUND,
                   "its models: credit");
    KN_CHECK_FAILS(kn_store_resolve(s, "credit@prod", NULL, &v, NULL), KN_ERR_INVALID,
                   "production, staging or vN");

    /* the gate: v3's AUC 0.80 is worse than production's 0.84 by more than 0.01 */
    char before[65], after[65];
    test_store_digest(dir, before);
    KN_CHECK_FAILS(kn_store_promote(s, "credit", 3, "production", &o), KN_ERR_REFUSED,
                   "held-out roc_auc 0.8 is worse than production v1's 0.84 by 0.04");
    o.force = 1;
    KN_CHECK_FAILS(kn_store_promote(s, "credit", 3, "production", &o), KN_ERR_INVALID, "reason");
    test_store_digest(dir, after);
    assert_string_equal(before, after);
    o.force = 0;
    KN_CHECK(kn_store_promote(s, "credit", 2, "production", &o)); /* 0.86: passes */
    KN_CHECK(kn_store_resolve(s, "credit@production", NULL, &v, NULL));
    assert_int_equal(v, 2);
    KN_CHECK_FAILS(kn_store_resolve(s, "credit@staging", NULL, &v, NULL), KN_ERR_NOT_FOUND,
                   "v2 (production)");
    /* a forced promotion with its reason, then rollbacks walk back */
    o.force = 1;
    o.reason = "hotfix for the holiday data";
    KN_CHECK(kn_store_promote(s, "credit", 3, "production", &o));
    o.force = 0;
    o.reason = NULL;
    KN_CHECK(kn_store_rollback(s, "credit", &o));
    KN_CHECK(kn_store_resolve(s, "credit@production", NULL, &v, NULL));
    assert_int_equal(v, 2);
    KN_CHECK(kn_store_rollback(s, "credit", &o));
    KN_CHECK(kn_store_resolve(s, "credit@production", NULL, &v, NULL));
    assert_int_equal(v, 1);
    KN_CHECK_FAILS(kn_store_rollback(s, "credit", &o), KN_ERR_NOT_FOUND, "first version");
    KN_CHECK_FAILS(kn_store_archive(s, "credit", 1, &o), KN_ERR_REFUSED, "in production");
    KN_CHECK(kn_store_promote(s, "credit", 3, "staging", &o));
    KN_CHECK(kn_store_archive(s, "credit", 3, &o));
    KN_CHECK_FAILS(kn_store_promote(s, "credit", 9, "staging", &o), KN_ERR_NOT_FOUND,
                   "its versions: v1, v2, v3");
    KN_CHECK_FAILS(kn_store_promote(s, "loans", 1, "staging", &o), KN_ERR_NOT_FOUND, "credit");
    KN_CHECK_FAILS(kn_store_promote(s, "credit", 2, "prod", &o), KN_ERR_INVALID, "production");
    /* v4 (0.845) passes against v1 (0.84) */
    KN_CHECK(kn_store_register(s, "credit", r4, "production", &o, &v));
    assert_int_equal(v, 4);

    audit_seen a = {0};
    KN_CHECK(kn_store_audit(s, "credit", 0, on_audit, &a));
    assert_int_equal(a.n, 16);
    audit_seen b = {0};
    KN_CHECK(kn_store_audit(s, NULL, 4, on_audit, &b));
    assert_int_equal(b.n, 4);
    assert_string_equal(b.rows[0], "alice promote v4 none>production r000004 -");
    assert_string_equal(b.rows[1], "alice replaced v1 production>archived r000001 -");
    assert_string_equal(b.rows[2], "alice register v4 ->none r000004 -");
    assert_string_equal(b.rows[3], "alice archive v3 staging>archived r000003 -");
    int forced = 0;
    for (int i = 0; i < a.n; i++)
        forced += !strcmp(a.rows[i], "alice promote (forced) v3 none>production r000003 hotfix "
                                     "for the holiday data");
    assert_int_equal(forced, 1);
    kn_free(r1);
    kn_free(r2);
    kn_free(r3);
    kn_free(r4);
    kn_store_close(s);
}

static void paired_t_test(void **state)
{
    (void)state;
    /* references: 1 - 2 * integral of the t density from 0 to |t| (Simpson,
     * 200,000 steps, in Python), and df 1: P(|T| > 1) = 1/2 exactly */
    assert_true(fabs(2 * (1 - kn_student_t_cdf(2.0, 5)) - 0.10193947882986476) < 1e-12);
    assert_true(fabs(2 * kn_student_t_cdf(-1.0, 1) - 0.5) < 1e-14);
    assert_true(fabs(2 * (1 - kn_student_t_cdf(3.5, 9)) - 0.006723515763067844) < 1e-12);
    assert_true(fabs(kn_student_t_cdf(1.7, 2) - (0.5 + 1.7 / (2 * sqrt(2 + 1.7 * 1.7)))) < 1e-14);
    assert_true(kn_student_t_cdf(0, 7) == 0.5);
    kn_paired_test t;
    KN_CHECK(kn_paired_ttest(folds_a, folds_b, 5, 1.0 / 4, &t));
    /* d = .01 .02 0 .02 .02: mean .014, var .00008; t = .014 / sqrt((1/5 + 1/4) .00008) */
    assert_true(fabs(t.t - 2.3333333333333357) < 1e-9);
    assert_true(fabs(t.p_value - 0.07995964654557719) < 1e-9);
    assert_true(t.df == 4);
    KN_CHECK(kn_paired_ttest(folds_a, folds_a, 5, 0.25, &t));
    assert_true(t.t == 0 && t.p_value == 1);
    KN_CHECK_FAILS(kn_paired_ttest(folds_a, folds_b, 1, 0.25, &t), KN_ERR_INVALID, "2 or more");
}

/* The artifact folder cannot take the file: nothing is recorded. */
static void unwritable_artifacts_change_nothing(void **state)
{
    (void)state;
    char dir[256], art[300], before[65], after[65];
    kn_store *s = fresh(dir, sizeof dir, "unwritable");
    kn_free(add(s, 0.8, "first"));
    test_store_digest(dir, before);
    snprintf(art, sizeof art, "%s/artifacts", dir);
    assert_int_equal(rename(art, "/tmp/kiln-store-test-moved"), 0);
    FILE *f = fopen(art, "w"); /* a file where the folder was */
    assert_non_null(f);
    fclose(f);
    test_run t;
    test_run_init(&t, "credit", 0.8, folds_a);
    char *id = NULL;
    KN_CHECK_FAILS(kn_store_add_run(s, &t.info, "second", 6, &id), KN_ERR_IO, "artifact");
    assert_null(id);
    test_store_digest(dir, after);
    assert_string_equal(before, after);
    remove(art);
    assert_int_equal(rename("/tmp/kiln-store-test-moved", art), 0);
    kn_store_close(s);
}

/* A file size limit (what a full disk looks like to a writer): the child's
 * add fails with a clear error and the store is unchanged. */
static void full_disk_changes_nothing(void **state)
{
    (void)state;
    char dir[256], before[65], after[65];
    kn_store *s = fresh(dir, sizeof dir, "full");
    kn_free(add(s, 0.8, "first"));
    kn_store_close(s);
    test_store_digest(dir, before);
    for (int big = 0; big < 2; big++) {
        pid_t pid = fork();
        if (pid == 0) {
            signal(SIGXFSZ, SIG_IGN);
            char db[300];
            snprintf(db, sizeof db, "%s/kiln.db", dir);
            struct stat sb;
            if (stat(db, &sb)) _exit(2);
            /* room for the database as it is and the WAL index, not for much more */
            rlim_t lim = (rlim_t)sb.st_size + (128u << 10);
            struct rlimit rl = {lim, lim};
            setrlimit(RLIMIT_FSIZE, &rl);
            kn_store *c = NULL;
            if (kn_store_open(dir, 1, &c)) _exit(3);
            size_t len = big ? (1u << 20) : 16;
            char *bytes = calloc(1, len);
            test_run t;
            test_run_init(&t, "credit", 0.8, folds_a);
            /* big: the artifact cannot be written; small: the database grows past the limit */
            static const char *many[20000];
            for (int i = 0; i < 20000; i++)
                many[i] = "a_parameter_with_a_long_name=some long value";
            if (!big) {
                t.info.params = many;
                t.info.n_params = 20000;
            }
            kn_status e = kn_store_add_run(c, &t.info, bytes, len, NULL);
            fprintf(stderr, "child %d: %s\n", big, kn_last_error());
            kn_store_close(c);
            _exit(e == KN_ERR_IO &&
                          (strstr(kn_last_error(), "full") || strstr(kn_last_error(), "failed"))
                      ? 0
                      : 4);
        }
        int status = 0;
        waitpid(pid, &status, 0);
        assert_true(WIFEXITED(status));
        assert_int_equal(WEXITSTATUS(status), 0);
    }
    test_store_digest(dir, after);
    assert_string_equal(before, after);
}

/* Two processes recording runs into one store at once: every run lands. */
static void two_writers(void **state)
{
    (void)state;
    char dir[256];
    kn_store *s = fresh(dir, sizeof dir, "two");
    kn_store_close(s);
    pid_t kids[2];
    for (int k = 0; k < 2; k++) {
        kids[k] = fork();
        if (kids[k] == 0) {
            kn_store *c = NULL;
            if (kn_store_open(dir, 1, &c)) _exit(3);
            for (int i = 0; i < 40; i++) {
                char art[64];
                snprintf(art, sizeof art, "artifact of writer %d run %d", k, i);
                test_run t;
                test_run_init(&t, k ? "b" : "a", 0.8, folds_a);
                if (kn_store_add_run(c, &t.info, art, strlen(art), NULL)) {
                    fprintf(stderr, "writer %d: %s\n", k, kn_last_error());
                    _exit(4);
                }
                char id[16];
                snprintf(id, sizeof id, "r%d", i + 1);
                kn_gate_opts o;
                kn_gate_opts_default(&o);
                if (i % 10 == 0 &&
                    kn_store_register(c, k ? "mb" : "ma", "latest", "staging", &o, NULL)) {
                    fprintf(stderr, "writer %d: %s\n", k, kn_last_error());
                    _exit(5);
                }
            }
            kn_store_close(c);
            _exit(0);
        }
    }
    for (int k = 0; k < 2; k++) {
        int status = 0;
        waitpid(kids[k], &status, 0);
        assert_true(WIFEXITED(status));
        assert_int_equal(WEXITSTATUS(status), 0);
    }
    KN_CHECK(kn_store_open(dir, 0, &s));
    uint64_t n = 0;
    KN_CHECK(kn_store_runs_count(s, NULL, &n));
    assert_int_equal(n, 80);
    KN_CHECK(kn_store_runs_count(s, "b", &n));
    assert_int_equal(n, 40);
    int v = 0;
    KN_CHECK(kn_store_resolve(s, "ma@staging", NULL, &v, NULL));
    assert_int_equal(v, 4);
    kn_store_close(s);
}

/* The gate's schema and latency checks, each refusal leaving the store as it was. */
static void gate_schema_and_latency(void **state)
{
    (void)state;
    char dir[256], before[65], after[65];
    kn_store *s = fresh(dir, sizeof dir, "gate");
    static const char no_city[] = "version: 1\ncolumns:\n  - {name: age, type: numeric}\n"
                                  "  - {name: income, type: numeric}\n";
    static const char city_text[] = "version: 1\ncolumns:\n  - {name: age, type: numeric}\n"
                                    "  - {name: city, type: string}\n"
                                    "  - {name: income, type: numeric}\n";
    static const char fewer_levels[] =
        "version: 1\ncolumns:\n  - {name: age, type: numeric}\n"
        "  - {name: city, type: categorical, categories: [paris, lyon]}\n"
        "  - {name: income, type: numeric}\n";
    static const char more_levels[] =
        "version: 1\ncolumns:\n  - {name: age, type: numeric}\n"
        "  - {name: city, type: categorical, categories: [paris, lyon, nice, lille]}\n"
        "  - {name: income, type: numeric}\n";
    char *r1 = add_real(s, 0.84, "one", NULL), *r2 = add_real(s, 0.85, "two", no_city),
         *r3 = add_real(s, 0.85, "three", city_text), *r4 = add_real(s, 0.85, "four", fewer_levels),
         *r5 = add_real(s, 0.85, "five", more_levels);
    kn_gate_opts o;
    kn_gate_opts_default(&o);
    KN_CHECK(kn_store_register(s, "m", r1, "production", &o, NULL));
    KN_CHECK(kn_store_register(s, "m", r2, "none", &o, NULL));
    KN_CHECK(kn_store_register(s, "m", r3, "none", &o, NULL));
    KN_CHECK(kn_store_register(s, "m", r4, "none", &o, NULL));
    KN_CHECK(kn_store_register(s, "m", r5, "staging", &o, NULL));
    test_store_digest(dir, before);
    KN_CHECK_FAILS(kn_store_promote(s, "m", 2, "production", &o), KN_ERR_REFUSED,
                   "production v1 requires column 'city' (categorical)");
    KN_CHECK_FAILS(kn_store_promote(s, "m", 3, "production", &o), KN_ERR_REFUSED,
                   "column 'city' is categorical in production v1 but string in the candidate");
    KN_CHECK_FAILS(kn_store_promote(s, "m", 4, "production", &o), KN_ERR_REFUSED,
                   "accepts 'nice' in production v1 but not in the candidate");
    o.latency_ms = 1e-9;
    KN_CHECK_FAILS(kn_store_promote(s, "m", 5, "production", &o), KN_ERR_REFUSED,
                   "over the budget of 1e-09 ms");
    KN_CHECK_FAILS(kn_store_register(s, "m", r5, "production", &o, NULL), KN_ERR_REFUSED,
                   "latency check failed");
    test_store_digest(dir, after);
    assert_string_equal(before, after);
    kn_gate_opts_default(&o);
    KN_CHECK(kn_store_promote(s, "m", 5, "production", &o)); /* levels may grow */
    audit_seen a = {0};
    KN_CHECK(kn_store_audit(s, "m", 1, on_audit_detail, &a));
    assert_non_null(strstr(a.rows[0],
                           "schema compatible; held-out roc_auc 0.85 vs production "
                           "v1 0.84, each on its own test rows: the candidate's test rows to "
                           "score production on cannot be had (the artifact keeps no lineage "
                           "to rebuild them from) (margin 0.01); latency "));
    kn_free(r1);
    kn_free(r2);
    kn_free(r3);
    kn_free(r4);
    kn_free(r5);
    kn_store_close(s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(open_missing_store),
        cmocka_unit_test(add_and_get_run),
        cmocka_unit_test(list_runs),
        cmocka_unit_test(cost_by_hand),
        cmocka_unit_test(registry_flow),
        cmocka_unit_test(paired_t_test),
        cmocka_unit_test(unwritable_artifacts_change_nothing),
        cmocka_unit_test(full_disk_changes_nothing),
        cmocka_unit_test(two_writers),
        cmocka_unit_test(gate_schema_and_latency),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
