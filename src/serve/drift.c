/* Windowed drift of the rows a served version receives (kn__drift_*):
 * tumbling windows of `window` rows, each compared with a reference by the
 * tests of kiln/drift.h (KS, chi-square, PSI, Benjamini-Hochberg over the
 * columns), for /metrics.
 *
 * The reference is the artifact's reference of its training rows
 * (kiln/drift_ref.h) when it holds every input, so the first window is
 * tested too; else (an artifact written before references) the first
 * window the version receives. Memory is fixed at load: per numeric input
 * an array of `window` values (the window filling) and, without a stored
 * reference, another for the reference window; per text input the counts
 * of DRIFT_LEVELS distinct values (the reference's most frequent, else the
 * first seen; the rest share an "other" bin) and of missing cells. One
 * mutex per version; the request that fills a window runs its tests. */
#include "kiln/drift.h"
#include "kiln/mem.h"
#include "serve/serve-impl.h"

#include <math.h>
#include <string.h>

enum { DRIFT_LEVELS = 64, OTHER = DRIFT_LEVELS, MISSING = DRIFT_LEVELS + 1, BINS };

typedef struct dcol {
    int text;
    double *ref, *cur;              /* numeric: values, NaN when missing (ref: first window) */
    size_t rj;                      /* its column in the stored reference */
    char *levels[DRIFT_LEVELS];     /* text: the values seen first */
    size_t level_len[DRIFT_LEVELS]; /* their lengths */
    size_t n_levels;
    double rc[BINS], cc[BINS]; /* text: the reference's and the window's counts */
    /* the last window's results (NaN before) */
    double psi, p, p_adjusted;
    int drifted;
} dcol;

struct kn__drift {
    pthread_mutex_t mu;
    const kn__serve_inputs *in;
    const kn_drift_ref *stored; /* the artifact's reference, or NULL: the first window */
    size_t window, n_ref, n_cur;
    dcol *cols;
    kn_drift_opts o;
    unsigned long long windows, drifted_windows;
    size_t bytes;
};

static int is_text(kn_col_type t)
{
    return t == KN_COL_CATEGORICAL || t == KN_COL_STRING;
}

/* Whether r holds every input with its kind. */
static int covers(const kn_drift_ref *r, const kn__serve_inputs *in)
{
    for (size_t j = 0; r && j < in->n; j++) {
        long at = kn_drift_ref_find(r, in->names[j], KN_DRIFT_REF_INPUT);
        if (at < 0 || kn_drift_ref_text(r, (size_t)at) != is_text(in->types[j])) return 0;
    }
    return r != NULL;
}

/* A text input's reference counts from the stored reference: its
 * DRIFT_LEVELS most frequent values (ties in byte order) as the levels,
 * the others' cells in OTHER, missing cells in MISSING. */
static kn_status stored_levels(kn__drift *d, dcol *c)
{
    size_t k = 0;
    const char *const *values = NULL;
    const size_t *lens = NULL;
    const uint64_t *counts = NULL;
    uint64_t missing = 0, other = 0;
    kn_drift_ref_levels(d->stored, c->rj, &k, &values, &lens, &counts, &missing, &other);
    c->rc[MISSING] = (double)missing;
    c->rc[OTHER] = (double)other;
    char *taken = kn_calloc(k ? k : 1, 1);
    if (!taken) return KN_ERR_NOMEM;
    while (c->n_levels < DRIFT_LEVELS) {
        size_t best = k;
        for (size_t i = 0; i < k; i++)
            if (!taken[i] && (best == k || counts[i] > counts[best])) best = i;
        if (best == k) break;
        taken[best] = 1;
        char *copy = kn_malloc(lens[best] + 1);
        if (!copy) {
            kn_free(taken);
            return KN_ERR_NOMEM;
        }
        memcpy(copy, values[best], lens[best] + 1);
        d->bytes += lens[best] + 1;
        c->levels[c->n_levels] = copy;
        c->level_len[c->n_levels] = lens[best];
        c->rc[c->n_levels++] = (double)counts[best];
    }
    for (size_t i = 0; i < k; i++)
        if (!taken[i]) c->rc[OTHER] += (double)counts[i];
    kn_free(taken);
    return KN_OK;
}

