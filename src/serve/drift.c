/* Windowed drift of the rows a served version receives (kn__drift_*):
 * windows of `window` rows, tumbling (a window every `window` rows) or
 * sliding (the last `window` rows every `slide` rows), each compared with a
 * reference by the tests of kiln/drift.h (KS, chi-square, PSI,
 * Benjamini-Hochberg over the columns), and the model's predictions in it
 * compared with the artifact's reference predictions, for /metrics and,
 * through the server's watcher (watch.c), the store and the alert rules.
 *
 * The reference is the artifact's reference of its training rows
 * (kiln/drift_ref.h), so the first window is tested too: the inputs it
 * leaves out (ignored in training) are not tested; else (an artifact
 * written before references) the first window the version receives. The predictions' reference is
 * the artifact's held-out predictions, else the stored reference's predictions, else (no stored
 * reference) the first window's; a classifier's scores (the positive class's probability, the
 * top class's for more classes: kn_drift_class_score) are tested beside its predicted classes
 * against the same rows' scores, one Benjamini-Hochberg family with them
 * (kn_drift_decide_predictions), as kiln monitor check does.
 *
 * Memory is fixed at load: a ring of `cap` rows (a power of two, two
 * windows at least), each row its own cache lines: a stamp, the
 * prediction, a classifier's score, per numeric input a double, a byte (valid, or a row of a
 * refused request), per text input a byte (its bin: one of DRIFT_LEVELS
 * values, the reference's most frequent, else the first seen; "other";
 * missing); the copy of a window being tested, column by column; one
 * scratch array of `window` doubles; without a stored reference, the
 * first window's values.
 *
 * Request threads take no lock: a row's number comes from one atomic
 * counter (`next`), the row goes to its slot, and its stamp (the number
 * + 1, stored last with release order) says it is complete. The thread
 * whose row ends a window hands the window's end to the monitoring thread
 * (or, without one, tests it itself), which copies the window's rows once
 * their stamps are in, then releases them (`freed`). A row never overwrites
 * one still needed: its writer waits for room (counted in waits: the
 * monitoring thread cannot keep up). The results are published under mu,
 * which /metrics takes. */
#include "kiln/drift.h"
#include "kiln/log.h"
#include "kiln/mem.h"
#include "serve/serve-impl.h"

#include <math.h>
#include <sched.h>
#include <stdatomic.h>
#include <string.h>
#include <time.h>

enum { DRIFT_LEVELS = 64, OTHER = DRIFT_LEVELS, MISSING = DRIFT_LEVELS + 1, BINS };
enum { PUT_NUMBER, PUT_TEXT, PUT_NONE, PUT_KIND = 3, PUT_SHIFT = 2 };

typedef struct dcol {
    int text;
    double *ref;    /* numeric, no stored reference: the first window's values */
    size_t slot;    /* its place in a row of the ring (numeric or text) */
    int untested;   /* the stored reference leaves it out: the model never reads it (ignored in
                       training: an id drifts in every window) */
    double *s_ring; /* numeric: the window being tested (a copy of ring) */
    unsigned char *s_bins;          /* text: the same of bins */
    size_t rj;                      /* its column in the stored reference */
    char *levels[DRIFT_LEVELS];     /* text: the values seen first */
    size_t level_len[DRIFT_LEVELS]; /* their lengths */
    _Atomic size_t n_levels;        /* levels[0..n_levels) are complete (added under levels_mu) */
    size_t s_levels; /* text: n_levels when the window was copied (those levels are fixed) */
    double rc[BINS]; /* text: the reference's counts */
    size_t bytes;    /* what the column holds (fixed at load, but for its levels' text) */
    /* the last window's results (NaN before) */
    double psi, p, p_adjusted;
    int drifted;
} dcol;

/* Where the predictions' reference comes from. */
enum { PRED_NONE, PRED_HELDOUT, PRED_STORED, PRED_FIRST };

typedef _Atomic unsigned long long counter;

struct kn__drift {
    /* written by every request: a cache line of its own */
    counter next; /* rows numbered so far */
    char pad0[64 - sizeof(counter)];
    counter freed;           /* rows below it are no longer needed */
    counter pending;         /* without a monitoring thread: the last window end to test */
    _Atomic int waiting;     /* writers waiting for room */
    pthread_mutex_t room_mu; /* with room: writers wait for freed to move */
    pthread_cond_t room;
    pthread_mutex_t levels_mu; /* a text input's new level */
    pthread_mutex_t run_mu;    /* without a monitoring thread: one tester at a time */
    pthread_mutex_t mu;        /* the last window's results, the counters */
    const kn__serve_model *m;
    const kn__serve_inputs *in;
    const kn_drift_ref *stored; /* the artifact's reference, or NULL: the first window */
    size_t window, slide;
    unsigned long long first_end; /* the first tested window's end: window, 2 window without
                                     a stored reference (the first is the reference) */
    _Atomic size_t n_ref;         /* rows in the reference (the first window's once taken) */
    /* the ring: cap rows of stride bytes (see the top) */
    unsigned char *ring, *ring_mem;
    size_t cap, stride, off_num, off_valid, off_bins;
    /* the window being tested: a copy of its rows, column by column (the
     * monitoring thread's; requests fill the ring on meanwhile) */
    unsigned char *s_valid;
    double *s_pred;
    unsigned long long s_end;     /* the copied window's end (rows numbered before it) */
    unsigned long long last_end;  /* the last window taken (0: none) */
    counter skipped;              /* windows not tested: the monitoring thread had stopped */
    counter waits;                /* rows that waited for room (the thread cannot keep up) */
    struct kn__serve_snap *owner; /* the version the drift belongs to (a job keeps it alive) */
    double *scratch;              /* window doubles: a column's valid values, compacted */
    size_t n_num, n_text;
    dcol *cols;
    /* per input, what a request writes (PUT_*, its slot above): in one
     * array, as a dcol is 1.6 KB and the request path read a cache line
     * of each (cold: the HTTP stack ran between two requests) */
    uint32_t *put;
    kn_drift_opts o;
    /* predictions */
    int pred_kind;
    double *pred_ref;                   /* PRED_HELDOUT, PRED_FIRST: the reference's predictions */
    size_t n_pred_ref;                  /* their number (PRED_FIRST: filled so far) */
    long pred_rj;                       /* PRED_STORED: the stored reference's column */
    kn_drift_numref *pred_nr;           /* PRED_HELDOUT of a regressor: prepared once */
    size_t pred_bytes;                  /* the predictions' ring and reference */
    double pred_psi, pred_p, pred_padj; /* the last window's (NaN before) */
    int pred_drifted, pred_tested;
    /* a classifier's scores (kn_drift_class_score of its k probabilities),
     * tested beside the predicted classes: the same kinds of reference
     * (held-out, stored "(score)", the first window's) */
    size_t k;
    int score_kind;
    double *s_score;   /* window: the copy tested */
    double *score_ref; /* PRED_HELDOUT (the model's), PRED_FIRST (owned) */
    size_t n_score_ref;
    long score_rj;             /* PRED_STORED: the stored reference's "(score)" */
    kn_drift_numref *score_nr; /* PRED_HELDOUT: prepared once */
    size_t score_bytes;
    double score_psi, score_p, score_padj;
    int score_drifted, score_tested;
    /* the last window */
    double invalid_share;
    unsigned long long windows, drifted_windows;
    counter invalid_rows;
    size_t bytes;
    kn__watch *watch;
    const char *key;
    const struct kn__serve_slot *slot;
    /* input anomalies of each window (anomwin.c), or NULL */
    kn__anomwin *anom;
    const double **anom_rings; /* per input: its copied window (numeric), else NULL */
    int live;                  /* the locks are made */
};

