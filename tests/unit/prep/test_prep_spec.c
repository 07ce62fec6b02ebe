/* prep: spec YAML parsing (errors name the place) and a run on real files. */
#include "prep_util.h"

#include "kiln/prep_spec.h"

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

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(spec_errors_name_the_place),
        cmocka_unit_test(spec_paths_and_defaults),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
