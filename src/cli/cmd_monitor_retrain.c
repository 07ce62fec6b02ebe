/* kiln monitor retrain: the retraining trigger (cli_retrain.h). */
#include "cli/cli_retrain.h"
#include "cli/cli_run.h"
#include "kiln/artifact.h"
#include "kiln/ctx.h"
#include "kiln/evaluate.h"
#include "kiln/io.h"
#include "kiln/mem.h"
#include "kiln/metrics.h"
#include "kiln/pipeline.h"
#include "kiln/run.h"
#include "kiln/step.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>

static double now_s(void)
{
    struct timeval tv;
    gettimeofday(&tv, NULL);
    return (double)tv.tv_sec + (double)tv.tv_usec / 1e6;
}

/* The model's production version (0: none) and whether it has any version. */
typedef struct stages_seen {
    int production, versions;
} stages_seen;

static int on_version(const kn_model_version *v, void *user)
{
    stages_seen *s = user;
    s->versions++;
    if (!strcmp(v->stage, "production")) s->production = v->version;
    return 0;
}

/* The holdout read with the pipeline's input types (target included) and
 * the reader settings of its artifact a (as its training data was read). */
static kn_status read_holdout(const char *path, const kn_pipeline *p, const kn_artifact *a,
                              kn_frame **f)
{
    const kn_steps_input *in = kn_pipeline_input(p);
    const char *target = kn_pipeline_target(p);
    kn_read_opts o;
    kn_read_opts_default(&o);
    kn_status e = a ? kn_artifact_apply_read_given(a, &o, 0) : KN_OK;
    if (e != KN_OK) return kn_fail_prefix(e, "holdout %s: ", path);
    kn_col_decl *decls = NULL;
    if (in && in->n_cols) {
        decls = kn_malloc(in->n_cols * sizeof *decls);
        if (!decls) return KN_ERR_NOMEM;
        for (size_t j = 0; j < in->n_cols; j++)
            decls[j] = (kn_col_decl){in->names[j], in->types[j]};
        o.decls = decls;
        o.n_decls = in->n_cols;
    }
    kn_read_report rep;
    memset(&rep, 0, sizeof rep);
    e = kn_frame_read(path, &o, f, &rep);
    kn_free(decls);
    if (e != KN_OK) return kn_fail_prefix(e, "holdout %s: ", path);
    size_t at = 0;
    if (target && kn_frame_find(*f, target, &at) != KN_OK)
        return kn_fail(KN_ERR_INVALID,
                       "holdout %s has no column '%s', the model's target: the holdout must be "
                       "labelled rows (the inputs and '%s')",
                       path, target, target);
    e = cli_target_rows(f, target, 1);
    if (e == KN_OK && !kn_frame_n_rows(*f))
        e = kn_fail(KN_ERR_INVALID, "holdout %s has no row with a value of '%s' to score on", path,
                    target);
    return e;
}

/* The pipeline's `metric` on the holdout. */
static kn_status score_on(const char *path, const kn_pipeline *p, const kn_artifact *a,
                          const char *metric, const char *positive, double *value, size_t *rows)
{
    kn_frame *f = NULL;
    kn_status e = read_holdout(path, p, a, &f);
    if (e == KN_OK) e = kn_pipeline_score_one(p, f, metric, positive, value, rows);
    kn_frame_free(f);
    return e;
}

typedef struct retrain_state {
    kn_store *s;
    const cli_retrain_req *q;
    int64_t id; /* the trigger row */
    json_t *out;
} retrain_state;

static kn_status step(retrain_state *r, const char *action, int version, const char *run_id,
                      const char *reason, const char *detail)
{
    return kn_store_retrain_step(r->s, r->q->model, r->id, action, version, run_id, reason, detail,
                                 r->q->actor);
}

/* The end row of a failed retrain, with the error; returns FAILED. */
static cli_retrain_outcome failed(retrain_state *r, const char *doing)
{
    char *why = kn_sprintf("%s: %s", doing, kn_last_error());
    json_object_set_new(r->out, "outcome", json_string("failed"));
    json_object_set_new(r->out, "reason", json_string(why ? why : doing));
    if (r->id) {
        kn_status e = step(r, "retrain failed", 0, NULL, why ? why : doing, NULL);
        if (e != KN_OK)
            kn_fail_prefix(e, "%s; and its audit row could not be written: ", why ? why : doing);
        else
            kn_fail(KN_ERR_INVALID, "%s", why ? why : doing);
    } else
        kn_fail(KN_ERR_INVALID, "%s", why ? why : doing);
    kn_free(why);
    return CLI_RETRAIN_FAILED;
}