static int is_text(kn_col_type t)
{
    return t == KN_COL_CATEGORICAL || t == KN_COL_STRING;
}

/* Whether r serves as the inputs' reference: it holds one at least, each
 * with its kind. The inputs it leaves out are the ones ignored in training
 * (the model never reads them): they are not tested. */
static int covers(const kn_drift_ref *r, const kn__serve_inputs *in)
{
    size_t held = 0;
    for (size_t j = 0; r && j < in->n; j++) {
        long at = kn_drift_ref_find(r, in->names[j], KN_DRIFT_REF_INPUT);
        if (at < 0) continue;
        if (kn_drift_ref_text(r, (size_t)at) != is_text(in->types[j])) return 0;
        held++;
    }
    return held > 0;
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
        c->bytes += lens[best] + 1;
        c->levels[c->n_levels] = copy;
        c->level_len[c->n_levels] = lens[best];
        c->rc[c->n_levels++] = (double)counts[best];
    }
    for (size_t i = 0; i < k; i++)
        if (!taken[i]) c->rc[OTHER] += (double)counts[i];
    kn_free(taken);
    return KN_OK;
}

/* The predictions' reference: held-out, else stored, else the first window. */
static kn_status pred_reference(kn__drift *d)
{
    const kn__serve_model *m = d->m;
    d->pred_rj = -1;
    if (m->heldout_pred && m->n_heldout) {
        d->pred_kind = PRED_HELDOUT;
        d->pred_ref = m->heldout_pred; /* borrowed: the model's */
        d->n_pred_ref = m->n_heldout;
        /* a regressor's: sorted and indexed once, not per window */
        kn_status e = m->n_classes
                          ? KN_OK
                          : kn_drift_numref_new(d->pred_ref, d->n_pred_ref, &d->o, &d->pred_nr);
        if (e != KN_OK) return e;
    } else if (m->ref &&
               (d->pred_rj = kn_drift_ref_find(m->ref, "(prediction)", KN_DRIFT_REF_PREDICTION)) >=
                   0 &&
               kn_drift_ref_text(m->ref, (size_t)d->pred_rj) == (m->n_classes > 0)) {
        d->pred_kind = PRED_STORED;
    } else if (!d->stored) {
        d->pred_kind = PRED_FIRST;
        if (!(d->pred_ref = kn_malloc(d->window * sizeof *d->pred_ref))) return KN_ERR_NOMEM;
    } else
        return KN_OK; /* a stored reference without predictions: none to compare with */
    if (!(d->s_pred = kn_malloc(d->window * sizeof *d->s_pred))) return KN_ERR_NOMEM;
    d->pred_bytes = (d->cap + d->window) * sizeof(double); /* its share of the ring, the copy */
    /* the reference's predictions: held-out (the model's), stored (the
     * reference's sample) or the first window's */
    d->pred_bytes += d->pred_kind == PRED_STORED
                         ? kn_drift_ref_kept(m->ref, (size_t)d->pred_rj) * sizeof(double)
                         : d->n_pred_ref * sizeof(double) + kn_drift_numref_bytes(d->pred_nr);
    if (d->pred_kind == PRED_FIRST) d->pred_bytes = (d->cap + 2 * d->window) * sizeof(double);
    d->bytes += d->pred_bytes;
    return KN_OK;
}

/* A classifier's scores' reference, beside its classes': the held-out
 * rows' scores, the stored reference's "(score)", or the first window's.
 * An artifact without them (written before kiln kept them) tests the
 * classes alone, said once in the log. */
static kn_status score_reference(kn__drift *d)
{
    const kn__serve_model *m = d->m;
    d->score_rj = -1;
    if (d->pred_kind == PRED_NONE || m->n_classes < 2) return KN_OK;
    d->k = m->n_classes;
    if (d->pred_kind == PRED_HELDOUT && m->heldout_score) {
        d->score_kind = PRED_HELDOUT;
        d->score_ref = m->heldout_score; /* borrowed: the model's */
        d->n_score_ref = m->n_heldout;
        kn_status e = kn_drift_numref_new(d->score_ref, d->n_score_ref, &d->o, &d->score_nr);
        if (e != KN_OK) return e;
    } else if (d->pred_kind == PRED_STORED &&
               (d->score_rj =
                    kn_drift_ref_find(m->ref, KN_DRIFT_SCORE_NAME, KN_DRIFT_REF_PREDICTION)) >= 0 &&
               !kn_drift_ref_text(m->ref, (size_t)d->score_rj)) {
        d->score_kind = PRED_STORED;
    } else if (d->pred_kind == PRED_FIRST) {
        d->score_kind = PRED_FIRST;
        if (!(d->score_ref = kn_malloc(d->window * sizeof *d->score_ref))) return KN_ERR_NOMEM;
    } else {
        kn_log(KN_LOG_WARN,
               "serve: model %s: the artifact keeps no reference scores (written before kiln kept "
               "them): its windows test the predicted classes alone; rebuild it to test the "
               "scores too",
               m->name);
        return KN_OK;
    }
    if (!(d->s_score = kn_malloc(d->window * sizeof *d->s_score))) return KN_ERR_NOMEM;
    /* its share of the ring, the copy (and the first window's) */
    d->score_bytes = (d->cap + (d->score_kind == PRED_FIRST ? 2 : 1) * d->window) * sizeof(double);
    if (d->score_kind == PRED_HELDOUT)
        d->score_bytes += d->n_score_ref * sizeof(double) + kn_drift_numref_bytes(d->score_nr);
    if (d->score_kind == PRED_STORED)
        d->score_bytes += kn_drift_ref_kept(m->ref, (size_t)d->score_rj) * sizeof(double);
    d->bytes += d->score_bytes;
    return KN_OK;
}

