/* kiln compare: do the rows of a file look like the reference rows (the
 * training data), column by column? (kiln/compare.h) */
#include "cli/cli.h"
#include "kiln/compare.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

typedef struct compare_args {
    const char *reference, *data, *ignore;
    double alpha, min_effect;
    kn_read_opts read;
} compare_args;

static const cli_opt compare_opts[] = {
    CLI_OPT_NEED(compare_args, reference, "reference", "FILE",
                 "the reference rows (training data)"),
    CLI_OPT_NEED(compare_args, data, "data", "FILE", "the rows to compare with them"),
    CLI_OPT_TEXT(compare_args, ignore, "ignore", "COLUMNS", "columns not to compare (a,b)"),
    CLI_OPT_NUM(compare_args, alpha, "alpha", "P", "0.01", 1e-12, 0.5,
                "false discovery rate over the columns (Benjamini-Hochberg)"),
    CLI_OPT_NUM(compare_args, min_effect, "min-effect", "X", "0.1", 0, 10,
                "the KS distance, Cramer's V or PSI a flagged column needs at least"),
    CLI_OPT_READ(compare_args, read),
    CLI_OPT_END};

const cli_spec compare_spec = {
    "compare",
    "compare data (do a file's rows look like the reference's?) or models",
    "kiln compare data (or bare kiln compare) compares two files; kiln compare\n"
    "models compares models on the same folds ('kiln compare models --help').\n"
    "\n"
    "Compare every column the two files share: numeric columns with the\n"
    "two-sample Kolmogorov-Smirnov test (distance D, asymptotic p-value) and the\n"
    "population stability index over the reference's deciles; categorical and\n"
    "text columns with the chi-square test of homogeneity (Cramer's V) and the\n"
    "PSI over the values' shares; missing cells count as a value of their own.\n"
    "A column differs when its p-value, adjusted over the columns\n"
    "(Benjamini-Hochberg), is under --alpha and D, V or PSI reaches\n"
    "--min-effect (a tiny shift in a big sample is significant but harmless).\n"
    "Columns are listed most different first. Exit 0: none differs; 1: some do.\n",
    "  kiln compare data --reference train.csv --data this_week.csv\n"
    "  kiln compare --reference train.csv --data test.csv --json\n",
    compare_opts,
    0,
    cmd_compare};

static int by_difference(const void *x, const void *y)
{
    const kn_compare_col *a = x, *b = y;
    if (a->flagged != b->flagged) return b->flagged - a->flagged;
    double ea = isnan(a->psi) ? 0 : a->psi, eb = isnan(b->psi) ? 0 : b->psi;
    return (ea < eb) - (ea > eb);
}

int cmd_compare(int argc, char **argv)
{
    /* kiln compare models ...; kiln compare data ... (or bare: data) */
    if (argc >= 2 && !strcmp(argv[1], "models")) return cmd_compare_models(argc - 1, argv + 1);
    if (argc >= 2 && !strcmp(argv[1], "data")) argc--, argv++;
    compare_args a = {0};
    int rc = cli_parse(&compare_spec, argc, argv, &a, NULL);
    if (rc) return rc < 0 ? CLI_OK : rc;
    kn_read_opts o = a.read;
    kn_frame *ref = NULL, *cur = NULL;
    kn_read_report rep;
    kn_compare_report r = {0};
    kn_compare_opts co;
    kn_compare_opts_default(&co);
    co.alpha = a.alpha;
    co.min_effect = a.min_effect;
    kn_status e = cli_read_frame(a.reference, &o, &ref, &rep);
    if (e == KN_OK) e = cli_read_frame(a.data, &o, &cur, &rep);
    if (e == KN_OK) e = cli_ignore_columns(ref, a.ignore);
    if (e == KN_OK) e = cli_ignore_columns(cur, a.ignore);
    if (e == KN_OK) e = kn_compare_frames(ref, cur, &co, &r);
    if (e != KN_OK) {
        cli_error("compare: %s", kn_last_error());
        kn_frame_free(ref), kn_frame_free(cur);
        return CLI_FAIL;
    }
    qsort(r.cols, r.n_cols, sizeof *r.cols, by_difference);
    if (cli.json) {
        json_t *cols = json_array();
        for (size_t i = 0; i < r.n_cols; i++) {
            const kn_compare_col *c = &r.cols[i];
            json_array_append_new(
                cols,
                json_pack("{s:s, s:s, s:o, s:o, s:o, s:o, s:o, s:I, s:I, s:b}", "column", c->name,
                          "test", c->test, "statistic", cli_json_num(c->statistic), "effect",
                          cli_json_num(c->effect), "p", cli_json_num(c->p), "p_adjusted",
                          cli_json_num(c->p_adjusted), "psi", cli_json_num(c->psi), "n_reference",
                          (json_int_t)c->n_ref, "n", (json_int_t)c->n_cur, "differs", c->flagged));
        }
        json_t *j = json_pack("{s:s, s:s, s:s, s:I, s:I, s:o}", "command", "compare", "reference",
                              a.reference, "data", a.data, "columns_compared", (json_int_t)r.n_cols,
                              "columns_differing", (json_int_t)r.n_flagged, "columns", cols);
        if (cli_emit_json(j) != CLI_OK) rc = CLI_FAIL;
    } else {
        printf("%zu of %zu columns differ between %s and %s\n", r.n_flagged, r.n_cols, a.data,
               a.reference);
        printf("%-24s %-5s %10s %10s %10s %8s  %s\n", "column", "test", "D or V", "p", "p adj.",
               "PSI", "");
        for (size_t i = 0; i < r.n_cols; i++) {
            const kn_compare_col *c = &r.cols[i];
            printf("%-24s %-5s %10.4g %10.3g %10.3g %8.4f  %s\n", c->name, c->test, c->effect, c->p,
                   c->p_adjusted, c->psi, c->flagged ? "differs" : "");
        }
    }
    if (rc == CLI_OK && r.n_flagged) rc = CLI_FAIL;
    kn_compare_report_free(&r);
    kn_frame_free(ref);
    kn_frame_free(cur);
    return rc;
}
