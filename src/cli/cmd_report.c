/* kiln report RUN|MODEL@vN|FILE.kiln --out report.html: the HTML report of
 * a run (kiln/report.h). */
#include "cli/cli.h"
#include "kiln/artifact.h"
#include "kiln/mem.h"
#include "kiln/report.h"
#include "kiln/stage.h"
#include "kiln/store.h"

#include <errno.h>
#include <string.h>
#include <sys/stat.h>

typedef struct report_args {
    const char *ref, *out, *store, *title, *verify_key;
} report_args;

static const cli_opt report_opts[] = {
    CLI_OPT_ARG(report_args, ref, "RUN|MODEL@vN|FILE", 1,
                "a run id (or \"latest\"), a model version (credit@v2, credit@production) or "
                "an artifact file (.kiln)"),
    CLI_OPT_NEED(report_args, out, "out", "FILE", "where to write the HTML report"),
    CLI_OPT_TEXT(report_args, store, "store", "DIR",
                 "the store that holds runs and models (default: $KILN_STORE, else "
                 "./kiln-store)"),
    CLI_OPT_TEXT(report_args, title, "title", "TEXT", "the page heading"),
    CLI_OPT_TEXT(report_args, verify_key, "verify-key", "FILE",
                 "refuse an artifact that this public key (kiln keygen) did not sign"),
    CLI_OPT_END};

const cli_spec report_spec = {
    "report",
    "write a run's HTML report (curves, confusion matrix, model card)",
    "Write one self-contained HTML file (inline CSS and SVG, no scripts, no\n"
    "network) about a run: a summary; ROC and precision-recall curves, the\n"
    "confusion matrix and the calibration curve for a classifier, residuals for\n"
    "a regressor, all on the held-out test rows; feature importance; the CV score\n"
    "of each fold; rows read, quarantined and deduplicated; the data profile;\n"
    "resources and cost per stage (from the store); and a model card (intended\n"
    "use from the spec's description, data with hashes, metrics beside the\n"
    "baseline, limits, lineage). A section without data says so in one line.\n"
    "The same artifact and run give the same bytes.\n",
    "  kiln report model.kiln --out report.html\n"
    "  kiln report credit@production --out credit.html\n"
    "  kiln report r000012 --out r12.html --store runs/\n",
    report_opts,
    0,
    cmd_report};

static int is_file(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 && S_ISREG(st.st_mode);
}

int cmd_report(int argc, char **argv)
{
    report_args a = {0};
    int rc = cli_parse(&report_spec, argc, argv, &a, NULL);
    if (rc) return rc < 0 ? CLI_OK : rc;
    unsigned char key[KN_ARTIFACT_PUBLIC_KEY_BYTES];
    if (a.verify_key && kn_artifact_key_load(a.verify_key, 0, key) != KN_OK) {
        cli_error("%s", kn_last_error());
        return CLI_FAIL;
    }
    /* a file, else a run or a model version in the store */
    kn_store *store = NULL;
    kn_run_record *rec = NULL;
    const char *path = NULL;
    char *run_id = NULL;
    kn_status e = KN_OK;
    if (!is_file(a.ref)) {
        e = kn_store_open(a.store, 0, &store);
        if (e == KN_OK && strchr(a.ref, '@')) {
            e = kn_store_resolve(store, a.ref, NULL, NULL, &run_id);
            if (e == KN_OK) e = kn_store_run_get(store, run_id, &rec);
        } else if (e == KN_OK) {
            e = kn_store_run_get(store, a.ref, &rec);
            if (e == KN_ERR_NOT_FOUND &&
                kn_store_resolve(store, a.ref, NULL, NULL, &run_id) == KN_OK)
                e = kn_store_run_get(store, run_id, &rec); /* a model's name */
            else if (e == KN_ERR_NOT_FOUND)
                e = kn_fail(KN_ERR_NOT_FOUND,
                            "report: %s is neither a file, a run nor a model in the store %s; "
                            "'kiln runs list' and 'kiln models list' show what it holds",
                            a.ref, kn_store_dir(store));
        }
        if (e == KN_OK && !rec->artifact_path)
            e = kn_fail(KN_ERR_NOT_FOUND, "report: run %s kept no artifact (status %s)", rec->id,
                        rec->info.status ? rec->info.status : "unknown");
        if (e == KN_OK) path = rec->artifact_path;
    } else {
        path = a.ref;
    }
    kn_artifact *art = NULL;
    if (e == KN_OK) {
        kn_stage_begin("load");
        e = kn_artifact_read(path, a.verify_key ? key : NULL, &art);
        kn_stage_end();
    }
    kn_report_opts o;
    kn_report_opts_default(&o);
    o.title = a.title;
    o.source = a.ref;
    o.run = rec;
    if (e == KN_OK) {
        kn_stage_begin("report");
        e = kn_report_write(art, &o, a.out);
        kn_stage_end();
    }
    kn_artifact_free(art);
    kn_free(run_id);
    kn_run_record_free(rec);
    kn_store_close(store);
    if (e != KN_OK) {
        cli_error("%s", kn_last_error());
        return CLI_FAIL;
    }
    if (cli.json) {
        json_t *j = json_pack("{s:s, s:s, s:o}", "report", a.out, "from", a.ref, "stages",
                              cli_stages_json());
        return cli_emit_json(j);
    }
    if (!cli.quiet) printf("report: wrote %s (from %s)\n", a.out, a.ref);
    return CLI_OK;
}
