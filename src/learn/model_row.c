/* One row through a fitted model without a frame (learn/row-impl.h): the
 * features gathered from the row as kn__build_dataset takes them from a
 * one-row frame, then the model's own predict on that one-row dataset. */
#include "learn/learn-impl.h"
#include "learn/model-impl.h"
#include "learn/row-impl.h"

#include <math.h>
#include <string.h>

size_t kn__model_n_features(const kn_model *m)
{
    return m->p;
}

static int categorical(const kn_model *m, size_t j)
{
    return (kn__model_flags(m) & KN_MODEL_TAKES_CATEGORICAL) && m->n_levels && m->n_levels[j];
}

kn_status kn__model_row_features(const kn_model *m, const kn_frame *layout, size_t *idx)
{
    if (!m->state) return KN_ERR_UNSUPPORTED;
    for (size_t j = 0; j < m->p; j++) {
        if (kn_frame_find(layout, m->features[j], &idx[j]) != KN_OK) return KN_ERR_UNSUPPORTED;
        kn_col_type t = kn_column_type(kn_frame_col(layout, idx[j]));
        if (t != (categorical(m, j) ? KN_COL_CATEGORICAL : KN_COL_NUMERIC))
            return KN_ERR_UNSUPPORTED;
    }
    return KN_OK;
}

kn_status kn__model_predict_row(const kn_model *m, const kn_step_row *row, const size_t *idx,
                                double *x, const double **col, double *pred, double *proba)
{
    const kn_model_vt *vt = m->inst.comp->vt;
    const unsigned flags = kn__model_flags(m);
    int takes_missing = (flags & KN_MODEL_TAKES_MISSING) != 0;
    for (size_t j = 0; j < m->p; j++) {
        size_t c = idx[j];
        if (categorical(m, j)) { /* take_levels: the fitted level's index */
            const char *t = row->text[c];
            size_t L = m->n_levels[j], l = 0;
            x[j] = NAN;
            if (!t) continue;
            while (l < L && strcmp(m->levels[j][l], t)) l++;
            if (l < L)
                x[j] = (double)l;
            else if (flags & KN_MODEL_UNSEEN_LEVEL)
                x[j] = (double)L;
            continue;
        }
        double v = row->num[c];
        if ((v != v && !takes_missing) || fabs(v) == INFINITY) return KN_ERR_UNSUPPORTED;
        x[j] = v;
    }
    int borrow = (flags & (KN_MODEL_READS_COLUMNS | KN_MODEL_TAKES_CATEGORICAL)) != 0;
    kn_dataset d = {.n = 1, .p = m->p, .names = m->features};
    if (borrow) {
        for (size_t j = 0; j < m->p; j++) col[j] = &x[j];
        d.col = col;
    } else {
        d.x = x;
    }
    if ((flags & KN_MODEL_TAKES_CATEGORICAL) && m->n_levels) {
        d.n_levels = m->n_levels;
        d.levels = m->levels;
    }
    const kn_predict_opts none = {0};
    kn_status e = KN_OK;
    if (pred && proba && (vt->flags & KN_MODEL_PREDICT_ARGMAX) && vt->predict_proba &&
        m->n_classes) {
        e = vt->predict_with ? vt->predict_with(m, &d, &none, 1, proba)
                             : vt->predict_proba(m, &d, proba);
        if (e == KN_OK) kn__argmax_rows(proba, 1, m->n_classes, pred);
        return e;
    }
    if (pred)
        e = vt->predict_with ? vt->predict_with(m, &d, &none, 0, pred) : vt->predict(m, &d, pred);
    if (e == KN_OK && proba) {
        if (!vt->predict_proba) return KN_ERR_UNSUPPORTED;
        e = vt->predict_with ? vt->predict_with(m, &d, &none, 1, proba)
                             : vt->predict_proba(m, &d, proba);
    }
    return e;
}