kn_status kn__drift_new(const kn__serve_model *m, const kn__drift_cfg *cfg, kn__drift **out)
{
    const kn__serve_inputs *in = &m->in;
    size_t window = cfg->window, slide = cfg->slide ? cfg->slide : cfg->window;
    if (window < 2) return kn_fail(KN_ERR_INVALID, "--drift-window needs at least 2 rows");
    if (slide > window)
        return kn_fail(KN_ERR_INVALID,
                       "--drift-slide %zu is over --drift-window %zu: a window of N rows is "
                       "tested every M rows, M from 1 to N",
                       slide, window);
    kn__drift *d = kn_calloc(1, sizeof *d);
    if (!d) return KN_ERR_NOMEM;
    d->m = m;
    d->in = in;
    d->window = window;
    d->slide = slide;
    d->watch = cfg->watch;
    d->key = cfg->key;
    d->slot = cfg->slot;
    d->stored = covers(m->ref, in) ? m->ref : NULL;
    d->first_end = d->stored ? window : 2 * (unsigned long long)window;
    if (d->stored) d->n_ref = window; /* the reference is complete */
    d->cap = 1;
    while (d->cap < 2 * window) d->cap <<= 1;
    d->pred_psi = d->pred_p = d->pred_padj = d->invalid_share = NAN;
    d->score_psi = d->score_p = d->score_padj = NAN;
    kn_drift_opts_default(&d->o);
    /* an exact KS p-value costs the product of the sizes under the version's
     * lock (a 5,000-row reference against 1,000-row windows of 20 inputs: 100
     * million steps, 1,800 req/s); larger products take the asymptotic one */
    d->o.ks_exact_cells = KN_DRIFT_WINDOW_EXACT_CELLS; /* as monitor check's (drift.h) */
    d->cols = kn_calloc(in->n ? in->n : 1, sizeof *d->cols);
    d->put = kn_calloc(in->n ? in->n : 1, sizeof *d->put);
    d->s_valid = kn_malloc(window);
    d->scratch = kn_malloc(window * sizeof *d->scratch);
    d->bytes = sizeof *d + in->n * (sizeof *d->cols + sizeof *d->put) + d->cap + window +
               window * sizeof *d->scratch;
    kn_status e = d->cols && d->put && d->s_valid && d->scratch ? KN_OK : KN_ERR_NOMEM;
    for (size_t j = 0; e == KN_OK && j < in->n; j++) {
        dcol *c = &d->cols[j];
        c->psi = c->p = c->p_adjusted = NAN;
        c->text = is_text(in->types[j]);
        long rj = d->stored ? kn_drift_ref_find(m->ref, in->names[j], KN_DRIFT_REF_INPUT) : 0;
        c->rj = rj >= 0 ? (size_t)rj : 0;
        if ((c->untested = rj < 0)) continue;
        if (c->text) {
            c->slot = d->n_text++;
            c->s_bins = kn_malloc(window);
            c->bytes = d->cap + window; /* its byte of each ring row, and the copy */
            if (!c->s_bins) e = KN_ERR_NOMEM;
            if (e == KN_OK && d->stored) e = stored_levels(d, c);
        } else {
            c->slot = d->n_num++;
            c->s_ring = kn_malloc(window * sizeof *c->s_ring);
            if (!d->stored) c->ref = kn_malloc(window * sizeof *c->ref);
            if (!c->s_ring || (!d->stored && !c->ref)) e = KN_ERR_NOMEM;
            /* its share of the ring, the copy, the reference */
            c->bytes = (d->cap + (d->stored ? 1 : 2) * window) * sizeof *c->s_ring;
            if (d->stored) c->bytes += kn_drift_ref_kept(m->ref, c->rj) * sizeof *c->s_ring;
        }
        d->bytes += c->bytes;
    }
    for (size_t j = 0; e == KN_OK && j < in->n; j++) {
        const dcol *c = &d->cols[j];
        d->put[j] = c->untested
                        ? PUT_NONE
                        : (uint32_t)c->slot << PUT_SHIFT | (c->text ? PUT_TEXT : PUT_NUMBER);
    }
    /* a row: stamp, prediction, score, numbers, valid, bins; whole cache lines */
    d->off_num = 3 * sizeof(double);
    d->off_valid = d->off_num + d->n_num * sizeof(double);
    d->off_bins = d->off_valid + 1;
    d->stride = (d->off_bins + d->n_text + 63) / 64 * 64;
    d->ring_mem = e == KN_OK ? kn_calloc(d->cap * d->stride + 64, 1) : NULL;
    if (e == KN_OK && !d->ring_mem) e = KN_ERR_NOMEM;
    if (d->ring_mem) /* on a cache line's start */
        d->ring = d->ring_mem + (64 - (uintptr_t)d->ring_mem % 64) % 64;
    if (e == KN_OK) e = pred_reference(d);
    if (e == KN_OK) e = score_reference(d);
    /* the rows' stamps and padding (the inputs', the predictions', the
     * scores' and the valid bytes' shares are counted above) */
    d->bytes += d->cap * (d->stride - d->n_num * sizeof(double) - d->n_text - 1 -
                          (d->s_pred ? sizeof(double) : 0) - (d->s_score ? sizeof(double) : 0)) +
                64;
    if (e == KN_OK && cfg->anomalies) {
        e = kn__anomwin_new(m, window, cfg->anomaly_rows, cfg->anomaly_alpha,
                            cfg->anomaly_contamination, cfg->anomaly_seed, &d->anom);
        d->anom_rings = e == KN_OK ? kn_calloc(in->n ? in->n : 1, sizeof *d->anom_rings) : NULL;
        if (e == KN_OK && !d->anom_rings) e = KN_ERR_NOMEM;
        for (size_t j = 0; e == KN_OK && j < in->n; j++) d->anom_rings[j] = d->cols[j].s_ring;
    }
    if (e != KN_OK) {
        kn__drift_free(d);
        return e;
    }
    kn__serve_lock_init(&d->mu);
    pthread_mutex_init(&d->room_mu, NULL);
    pthread_cond_init(&d->room, NULL);
    pthread_mutex_init(&d->levels_mu, NULL);
    pthread_mutex_init(&d->run_mu, NULL);
    d->live = 1;
    *out = d;
    return KN_OK;
}

