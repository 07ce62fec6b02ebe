/* libFuzzer harness for the alert rules YAML parser (kiln monitor check
 * --alerts): any input parses or fails with a message; a parsed config has
 * named rules, each with a metric, and sinks that are a log or a webhook
 * with a URL. */
#include "kiln/alert.h"

#include <stdlib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    kn_alert_config *c;
    if (kn_alert_config_parse((const char *)data, size, "fuzz/alerts.yaml", &c) != KN_OK) return 0;
    if (c->n_rules && !c->rules) abort();
    for (size_t i = 0; i < c->n_rules; i++)
        if (!c->rules[i].name || !c->rules[i].metric) abort();
    if (c->n_sinks && !c->sinks) abort();
    for (size_t i = 0; i < c->n_sinks; i++)
        if (c->sinks[i].kind == KN_SINK_WEBHOOK && !c->sinks[i].url) abort();
    kn_alert_config_free(c);
    return 0;
}