/* The spec with data in place of its one source (new, kn_prep_spec_free). */
static kn_status load_spec(const cli_retrain_req *q, kn_prep_spec **out)
{
    kn_prep_spec *s = NULL;
    kn_status e = kn_prep_spec_load(q->spec, &s);
    if (e != KN_OK) return e;
    if (!s->model.name)
        e = kn_fail(KN_ERR_INVALID,
                    "%s has no model: to train; a retrain runs a run spec (sources, target, "
                    "model, evaluation)",
                    q->spec);
    else if (s->register_name && strcmp(s->register_name, q->model))
        e = kn_fail(KN_ERR_INVALID,
                    "%s registers '%s', but the retrain is of '%s'; drop its register: (the "
                    "retrain registers to staging) or name the same model",
                    q->spec, s->register_name, q->model);
    else if (q->data && s->n_sources != 1)
        e = kn_fail(KN_ERR_INVALID,
                    "--data %s replaces a spec's one source, but %s has %zu; leave --data out "
                    "and point the spec's sources at the fresh data",
                    q->data, q->spec, s->n_sources);
    else if (q->data && s->sources[0].kind != KN_SOURCE_FILE)
        e = kn_fail(KN_ERR_INVALID,
                    "--data %s replaces a file source, but %s's source '%s' is not a file", q->data,
                    q->spec, s->sources[0].name);
    if (e == KN_OK && q->data) {
        char *loc = kn_strdup(q->data);
        if (!loc) e = KN_ERR_NOMEM;
        kn_free(s->sources[0].location);
        s->sources[0].location = loc;
    }
    /* registered here, at staging, not by the run */
    if (e == KN_OK && s->register_name) {
        kn_free(s->register_name);
        s->register_name = NULL;
    }
    if (e != KN_OK) {
        kn_prep_spec_free(s);
        return e;
    }
    *out = s;
    return KN_OK;
}

/* Run the spec in its own context and record it; *run_id new. */
static kn_status retrain_run(const kn_prep_spec *s, const char *store_dir, const cli_retrain_req *q,
                             kn_run_output **r, char **run_id)
{
    kn_ctx *c = NULL;
    kn_status e = kn_ctx_new(&c);
    if (e != KN_OK) return e;
    kn_ctx *prev = kn_ctx_enter(c);
    kn_run_opts o;
    kn_run_opts_default(&o);
    o.threads = cli.threads;
    double start = now_s();
    e = kn_run_spec(s, &o, r);
    if (e == KN_OK) e = cli_run_record(store_dir, q->experiment, NULL, s, *r, start, run_id);
    kn_ctx_leave(prev);
    kn_ctx_free(c);
    return e;
}

