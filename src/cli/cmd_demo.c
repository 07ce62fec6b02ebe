/* kiln demo: the whole system on an embedded dataset. By default a
 * synthetic credit-default table, its spec and schema (examples/credit*.yaml,
 * embedded at build time) run end to end like `kiln run`, recorded and
 * registered in the store, with the HTML report; --dataset churn writes the
 * churn table and describes it. */
#include "cli/cli.h"
#include "demo_files.h"
#include "kiln/artifact.h"
#include "kiln/demo.h"
#include "kiln/mem.h"
#include "kiln/report.h"
#include "kiln/stage.h"
#include "kiln/store.h"
#include "kiln/tempfile.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

typedef struct demo_args {
    const char *out, *dataset, *store;
    int64_t rows;
    uint64_t seed;
} demo_args;

static const cli_opt demo_opts[] = {
    CLI_OPT_TEXT(demo_args, out, "out", "DIR", "where the files go (default: ./demo-out)"),
    CLI_OPT_CHOICE(demo_args, dataset, "dataset", "credit|churn",
                   "credit (default): the pipeline end to end; churn: write the churn table "
                   "and describe it"),
    CLI_OPT_INT(demo_args, rows, "rows", "N", "50000", 1, 1e9, "rows to generate"),
    CLI_OPT_SEED(demo_args, seed, "seed", "42", "seed of the generator"),
    CLI_OPT_TEXT(demo_args, store, "store", "DIR",
                 "the store to register the model in (default: $KILN_STORE, else ./kiln-store)"),
    CLI_OPT_END};

const cli_spec demo_spec = {
    "demo",
    "run the whole system on a generated credit-default dataset",
    "Generate a realistic synthetic credit-default dataset with Kiln's own code\n"
    "(50,000 loan applications: numeric, categorical and timestamp columns,\n"
    "missing values, duplicate and out-of-range rows, about 8 % defaults), write\n"
    "it with an example spec and schema to DIR (default ./demo-out), and run the\n"
    "spec end to end as `kiln run` does: validation with quarantine, preparation,\n"
    "a GBDT, 5-fold CV, a held-out test score, registration as the next version\n"
    "of model 'credit' (stage production) in the store, and the HTML report\n"
    "DIR/report.html. Ends with where everything went and the commands to try\n"
    "next. --dataset churn writes DIR/demo.csv (a churn table) and describes it.\n",
    "  kiln demo\n  kiln demo --out /tmp/demo --store /tmp/demo/store\n",
    demo_opts,
    0,
    cmd_demo};

static kn_status write_text(const char *path, const unsigned char *text, size_t len)
{
    char *tmp = kn_temp_path(path);
    FILE *fp = tmp ? fopen(tmp, "wb") : NULL;
    int ok = fp && fwrite(text, 1, len, fp) == len;
    if (fp && fclose(fp) != 0) ok = 0;
    if (ok) return kn_temp_commit(tmp, path);
    kn_temp_discard(tmp);
    return kn_fail(KN_ERR_IO, "%s: cannot write it: %s", path, strerror(errno));
}

static int churn(const char *dir, size_t rows, uint64_t seed)
{
    char *path = kn_sprintf("%s/demo.csv", dir);
    kn_frame *f;
    kn_stage_begin("generate");
    kn_status s = path ? kn_demo_frame(rows, seed, &f) : KN_ERR_NOMEM;
    if (s == KN_OK) {
        s = kn_frame_write(f, path, "csv");
        kn_frame_free(f);
    }
    kn_stage_end();
    if (s != KN_OK) {
        cli_error("demo: %s", kn_last_error());
        kn_free(path);
        return CLI_FAIL;
    }
    if (!cli.json) printf("wrote %zu rows to %s\n\n", rows, path);
    char *args[] = {"describe", path, NULL};
    int rc = cmd_describe(2, args);
    kn_free(path);
    return rc;
}

