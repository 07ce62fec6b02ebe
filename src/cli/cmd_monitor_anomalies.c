/* kiln monitor anomalies: input anomalies of the rows a model served, read
 * from kiln serve's prediction log (--prediction-log): an isolation forest
 * fitted on a sample of the model's training rows (the artifact's
 * KN_ART_REFERENCE_ROWS, or --reference FILE) scores each logged row's
 * inputs; per window (rows in request order, or intervals of the rows' time)
 * the share of rows past the reference's threshold is tested against the
 * reference's own share (cli_anomalies.h). */
#include "cli/cli_anomalies.h"
#include "cli/cli_monitor.h"
#include "kiln/artifact.h"
#include "kiln/mem.h"
#include "kiln/pipeline.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

typedef struct anom_args {
    const char *log, *model, *reference, *name, *store, *alerts;
    int record;
    double alpha, contamination, interval;
    int64_t window;
    uint64_t seed;
    kn_read_opts read;
} anom_args;

static const cli_opt anom_opts[] = {
    CLI_OPT_NEED(anom_args, log, "log", "FILE", "the prediction log (kiln serve --prediction-log)"),
    CLI_OPT_NEED(anom_args, model, "model", "NAME@STAGE|FILE",
                 "the model whose inputs were logged: a .kiln artifact or a registered "
                 "NAME@production, NAME@vN"),
    CLI_OPT_TEXT(anom_args, reference, "reference", "FILE",
                 "the rows to fit the forest on (default: the artifact's sample of its "
                 "training rows)"),
    CLI_OPT_TEXT(anom_args, name, "name", "MODEL",
                 "only the log's rows of this served model (default: NAME of --model "
                 "NAME@STAGE; every row for a file)"),
    CLI_OPT_INT(anom_args, window, "window", "N", "0", 0, 1e9,
                "windows of N rows in request order (0 and no --interval: all rows as one)"),
    CLI_OPT_NUM(anom_args, interval, "interval", "SECONDS", "0", 0, 1e9,
                "windows by the rows' time instead: intervals of SECONDS aligned to the clock"),
    CLI_OPT_NUM(anom_args, contamination, "contamination", "F", "0.01", 0.001, 0.5,
                "the reference's share of anomalous rows (sets the threshold)"),
    CLI_OPT_SEED(anom_args, seed, "seed", "0", "the seed of the isolation forest"),
    CLI_OPT_NUM(anom_args, alpha, "alpha", "P", "0.01", 1e-12, 0.5,
                "false alarm rate over all the windows (each window: alpha / windows)"),
    CLI_OPT_TEXT(anom_args, alerts, "alerts", "FILE",
                 "alert rules on anomaly_share, anomaly_p, anomalous, anomalous_windows and "
                 "their sinks (YAML, as monitor check's)"),
    CLI_OPT_FLAG(anom_args, record, "record",
                 "keep each window and the alerts in the store (incidents last across runs; "
                 "windows recorded before are not checked again)"),
    CLI_OPT_TEXT(anom_args, store, "store", "DIR",
                 "the store for NAME@STAGE and --record (default $KILN_STORE, else "
                 "./kiln-store)"),
    CLI_OPT_READ(anom_args, read),
    CLI_OPT_END};