cli_retrain_outcome cli_retrain(kn_store *st, const char *store_dir, const cli_retrain_req *q,
                                json_t **out)
{
    retrain_state r = {st, q, 0, json_object()};
    *out = r.out;
    json_object_set_new(r.out, "model", json_string(q->model));
    json_object_set_new(r.out, "spec", json_string(q->spec));
    json_object_set_new(r.out, "holdout", json_string(q->holdout));
    json_object_set_new(r.out, "margin", cli_json_num(q->margin));
    if (q->key) json_object_set_new(r.out, "incident", json_string(q->key));
    json_object_set_new(r.out, "promoted", json_false()); /* set again at the end */
    kn_prep_spec *s = NULL;
    kn_run_output *run = NULL;
    kn_pipeline *prod = NULL;
    kn_artifact *prod_art = NULL;
    char *prod_path = NULL, *run_id = NULL, *why = NULL, *text = NULL;
    cli_retrain_outcome res = CLI_RETRAIN_FAILED;
    stages_seen seen = {0, 0};

    /* the claim: one retrain per model at a time and per incident */
    char *detail = kn_sprintf("spec %s, data %s, holdout %s, margin %g%s%s", q->spec,
                              q->data ? q->data : "(the spec's sources)", q->holdout, q->margin,
                              q->trigger ? "; " : "", q->trigger ? q->trigger : "");
    kn_status e = detail ? kn_store_retrain_begin(st, q->model, q->key, detail, q->stale_s,
                                                  q->actor, &r.id, &why)
                         : KN_ERR_NOMEM;
    kn_free(detail);
    if (e != KN_OK) return failed(&r, "the model");
    if (!r.id) {
        json_object_set_new(r.out, "outcome", json_string("skipped"));
        json_object_set_new(r.out, "reason", json_string(why));
        kn_free(why);
        return CLI_RETRAIN_SKIPPED;
    }
    json_object_set_new(r.out, "retrain", json_integer(r.id));

    /* what the run must match: production's target; the holdout's labels */
    e = kn_store_versions(st, q->model, on_version, &seen);
    if (e == KN_OK && seen.production) {
        char ref[512];
        snprintf(ref, sizeof ref, "%s@v%d", q->model, seen.production);
        e = kn_store_resolve(st, ref, &prod_path, NULL, NULL);
        if (e == KN_OK) e = kn_artifact_read(prod_path, NULL, &prod_art);
        if (e == KN_OK) e = kn_artifact_pipeline(prod_art, &prod);
    }
    if (e != KN_OK) {
        res = failed(&r, "reading production");
        goto done;
    }
    if ((e = load_spec(q, &s)) != KN_OK) {
        res = failed(&r, "the spec");
        goto done;
    }
    const char *target = prod ? kn_pipeline_target(prod) : NULL;
    if (prod && (!s->target || !target || strcmp(s->target, target))) {
        kn_fail(KN_ERR_INVALID,
                "%s learns '%s', but production v%d of '%s' learns '%s': a retrain must learn "
                "the same target",
                q->spec, s->target ? s->target : "(no target)", seen.production, q->model,
                target ? target : "(none)");
        res = failed(&r, "the spec");
        goto done;
    }
    if (prod) {
        kn_frame *h = NULL;
        e = read_holdout(q->holdout, prod, prod_art, &h);
        kn_frame_free(h);
        if (e != KN_OK) {
            res = failed(&r, "the holdout");
            goto done;
        }
    }

    /* the run */
    text = kn_sprintf("spec %s on %s", q->spec, q->data ? q->data : "its own sources");
    if (!text || (e = step(&r, "retrain run started", 0, NULL, "started", text)) != KN_OK) {
        res = failed(&r, "the audit trail");
        goto done;
    }
    kn_free(text);
    text = NULL;
    e = retrain_run(s, store_dir, q, &run, &run_id);
    if (e != KN_OK) {
        res = failed(&r, "the run");
        goto done;
    }
    json_object_set_new(r.out, "run_id", json_string(run_id));
    const char *metric = run->test.n ? run->test.name[0] : NULL;
    if (!metric) {
        kn_fail(KN_ERR_INVALID,
                "run %s has no held-out score: the spec needs evaluation: test: (its first "
                "metric is the one compared)",
                run_id);
        res = failed(&r, "the run");
        goto done;
    }
    text = kn_sprintf("%s %.6g on its test rows", metric, run->test.value[0]);
    if (!text || (e = step(&r, "retrain run finished", 0, run_id, "finished", text)) != KN_OK) {
        res = failed(&r, "the audit trail");
        goto done;
    }
    kn_free(text);
    text = NULL;

    /* staging: the registry writes its own register and promote rows */
    kn_gate_opts g;
    kn_gate_opts_default(&g);
    g.actor = q->actor;
    int version = 0;
    if ((e = kn_store_register(st, q->model, run_id, "staging", &g, &version)) != KN_OK) {
        res = failed(&r, "registering to staging");
        goto done;
    }
    json_object_set_new(r.out, "version", json_integer(version));

    /* both on the holdout, with the run's first metric */
    const kn_component *mc = kn_metric_find(metric);
    int higher = mc ? ((const kn_metric_vt *)mc->vt)->higher_is_better : 1;
    double sv = NAN, pv = NAN;
    size_t rows = 0, prow = 0;
    e = score_on(q->holdout, run->pipeline, run->artifact, metric, s->eval.positive_class, &sv,
                 &rows);
    if (e == KN_OK && prod)
        e = score_on(q->holdout, prod, prod_art, metric, s->eval.positive_class, &pv, &prow);
    if (e != KN_OK) {
        res = failed(&r, "scoring on the holdout");
        goto done;
    }
    double gain = prod ? (higher ? sv - pv : pv - sv) : NAN;
    json_object_set_new(r.out, "metric", json_string(metric));
    json_object_set_new(r.out, "higher_is_better", json_boolean(higher));
    json_object_set_new(r.out, "holdout_rows", json_integer((json_int_t)rows));
    json_object_set_new(r.out, "staging", cli_json_num(sv));
    json_object_set_new(r.out, "production", prod ? cli_json_num(pv) : json_null());
    json_object_set_new(r.out, "production_version",
                        seen.production ? json_integer(seen.production) : json_null());
    if (prod)
        text = kn_sprintf("holdout %s (%zu rows): %s staging v%d %.6g, production v%d %.6g "
                          "(%s is better); staging better by %.6g, margin %g",
                          q->holdout, rows, metric, version, sv, seen.production, pv,
                          higher ? "higher" : "lower", gain, q->margin);
    else
        text = kn_sprintf("holdout %s (%zu rows): %s staging v%d %.6g; no production version "
                          "to compare with",
                          q->holdout, rows, metric, version, sv);
    if (!text || (e = step(&r, "retrain compare", version, run_id, NULL, text)) != KN_OK) {
        res = failed(&r, "the audit trail");
        goto done;
    }
    kn_free(text);
    text = NULL;

    /* the decision: better by the margin, then the registry's gate */
    if (prod && !(gain >= q->margin)) {
        text = kn_sprintf("staging v%d's %s on the holdout, %.6g, is not better than production "
                          "v%d's %.6g by the margin %g (%s by %.6g); production stays v%d",
                          version, metric, sv, seen.production, pv, q->margin,
                          gain >= 0 ? "better" : "worse", fabs(gain), seen.production);
        res = CLI_RETRAIN_REFUSED;
    } else if ((e = kn_store_promote(st, q->model, version, "production", &g)) != KN_OK) {
        if (e != KN_ERR_REFUSED) {
            res = failed(&r, "promoting");
            goto done;
        }
        text = kn_sprintf("%s; production stays %s%d", kn_last_error(),
                          seen.production ? "v" : "empty: no version ", seen.production);
        res = CLI_RETRAIN_REFUSED;
    } else {
        text = seen.production
                   ? kn_sprintf("v%d replaces v%d in production", version, seen.production)
                   : kn_sprintf("v%d is the first version in production (no "
                                "production version to compare with; the gate "
                                "passed)",
                                version);
        res = CLI_RETRAIN_PROMOTED;
    }
    if (!text) {
        res = failed(&r, "out of memory");
        goto done;
    }
    json_object_set_new(r.out, "outcome",
                        json_string(res == CLI_RETRAIN_PROMOTED ? "promoted" : "refused"));
    json_object_set_new(r.out, "reason", json_string(text));
    e = step(&r, res == CLI_RETRAIN_PROMOTED ? "retrain promoted" : "retrain refused", version,
             run_id, text, NULL);
    if (e != KN_OK) res = failed(&r, "the audit trail");
done:
    /* every outcome says whether production changed (reason: why) */
    json_object_set_new(r.out, "promoted", json_boolean(res == CLI_RETRAIN_PROMOTED));
    kn_free(text);
    kn_free(run_id);
    kn_free(prod_path);
    kn_pipeline_free(prod);
    kn_artifact_free(prod_art);
    kn_run_output_free(run);
    kn_prep_spec_free(s);
    return res;
}

