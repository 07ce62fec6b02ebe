/* A model's task from its target (see kn_model_choose_task in
 * kiln/model.h): classifiers refuse continuous targets before any work,
 * and a family with both tasks follows the target unless told. */
#include "learn/learn-impl.h"
#include "data/text_numbers-impl.h"
#include "kiln/log.h"
#include "kiln/mem.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Distinct values above this count, and above this share of the rows,
 * make an integer target look continuous. */
#define MANY_VALUES 50
#define MANY_SHARE 0.05

typedef struct target_shape {
    int text;            /* categorical or string column */
    int numbers;         /* text: numbers but for a few cells (tn says which) */
    int text_continuous; /* text: and those numbers look continuous */
    kn__text_numbers tn;
    int continuous;  /* numeric: a non-integer value, or many distinct values */
    int non_integer; /* numeric: the first non-integer value is at row example */
    size_t distinct; /* numeric: distinct values (counted up to the limit) */
    size_t example;  /* a row that shows it (0-based) */
} target_shape;

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static kn_status shape_of(const kn_column *c, size_t n, target_shape *s)
{
    memset(s, 0, sizeof *s);
    kn_col_type t = kn_column_type(c);
    if (t == KN_COL_CATEGORICAL || t == KN_COL_STRING) {
        s->text = 1;
        /* one 'n/a' or typo among numbers: the reader typed the column as text */
        s->numbers = kn__text_numbers_scan(c, n, &s->tn) && s->tn.others && !s->tn.times;
        s->text_continuous =
            s->numbers &&
            (!s->tn.integers || (s->tn.distinct > MANY_VALUES &&
                                 (double)s->tn.distinct > MANY_SHARE * (double)s->tn.numbers));
        return KN_OK;
    }
    if (t != KN_COL_NUMERIC) return KN_OK; /* timestamps: the fit refuses them */
    const double *v = kn_column_f64((kn_column *)c);
    size_t m = 0;
    for (size_t i = 0; i < n; i++) {
        if (isnan(v[i])) continue;
        m++;
        if (!s->non_integer && isfinite(v[i]) && v[i] != floor(v[i])) {
            s->non_integer = 1;
            s->example = i;
        }
    }
    if (s->non_integer) {
        s->continuous = 1;
        return KN_OK;
    }
    double *sorted = kn_malloc((m ? m : 1) * sizeof *sorted);
    if (!sorted) return KN_ERR_NOMEM;
    m = 0;
    for (size_t i = 0; i < n; i++)
        if (!isnan(v[i])) sorted[m++] = v[i];
    qsort(sorted, m, sizeof *sorted, cmp_double);
    for (size_t i = 0; i < m; i++) s->distinct += i == 0 || sorted[i] != sorted[i - 1];
    kn_free(sorted);
    s->continuous = s->distinct > MANY_VALUES && (double)s->distinct > MANY_SHARE * (double)m;
    return KN_OK;
}

/* Why the target looks continuous, for messages. */
static void describe_shape(const kn_column *c, const target_shape *s, char *buf, size_t len)
{
    if (s->non_integer)
        snprintf(buf, len, "it holds non-integer values such as %.15g (row %zu)",
                 kn_column_f64((kn_column *)c)[s->example], s->example + 1);
    else
        snprintf(buf, len, "it holds %zu distinct values", s->distinct);
}

/* Why a text target of numbers is text, and the fix, for messages. */
static void describe_text_numbers(const target_shape *s, char *buf, size_t len)
{
    char said[256], miss[256];
    snprintf(buf, len,
             "it is text only because %llu of its %llu values %s not a number: %s. A "
             "missing-value marker? Read it as missing (--missing '%s', or in a spec read: "
             "{missing: ...}) and leave those rows out (--drop-missing-target); else correct "
             "the cell%s",
             (unsigned long long)s->tn.others, (unsigned long long)s->tn.cells,
             s->tn.others == 1 ? "is" : "are", kn__text_numbers_say(&s->tn, said, sizeof said),
             kn__text_numbers_missing(&s->tn, miss, sizeof miss), s->tn.others == 1 ? "" : "s");
}

void kn__task_setting(const kn_model_vt *vt, kn_task task, char *buf, size_t len)
{
    snprintf(buf, len, "%s=%s", vt->task_param,
             task == KN_TASK_CLASSIFICATION ? vt->classify_value : vt->regress_value);
}