static int cmd_monitor_anomalies(int argc, char **argv);
const cli_spec monitor_anomalies_spec = {
    "monitor anomalies",
    "input anomalies of the rows a model served (its prediction log)",
    "Score the inputs kiln serve logged (--prediction-log: one JSON line per\n"
    "row, its inputs under \"inputs\") with an isolation forest (100 trees,\n"
    "seeded: --seed) fitted on the model's training rows: the sample of at\n"
    "most 1,000 whole rows the artifact keeps (written by kiln run, kiln train\n"
    "and kiln tune), or --reference FILE. The forest takes the model's numeric\n"
    "inputs (a missing or non-numeric cell: the reference's median); its\n"
    "threshold is the --contamination quantile of the reference rows' scores.\n"
    "Per window (--window N rows in request order: by request id, then row,\n"
    "not the log's line order; or --interval SECONDS of the rows' \"time\",\n"
    "aligned to the clock; else all rows as one) the share of\n"
    "rows past it is tested against the reference's: the window's count of\n"
    "anomalous rows under the beta-binomial the reference's own count implies\n"
    "(a reference of 1,000 rows knows its share only roughly; a binomial at\n"
    "that share would call large windows anomalous for it); a window is\n"
    "anomalous when that p-value is under --alpha / windows and its share over\n"
    "the reference's.\n"
    "--alerts FILE: rules on anomaly_share, anomaly_p, anomalous,\n"
    "anomalous_windows (the file of kiln monitor check --alerts; a rule's\n"
    "window: sets --window). --record keeps each window in the store's\n"
    "monitoring tables under --model as given and the log's path, with the\n"
    "rules' streaks and incidents, as kiln monitor check --record does; a\n"
    "window recorded before is not checked again (a re-read log alerts once),\n"
    "and the last window, which may still be filling, waits for a later run\n"
    "(with --window: until it has N rows).\n"
    "Exit 0: no anomalous window, no alert; 1: any; 2: usage (a bad alert\n"
    "file, an artifact without a row sample and no --reference, too); 3: a\n"
    "log or reference that cannot be read or scored.\n",
    "  kiln monitor anomalies --log predictions.jsonl --model credit@production --window 500\n"
    "  kiln monitor anomalies --log p.jsonl --model m.kiln --interval 3600 --json\n"
    "  kiln monitor anomalies --log p.jsonl --model credit@production --interval 3600 "
    "--alerts rules.yaml --record\n",
    anom_opts,
    0,
    cmd_monitor_anomalies};

/* The artifact's input columns (without target and weight). */
typedef struct inputs {
    kn_artifact *art;
    kn_col_decl *decls;
    size_t n_decls;
    size_t *num; /* the numeric decls */
    size_t n_num;
} inputs;

static void inputs_free(inputs *in)
{
    kn_artifact_free(in->art);
    kn_free(in->decls);
    kn_free(in->num);
}

static kn_status load_inputs(const char *path, inputs *in)
{
    kn_pipeline *p = NULL;
    kn_status e = kn_artifact_read(path, NULL, &in->art);
    if (e == KN_OK) e = kn_artifact_pipeline(in->art, &p);
    if (e != KN_OK) return e;
    const kn_steps_input *si = kn_pipeline_input(p);
    if (!si) {
        kn_pipeline_free(p);
        return kn_fail(KN_ERR_INVALID,
                       "%s has no input columns to score (train it with kiln run or kiln train "
                       "--out FILE.kiln)",
                       path);
    }
    const char *target = kn_pipeline_target(p), *weight = kn_pipeline_weight(p);
    in->decls = kn_malloc((si->n_cols + 1) * sizeof *in->decls);
    in->num = kn_malloc((si->n_cols + 1) * sizeof *in->num);
    e = in->decls && in->num ? KN_OK : KN_ERR_NOMEM;
    for (size_t j = 0; e == KN_OK && j < si->n_cols; j++) {
        if ((target && !strcmp(si->names[j], target)) || (weight && !strcmp(si->names[j], weight)))
            continue;
        /* the names live in the pipeline: copy them into the artifact's lifetime */
        char *name = kn_strdup(si->names[j]);
        if (!name) {
            e = KN_ERR_NOMEM;
            break;
        }
        if (si->types[j] == KN_COL_NUMERIC || si->types[j] == KN_COL_INT64)
            in->num[in->n_num++] = in->n_decls;
        in->decls[in->n_decls++] = (kn_col_decl){name, si->types[j]};
    }
    kn_pipeline_free(p);
    return e;
}

static void free_decl_names(inputs *in)
{
    for (size_t j = 0; in->decls && j < in->n_decls; j++) kn_free((void *)in->decls[j].name);
}

/* The log's rows: the numeric inputs (row-major, NaN: missing), each row's
 * time and line. */
typedef struct logrows {
    double *x, *time;
    size_t *line;
    long long *rid, *row; /* request id and row (-1: the line has none) */
    size_t n, cap, other_models, non_numeric, no_id;
    char *first_model, *second_model; /* the models seen (for the message) */
} logrows;

static void logrows_free(logrows *l)
{
    kn_free(l->x), kn_free(l->time), kn_free(l->line), kn_free(l->rid), kn_free(l->row);
    kn_free(l->first_model), kn_free(l->second_model);
}

