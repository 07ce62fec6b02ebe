/* kiln monitor feedback: ground-truth labels that arrive later, joined to
 * the server's prediction log (kiln serve --prediction-log) by request id
 * and row or by a key column of the inputs; the model's live score per
 * model version and window of joined rows, against its test score. */
#include "cli/cli_monitor.h"
#include "kiln/artifact.h"
#include "kiln/livescore.h"
#include "kiln/mem.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

typedef struct feedback_args {
    const char *log, *labels, *id, *row, *key, *label, *model, *store, *metric, *unknown, *alerts;
    double margin;
    int64_t window;
    int record;
    kn_read_opts read;
} feedback_args;

static const cli_opt feedback_opts[] = {
    CLI_OPT_NEED(feedback_args, log, "log", "FILE",
                 "the prediction log (kiln serve --prediction-log)"),
    CLI_OPT_NEED(feedback_args, labels, "labels", "FILE", "the true labels (CSV or any reader)"),
    CLI_OPT_TEXT(feedback_args, id, "id", "COLUMN",
                 "the labels' request id column (default request_id)"),
    CLI_OPT_TEXT(feedback_args, row, "row", "COLUMN",
                 "the labels' row-in-request column (default row; absent: row 0)"),
    CLI_OPT_TEXT(feedback_args, key, "key", "COLUMN",
                 "join on this input column instead of the request id (a value that names "
                 "several logged predictions is an error)"),
    CLI_OPT_TEXT(feedback_args, label, "label", "COLUMN",
                 "the labels' truth column (default: the model's target, else label)"),
    CLI_OPT_TEXT(feedback_args, model, "model", "NAME@STAGE|FILE",
                 "the model, for its target name and test score"),
    CLI_OPT_TEXT(feedback_args, store, "store", "DIR",
                 "the store for NAME@STAGE (default $KILN_STORE, else ./kiln-store)"),
    CLI_OPT_CHOICE(feedback_args, metric, "metric", "accuracy|roc_auc|rmse|mae",
                   "the live metric (default accuracy, or rmse for a regression)"),
    CLI_OPT_NUM(feedback_args, margin, "margin", "X", "0.05", 0, 1e300,
                "alert when a window is worse than the test score by more than X"),
    CLI_OPT_INT(feedback_args, window, "window", "N", "0", 0, 1e9,
                "windows of N joined labels, in the labels' order (0: all as one)"),
    CLI_OPT_TEXT(feedback_args, alerts, "alerts", "FILE",
                 "alert rules on live_* metrics (kiln/alert.h), per version and window"),
    CLI_OPT_FLAG(feedback_args, record, "record",
                 "keep each window's scores (and the alerts) in the store, under --model's "
                 "text: kiln monitor report --model draws them"),
    CLI_OPT_CHOICE(feedback_args, unknown, "unknown", "error|skip",
                   "labels whose request is not in the log: an error (default) or left out"),
    CLI_OPT_READ(feedback_args, read),
    CLI_OPT_END};

static int cmd_monitor_feedback(int argc, char **argv);
const cli_spec monitor_feedback_spec = {
    "monitor feedback",
    "the live score from labels joined to the prediction log",
    "Join true labels to the predictions kiln serve logged (--prediction-log):\n"
    "by request id and row (the labels' --id and --row columns; X-Request-Id\n"
    "of the response), or by an input column (--key, e.g. a customer id).\n"
    "Then score the joined rows per model version and per --window of N labels\n"
    "in the order the labels file lists them, as kiln serve --feedback-window\n"
    "counts labels in the order they arrive (list them in the order they were\n"
    "sent, and both give the same windows; the log's lines are not in request\n"
    "order): accuracy or ROC-AUC (binary, from the logged probabilities of\n"
    "the positive class) for a classifier, RMSE or MAE for a regression. With\n"
    "--model, each window is set against its version's test score (with\n"
    "NAME@STAGE, version V's is NAME@vV's, as kiln serve sets each version\n"
    "against its own; with a file, the file's): worse by more than --margin\n"
    "is an alert.\n"
    "A label whose request the log does not hold is an error naming the ids\n"
    "(nothing is scored, nothing changes); --unknown skip leaves them out and\n"
    "counts them. A prediction labelled twice is scored once, with its first\n"
    "label (the others are counted as duplicates). --alerts FILE evaluates rules on live_accuracy, "
    "live_roc_auc,\n"
    "live_rmse, live_mae and live_drop (the test score minus the live one, the\n"
    "other way round for RMSE and MAE) on each window, per version: incidents\n"
    "go to the rules' sinks once each. --record keeps each window's scores in\n"
    "the store under --model's text (NAME@STAGE as kiln serve records it), so\n"
    "kiln monitor report --model draws the live metric over time.\n"
    "Exit 0: no alert; 1: a window below the test score or an open incident;\n"
    "2: usage; 3: input that cannot be read or joined.\n",
    "  kiln monitor feedback --log predictions.jsonl --labels outcomes.csv --model "
    "credit@production\n"
    "  kiln monitor feedback --log p.jsonl --labels l.csv --key customer_id --window 500 --json\n",
    feedback_opts,
    0,
    cmd_monitor_feedback};

