/* kiln keys create|list|revoke: the API keys kiln serve accepts. */
#include "cli/cli.h"
#include "kiln/mem.h"
#include "kiln/store.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#define STORE_OPT(T)                                                                               \
    CLI_OPT_TEXT(T, store, "store", "DIR", "the store (default $KILN_STORE, else ./kiln-store)")

/* ---- create ---- */

typedef struct create_args {
    const char *store, *role, *name;
    double rate;
} create_args;
static const cli_opt create_opts[] = {
    CLI_OPT_CHOICE(create_args, role, "role", "predict|admin",
                   "what the key may do: predict (inference and metadata routes) or admin "
                   "(those and /admin/ routes)"),
    CLI_OPT_TEXT(create_args, name, "name", "LABEL", "a label to tell keys apart (who holds it)"),
    CLI_OPT_NUM(create_args, rate, "rate", "N", "0", 0, 1e9,
                "requests per second this key may make (0: the server's --rate-limit)"),
    STORE_OPT(create_args), CLI_OPT_END};
static int cmd_keys_create(int argc, char **argv);
static const cli_spec create_spec = {
    "keys create",
    "make an API key",
    "Make an API key for kiln serve and print it once on stdout: the store keeps\n"
    "only a salted hash, so a lost key cannot be shown again (revoke it and make\n"
    "another). Clients send it as 'Authorization: Bearer KEY'. The store is made\n"
    "when it does not exist. Each key made is written to the audit trail.\n",
    "  kiln keys create --role predict --name web-frontend --rate 50\n"
    "  kiln keys create --role admin --name ops --store /srv/kiln-store\n",
    create_opts,
    0,
    cmd_keys_create};

static int cmd_keys_create(int argc, char **argv)
{
    create_args a = {0};
    int rc = cli_parse(&create_spec, argc, argv, &a, NULL);
    if (rc) return rc < 0 ? CLI_OK : rc;
    if (!a.role) return cli_usage_error("keys create", "give --role predict or --role admin");
    kn_store *s = NULL;
    if ((rc = cli_store_open(a.store, 1, &s))) return rc;
    char *key = NULL;
    int64_t id = 0;
    if (kn_store_key_create(s, a.role, a.name, a.rate, NULL, &key, &id)) return cli_store_fail(s);
    if (cli.json) {
        rc = cli_emit_json(json_pack("{s:s, s:s, s:I, s:s, s:o, s:o, s:s}", "command",
                                     "keys create", "store", kn_store_dir(s), "id", (json_int_t)id,
                                     "role", a.role, "name",
                                     a.name && *a.name ? json_string(a.name) : json_null(), "rate",
                                     a.rate > 0 ? json_real(a.rate) : json_null(), "key", key));
    } else {
        printf("%s\n", key);
        if (!cli.quiet)
            fprintf(stderr,
                    "kiln keys: key %lld (%s) made; it is shown only now: keep it secret "
                    "(clients send 'Authorization: Bearer KEY')\n",
                    (long long)id, a.role);
    }
    kn_free(key);
    kn_store_close(s);
    return rc;
}

/* ---- list ---- */

typedef struct list_args {
    const char *store;
} list_args;
static const cli_opt list_opts[] = {STORE_OPT(list_args), CLI_OPT_END};
static int cmd_keys_list(int argc, char **argv);
static const cli_spec list_spec = {
    "keys list",
    "list the API keys",
    "List the API keys (never their secrets): id, role, rate (requests per\n"
    "second; '-': the server's default), when it was made and revoked (UTC),\n"
    "and its label.\n",
    "  kiln keys list\n  kiln keys list --json --store /srv/kiln-store\n",
    list_opts,
    0,
    cmd_keys_list};

static int on_key(const kn_api_key *k, void *user)
{
    json_t *arr = user;
    char made[32], gone[32], rate[32] = "-";
    if (arr) {
        json_array_append_new(
            arr, json_pack("{s:I, s:o, s:s, s:o, s:f, s:s, s:o, s:o}", "id", (json_int_t)k->id,
                           "name", k->name ? json_string(k->name) : json_null(), "role", k->role,
                           "rate", k->rate > 0 ? json_real(k->rate) : json_null(), "created",
                           k->created, "created_by", k->created_by ? k->created_by : "", "revoked",
                           k->revoked > 0 ? json_real(k->revoked) : json_null(), "revoked_by",
                           k->revoked_by ? json_string(k->revoked_by) : json_null()));
        return 0;
    }
    if (k->rate > 0) snprintf(rate, sizeof rate, "%g", k->rate);
    printf("%-6lld  %-8s  %-8s  %-19s  %-19s  ", (long long)k->id, k->role, rate,
           cli_store_time(k->created, made, sizeof made),
           k->revoked > 0 ? cli_store_time(k->revoked, gone, sizeof gone) : "-");
    cli_put_cell(stdout, k->name ? k->name : "-", 40, 0);
    printf("\n");
    return 0;
}

