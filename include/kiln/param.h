/* Kiln parameter tables: every component (reader, step, model, metric)
 * declares its parameters once, as a static table over its typed params
 * struct. The CLI's --param, the YAML spec, tuning, `kiln help` and artifact
 * serialisation all read the same table.
 *
 *     typedef struct { int64_t threads; double tol; } my_params;
 *     static const kn_param_def my_defs[] = {
 *         KN_PARAM_INT(my_params, threads, "0", 0, 1024, "worker threads (0 = all cores)"),
 *         KN_PARAM_DOUBLE(my_params, tol, "1e-6", 0, 1, "stopping tolerance"),
 *         KN_PARAM_END};
 *     my_params p;
 *     kn_param_defaults(my_defs, &p);
 *     kn_param_set(my_defs, &p, "threads=4");   // clear error when unknown/bad/out of range
 *
 * String parameters have no length limit: the field is a `const char *` to
 * text that Kiln keeps for the life of the process (each distinct value
 * once), so a params struct can be copied by value and is never freed; the
 * field is never NULL once the defaults are set.
 *
 * Threading: tables are immutable; setters touch only the struct passed in.
 */
#ifndef KILN_PARAM_H
#define KILN_PARAM_H

#include "kiln/core.h"

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef enum {
    KN_PARAM_T_BOOL = 0,   /* int field: 0/1; accepts true/false/yes/no/1/0 */
    KN_PARAM_T_INT = 1,    /* int64_t field */
    KN_PARAM_T_DOUBLE = 2, /* double field */
    KN_PARAM_T_STRING = 3, /* const char * field (text kept by Kiln, see above) */
    KN_PARAM_T_ENUM = 4,   /* int field: index into `choices` ("a|b|c"); where the choices
                              hold yes and no, true/on and false/off name them too */
    KN_PARAM_T_CHAR = 5,   /* char field: one byte; accepts "tab", "\\t", "comma" */
} kn_param_type;

typedef struct kn_param_def {
    const char *name;
    kn_param_type type;
    size_t offset;
    const char *def;     /* default, as text */
    double min, max;     /* bounds for INT and DOUBLE (inclusive) */
    const char *choices; /* ENUM: "fail|skip|quarantine" */
    const char *doc;     /* one line */
    const char *aka;     /* older names accepted for it ("old|older"; NULL: none): setters and
                            kn_param_find take them, help and artifacts use `name` */
} kn_param_def;

/* offsetof(T, f), refusing to compile unless field f has type FT (the
 * setter writes exactly that type there). */
#define KN__PARAM_FIELD(T, f, FT)                                                                  \
    (offsetof(T, f) + 0 * sizeof(char[_Generic(((T *)0)->f, FT : 1, default : -1)]))
#define KN_PARAM_BOOL(T, f, d, doc)                                                                \
    {                                                                                              \
#f, KN_PARAM_T_BOOL, KN__PARAM_FIELD(T, f, int), d, 0, 1, NULL, doc, NULL                  \
    }
#define KN_PARAM_INT(T, f, d, lo, hi, doc)                                                         \
    {                                                                                              \
#f, KN_PARAM_T_INT, KN__PARAM_FIELD(T, f, int64_t), d, lo, hi, NULL, doc, NULL             \
    }
#define KN_PARAM_DOUBLE(T, f, d, lo, hi, doc)                                                      \
    {                                                                                              \
#f, KN_PARAM_T_DOUBLE, KN__PARAM_FIELD(T, f, double), d, lo, hi, NULL, doc, NULL           \
    }
#define KN_PARAM_STRING(T, f, d, doc)                                                              \
    {                                                                                              \
#f, KN_PARAM_T_STRING, KN__PARAM_FIELD(T, f, const char *), d, 0, 0, NULL, doc, NULL       \
    }
/* A string parameter that was renamed: `aka` lists its older names. */
#define KN_PARAM_STRING_AKA(T, f, d, aka, doc)                                                     \
    {                                                                                              \
#f, KN_PARAM_T_STRING, KN__PARAM_FIELD(T, f, const char *), d, 0, 0, NULL, doc, aka        \
    }
#define KN_PARAM_ENUM(T, f, d, ch, doc)                                                            \
    {                                                                                              \
#f, KN_PARAM_T_ENUM, KN__PARAM_FIELD(T, f, int), d, 0, 0, ch, doc, NULL                    \
    }
#define KN_PARAM_CHAR(T, f, d, doc)                                                                \
    {                                                                                              \
#f, KN_PARAM_T_CHAR, offsetof(T, f), d, 0, 0, NULL, doc, NULL                              \
    }
#define KN_PARAM_END                                                                               \
    {                                                                                              \
        NULL, KN_PARAM_T_BOOL, 0, NULL, 0, 0, NULL, NULL, NULL                                     \
    }

/* Fill obj with every default in the table. */
KN_API kn_status kn_param_defaults(const kn_param_def *defs, void *obj);
/* Set one parameter from "name=value". Errors name the parameter and say
 * what is accepted: unknown name (with the list of names), bad type,
 * out-of-range value, unknown choice. */
KN_API kn_status kn_param_set(const kn_param_def *defs, void *obj, const char *name_eq_value);
/* Set one parameter by name and textual value. */
KN_API kn_status kn_param_set_value(const kn_param_def *defs, void *obj, const char *name,
                                    const char *value);
/* The entry named `name` (or with `name` among its older names, aka), or
 * NULL. Borrowed from the table. */
KN_API const kn_param_def *kn_param_find(const kn_param_def *defs, const char *name);
/* Current value of a parameter as text into buf (cap bytes); KN_ERR_RANGE
 * (nothing cut silently) when it does not fit. */
KN_API kn_status kn_param_get_text(const kn_param_def *def, const void *obj, char *buf, size_t cap);
/* Current value as "name=value" (what kn_param_set reads back). Returns a
 * new string; free with kn_free(). NULL when out of memory. */
KN_API char *kn_param_format(const kn_param_def *def, const void *obj);
/* "int", "double", ... for help output. Static string. */
KN_API const char *kn_param_type_name(kn_param_type t);

#ifdef __cplusplus
}
#endif
#endif
