/* kiln run's recording of a run (cmd_run.c), shared with kiln monitor
 * retrain, which runs a spec the same way. */
#ifndef KILN_CLI_RUN_H
#define KILN_CLI_RUN_H

#include "cli/cli.h"
#include "kiln/run.h"

/* Record the finished run r of spec s in the store dir (NULL: $KILN_STORE,
 * else ./kiln-store) as kiln run does (parameters, metrics, lineage,
 * stages of the current context, cost, artifact), registering it when the
 * spec has register:. *run_id receives the run's id (new, kn_free). */
kn_status cli_run_record(const char *store, const char *experiment, const char *parent,
                         const kn_prep_spec *s, const kn_run_output *r, double start,
                         char **run_id);

#endif
