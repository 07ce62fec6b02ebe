/* kiln demo: write the embedded demo dataset and describe it. */
#include "cli/cli.h"
#include "kiln/demo.h"
#include "kiln/mem.h"
#include "kiln/profile.h"
#include "kiln/stage.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

typedef struct demo_args {
    const char *out;
    int64_t rows;
    uint64_t seed;
} demo_args;

static const cli_opt demo_opts[] = {
    CLI_OPT_TEXT(demo_args, out, "out", "DIR", "where demo.csv goes (default: ./demo-out)"),
    CLI_OPT_INT(demo_args, rows, "rows", "N", "20000", 1, 1e9, "rows to generate"),
    CLI_OPT_SEED(demo_args, seed, "seed", "42", "seed of the generator"), CLI_OPT_END};

const cli_spec demo_spec = {
    "demo",
    "generate a demo dataset and describe it",
    "Generate Kiln's embedded demo dataset (a synthetic customer-churn table with\n"
    "numeric, categorical and timestamp columns, missing values, a skewed column,\n"
    "an ID column, a constant column and duplicate rows), write it to\n"
    "DIR/demo.csv (default DIR: ./demo-out), read it back and describe it.\n",
    NULL,
    demo_opts,
    0,
    cmd_demo};

int cmd_demo(int argc, char **argv)
{
    demo_args a = {0};
    int rc = cli_parse(&demo_spec, argc, argv, &a, NULL);
    if (rc) return rc < 0 ? CLI_OK : rc;
    const char *dir = a.out ? a.out : "demo-out";
    size_t rows = (size_t)a.rows;
    uint64_t seed = a.seed;
    if (mkdir(dir, 0777) != 0 && errno != EEXIST) {
        cli_error("cannot create %s: %s", dir, strerror(errno));
        return CLI_FAIL;
    }
    char *path = kn_sprintf("%s/demo.csv", dir);
    kn_frame *f;
    kn_stage_begin("generate");
    kn_status s = path ? kn_demo_frame(rows, seed, &f) : KN_ERR_NOMEM;
    if (s == KN_OK) {
        s = kn_frame_write(f, path, "csv");
        kn_frame_free(f);
    }
    kn_stage_end();
    if (s != KN_OK) {
        cli_error("demo: %s", kn_last_error());
        kn_free(path);
        return CLI_FAIL;
    }
    if (!cli.json) printf("wrote %zu rows to %s\n\n", rows, path);
    char *args[] = {"describe", path, NULL};
    rc = cmd_describe(2, args);
    kn_free(path);
    return rc;
}
