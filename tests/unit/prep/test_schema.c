/* prep: schemas (YAML parse errors, inference, round trip) and validation. */
#include "prep_util.h"

#include "kiln/schema.h"

#include <string.h>

static kn_schema *parse(const char *yaml)
{
    kn_schema *s;
    KN_CHECK(kn_schema_parse(yaml, strlen(yaml), "s.yaml", &s));
    return s;
}

static void parse_errors_name_the_place(void **state)
{
    (void)state;
    kn_schema *s;
    const struct {
        const char *yaml, *needle;
    } bad[] = {
        {"columns:\n  - name: a\n    typo: numeric\n", "s.yaml:3:5: unknown column key 'typo'"},
        {"columns:\n  - name: a\n    type: decimal\n", "s.yaml:3:11: type 'decimal' is not one of"},
        {"columns:\n  - name: a\n", "s.yaml:2:5: column 'a' has no type"},
        {"columns:\n  - {name: a, type: string, pattern: '(a'}\n", "is not a valid POSIX"},
        {"columns:\n  - {name: a, type: string, pattern: 'a+*'}\n", "stacked quantifiers"},
        {"columns:\n  - {name: a, type: numeric, max_missing: 2}\n", "fraction between 0 and 1"},
        {"columns:\n  - {name: a, type: string, min: 1}\n", "min/max apply to numeric"},
        {"columns:\n  - {name: a, type: numeric, min: 5, max: 1}\n", "min is above max"},
        {"columns: [{name: a, type: numeric}, {name: a, type: string}]\n", "declared twice"},
        {"keys: [b]\ncolumns: [{name: a, type: numeric}]\n", "key column 'b' is not among"},
        {"on_violation: ignore\ncolumns: []\n", "not one of fail, drop, quarantine"},
        {"version: 2\ncolumns: []\n", "schema version 2 is not supported"},
        {"columns: []\ncolumns: []\n", "key 'columns' appears twice"},
        {"rows: {min: -1}\ncolumns: []\n", "whole number of rows"},
        {"columns: [\n", "s.yaml:2:1: YAML:"},
        {"- a\n- b\n", "a schema is a YAML mapping"},
        {"version: 1\n", "has no 'columns:' list"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++)
        KN_CHECK_FAILS(kn_schema_parse(bad[i].yaml, strlen(bad[i].yaml), "s.yaml", &s),
                       KN_ERR_PARSE, bad[i].needle);
}

static void infer_round_trips(void **state)
{
    (void)state;
    kn_frame *f = read_as(".csv", "id,x,g,t\n1,0.5,a,2024-01-01\n2,,b,2024-03-01T12:00:00Z\n"
                                  "3,2.25,a,2024-02-01\n");
    kn_schema *s;
    KN_CHECK(kn_schema_infer(f, 10, &s));
    assert_int_equal(s->n_cols, 4);
    assert_true(s->cols[1].has_min && s->cols[1].min == 0.5 && s->cols[1].max == 2.25);
    assert_true(s->cols[1].max_missing == 0.34); /* 1/3, rounded up to a whole percent */
    assert_true(s->cols[0].max_missing == 0);
    assert_int_equal(s->cols[2].n_categories, 2);
    assert_string_equal(s->cols[2].categories[1], "b");
    char *y1, *y2;
    KN_CHECK(kn_schema_to_yaml(s, "from test", &y1));
    assert_non_null(strstr(y1, "max: '2024-03-01T12:00:00Z'"));
    kn_schema *back = parse(y1);
    KN_CHECK(kn_schema_to_yaml(back, "from test", &y2));
    assert_string_equal(y1, y2);
    kn_validation *v;
    KN_CHECK(kn_schema_validate(back, f, &v));
    assert_int_equal(v->n_violations, 0);
    assert_false(v->failed);
    kn_validation_free(v);
    kn_free(y1);
    kn_free(y2);
    kn_schema_free(s);
    kn_schema_free(back);
    kn_frame_free(f);
}

/* Anchors, aliases and merge keys give what the expanded text gives. */
static void aliases_mean_the_anchored_value(void **state)
{
    (void)state;
    kn_schema *a = parse("on_violation: &p drop\n"
                         "columns:\n"
                         "  - &base {name: x, type: numeric, min: &lo -1, max: 5}\n"
                         "  - {name: g, type: categorical, categories: &cats [u, v]}\n"
                         "  - {<<: *base, name: y, on_violation: *p}\n"
                         "  - {name: h, <<: [{type: string, categories: *cats}, {type: numeric}]}\n"
                         "  - {name: z, type: numeric, min: *lo, max: &lo 7}\n"
                         "  - {name: w, type: numeric, max: *lo}\n");
    kn_schema *b = parse("on_violation: drop\n"
                         "columns:\n"
                         "  - {name: x, type: numeric, min: -1, max: 5}\n"
                         "  - {name: g, type: categorical, categories: [u, v]}\n"
                         "  - {name: y, type: numeric, min: -1, max: 5, on_violation: drop}\n"
                         "  - {name: h, type: string, categories: [u, v]}\n"
                         "  - {name: z, type: numeric, min: -1, max: 7}\n"
                         "  - {name: w, type: numeric, max: 7}\n");
    char *ya, *yb;
    KN_CHECK(kn_schema_to_yaml(a, NULL, &ya));
    KN_CHECK(kn_schema_to_yaml(b, NULL, &yb));
    assert_string_equal(ya, yb);
    kn_free(ya);
    kn_free(yb);
    kn_schema_free(a);
    kn_schema_free(b);
    kn_schema *s;
    const struct {
        const char *yaml, *needle;
    } bad[] = {
        {"columns:\n  - {name: a, type: *t}\n", "s.yaml:2:21: alias *t has no anchor &t"},
        {"columns: &c\n  - {name: a, type: numeric, x: *c}\n", "s.yaml:2:33: alias *c is inside"},
        {"columns:\n  - {name: a, <<: 1}\n", "s.yaml:2:19: '<<' merges a mapping or a list"},
        {"columns:\n  - {name: a, <<: [x]}\n", "s.yaml:2:20: '<<' merges mappings"},
        {"columns: []\n---\ncolumns: []\n", "s.yaml:2:1: a second YAML document"},
        {"columns:\n  - {name: a, name: b, type: numeric}\n", "key 'name' appears twice"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++)
        KN_CHECK_FAILS(kn_schema_parse(bad[i].yaml, strlen(bad[i].yaml), "s.yaml", &s),
                       KN_ERR_PARSE, bad[i].needle);
}

/* Every text column keeps its levels unless it looks like free text or an
 * identifier; those say why. A 51-level column with max_categories 50 was
 * left open before. */
static void infer_records_levels_of_text_columns(void **state)
{
    (void)state;
    char *csv = kn_malloc(64 * 600), *p = csv;
    p += sprintf(p, "id,code,empty\n");
    for (int i = 0; i < 510; i++) p += sprintf(p, "ID%04d,C%02d,\n", i, i % 51);
    kn_frame *f = read_as(".csv", csv);
    kn_free(csv);
    kn_schema *s;
    KN_CHECK(kn_schema_infer(f, 50, &s));
    assert_null(s->cols[1].unconstrained);
    assert_int_equal(s->cols[1].n_categories, 51);
    assert_string_equal(s->cols[1].categories[50], "C50");
    assert_null(s->cols[0].categories);
    assert_non_null(strstr(s->cols[0].unconstrained, "free text / identifier: 510 distinct"));
    assert_true(s->cols[0].unique);
    assert_non_null(strstr(s->cols[2].unconstrained, "no values"));
    char *y;
    KN_CHECK(kn_schema_to_yaml(s, NULL, &y));
    assert_non_null(strstr(y, "  # free text / identifier: 510 distinct of 510 values, 510 seen "
                              "once; levels not recorded\n  - name: 'id'"));
    kn_free(y);
    kn_schema_free(s);
    /* a string column (the reader's type for long text) keeps its levels too */
    const char *text = "s\nalpha\nbeta\nalpha\n";
    const char *path = test_write_file(".csv", text, strlen(text));
    kn_read_opts o;
    kn_read_opts_default(&o);
    KN_CHECK(kn_param_set(kn_read_params(), &o, "types=s:string"));
    kn_frame *g;
    KN_CHECK(kn_frame_read(path, &o, &g, NULL));
    remove(path);
    KN_CHECK(kn_schema_infer(g, 50, &s));
    assert_int_equal(s->cols[0].type, KN_COL_STRING);
    assert_int_equal(s->cols[0].n_categories, 2);
    assert_string_equal(s->cols[0].categories[1], "beta");
    kn_schema_free(s);
    kn_frame_free(g);
    kn_frame_free(f);
}

static const kn_violation *find(const kn_validation *v, const char *column, const char *rule)
{
    for (size_t i = 0; i < v->n_violations; i++)
        if ((column ? v->violations[i].column && !strcmp(v->violations[i].column, column)
                    : !v->violations[i].column) &&
            !strcmp(v->violations[i].rule, rule))
            return &v->violations[i];
    fail_msg("no violation %s/%s", column ? column : "(table)", rule);
    return NULL;
}

static void every_rule_counts_rows(void **state)
{
    (void)state;
    kn_frame *f = read_as(".csv", "id,age,grade,email\n1,30,A,a@x.org\n2,-4,B,b@x.org\n"
                                  "3,,C,c@x.org\n4,50,D,d@x.org\n5,60,A,not-an-email\n"
                                  "5,61,A,e@x.org\n7,200,B,f@x.org\n");
    kn_schema *s = parse("keys: [id]\non_violation: quarantine\ncolumns:\n"
                         "  - {name: id, type: numeric, unique: true}\n"
                         "  - {name: age, type: numeric, max_missing: 0, min: 0, max: 120,"
                         " on_violation: drop}\n"
                         "  - {name: grade, type: categorical, categories: [A, B, C]}\n"
                         "  - {name: email, type: string, pattern: '[^@ ]+@[^@ ]+'}\n"
                         "  - {name: extra, type: string, required: false}\n");
    kn_validation *v;
    KN_CHECK(kn_schema_validate(s, f, &v));
    const kn_violation *x = find(v, "age", "min");
    assert_int_equal(x->count, 1);
    assert_int_equal(x->examples[0], 1);
    assert_int_equal(x->policy, KN_POLICY_DROP);
    assert_int_equal(find(v, "age", "max")->examples[0], 6);
    assert_int_equal(find(v, "age", "missing")->examples[0], 2);
    assert_int_equal(find(v, "grade", "categories")->examples[0], 3);
    assert_int_equal(find(v, "email", "pattern")->examples[0], 4);
    assert_int_equal(find(v, "id", "unique")->examples[0], 5);
    assert_int_equal(find(v, NULL, "keys")->count, 1);
    assert_int_equal(v->n_violations, 7); /* the optional column is not one */
    /* rows 2,3,7 dropped (age); 4,5,6 quarantined; row 1 kept */
    assert_int_equal(v->rows_dropped, 3);
    assert_int_equal(v->rows_quarantined, 3);
    assert_false(v->failed);
    kn_validation_free(v);
    kn_schema_free(s);
    /* column rules fail whatever the policy */
    s = parse("rows: {min: 10}\non_violation: drop\ncolumns:\n"
              "  - {name: nope, type: numeric}\n  - {name: grade, type: numeric}\n"
              "  - {name: age, type: numeric, max_missing: 0.1}\n");
    KN_CHECK(kn_schema_validate(s, f, &v));
    assert_true(v->failed);
    assert_non_null(strstr(find(v, "nope", "required")->detail, "is absent"));
    assert_non_null(strstr(find(v, "grade", "type")->detail, "reader option types=grade:numeric"));
    assert_non_null(strstr(find(v, "age", "max_missing")->detail, "14.29% of values"));
    assert_non_null(strstr(find(v, NULL, "rows")->detail, "7 rows"));
    assert_int_equal(v->rows_dropped, 0);
    kn_validation_free(v);
    kn_schema_free(s);
    kn_frame_free(f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(parse_errors_name_the_place),
        cmocka_unit_test(infer_round_trips),
        cmocka_unit_test(aliases_mean_the_anchored_value),
        cmocka_unit_test(infer_records_levels_of_text_columns),
        cmocka_unit_test(every_rule_counts_rows),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