static kn_status grow(logrows *l, size_t k)
{
    if (l->n < l->cap) return KN_OK;
    size_t cap = l->cap ? 2 * l->cap : 1024;
    double *x = kn_realloc(l->x, cap * (k ? k : 1) * sizeof *x);
    if (x) l->x = x;
    double *t = x ? kn_realloc(l->time, cap * sizeof *t) : NULL;
    if (t) l->time = t;
    size_t *ln = t ? kn_realloc(l->line, cap * sizeof *ln) : NULL;
    if (ln) l->line = ln;
    long long *ri = ln ? kn_realloc(l->rid, cap * sizeof *ri) : NULL;
    if (ri) l->rid = ri;
    long long *ro = ri ? kn_realloc(l->row, cap * sizeof *ro) : NULL;
    if (!ro) return KN_ERR_NOMEM;
    l->row = ro;
    l->cap = cap;
    return KN_OK;
}

static kn_status read_log(const char *path, const inputs *in, const char *only, int need_time,
                          logrows *l)
{
    FILE *fp = fopen(path, "r");
    if (!fp)
        return kn_fail(KN_ERR_IO, "%s: cannot open the prediction log: %s", path, strerror(errno));
    char *line = NULL;
    size_t cap = 0, lineno = 0;
    kn_status e = KN_OK;
    ssize_t len;
    while (e == KN_OK && (len = getline(&line, &cap, fp)) >= 0) {
        lineno++;
        if (len <= 1) continue;
        json_error_t err;
        json_t *j = json_loads(line, 0, &err);
        json_t *inp = json_object_get(j, "inputs");
        if (!json_is_object(inp)) {
            e = kn_fail(KN_ERR_PARSE,
                        "%s:%zu: not a prediction log line (%s); give the file kiln serve "
                        "--prediction-log writes: a JSON object per line with the row's "
                        "\"inputs\"",
                        path, lineno,
                        !j                   ? err.text
                        : !json_is_object(j) ? "not a JSON object"
                        : !inp               ? "no \"inputs\""
                                             : "\"inputs\" is not an object");
            json_decref(j);
            break;
        }
        const char *model = json_string_value(json_object_get(j, "model"));
        if (model && !l->first_model) l->first_model = kn_strdup(model);
        if (model && l->first_model && strcmp(model, l->first_model) && !l->second_model)
            l->second_model = kn_strdup(model);
        if (only && (!model || strcmp(model, only))) {
            l->other_models++;
            json_decref(j);
            continue;
        }
        double t = NAN;
        const char *when = json_string_value(json_object_get(j, "time"));
        if (need_time && (!when || cli_parse_utc(when, &t))) {
            e = kn_fail(
                KN_ERR_PARSE,
                "%s:%zu: --interval needs each row's \"time\", a UTC time like "
                "2026-12-06T10:40:00.123456Z%s; use --window N (rows in request order) for a "
                "log without one",
                path, lineno, when ? "" : " (this line has none)");
            json_decref(j);
            break;
        }
        if ((e = grow(l, in->n_num)) != KN_OK) {
            json_decref(j);
            break;
        }
        double *x = l->x + l->n * in->n_num;
        for (size_t c = 0; c < in->n_num; c++) {
            json_t *v = json_object_get(inp, in->decls[in->num[c]].name);
            x[c] = NAN;
            if (json_is_number(v))
                x[c] = json_number_value(v);
            else if (json_is_string(v)) { /* a number sent as text */
                const char *s = json_string_value(v);
                char *end = NULL;
                double d = strtod(s, &end);
                if (end != s && !*end && isfinite(d))
                    x[c] = d;
                else
                    l->non_numeric++;
            } else if (v && !json_is_null(v))
                l->non_numeric++;
        }
        l->time[l->n] = t;
        l->line[l->n] = lineno;
        json_t *rid = json_object_get(j, "request_id"), *row = json_object_get(j, "row");
        l->rid[l->n] = json_is_integer(rid) ? (long long)json_integer_value(rid) : -1;
        l->row[l->n] = json_is_integer(row) ? (long long)json_integer_value(row) : 0;
        l->no_id += l->rid[l->n] < 0;
        l->n++;
        json_decref(j);
    }
    free(line);
    if (e == KN_OK && ferror(fp)) e = kn_fail(KN_ERR_IO, "%s: cannot read it", path);
    fclose(fp);
    return e;
}

/* The rows in window order: by interval (with --interval), then request
 * order: request id, then row, as kiln serve took them (its log's lines
 * are not in that order: 64 buffers written every 50 ms), then log order.
 * A log whose lines lack request ids (not kiln serve's) keeps its line
 * order. */
