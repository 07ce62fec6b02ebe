/* kbins_discretizer: replace each numeric column by the index of its bin
 * (ordinal encoding). Bin edges come from fit: evenly spaced between the
 * column's min and max (strategy=uniform) or at its quantiles
 * (strategy=quantile); bins narrower than 1e-8 are merged away and a
 * constant column gets one bin, as scikit-learn's KBinsDiscretizer does. A
 * value falls in bin i when edge[i] <= value < edge[i+1] (the outer edges are
 * open), so new data beyond the fitted range lands in the first or last bin.
 * Missing values stay missing. */
#include "kiln/log.h"
#include "kiln/mem.h"
#include "kiln/step.h"
#include "prep/prep-impl.h"

#include <math.h>
#include <string.h>

typedef struct kbins_params {
    kn_step_common common;
    int64_t n_bins;
    int strategy;
} kbins_params;

enum { KB_UNIFORM = 0, KB_QUANTILE = 1 };

static const kn_param_def kbins_defs[] = {
    KN_STEP_COMMON_PARAMS(kbins_params),
    KN_PARAM_INT(kbins_params, n_bins, "5", 2, 100000, "number of bins"),
    KN_PARAM_ENUM(kbins_params, strategy, "quantile", "uniform|quantile",
                  "equal-width bins, or bins holding equal numbers of values"),
    KN_PARAM_END};

typedef struct kbins_state {
    size_t n;
    size_t *n_edges; /* per column */
    double **edges;
} kbins_state;

static void kbins_free(void *p)
{
    kbins_state *s = p;
    if (!s) return;
    for (size_t i = 0; i < s->n && s->edges; i++) kn_free(s->edges[i]);
    kn_free(s->edges);
    kn_free(s->n_edges);
    kn_free(s);
}

static kbins_state *kbins_alloc(size_t n)
{
    kbins_state *s = kn_calloc(1, sizeof *s);
    if (!s) return NULL;
    s->n = n;
    s->n_edges = kn_calloc(n + 1, sizeof *s->n_edges);
    s->edges = kn_calloc(n + 1, sizeof *s->edges);
    if (!s->n_edges || !s->edges) {
        kbins_free(s);
        return NULL;
    }
    return s;
}

/* Edges of one column from its sorted values. */
static kn_status column_edges(const kbins_params *p, const double *v, size_t k, double **out,
                              size_t *n_out, const char *name)
{
    size_t nb = (size_t)p->n_bins;
    double *e = kn_malloc((nb + 1) * sizeof *e);
    if (!e) return KN_ERR_NOMEM;
    if (!k || v[0] == v[k - 1]) {
        kn_log(KN_LOG_WARN, "kbins_discretizer: column '%s' is constant; it gets one bin", name);
        e[0] = -INFINITY;
        e[1] = INFINITY;
        *out = e;
        *n_out = 2;
        return KN_OK;
    }
    double lo = v[0], hi = v[k - 1];
    if (p->strategy == KB_UNIFORM) {
        double step = (hi - lo) / (double)nb; /* numpy.linspace */
        for (size_t i = 0; i <= nb; i++) e[i] = (double)i * step + lo;
        e[nb] = hi;
    } else {
        /* numpy.linspace(0, 100, nb + 1) / 100, with the last one exactly 1 */
        for (size_t i = 0; i <= nb; i++)
            e[i] = kn__quantile_sorted(v, k,
                                       i == nb ? 1.0 : ((double)i * (100.0 / (double)nb)) / 100.0);
    }
    /* drop edges closer than 1e-8 to the one before */
    size_t m = 1;
    for (size_t i = 1; i <= nb; i++)
        if (e[i] - e[m - 1] > 1e-8) e[m++] = e[i];
    if (m - 1 != nb)
        kn_log(KN_LOG_WARN, "kbins_discretizer: column '%s': %zu bins too narrow were removed",
               name, nb - (m - 1));
    *out = e;
    *n_out = m;
    return KN_OK;
}