static int cmd_keys_list(int argc, char **argv)
{
    list_args a = {0};
    int rc = cli_parse(&list_spec, argc, argv, &a, NULL);
    if (rc) return rc < 0 ? CLI_OK : rc;
    kn_store *s = NULL;
    if ((rc = cli_store_open(a.store, 0, &s))) return rc;
    json_t *arr = cli.json ? json_array() : NULL;
    if (!cli.json)
        printf("%-6s  %-8s  %-8s  %-19s  %-19s  %s\n", "ID", "ROLE", "RATE/S", "CREATED (UTC)",
               "REVOKED (UTC)", "NAME");
    if (kn_store_keys_list(s, on_key, arr)) {
        json_decref(arr);
        return cli_store_fail(s);
    }
    if (cli.json)
        rc = cli_emit_json(json_pack("{s:s, s:s, s:o}", "command", "keys list", "store",
                                     kn_store_dir(s), "keys", arr));
    kn_store_close(s);
    return rc;
}

/* ---- revoke ---- */

typedef struct revoke_args {
    const char *store, *id;
} revoke_args;
static const cli_opt revoke_opts[] = {
    CLI_OPT_ARG(revoke_args, id, "ID", 1, "the key's id (from 'kiln keys list')"),
    STORE_OPT(revoke_args), CLI_OPT_END};
static int cmd_keys_revoke(int argc, char **argv);
static const cli_spec revoke_spec = {
    "keys revoke",
    "revoke an API key",
    "Revoke an API key: a running kiln serve refuses it (401) within about two\n"
    "seconds. The revocation is written to the audit trail; it cannot be undone\n"
    "(make a new key instead).\n",
    "  kiln keys revoke 3\n",
    revoke_opts,
    0,
    cmd_keys_revoke};

static int cmd_keys_revoke(int argc, char **argv)
{
    revoke_args a = {0};
    int rc = cli_parse(&revoke_spec, argc, argv, &a, NULL);
    if (rc) return rc < 0 ? CLI_OK : rc;
    /* the id, or a whole key (kiln_<id>_...) pasted by mistake: its id */
    const char *p = a.id;
    if (!strncmp(p, "kiln_", 5)) p += 5;
    char *end = NULL;
    errno = 0;
    long long id = *p >= '0' && *p <= '9' ? strtoll(p, &end, 10) : 0;
    if (id < 1 || errno || !end || (*end && *end != '_'))
        return cli_usage_error("keys revoke", "ID '%s' is a key number from 'kiln keys list'",
                               a.id);
    kn_store *s = NULL;
    if ((rc = cli_store_open(a.store, 0, &s))) return rc;
    if (kn_store_key_revoke(s, id, NULL)) return cli_store_fail(s);
    if (cli.json)
        rc = cli_emit_json(json_pack("{s:s, s:s, s:I, s:b}", "command", "keys revoke", "store",
                                     kn_store_dir(s), "id", (json_int_t)id, "revoked", 1));
    else if (!cli.quiet)
        fprintf(stderr, "kiln keys: key %lld revoked\n", id);
    kn_store_close(s);
    return rc;
}

static const cli_spec *const subs[] = {&create_spec, &list_spec, &revoke_spec};

typedef struct keys_args {
    const char *sub;
} keys_args;
static const cli_opt keys_opts[] = {
    CLI_OPT_ARG(keys_args, sub, "create|list|revoke", 1, "the subcommand"), CLI_OPT_END};

const cli_spec keys_spec = {
    "keys",
    "API keys for kiln serve: create, list, revoke",
    "The API keys kiln serve accepts, in the store (--store DIR, else\n"
    "$KILN_STORE, else ./kiln-store), kept only as salted hashes:\n"
    "  kiln keys create --role predict|admin [--name LABEL] [--rate N]\n"
    "  kiln keys list                                     ids, roles, dates; no secrets\n"
    "  kiln keys revoke ID                                refused by servers within ~2 s\n"
    "A client sends 'Authorization: Bearer KEY'. /admin/ routes always need an\n"
    "admin key; the inference routes need a key when the server runs with\n"
    "--require-key. 'kiln keys SUB --help' explains each.\n",
    "  kiln keys create --role predict --name web --rate 100\n"
    "  curl -H \"Authorization: Bearer $KEY\" localhost:8080/v2/models/credit\n"
    "  kiln keys revoke 1\n",
    keys_opts,
    0,
    cmd_keys};

int cmd_keys(int argc, char **argv)
{
    return cli_subcommand(&keys_spec, subs, sizeof subs / sizeof *subs, argc, argv);
}