kn_status kn_model_set_task(kn_model *m, kn_task task)
{
    const kn_model_vt *vt = kn__model_vt(m);
    const char *name = kn_model_name(m);
    if (vt->task_param) {
        char kv[128];
        kn__task_setting(vt, task, kv, sizeof kv);
        return kn_model_set(m, kv);
    }
    if (kn_model_task(m) == task) return KN_OK;
    if (task == KN_TASK_REGRESSION)
        return kn_fail(KN_ERR_INVALID, "model '%s' only classifies; for regression use %s", name,
                       vt->other_task_model ? vt->other_task_model
                                            : "a regressor (ridge, gbdt, random_forest, "
                                              "knn_regressor)");
    return kn_fail(KN_ERR_INVALID, "model '%s' only regresses; to classify use %s", name,
                   vt->other_task_model ? vt->other_task_model
                                        : "a classifier (logistic_regression, gbdt, "
                                          "random_forest, knn_classifier)");
}

kn_status kn_model_choose_task(kn_model *m, const kn_frame *f, const char *target,
                               const char **chosen)
{
    if (chosen) *chosen = NULL;
    if (kn__model_vt(m)->flags & KN_MODEL_UNSUPERVISED)
        return kn_fail(KN_ERR_INVALID,
                       "model '%s' is unsupervised (it has no target): fit it with 'kiln %s "
                       "--data FILE'",
                       kn_model_name(m),
                       strcmp(kn_model_name(m), "kmeans") ? "anomaly" : "cluster");
    size_t j;
    if (!target || kn_frame_find(f, target, &j) != KN_OK) return KN_OK; /* the fit says so */
    const kn_column *c = kn_frame_col(f, j);
    const kn_model_vt *vt = kn__model_vt(m);
    const char *name = kn_model_name(m);
    target_shape s;
    kn_status e = shape_of(c, kn_frame_n_rows(f), &s);
    if (e != KN_OK) return e;
    char why[160], numbers[1024];
    describe_shape(c, &s, why, sizeof why);
    int both = vt->task_param != NULL, free_choice = both && !kn__model_task_set(m);
    if (s.numbers) describe_text_numbers(&s, numbers, sizeof numbers);
    /* continuous numbers read as text would make each value a class */
    if (s.text_continuous && (free_choice || kn_model_task(m) == KN_TASK_CLASSIFICATION))
        return kn_fail(KN_ERR_TYPE,
                       "model '%s': target '%s' holds continuous numbers (as classes, each value "
                       "would be one), but %s",
                       name, target, numbers);
    if (free_choice) {
        kn_task want = s.continuous ? KN_TASK_REGRESSION : KN_TASK_CLASSIFICATION;
        if (s.continuous || s.text || kn_model_task(m) == KN_TASK_CLASSIFICATION) {
            if ((e = kn_model_set_task(m, want)) != KN_OK) return e;
            static _Thread_local char kv[128];
            kn__task_setting(vt, want, kv, sizeof kv);
            if (chosen) *chosen = kv;
            if (want == KN_TASK_REGRESSION)
                kn_log(KN_LOG_INFO,
                       "%s: target '%s' looks continuous (%s): regression (%s; set %s=%s to "
                       "classify)",
                       name, target, why, kv, vt->task_param, vt->classify_value);
            else
                kn_log(KN_LOG_INFO, "%s: target '%s' has classes: classification (%s)", name,
                       target, kv);
        }
        return KN_OK;
    }
    kn_task task = kn_model_task(m);
    if (task == KN_TASK_CLASSIFICATION && s.continuous) {
        if (both)
            return kn_fail(KN_ERR_INVALID,
                           "model '%s': target '%s' looks continuous (%s), and %s=%s classifies: "
                           "each value would be a class. Set %s=%s (or task option regression)",
                           name, target, why, vt->task_param, vt->classify_value, vt->task_param,
                           vt->regress_value);
        return kn_fail(KN_ERR_INVALID,
                       "model '%s': target '%s' looks continuous (%s): a classifier would make "
                       "each value a class. For regression use %s",
                       name, target, why,
                       vt->other_task_model ? vt->other_task_model
                                            : "a regressor (ridge, gbdt, random_forest, "
                                              "knn_regressor)");
    }
    if (task == KN_TASK_REGRESSION && s.numbers)
        return kn_fail(KN_ERR_TYPE, "model '%s': target '%s' must be numbers to regress, but %s",
                       name, target, numbers);
    if (task == KN_TASK_REGRESSION && s.text)
        return kn_fail(KN_ERR_TYPE,
                       "model '%s': target '%s' is text (classes), and '%s' regresses. To "
                       "classify use %s",
                       name, target, name,
                       both                   ? "task option classification"
                       : vt->other_task_model ? vt->other_task_model
                                              : "a classifier (logistic_regression, gbdt, "
                                                "random_forest, knn_classifier)");
    return KN_OK;
}