static kn_status kbins_fit(kn_step *st, const kn_frame *x, const size_t *cols, size_t n)
{
    const kbins_params *p = kn_step_params(st);
    kbins_state *s = kbins_alloc(n);
    if (!s) return KN_ERR_NOMEM;
    kn_status e = KN_OK;
    for (size_t i = 0; i < n && e == KN_OK; i++) {
        kn_column *c = kn_frame_col(x, cols[i]);
        if (kn_column_type(c) != KN_COL_NUMERIC) {
            e = kn_fail(KN_ERR_TYPE,
                        "kbins_discretizer: column '%s' is %s; it takes numeric "
                        "columns",
                        kn_column_name(c), kn_col_type_name(kn_column_type(c)));
            break;
        }
        double *v;
        size_t k;
        if ((e = kn__sorted_values(c, kn_frame_n_rows(x), &v, &k)) != KN_OK) break;
        e = column_edges(p, v, k, &s->edges[i], &s->n_edges[i], kn_column_name(c));
        kn_free(v);
    }
    if (e != KN_OK) {
        kbins_free(s);
        return e;
    }
    kn_step_set_state(st, s);
    return KN_OK;
}

static kn_status kbins_apply(const kn_step *st, kn_frame *out, const size_t *cols, size_t n)
{
    const kbins_state *s = kn_step_state(st);
    size_t rows = kn_frame_n_rows(out);
    for (size_t i = 0; i < n; i++) {
        double *x = kn_column_f64(kn_frame_col(out, cols[i]));
        const double *inner = s->edges[i] + 1;
        size_t m = s->n_edges[i] - 2; /* inner edges */
        for (size_t r = 0; r < rows; r++) {
            if (isnan(x[r])) continue;
            /* count of inner edges <= x (numpy.searchsorted, side="right") */
            size_t lo = 0, hi = m;
            while (lo < hi) {
                size_t mid = (lo + hi) / 2;
                if (inner[mid] <= x[r])
                    lo = mid + 1;
                else
                    hi = mid;
            }
            x[r] = (double)lo;
        }
    }
    return KN_OK;
}

static kn_status kbins_save(const kn_step *st, kn_wbuf *w)
{
    const kbins_state *s = kn_step_state(st);
    kn_wbuf_u64(w, s->n);
    for (size_t i = 0; i < s->n; i++) {
        kn_wbuf_u64(w, s->n_edges[i]);
        kn_wbuf_f64s(w, s->edges[i], s->n_edges[i]);
    }
    return KN_OK;
}

static kn_status kbins_load(kn_step *st, kn_rbuf *r, size_t n)
{
    kn_status e = kn__state_count(r, n, "kbins");
    if (e != KN_OK) return e;
    kbins_state *s = kbins_alloc(n);
    if (!s) return KN_ERR_NOMEM;
    for (size_t i = 0; i < n && e == KN_OK; i++) {
        e = kn_rbuf_count(r, 8, &s->n_edges[i]);
        if (e == KN_OK && s->n_edges[i] < 2)
            e = kn_fail(KN_ERR_CORRUPT, "%s: a binned column has fewer than 2 edges", r->what);
        if (e == KN_OK) e = kn__decode_f64s(r, s->n_edges[i], &s->edges[i]);
        for (size_t k = 1; e == KN_OK && k < s->n_edges[i]; k++)
            if (!(s->edges[i][k] > s->edges[i][k - 1]))
                e = kn_fail(KN_ERR_CORRUPT, "%s: bin edges out of order", r->what);
    }
    if (e != KN_OK) {
        kbins_free(s);
        return e;
    }
    kn_step_set_state(st, s);
    return KN_OK;
}

static const kn_step_vt kbins_vt = {.default_type = KN_COL_NUMERIC,
                                    .fit = kbins_fit,
                                    .transform = kbins_apply,
                                    .free_state = kbins_free,
                                    .save = kbins_save,
                                    .load = kbins_load};

const kn_component kn__kbins_discretizer = {KN_COMP_STEP,
                                            "kbins_discretizer",
                                            "replace numbers by their bin index (uniform or "
                                            "quantile bins)",
                                            kbins_defs,
                                            sizeof(kbins_params),
                                            &kbins_vt};
