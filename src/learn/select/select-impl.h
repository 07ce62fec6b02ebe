/* Internal: what the selector steps (select, select_model) share. Their
 * fitted state is a kn_selection (kiln/select.h) owning its arrays. */
#ifndef KILN_SELECT_IMPL_H
#define KILN_SELECT_IMPL_H

#include "kiln/registry.h"
#include "kiln/select.h"

extern const kn_component kn__select_filter, kn__select_model;

/* How many to keep, as the parameters of both steps say it: k > 0 the k
 * best; percentile > 0 the best share (at least one); threshold >= 0 those
 * scoring at least it (above it when strict). No rule given: `fallback`
 * (0: all). Set in kn__sel_keep. */
typedef struct kn__keep_rule {
    int64_t k;
    double percentile, threshold;
} kn__keep_rule;

/* A new selection of the columns cols of x, scores NaN, all kept. */
kn_status kn__sel_new(const kn_frame *x, const size_t *cols, size_t n, const char *method,
                      kn_selection **out);
void kn__sel_free(void *state);
/* rank from score (descending; NaN last; ties: the later column first). */
void kn__sel_rank(kn_selection *s);
/* rank, then keep by the rule (fallback_k when no rule is set: 0 keeps all). */
kn_status kn__sel_keep(kn_selection *s, const kn__keep_rule *rule, int strict, size_t fallback_k,
                       const char *step);
/* Check a rule before any work: one of k, percentile, threshold; k within n. */
kn_status kn__sel_check_rule(const kn__keep_rule *rule, const char *step);
kn_status kn__sel_check_k(const kn__keep_rule *rule, size_t n, const char *step);
/* The same for a fit on x with candidate columns cols[0..n): a k over n
 * also says how many other features (target: as the step's parameter)
 * are not candidates, so the user sees why the count is short. */
kn_status kn__sel_check_k_in(const kn__keep_rule *rule, const kn_frame *x, const size_t *cols,
                             size_t n, const char *target, const char *step);
/* Log what was kept (info level: one line per fit, so a cross-validation
 * shows each fold's set), and how many features of x (target: as the step's
 * parameter) were not candidates and pass through unscored. */
void kn__sel_log(const kn_selection *s, const char *step, const kn_frame *x, const char *target);
/* The step vtable parts over a kn_selection state. */
kn_status kn__sel_apply(const kn_step *st, kn_frame *out, const size_t *cols, size_t n);
kn_status kn__sel_apply_row(const kn_step *st, kn_step_row *row, const size_t *cols, size_t n);
kn_status kn__sel_save(const kn_step *st, kn_wbuf *w);
kn_status kn__sel_load(kn_step *st, kn_rbuf *r, size_t n);

/* The target of a step's training frame: the column named `name`, or
 * (name "") the one with the target role; *j its index. */
kn_status kn__sel_target(const kn_frame *x, const char *name, const char *step, size_t *j);
/* The candidate columns as one column-major array (kn_free), refusing
 * non-numeric and missing cells with the column named. */
kn_status kn__sel_matrix(const kn_frame *x, const size_t *cols, size_t n, const char *step,
                         double **out);

/* Pearson's r of a and b (0 when either is constant); its two-sided p. */
double kn__sel_pearson(const double *a, const double *b, size_t n);
double kn__sel_pearson_p(double r, size_t n);
/* Average ranks (1-based, ties averaged) of v into rank. */
kn_status kn__sel_ranks(const double *v, size_t n, double *rank);
/* The correlation ratio eta of v with classes y in [0, k) (sqrt of the
 * between-class share of the variance); sum, cnt: k scratch doubles each. */
double kn__sel_eta(const double *v, size_t n, const int32_t *y, size_t k, double *sum, double *cnt);

#endif
