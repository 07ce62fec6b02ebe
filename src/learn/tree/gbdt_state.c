/* A fitted gradient-boosting model's trees (gbdt-impl.h): appending a
 * round's trees, importances, and the state's encoding in .kmd files and
 * artifacts. */
#include "learn/tree/gbdt-impl.h"
#include "kiln/mem.h"

#include <string.h>

void kn__gbdt_free(void *v)
{
    gbdt_state *s = v;
    if (!s) return;
    kn_free(s->init);
    kn_free(s->offset);
    kn_free(s->nodes);
    kn_free(s->sets);
    kn__flat_free(&s->flat);
    kn_free(s);
}

kn_status kn__gbdt_add_tree(gbdt_state *s, size_t *node_cap, const kn__tree_out *t)
{
    size_t used = s->offset[s->n_trees];
    if (used + t->n_nodes > *node_cap) {
        size_t cap = 2 * (used + t->n_nodes);
        kn__node *nn = kn_realloc(s->nodes, cap * sizeof *nn);
        if (!nn) return KN_ERR_NOMEM;
        s->nodes = nn;
        *node_cap = cap;
    }
    memcpy(s->nodes + used, t->nodes, t->n_nodes * sizeof *t->nodes);
    if (t->n_sets) { /* the tree's level sets join the model's: indices shift */
        kn__level_set *sets = kn_realloc(s->sets, (s->n_sets + t->n_sets) * sizeof *sets);
        if (!sets) return KN_ERR_NOMEM;
        s->sets = sets;
        memcpy(sets + s->n_sets, t->sets, t->n_sets * sizeof *sets);
        for (size_t i = used; i < used + t->n_nodes; i++)
            if (s->nodes[i].feature >= 0 && s->nodes[i].categorical)
                s->nodes[i].threshold += (double)s->n_sets;
        s->n_sets += t->n_sets;
    }
    s->n_trees++;
    s->offset[s->n_trees] = used + t->n_nodes;
    return KN_OK;
}

/* Importance: each feature's total split gain (or split count),
 * normalised to sum 1. */
kn_status kn__gbdt_importance(const kn_model *m, double *out)
{
    const gbdt_state *s = kn_model_state(m);
    const gbdt_params *par = kn_model_params(m);
    memset(out, 0, s->p * sizeof *out);
    double total = 0;
    for (size_t i = 0; i < s->offset[s->n_trees]; i++)
        if (s->nodes[i].feature >= 0) {
            double v = par->importance ? 1 : s->nodes[i].gain;
            out[s->nodes[i].feature] += v;
            total += v;
        }
    for (size_t j = 0; total > 0 && j < s->p; j++) out[j] /= total;
    return KN_OK;
}

kn_status kn__gbdt_save(const kn_model *m, kn_wbuf *w)
{
    const gbdt_state *s = kn_model_state(m);
    kn_wbuf_u64(w, s->p);
    kn_wbuf_u64(w, s->k);
    kn_wbuf_u32(w, (uint32_t)s->objective);
    kn_wbuf_f64s(w, s->init, s->k);
    kn_wbuf_u64(w, s->rounds);
    for (size_t t = 0; t < s->n_trees; t++) {
        kn_wbuf_u64(w, s->offset[t + 1] - s->offset[t]);
        for (size_t i = s->offset[t]; i < s->offset[t + 1]; i++) kn__node_write(w, &s->nodes[i]);
    }
    kn_wbuf_u64(w, s->n_sets);
    for (size_t i = 0; i < s->n_sets; i++)
        for (int b = 0; b < 4; b++) kn_wbuf_u64(w, s->sets[i].bits[b]);
    return KN_OK;
}