void kn__drift_free(kn__drift *d)
{
    if (!d) return;
    for (size_t j = 0; d->cols && j < d->in->n; j++) {
        kn_free(d->cols[j].ref);
        kn_free(d->cols[j].s_ring), kn_free(d->cols[j].s_bins);
        for (size_t k = 0; k < d->cols[j].n_levels; k++) kn_free(d->cols[j].levels[k]);
    }
    if (d->live) {
        pthread_mutex_destroy(&d->mu), pthread_mutex_destroy(&d->room_mu);
        pthread_cond_destroy(&d->room);
        pthread_mutex_destroy(&d->levels_mu), pthread_mutex_destroy(&d->run_mu);
    }
    if (d->pred_kind == PRED_FIRST) kn_free(d->pred_ref);
    if (d->score_kind == PRED_FIRST) kn_free(d->score_ref);
    kn_drift_numref_free(d->pred_nr), kn_drift_numref_free(d->score_nr);
    kn_free(d->s_score);
    kn__anomwin_free(d->anom);
    kn_free(d->anom_rings);
    kn_free(d->s_pred);
    kn_free(d->s_valid);
    kn_free(d->scratch);
    kn_free(d->ring_mem);
    kn_free(d->cols);
    kn_free(d->put);
    kn_free(d);
}

size_t kn__drift_bytes(const kn__drift *d)
{
    return d ? d->bytes : 0;
}

static size_t find_level(const dcol *c, size_t from, size_t to, const char *s, size_t len)
{
    for (size_t k = from; k < to; k++)
        if (c->level_len[k] == len && !memcmp(c->levels[k], s, len)) return k;
    return to;
}

/* The bin of a text value (adding it while there is room: the levels
 * complete so far are read without a lock, a new one is added under
 * levels_mu and published by n_levels). */
static size_t level_of(kn__drift *d, dcol *c, const char *s, size_t len)
{
    if (!s) return MISSING;
    size_t n = atomic_load_explicit(&c->n_levels, memory_order_acquire);
    size_t k = find_level(c, 0, n, s, len);
    if (k < n) return k;
    if (n == DRIFT_LEVELS) return OTHER;
    pthread_mutex_lock(&d->levels_mu);
    size_t now = atomic_load_explicit(&c->n_levels, memory_order_relaxed);
    k = find_level(c, n, now, s, len); /* another thread may have added it */
    char *copy = k == now && now < DRIFT_LEVELS ? kn_malloc(len + 1) : NULL;
    if (copy) {
        memcpy(copy, s, len);
        copy[len] = 0;
        c->levels[now] = copy;
        c->level_len[now] = len;
        pthread_mutex_lock(&d->mu); /* /metrics reads the sizes */
        d->bytes += len + 1;
        c->bytes += len + 1;
        pthread_mutex_unlock(&d->mu);
        atomic_store_explicit(&c->n_levels, now + 1, memory_order_release);
    }
    pthread_mutex_unlock(&d->levels_mu);
    return k < now ? k : copy ? now : OTHER;
}

/* The valid rows' values of a copied window (window doubles) in d->scratch. */
static size_t compact(kn__drift *d, const double *ring)
{
    size_t n = 0;
    for (size_t i = 0; i < d->window; i++)
        if (d->s_valid[i]) d->scratch[n++] = ring[i];
    return n;
}

/* The bins of text column c in the order kiln monitor check counts a
 * column in (kn_drift_ref_column): the values in byte order, then the
 * other values, then the missing cells; so the same rows give the same
 * sums, bit for bit. The levels of the copied window only (fixed). */
static size_t bin_order(const dcol *c, unsigned char *order)
{
    size_t n = 0;
    for (size_t k = 0; k < c->s_levels; k++) {
        size_t at = n++;
        for (; at > 0; at--) { /* insertion: at most DRIFT_LEVELS */
            const size_t o = order[at - 1], lo = c->level_len[o], lk = c->level_len[k];
            int cmp = memcmp(c->levels[o], c->levels[k], lo < lk ? lo : lk);
            if (cmp < 0 || (cmp == 0 && lo <= lk)) break;
            order[at] = order[at - 1];
        }
        order[at] = (unsigned char)k;
    }
    order[n++] = OTHER;
    order[n++] = MISSING;
    return n;
}

