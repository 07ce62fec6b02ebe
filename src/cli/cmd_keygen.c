/* kiln keygen --out NAME: an Ed25519 key pair for signing artifacts. */
#include "cli/cli.h"
#include "kiln/artifact.h"
#include "kiln/mem.h"

#include <string.h>

typedef struct keygen_args {
    const char *out;
} keygen_args;

static const cli_opt keygen_opts[] = {
    CLI_OPT_NEED(keygen_args, out, "out", "NAME",
                 "write NAME.key (secret, mode 0600) and NAME.pub (public)"),
    CLI_OPT_END};

const cli_spec keygen_spec = {
    "keygen",
    "make a key pair for signing artifacts",
    "Make an Ed25519 key pair (libsodium) for signing .kiln artifacts: NAME.key\n"
    "holds the secret key (readable by you alone, mode 0600; give it to\n"
    "'kiln train --sign-key'), NAME.pub the public key (share it; 'kiln predict\n"
    "--verify-key' refuses an artifact that is unsigned or signed with another\n"
    "key). An existing file is never replaced.\n",
    "  kiln keygen --out team\n"
    "  kiln train --data d.csv --target y --model gbdt --out m.kiln --sign-key team.key\n"
    "  kiln predict --model m.kiln --data new.csv --verify-key team.pub --out p.csv\n",
    keygen_opts,
    0,
    cmd_keygen};

int cmd_keygen(int argc, char **argv)
{
    keygen_args a = {0};
    int rc = cli_parse(&keygen_spec, argc, argv, &a, NULL);
    if (rc) return rc < 0 ? CLI_OK : rc;
    if (!a.out[0]) return cli_usage_error("keygen", "--out needs a name");
    char *sk = kn_sprintf("%s.key", a.out), *pk = kn_sprintf("%s.pub", a.out);
    kn_status e = sk && pk ? kn_artifact_keygen(sk, pk) : KN_ERR_NOMEM;
    if (e != KN_OK) {
        cli_error("keygen: %s", kn_last_error());
        rc = CLI_FAIL;
    } else if (cli.json) {
        rc = cli_emit_json(json_pack("{s:s, s:s, s:s, s:o}", "command", "keygen", "secret_key", sk,
                                     "public_key", pk, "stages", cli_stages_json()));
    } else if (!cli.quiet) {
        printf("wrote %s (secret: keep it to yourself) and %s (public)\n", sk, pk);
    }
    kn_free(sk);
    kn_free(pk);
    return rc;
}