static const logrows *sort_rows;
static double sort_interval; /* 0: no intervals */
static int by_window(const void *x, const void *y)
{
    size_t a = *(const size_t *)x, b = *(const size_t *)y;
    const logrows *l = sort_rows;
    if (sort_interval > 0) {
        double ia = floor(l->time[a] / sort_interval), ib = floor(l->time[b] / sort_interval);
        if (ia != ib) return ia < ib ? -1 : 1;
    }
    if (!l->no_id && l->rid[a] != l->rid[b]) return l->rid[a] < l->rid[b] ? -1 : 1;
    if (!l->no_id && l->row[a] != l->row[b]) return l->row[a] < l->row[b] ? -1 : 1;
    return (a > b) - (a < b);
}

/* The batch frame: the numeric inputs of the rows in order. */
static kn_status batch_frame(const inputs *in, const logrows *l, const size_t *order,
                             kn_frame **out)
{
    kn_frame *f = NULL;
    kn_status e = kn_frame_new(&f);
    for (size_t c = 0; e == KN_OK && c < in->n_num; c++) {
        kn_column *col = NULL;
        e = kn_frame_add_column(f, in->decls[in->num[c]].name, KN_COL_NUMERIC, &col);
        if (e == KN_OK && c == 0) e = kn_frame_resize(f, l->n);
        if (e != KN_OK) break;
        double *x = kn_column_f64(col);
        for (size_t i = 0; i < l->n; i++) x[i] = l->x[order[i] * in->n_num + c];
    }
    if (e != KN_OK) {
        kn_frame_free(f);
        return e;
    }
    *out = f;
    return KN_OK;
}

static void utc_text(double t, char *buf, size_t cap)
{
    time_t s = (time_t)floor(t);
    struct tm tm;
    if (!gmtime_r(&s, &tm) || !strftime(buf, cap, "%Y-%m-%dT%H:%M:%SZ", &tm))
        snprintf(buf, cap, "-");
}

/* One window. */
typedef struct win {
    size_t from, to; /* positions in window order */
    double start;    /* --interval: its start (seconds since 1970); else NaN */
} win;

