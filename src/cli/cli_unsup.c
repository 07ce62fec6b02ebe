/* Shared by kiln anomaly and kiln cluster: an unsupervised model made from
 * its name and --param values, and fitted on a file's rows. */
#include "cli/cli.h"
#include "kiln/model.h"
#include "kiln/stage.h"

int cli_unsupervised_model(const char *name, const cli_list *params, int validate, kn_model **m)
{
    if (kn_model_new(name, m) != KN_OK) {
        cli_error("%s", kn_last_error());
        return CLI_FAIL;
    }
    for (size_t k = 0; k < params->n; k++)
        if (kn_model_set(*m, params->v[k]) != KN_OK) {
            cli_error("--param %s: %s", params->v[k], kn_last_error());
            kn_model_free(*m);
            *m = NULL;
            return CLI_USAGE;
        }
    if (validate && kn_model_validate(*m) != KN_OK) {
        cli_error("%s", kn_last_error());
        kn_model_free(*m);
        *m = NULL;
        return CLI_USAGE;
    }
    return CLI_OK;
}

kn_status cli_unsupervised_fit(kn_model *m, const char *data, kn_read_opts *o, const char *ignore,
                               kn_frame **f)
{
    kn_read_report rep;
    kn_status e = cli_read_frame(data, o, f, &rep);
    if (e == KN_OK) e = cli_ignore_columns(*f, ignore);
    if (e == KN_OK) e = cli_refuse_infinite(*f, NULL);
    kn_stage_begin("fit");
    if (e == KN_OK) e = kn_model_fit(m, *f, NULL, NULL);
    kn_stage_end();
    return e;
}