/* The predictions of the window against their reference (under mu). */
static kn_status test_predictions(kn__drift *d, kn_drift_col *out, int *tested)
{
    *tested = 0;
    if (d->pred_kind == PRED_NONE) return KN_OK;
    size_t nv = compact(d, d->s_pred), k = d->m->n_classes;
    if (!k && d->pred_kind == PRED_STORED)
        return kn_drift_ref_numbers(d->m->ref, (size_t)d->pred_rj, d->scratch, nv, &d->o, out,
                                    tested);
    if (!k && d->pred_nr) /* held-out: as kiln monitor check tests them */
        return kn_drift_numbers_vs("(prediction)", d->pred_nr, d->scratch, nv, &d->o, out, tested);
    if (!k)
        return kn_drift_numbers("(prediction)", d->pred_ref, d->n_pred_ref, d->scratch, nv, &d->o,
                                out, tested);
    /* a classifier: the predicted classes' counts, in the model's class order */
    double *rc = kn_calloc(k + 1, sizeof *rc), *cc = kn_calloc(k + 1, sizeof *cc);
    kn_status e = rc && cc ? KN_OK : KN_ERR_NOMEM;
    if (e == KN_OK && d->pred_kind == PRED_STORED) {
        size_t kept = 0;
        const char *const *values = NULL;
        const size_t *lens = NULL;
        const uint64_t *counts = NULL;
        kn_drift_ref_levels(d->m->ref, (size_t)d->pred_rj, &kept, &values, &lens, &counts, NULL,
                            NULL);
        for (size_t c = 0; c < k; c++) {
            const char *label = kn_model_class(d->m->m, c);
            for (size_t v = 0; label && v < kept; v++)
                if (!strcmp(values[v], label)) rc[c] = (double)counts[v];
        }
    } else
        for (size_t i = 0; e == KN_OK && i < d->n_pred_ref; i++)
            if (d->pred_ref[i] >= 0 && d->pred_ref[i] < (double)k) rc[(size_t)d->pred_ref[i]]++;
    for (size_t i = 0; e == KN_OK && i < nv; i++)
        if (d->scratch[i] >= 0 && d->scratch[i] < (double)k) cc[(size_t)d->scratch[i]]++;
    if (e == KN_OK) e = kn_drift_counts("(prediction)", rc, cc, k, &d->o, out);
    *tested = e == KN_OK;
    kn_free(rc), kn_free(cc);
    return e;
}

/* The scores of the window against their reference (under mu, as the predictions'). */
static kn_status test_scores(kn__drift *d, kn_drift_col *out, int *tested)
{
    *tested = 0;
    if (d->score_kind == PRED_NONE) return KN_OK;
    size_t nv = compact(d, d->s_score);
    if (d->score_kind == PRED_STORED)
        return kn_drift_ref_numbers(d->m->ref, (size_t)d->score_rj, d->scratch, nv, &d->o, out,
                                    tested);
    if (d->score_nr) /* held-out: as kiln monitor check tests them */
        return kn_drift_numbers_vs(KN_DRIFT_SCORE_NAME, d->score_nr, d->scratch, nv, &d->o, out,
                                   tested);
    return kn_drift_numbers(KN_DRIFT_SCORE_NAME, d->score_ref, d->n_score_ref, d->scratch, nv,
                            &d->o, out, tested);
}

/* Test the copied window: every column and the predictions against the
 * references; publish the results (under mu)
 * and, when out is given, hand them over in it (else they are freed). */
/* Ask for the stored reference of the first numeric input tested from
 * column `from` on (the window's tests find each out of cache). */
static void prefetch_from(const kn__drift *d, size_t from)
{
    for (size_t j = from; d->stored && j < d->in->n; j++)
        if (!d->cols[j].untested && !d->cols[j].text) {
            kn_drift_ref_prefetch(d->stored, d->cols[j].rj);
            return;
        }
}

static void evaluate(kn__drift *d, kn__watch_window *out)
{
    prefetch_from(d, 0);
    kn__anomwin_take(d->anom, d->anom_rings, d->s_valid, d->s_end);
    if (!out) kn__anomwin_score(d->anom, NULL); /* else by kn__drift_run, after the results */
    size_t n = d->in->n, m = 0, n_valid = 0;
    for (size_t i = 0; i < d->window; i++) n_valid += d->s_valid[i];
    kn_drift_col *r = kn_calloc(n ? n : 1, sizeof *r);
    size_t *at = kn_calloc(n ? n : 1, sizeof *at);
    for (size_t j = 0; r && at && j < n; j++) {
        dcol *c = &d->cols[j];
        int tested = 0;
        kn_status e = KN_OK;
        if (c->untested) continue;
        prefetch_from(d, j + 1); /* the next one's reference comes in while this one is tested */
        if (!c->text) {
            size_t nv = compact(d, c->s_ring);
            if (d->stored)
                e = kn_drift_ref_numbers(d->stored, c->rj, d->scratch, nv, &d->o, &r[m], &tested);
            else
                e = kn_drift_numbers(d->in->names[j], c->ref, atomic_load(&d->n_ref), d->scratch,
                                     nv, &d->o, &r[m], &tested);
        } else {
            /* rc is the reference's: fixed once the first window is in */
            double cc[BINS] = {0}, rb[BINS], cb[BINS];
            unsigned char order[BINS];
            for (size_t i = 0; i < d->window; i++)
                if (d->s_valid[i]) cc[c->s_bins[i]]++;
            size_t k = 0, n_bins = bin_order(c, order);
            for (size_t o = 0; o < n_bins; o++) {
                size_t b = order[o];
                if (c->rc[b] + cc[b] > 0) rb[k] = c->rc[b], cb[k++] = cc[b];
            }
            tested = k >= 2 && n_valid > 0;
            e = tested ? kn_drift_counts(d->in->names[j], rb, cb, k, &d->o, &r[m]) : KN_OK;
        }
        if (e == KN_OK && tested)
            at[m++] = j;
        else
            kn_drift_col_free(&r[m]), memset(&r[m], 0, sizeof r[m]);
    }
    size_t n_drifted = 0;
    int decided = r && at && m && kn_drift_decide(r, m, &d->o, &n_drifted) == KN_OK;
    kn_drift_col pred, score;
    memset(&pred, 0, sizeof pred);
    memset(&score, 0, sizeof score);
    int pred_tested = 0, score_tested = 0;
    if (test_predictions(d, &pred, &pred_tested) != KN_OK) pred_tested = 0;
    if (test_scores(d, &score, &score_tested) != KN_OK) score_tested = 0;
    /* one family, apart from the inputs: as kiln monitor check */
    if (kn_drift_decide_predictions(&pred, pred_tested, &score, score_tested, &d->o) != KN_OK)
        pred_tested = score_tested = 0;
    double invalid_share = (double)(d->window - n_valid) / (double)d->window;
    int drift = n_drifted > 0 || (pred_tested && pred.drifted) || (score_tested && score.drifted) ||
                invalid_share > KN__DRIFT_MAX_INVALID;
    pthread_mutex_lock(&d->mu);
    for (size_t j = 0; j < n; j++) {
        dcol *c = &d->cols[j];
        c->psi = c->p = c->p_adjusted = NAN;
        c->drifted = 0;
    }
    for (size_t i = 0; decided && i < m; i++) {
        dcol *c = &d->cols[at[i]];
        c->psi = r[i].psi, c->p = r[i].p, c->p_adjusted = r[i].p_adjusted;
        c->drifted = r[i].drifted;
    }
    d->pred_tested = pred_tested;
    d->pred_psi = pred_tested ? pred.psi : NAN;
    d->pred_p = pred_tested ? pred.p : NAN;
    d->pred_padj = pred_tested ? pred.p_adjusted : NAN;
    d->pred_drifted = pred_tested && pred.drifted;
    d->score_tested = score_tested;
    d->score_psi = score_tested ? score.psi : NAN;
    d->score_p = score_tested ? score.p : NAN;
    d->score_padj = score_tested ? score.p_adjusted : NAN;
    d->score_drifted = score_tested && score.drifted;
    d->invalid_share = invalid_share;
    d->windows++;
    d->drifted_windows += drift;
    if (out && r && at) {
        out->model = d->key;
        out->slot = d->slot;
        out->version = d->m->version;
        out->window = d->windows;
        out->end_row = d->s_end;
        out->window_rows = d->window;
        out->slide = d->slide;
        out->rows = d->window;
        out->invalid = d->window - n_valid;
        out->drift = drift;
        out->cols.cols = r;
        out->cols.n_cols = m;
        out->cols.n_drifted = n_drifted;
        out->pred = pred;
        out->pred_tested = pred_tested;
        out->score = score;
        out->score_tested = score_tested;
        r = NULL;
        memset(&pred, 0, sizeof pred);
        memset(&score, 0, sizeof score);
    }
    pthread_mutex_unlock(&d->mu);
    for (size_t i = 0; r && i < m; i++) kn_drift_col_free(&r[i]);
    kn_drift_col_free(&pred);
    kn_drift_col_free(&score);
    kn_free(r), kn_free(at);
}

