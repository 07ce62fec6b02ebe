/* The cross-validation options shared by kiln cv and kiln curve. */
#include "cli/cli_cv.h"
#include "kiln/model.h"

#include <string.h>

/* The model, its parameters and their rules across parameters (a stacking
 * list of one model), checked before the data is read. */
static int check_model(const cli_spec *spec, const kn_cv_spec *s)
{
    kn_model *m = NULL;
    if (kn_model_new(s->model, &m) != KN_OK)
        return cli_usage_error(spec->name, "%s; 'kiln help models' lists them", kn_last_error());
    int rc = CLI_OK;
    for (size_t k = 0; rc == CLI_OK && k < s->n_params; k++)
        if (kn_model_set(m, s->params[k]) != KN_OK) {
            cli_error("%s: --param %s: %s", spec->name, s->params[k], kn_last_error());
            rc = CLI_FAIL;
        }
    if (rc == CLI_OK && kn_model_validate(m) != KN_OK) {
        cli_error("%s: %s", spec->name, kn_last_error());
        rc = CLI_FAIL;
    }
    kn_model_free(m);
    return rc;
}

int cli_cv_parse(const cli_spec *spec, int argc, char **argv, kn_read_opts *o, cv_args *a)
{
    kn_cv_spec *s = &a->spec;
    kn_split_opts_default(&s->split);
    s->split.kind = KN_SPLIT_AUTO;
    uint64_t given = 0;
    int rc = cli_parse(spec, argc, argv, a, &given);
    if (rc) return rc;
    *o = a->read;
    int stratify = a->stratify, no_stratify = a->no_stratify, time_series = a->time_series,
        seeded = cli_given(spec, given, "seed");
    s->target = a->target;
    s->model = a->model;
    s->weight = a->weight;
    s->groups = a->groups;
    if (s->groups) s->split.kind = KN_SPLIT_GROUP;
    s->order_by = a->order_by;
    s->task = a->task;
    s->positive_class = a->positive_class;
    s->split.folds = (size_t)a->folds;
    s->split.repeats = (size_t)a->repeats;
    s->split.gap = (size_t)a->gap;
    s->split.test_size = (size_t)a->test_rows;
    s->split.max_train = (size_t)a->max_train;
    s->split.seed = a->seed;
    s->split.shuffle = a->shuffle;
    s->threads = (int)a->jobs;
    s->n_params = a->params.n;
    s->n_steps = a->steps.n;
    if (stratify + no_stratify + time_series + (s->groups != NULL) > 1)
        return cli_usage_error(spec->name, "choose one of --stratify, --no-stratify, --groups and "
                                           "--time-series");
    if (stratify) s->split.kind = KN_SPLIT_STRATIFIED;
    if (no_stratify) s->split.kind = KN_SPLIT_KFOLD;
    if (time_series) s->split.kind = KN_SPLIT_TIME;
    /* a seed seeds the shuffle: given alone it asks for one (a sorted file
     * split in order gives folds that miss classes); group and time-series
     * folds are never shuffled, so there it only seeds the command's own
     * work, if any */
    int unshuffled = time_series || s->groups;
    if (seeded && unshuffled && !a->seed_seeds_more)
        return cli_usage_error(spec->name,
                               "--seed seeds the shuffle of k-fold and stratified splits; "
                               "%s folds are not shuffled: drop --seed",
                               time_series ? "time-series" : "group");
    if (seeded && !unshuffled) s->split.shuffle = 1;
    if (s->split.shuffle && (time_series || s->groups))
        return cli_usage_error(spec->name,
                               "--shuffle goes with k-fold and stratified splits, not %s",
                               time_series ? "--time-series" : "--groups");
    if (s->order_by && !time_series)
        return cli_usage_error(spec->name, "--order-by goes with --time-series");
    s->params = a->params.v;
    s->steps = a->steps.v;
    return check_model(spec, s);
}

kn_status cli_cv_frame(const cv_args *a, kn_read_opts *o, kn_frame **f)
{
    kn_read_report rep;
    kn_status e = cli_read_frame(a->data, o, f, &rep);
    if (e == KN_OK) e = cli_ignore_columns(*f, a->ignore);
    if (e == KN_OK) e = cli_target_rows(f, a->spec.target, a->drop_missing_target);
    if (e == KN_OK) e = cli_refuse_infinite(*f, a->spec.target);
    return e;
}