/* The report of the store's newest run (the one just made). */
static kn_status report(const char *store_dir, const char *path, char **run_id)
{
    kn_store *st = NULL;
    kn_run_record *rec = NULL;
    kn_artifact *a = NULL;
    kn_status e = kn_store_open(store_dir, 0, &st);
    if (e == KN_OK) e = kn_store_run_get(st, "latest", &rec);
    if (e == KN_OK && !rec->artifact_path) e = kn_fail(KN_ERR_NOT_FOUND, "the run has no artifact");
    if (e == KN_OK) e = kn_artifact_read(rec->artifact_path, NULL, &a);
    kn_report_opts o;
    kn_report_opts_default(&o);
    o.run = rec;
    o.source = rec ? rec->id : NULL;
    if (e == KN_OK) e = kn_report_write(a, &o, path);
    if (e == KN_OK) *run_id = kn_strdup(rec->id);
    kn_artifact_free(a);
    kn_run_record_free(rec);
    kn_store_close(st);
    return e;
}

static int credit(const demo_args *a, const char *dir, size_t rows)
{
    char *csv = kn_sprintf("%s/credit.csv", dir), *spec = kn_sprintf("%s/credit.yaml", dir),
         *schema = kn_sprintf("%s/credit_schema.yaml", dir),
         *html = kn_sprintf("%s/report.html", dir),
         *rejects = kn_sprintf("%s/credit.rejects.csv", dir);
    const char *store = a->store               ? a->store
                        : getenv("KILN_STORE") ? getenv("KILN_STORE")
                                               : "kiln-store";
    kn_frame *f = NULL;
    kn_stage_begin("generate");
    kn_status e =
        csv && spec && schema && html && rejects ? kn_demo_credit(rows, a->seed, &f) : KN_ERR_NOMEM;
    if (e == KN_OK) e = kn_frame_write(f, csv, "csv");
    if (e == KN_OK) e = write_text(spec, kn_demo_credit_spec, sizeof kn_demo_credit_spec - 1);
    if (e == KN_OK) e = write_text(schema, kn_demo_credit_schema, sizeof kn_demo_credit_schema - 1);
    kn_frame_free(f);
    kn_stage_end();
    int rc = CLI_OK;
    if (e != KN_OK) {
        cli_error("demo: %s", kn_last_error());
        rc = CLI_FAIL;
    }
    if (rc == CLI_OK && !cli.quiet && !cli.json)
        printf("wrote %zu loan applications to %s, the spec %s and its schema %s\n", rows, csv,
               spec, schema);
    if (rc == CLI_OK) {
        char *args[] = {"run", spec, "--store", (char *)store, NULL};
        rc = cmd_run(4, args);
    }
    char *run_id = NULL;
    if (rc == CLI_OK && report(store, html, &run_id) != KN_OK) {
        cli_error("demo: the report: %s", kn_last_error());
        rc = CLI_FAIL;
    }
    if (rc == CLI_OK && !cli.json) {
        printf("\nThe demo's files:\n"
               "  data        %s\n  spec        %s (schema %s)\n  quarantined %s\n"
               "  store       %s (runs, models, artifacts)\n  report      %s\n",
               csv, spec, schema, rejects, store, html);
        const char *k = cli.program;
        printf("\nTry next:\n"
               "  %s predict --model credit@production --data %s --store %s --out scored.csv\n"
               "  %s runs list --store %s\n"
               "  %s runs show %s --store %s\n"
               "  %s models versions credit --store %s\n"
               "  %s report credit@production --store %s --out report.html\n"
               "  %s run %s --seed 7 --store %s      # a second version to compare\n",
               k, csv, store, k, store, k, run_id, store, k, store, k, store, k, spec, store);
    }
    kn_free(run_id);
    kn_free(csv);
    kn_free(spec);
    kn_free(schema);
    kn_free(html);
    kn_free(rejects);
    return rc;
}

int cmd_demo(int argc, char **argv)
{
    demo_args a = {0};
    int rc = cli_parse(&demo_spec, argc, argv, &a, NULL);
    if (rc) return rc < 0 ? CLI_OK : rc;
    const char *dir = a.out ? a.out : "demo-out";
    int is_churn = a.dataset && !strcmp(a.dataset, "churn");
    size_t rows = (size_t)a.rows;
    if (!is_churn && rows < 1000)
        return cli_usage_error("demo",
                               "--rows %zu: the credit demo's schema wants at least 1000 "
                               "rows (a smaller file would fail its own validation); "
                               "use --rows 1000 or more, or --dataset churn",
                               rows);
    if (mkdir(dir, 0777) != 0 && errno != EEXIST) {
        cli_error("cannot create %s: %s", dir, strerror(errno));
        return CLI_FAIL;
    }
    return is_churn ? churn(dir, rows, a.seed) : credit(&a, dir, rows);
}