/* ---- the ring ---- */

static unsigned char *row_at(const kn__drift *d, unsigned long long seq)
{
    return d->ring + (size_t)(seq & (d->cap - 1)) * d->stride;
}

static counter *stamp_of(unsigned char *row)
{
    return (counter *)(void *)row;
}

/* Whether row `seq`'s stamp is in (1), or it was overwritten already (-1):
 * waits while its writer is still at it. */
static int row_ready(const kn__drift *d, unsigned long long seq)
{
    counter *st = stamp_of(row_at(d, seq));
    for (unsigned spins = 0;; spins++) {
        unsigned long long v = atomic_load_explicit(st, memory_order_acquire);
        if (v == seq + 1) return 1;
        if (v > seq + 1) return -1;
        if (spins > 64) sched_yield(); /* its writer was preempted */
    }
}

/* Rows below `upto` are no longer needed: writers waiting for room go on. */
static void release_rows(kn__drift *d, unsigned long long upto)
{
    unsigned long long cur = atomic_load(&d->freed);
    while (cur < upto && !atomic_compare_exchange_weak(&d->freed, &cur, upto)) {
    }
    if (atomic_load(&d->waiting)) {
        pthread_mutex_lock(&d->room_mu);
        pthread_cond_broadcast(&d->room);
        pthread_mutex_unlock(&d->room_mu);
    }
}

/* Row `seq` may overwrite its slot once the row cap before it is freed. */
static void wait_room(kn__drift *d, unsigned long long seq)
{
    if (seq < atomic_load_explicit(&d->freed, memory_order_acquire) + d->cap) return;
    atomic_fetch_add(&d->waits, 1);
    pthread_mutex_lock(&d->room_mu);
    atomic_fetch_add(&d->waiting, 1);
    while (seq >= atomic_load(&d->freed) + d->cap) pthread_cond_wait(&d->room, &d->room_mu);
    atomic_fetch_sub(&d->waiting, 1);
    pthread_mutex_unlock(&d->room_mu);
}

/* The end of the window after the one that ends at `end` (0: none yet;
 * without a stored reference the first is the reference). */
static unsigned long long next_end(const kn__drift *d, unsigned long long end)
{
    if (!end) return d->window;
    return !d->stored && end == d->window ? d->first_end : end + d->slide;
}

/* Copy the rows [end - window, end) column by column, row r at r mod
 * window (as a ring of one window: the input anomalies find the rows new
 * since the last window there); 0 when one of them was overwritten (the
 * window was given up: the thread had stopped). */
static int take_copy(kn__drift *d, unsigned long long end)
{
    unsigned long long first = end - d->window;
    for (size_t i = 0; i < d->window; i++) {
        if (row_ready(d, first + i) < 0) return 0;
        const unsigned char *row = row_at(d, first + i);
        const double *x = (const double *)(const void *)(row + d->off_num);
        const unsigned char *bins = row + d->off_bins;
        size_t at = (size_t)((first + i) % d->window);
        d->s_valid[at] = row[d->off_valid];
        if (d->s_pred) memcpy(&d->s_pred[at], row + sizeof(double), sizeof(double));
        if (d->s_score) memcpy(&d->s_score[at], row + 2 * sizeof(double), sizeof(double));
        for (size_t j = 0; j < d->in->n; j++) {
            dcol *c = &d->cols[j];
            if (c->untested) continue;
            if (c->text)
                c->s_bins[at] = bins[c->slot];
            else
                c->s_ring[at] = x[c->slot];
        }
    }
    /* the levels the copied rows' bins name (fixed once published) */
    for (size_t j = 0; j < d->in->n; j++)
        d->cols[j].s_levels = atomic_load_explicit(&d->cols[j].n_levels, memory_order_acquire);
    d->s_end = end;
    return 1;
}

/* Without a stored reference, the first window is the reference: its
 * valid rows' values, the text inputs' counts and the predictions. */
static void take_reference(kn__drift *d)
{
    size_t n = 0;
    for (size_t i = 0; i < d->window; i++) {
        if (row_ready(d, i) < 0) break;
        const unsigned char *row = row_at(d, i);
        if (!row[d->off_valid]) continue;
        const double *x = (const double *)(const void *)(row + d->off_num);
        for (size_t j = 0; j < d->in->n; j++) {
            dcol *c = &d->cols[j];
            if (c->text)
                c->rc[row[d->off_bins + c->slot]]++;
            else
                c->ref[n] = x[c->slot];
        }
        if (d->pred_kind == PRED_FIRST)
            memcpy(&d->pred_ref[n], row + sizeof(double), sizeof(double));
        if (d->score_kind == PRED_FIRST)
            memcpy(&d->score_ref[n], row + 2 * sizeof(double), sizeof(double));
        n++;
    }
    d->n_pred_ref = d->pred_kind == PRED_FIRST ? n : d->n_pred_ref;
    d->n_score_ref = d->score_kind == PRED_FIRST ? n : d->n_score_ref;
    atomic_store(&d->n_ref, n);
}