/* One logged row. */
typedef struct logged {
    long long request;
    long row;
    char *key;     /* --key: the input's text; NULL otherwise */
    char *model;   /* the served model's name */
    char *version; /* the model version */
    char *label;   /* a classifier's predicted label */
    double value;  /* a regression's prediction */
    double score;  /* the positive class's probability (NaN: none) */
    size_t line;
} logged;

typedef struct joined {
    size_t at;    /* index into the log */
    size_t label; /* the labels' data row (from 0) */
    char *truth;
} joined;

static void free_log(logged *v, size_t n)
{
    for (size_t i = 0; i < n; i++)
        kn_free(v[i].key), kn_free(v[i].model), kn_free(v[i].version), kn_free(v[i].label);
    kn_free(v);
}

static char *text_of(json_t *j)
{
    if (json_is_string(j)) return kn_strdup(json_string_value(j));
    if (json_is_integer(j)) return kn_sprintf("%lld", (long long)json_integer_value(j));
    if (json_is_real(j)) return kn_sprintf("%.17g", json_real_value(j));
    return NULL;
}

static kn_status read_log(const char *path, const char *key, const char *positive, logged **out,
                          size_t *n_out)
{
    FILE *fp = fopen(path, "r");
    if (!fp)
        return kn_fail(KN_ERR_IO, "%s: cannot open the prediction log: %s", path, strerror(errno));
    char *line = NULL;
    size_t cap = 0, n = 0, room = 0, lineno = 0;
    logged *v = NULL;
    kn_status e = KN_OK;
    ssize_t len;
    while (e == KN_OK && (len = getline(&line, &cap, fp)) >= 0) {
        lineno++;
        if (len <= 1) continue;
        json_error_t err;
        json_t *j = json_loads(line, 0, &err);
        json_t *rid = j ? json_object_get(j, "request_id") : NULL,
               *res = json_object_get(j, "output");
        if (!j || !json_is_integer(rid) || !res) {
            json_decref(j);
            e = kn_fail(KN_ERR_PARSE,
                        "%s:%zu: not a prediction log line (a JSON object with request_id, row, "
                        "inputs, output as kiln serve --prediction-log writes)",
                        path, lineno);
            break;
        }
        if (n == room) {
            room = room ? room * 2 : 1024;
            logged *b = kn_realloc(v, room * sizeof *v);
            if (!b) {
                json_decref(j);
                e = KN_ERR_NOMEM;
                break;
            }
            v = b;
        }
        logged *r = &v[n++];
        memset(r, 0, sizeof *r);
        r->line = lineno;
        r->request = (long long)json_integer_value(rid);
        r->row = (long)json_integer_value(json_object_get(j, "row"));
        r->model = text_of(json_object_get(j, "model"));
        r->version = text_of(json_object_get(j, "version"));
        r->score = NAN;
        r->value = NAN;
        if (json_is_object(res)) {
            r->label = text_of(json_object_get(res, "label"));
            json_t *p = json_object_get(res, "probabilities");
            if (positive && json_is_number(json_object_get(p, positive)))
                r->score = json_number_value(json_object_get(p, positive));
        } else if (json_is_number(res))
            r->value = json_number_value(res);
        if (key) {
            json_t *k = json_object_get(json_object_get(j, "inputs"), key);
            r->key = text_of(k);
            if (!r->key)
                e = kn_fail(KN_ERR_INVALID,
                            "%s:%zu: the row's inputs have no value for --key %s; join by request "
                            "id instead, or log rows with that input",
                            path, lineno, key);
        }
        json_decref(j);
    }
    free(line);
    fclose(fp);
    if (e != KN_OK) {
        free_log(v, n);
        return e;
    }
    *out = v;
    *n_out = n;
    return KN_OK;
}

