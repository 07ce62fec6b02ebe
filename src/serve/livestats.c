/* Live statistics of the rows a served model receives, per input column:
 * rows seen, missing cells, mean and standard deviation, a KLL quantile
 * sketch (numeric columns) and the counts of the most frequent values
 * (text columns). The request path adds to its thread's shard under the
 * shard's own lock (one thread per shard in the usual case, so the lock is
 * uncontended). A row's numeric values wait in the shard's batch of PEND
 * rows, added column by column when it is full: one row reached every
 * column's mean and sketch, each in its own cache lines, which a request
 * found cold (the HTTP stack ran between two rows); a column's PEND values
 * at once find them warm. GET /metrics adds the waiting rows first, then
 * merges the shards, one lock at a time, and
 * reports the memory they hold (kiln_live_memory_bytes: per numeric input
 * and shard a KLL sketch, bounded (kiln/sketch.h); per text input and
 * shard a table of at most CAT_CAP values). */
#include "kiln/mem.h"
#include "kiln/sketch.h"
#include "serve/serve-impl.h"

#include <math.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

/* A text column's table: exact counts of the first CAT_CAP distinct values
 * a shard sees; later new values count in `other`. /metrics prints the
 * CAT_TOP most frequent (over all shards) and adds the rest to other. */
enum { CAT_CAP = 64, CAT_SLOTS = 128, CAT_TOP = 20, MAX_SHARDS = 256, PEND = 32 };

typedef struct cat {
    char *s; /* NULL: free slot */
    size_t len;
    uint32_t hash;
    uint64_t n;
} cat;

typedef struct col_acc {
    uint64_t n, missing;
    double mean, m2; /* Welford, over the values present (numeric) */
    kn_kll *q;       /* numeric columns */
    cat *cats;       /* text columns: CAT_SLOTS slots */
    size_t n_cats;
    uint64_t other;
} col_acc;

/* A thread's shard. Padded to 128 bytes: two shards side by side shared a
 * cache line, so each request moved the other thread's lock line to its
 * core twice (lock and unlock), although no thread waited on the other. */
typedef struct shard {
    pthread_mutex_t mu;
    col_acc *cols;
    double *pend; /* PEND rows x n_num: numeric values not added yet, NaN when missing (by
                     row: a request writes its values into one or two lines, not one a column) */
    size_t n_pend;
    char pad[128 - sizeof(pthread_mutex_t) - sizeof(col_acc *) - sizeof(double *) - sizeof(size_t)];
} shard;

struct kn__livestats {
    size_t n_cols, n_shards;
    size_t n_num;             /* numeric inputs */
    size_t *num;              /* n_num: their columns */
    const char *const *names; /* borrowed from the model's inputs */
    const kn_col_type *types;
    shard *shards;
};

static const double quantiles[] = {0.01, 0.05, 0.25, 0.5, 0.75, 0.95, 0.99};
enum { N_Q = sizeof quantiles / sizeof quantiles[0] };

static int numeric(kn_col_type t)
{
    return t == KN_COL_NUMERIC || t == KN_COL_INT64;
}

static int text(kn_col_type t)
{
    return t == KN_COL_CATEGORICAL || t == KN_COL_STRING;
}

unsigned kn__serve_thread_slot(void)
{
    static _Atomic unsigned next = 0;
    static _Thread_local unsigned slot = 0; /* 0: none yet; else slot + 1 */
    if (!slot) slot = atomic_fetch_add_explicit(&next, 1, memory_order_relaxed) + 1;
    return slot - 1;
}

static void acc_free(col_acc *a)
{
    kn_kll_free(a->q);
    if (a->cats)
        for (size_t i = 0; i < CAT_SLOTS; i++) kn_free(a->cats[i].s);
    kn_free(a->cats);
    memset(a, 0, sizeof *a);
}

static kn_status acc_init(col_acc *a, kn_col_type t, uint64_t seed)
{
    memset(a, 0, sizeof *a);
    if (numeric(t)) return kn_kll_new(KN_KLL_DEFAULT_K, seed, &a->q);
    if (text(t)) {
        a->cats = kn_calloc(CAT_SLOTS, sizeof *a->cats);
        if (!a->cats) return KN_ERR_NOMEM;
    }
    return KN_OK;
}

