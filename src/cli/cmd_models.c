/* kiln models list|versions|promote|rollback|archive|audit: the registry. */
#include "cli/cli.h"
#include "kiln/mem.h"
#include "kiln/stage.h"
#include "kiln/store.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#define STORE_OPT(T)                                                                               \
    CLI_OPT_TEXT(T, store, "store", "DIR", "the store (default $KILN_STORE, else ./kiln-store)")

static json_t *str(const char *s)
{
    return s ? json_string(s) : json_null();
}

/* "3" or "v3" -> 3; CLI_USAGE when it is neither. */
static int version_arg(const char *cmd, const char *text, int *v)
{
    const char *p = text + (text[0] == 'v' || text[0] == 'V');
    char *end = NULL;
    errno = 0;
    long x = strtol(p, &end, 10);
    if (!*p || *end || errno || x < 1 || x > 1000000000)
        return cli_usage_error(cmd, "VERSION '%s' is a version number (3 or v3)", text);
    *v = (int)x;
    return CLI_OK;
}

/* ---- list ---- */

typedef struct list_args {
    const char *store;
} list_args;
static const cli_opt list_opts[] = {STORE_OPT(list_args), CLI_OPT_END};
static int cmd_models_list(int argc, char **argv);
static const cli_spec list_spec = {
    "models list",
    "list registered models",
    "List the registered models: versions, the version in production and in\n"
    "staging, and the time of the last change (UTC).\n",
    "  kiln models list\n",
    list_opts,
    0,
    cmd_models_list};

static int on_model(const kn_registered_model *m, void *user)
{
    json_t *arr = user;
    char t[32];
    if (arr) {
        json_array_append_new(
            arr, json_pack("{s:s, s:i, s:i, s:o, s:o, s:f, s:f}", "name", m->name, "versions",
                           m->versions, "latest", m->latest, "production",
                           m->production ? json_integer(m->production) : json_null(), "staging",
                           m->staging ? json_integer(m->staging) : json_null(), "created",
                           m->created, "updated", m->updated));
        return 0;
    }
    char prod[16] = "-", stag[16] = "-";
    if (m->production) snprintf(prod, sizeof prod, "v%d", m->production);
    if (m->staging) snprintf(stag, sizeof stag, "v%d", m->staging);
    printf("%-24s  %8d  %-10s  %-10s  %s\n", m->name, m->versions, prod, stag,
           cli_store_time(m->updated, t, sizeof t));
    return 0;
}

static int cmd_models_list(int argc, char **argv)
{
    list_args a = {0};
    int rc = cli_parse(&list_spec, argc, argv, &a, NULL);
    if (rc) return rc < 0 ? CLI_OK : rc;
    kn_store *s = NULL;
    if ((rc = cli_store_open(a.store, 0, &s))) return rc;
    json_t *arr = cli.json ? json_array() : NULL;
    if (!cli.json)
        printf("%-24s  %8s  %-10s  %-10s  %s\n", "MODEL", "VERSIONS", "PRODUCTION", "STAGING",
               "UPDATED (UTC)");
    if (kn_store_models_list(s, on_model, arr)) {
        json_decref(arr);
        return cli_store_fail(s);
    }
    if (cli.json)
        rc = cli_emit_json(json_pack("{s:s, s:s, s:o, s:o}", "command", "models list", "store",
                                     kn_store_dir(s), "models", arr, "stages", cli_stages_json()));
    kn_store_close(s);
    return rc;
}

/* ---- versions ---- */

typedef struct versions_args {
    const char *store, *name;
} versions_args;
static const cli_opt versions_opts[] = {CLI_OPT_ARG(versions_args, name, "NAME", 1, "the model"),
                                        STORE_OPT(versions_args), CLI_OPT_END};
static int cmd_models_versions(int argc, char **argv);
static const cli_spec versions_spec = {
    "models versions",
    "list a model's versions",
    "List a model's versions, newest first: stage, the run that made it, its\n"
    "artifact and when it was registered (UTC).\n",
    "  kiln models versions credit\n",
    versions_opts,
    0,
    cmd_models_versions};

static int on_version(const kn_model_version *v, void *user)
{
    json_t *arr = user;
    char t[32];
    if (arr) {
        json_array_append_new(arr,
                              json_pack("{s:i, s:s, s:s, s:o, s:f, s:o}", "version", v->version,
                                        "stage", v->stage, "run", v->run_id, "artifact_hash",
                                        str(v->artifact_hash), "created", v->created, "replaced",
                                        v->replaced ? json_integer(v->replaced) : json_null()));
        return 0;
    }
    printf("v%-7d  %-10s  %-8s  %-19s  %.16s\n", v->version, v->stage, v->run_id,
           cli_store_time(v->created, t, sizeof t), v->artifact_hash ? v->artifact_hash : "-");
    return 0;
}