/* The sorted order of the log for lookups. */
static const logged *sort_base;
static const char *sort_key;
static int by_id(const void *x, const void *y)
{
    const logged *a = &sort_base[*(const size_t *)x], *b = &sort_base[*(const size_t *)y];
    if (sort_key) return strcmp(a->key, b->key);
    if (a->request != b->request) return (a->request > b->request) - (a->request < b->request);
    return (a->row > b->row) - (a->row < b->row);
}

/* Row i of c as text into buf (NULL when missing; cut at cap - 1 bytes). */
static const char *cell(kn_column *c, size_t i, char *buf, size_t cap)
{
    size_t len = 0;
    const char *s = NULL;
    if (!c || kn_column_is_missing(c, i)) return NULL;
    if (kn_column_type(c) == KN_COL_STRING)
        s = kn_column_str(c, i, &len);
    else if (kn_column_type(c) == KN_COL_CATEGORICAL)
        s = kn_column_level(c, kn_column_codes(c)[i], &len);
    else {
        snprintf(buf, cap, "%.17g", kn_column_number(c, i));
        return buf;
    }
    snprintf(buf, cap, "%.*s", (int)(len < cap ? len : cap - 1), s);
    return buf;
}

/* A number written with the reader's thousands separator (one between
 * digits) and decimal mark, as C text in buf ("%.17g"); s itself when it
 * is not such a number (it is then not scored, as before). */
static const char *number_text(const char *s, char thousands, char decimal, char *buf, size_t cap)
{
    if (!thousands && (!decimal || decimal == '.')) return s;
    char t[256];
    size_t k = 0;
    for (size_t i = 0; s[i] && k + 1 < sizeof t; i++) {
        char c = s[i];
        if (thousands && c == thousands && i && (unsigned)(s[i - 1] - '0') <= 9 &&
            (unsigned)(s[i + 1] - '0') <= 9)
            continue;
        if (c == decimal)
            c = '.';
        else if (c == '.' || c == ',')
            return s;
        t[k++] = c;
    }
    t[k] = '\0';
    char *end = NULL;
    double v = strtod(t, &end);
    if (end == t || *end) return s;
    snprintf(buf, cap, "%.17g", v);
    return buf;
}

/* The test score the artifact recorded for metric (NaN: none), and its
 * target and positive class (new strings). */
static kn_status artifact_facts(const char *ref, const char *metric, double *test, char **target,
                                char **positive)
{
    char *path = NULL;
    kn_artifact *art = NULL;
    kn_pipeline *p = NULL;
    *test = NAN;
    kn_status e = cli_resolve_model(ref, &path);
    if (e == KN_OK) e = kn_artifact_read(path, NULL, &art);
    if (e == KN_OK) e = kn_artifact_pipeline(art, &p);
    if (e == KN_OK && kn_pipeline_target(p)) *target = kn_strdup(kn_pipeline_target(p));
    size_t len = 0;
    const char *m = e == KN_OK ? kn_artifact_get(art, KN_ART_METRICS, &len) : NULL;
    json_t *j = m ? json_loadb(m, len, 0, NULL) : NULL;
    json_t *t = json_object_get(json_object_get(j, "test"), metric);
    if (json_is_number(t)) *test = json_number_value(t);
    json_t *pc = json_object_get(j, "positive_class");
    if (json_is_string(pc)) *positive = kn_strdup(json_string_value(pc));
    json_decref(j);
    kn_pipeline_free(p);
    kn_artifact_free(art);
    kn_free(path);
    return e;
}

