/* kiln convert IN OUT: between every supported format. */
#include "cli/cli.h"
#include "kiln/stage.h"

typedef struct convert_args {
    const char *in, *out, *to;
    int overwrite_input;
    kn_read_opts read;
} convert_args;

static const cli_opt convert_opts[] = {
    CLI_OPT_ARG(convert_args, in, "IN", 1, "the file to read ('-': CSV on standard input)"),
    CLI_OPT_ARG(convert_args, out, "OUT", 1, "the file to write"),
    CLI_OPT_TEXT(convert_args, to, "to", "FORMAT",
                 "OUT's format: csv, arff, libsvm, jsonl, kfr (default: from its extension)"),
    CLI_OPT_FLAG(convert_args, overwrite_input, "overwrite-input", "allow OUT to replace IN"),
    CLI_OPT_READ(convert_args, read),
    CLI_OPT_END};

const cli_spec convert_spec = {
    "convert",
    "convert between CSV, ARFF, LIBSVM, JSON Lines and .kfr",
    "Read IN (format from its extension or --format) and write OUT (format from\n"
    "its extension or --to): csv, arff, libsvm, jsonl, kfr. OUT is written to a\n"
    "temporary file and renamed, so a failed conversion leaves no partial file.\n"
    "LIBSVM output needs numeric columns; the target column (--target, else the\n"
    "first column) becomes the label. OUT may not be IN (the same file by any\n"
    "name) unless --overwrite-input is given.\n",
    "  kiln convert data.csv data.kfr\n"
    "  kiln convert data.kfr data.jsonl\n",
    convert_opts,
    1,
    cmd_convert};

int cmd_convert(int argc, char **argv)
{
    convert_args a = {0};
    int rc = cli_parse(&convert_spec, argc, argv, &a, NULL);
    if (rc) return rc < 0 ? CLI_OK : rc;
    const char *in = a.in, *out = a.out, *to = a.to;
    int overwrite_input = a.overwrite_input;
    kn_read_opts o = a.read;
    if (cli_refuse_overwrite("convert", &out, 1, &in, 1, overwrite_input) != CLI_OK)
        return CLI_USAGE;
    kn_frame *f;
    kn_read_report rep;
    if (cli_read_frame(in, &o, &f, &rep) != KN_OK) {
        cli_error("%s", kn_last_error());
        return CLI_FAIL;
    }
    kn_stage_begin("write");
    kn_status s = kn_frame_write(f, out, to);
    kn_stage_end();
    size_t rows = kn_frame_n_rows(f), cols = kn_frame_n_cols(f);
    kn_frame_free(f);
    if (s != KN_OK) {
        cli_error("%s", kn_last_error());
        return CLI_FAIL;
    }
    if (cli.json)
        return cli_emit_json(json_pack("{s:s, s:s, s:s, s:I, s:I, s:o, s:o}", "command", "convert",
                                       "input", in, "output", out, "rows", (json_int_t)rows,
                                       "columns", (json_int_t)cols, "read",
                                       cli_read_report_json(&rep), "stages", cli_stages_json()));
    if (!cli.quiet) {
        cli_print_read_report(stderr, in, &rep);
        fprintf(stderr, "wrote %zu rows x %zu columns to %s\n", rows, cols, out);
    }
    return CLI_OK;
}
