/* prep: spec YAML parsing (errors name the place) and a run on real files. */
#include "prep_util.h"

#include "kiln/mem.h"
#include "kiln/prep_spec.h"
#include "kiln/tune.h"

#include <string.h>

static void spec_errors_name_the_place(void **state)
{
    (void)state;
    const struct {
        const char *yaml, *needle;
    } bad[] = {
        {"sources: {a: {file: x.csv}}\n", "has no output:"},
        {"output: o.csv\n", "has no sources:"},
        {"sources: {a: {file: x.csv, colour: red}}\noutput: o\n",
         "d/s.yaml:1:28: unknown source key 'colour'"},
        {"sources: {a: {path: x.db}}\noutput: o\n", "needs exactly one of file, sqlite"},
        {"sources: {a: {sqlite: SELECT 1}}\noutput: o\n", "needs path:"},
        {"sources: {a: {file: x}, b: {file: y}}\noutput: o\n", "say which one the frame starts"},
        {"sources: {a: {file: x}}\nframe: {from: b}\noutput: o\n", "'b' is not one of the sources"},
        {"sources: {a: {file: x}}\nframe: {join: [{with: a}]}\noutput: o\n",
         "a join needs with: and on:"},
        {"sources: {a: {file: x}}\nframe: {join: [{with: a, on: [k], right_on: [p, q]}]}\noutput: "
         "o\n",
         "right_on lists more keys than on"},
        {"sources: {a: {group: a, by: [k], aggregate: {n: total v}}}\noutput: o\n",
         "aggregation 'total v' reads 'OP [COLUMN] [by ORDER]'"},
        {"sources: {a: {file: x}}\nsteps: [nope_scaler]\noutput: o\n",
         "d/s.yaml:2:9: no step named 'nope_scaler'"},
        {"sources: {a: {file: x}}\nsteps: [{standard_scaler: {with_meen: true}}]\noutput: o\n",
         "unknown parameter 'with_meen'"},
        {"sources: {a: {file: x, timeout: -1}}\noutput: o\n", "timeout is in seconds"},
        {"sources: {a: {file: x}}\ndedupe: {keep: middle}\noutput: o\n", "keep 'middle'"},
        {"sources: {a: {file: x}}\noutput: o\nextra: 1\n", "unknown key 'extra'"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        kn_prep_spec *s = NULL;
        kn_status e = kn_prep_spec_parse(bad[i].yaml, strlen(bad[i].yaml), "d/s.yaml", &s);
        if (e != KN_ERR_PARSE || !strstr(kn_last_error(), bad[i].needle))
            fail_msg("case %zu: %s; wanted \"%s\"", i, kn_last_error(), bad[i].needle);
    }
}

static void spec_paths_and_defaults(void **state)
{
    (void)state;
    const char *yaml = "sources:\n  orders: {file: o.csv, since: ts}\n"
                       "  g: {group: orders, by: [c], aggregate: {n: count, last: last v by ts}}\n"
                       "frame: {from: orders, join: [{with: g, on: [c]}]}\n"
                       "steps:\n  - standard_scaler\n  - simple_imputer: {columns: [a, b]}\n"
                       "output: out/p.csv\n";
    kn_prep_spec *s;
    KN_CHECK(kn_prep_spec_parse(yaml, strlen(yaml), "/data/specs/p.yaml", &s));
    assert_string_equal(s->sources[0].location, "/data/specs/o.csv");
    assert_string_equal(s->output, "/data/specs/out/p.csv");
    assert_string_equal(s->joins[0].right_on[0], "c");
    assert_int_equal(s->joins[0].how, KN_JOIN_INNER);
    assert_int_equal(s->sources[1].aggs[1].op, KN_AGG_LAST);
    assert_string_equal(s->sources[1].aggs[1].order_by, "ts");
    assert_int_equal(s->steps[0].n_params, 0);
    assert_string_equal(s->steps[1].params[0], "columns=a,b");
    kn_prep_spec_free(s);
}

/* model: {name, params, search}: the search's settings and space, its
 * defaults, and its errors at the spec's line and column. */
static void spec_model_search(void **state)
{
    (void)state;
    const char *yaml = "sources: {a: {file: x.csv}}\ntarget: y\n"
                       "model:\n  name: gbdt\n  params: {n_estimators: 20}\n"
                       "  search:\n    strategy: tpe\n    trials: 7\n    cv: 4\n"
                       "    metric: roc_auc\n    seed: 9\n"
                       "    space: {learning_rate: {log: [0.01, 0.3]}, max_depth: {int: [2, 6]}}\n";
    kn_prep_spec *s;
    KN_CHECK(kn_prep_spec_parse(yaml, strlen(yaml), "d/s.yaml", &s));
    assert_string_equal(s->model.name, "gbdt");
    assert_int_equal(s->model.n_params, 1);
    assert_string_equal(s->model.params[0], "n_estimators=20");
    assert_non_null(s->search.space);
    assert_int_equal(s->search.strategy, KN_TUNE_TPE);
    assert_int_equal(s->search.trials, 7);
    assert_int_equal(s->search.folds, 4);
    assert_string_equal(s->search.metric, "roc_auc");
    assert_true(s->search.has_seed && s->search.seed == 9);
    assert_int_equal(kn_tune_space_size(s->search.space), 2);
    assert_string_equal(kn_tune_space_name(s->search.space, 1), "max_depth");
    kn_prep_spec_free(s);
    /* defaults: random, 20 trials, the evaluation's folds and metric, the run's seed */
    const char *plain = "sources: {a: {file: x.csv}}\ntarget: y\nmodel:\n  name: gbdt\n"
                        "  search: {space: {max_depth: {int: [2, 6]}}}\n";
    KN_CHECK(kn_prep_spec_parse(plain, strlen(plain), "d/s.yaml", &s));
    assert_int_equal(s->search.strategy, KN_TUNE_RANDOM);
    assert_int_equal(s->search.trials, 20);
    assert_int_equal(s->search.folds, 0);
    assert_null(s->search.metric);
    assert_false(s->search.has_seed);
    kn_prep_spec_free(s);
    const struct {
        const char *search, *needle;
    } bad[] = {
        {"{space: {max_dept: {int: [2, 6]}, max_depth: {int: [2, 6]}}}",
         "d/s.yaml:6:20: gbdt has no parameter 'max_dept'"},
        {"{space: {learning_rate: {log: [0, 1]}}}", "log: [0, 1] reaches 0"},
        {"{trials: 0, space: {max_depth: {int: [2, 6]}}}", "d/s.yaml:6:20: trials: 0 is outside"},
        {"{space: {n_estimators: {int: [5, 9]}}}", "n_estimators is searched and also fixed"},
        {"{strategy: grid, space: {learning_rate: {uniform: [0.1, 0.3]}}}",
         "strategy: grid needs grid: N"},
        {"{strategy: halving, prune: true, space: {max_depth: {int: [2, 6]}}}",
         "prune: goes with random, grid and tpe"},
        {"{metric: roc_aux, space: {max_depth: {int: [2, 6]}}}", "roc_aux"},
        {"{trials: 3}", "search needs space:"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        char *text = kn_sprintf("sources: {a: {file: x.csv}}\ntarget: y\nmodel:\n  name: gbdt\n"
                                "  params: {n_estimators: 20}\n  search: %s\n",
                                bad[i].search);
        assert_non_null(text);
        s = NULL;
        kn_status e = kn_prep_spec_parse(text, strlen(text), "d/s.yaml", &s);
        kn_free(text);
        if (e != KN_ERR_PARSE || !strstr(kn_last_error(), bad[i].needle))
            fail_msg("case %zu: %s; wanted \"%s\"", i, kn_last_error(), bad[i].needle);
        assert_null(s);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(spec_errors_name_the_place),
        cmocka_unit_test(spec_paths_and_defaults),
        cmocka_unit_test(spec_model_search),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