/* The test score a logged version's windows are set against. With --model
 * NAME@STAGE (a registered model) the log's versions of NAME are the
 * registry's, as kiln serve logs them, and each has its own test score
 * (NAME@vV's), as the server sets each version's live score against its
 * own artifact: a log that spans a promotion would otherwise judge the
 * older version by the newer one's score. With a file, or a version the
 * store does not hold (said once), --model's test score. *ref_out: the
 * reference used (a new string; NULL for --model's). */
static double version_test(const char *model, const logged *l, const char *metric, double fallback,
                           char **ref_out)
{
    *ref_out = NULL;
    if (!model || !l->version || !*l->version || access(model, F_OK) == 0) return fallback;
    size_t name_len = strcspn(model, "@");
    if (!l->model || strlen(l->model) != name_len || strncmp(l->model, model, name_len))
        return fallback; /* another served model's rows: not NAME's versions */
    const char *v = l->version;
    int digits = *v != 0;
    for (const char *c = v; *c; c++) digits &= *c >= '0' && *c <= '9';
    char *ref = digits ? kn_sprintf("%.*s@v%s", (int)name_len, model, v) : NULL;
    double t = NAN;
    char *target = NULL, *positive = NULL;
    kn_status e = ref ? artifact_facts(ref, metric, &t, &target, &positive) : KN_ERR_NOT_FOUND;
    kn_free(target), kn_free(positive);
    if (e != KN_OK) {
        fprintf(stderr,
                "kiln: warning: monitor feedback: version '%s' of the log is not a version of "
                "'%.*s' in the store (%s): its windows are set against %s's test score\n",
                v, (int)name_len, model, ref ? kn_last_error() : "not a version number", model);
        kn_free(ref);
        return fallback;
    }
    *ref_out = ref;
    return t;
}

/* The joined rows as kn_live_score takes them (kiln/livescore.h). */
static double window_metric(const char *metric, const logged *log, const joined *jn, size_t n,
                            const char *positive)
{
    kn_live_metric lm = KN_LIVE_ACCURACY;
    double out = NAN;
    if (kn_live_metric_parse(metric, &lm) != KN_OK) return NAN;
    int regression = lm == KN_LIVE_RMSE || lm == KN_LIVE_MAE;
    kn_live_row *r = kn_malloc((n ? n : 1) * sizeof *r);
    size_t m = 0;
    for (size_t i = 0; r && i < n; i++) {
        const logged *l = &log[jn[i].at];
        kn_live_row x = {.score = l->score, .truth = NAN, .value = l->value};
        if (regression) {
            char *end = NULL;
            double t = strtod(jn[i].truth, &end);
            if (end == jn[i].truth || *end) continue;
            x.truth = t;
        } else {
            if (!l->label) continue;
            x.correct = !strcmp(l->label, jn[i].truth);
            x.positive = positive && !strcmp(jn[i].truth, positive);
            if (lm == KN_LIVE_ROC_AUC && !positive) x.score = NAN;
        }
        r[m++] = x;
    }
    if (r) kn_live_score(lm, r, m, &out);
    kn_free(r);
    return out;
}

/* The rules of --alerts on one window of a version (the version is the
 * incidents' scope): every live metric the window can be scored with, and
 * the test score of the headline one (--metric). */