kn_status kn__gbdt_load(kn_model *m, kn_rbuf *r)
{
    uint64_t p = 0, k = 0, rounds = 0;
    uint32_t obj = 0;
    kn_status e = kn_rbuf_u64(r, &p);
    if (e == KN_OK) e = kn_rbuf_u64(r, &k);
    if (e == KN_OK) e = kn_rbuf_u32(r, &obj);
    if (e != KN_OK) return e;
    const gbdt_params *par = kn_model_params(m);
    size_t classes = kn_model_n_classes(m);
    /* The score width follows from the objective and the classes: predict
     * sizes its output from them, not from k. */
    uint64_t want_k = obj == OBJ_LOG_LOSS && classes > 2 ? classes : 1;
    if (p != kn_model_n_features(m) || obj > OBJ_HUBER || (int)obj != par->objective || k != want_k)
        return kn_fail(KN_ERR_CORRUPT, "%s: bad gbdt header", r->what);
    gbdt_state *s = kn_calloc(1, sizeof *s);
    if (!s) return KN_ERR_NOMEM;
    s->p = (size_t)p;
    s->k = (size_t)k;
    s->objective = (int)obj;
    s->init = kn_malloc(s->k * sizeof *s->init);
    e = s->init ? KN_OK : KN_ERR_NOMEM;
    for (size_t c = 0; e == KN_OK && c < s->k; c++) e = kn_rbuf_f64(r, &s->init[c]);
    if (e == KN_OK) e = kn_rbuf_u64(r, &rounds);
    if (e == KN_OK && (rounds > kn_rbuf_left(r) / s->k))
        e = kn_fail(KN_ERR_CORRUPT, "%s: %llu rounds do not fit the file", r->what,
                    (unsigned long long)rounds);
    if (e == KN_OK) {
        s->rounds = (size_t)rounds;
        if (!(s->offset = kn_calloc(s->rounds * s->k + 1, sizeof *s->offset))) e = KN_ERR_NOMEM;
    }
    size_t cap = 0;
    for (size_t t = 0; e == KN_OK && t < s->rounds * s->k; t++) {
        size_t nn;
        e = kn_rbuf_count(r, KN__NODE_BYTES, &nn);
        if (e == KN_OK && nn == 0) e = kn_fail(KN_ERR_CORRUPT, "%s: an empty tree", r->what);
        if (e != KN_OK) break;
        kn__tree_out tree = {.n_nodes = nn, .nodes = kn_calloc(nn, sizeof(kn__node))};
        if (!tree.nodes) e = KN_ERR_NOMEM;
        for (size_t i = 0; e == KN_OK && i < nn; i++) e = kn__node_read(r, &tree.nodes[i]);
        if (e == KN_OK) e = kn__tree_check(r, tree.nodes, nn, s->p);
        if (e == KN_OK) e = kn__gbdt_add_tree(s, &cap, &tree);
        kn_free(tree.nodes);
    }
    uint64_t n_sets = 0; /* files before categorical splits end here */
    if (e == KN_OK && kn_rbuf_left(r)) e = kn_rbuf_u64(r, &n_sets);
    if (e == KN_OK && n_sets > kn_rbuf_left(r) / 32)
        e = kn_fail(KN_ERR_CORRUPT, "%s: %llu level sets do not fit the file", r->what,
                    (unsigned long long)n_sets);
    if (e == KN_OK && n_sets && !(s->sets = kn_malloc(n_sets * sizeof *s->sets))) e = KN_ERR_NOMEM;
    for (size_t i = 0; e == KN_OK && i < n_sets; i++)
        for (int b = 0; e == KN_OK && b < 4; b++) e = kn_rbuf_u64(r, &s->sets[i].bits[b]);
    if (e == KN_OK) s->n_sets = (size_t)n_sets;
    for (size_t i = 0; e == KN_OK && i < s->offset[s->n_trees]; i++)
        if (s->nodes[i].feature >= 0 && s->nodes[i].categorical &&
            !(s->nodes[i].threshold >= 0 && s->nodes[i].threshold < (double)s->n_sets))
            e = kn_fail(KN_ERR_CORRUPT, "%s: a categorical split without its level set", r->what);
    if (e == KN_OK && !s->n_sets)
        e = kn__flat_build(&s->flat, s->nodes, s->offset, s->n_trees, NULL, 1, s->k);
    if (e != KN_OK) {
        kn__gbdt_free(s);
        return e;
    }
    kn_model_set_state(m, s);
    return KN_OK;
}