/* Take the window that ends at `end` and test it, the reference first
 * when it is not taken yet; the rows no longer needed are released once
 * copied (under run_mu). out: see evaluate. 1 tested, 0 given up. */
static int run_window(kn__drift *d, unsigned long long end, kn__watch_window *out)
{
    if (!d->stored && d->last_end < d->window) {
        take_reference(d);
        d->last_end = d->window;
        if (end == d->window) {
            release_rows(d, next_end(d, end) - d->window);
            return 0;
        }
    }
    int ok = take_copy(d, end);
    d->last_end = end;
    release_rows(d, next_end(d, end) - d->window);
    if (ok)
        evaluate(d, out);
    else
        atomic_fetch_add(&d->skipped, 1);
    return ok;
}

/* Without a monitoring thread: the windows up to `end`, in order, by
 * whichever request thread holds run_mu (the others go on: the holder may
 * wait for their rows' stamps). */
static void run_here(kn__drift *d, unsigned long long end)
{
    unsigned long long cur = atomic_load(&d->pending);
    while (cur < end && !atomic_compare_exchange_weak(&d->pending, &cur, end)) {
    }
    for (;;) {
        if (pthread_mutex_trylock(&d->run_mu)) return; /* the holder sees pending after */
        while (d->last_end < atomic_load(&d->pending))
            run_window(d, next_end(d, d->last_end), NULL);
        unsigned long long done = d->last_end;
        pthread_mutex_unlock(&d->run_mu);
        if (atomic_load(&d->pending) <= done) return;
    }
}

/* Row `seq` is complete: the window it ends (if any) goes to the
 * monitoring thread, or is tested here without one. */
static void publish(kn__drift *d, unsigned char *row, unsigned long long seq)
{
    atomic_store_explicit(stamp_of(row), seq + 1, memory_order_release);
    unsigned long long end = seq + 1;
    if (end < d->window || (end < d->first_end && end != d->window) ||
        (end >= d->first_end && (end - d->first_end) % d->slide))
        return;
    if (!d->watch)
        run_here(d, end);
    else if (end < d->first_end) /* the reference: taken with the first window */
        return;
    else if (!kn__watch_drift_submit(d->watch, d, d->owner, end)) { /* the server stops */
        atomic_fetch_add(&d->skipped, 1);
        release_rows(d, next_end(d, end) - d->window);
    }
}

kn__anomwin *kn__drift_anomwin(const kn__drift *d)
{
    return d ? d->anom : NULL;
}

void kn__drift_set_owner(kn__drift *d, struct kn__serve_snap *owner)
{
    if (d) d->owner = owner;
}

int kn__drift_run(kn__drift *d, unsigned long long end, kn__watch_window *out)
{
    pthread_mutex_lock(&d->run_mu);
    int tested = run_window(d, end, out);
    pthread_mutex_unlock(&d->run_mu);
    /* the window's input anomalies, from what evaluate took of the copy */
    if (tested) kn__anomwin_score(d->anom, out);
    return tested;
}

/* Whether this thread answers a request now (shadow scoring counts nothing). */
static _Thread_local int armed;

void kn__drift_begin(int on)
{
    armed = on;
}

