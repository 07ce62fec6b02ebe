/* kiln lineage MODEL@vN | RUN, kiln lineage --data FILE: where a model came
 * from, and which runs and models used given data bytes. */
#include "cli/cli.h"
#include "kiln/mem.h"
#include "kiln/store.h"

#include <stdlib.h>
#include <string.h>

typedef struct lineage_args {
    const char *store, *ref, *data;
} lineage_args;

static const cli_opt lineage_opts[] = {
    CLI_OPT_ARG(lineage_args, ref, "MODEL@vN|RUN", 0,
                "a model version (NAME@vN, NAME@production, NAME@staging) or a run"),
    CLI_OPT_TEXT(lineage_args, data, "data", "FILE",
                 "list the runs and models that read exactly these bytes"),
    CLI_OPT_TEXT(lineage_args, store, "store", "DIR",
                 "the store (default $KILN_STORE, else ./kiln-store)"),
    CLI_OPT_END};

const cli_spec lineage_spec = {
    "lineage",
    "where a model came from, and what used a data file",
    "kiln lineage MODEL@vN shows the run that made a model version: its spec hash,\n"
    "seed, CV folds, the sources it read (BLAKE2b of their bytes or query text, row\n"
    "counts), the artifact, and its chain of parent runs. A run id works too.\n"
    "kiln lineage --data FILE hashes FILE (BLAKE2b-256 of its bytes) and lists the\n"
    "runs that read those exact bytes and the model versions made from them.\n",
    "  kiln lineage credit@v2\n  kiln lineage credit@production --json\n"
    "  kiln lineage --data loans.csv\n",
    lineage_opts,
    0,
    cmd_lineage};

static json_t *str(const char *s)
{
    return s ? json_string(s) : json_null();
}

typedef struct uses {
    json_t *arr;
    int n;
    char last_run[24];
} uses;

static int on_use(const kn_data_use *u, void *user)
{
    uses *x = user;
    int new_run = strcmp(x->last_run, u->run_id) != 0;
    snprintf(x->last_run, sizeof x->last_run, "%s", u->run_id);
    if (x->arr) {
        json_t *last = new_run ? NULL : json_array_get(x->arr, json_array_size(x->arr) - 1);
        if (!last) {
            last =
                json_pack("{s:s, s:o, s:o, s:I, s:[]}", "run", u->run_id, "source", str(u->source),
                          "location", str(u->location), "rows", (json_int_t)u->rows, "models");
            json_array_append_new(x->arr, last);
        }
        if (u->model)
            json_array_append_new(json_object_get(last, "models"),
                                  json_pack("{s:s, s:i, s:s}", "model", u->model, "version",
                                            u->version, "stage", u->stage));
    } else {
        if (new_run)
            printf("run %s read it as source %s (%s, %llu rows)\n", u->run_id,
                   u->source ? u->source : "-", u->location ? u->location : "-",
                   (unsigned long long)u->rows);
        if (u->model) printf("  -> model %s v%d (%s)\n", u->model, u->version, u->stage);
    }
    x->n += new_run;
    return 0;
}

static int data_lineage(kn_store *s, const char *file)
{
    char hex[65];
    if (kn_store_file_hash(file, hex)) return cli_store_fail(s);
    uses x = {cli.json ? json_array() : NULL, 0, ""};
    if (!cli.json) printf("%s: blake2b %s\n", file, hex);
    if (kn_store_data_uses(s, hex, on_use, &x)) {
        json_decref(x.arr);
        return cli_store_fail(s);
    }
    int rc = CLI_OK;
    if (cli.json)
        rc = cli_emit_json(json_pack("{s:s, s:s, s:s, s:s, s:o, s:o}", "command", "lineage",
                                     "store", kn_store_dir(s), "data", file, "hash", hex, "runs",
                                     x.arr, "stages", cli_stages_json()));
    else if (!x.n)
        printf("no run in store %s read these bytes\n", kn_store_dir(s));
    kn_store_close(s);
    return rc;
}

