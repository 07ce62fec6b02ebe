/* Internal: the search space of kiln/tune.h, shared by its parser
 * (tune_space.c), the search (tune.c) and TPE (tune_tpe.c). */
#ifndef KILN_TUNE_IMPL_H
#define KILN_TUNE_IMPL_H

#include "kiln/rng.h"
#include "kiln/tune.h"
#include "prep/yaml-impl.h"

typedef enum { KN__DIM_CHOICE, KN__DIM_INT, KN__DIM_UNIFORM, KN__DIM_LOG } kn__dim_kind;

typedef struct kn__dim {
    char *name;
    kn__dim_kind kind;
    double lo, hi;  /* ranges (an int log range too: kind INT with log 1) */
    int log;        /* INT: drawn log-uniformly */
    char **choices; /* CHOICE: the values as text */
    size_t n_choices;
    size_t grid;   /* UNIFORM/LOG: points for grid search (0: none given) */
    size_t parent; /* SIZE_MAX: always active; else active when dim parent == when */
    size_t when;   /* the parent's choice index */
    int param_int; /* the table's parameter is an integer */
} kn__dim;

struct kn_tune_space {
    kn__dim *dim;
    size_t n;
    char *model;
};

/* A space for `model` from a YAML mapping node of c's document (errors
 * name c's file, line and column): kn_tune_space_parse's work, shared with
 * the pipeline spec's model: search: space:. Returns a new space; free with
 * kn_tune_space_free(). */
kn_status kn__tune_space_from_node(const kn__yaml *c, const yaml_node_t *root, const char *model,
                                   kn_tune_space **out);

/* Whether dim i is active in configuration x (its parents' choices). */
int kn__tune_active(const kn_tune_space *sp, const double *x, size_t i);
/* A random configuration into x (inactive dims NaN). */
void kn__tune_sample(const kn_tune_space *sp, kn_rng *r, double *x);
/* The value of dim i as text ("%.17g", an integer, or the choice). */
void kn__tune_value_text(const kn__dim *d, double v, char *buf, size_t cap);

/* TPE: the next configuration into x from the finished trials (status
 * OK; lower `loss` is better: the score negated where higher is better). */
void kn__tpe_propose(const kn_tune_space *sp, const double *const *xs, const double *loss, size_t n,
                     kn_rng *r, double *x);

#endif