static int cmd_models_versions(int argc, char **argv)
{
    versions_args a = {0};
    int rc = cli_parse(&versions_spec, argc, argv, &a, NULL);
    if (rc) return rc < 0 ? CLI_OK : rc;
    kn_store *s = NULL;
    if ((rc = cli_store_open(a.store, 0, &s))) return rc;
    json_t *arr = cli.json ? json_array() : NULL;
    if (!cli.json)
        printf("%-8s  %-10s  %-8s  %-19s  %s\n", "VERSION", "STAGE", "RUN", "CREATED (UTC)",
               "ARTIFACT");
    if (kn_store_versions(s, a.name, on_version, arr)) {
        json_decref(arr);
        return cli_store_fail(s);
    }
    if (cli.json)
        rc = cli_emit_json(json_pack("{s:s, s:s, s:s, s:o, s:o}", "command", "models versions",
                                     "store", kn_store_dir(s), "model", a.name, "versions", arr,
                                     "stages", cli_stages_json()));
    kn_store_close(s);
    return rc;
}

/* ---- promote, archive, rollback ---- */

typedef struct change_args {
    const char *store, *name, *version, *stage, *reason, *actor;
    int force;
    double margin, latency_ms;
} change_args;

static const cli_opt promote_opts[] = {
    CLI_OPT_ARG(change_args, name, "NAME", 1, "the model"),
    CLI_OPT_ARG(change_args, version, "VERSION", 1, "the version (3 or v3)"),
    CLI_OPT_CHOICE(change_args, stage, "stage", "staging|production|archived|none",
                   "the stage to move it to (required)"),
    CLI_OPT_FLAG(change_args, force, "force", "skip the gate (needs --reason)"),
    CLI_OPT_TEXT(change_args, reason, "reason", "TEXT", "why (recorded in the audit trail)"),
    CLI_OPT_TEXT(change_args, actor, "actor", "WHO", "who makes the change (default: the OS user)"),
    CLI_OPT_NUM(change_args, margin, "margin", "X", "0.01", 0, 1e300,
                "gate: how much worse than production the held-out metric may be"),
    CLI_OPT_NUM(change_args, latency_ms, "latency-ms", "MS", "50", 1e-6, 1e300,
                "gate: the single-row prediction budget"),
    STORE_OPT(change_args),
    CLI_OPT_END};
static int cmd_models_promote(int argc, char **argv);
static const cli_spec promote_spec = {
    "models promote",
    "move a version to a stage",
    "Move a model version to staging, production, archived or none. Production\n"
    "passes a gate first: the input schema is compatible with the production\n"
    "version's (every column it requires is there with the same type; categorical\n"
    "levels may grow), the held-out metric is no worse than production's by more\n"
    "than --margin, and one raw row predicts within --latency-ms. The metric is\n"
    "the candidate run's first test metric, both versions scored on the candidate's\n"
    "test rows, rebuilt from its artifact (its spec, seed and the data it read,\n"
    "checked by content hash; relative paths from the current folder), less any\n"
    "row production was fitted on (its training rows, rebuilt likewise). Where\n"
    "those cannot be had (kiln train's artifact, data gone or changed, a query\n"
    "source), each version's own recorded test score, on its own test rows: the\n"
    "gate's figures say which (in a refusal, and in the audit row of a promotion).\n"
    "A refusal names the check and the figures (exit 1) and changes nothing.\n"
    "The production version moves to another stage only with --force (it\n"
    "would leave the model with none in production): promote another or roll\n"
    "back first.\n"
    "--force skips the gate and needs --reason.\n"
    "The version it replaces is archived and remembered for 'kiln models rollback'.\n"
    "Every change is recorded in the audit trail ('kiln models audit').\n",
    "  kiln models promote credit 3 --stage production\n"
    "  kiln models promote credit 3 --stage production --force --reason 'incident 42'\n",
    promote_opts,
    0,
    cmd_models_promote};