static int looks_like_run(const char *ref)
{
    if (!strcmp(ref, "latest")) return 1;
    const char *p = ref + (ref[0] == 'r');
    if (!*p) return 0;
    for (; *p; p++)
        if (*p < '0' || *p > '9') return 0;
    return 1;
}

int cmd_lineage(int argc, char **argv)
{
    lineage_args a = {0};
    int rc = cli_parse(&lineage_spec, argc, argv, &a, NULL);
    if (rc) return rc < 0 ? CLI_OK : rc;
    if (!a.ref == !a.data)
        return cli_usage_error("lineage", "give a model version (NAME@vN) or a run, or --data "
                                          "FILE (one of them)");
    kn_store *s = NULL;
    if ((rc = cli_store_open(a.store, 0, &s))) return rc;
    if (a.data) return data_lineage(s, a.data);
    char *run = NULL;
    int version = 0;
    int is_run = looks_like_run(a.ref);
    if (!is_run && kn_store_resolve(s, a.ref, NULL, &version, &run)) return cli_store_fail(s);
    kn_run_record *r = NULL;
    if (kn_store_run_get(s, is_run ? a.ref : run, &r)) {
        kn_free(run);
        return cli_store_fail(s);
    }
    kn_free(run);
    /* the chain of parents (at most 50) */
    json_t *parents = json_array();
    char *next = r->info.parent_run ? strdup(r->info.parent_run) : NULL;
    for (int depth = 0; next && depth < 50; depth++) {
        kn_run_record *p = NULL;
        if (kn_store_run_get(s, next, &p)) break;
        json_array_append_new(parents,
                              json_pack("{s:s, s:o, s:o}", "run", p->id, "spec_hash",
                                        str(p->info.spec_hash), "model", str(p->info.model)));
        free(next);
        next = p->info.parent_run ? strdup(p->info.parent_run) : NULL;
        kn_run_record_free(p);
    }
    free(next);
    if (cli.json) {
        json_t *o = json_pack("{s:s, s:s, s:s}", "command", "lineage", "store", kn_store_dir(s),
                              "ref", a.ref);
        json_object_set_new(o, "version", version ? json_integer(version) : json_null());
        json_object_set_new(o, "run", cli_run_json(r));
        json_object_set_new(o, "parents", parents);
        json_object_set_new(o, "stages", cli_stages_json());
        rc = cli_emit_json(o);
    } else {
        const kn_run_info *in = &r->info;
        if (version) printf("%s is version %d, made by run %s\n", a.ref, version, r->id);
        printf("run %s (experiment %s, %s), model %s, seed %llu\n", r->id, in->experiment,
               in->status, in->model ? in->model : "-", (unsigned long long)in->seed);
        printf("  spec     %s\n  folds    %s\n", in->spec_hash ? in->spec_hash : "-",
               in->folds_hash ? in->folds_hash : "-");
        if (r->artifact_path) printf("  artifact %s\n", r->artifact_path);
        for (size_t i = 0; i < in->n_sources; i++) {
            const kn_run_source *x = &in->sources[i];
            printf("  source %s (%s %s): %llu rows, blake2b %s\n", x->name ? x->name : "-",
                   x->kind ? x->kind : "-", x->location ? x->location : "-",
                   (unsigned long long)x->rows, x->hash ? x->hash : "-");
        }
        size_t i;
        json_t *p;
        json_array_foreach(parents, i, p)
        {
            printf("  parent   %s (spec %s)\n", json_string_value(json_object_get(p, "run")),
                   json_is_string(json_object_get(p, "spec_hash"))
                       ? json_string_value(json_object_get(p, "spec_hash"))
                       : "-");
        }
        if (!json_array_size(parents)) printf("  parent   none\n");
        json_decref(parents);
    }
    kn_run_record_free(r);
    kn_store_close(s);
    return rc;
}
