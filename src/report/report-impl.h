/* The report's internals: what a report is drawn from (gathered from an
 * artifact and a run record by report_artifact.c, or built in memory by a
 * test) and the sections that write it. */
#ifndef KILN_REPORT_REPORT_IMPL_H
#define KILN_REPORT_REPORT_IMPL_H

#include "kiln/artifact.h"
#include "kiln/metrics.h"
#include "kiln/store.h"
#include "report/text-impl.h"

#include <jansson.h>

/* Everything optional: NULL / 0 when the artifact lacks it. */
typedef struct kn__report_in {
    const char *title, *source;
    const char *spec, *schema; /* YAML text */
    const json_t *metrics, *lineage, *profile;
    const kn_heldout *heldout;
    const char *model, *target; /* model component name, target column */
    size_t n_features;          /* importance[] and feature[] */
    const char *const *feature;
    const double *importance;
    const char *importance_kind; /* what importance[] is, for the caption */
    const kn_run_record *run;
    uint64_t artifact_bytes;
    int artifact_signed;
} kn__report_in;

/* The whole page. */
kn_status kn__report_render(const kn__report_in *in, kn__text *t);

/* Sections (report_eval.c, model_card.c). Each writes a <section> with
 * its heading, or a one-line note when it has nothing to show. */
kn_status kn__report_classification(const kn__report_in *in, kn__text *t);
kn_status kn__report_regression(const kn__report_in *in, kn__text *t);
void kn__report_cv(const kn__report_in *in, kn__text *t);
/* report_curves.c: nothing when the run made no curve. */
void kn__report_curves(const kn__report_in *in, kn__text *t);
/* report_search.c: nothing when the run's model was not searched. */
void kn__report_search(const kn__report_in *in, kn__text *t);
void kn__report_importance(const kn__report_in *in, kn__text *t);
void kn__report_profile(const kn__report_in *in, kn__text *t);
void kn__report_rows(const kn__report_in *in, kn__text *t);
void kn__report_resources(const kn__report_in *in, kn__text *t);
void kn__report_card(const kn__report_in *in, kn__text *t);

/* Area under a curve by the trapezoid rule (x need not be sorted: the
 * signed area of the path, made positive). */
double kn__report_auc(const kn_curve *c);
/* The positive class of a binary held-out set: positive_class of the
 * metrics when it names a class, else class 1. */
size_t kn__report_positive(const kn__report_in *in);

/* The page's style sheet (report.c), also the monitoring report's. */
extern const char kn__report_css[];

/* Helpers shared by the sections. */
void kn__report_note(kn__text *t, const char *text);
void kn__report_h2(kn__text *t, const char *id, const char *title);
/* A JSON value as table text: numbers via kn__text_num, strings escaped,
 * null as an en dash. */
void kn__report_json_cell(kn__text *t, const json_t *v);
/* The value of a top-level scalar key of the YAML spec (new string, kn_free), or NULL. */
char *kn__report_spec_value(const char *spec, const char *key);

#endif