kn_status kn__drift_new(const kn__serve_inputs *in, size_t window, const kn_drift_ref *ref,
                        kn__drift **out)
{
    if (window < 2) return kn_fail(KN_ERR_INVALID, "--drift-window needs at least 2 rows");
    kn__drift *d = kn_calloc(1, sizeof *d);
    if (!d) return KN_ERR_NOMEM;
    d->in = in;
    d->window = window;
    d->stored = covers(ref, in) ? ref : NULL;
    if (d->stored) d->n_ref = window; /* the reference is complete */
    kn_drift_opts_default(&d->o);
    /* an exact KS p-value costs the product of the sizes under the version's
     * lock (a 5,000-row reference against 1,000-row windows of 20 inputs: 100
     * million steps, 1,800 req/s); larger products take the asymptotic one */
    d->o.ks_exact_cells = 200000;
    d->cols = kn_calloc(in->n ? in->n : 1, sizeof *d->cols);
    d->bytes = sizeof *d + in->n * sizeof *d->cols;
    kn_status e = d->cols ? KN_OK : KN_ERR_NOMEM;
    for (size_t j = 0; e == KN_OK && j < in->n; j++) {
        dcol *c = &d->cols[j];
        c->psi = c->p = c->p_adjusted = NAN;
        c->text = is_text(in->types[j]);
        if (d->stored) c->rj = (size_t)kn_drift_ref_find(ref, in->names[j], KN_DRIFT_REF_INPUT);
        if (c->text) {
            if (d->stored) e = stored_levels(d, c);
            continue;
        }
        c->cur = kn_malloc(window * sizeof *c->cur);
        if (!d->stored) c->ref = kn_malloc(window * sizeof *c->ref);
        if (!c->cur || (!d->stored && !c->ref)) e = KN_ERR_NOMEM;
        d->bytes += (d->stored ? 1 : 2) * window * sizeof *c->cur;
        if (d->stored) d->bytes += kn_drift_ref_kept(ref, c->rj) * sizeof *c->cur;
    }
    if (e != KN_OK) {
        kn__drift_free(d);
        return e;
    }
    pthread_mutex_init(&d->mu, NULL);
    *out = d;
    return KN_OK;
}

void kn__drift_free(kn__drift *d)
{
    if (!d) return;
    for (size_t j = 0; d->cols && j < d->in->n; j++) {
        kn_free(d->cols[j].ref), kn_free(d->cols[j].cur);
        for (size_t k = 0; k < d->cols[j].n_levels; k++) kn_free(d->cols[j].levels[k]);
    }
    if (d->cols) pthread_mutex_destroy(&d->mu);
    kn_free(d->cols);
    kn_free(d);
}

size_t kn__drift_bytes(const kn__drift *d)
{
    return d ? d->bytes : 0;
}

/* The bin of a text value (adding it while there is room; under mu). */
static size_t level_of(kn__drift *d, dcol *c, const char *s, size_t len)
{
    (void)d;
    if (!s) return MISSING;
    for (size_t k = 0; k < c->n_levels; k++)
        if (c->level_len[k] == len && !memcmp(c->levels[k], s, len)) return k;
    if (c->n_levels == DRIFT_LEVELS) return OTHER;
    char *copy = kn_malloc(len + 1);
    if (!copy) return OTHER;
    memcpy(copy, s, len);
    copy[len] = 0;
    d->bytes += len + 1;
    c->levels[c->n_levels] = copy;
    c->level_len[c->n_levels] = len;
    return c->n_levels++;
}

/* The window is full: test every column against the reference (under mu). */
static void evaluate(kn__drift *d)
{
    size_t n = d->in->n, m = 0;
    kn_drift_col *r = kn_calloc(n ? n : 1, sizeof *r);
    size_t *at = kn_calloc(n ? n : 1, sizeof *at);
    for (size_t j = 0; r && at && j < n; j++) {
        dcol *c = &d->cols[j];
        c->psi = c->p = c->p_adjusted = NAN;
        c->drifted = 0;
        int tested = 0;
        kn_status e;
        if (!c->text && d->stored)
            e = kn_drift_ref_numbers(d->stored, c->rj, c->cur, d->window, &d->o, &r[m], &tested);
        else if (!c->text)
            e = kn_drift_numbers(d->in->names[j], c->ref, d->window, c->cur, d->window, &d->o,
                                 &r[m], &tested);
        else {
            double rc[BINS], cc[BINS];
            size_t k = 0;
            for (size_t b = 0; b < BINS; b++)
                if (c->rc[b] + c->cc[b] > 0) rc[k] = c->rc[b], cc[k++] = c->cc[b];
            tested = k >= 2;
            e = tested ? kn_drift_counts(d->in->names[j], rc, cc, k, &d->o, &r[m]) : KN_OK;
            memset(c->cc, 0, sizeof c->cc);
        }
        if (e == KN_OK && tested)
            at[m++] = j;
        else
            kn_drift_col_free(&r[m]), memset(&r[m], 0, sizeof r[m]);
    }
    size_t n_drifted = 0;
    if (r && at && m && kn_drift_decide(r, m, &d->o, &n_drifted) == KN_OK)
        for (size_t i = 0; i < m; i++) {
            dcol *c = &d->cols[at[i]];
            c->psi = r[i].psi, c->p = r[i].p, c->p_adjusted = r[i].p_adjusted;
            c->drifted = r[i].drifted;
        }
    for (size_t i = 0; r && i < m; i++) kn_drift_col_free(&r[i]);
    kn_free(r), kn_free(at);
    d->windows++;
    d->drifted_windows += n_drifted > 0;
}

