/* Cleaning resamplers (resample.h), deterministic, as imbalanced-learn 0.10
 * defines them; the sampling strategy names the classes cleaned (auto: all
 * but the minority):
 *
 * tomek_links: rows i and j form a Tomek link when each is the other's
 * nearest row and their classes differ; a linked row of a cleaned class is
 * removed.
 * edited_nearest_neighbours: a row of a cleaned class is removed when its
 * n_neighbors nearest rows (of any class, itself excluded) disagree with
 * it: kind_sel=all removes it unless all share its class, mode unless the
 * most frequent class among them (ties: the smallest label) is its own.
 *
 * Neighbours are exact, over the fitted numeric features, ties by row
 * order; the remaining rows keep their order. */
#include "learn/resample/resample.h"
#include "prep/prep-impl.h"
#include "kiln/mem.h"

#include <string.h>

enum { TOMEK, ENN };

static kn_status clean(const kn_step *s, const kn_frame *x, const size_t *cols, size_t n, int kind,
                       kn_frame **out)
{
    const kn__rs_params *par = kn_step_params(s);
    kn__rs_data d;
    kn_status e = kn__rs_data_read(s, x, cols, n, 1, &d);
    if (e != KN_OK) return e;
    size_t k = kind == TOMEK ? 1 : (size_t)par->n_neighbors, m = 0;
    int64_t *want = kn_malloc(d.k * sizeof *want);
    size_t *self = kn_malloc(d.n * sizeof *self), *nb = kn_malloc(d.n * k * sizeof *nb);
    size_t *idx = kn_malloc(d.n * sizeof *idx), *votes = kn_calloc(d.k, sizeof *votes);
    e = want && self && nb && idx && votes
            ? kn__rs_targets(&d, par->sampling_strategy, KN__RS_CLEAN, want)
            : KN_ERR_NOMEM;
    if (e == KN_OK && k >= d.n)
        e = kn_fail(KN_ERR_INVALID, "%s: %zu neighbours need more than %zu rows", d.step, k, d.n);
    for (size_t i = 0; e == KN_OK && i < d.n; i++) self[i] = i;
    if (e == KN_OK) e = kn__rs_neighbours(d.x, d.n, d.p, d.x, d.n, self, k, nb);
    for (size_t i = 0; e == KN_OK && i < d.n; i++) {
        size_t c = (size_t)d.y[i];
        int drop = 0;
        if (want[c] >= 0 && kind == TOMEK) {
            size_t j = nb[i];
            drop = (size_t)d.y[j] != c && nb[j] == i;
        } else if (want[c] >= 0 && par->kind_sel == 0) { /* all */
            for (size_t t = 0; t < k; t++) drop |= (size_t)d.y[nb[i * k + t]] != c;
        } else if (want[c] >= 0) { /* mode */
            memset(votes, 0, d.k * sizeof *votes);
            for (size_t t = 0; t < k; t++) votes[d.y[nb[i * k + t]]]++;
            size_t best = 0;
            for (size_t l = 1; l < d.k; l++)
                if (votes[l] > votes[best]) best = l;
            drop = best != c;
        }
        if (!drop) idx[m++] = i;
    }
    if (e == KN_OK) e = kn__rs_build(x, idx, m, NULL, 0, NULL, NULL, 0, NULL, 0, NULL, out);
    kn_free(want), kn_free(self), kn_free(nb), kn_free(idx), kn_free(votes);
    kn__rs_data_free(&d);
    return e;
}

static kn_status tomek_resample(const kn_step *s, const kn_frame *x, const size_t *cols, size_t n,
                                kn_frame **out)
{
    return clean(s, x, cols, n, TOMEK, out);
}

static kn_status enn_resample(const kn_step *s, const kn_frame *x, const size_t *cols, size_t n,
                              kn_frame **out)
{
    return clean(s, x, cols, n, ENN, out);
}

#define STRATEGY_DOC                                                                               \
    "classes cleaned: auto (all but the minority), majority, not_minority, not_majority, all"

static const kn_param_def tomek_defs[] = {KN_STEP_COMMON_PARAMS(kn__rs_params),
                                          KN__RS_STRATEGY("auto", STRATEGY_DOC), KN_PARAM_END};
static const kn_param_def enn_defs[] = {
    KN_STEP_COMMON_PARAMS(kn__rs_params), KN__RS_STRATEGY("auto", STRATEGY_DOC),
    KN_PARAM_INT(kn__rs_params, n_neighbors, "3", 1, 1000, "nearest rows that judge a row"),
    KN_PARAM_ENUM(kn__rs_params, kind_sel, "all", "all|mode",
                  "all: keep a row only if every neighbour shares its class; mode: if the most "
                  "frequent class among them is its own"),
    KN_PARAM_END};

KN__RS_VT(tomek_vt, tomek_resample);
KN__RS_VT(enn_vt, enn_resample);

const kn_component kn__tomek_links = {
    KN_COMP_STEP,
    "tomek_links",
    "fit time only: remove rows of the cleaned classes that form Tomek links",
    tomek_defs,
    sizeof(kn__rs_params),
    &tomek_vt};
const kn_component kn__edited_nearest_neighbours = {
    KN_COMP_STEP,
    "edited_nearest_neighbours",
    "fit time only: remove rows of the cleaned classes their nearest neighbours disagree with",
    enn_defs,
    sizeof(kn__rs_params),
    &enn_vt};