/* ---- kiln monitor retrain ---- */

typedef struct retrain_args {
    const char *model, *spec, *data, *holdout, *store, *experiment, *incident, *trigger;
    double margin, stale_hours;
} retrain_args;

static const cli_opt retrain_opts[] = {
    CLI_OPT_NEED(retrain_args, model, "model", "NAME", "the registered model to retrain"),
    CLI_OPT_NEED(retrain_args, spec, "spec", "SPEC", "the pipeline spec to run (kiln run's)"),
    CLI_OPT_TEXT(retrain_args, data, "data", "FILE",
                 "the fresh rows, in place of the spec's one source (default: its sources)"),
    CLI_OPT_NEED(retrain_args, holdout, "holdout", "FILE",
                 "labelled rows both versions are scored on"),
    CLI_OPT_NUM(retrain_args, margin, "margin", "X", "0.01", 0, 1e300,
                "how much better than production staging must score on the holdout"),
    CLI_OPT_NUM(retrain_args, stale_hours, "stale-hours", "H", "24", 1e-6, 1e6,
                "a retrain of the model without an end row this old counts as abandoned"),
    CLI_OPT_TEXT(retrain_args, experiment, "experiment", "NAME",
                 "the experiment of the run (default: default)"),
    CLI_OPT_TEXT(retrain_args, incident, "incident", "KEY",
                 "the incident that fired it (\"rule R, incident N\"; kiln serve's rule "
                 "actions): one retrain per incident, audited as its reason"),
    CLI_OPT_TEXT(retrain_args, trigger, "trigger", "JSON",
                 "what fired it (the incident's JSON), kept in the trigger's audit row"),
    CLI_OPT_TEXT(retrain_args, store, "store", "DIR",
                 "the store (default $KILN_STORE, else ./kiln-store)"),
    CLI_OPT_END};

