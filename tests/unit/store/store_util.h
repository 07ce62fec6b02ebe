/* Helpers of the store tests: a scratch store folder, a run to record, and
 * a digest of every row of a store (to check a failed call changed nothing). */
#ifndef KILN_TEST_STORE_UTIL_H
#define KILN_TEST_STORE_UTIL_H

#include "kiln/artifact.h"
#include "kiln/io.h"
#include "kiln/mem.h"
#include "kiln/store.h"

#include <sodium.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* A new empty folder under /tmp (static buffer per call site). */
static inline void test_store_dir(char *buf, size_t cap, const char *tag)
{
    snprintf(buf, cap, "/tmp/kiln-store-test-%d-%s-XXXXXX", (int)getpid(), tag);
    if (!mkdtemp(buf)) fail_msg("mkdtemp %s failed", buf);
    test_remove_at_exit(buf);
}

/* BLAKE2b of every row of every table of DIR/kiln.db, as hex. */
static inline void test_store_digest(const char *dir, char hex[65])
{
    char path[512];
    snprintf(path, sizeof path, "%s/kiln.db", dir);
    sqlite3 *db = NULL;
    if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK)
        fail_msg("cannot open %s", path);
    crypto_generichash_state h;
    crypto_generichash_init(&h, NULL, 0, 32);
    sqlite3_stmt *tables = NULL;
    sqlite3_prepare_v2(db, "SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name", -1,
                       &tables, NULL);
    while (sqlite3_step(tables) == SQLITE_ROW) {
        char sql[256];
        snprintf(sql, sizeof sql, "SELECT * FROM \"%s\"", sqlite3_column_text(tables, 0));
        sqlite3_stmt *rows = NULL;
        if (sqlite3_prepare_v2(db, sql, -1, &rows, NULL) != SQLITE_OK) fail_msg("%s", sql);
        crypto_generichash_update(&h, (const unsigned char *)sql, strlen(sql));
        while (sqlite3_step(rows) == SQLITE_ROW)
            for (int j = 0; j < sqlite3_column_count(rows); j++) {
                const unsigned char *t = sqlite3_column_text(rows, j);
                crypto_generichash_update(&h, t ? t : (const unsigned char *)"\1NULL",
                                          t ? strlen((const char *)t) + 1 : 6);
            }
        sqlite3_finalize(rows);
    }
    sqlite3_finalize(tables);
    sqlite3_close(db);
    unsigned char sum[32];
    crypto_generichash_final(&h, sum, sizeof sum);
    for (int i = 0; i < 32; i++) snprintf(hex + 2 * i, 3, "%02x", sum[i]);
}

/* A finished run of `model` with a test AUC, CV folds and one source. */
typedef struct test_run {
    kn_run_info info;
    kn_run_metric metrics[8];
    kn_run_stage stages[2];
    kn_run_source sources[1];
    const char *params[2];
} test_run;

static inline void test_run_init(test_run *t, const char *experiment, double auc,
                                 const double folds[5])
{
    memset(t, 0, sizeof *t);
    t->params[0] = "n_estimators=100";
    t->params[1] = "learning_rate=0.1";
    t->metrics[0] = (kn_run_metric){"roc_auc", "test", -1, auc};
    t->metrics[1] = (kn_run_metric){"roc_auc", "cv_mean", -1, auc};
    for (int i = 0; i < 5; i++) t->metrics[2 + i] = (kn_run_metric){"roc_auc", "cv", i, folds[i]};
    t->metrics[7] = (kn_run_metric){"accuracy", "test", -1, 0.9};
    t->stages[0] = (kn_run_stage){"read", 1.0, 2.0, 100000000};
    t->stages[1] = (kn_run_stage){"fit", 10.0, 36.0, 2000000000};
    t->sources[0] =
        (kn_run_source){"loans", "file", "loans.csv",
                        "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef", 5000};
    t->info.experiment = experiment;
    t->info.status = "finished";
    t->info.start = 1.7e9;
    t->info.end = 1.7e9 + 11;
    t->info.spec = "model: gbdt\n";
    t->info.spec_hash = "feed";
    t->info.seed = 42;
    t->info.folds_hash = "folds-1";
    t->info.model = "gbdt";
    t->info.n_params = 2;
    t->info.params = t->params;
    t->info.n_metrics = 8;
    t->info.metrics = t->metrics;
    t->info.n_stages = 2;
    t->info.stages = t->stages;
    t->info.n_sources = 1;
    t->info.sources = t->sources;
    t->info.rows_in = 5000;
    t->info.rows_kept = 4900;
    t->info.actor = "tester";
}

/* A real artifact: a fitted imputer + one-hot + logistic regression on ten
 * rows, with the given input schema and a spec text that tells artifacts
 * apart. *buf is new (kn_free). */
static const char test_schema_yaml[] =
    "version: 1\n"
    "columns:\n"
    "  - {name: age, type: numeric, min: 18, max: 90}\n"
    "  - {name: city, type: categorical, categories: [paris, lyon, nice]}\n"
    "  - {name: income, type: numeric}\n";

static inline void test_artifact(const char *tag, const char *schema, unsigned char **buf,
                                 size_t *len)
{
    static const char csv[] = "age,city,income,label\n31,paris,2.5,yes\n,lyon,1.0,no\n"
                              "45,paris,,yes\n22,nice,0.7,no\n38,lyon,2.2,yes\n29,,1.1,no\n"
                              "51,nice,3.0,yes\n24,paris,0.9,no\n33,lyon,1.9,yes\n27,nice,1.2,no\n";
    char path[128];
    snprintf(path, sizeof path, "/tmp/kiln-store-test-%d.csv", (int)getpid());
    FILE *f = fopen(path, "w");
    if (!f || fwrite(csv, 1, sizeof csv - 1, f) != sizeof csv - 1) fail_msg("writing %s", path);
    fclose(f);
    kn_read_opts o;
    kn_read_opts_default(&o);
    kn_frame *fr = NULL;
    KN_CHECK(kn_frame_read(path, &o, &fr, NULL));
    remove(path);
    kn_pipeline *p = NULL;
    KN_CHECK(kn_pipeline_new(&p));
    KN_CHECK(kn_pipeline_add_step_spec(p, "simple_imputer:strategy=median"));
    KN_CHECK(kn_pipeline_add_step_spec(p, "onehot_encoder:columns=city"));
    KN_CHECK(kn_pipeline_set_model_spec(p, "logistic_regression", NULL, 0));
    KN_CHECK(kn_pipeline_set_target(p, "label", NULL));
    KN_CHECK(kn_pipeline_fit(p, fr, NULL));
    kn_artifact *a = NULL;
    KN_CHECK(kn_artifact_new(&a));
    KN_CHECK(kn_artifact_set_pipeline(a, p));
    KN_CHECK(kn_artifact_set(a, KN_ART_SPEC, tag, strlen(tag)));
    KN_CHECK(kn_artifact_set(a, KN_ART_SCHEMA, schema, strlen(schema)));
    KN_CHECK(kn_artifact_encode(a, NULL, buf, len));
    kn_artifact_free(a);
    kn_pipeline_free(p);
    kn_frame_free(fr);
}

#endif