static int cmd_monitor_anomalies(int argc, char **argv)
{
    anom_args a = {0};
    int rc = cli_parse(&monitor_anomalies_spec, argc, argv, &a, NULL);
    if (rc) return rc < 0 ? CLI_OK : rc;
    if (a.window && a.interval > 0)
        return cli_usage_error(
            "monitor anomalies",
            "--window %lld and --interval %g: give one (rows in request order, or "
            "intervals of the rows' time)",
            (long long)a.window, a.interval);
    cli_store_dir = a.store;
    inputs in = {0};
    logrows l = {0};
    cli_alerting *al = NULL;
    cli_anomalies *an = NULL;
    kn_frame *ref = NULL, *cur = NULL;
    size_t *order = NULL;
    win *wins = NULL;
    char *path = NULL, *only = NULL;
    json_t *results = json_array();
    const char *ref_source = a.reference ? "file" : "artifact";
    uint64_t ref_from = 0;
    int64_t window = a.window;
    size_t n_win = 0, n_anomalous = 0, n_alerting = 0, n_before = 0, pending_rows = 0;
    kn_status e = KN_OK;
    if ((rc = cli_alerts_open("monitor anomalies", a.alerts, a.record, a.model, &window, &al)) ||
        (rc = cli_alerts_check_sources(al, 1)))
        goto done;
    if (window && a.interval > 0) {
        rc = cli_usage_error("monitor anomalies",
                             "--alerts: the rules have window: %lld rows, the check --interval "
                             "%g s: drop the rules' window, or use --window",
                             (long long)window, a.interval);
        goto done;
    }
    if (a.name)
        only = kn_strdup(a.name);
    else if (strchr(a.model, '@'))
        only = kn_strndup(a.model, (size_t)(strchr(a.model, '@') - a.model));
    if ((a.name || strchr(a.model, '@')) && !only) {
        e = KN_ERR_NOMEM;
        goto done;
    }
    e = cli_resolve_model(a.model, &path);
    if (e == KN_OK) e = load_inputs(path, &in);
    if (e != KN_OK) goto done;
    if (!in.n_num) {
        e = kn_fail(KN_ERR_INVALID,
                    "%s has no numeric input column; the isolation forest scores numeric "
                    "columns only",
                    path);
        goto done;
    }
    if (a.reference) {
        kn_read_opts ro = a.read;
        kn_read_report rep;
        memset(&rep, 0, sizeof rep);
        ro.decls = in.decls;
        ro.n_decls = in.n_decls;
        ro.on_bad_rows = KN_BAD_ROWS_SKIP;
        /* read as the training data was (the artifact's reader settings) */
        e = cli_read_as_trained("monitor anomalies", in.art, NULL, &ro);
        if (e == KN_OK) e = cli_read_frame(a.reference, &ro, &ref, &rep);
    } else {
        e = kn_artifact_reference_rows(in.art, path, &ref, &ref_from);
        if (e == KN_ERR_NOT_FOUND) {
            rc = cli_usage_error("monitor anomalies",
                                 "%s keeps no sample of its training rows (it was written "
                                 "before artifacts kept one): pass --reference FILE, the rows "
                                 "the model was trained on, or rebuild it with kiln run / kiln "
                                 "train --out",
                                 path);
            e = KN_OK;
            goto done;
        }
    }
    if (e == KN_OK) e = read_log(a.log, &in, only, a.interval > 0, &l);
    if (e != KN_OK) goto done;
    if (!only && l.second_model) {
        rc = cli_usage_error("monitor anomalies",
                             "%s holds rows of more than one model ('%s', '%s', ...): give "
                             "--name MODEL, the served model whose rows to score",
                             a.log, l.first_model, l.second_model);
        goto done;
    }
    if (!l.n) {
        e = kn_fail(KN_ERR_INVALID, "%s has no rows%s%s%s to score%s", a.log,
                    only ? " of model '" : "", only ? only : "", only ? "'" : "",
                    only && l.first_model ? " (its rows are of other models: give --name)" : "");
        goto done;
    }
    /* window order */
    order = kn_malloc(l.n * sizeof *order);
    wins = kn_malloc((l.n + 1) * sizeof *wins);
    if (!order || !wins) {
        e = KN_ERR_NOMEM;
        goto done;
    }
    for (size_t i = 0; i < l.n; i++) order[i] = i;
    sort_rows = &l;
    sort_interval = a.interval > 0 ? a.interval : 0;
    qsort(order, l.n, sizeof *order, by_window);
    if (a.interval > 0) {
        for (size_t i = 0; i < l.n;) {
            double k = floor(l.time[order[i]] / a.interval);
            size_t j = i;
            while (j < l.n && floor(l.time[order[j]] / a.interval) == k) j++;
            wins[n_win++] = (win){i, j, k * a.interval};
            i = j;
        }
    } else {
        size_t w = window ? (size_t)window : l.n;
        for (size_t i = 0; i < l.n; i += w)
            wins[n_win++] = (win){i, i + w < l.n ? i + w : l.n, NAN};
    }
    e = batch_frame(&in, &l, order, &cur);
    if (e == KN_OK)
        e = cli_anomalies_new(ref, cur, in.decls, in.n_decls, a.contamination, a.seed, a.alpha,
                              n_win, &an);
    if (e != KN_OK) goto done;
    cli_anomalies_set_predictive(an);
    /* --record: the windows recorded before, and the last one, still filling */
    int found = 0;
    double last = 0;
    if (a.record) {
        e = cli_alerts_last_recorded(al, a.log, a.interval > 0 ? "interval_start_s" : "to", &found,
                                     &last);
        if (e != KN_OK) goto done;
    }
    for (size_t k = 0; k < n_win; k++) {
        const win *w = &wins[k];
        int flagged = 0, alerting = 0, before = 0, pending = 0;
        json_t *res = cli_anomalies_window(an, w->from, w->to, &flagged);
        if (!res) {
            e = KN_ERR_NOMEM;
            goto done;
        }
        json_object_set_new(res, "window", json_integer((json_int_t)(k + 1)));
        json_object_set_new(res, "from", json_integer((json_int_t)w->from));
        json_object_set_new(res, "to", json_integer((json_int_t)w->to));
        json_object_set_new(res, "first_line", json_integer((json_int_t)l.line[order[w->from]]));
        if (a.interval > 0) {
            char when[32];
            utc_text(w->start, when, sizeof when);
            json_object_set_new(res, "interval_start", json_string(when));
            json_object_set_new(res, "interval_start_s", json_real(w->start));
        }
        if (a.record) {
            before = found && (a.interval > 0 ? w->start <= last : (double)w->to <= last);
            pending = !before && k + 1 == n_win &&
                      (a.interval > 0 || (window && w->to - w->from < (size_t)window));
        }
        if (before || pending) {
            n_before += (size_t)before;
            pending_rows += pending ? w->to - w->from : 0;
            json_object_set_new(res, before ? "recorded_before" : "pending", json_true());
            json_object_set_new(res, "alerts", json_array());
        } else {
            kn_alert_inputs ai;
            kn_alert_inputs_init(&ai);
            n_anomalous += (size_t)flagged;
            ai.anomaly_share = json_real_value(json_object_get(res, "share"));
            ai.anomaly_p = json_real_value(json_object_get(res, "p"));
            ai.anomalous = flagged;
            ai.anomalous_windows = (double)n_anomalous;
            json_t *alerts = NULL;
            e = cli_alerts_window(al, k + 1, a.log, window ? (uint64_t)window : 0, w->to - w->from,
                                  flagged, res, &ai, NULL, &alerts, &alerting);
            json_object_set_new(res, "alerts", alerts ? alerts : json_array());
            n_alerting += (size_t)alerting;
        }
        json_array_append_new(results, res);
        if (e != KN_OK) goto done;
    }
    if (cli.json) {
        json_t *j = json_pack(
            "{s:s, s:s, s:s, s:s, s:I, s:I, s:I, s:I, s:I, s:I}", "command", "monitor anomalies",
            "model", a.model, "log", a.log, "reference_source", ref_source, "rows", (json_int_t)l.n,
            "rows_of_other_models", (json_int_t)l.other_models, "non_numeric_cells",
            (json_int_t)l.non_numeric, "windows", (json_int_t)n_win, "windows_anomalous",
            (json_int_t)n_anomalous, "windows_alerting", (json_int_t)n_alerting);
        if (a.interval > 0)
            json_object_set_new(j, "interval_s", json_real(a.interval));
        else
            json_object_set_new(j, "window_rows", json_integer((json_int_t)window));
        if (!a.reference)
            json_object_set_new(j, "reference_sampled_from", json_integer((json_int_t)ref_from));
        if (a.record)
            json_object_set_new(j, "recorded",
                                json_pack("{s:I, s:I}", "windows_recorded_before",
                                          (json_int_t)n_before, "pending_rows",
                                          (json_int_t)pending_rows));
        json_object_set_new(j, "anomaly_model", cli_anomalies_json(an));
        json_object_set(j, "window_results", results);
        if (cli_emit_json(j) != CLI_OK) rc = CLI_ERROR;
    } else {
        json_t *m = cli_anomalies_json(an);
        printf("%zu rows of %s in %zu window%s; isolation forest on %lld reference rows (%s), "
               "threshold %.6g\n",
               l.n, a.log, n_win, n_win == 1 ? "" : "s",
               (long long)json_integer_value(json_object_get(m, "reference_rows")),
               a.reference ? a.reference : "the artifact's sample of its training rows",
               json_real_value(json_object_get(m, "threshold")));
        json_decref(m);
        for (size_t k = 0; k < n_win; k++) {
            json_t *r = json_array_get(results, k);
            const win *w = &wins[k];
            if (a.interval > 0) {
                char when[32];
                utc_text(w->start, when, sizeof when);
                printf("window %zu (%s, %zu rows):", k + 1, when, w->to - w->from);
            } else
                printf("window %zu (rows %zu-%zu):", k + 1, w->from + 1, w->to);
            cli_anomalies_print(r);
            if (json_is_true(json_object_get(r, "recorded_before"))) printf(" (recorded before)");
            if (json_is_true(json_object_get(r, "pending"))) printf(" (pending: still filling)");
            putchar('\n');
        }
        printf("%zu of %zu windows with anomalous rows well over the reference's share\n",
               n_anomalous, n_win);
        if (n_alerting)
            printf("%zu window%s with an open alert\n", n_alerting, n_alerting == 1 ? "" : "s");
        if (l.non_numeric)
            printf("(%zu cells of numeric inputs were not numbers: scored as missing)\n",
                   l.non_numeric);
    }
    if (rc == CLI_OK && (n_anomalous || n_alerting)) rc = CLI_FAIL;
done:
    if (e != KN_OK && rc == CLI_OK) {
        cli_error("monitor anomalies: %s", kn_last_error());
        rc = CLI_ERROR;
    }
    json_decref(results);
    cli_anomalies_free(an);
    cli_alerts_close(al);
    kn_frame_free(ref), kn_frame_free(cur);
    kn_free(order), kn_free(wins), kn_free(path), kn_free(only);
    logrows_free(&l);
    free_decl_names(&in);
    inputs_free(&in);
    return rc;
}