static const cli_opt archive_opts[] = {
    CLI_OPT_ARG(change_args, name, "NAME", 1, "the model"),
    CLI_OPT_ARG(change_args, version, "VERSION", 1, "the version (3 or v3)"),
    CLI_OPT_FLAG(change_args, force, "force",
                 "archive even the production version (needs --reason)"),
    CLI_OPT_TEXT(change_args, reason, "reason", "TEXT", "why (recorded in the audit trail)"),
    CLI_OPT_TEXT(change_args, actor, "actor", "WHO", "who makes the change (default: the OS user)"),
    STORE_OPT(change_args),
    CLI_OPT_END};
static int cmd_models_archive(int argc, char **argv);
static const cli_spec archive_spec = {
    "models archive",
    "archive a version",
    "Move a version to 'archived'. The production version is refused: promote\n"
    "another or roll back first (or --force with --reason).\n",
    "  kiln models archive credit 2\n",
    archive_opts,
    0,
    cmd_models_archive};

static const cli_opt rollback_opts[] = {
    CLI_OPT_ARG(change_args, name, "NAME", 1, "the model"),
    CLI_OPT_TEXT(change_args, reason, "reason", "TEXT", "why (recorded in the audit trail)"),
    CLI_OPT_TEXT(change_args, actor, "actor", "WHO", "who makes the change (default: the OS user)"),
    STORE_OPT(change_args), CLI_OPT_END};
static int cmd_models_rollback(int argc, char **argv);
static const cli_spec rollback_spec = {
    "models rollback",
    "return production to the previous version",
    "Production returns to the version that was in production before the\n"
    "current one (no gate: it served before); the current one is archived.\n"
    "Repeated rollbacks walk further back.\n",
    "  kiln models rollback credit\n",
    rollback_opts,
    0,
    cmd_models_rollback};

static int run_change(const cli_spec *spec, int argc, char **argv, const char *stage_fixed,
                      int rollback)
{
    change_args a = {0};
    int rc = cli_parse(spec, argc, argv, &a, NULL);
    if (rc) return rc < 0 ? CLI_OK : rc;
    const char *stage = stage_fixed ? stage_fixed : a.stage;
    if (!stage)
        return cli_usage_error(spec->name, "missing --stage staging|production|archived|none");
    if (a.force && (!a.reason || !*a.reason))
        return cli_usage_error(spec->name,
                               "--force needs --reason TEXT (it is recorded in the audit trail)");
    int version = 0;
    if (!rollback && (rc = version_arg(spec->name, a.version, &version))) return rc;
    kn_store *s = NULL;
    kn_stage_begin("store");
    if ((rc = cli_store_open(a.store, 0, &s))) return rc;
    kn_gate_opts o;
    kn_gate_opts_default(&o);
    if (spec == &promote_spec) {
        o.metric_margin = a.margin;
        o.latency_ms = a.latency_ms;
    }
    o.force = a.force;
    o.reason = a.reason;
    o.actor = a.actor;
    kn_status e = rollback ? kn_store_rollback(s, a.name, &o)
                           : kn_store_promote(s, a.name, version, stage, &o);
    if (e) return cli_store_fail(s);
    int now = 0;
    char *run = NULL;
    char ref[300];
    snprintf(ref, sizeof ref, "%s@production", a.name);
    if (rollback && kn_store_resolve(s, ref, NULL, &now, &run)) return cli_store_fail(s);
    kn_stage_end();
    if (cli.json)
        rc = cli_emit_json(json_pack(
            "{s:s, s:s, s:s, s:i, s:s, s:b, s:o, s:s, s:o}", "command", spec->name, "store",
            kn_store_dir(s), "model", a.name, "version", rollback ? now : version, "stage",
            rollback ? "production" : stage, "forced", a.force, "reason", str(a.reason), "actor",
            a.actor ? a.actor : "", "stages", cli_stages_json()));
    else if (rollback)
        printf("%s: production is v%d again (run %s)\n", a.name, now, run);
    else
        printf("%s v%d is now %s%s\n", a.name, version, stage, a.force ? " (gate skipped)" : "");
    kn_free(run);
    kn_store_close(s);
    return rc;
}

static int cmd_models_promote(int argc, char **argv)
{
    return run_change(&promote_spec, argc, argv, NULL, 0);
}
static int cmd_models_archive(int argc, char **argv)
{
    return run_change(&archive_spec, argc, argv, "archived", 0);
}
static int cmd_models_rollback(int argc, char **argv)
{
    return run_change(&rollback_spec, argc, argv, "production", 1);
}

/* ---- audit ---- */