kn_status kn__livestats_new(const kn__serve_inputs *in, size_t n_shards, kn__livestats **out)
{
    if (!n_shards) n_shards = 1;
    if (n_shards > MAX_SHARDS) n_shards = MAX_SHARDS;
    kn__livestats *ls = kn_calloc(1, sizeof *ls);
    if (!ls) return KN_ERR_NOMEM;
    ls->n_cols = in->n;
    ls->names = (const char *const *)in->names;
    ls->types = in->types;
    ls->shards = kn_calloc(n_shards, sizeof *ls->shards);
    ls->num = kn_calloc(in->n ? in->n : 1, sizeof *ls->num);
    kn_status e = ls->shards && ls->num ? KN_OK : KN_ERR_NOMEM;
    for (size_t j = 0; e == KN_OK && j < in->n; j++)
        if (numeric(in->types[j])) ls->num[ls->n_num++] = j;
    for (size_t s = 0; e == KN_OK && s < n_shards; s++) {
        shard *sh = &ls->shards[s];
        sh->cols = kn_calloc(in->n ? in->n : 1, sizeof *sh->cols);
        sh->pend = kn_malloc(PEND * (ls->n_num ? ls->n_num : 1) * sizeof *sh->pend);
        if (!sh->cols || !sh->pend) {
            kn_free(sh->cols), kn_free(sh->pend);
            e = KN_ERR_NOMEM;
            break;
        }
        kn__serve_lock_init(&sh->mu);
        ls->n_shards++;
        for (size_t j = 0; e == KN_OK && j < in->n; j++)
            e = acc_init(&sh->cols[j], in->types[j], (uint64_t)(s * in->n + j + 1));
    }
    if (e != KN_OK) {
        kn__livestats_free(ls);
        return e;
    }
    *out = ls;
    return KN_OK;
}

void kn__livestats_free(kn__livestats *ls)
{
    if (!ls) return;
    for (size_t s = 0; s < ls->n_shards; s++) {
        for (size_t j = 0; j < ls->n_cols; j++) acc_free(&ls->shards[s].cols[j]);
        kn_free(ls->shards[s].cols), kn_free(ls->shards[s].pend);
        pthread_mutex_destroy(&ls->shards[s].mu);
    }
    kn_free(ls->shards);
    kn_free(ls->num);
    kn_free(ls);
}

static uint32_t fnv1a(const char *s, size_t n)
{
    uint32_t h = 2166136261u;
    for (size_t i = 0; i < n; i++) h = (h ^ (unsigned char)s[i]) * 16777619u;
    return h;
}

/* Count n of value s in the table (a new value when there is room). */
static void cat_add(col_acc *a, const char *s, size_t len, uint32_t h, uint64_t n)
{
    size_t i = h & (CAT_SLOTS - 1);
    for (;; i = (i + 1) & (CAT_SLOTS - 1)) {
        cat *c = &a->cats[i];
        if (!c->s) break;
        if (c->hash == h && c->len == len && !memcmp(c->s, s, len)) {
            c->n += n;
            return;
        }
    }
    char *copy = a->n_cats < CAT_CAP ? kn_malloc(len + 1) : NULL;
    if (!copy) {
        a->other += n;
        return;
    }
    memcpy(copy, s, len);
    copy[len] = 0;
    a->cats[i] = (cat){copy, len, h, n};
    a->n_cats++;
}

/* Add n values of one column (NaN: missing), `stride` apart: their mean
 * and sum of squared deviations, merged into the column's (Chan et al.),
 * and each value to the sketch in turn. */
static void add_numbers(col_acc *a, const double *x, size_t n, size_t stride)
{
    uint64_t present = 0;
    double sum = 0;
    for (size_t i = 0; i < n; i++)
        if (!isnan(x[i * stride])) present++, sum += x[i * stride];
    a->n += n;
    a->missing += n - present;
    if (!present) return;
    double mean = sum / (double)present, m2 = 0;
    for (size_t i = 0; i < n; i++)
        if (!isnan(x[i * stride])) m2 += (x[i * stride] - mean) * (x[i * stride] - mean);
    kn_kll_add_many(a->q, x, n, stride); /* out of memory: the sketch misses values */
    uint64_t before = a->n - a->missing - present;
    double d = mean - a->mean, tot = (double)(before + present);
    a->mean += d * (double)present / tot;
    a->m2 += m2 + d * d * (double)before * (double)present / tot;
}

