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

const char demo_usage[] =
    "usage: kiln demo [--out DIR] [--rows N] [--seed S]\n"
    "\n"
    "Generate Kiln's embedded demo dataset (a synthetic customer-churn table with\n"
    "numeric, categorical and timestamp columns, missing values, a skewed column,\n"
    "an ID column, a constant column and duplicate rows), write it to\n"
    "DIR/demo.csv (default DIR: ./demo-out), read it back and describe it.\n";

int cmd_demo(int argc, char **argv)
{
    const char *dir = "demo-out";
    size_t rows = 20000;
    unsigned long long seed = 42;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (i + 1 < argc && !strcmp(a, "--out"))
            dir = argv[++i];
        else if (i + 1 < argc && !strcmp(a, "--rows"))
            rows = strtoull(argv[++i], NULL, 10);
        else if (i + 1 < argc && !strcmp(a, "--seed"))
            seed = strtoull(argv[++i], NULL, 10);
        else
            return cli_usage_error("demo", "unknown option %s", a);
    }
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
    int rc = cmd_describe(2, args);
    kn_free(path);
    return rc;
}