typedef struct audit_args {
    const char *store, *name;
    int64_t limit;
} audit_args;
static const cli_opt audit_opts[] = {
    CLI_OPT_ARG(audit_args, name, "NAME", 0, "only this model's changes"),
    CLI_OPT_INT(audit_args, limit, "limit", "N", "50", 0, 1e9, "the latest N changes (0: all)"),
    STORE_OPT(audit_args), CLI_OPT_END};
static int cmd_models_audit(int argc, char **argv);
static const cli_spec audit_spec = {
    "models audit",
    "the registry's audit trail",
    "Every change to the registry, newest first: when (UTC), who, what, which\n"
    "version and run, from which stage to which, the reason and what the gate\n"
    "measured; and each API key made or revoked (kiln keys), when no NAME is given.\n",
    "  kiln models audit credit\n",
    audit_opts,
    0,
    cmd_models_audit};

static int on_audit(const kn_audit_entry *e, void *user)
{
    json_t *arr = user;
    char t[32];
    if (arr) {
        json_array_append_new(arr, json_pack("{s:f, s:s, s:s, s:o, s:i, s:o, s:o, s:o, s:o, s:o}",
                                             "time", e->time, "actor", e->actor, "action",
                                             e->action, "model", str(e->model), "version",
                                             e->version, "run", str(e->run_id), "from",
                                             str(e->from_stage), "to", str(e->to_stage), "reason",
                                             str(e->reason), "detail", str(e->detail)));
        return 0;
    }
    if (!e->model) { /* a change outside the registry (API keys): what, in detail */
        printf("%s  %-10s  %-16s  %s\n", cli_store_time(e->time, t, sizeof t), e->actor, e->action,
               e->detail ? e->detail : "-");
        return 0;
    }
    printf("%s  %-10s  %-16s  %s v%d (%s)  %s -> %s", cli_store_time(e->time, t, sizeof t),
           e->actor, e->action, e->model ? e->model : "-", e->version, e->run_id ? e->run_id : "-",
           e->from_stage ? e->from_stage : "-", e->to_stage ? e->to_stage : "-");
    if (e->reason) printf("  reason: %s", e->reason);
    if (e->detail) printf("  [%s]", e->detail);
    printf("\n");
    return 0;
}

static int cmd_models_audit(int argc, char **argv)
{
    audit_args a = {0};
    int rc = cli_parse(&audit_spec, argc, argv, &a, NULL);
    if (rc) return rc < 0 ? CLI_OK : rc;
    kn_store *s = NULL;
    if ((rc = cli_store_open(a.store, 0, &s))) return rc;
    json_t *arr = cli.json ? json_array() : NULL;
    if (kn_store_audit(s, a.name, (size_t)a.limit, on_audit, arr)) {
        json_decref(arr);
        return cli_store_fail(s);
    }
    if (cli.json)
        rc = cli_emit_json(json_pack("{s:s, s:s, s:o, s:o}", "command", "models audit", "store",
                                     kn_store_dir(s), "audit", arr, "stages", cli_stages_json()));
    kn_store_close(s);
    return rc;
}

static const cli_spec *const subs[] = {&list_spec,     &versions_spec, &promote_spec,
                                       &rollback_spec, &archive_spec,  &audit_spec};

typedef struct models_args {
    const char *sub;
} models_args;
static const cli_opt models_opts[] = {CLI_OPT_ARG(models_args, sub,
                                                  "list|versions|promote|rollback|archive|audit", 1,
                                                  "the subcommand"),
                                      CLI_OPT_END};

const cli_spec models_spec = {
    "models",
    "the model registry: versions, stages, promotion, rollback",
    "The model registry in the store (--store DIR, else $KILN_STORE, else\n"
    "./kiln-store):\n"
    "  kiln models list                                   models and their stages\n"
    "  kiln models versions NAME                          a model's versions\n"
    "  kiln models promote NAME VERSION --stage S         through the gate for production\n"
    "  kiln models rollback NAME                          production to the previous version\n"
    "  kiln models archive NAME VERSION                   retire a version\n"
    "  kiln models audit [NAME]                           who changed what, when, why\n"
    "'kiln models SUB --help' explains each. A version is used elsewhere as\n"
    "NAME@production, NAME@staging or NAME@vN.\n",
    "  kiln models promote credit 2 --stage production\n  kiln models rollback credit\n",
    models_opts,
    0,
    cmd_models};

int cmd_models(int argc, char **argv)
{
    return cli_subcommand(&models_spec, subs, sizeof subs / sizeof *subs, argc, argv);
}
