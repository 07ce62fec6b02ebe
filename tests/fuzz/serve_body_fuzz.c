/* libFuzzer harness for kiln serve's request body parsers (v1 instances
 * or columns, v2 tensors), called without a server. The first byte picks
 * the parser, the rest is the body. Any input either gives a frame of the
 * model's columns with at least one row, or a 4xx/503 error with a code
 * and a message that, written as a JSON string, reads back as JSON. */
#include "serve/serve-impl.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char *names[] = {"a", "b", "c", "t", "i"};
static kn_col_type types[] = {KN_COL_NUMERIC, KN_COL_CATEGORICAL, KN_COL_STRING, KN_COL_TIMESTAMP,
                              KN_COL_INT64};
static unsigned char required[] = {1, 0, 0, 0, 1};
static const kn__serve_inputs inputs = {5, names, types, required, "y", "w", 0, 0};

static void check_error(const kn__serve_err *e)
{
    if (!e->code || !e->message[0]) abort();
    if (e->status != 400 && e->status != 503) abort();
    kn__sbuf b = {0};
    kn__sbuf_json_str(&b, e->message, strlen(e->message));
    size_t len = 0;
    char *text = kn__sbuf_take(&b, &len);
    if (!text) return;
    json_t *j = json_loadb(text, len, JSON_DECODE_ANY, NULL);
    if (!j || !json_is_string(j)) abort();
    json_decref(j);
    free(text);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (!size) return 0;
    const char *body = (const char *)data + 1;
    size_t len = size - 1;
    kn__serve_err err = {0};
    kn_frame *f = NULL;
    char *id = NULL;
    kn__serve_outputs outs = {0};
    int rc = data[0] & 1 ? kn__serve_parse_v2(&inputs, body, len, &f, &id, &outs, &err)
                         : kn__serve_parse_v1(&inputs, body, len, &f, &err);
    if (rc) {
        if (f || id || outs.n || outs.names) abort();
        check_error(&err);
        return 0;
    }
    if (!f || kn_frame_n_rows(f) < 1 || kn_frame_n_cols(f) != inputs.n) abort();
    for (size_t i = 0; i < outs.n; i++)
        if (!outs.names[i]) abort();
    kn__serve_outputs_free(&outs);
    kn_frame_free(f);
    free(id);
    return 0;
}