static kn_status window_alerts(cli_alerting *al, const char *ver, size_t k, const char *data,
                               uint64_t window_rows, size_t rows, int below, const char *metric,
                               double test, const logged *log, const joined *jn,
                               const char *positive, json_t **fired, int *alerting)
{
    kn_alert_inputs in;
    kn_alert_inputs_init(&in);
    kn_live_metric head = KN_LIVE_ACCURACY;
    kn_live_metric_parse(metric, &head);
    for (int m = 0; m < KN_ALERT_N_LIVE; m++) {
        const char *name = kn_live_metric_name((kn_live_metric)m);
        /* the metrics of the headline's kind only (a classifier's labels
         * are not numbers to take an RMSE of) */
        if (kn_live_metric_lower_better((kn_live_metric)m) == kn_live_metric_lower_better(head))
            in.live[m] = window_metric(name, log, jn, rows, positive);
        if (!strcmp(name, metric)) in.live_metric = m, in.live_test[m] = test;
    }
    json_t *extra = json_pack("{s:s, s:s, s:o}", "version", ver, "headline", metric, "test",
                              cli_json_num(test));
    json_t *record = kn_live_record_json(k, ver, ver, rows, (kn_live_metric)in.live_metric, in.live,
                                         in.live_test);
    kn_status e = extra && record ? KN_OK : KN_ERR_NOMEM;
    cli_alerts_set_scope(al, ver);
    if (e == KN_OK)
        e = cli_alerts_window(al, k, data, window_rows, rows, below, record, &in, extra, fired,
                              alerting);
    json_decref(extra), json_decref(record);
    return e;
}

