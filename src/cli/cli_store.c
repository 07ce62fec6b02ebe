/* What the store commands (runs, models, lineage) share: opening the
 * store with a clear error, dispatching a subcommand, times as text. */
#include "cli/cli.h"
#include "kiln/store.h"

#include <string.h>
#include <time.h>

int cli_store_open(const char *dir, int create, kn_store **s)
{
    if (kn_store_open(dir, create, s) == KN_OK) return CLI_OK;
    cli_error("%s", kn_last_error());
    return CLI_FAIL;
}

int cli_store_fail(kn_store *s)
{
    cli_error("%s", kn_last_error());
    kn_store_close(s);
    return CLI_FAIL;
}

const char *cli_store_time(double t, char *buf, size_t cap)
{
    time_t secs = (time_t)t;
    struct tm tm;
    if (t <= 0 || !gmtime_r(&secs, &tm) || !strftime(buf, cap, "%Y-%m-%d %H:%M:%S", &tm))
        snprintf(buf, cap, "-");
    return buf;
}

int cli_subcommand(const cli_spec *top, const cli_spec *const *subs, size_t n, int argc,
                   char **argv)
{
    if (argc >= 2 && argv[1][0] != '-')
        for (size_t i = 0; i < n; i++) {
            const char *name = strchr(subs[i]->name, ' ') + 1;
            if (!strcmp(argv[1], name)) return subs[i]->run(argc - 1, argv + 1);
        }
    if (argc >= 2 && (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h"))) {
        cli_print_help(top, stdout);
        return CLI_OK;
    }
    char names[256] = "";
    size_t used = 0;
    for (size_t i = 0; i < n && used < sizeof names - 32; i++)
        used += (size_t)snprintf(names + used, sizeof names - used, "%s%s", i ? ", " : "",
                                 strchr(subs[i]->name, ' ') + 1);
    if (argc < 2) return cli_usage_error(top->name, "give a subcommand: %s", names);
    return cli_usage_error(top->name, "unknown subcommand '%s'; the subcommands are %s", argv[1],
                           names);
}
