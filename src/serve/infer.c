/* One inference request after parsing: the rows checked against the
 * model's input schema, run through the steps once, the model's
 * predictions (and a classifier's probabilities), and the response body.
 * A one-row request takes the model's one-row predictor (kn_row_predict:
 * the same answers and errors, without frames). */
#include "kiln/mem.h"
#include "serve/serve-impl.h"

#include <stdio.h>
#include <string.h>

/* The first broken rule, as the request's error. */
static int schema_error(const kn_validation *v, const kn__serve_model *m, kn__serve_err *err)
{
    const kn_violation *x = &v->violations[0];
    long long row = x->row_rule && x->n_examples ? (long long)x->examples[0] : -1;
    const char *col = x->column ? x->column : "";
    if (row >= 0)
        kn__serve_err_set(err, 400, "invalid_input", col, row,
                          "row %lld, column '%s' breaks the input schema of model '%s' (rule "
                          "%s): %s",
                          row, col, m->name, x->rule, x->detail);
    else
        kn__serve_err_set(err, 400, "invalid_input", col, -1,
                          "column '%s' breaks the input schema of model '%s' (rule %s): %s", col,
                          m->name, x->rule, x->detail);
    return -1;
}

static void label(kn__sbuf *b, const kn__serve_model *m, double c)
{
    if (!(c >= 0 && c < (double)m->n_classes)) {
        kn__sbuf_puts(b, "null");
        return;
    }
    const char *s = kn_model_class(m->m, (size_t)c);
    kn__sbuf_json_str(b, s, strlen(s));
}

static void render_v1(const kn__serve_model *m, const double *pred, const double *proba, size_t n,
                      kn__sbuf *b)
{
    size_t k = m->n_classes;
    kn__sbuf_puts(b, "{\"predictions\":[");
    for (size_t i = 0; i < n; i++) {
        if (i) kn__sbuf_add(b, ",", 1);
        if (!k) {
            kn__sbuf_json_num(b, pred[i]);
            continue;
        }
        kn__sbuf_puts(b, "{\"label\":");
        label(b, m, pred[i]);
        kn__sbuf_puts(b, ",\"probabilities\":{");
        for (size_t c = 0; c < k; c++) {
            if (c) kn__sbuf_add(b, ",", 1);
            label(b, m, (double)c);
            kn__sbuf_add(b, ":", 1);
            kn__sbuf_json_num(b, proba[i * k + c]);
        }
        kn__sbuf_puts(b, "}}");
    }
    kn__sbuf_puts(b, "]}");
}

static void tensor_head(kn__sbuf *b, const char *prefix, const char *name, const char *dt, size_t n)
{
    kn__sbuf_puts(b, "{\"name\":");
    size_t lp = strlen(prefix), ln = strlen(name);
    if (!lp) {
        kn__sbuf_json_str(b, name, ln);
    } else {
        char tmp[256];
        if (lp + ln < sizeof tmp) {
            memcpy(tmp, prefix, lp);
            memcpy(tmp + lp, name, ln);
            kn__sbuf_json_str(b, tmp, lp + ln);
        } else {
            kn__sbuf_json_str(b, prefix, lp); /* a label too long to name */
        }
    }
    kn__sbuf_printf(b, ",\"datatype\":\"%s\",\"shape\":[%zu],\"data\":[", dt, n);
}

/* Whether the request asks for output prefix + name (all when it names none). */
static int wanted(const kn__serve_outputs *o, const char *prefix, const char *name)
{
    if (!o || !o->n) return 1;
    size_t lp = strlen(prefix);
    for (size_t i = 0; i < o->n; i++)
        if (!strncmp(o->names[i], prefix, lp) && !strcmp(o->names[i] + lp, name)) return 1;
    return 0;
}

/* Every output the request names is one of the model's: 0, or -1 with err. */
static int outputs_known(const kn__serve_model *m, const kn__serve_outputs *o, kn__serve_err *err)
{
    for (size_t i = 0; o && i < o->n; i++) {
        const char *s = o->names[i];
        int known = !strcmp(s, "prediction");
        for (size_t c = 0; !known && c < m->n_classes; c++)
            known = !strncmp(s, "proba_", 6) && !strcmp(s + 6, kn_model_class(m->m, c));
        if (known) continue;
        char list[200] = "prediction";
        size_t at = strlen(list);
        for (size_t c = 0; c < m->n_classes && at + 80 < sizeof list; c++)
            at += (size_t)snprintf(list + at, sizeof list - at, ", proba_%.64s",
                                   kn_model_class(m->m, c));
        if (m->n_classes && at + 80 >= sizeof list) snprintf(list + at, sizeof list - at, ", ...");
        kn__serve_err_set(err, 400, "invalid_request", "outputs", -1,
                          "outputs[%zu]: '%.64s' is not an output of model '%.64s'; its outputs: "
                          "%s (or leave \"outputs\" out for all of them)",
                          i, s, m->name, list);
        return -1;
    }
    return 0;
}

