/* The retraining trigger (cmd_monitor_retrain.c): run a spec on fresh
 * data as kiln run does, register the result at stage staging, score
 * staging and production on a holdout, and promote staging through the
 * registry's gate only when it is better by a margin; every step an audit
 * row of the model (kiln/store.h, kn_store_retrain_begin). Used by
 * `kiln monitor retrain` and by an alert rule's retrain: action in
 * `kiln monitor check --record`. */
#ifndef KILN_CLI_RETRAIN_H
#define KILN_CLI_RETRAIN_H

#include "cli/cli.h"
#include "kiln/store.h"

typedef struct cli_retrain_req {
    const char *model;   /* the registered model's name */
    const char *spec;    /* the pipeline spec to run */
    const char *data;    /* replaces the spec's one source, or NULL: its own sources */
    const char *holdout; /* labelled rows both versions are scored on */
    double margin;       /* staging must beat production by at least this much */
    const char *key;     /* the rule and incident that fired it, or NULL: by hand */
    const char *trigger; /* what fired it (the trigger row's detail), or NULL */
    double stale_s;      /* a retrain without an end row this old counts as abandoned */
    const char *experiment;
    const char *actor;
} cli_retrain_req;

typedef enum {
    CLI_RETRAIN_PROMOTED = 0, /* staging is now production */
    CLI_RETRAIN_REFUSED = 1,  /* staging stays in staging: not better, or the gate refused */
    CLI_RETRAIN_SKIPPED = 2,  /* another retrain holds the model or this incident */
    CLI_RETRAIN_FAILED = 3    /* an error (kn_last_error(); audited when the retrain began) */
} cli_retrain_outcome;

/* Run one retrain with the store s (store_dir: its folder as given, NULL
 * for the default). *out receives what happened as JSON (new reference,
 * also on failure): retrain (the trigger row's id), outcome, reason, run_id,
 * version, metric, staging, production, production_version, margin,
 * promoted (true only when staging became production),
 * holdout_rows. */
cli_retrain_outcome cli_retrain(kn_store *s, const char *store_dir, const cli_retrain_req *q,
                                json_t **out);

extern const cli_spec monitor_retrain_spec;

#endif
