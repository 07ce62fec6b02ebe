/* Internal: an ensemble's members, models of any registered family made
 * through the component contract (kn_model_new by name, then "name=value"
 * settings), fitted and asked on the ensemble's own dataset, and saved as
 * whole model encodings (kn_model_encode), so the ensemble never knows a
 * member's family. */
#ifndef KILN_ENSEMBLE_MEMBERS_H
#define KILN_ENSEMBLE_MEMBERS_H

#include "kiln/codec.h"
#include "kiln/model.h"

/* A new unfitted model `base` with the comma-separated "name=value" list
 * `settings` (may be empty) applied and, when task is not NULL, set to
 * *task unless the settings chose its task themselves (then they must
 * agree). `param` and `settings_param` name the ensemble's parameters that
 * gave the base and its settings, for messages. */
kn_status kn__member_new(const char *base, const char *settings, const char *param,
                         const char *settings_param, const kn_task *task, kn_model **out);
/* KN_OK when member mb reads ensemble m's features and gives its task and
 * classes; else KN_ERR_CORRUPT naming `what` (the file). */
kn_status kn__member_check(const kn_model *m, const kn_model *mb, const char *what);
/* The input bits (KN_MODEL_TAKES_CATEGORICAL, TAKES_MISSING, UNSEEN_LEVEL)
 * of the registered model `base`, 0 when there is none of that name: what
 * an ensemble of it takes (kn_model_vt.flags_of). */
unsigned kn__member_base_flags(const char *base);
/* The input bits every model of a list takes ("NAME[:p=v,...];NAME..." as
 * voting's and stacking's models=): the AND of kn__member_base_flags. */
unsigned kn__members_list_flags(const char *list);
/* Fits member m on dataset d (dense or borrowed columns, numeric features,
 * d->w the row weights or NULL) and gives it d's feature names and
 * classes, so that it encodes and predicts like a model fitted by
 * kn_model_fit. */
kn_status kn__member_fit(kn_model *m, const kn_dataset *d);
/* One value per row of d (class index or value), or with proba n x k
 * probabilities; a member without probabilities is KN_ERR_UNSUPPORTED. */
kn_status kn__member_predict(const kn_model *m, const kn_dataset *d, int proba, double *out);
/* 1 when the member's family gives probabilities. */
int kn__member_has_proba(const kn_model *m);
/* Writes the member as u64 length and its encoding; reads one back. */
kn_status kn__member_save(const kn_model *m, kn_wbuf *w);
kn_status kn__member_load(kn_rbuf *r, kn_model **out);
/* Reads n members into members[] (*loaded counts those read, to free on
 * an error), each checked against ensemble m (kn__member_check) and, with
 * soft, required to give probabilities. */
kn_status kn__members_load(kn_rbuf *r, const kn_model *m, size_t n, int soft, kn_model **members,
                           size_t *loaded);

#endif
