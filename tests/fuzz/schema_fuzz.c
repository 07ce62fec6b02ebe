/* libFuzzer harness for the schema YAML parser. Any input either fails with
 * a message or gives a schema that (1) prints as YAML that parses back to
 * the same YAML, and (2) validates a small frame without crashing. */
#include "kiln/mem.h"
#include "kiln/schema.h"

#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static kn_frame *small_frame(void)
{
    kn_frame *f;
    kn_column *a, *b, *c, *t;
    if (kn_frame_new(&f) != KN_OK) abort();
    kn_frame_add_column(f, "a", KN_COL_NUMERIC, &a);
    kn_frame_add_column(f, "b", KN_COL_CATEGORICAL, &b);
    kn_frame_add_column(f, "c", KN_COL_STRING, &c);
    kn_frame_add_column(f, "t", KN_COL_TIMESTAMP, &t);
    kn_frame_resize(f, 4);
    const char *text[] = {"x", "yy", "x", NULL};
    for (size_t r = 0; r < 4; r++) {
        a = kn_frame_col(f, 0);
        kn_column_f64(a)[r] = r == 3 ? 0.0 / 0.0 : (double)r * 1.5;
        int32_t code;
        if (text[r]) {
            kn_column_intern(kn_frame_col(f, 1), text[r], strlen(text[r]), &code);
            kn_column_codes(kn_frame_col(f, 1))[r] = code;
            kn_column_set_str(kn_frame_col(f, 2), r, text[r], strlen(text[r]));
        }
        kn_column_ts(kn_frame_col(f, 3))[r] = (int64_t)r * 86400000000;
    }
    return f;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    kn_schema *s;
    if (kn_schema_parse((const char *)data, size, "fuzz", &s) != KN_OK) return 0;
    char *y1 = NULL, *y2 = NULL;
    kn_schema *s2 = NULL;
    if (kn_schema_to_yaml(s, NULL, &y1) != KN_OK) abort();
    if (kn_schema_parse(y1, strlen(y1), "fuzz-roundtrip", &s2) != KN_OK) abort();
    if (kn_schema_to_yaml(s2, NULL, &y2) != KN_OK || strcmp(y1, y2) != 0) abort();
    kn_frame *f = small_frame();
    kn_validation *v;
    if (kn_schema_validate(s, f, &v) == KN_OK) {
        if (v->rows_dropped + v->rows_quarantined > v->rows) abort();
        kn_validation_free(v);
    }
    kn_frame_free(f);
    kn_free(y1);
    kn_free(y2);
    kn_schema_free(s);
    kn_schema_free(s2);
    return 0;
}