void kn__drift_add(kn__drift *d, const kn_frame *rows, const double *pred, const double *proba)
{
    if (!d || !armed || kn_frame_n_cols(rows) != d->in->n) return;
    size_t n = kn_frame_n_rows(rows);
    if (!n) return;
    unsigned long long seq0 = atomic_fetch_add_explicit(&d->next, n, memory_order_relaxed);
    for (size_t i = 0; i < n; i++) {
        unsigned long long seq = seq0 + i;
        wait_room(d, seq);
        unsigned char *row = row_at(d, seq);
        double *x = (double *)(void *)(row + d->off_num);
        unsigned char *bins = row + d->off_bins;
        for (size_t j = 0; j < d->in->n; j++) {
            uint32_t put = d->put[j], slot = put >> PUT_SHIFT;
            if ((put & PUT_KIND) == PUT_NONE) continue;
            kn_column *col = kn_frame_col(rows, j);
            kn_col_type t = kn_column_type(col);
            if ((put & PUT_KIND) == PUT_NUMBER) {
                x[slot] = t == KN_COL_NUMERIC ? kn_column_f64(col)[i] /* missing: NaN */
                          : t == KN_COL_INT64 && !kn_column_is_missing(col, i)
                              ? kn_column_number(col, i)
                              : NAN;
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
            bins[slot] = (unsigned char)level_of(d, &d->cols[j], s, len);
        }
        double y = pred ? pred[i] : NAN;
        double sc = d->s_score && proba ? kn_drift_class_score(proba + i * d->k, d->k) : NAN;
        memcpy(row + sizeof(double), &y, sizeof y);
        memcpy(row + 2 * sizeof(double), &sc, sizeof sc);
        row[d->off_valid] = 1;
        publish(d, row, seq);
    }
}

void kn__drift_invalid(kn__drift *d, size_t n)
{
    if (!d || !n) return;
    atomic_fetch_add(&d->invalid_rows, n);
    /* rows refused while the first window fills are not part of any window */
    if (!d->stored && atomic_load(&d->next) < d->window) return;
    unsigned long long seq0 = atomic_fetch_add_explicit(&d->next, n, memory_order_relaxed);
    for (size_t i = 0; i < n; i++) {
        wait_room(d, seq0 + i);
        unsigned char *row = row_at(d, seq0 + i);
        double y = NAN;
        memcpy(row + sizeof(double), &y, sizeof y);
        memcpy(row + 2 * sizeof(double), &y, sizeof y);
        row[d->off_valid] = 0;
        publish(d, row, seq0 + i);
    }
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
    kn__sbuf_prom_value(b, v);
}

enum {
    D_PSI,
    D_P,
    D_PADJ,
    D_DRIFTED,
    D_COL_BYTES, /* the last per-column family */
    D_INVALID,
    D_WINDOWS,
    D_DRIFTED_WINDOWS,
    D_INVALID_ROWS,
    D_SKIPPED,
    D_WAITS,
    D_REF,
    D_WINDOW_ROWS,
    D_SLIDE_ROWS,
    D_BYTES,
    N_D
};
static const char *const family[N_D][3] = {
    {"kiln_drift_psi", "gauge",
     "PSI of an input (column=\"(prediction)\": the model's predictions; \"(score)\": a "
     "classifier's scores, the positive class's probability or the top class's) in the last full "
     "window against the reference (the artifact's reference of its training rows, its "
     "held-out predictions; the version's first window of --drift-window rows for an artifact "
     "without one)."},
    {"kiln_drift_p", "gauge",
     "p-value of the last full window against the reference: Kolmogorov-Smirnov (numeric "
     "inputs, a regression's predictions, a classifier's scores) or chi-square (text inputs, a "
     "classifier's predicted classes), as kiln monitor check."},
    {"kiln_drift_p_adjusted", "gauge",
     "kiln_drift_p, Benjamini-Hochberg adjusted over inputs (the predictions and a "
     "classifier's scores: over those two, apart from the inputs)."},
    {"kiln_drift_drifted", "gauge",
     "1 when the input (or the predictions, or the scores) drifted in the last full window (the "
     "rules of kiln "
     "monitor check)."},
    {"kiln_drift_column_memory_bytes", "gauge",
     "Memory an input's windows hold (bounded: fixed at load, but a text input's first 64 "
     "values)."},
    {"kiln_window_invalid_share", "gauge",
     "Share of the last full window's rows that were refused for breaking the input schema "
     "(rows of requests answered 400 naming a row)."},
    {"kiln_drift_windows_total", "counter", "Windows tested against the reference."},
    {"kiln_drift_drifted_windows_total", "counter",
     "Windows in which an input or the predictions drifted, or over 1% of rows were refused."},
    {"kiln_drift_invalid_rows_total", "counter",
     "Rows refused for breaking the input schema (counted into the windows)."},
    {"kiln_drift_skipped_windows_total", "counter",
     "Windows not tested: they ended after the monitoring thread had stopped."},
    {"kiln_drift_waits_total", "counter",
     "Rows that waited for room in the ring: the monitoring thread had not copied the window "
     "they would overwrite (it cannot keep up: a larger --drift-slide)."},
    {"kiln_drift_reference_rows", "gauge",
     "Rows in the reference: the training rows the artifact's reference holds, else the "
     "first window's so far."},
    {"kiln_drift_window_rows", "gauge", "Rows per window (--drift-window)."},
    {"kiln_drift_slide_rows", "gauge",
     "Rows between the ends of two windows (--drift-slide; the window: tumbling)."},
    {"kiln_drift_memory_bytes", "gauge", "Memory held for windowed drift (bounded)."}};

/* The reference's rows: the stored reference's, else the first window's
 * (so far, while it fills). */
static unsigned long long ref_rows(const kn__drift *d)
{
    if (d->stored) return kn_drift_ref_rows(d->stored);
    size_t n = atomic_load(&d->n_ref);
    unsigned long long next = atomic_load(&d->next);
    return n ? n : next < d->window ? next : d->window;
}

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
            if (f == D_INVALID) {
                if (d->windows) series(b, family[f][0], models[i], NULL), num(b, d->invalid_share);
            } else if (f > D_INVALID) {
                series(b, family[f][0], models[i], NULL);
                unsigned long long x = f == D_WINDOWS        ? d->windows
                                       : f == D_REF          ? ref_rows(d)
                                       : f == D_BYTES        ? (unsigned long long)d->bytes
                                       : f == D_INVALID_ROWS ? d->invalid_rows
                                       : f == D_SKIPPED      ? d->skipped
                                       : f == D_WAITS        ? d->waits
                                       : f == D_WINDOW_ROWS  ? (unsigned long long)d->window
                                       : f == D_SLIDE_ROWS   ? (unsigned long long)d->slide
                                                             : d->drifted_windows;
                kn__sbuf_printf(b, "%llu\n", x);
            } else if (f == D_COL_BYTES) {
                for (size_t j = 0; j < d->in->n; j++) {
                    if (d->cols[j].untested) continue;
                    series(b, family[f][0], models[i], d->in->names[j]);
                    kn__sbuf_printf(b, "%zu\n", d->cols[j].bytes);
                }
                if (d->s_pred) {
                    series(b, family[f][0], models[i], "(prediction)");
                    kn__sbuf_printf(b, "%zu\n", d->pred_bytes);
                }
                if (d->s_score) {
                    series(b, family[f][0], models[i], KN_DRIFT_SCORE_NAME);
                    kn__sbuf_printf(b, "%zu\n", d->score_bytes);
                }
            } else if (d->windows) {
                /* the inputs, then (prediction) and a classifier's (score) */
                for (size_t j = 0; j <= d->in->n + 1; j++) {
                    if (j == d->in->n && !d->pred_tested) continue;
                    if (j > d->in->n && !d->score_tested) break;
                    const dcol *c = j < d->in->n ? &d->cols[j] : NULL;
                    if (c && c->untested) continue;
                    int sc = j > d->in->n;
                    series(b, family[f][0], models[i],
                           c    ? d->in->names[j]
                           : sc ? KN_DRIFT_SCORE_NAME
                                : "(prediction)");
                    if (f == D_DRIFTED)
                        kn__sbuf_printf(b, "%d\n",
                                        c    ? c->drifted
                                        : sc ? d->score_drifted
                                             : d->pred_drifted);
                    else if (f == D_PSI)
                        num(b, c ? c->psi : sc ? d->score_psi : d->pred_psi);
                    else if (c)
                        num(b, f == D_P ? c->p : c->p_adjusted);
                    else if (f == D_P)
                        num(b, sc ? d->score_p : d->pred_p);
                    else /* the prediction tests' own family: BH over the two */
                        num(b, sc ? d->score_padj : d->pred_padj);
                }
            }
            pthread_mutex_unlock(&d->mu);
        }
    }
}