/* The shard's waiting rows into its columns (under its lock). */
static void add_pending(const kn__livestats *ls, shard *sh)
{
    for (size_t k = 0; sh->n_pend && k < ls->n_num; k++)
        add_numbers(&sh->cols[ls->num[k]], sh->pend + k, sh->n_pend, ls->n_num);
    sh->n_pend = 0;
}

void kn__livestats_add(kn__livestats *ls, const kn_frame *rows)
{
    if (!ls || kn_frame_n_cols(rows) != ls->n_cols) return;
    size_t n = kn_frame_n_rows(rows);
    shard *sh = &ls->shards[kn__serve_thread_slot() % ls->n_shards];
    pthread_mutex_lock(&sh->mu);
    /* numeric values: into the batch, a row at a time */
    for (size_t i = 0; i < n; i++) {
        double *row = sh->pend + sh->n_pend * ls->n_num;
        for (size_t k = 0; k < ls->n_num; k++) /* (the frame has the model's types) */
            row[k] = kn_column_number(kn_frame_col(rows, ls->num[k]), i);
        if (++sh->n_pend == PEND) add_pending(ls, sh);
    }
    for (size_t j = 0; j < ls->n_cols; j++) {
        kn_column *c = kn_frame_col(rows, j);
        col_acc *a = &sh->cols[j];
        kn_col_type t = kn_column_type(c);
        if (t != ls->types[j] || numeric(t)) continue; /* not the model's column: skipped */
        if (text(t)) {
            for (size_t i = 0; i < n; i++) {
                size_t len = 0;
                const char *s = t == KN_COL_STRING ? kn_column_str(c, i, &len) : NULL;
                if (t == KN_COL_CATEGORICAL) {
                    int32_t code = kn_column_codes(c)[i];
                    s = code >= 0 ? kn_column_level(c, code, &len) : NULL;
                }
                a->n++;
                if (!s)
                    a->missing++;
                else
                    cat_add(a, s, len, fnv1a(s, len), 1);
            }
        } else {
            for (size_t i = 0; i < n; i++) {
                a->n++;
                if (kn_column_is_missing(c, i)) a->missing++;
            }
        }
    }
    pthread_mutex_unlock(&sh->mu);
}

/* ---- /metrics ---- */

/* One column over all shards. */
typedef struct col_sum {
    uint64_t n, missing, present;
    double mean, m2;
    double q[N_Q];
    cat *cats; /* n_cats entries, most frequent first */
    size_t n_cats;
    uint64_t other;
    size_t bytes; /* what the shards hold for the column */
} col_sum;

static int by_count(const void *x, const void *y)
{
    const cat *a = x, *b = y;
    if (a->n != b->n) return a->n < b->n ? 1 : -1;
    size_t m = a->len < b->len ? a->len : b->len;
    int c = memcmp(a->s, b->s, m);
    return c ? c : (a->len > b->len) - (a->len < b->len);
}

