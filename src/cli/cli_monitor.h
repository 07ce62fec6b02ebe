/* kiln monitor's alerting and recording (cli_alerts.c), used by
 * cmd_monitor.c: per window of a check, each rule's value, its incident
 * (in the store with --record, else for this run) and the delivery of a
 * new or undelivered incident to the sinks; the window's result kept in
 * the store with --record. */
#ifndef KILN_CLI_MONITOR_H
#define KILN_CLI_MONITOR_H

#include "cli/cli.h"
#include "kiln/alert.h"
#include "kiln/artifact.h"
#include "kiln/drift_ref.h"
#include "kiln/store.h"

typedef struct cli_alerting cli_alerting;

/* Read the rules (file may be NULL: none) and open the store when record;
 * cmd ("monitor check") names the command in messages (static).
 * *window: the rules' window when the command gave none (0: none); a rule
 * window that differs from the command's is a usage error. CLI_OK, or the
 * exit code with the error printed. */
int cli_alerts_open(const char *cmd, const char *file, int record, const char *model,
                    int64_t *window, cli_alerting **out);
/* A rule whose metric the command cannot measure (cmd "monitor ops": an
 * ops_* metric only; "monitor anomalies": anomaly metrics only; "monitor
 * check": drift metrics, anomaly metrics with anomalies on): CLI_USAGE,
 * printed. */
int cli_alerts_check_sources(const cli_alerting *al, int anomalies);
/* A rule naming a column outside names: CLI_USAGE, printed. */
int cli_alerts_check_columns(const cli_alerting *al, const char *const *names, size_t n);
/* Window k (1-based) of a check of `data`: record result (the window's
 * JSON) when recording; evaluate every rule on what the window measured
 * (in); deliver new incidents, each with extra's keys (borrowed; may be
 * NULL) added to what it carries.
 * *alerts receives the rules' states (new JSON array) and *alerting 1
 * when an incident is open. */
kn_status cli_alerts_window(cli_alerting *al, size_t k, const char *data, uint64_t window_rows,
                            uint64_t rows, int drift, json_t *result, const kn_alert_inputs *in,
                            json_t *extra, json_t **alerts, int *alerting);
void cli_alerts_close(cli_alerting *al);
/* The scope of the windows that follow (kiln/incident.h: its own streaks
 * and incidents; e.g. a model version; borrowed until the next call; NULL:
 * the model's own). */
void cli_alerts_set_scope(cli_alerting *al, const char *scope);
/* The store --record opened (borrowed), or NULL. */
kn_store *cli_alerts_store(const cli_alerting *al);
/* The latest window of `data` recorded for model: *found 0 when none; else
 * its result's number `key` (e.g. "interval_start_s", "to") in *value. */
kn_status cli_alerts_last_recorded(const cli_alerting *al, const char *data, const char *key,
                                   int *found, double *value);
/* "2026-12-06T10:40:00.123456Z" as seconds since 1970 (-1: not that). */
int cli_parse_utc(const char *s, double *out);
/* The artifact's drift reference (cli_monitor_ref.c): *out new, or NULL
 * when the artifact holds none (written before KN_ART_REFERENCE). */
kn_status cli_monitor_ref_load(const kn_artifact *art, const char *path, kn_drift_ref **out);
/* The batch's predictions yc against the reference's stored predictions;
 * *tested 0 when it holds none that fit the model's task. */
kn_status cli_monitor_ref_predictions(const kn_drift_ref *r, const kn_model *m, const double *yc,
                                      size_t nc, const kn_drift_opts *o, kn_drift_col *out,
                                      int *tested);
/* kiln monitor alerts (cli_alerts.c), kiln monitor feedback */
extern const cli_spec monitor_alerts_spec;
extern const cli_spec monitor_feedback_spec;
extern const cli_spec monitor_report_spec;
extern const cli_spec monitor_ops_spec;       /* cmd_monitor_ops.c */
extern const cli_spec monitor_anomalies_spec; /* cmd_monitor_anomalies.c */

#endif