static int cmd_monitor_retrain(int argc, char **argv);
const cli_spec monitor_retrain_spec = {
    "monitor retrain",
    "retrain a model on fresh data; promote it only when it beats production",
    "Run SPEC as kiln run does (on --data in place of its one source, if given)\n"
    "and record the run; register its artifact as the model's next version at\n"
    "stage staging; score staging and production on the --holdout rows with the\n"
    "run's first test metric (the spec's first evaluation metric); promote\n"
    "staging to production only when it is better than production by at least\n"
    "--margin and the registry's gate (schema, held-out metric, latency) passes.\n"
    "Otherwise production stays as it is and the reason is printed. With no\n"
    "version in production the new version is promoted when the gate passes.\n"
    "The spec must learn production's target and the holdout must hold it.\n"
    "Every step is an audit row of the model (kiln models audit NAME): retrain\n"
    "trigger, retrain run started, retrain run finished, register, promote (to\n"
    "staging), retrain compare (both scores), promote (to production), and\n"
    "retrain promoted, retrain refused or retrain failed with the reason.\n"
    "One retrain of a model runs at a time: another that starts meanwhile is\n"
    "skipped. An alert rule with retrain: runs this when its incident opens\n"
    "('kiln monitor check --help'), once per incident.\n"
    "Exit 0: promoted; 1: not promoted (or skipped); 2: usage; 3: the retrain\n"
    "failed (a spec or holdout that does not fit, a run that failed).\n",
    "  kiln monitor retrain --model credit --spec credit.yaml --data week.csv "
    "--holdout labelled.csv\n"
    "  kiln monitor retrain --model credit --spec credit.yaml --holdout h.csv --margin 0.005 "
    "--json\n",
    retrain_opts,
    0,
    cmd_monitor_retrain};

/* A few lines for people. */
static void print_retrain(const json_t *j)
{
    const char *outcome = json_string_value(json_object_get(j, "outcome"));
    const char *reason = json_string_value(json_object_get(j, "reason"));
    const json_t *id = json_object_get(j, "retrain");
    printf("retrain %lld of %s: %s\n", (long long)json_integer_value(id),
           json_string_value(json_object_get(j, "model")), outcome ? outcome : "?");
    const char *run = json_string_value(json_object_get(j, "run_id"));
    if (run)
        printf("  run %s, registered as v%lld (staging)\n", run,
               (long long)json_integer_value(json_object_get(j, "version")));
    const char *metric = json_string_value(json_object_get(j, "metric"));
    if (metric) {
        printf("  holdout (%lld rows): %s staging %.6g",
               (long long)json_integer_value(json_object_get(j, "holdout_rows")), metric,
               json_number_value(json_object_get(j, "staging")));
        if (json_is_number(json_object_get(j, "production")))
            printf(", production v%lld %.6g",
                   (long long)json_integer_value(json_object_get(j, "production_version")),
                   json_number_value(json_object_get(j, "production")));
        printf("\n");
    }
    if (reason) printf("  %s\n", reason);
}

static int cmd_monitor_retrain(int argc, char **argv)
{
    retrain_args a = {0};
    int rc = cli_parse(&monitor_retrain_spec, argc, argv, &a, NULL);
    if (rc) return rc < 0 ? CLI_OK : rc;
    if (strchr(a.model, '@'))
        return cli_usage_error("monitor retrain",
                               "--model %s: give the registered name without a stage (the "
                               "retrain registers to staging and promotes to production)",
                               a.model);
    kn_store *s = NULL;
    if ((rc = cli_store_open(a.store, 0, &s))) return rc;
    cli_retrain_req q = {0};
    q.model = a.model;
    q.spec = a.spec;
    q.data = a.data;
    q.holdout = a.holdout;
    q.margin = a.margin;
    q.stale_s = a.stale_hours * 3600;
    q.experiment = a.experiment;
    q.key = a.incident;
    q.trigger = a.trigger;
    json_t *j = NULL;
    cli_retrain_outcome res = cli_retrain(s, a.store, &q, &j);
    kn_store_close(s);
    if (res == CLI_RETRAIN_FAILED) cli_error("monitor retrain: %s", kn_last_error());
    json_object_set_new(j, "command", json_string("monitor retrain"));
    if (cli.json)
        rc = cli_emit_json(j);
    else {
        if (res == CLI_RETRAIN_SKIPPED)
            fprintf(stderr, "kiln: monitor retrain: skipped: %s\n",
                    json_string_value(json_object_get(j, "reason")));
        else if (res != CLI_RETRAIN_FAILED)
            print_retrain(j);
        json_decref(j);
    }
    if (rc != CLI_OK) return rc;
    return res == CLI_RETRAIN_PROMOTED ? CLI_OK : res == CLI_RETRAIN_FAILED ? CLI_ERROR : CLI_FAIL;
}