/* Merge the shards of column j (each under its lock). 0, or -1 out of memory. */
static int summarise(kn__livestats *ls, size_t j, col_sum *out)
{
    memset(out, 0, sizeof *out);
    kn_kll *q = NULL;
    col_acc all = {0};
    int rc = -1;
    if (numeric(ls->types[j]) && kn_kll_new(KN_KLL_DEFAULT_K, 1, &q) != KN_OK) return -1;
    if (text(ls->types[j]) && !(all.cats = kn_calloc(CAT_SLOTS * 4, sizeof *all.cats))) goto done;
    size_t cap = CAT_SLOTS * 4, used = 0;
    for (size_t s = 0; s < ls->n_shards; s++) {
        shard *sh = &ls->shards[s];
        pthread_mutex_lock(&sh->mu);
        add_pending(ls, sh);
        const col_acc *a = &sh->cols[j];
        uint64_t pa = out->present, pb = a->n - a->missing;
        if (pb) { /* Chan et al.'s pairwise update */
            double d = a->mean - out->mean, tot = (double)(pa + pb);
            out->mean += d * (double)pb / tot;
            out->m2 += a->m2 + d * d * (double)pa * (double)pb / tot;
        }
        out->n += a->n;
        out->missing += a->missing;
        out->present = out->n - out->missing;
        out->other += a->other;
        out->bytes += sizeof *a + (a->q ? kn_kll_memory_bytes(a->q) + PEND * sizeof(double) : 0) +
                      (a->cats ? CAT_SLOTS * sizeof *a->cats : 0);
        for (size_t i = 0; a->cats && i < CAT_SLOTS; i++)
            out->bytes += a->cats[i].s ? a->cats[i].len + 1 : 0;
        int ok = !q || kn_kll_merge(q, a->q) == KN_OK;
        for (size_t i = 0; ok && a->cats && i < CAT_SLOTS; i++) {
            const cat *c = &a->cats[i];
            if (!c->s) continue;
            size_t k = 0;
            while (k < used && !(all.cats[k].len == c->len && !memcmp(all.cats[k].s, c->s, c->len)))
                k++;
            if (k < used) {
                all.cats[k].n += c->n;
                continue;
            }
            if (used == cap) {
                cat *more = kn_realloc(all.cats, 2 * cap * sizeof *more);
                if (!more) {
                    ok = 0;
                    break;
                }
                all.cats = more;
                cap *= 2;
            }
            all.cats[used] = *c;
            if (!(all.cats[used].s = kn_malloc(c->len + 1))) {
                ok = 0;
                break;
            }
            memcpy(all.cats[used].s, c->s, c->len + 1);
            used++;
        }
        pthread_mutex_unlock(&sh->mu);
        if (!ok) goto done;
    }
    if (q && kn_kll_quantiles(q, quantiles, N_Q, out->q) != KN_OK) goto done;
    if (used) qsort(all.cats, used, sizeof *all.cats, by_count);
    for (size_t k = CAT_TOP; k < used; k++) out->other += all.cats[k].n;
    out->cats = all.cats;
    out->n_cats = used < CAT_TOP ? used : CAT_TOP;
    all.cats = NULL;
    for (size_t k = out->n_cats; k < used; k++) kn_free(out->cats[k].s);
    used = out->n_cats;
    rc = 0;
done:
    if (all.cats)
        for (size_t k = 0; k < used; k++) kn_free(all.cats[k].s);
    kn_free(all.cats);
    kn_kll_free(q);
    return rc;
}

static void col_sum_free(col_sum *c)
{
    for (size_t k = 0; k < c->n_cats; k++) kn_free(c->cats[k].s);
    kn_free(c->cats);
}

static void series(kn__sbuf *b, const char *name, const kn__serve_model *m, size_t j)
{
    kn__sbuf_puts(b, name);
    kn__sbuf_puts(b, "{model=\"");
    kn__sbuf_prom_label(b, m->name, strlen(m->name));
    kn__sbuf_puts(b, "\",version=\"");
    kn__sbuf_prom_label(b, m->version, strlen(m->version));
    kn__sbuf_puts(b, "\",feature=\"");
    kn__sbuf_prom_label(b, m->in.names[j], strlen(m->in.names[j]));
    kn__sbuf_puts(b, "\"");
}

/* A sample's value: shortest round-trip text, NaN when there is none. */
static void num(kn__sbuf *b, double v)
{
    kn__sbuf_add(b, " ", 1);
    kn__sbuf_prom_value(b, v);
}

enum { F_COUNT, F_MISSING, F_MEAN, F_STD, F_QUANT, F_CAT, F_OTHER, N_FAMILIES };

static const char *const family[N_FAMILIES][3] = {
    {"kiln_feature_count", "counter", "Rows received (predicted), by model, version and input."},
    {"kiln_feature_missing", "counter", "Rows whose value of the input was missing."},
    {"kiln_feature_mean", "gauge", "Mean of a numeric input over the rows where present."},
    {"kiln_feature_stddev", "gauge",
     "Standard deviation (population) of a numeric input over the rows where present."},
    {"kiln_feature_quantile", "gauge",
     "Quantiles of a numeric input (KLL sketch, k=200: rank error within about 1 %)."},
    {"kiln_feature_category_count", "counter",
     "Rows with each of the 20 most frequent values of a text input."},
    {"kiln_feature_category_other", "counter",
     "Rows with a text input's other values (past the 20 most frequent)."},
};