static void render_v2(const kn__serve_model *m, const char *id, const double *pred,
                      const double *proba, size_t n, const kn__serve_outputs *o, kn__sbuf *b)
{
    size_t k = m->n_classes;
    int first = 1;
    kn__sbuf_puts(b, "{\"model_name\":");
    kn__sbuf_json_str(b, m->name, strlen(m->name));
    kn__sbuf_puts(b, ",\"model_version\":");
    kn__sbuf_json_str(b, m->version, strlen(m->version));
    if (id) {
        kn__sbuf_puts(b, ",\"id\":");
        kn__sbuf_json_str(b, id, strlen(id));
    }
    kn__sbuf_puts(b, ",\"outputs\":[");
    if (wanted(o, "", "prediction")) {
        first = 0;
        tensor_head(b, "", "prediction", k ? "BYTES" : "FP64", n);
        for (size_t i = 0; i < n; i++) {
            if (i) kn__sbuf_add(b, ",", 1);
            if (k)
                label(b, m, pred[i]);
            else
                kn__sbuf_json_num(b, pred[i]);
        }
        kn__sbuf_puts(b, "]}");
    }
    for (size_t c = 0; c < k; c++) {
        if (!wanted(o, "proba_", kn_model_class(m->m, c))) continue;
        if (!first) kn__sbuf_add(b, ",", 1);
        first = 0;
        tensor_head(b, "proba_", kn_model_class(m->m, c), "FP64", n);
        for (size_t i = 0; i < n; i++) {
            if (i) kn__sbuf_add(b, ",", 1);
            kn__sbuf_json_num(b, proba[i * k + c]);
        }
        kn__sbuf_puts(b, "]}");
    }
    kn__sbuf_puts(b, "]}");
}

static void predict_error(kn_status e, kn__serve_err *err)
{
    int client = e == KN_ERR_INVALID || e == KN_ERR_PARSE || e == KN_ERR_TYPE || e == KN_ERR_RANGE;
    kn__serve_err_set(err,
                      client              ? 400
                      : e == KN_ERR_NOMEM ? 503
                                          : 500,
                      client ? "invalid_input" : "internal", NULL, -1, "%s", kn_last_error());
}

/* The model's one-row predictor, made by the first request that needs it
 * (threads racing keep the first one made); NULL when it cannot be made
 * (out of memory): the frame path serves. */
static kn_row_predictor *row_predictor(const kn__serve_model *m)
{
    kn__serve_model *mm = (kn__serve_model *)m; /* only the atomic slot is written */
    kn_row_predictor *rp = atomic_load_explicit(&mm->rows, memory_order_acquire), *none = NULL;
    if (rp) return rp;
    if (kn_row_predictor_new(m->p, m->schema, &rp) != KN_OK) return NULL;
    if (atomic_compare_exchange_strong_explicit(&mm->rows, &none, rp, memory_order_acq_rel,
                                                memory_order_acquire))
        return rp;
    kn_row_predictor_free(rp);
    return none; /* another thread's */
}

enum { ONE_ROW_CLASSES = 64 }; /* classes the one-row path keeps on the stack */

/* One row: the schema check, steps and model on the row itself. */
static int infer_one(const kn__serve_model *m, const kn_row_predictor *rp, const kn_frame *rows,
                     int v2, const char *id, const kn__serve_outputs *o, kn__sbuf *b,
                     kn__serve_err *err)
{
    double pred, proba[ONE_ROW_CLASSES];
    kn_validation *v = NULL;
    kn_status e = kn_row_predict(rp, rows, 0, &pred, m->n_classes ? proba : NULL, &v);
    if (e != KN_OK) {
        if (v && v->n_violations)
            schema_error(v, m, err);
        else
            predict_error(e, err);
        kn_validation_free(v);
        return -1;
    }
    kn__predlog_rows(m, rows, &pred, m->n_classes ? proba : NULL, 1);
    kn__feedback_rows(m, &pred, m->n_classes ? proba : NULL, 1);
    kn__drift_add(m->drift, rows, &pred, m->n_classes ? proba : NULL);
    if (v2)
        render_v2(m, id, &pred, proba, 1, o, b);
    else
        render_v1(m, &pred, proba, 1, b);
    return 0;
}

int kn__serve_infer(const kn__serve_model *m, const kn_frame *rows, int v2, const char *id,
                    const kn__serve_outputs *outputs, kn__sbuf *b, kn__serve_err *err)
{
    kn_row_predictor *rp;
    if (outputs_known(m, outputs, err)) return -1;
    if (kn_frame_n_rows(rows) == 1 && m->n_classes <= ONE_ROW_CLASSES && (rp = row_predictor(m)))
        return infer_one(m, rp, rows, v2, id, outputs, b, err);
    kn_validation *v = NULL;
    kn_frame *prepared = NULL;
    double *pred = NULL, *proba = NULL;
    size_t n = 0, n2 = 0;
    int rc = -1;
    kn_status e = m->schema ? kn_schema_validate(m->schema, rows, &v) : KN_OK;
    if (e == KN_OK && v && v->n_violations) {
        schema_error(v, m, err);
        goto done;
    }
    /* the steps run once; the model predicts and gives probabilities from it */
    if (e == KN_OK) e = kn_pipeline_transform(m->p, rows, &prepared);
    if (e == KN_OK) e = kn_model_predict(m->m, prepared, &pred, &n);
    if (e == KN_OK && m->n_classes) e = kn_model_predict_proba(m->m, prepared, &proba, &n2);
    if (e != KN_OK) {
        predict_error(e, err);
        goto done;
    }
    kn__predlog_rows(m, rows, pred, proba, n);
    kn__feedback_rows(m, pred, proba, n);
    kn__drift_add(m->drift, rows, pred, proba);
    if (v2)
        render_v2(m, id, pred, proba, n, outputs, b);
    else
        render_v1(m, pred, proba, n, b);
    rc = 0;
done:
    kn_validation_free(v);
    kn_frame_free(prepared);
    kn_free(pred);
    kn_free(proba);
    return rc;
}