static int cmd_monitor_feedback(int argc, char **argv)
{
    feedback_args a = {0};
    int rc = cli_parse(&monitor_feedback_spec, argc, argv, &a, NULL);
    if (rc) return rc < 0 ? CLI_OK : rc;
    cli_store_dir = a.store;
    const char *id_col = a.id ? a.id : "request_id", *row_col = a.row ? a.row : "row";
    char *target = NULL, *positive = NULL;
    double test = NAN;
    logged *log = NULL;
    size_t n_log = 0, *order = NULL, n_join = 0, n_unknown = 0, n_dup = 0, n_ambiguous = 0;
    joined *jn = NULL;
    kn_frame *lab = NULL;
    char unknown_ids[256] = "", ambiguous_ids[256] = "";
    const char *metric = a.metric;
    kn_status e = KN_OK;
    cli_alerting *al = NULL;
    if (a.record && !a.model)
        return cli_usage_error("monitor feedback", "--record keeps the windows under the model: "
                                                   "give --model NAME@STAGE (as kiln serve "
                                                   "names it)");
    if (a.alerts || a.record) {
        if ((rc = cli_alerts_open("monitor feedback", a.alerts, a.record, a.model ? a.model : a.log,
                                  &a.window, &al)) ||
            (rc = cli_alerts_check_sources(al, 0))) {
            cli_alerts_close(al);
            return rc;
        }
    }
    if (a.model)
        e = artifact_facts(a.model, metric ? metric : "accuracy", &test, &target, &positive);
    if (e == KN_OK) e = read_log(a.log, a.key, positive, &log, &n_log);
    if (e == KN_OK && !metric) {
        int regression = n_log && !log[0].label;
        metric = regression ? "rmse" : "accuracy";
        if (regression && a.model) {
            kn_free(target), kn_free(positive);
            target = positive = NULL;
            e = artifact_facts(a.model, metric, &test, &target, &positive);
        }
    }
    const char *label_col = a.label ? a.label : target ? target : "label";
    char thousands = a.read.thousands, decimal = a.read.decimal;
    if (e == KN_OK) {
        kn_read_opts o = a.read;
        /* the labels are values of the model's target: read as its training data was */
        kn_artifact *art = NULL;
        char *path = NULL;
        if (a.model) {
            e = cli_resolve_model(a.model, &path);
            if (e == KN_OK) e = kn_artifact_read(path, NULL, &art);
            if (e == KN_OK) e = cli_read_as_trained("monitor feedback", art, NULL, &o);
        }
        kn_col_decl d[4] = {{a.key ? a.key : id_col, KN_COL_STRING},
                            {row_col, KN_COL_STRING},
                            {label_col, KN_COL_STRING}};
        o.decls = d;
        o.n_decls = 3;
        kn_read_report rep;
        if (e == KN_OK) e = cli_read_frame(a.labels, &o, &lab, &rep);
        thousands = o.thousands;
        decimal = o.decimal;
        kn_artifact_free(art);
        kn_free(path);
    }
    size_t jid = 0, jrow = 0, jlab = 0;
    int has_row = 0;
    if (e == KN_OK && kn_frame_find(lab, a.key ? a.key : id_col, &jid) != KN_OK)
        e = kn_fail(KN_ERR_INVALID, "%s has no column '%s' to join on; name it with %s", a.labels,
                    a.key ? a.key : id_col, a.key ? "--key" : "--id (or join with --key COLUMN)");
    if (e == KN_OK && kn_frame_find(lab, label_col, &jlab) != KN_OK)
        e = kn_fail(KN_ERR_INVALID, "%s has no label column '%s'; name it with --label", a.labels,
                    label_col);
    if (e == KN_OK && !a.key) has_row = kn_frame_find(lab, row_col, &jrow) == KN_OK;
    if (e == KN_OK) {
        order = kn_malloc((n_log ? n_log : 1) * sizeof *order);
        jn = kn_malloc((kn_frame_n_rows(lab) + 1) * sizeof *jn);
        if (!order || !jn) e = KN_ERR_NOMEM;
    }
    if (e == KN_OK) {
        for (size_t i = 0; i < n_log; i++) order[i] = i;
        sort_base = log;
        sort_key = a.key;
        qsort(order, n_log, sizeof *order, by_id);
        kn_column *cid = kn_frame_col(lab, jid), *crow = has_row ? kn_frame_col(lab, jrow) : NULL,
                  *clab = kn_frame_col(lab, jlab);
        size_t used = 0, aused = 0;
        for (size_t i = 0; e == KN_OK && i < kn_frame_n_rows(lab); i++) {
            char b1[256], b2[256], b3[64], b4[32];
            const char *idt = cell(cid, i, b1, sizeof b1), *truth = cell(clab, i, b2, sizeof b2);
            if (!idt || !truth) continue; /* no label yet */
            if (n_log && !log[0].label)   /* a regression's value, as the reader reads numbers */
                truth = number_text(truth, thousands, decimal, b4, sizeof b4);
            logged probe = {0};
            char *end = NULL;
            if (a.key)
                probe.key = (char *)idt;
            else {
                errno = 0;
                probe.request = strtoll(idt, &end, 10);
                if (!*idt || *end || errno)
                    e = kn_fail(KN_ERR_PARSE,
                                "%s: data row %zu: request id '%s' is not a whole number", a.labels,
                                i + 1, idt);
                const char *rt = crow ? cell(crow, i, b3, sizeof b3) : "0";
                probe.row = rt ? strtol(rt, &end, 10) : 0;
            }
            if (e != KN_OK) break;
            /* bsearch over the sorted order */
            size_t lo = 0, hi = n_log;
            logged *base_probe = &probe;
            while (lo < hi) {
                size_t mid = (lo + hi) / 2;
                const logged *x = &log[order[mid]];
                int c = a.key ? strcmp(x->key, base_probe->key)
                              : (x->request != probe.request
                                     ? (x->request > probe.request) - (x->request < probe.request)
                                     : (x->row > probe.row) - (x->row < probe.row));
                if (c < 0)
                    lo = mid + 1;
                else
                    hi = mid;
            }
            int hit = lo < n_log && (a.key ? !strcmp(log[order[lo]].key, probe.key)
                                           : log[order[lo]].request == probe.request &&
                                                 log[order[lo]].row == probe.row);
            if (!hit) {
                if (n_unknown++ < 5 && used < sizeof unknown_ids - 40)
                    used += (size_t)snprintf(unknown_ids + used, sizeof unknown_ids - used, "%s%s",
                                             used ? ", " : "", idt);
                continue;
            }
            /* a label must name one prediction: a key repeated in the log
               (a customer scored twice, the same rows sent to two versions)
               or a request id logged twice (a server restarted onto the same
               log counts its ids from 1 again) would join an arbitrary one */
            size_t same = 1;
            while (lo + same < n_log && (a.key ? !strcmp(log[order[lo + same]].key, probe.key)
                                               : log[order[lo + same]].request == probe.request &&
                                                     log[order[lo + same]].row == probe.row))
                same++;
            if (same > 1) {
                if (n_ambiguous++ < 3 && aused < sizeof ambiguous_ids - 60)
                    aused +=
                        (size_t)snprintf(ambiguous_ids + aused, sizeof ambiguous_ids - aused,
                                         "%s%s: %zu predictions", aused ? ", " : "", idt, same);
                continue;
            }
            jn[n_join].at = order[lo];
            jn[n_join].label = i;
            if (!(jn[n_join].truth = kn_strdup(truth))) e = KN_ERR_NOMEM;
            n_join++;
        }
    }
    if (e == KN_OK && n_ambiguous)
        e = kn_fail(
            KN_ERR_INVALID,
            "%zu label%s of %s match%s more than one logged prediction (%s %s%s); nothing was "
            "scored: a label must name one prediction: %s",
            n_ambiguous, n_ambiguous == 1 ? "" : "s", a.labels, n_ambiguous == 1 ? "es" : "",
            a.key ? a.key : "request id", ambiguous_ids, n_ambiguous > 3 ? ", ..." : "",
            a.key ? "join on a column that is unique per prediction, or by request id and row "
                    "(--id, --row)"
                  : "the log holds these ids more than once (a server restarted onto the same "
                    "--prediction-log counts its request ids from 1 again): give each run its "
                    "own log");
    if (e == KN_OK && n_unknown && (!a.unknown || !strcmp(a.unknown, "error")))
        e = kn_fail(KN_ERR_NOT_FOUND,
                    "%zu label%s of %s match%s no logged prediction (%s %s%s); nothing was scored: "
                    "check the ids against %s, or give --unknown skip to leave them out",
                    n_unknown, n_unknown == 1 ? "" : "s", a.labels, n_unknown == 1 ? "es" : "",
                    a.key ? a.key : "request ids", unknown_ids, n_unknown > 5 ? ", ..." : "",
                    a.log);
    if (e != KN_OK) {
        cli_error("monitor feedback: %s", kn_last_error());
        rc = CLI_ERROR;
        goto done;
    }
    {
        /* the labels' order, then per version and window: kiln serve
         * fills its windows with labels in the order they arrive, and its
         * prediction log's lines are not in request order (64 buffers
         * written every 50 ms), so neither the log's order nor the request
         * ids' would give the server's windows. A prediction labelled
         * twice (labels appended again, a retried upload) is scored once,
         * with its first label, as kiln serve's feedback route does. */
        unsigned char *labelled = kn_calloc(n_log ? n_log : 1, 1);
        if (!labelled) {
            cli_error("monitor feedback: out of memory");
            rc = CLI_ERROR;
            goto done;
        }
        size_t kept = 0;
        for (size_t i = 0; i < n_join; i++)
            if (labelled[jn[i].at]) {
                kn_free(jn[i].truth);
                n_dup++;
            } else {
                labelled[jn[i].at] = 1;
                jn[kept++] = jn[i];
            }
        kn_free(labelled);
        n_join = kept;
        int lower_better = !strcmp(metric, "rmse") || !strcmp(metric, "mae");
        json_t *vers = json_array();
        size_t n_below = 0, n_alerting = 0;
        joined *part = kn_malloc((n_join + 1) * sizeof *part);
        if (!part || !vers) {
            json_decref(vers);
            kn_free(part);
            cli_error("monitor feedback: out of memory");
            rc = CLI_ERROR;
            goto done;
        }
        if (!cli.json)
            printf("%zu labels joined to %zu logged predictions%s; %s per window%s\n", n_join,
                   n_log, n_unknown ? " (unknown ones left out)" : "", metric,
                   isnan(test) ? " (no test score to set it against: give --model)" : "");
        if (!cli.json && n_dup)
            printf("%zu label%s left out: %s prediction had a label before (the first counts)\n",
                   n_dup, n_dup == 1 ? "" : "s", n_dup == 1 ? "its" : "their");
        if (!cli.json && !isnan(test)) printf("test %s %.4f, margin %g\n", metric, test, a.margin);
        for (size_t i = 0; i < n_join; i++) {
            const char *ver = log[jn[i].at].version ? log[jn[i].at].version : "";
            int seen = 0;
            for (size_t k = 0; k < i && !seen; k++)
                seen = !strcmp(log[jn[k].at].version ? log[jn[k].at].version : "", ver);
            if (seen) continue;
            size_t m = 0;
            for (size_t k = i; k < n_join; k++)
                if (!strcmp(log[jn[k].at].version ? log[jn[k].at].version : "", ver))
                    part[m++] = jn[k];
            size_t win = a.window ? (size_t)a.window : m;
            char *vref = NULL;
            double vtest = version_test(a.model, &log[jn[i].at], metric, test, &vref);
            if (!cli.json && vref)
                printf("version %-6s test %s %.4f (%s's own)\n", ver, metric, vtest, vref);
            kn_free(vref);
            json_t *wins = json_array();
            for (size_t from = 0; from < m; from += win) {
                size_t to = from + win < m ? from + win : m;
                double v = window_metric(metric, log, part + from, to - from, positive);
                int below = !isnan(vtest) && !isnan(v) &&
                            (lower_better ? v > vtest + a.margin : v < vtest - a.margin);
                n_below += (size_t)below;
                /* from_label/to_label: the labels' data rows (from 1) that
                 * open and close the window; from_line/to_line: the log
                 * lines of their predictions */
                json_t *wj =
                    json_pack("{s:I, s:I, s:I, s:I, s:I, s:I, s:o, s:b}", "from_label",
                              (json_int_t)part[from].label + 1, "to_label",
                              (json_int_t)part[to - 1].label + 1, "from_line",
                              (json_int_t)log[part[from].at].line, "to_line",
                              (json_int_t)log[part[to - 1].at].line, "rows",
                              (json_int_t)(to - from), "window", (json_int_t)(from / win + 1),
                              metric, cli_json_num(v), "below_test", below);
                if (al) {
                    int alerting = 0;
                    json_t *fired = NULL;
                    kn_status ae = window_alerts(al, ver, from / win + 1, a.labels, (uint64_t)win,
                                                 to - from, below, metric, vtest, log, part + from,
                                                 positive, &fired, &alerting);
                    if (ae != KN_OK) {
                        json_decref(wj), json_decref(fired), json_decref(wins), json_decref(vers);
                        kn_free(part);
                        cli_error("monitor feedback: --alerts: %s", kn_last_error());
                        rc = CLI_ERROR;
                        goto done;
                    }
                    n_alerting += (size_t)alerting;
                    json_object_set_new(wj, "alerts", fired);
                }
                json_array_append_new(wins, wj);
                if (!cli.json)
                    printf("version %-6s window %-4zu rows %-6zu %s %.4f%s\n", ver, from / win + 1,
                           to - from, metric, v, below ? "  ALERT: below the test score" : "");
            }
            json_array_append_new(vers, json_pack("{s:s, s:I, s:o, s:o}", "version", ver, "rows",
                                                  (json_int_t)m, "test", cli_json_num(vtest),
                                                  "windows", wins));
        }
        kn_free(part);
        if (cli.json) {
            json_t *j = json_pack("{s:s, s:s, s:s, s:s, s:I, s:I, s:I, s:I, s:o, s:f, s:I, s:o}",
                                  "command", "monitor feedback", "log", a.log, "labels", a.labels,
                                  "metric", metric, "logged", (json_int_t)n_log, "joined",
                                  (json_int_t)n_join, "unknown", (json_int_t)n_unknown, "duplicate",
                                  (json_int_t)n_dup, "test", cli_json_num(test), "margin", a.margin,
                                  "windows_below", (json_int_t)n_below, "versions", vers);
            if (cli_emit_json(j) != CLI_OK) rc = CLI_ERROR;
        } else
            json_decref(vers);
        if (rc == CLI_OK && (n_below || n_alerting)) rc = CLI_FAIL;
    }
done:
    cli_alerts_close(al);
    for (size_t i = 0; jn && i < n_join; i++) kn_free(jn[i].truth);
    kn_free(jn), kn_free(order), kn_free(target), kn_free(positive);
    free_log(log, n_log);
    kn_frame_free(lab);
    return rc;
}