void kn__livestats_text(const kn__serve_model *const *models, size_t n_models, kn__sbuf *b)
{
    size_t total = 0;
    for (size_t m = 0; m < n_models; m++)
        if (models[m]->live) total += models[m]->live->n_cols;
    if (!total) return;
    col_sum *sums = kn_calloc(total, sizeof *sums);
    if (!sums) {
        b->oom = 1;
        return;
    }
    size_t k = 0;
    for (size_t m = 0; m < n_models; m++)
        for (size_t j = 0; models[m]->live && j < models[m]->live->n_cols; j++)
            if (summarise(models[m]->live, j, &sums[k++])) b->oom = 1;
    for (int f = 0; f < N_FAMILIES && !b->oom; f++) {
        kn__sbuf_printf(b, "# HELP %s %s\n# TYPE %s %s\n", family[f][0], family[f][2], family[f][0],
                        family[f][1]);
        k = 0;
        for (size_t m = 0; m < n_models; m++) {
            const kn__livestats *ls = models[m]->live;
            for (size_t j = 0; ls && j < ls->n_cols; j++, k++) {
                const col_sum *c = &sums[k];
                kn_col_type t = ls->types[j];
                if (f == F_COUNT || f == F_MISSING) {
                    series(b, family[f][0], models[m], j);
                    kn__sbuf_printf(b, "} %llu\n",
                                    (unsigned long long)(f == F_COUNT ? c->n : c->missing));
                } else if ((f == F_MEAN || f == F_STD) && numeric(t)) {
                    series(b, family[f][0], models[m], j);
                    kn__sbuf_puts(b, "}");
                    num(b, !c->present   ? NAN
                           : f == F_MEAN ? c->mean
                                         : sqrt(c->m2 / (double)c->present));
                } else if (f == F_QUANT && numeric(t)) {
                    for (size_t i = 0; i < N_Q; i++) {
                        series(b, family[f][0], models[m], j);
                        kn__sbuf_printf(b, ",quantile=\"%g\"}", quantiles[i]);
                        num(b, c->q[i]);
                    }
                } else if (f == F_CAT && text(t)) {
                    for (size_t i = 0; i < c->n_cats; i++) {
                        series(b, family[f][0], models[m], j);
                        kn__sbuf_puts(b, ",value=\"");
                        kn__sbuf_prom_label(b, c->cats[i].s, c->cats[i].len);
                        kn__sbuf_printf(b, "\"} %llu\n", (unsigned long long)c->cats[i].n);
                    }
                } else if (f == F_OTHER && text(t)) {
                    series(b, family[f][0], models[m], j);
                    kn__sbuf_printf(b, "} %llu\n", (unsigned long long)c->other);
                }
            }
        }
    }
    if (!b->oom)
        kn__sbuf_puts(b, "# HELP kiln_live_memory_bytes Memory the live statistics of a model "
                         "version hold (bounded: a KLL sketch per numeric input and request "
                         "thread, at most 64 values per text input and thread).\n"
                         "# TYPE kiln_live_memory_bytes gauge\n");
    k = 0;
    for (size_t m = 0; m < n_models && !b->oom; m++) {
        const kn__livestats *ls = models[m]->live;
        if (!ls) continue;
        size_t bytes = sizeof *ls + ls->n_shards * sizeof *ls->shards;
        for (size_t j = 0; j < ls->n_cols; j++, k++) bytes += sums[k].bytes;
        kn__sbuf_puts(b, "kiln_live_memory_bytes{model=\"");
        kn__sbuf_prom_label(b, models[m]->name, strlen(models[m]->name));
        kn__sbuf_puts(b, "\",version=\"");
        kn__sbuf_prom_label(b, models[m]->version, strlen(models[m]->version));
        kn__sbuf_printf(b, "\"} %zu\n", bytes);
    }
    for (k = 0; k < total; k++) col_sum_free(&sums[k]);
    kn_free(sums);
}