void kn__drift_add(kn__drift *d, const kn_frame *rows)
{
    if (!d || kn_frame_n_cols(rows) != d->in->n) return;
    size_t n = kn_frame_n_rows(rows);
    pthread_mutex_lock(&d->mu);
    for (size_t i = 0; i < n; i++) {
        int filling_ref = d->n_ref < d->window;
        size_t at = filling_ref ? d->n_ref : d->n_cur;
        for (size_t j = 0; j < d->in->n; j++) {
            kn_column *col = kn_frame_col(rows, j);
            dcol *c = &d->cols[j];
            kn_col_type t = kn_column_type(col);
            if (!c->text) {
                double x =
                    t == KN_COL_NUMERIC || t == KN_COL_INT64 ? kn_column_number(col, i) : NAN;
                if (kn_column_is_missing(col, i)) x = NAN;
                (filling_ref ? c->ref : c->cur)[at] = x;
                continue;
            }
            size_t len = 0;
            const char *s = NULL;
            if (t == KN_COL_STRING)
                s = kn_column_str(col, i, &len);
            else if (t == KN_COL_CATEGORICAL) {
                int32_t code = kn_column_codes(col)[i];
                s = code >= 0 ? kn_column_level(col, code, &len) : NULL;
            }
            (filling_ref ? c->rc : c->cc)[level_of(d, c, s, len)]++;
        }
        if (filling_ref)
            d->n_ref++;
        else if (++d->n_cur == d->window) {
            evaluate(d);
            d->n_cur = 0;
        }
    }
    pthread_mutex_unlock(&d->mu);
}

/* ---- /metrics ---- */

static void label(kn__sbuf *b, const char *s)
{
    kn__sbuf_prom_label(b, s, strlen(s));
}

static void series(kn__sbuf *b, const char *name, const kn__serve_model *m, const char *column)
{
    kn__sbuf_puts(b, name);
    kn__sbuf_puts(b, "{model=\"");
    label(b, m->name);
    kn__sbuf_puts(b, "\",version=\"");
    label(b, m->version);
    if (column) {
        kn__sbuf_puts(b, "\",column=\"");
        label(b, column);
    }
    kn__sbuf_puts(b, "\"} ");
}

static void num(kn__sbuf *b, double v)
{
    if (isfinite(v))
        kn__sbuf_json_num(b, v);
    else
        kn__sbuf_puts(b, "NaN");
    kn__sbuf_puts(b, "\n");
}

enum { D_PSI, D_P, D_PADJ, D_DRIFTED, D_WINDOWS, D_DRIFTED_WINDOWS, D_REF, D_BYTES, N_D };
static const char *const family[N_D][3] = {
    {"kiln_drift_psi", "gauge",
     "PSI of an input in the last full window against the reference (the artifact's "
     "reference of its training rows; the version's first window of --drift-window rows for "
     "an artifact without one)."},
    {"kiln_drift_p", "gauge",
     "p-value of the last full window against the reference: Kolmogorov-Smirnov (numeric "
     "inputs) or chi-square (text inputs), as kiln monitor check."},
    {"kiln_drift_p_adjusted", "gauge", "kiln_drift_p, Benjamini-Hochberg adjusted over inputs."},
    {"kiln_drift_drifted", "gauge",
     "1 when the input drifted in the last full window (the rules of kiln monitor check)."},
    {"kiln_drift_windows_total", "counter", "Windows tested against the reference."},
    {"kiln_drift_drifted_windows_total", "counter", "Windows in which any input drifted."},
    {"kiln_drift_reference_rows", "gauge",
     "Rows in the reference: the training rows the artifact's reference holds, else the "
     "first window's so far."},
    {"kiln_drift_memory_bytes", "gauge", "Memory held for windowed drift (bounded)."}};

void kn__drift_text(const kn__serve_model *const *models, size_t n_models, kn__sbuf *b)
{
    size_t with = 0;
    for (size_t i = 0; i < n_models; i++) with += models[i]->drift != NULL;
    if (!with) return;
    for (int f = 0; f < N_D; f++) {
        kn__sbuf_printf(b, "# HELP %s %s\n# TYPE %s %s\n", family[f][0], family[f][2], family[f][0],
                        family[f][1]);
        for (size_t i = 0; i < n_models; i++) {
            kn__drift *d = models[i]->drift;
            if (!d) continue;
            pthread_mutex_lock(&d->mu);
            if (f >= D_WINDOWS) {
                series(b, family[f][0], models[i], NULL);
                unsigned long long x =
                    f == D_WINDOWS ? d->windows
                    : f == D_REF
                        ? (unsigned long long)(d->stored ? kn_drift_ref_rows(d->stored) : d->n_ref)
                    : f == D_BYTES ? (unsigned long long)d->bytes
                                   : d->drifted_windows;
                kn__sbuf_printf(b, "%llu\n", x);
            } else
                for (size_t j = 0; d->windows && j < d->in->n; j++) {
                    const dcol *c = &d->cols[j];
                    series(b, family[f][0], models[i], d->in->names[j]);
                    if (f == D_DRIFTED)
                        kn__sbuf_printf(b, "%d\n", c->drifted);
                    else
                        num(b, f == D_PSI ? c->psi : f == D_P ? c->p : c->p_adjusted);
                }
            pthread_mutex_unlock(&d->mu);
        }
    }
}
