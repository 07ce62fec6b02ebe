/* kiln convert IN OUT: between every supported format. */
#include "cli/cli.h"
#include "kiln/stage.h"

#include <string.h>

const char convert_usage[] =
    "usage: kiln convert IN OUT [reader options] [--to FORMAT] [--overwrite-input]\n"
    "\n"
    "Read IN (format from its extension or --format) and write OUT (format from\n"
    "its extension or --to): csv, arff, libsvm, jsonl, kfr. OUT is written to a\n"
    "temporary file and renamed, so a failed conversion leaves no partial file.\n"
    "LIBSVM output needs numeric columns; the target column (--target, else the\n"
    "first column) becomes the label. OUT may not be IN (the same file by any\n"
    "name) unless --overwrite-input is given.\n"
    "\n"
    "examples:\n"
    "  kiln convert data.csv data.kfr\n"
    "  kiln convert data.kfr data.jsonl\n";

int cmd_convert(int argc, char **argv)
{
    kn_read_opts o;
    kn_read_opts_default(&o);
    const char *in = NULL, *out = NULL, *to = NULL;
    int overwrite_input = 0;
    for (int i = 1; i < argc; i++) {
        int r = cli_read_option(argc, argv, &i, &o);
        if (r < 0) return CLI_USAGE;
        if (r > 0) continue;
        if (!strcmp(argv[i], "--to") && i + 1 < argc) {
            to = argv[++i];
            continue;
        }
        if (!strcmp(argv[i], "--overwrite-input")) {
            overwrite_input = 1;
            continue;
        }
        if (argv[i][0] == '-' && argv[i][1])
            return cli_usage_error("convert", "unknown option %s", argv[i]);
        if (!in)
            in = argv[i];
        else if (!out)
            out = argv[i];
        else
            return cli_usage_error("convert", "too many arguments (%s)", argv[i]);
    }
    if (!in || !out) return cli_usage_error("convert", "need IN and OUT");
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
