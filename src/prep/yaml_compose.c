/* Composing one YAML document from libyaml's event stream (see yaml-impl.h).
 *
 * libyaml's own loader is not used because Kiln needs more from anchors and
 * aliases than it gives: an anchor may be defined again (an alias names the
 * latest definition before it, as the YAML spec says), an alias inside the
 * node it names is a cycle and refused, an undefined alias is an error that
 * names it, merge keys (`<<: *defaults`, YAML 1.1) are applied, and a second
 * document in the file is an error rather than silently ignored.
 *
 * An alias becomes a second reference to the anchored node (node ids are
 * shared, nothing is copied), so readers see its whole value: scalar,
 * sequence or mapping. */
#include "kiln/mem.h"
#include "prep/yaml-impl.h"

#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#define MAX_DEPTH 1000    /* nesting of sequences and mappings */
#define MAX_MERGED 100000 /* entries that merge keys may add, in all */

typedef struct open_node {
    int id;
    int key; /* mappings: the key waiting for its value, 0 = none */
} open_node;

typedef struct anchor {
    char *name;
    int id;
} anchor;

typedef struct composer {
    kn__yaml *y;
    open_node *open;
    size_t depth, cap_open;
    anchor *anchors;
    size_t n_anchors, cap_anchors;
    size_t merged;
} composer;

static yaml_node_t *node_at(composer *c, int id)
{
    return c->y->doc.nodes.start + id - 1;
}

static kn_status fail_at(composer *c, yaml_mark_t m, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static kn_status fail_at(composer *c, yaml_mark_t m, const char *fmt, ...)
{
    char msg[768];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    return kn_fail(KN_ERR_PARSE, "%s:%zu:%zu: %s", c->y->what, (size_t)m.line + 1,
                   (size_t)m.column + 1, msg);
}

static kn_status add_anchor(composer *c, const yaml_char_t *name, int id)
{
    if (!name) return KN_OK;
    if (c->n_anchors == c->cap_anchors) {
        size_t cap = c->cap_anchors ? 2 * c->cap_anchors : 16;
        anchor *a = kn_realloc(c->anchors, cap * sizeof *a);
        if (!a) return KN_ERR_NOMEM;
        c->anchors = a;
        c->cap_anchors = cap;
    }
    char *copy = kn_strdup((const char *)name);
    if (!copy) return KN_ERR_NOMEM;
    c->anchors[c->n_anchors++] = (anchor){copy, id};
    return KN_OK;
}

/* The node an alias names: the latest anchor of that name before it. */
static kn_status resolve_alias(composer *c, const yaml_event_t *ev, int *id)
{
    const char *name = (const char *)ev->data.alias.anchor;
    for (size_t i = c->n_anchors; i-- > 0;)
        if (!strcmp(c->anchors[i].name, name)) {
            *id = c->anchors[i].id;
            for (size_t d = 0; d < c->depth; d++)
                if (c->open[d].id == *id)
                    return fail_at(c, ev->start_mark,
                                   "alias *%s is inside the node that &%s names (a cycle); "
                                   "an alias may only name a finished node",
                                   name, name);
            return KN_OK;
        }
    return fail_at(c, ev->start_mark,
                   "alias *%s has no anchor &%s before it (define the anchor first, e.g. "
                   "key: &%s value)",
                   name, name, name);
}

/* Put node id where the document stands: the root, the next item of a
 * sequence, or a key or value of a mapping. */
static kn_status attach(composer *c, int id)
{
    if (!c->depth) return KN_OK; /* the root: node 1 */
    open_node *top = &c->open[c->depth - 1];
    yaml_document_t *d = &c->y->doc;
    int ok = 1;
    if (node_at(c, top->id)->type == YAML_SEQUENCE_NODE)
        ok = yaml_document_append_sequence_item(d, top->id, id);
    else if (!top->key)
        top->key = id;
    else {
        ok = yaml_document_append_mapping_pair(d, top->id, top->key, id);
        top->key = 0;
    }
    return ok ? KN_OK : KN_ERR_NOMEM;
}

static kn_status push(composer *c, int id)
{
    if (c->depth == MAX_DEPTH)
        return fail_at(c, node_at(c, id)->start_mark, "nesting deeper than %d levels", MAX_DEPTH);
    if (c->depth == c->cap_open) {
        size_t cap = c->cap_open ? 2 * c->cap_open : 16;
        open_node *o = kn_realloc(c->open, cap * sizeof *o);
        if (!o) return KN_ERR_NOMEM;
        c->open = o;
        c->cap_open = cap;
    }
    c->open[c->depth++] = (open_node){id, 0};
    return KN_OK;
}

/* `<<` as a merge key: a plain scalar, or one tagged !!merge. */
static int is_merge_key(const yaml_node_t *k)
{
    if (k->type != YAML_SCALAR_NODE) return 0;
    if (k->tag && !strcmp((const char *)k->tag, "tag:yaml.org,2002:merge")) return 1;
    return k->data.scalar.style == YAML_PLAIN_SCALAR_STYLE &&
           !strcmp((const char *)k->data.scalar.value, "<<");
}

static int same_key(composer *c, int a, int b)
{
    if (a == b) return 1;
    const yaml_node_t *x = node_at(c, a), *y = node_at(c, b);
    return x->type == YAML_SCALAR_NODE && y->type == YAML_SCALAR_NODE &&
           !strcmp((const char *)x->data.scalar.value, (const char *)y->data.scalar.value);
}

/* Whether key is among pairs[0..n) or among the mapping's own (not merge) keys. */
static int has_key(composer *c, const yaml_node_t *m, const yaml_node_pair_t *pairs, size_t n,
                   int key)
{
    for (size_t i = 0; i < n; i++)
        if (same_key(c, pairs[i].key, key)) return 1;
    for (const yaml_node_pair_t *p = m->data.mapping.pairs.start; p < m->data.mapping.pairs.top;
         p++)
        if (!is_merge_key(node_at(c, p->key)) && same_key(c, p->key, key)) return 1;
    return 0;
}

/* Apply the merge keys of mapping id (YAML 1.1 merge): `<<: M` or
 * `<<: [M1, M2]` adds the entries of M (of M1, then M2) whose keys the
 * mapping does not have, in the place of `<<`. Keys written in the mapping
 * win, then earlier merged mappings over later ones. */
static kn_status apply_merges(composer *c, int id)
{
    yaml_node_t *m = node_at(c, id);
    size_t n = (size_t)(m->data.mapping.pairs.top - m->data.mapping.pairs.start), n_merge = 0;
    for (size_t i = 0; i < n; i++)
        n_merge += is_merge_key(node_at(c, m->data.mapping.pairs.start[i].key));
    if (!n_merge) return KN_OK;
    size_t cap = n, len = 0;
    yaml_node_pair_t *out = kn_malloc(cap * sizeof *out);
    if (!out) return KN_ERR_NOMEM;
    kn_status e = KN_OK;
    for (size_t i = 0; e == KN_OK && i < n; i++) {
        yaml_node_pair_t p = m->data.mapping.pairs.start[i];
        if (!is_merge_key(node_at(c, p.key))) {
            out[len++] = p; /* len <= i: room */
            continue;
        }
        const yaml_node_t *v = node_at(c, p.value);
        size_t n_src = v->type == YAML_SEQUENCE_NODE
                           ? (size_t)(v->data.sequence.items.top - v->data.sequence.items.start)
                           : 1;
        if (v->type != YAML_MAPPING_NODE && v->type != YAML_SEQUENCE_NODE) {
            e = fail_at(c, v->start_mark,
                        "'<<' merges a mapping or a list of mappings (like <<: *defaults), "
                        "not a single value");
            break;
        }
        for (size_t s = 0; e == KN_OK && s < n_src; s++) {
            const yaml_node_t *src =
                v->type == YAML_MAPPING_NODE ? v : node_at(c, v->data.sequence.items.start[s]);
            if (src->type != YAML_MAPPING_NODE) {
                e = fail_at(c, src->start_mark, "'<<' merges mappings; this item is not one");
                break;
            }
            for (const yaml_node_pair_t *q = src->data.mapping.pairs.start;
                 e == KN_OK && q < src->data.mapping.pairs.top; q++) {
                if (has_key(c, m, out, len, q->key)) continue;
                if (++c->merged > MAX_MERGED) {
                    e = fail_at(c, m->start_mark, "merge keys ('<<') add more than %d entries",
                                MAX_MERGED);
                    break;
                }
                if (len + (n - i) >= cap) { /* room for this and the pairs after `<<` */
                    yaml_node_pair_t *o = kn_realloc(out, 2 * cap * sizeof *o);
                    if (!o) {
                        e = KN_ERR_NOMEM;
                        break;
                    }
                    out = o;
                    cap *= 2;
                }
                out[len++] = *q;
            }
        }
    }
    if (e == KN_OK) {
        m->data.mapping.pairs.top = m->data.mapping.pairs.start;
        for (size_t i = 0; e == KN_OK && i < len; i++)
            if (!yaml_document_append_mapping_pair(&c->y->doc, id, out[i].key, out[i].value))
                e = KN_ERR_NOMEM;
    }
    kn_free(out);
    return e;
}

/* A new node for a scalar or the start of a collection. */
static kn_status add_node(composer *c, const yaml_event_t *ev, int *id)
{
    yaml_document_t *d = &c->y->doc;
    const yaml_char_t *anchor_name;
    switch (ev->type) {
    case YAML_SCALAR_EVENT:
        if (ev->data.scalar.length > INT_MAX)
            return fail_at(c, ev->start_mark, "a value longer than %d bytes", INT_MAX);
        *id = yaml_document_add_scalar(d, ev->data.scalar.tag, ev->data.scalar.value,
                                       (int)ev->data.scalar.length, ev->data.scalar.style);
        anchor_name = ev->data.scalar.anchor;
        break;
    case YAML_SEQUENCE_START_EVENT:
        *id = yaml_document_add_sequence(d, ev->data.sequence_start.tag,
                                         ev->data.sequence_start.style);
        anchor_name = ev->data.sequence_start.anchor;
        break;
    default:
        *id =
            yaml_document_add_mapping(d, ev->data.mapping_start.tag, ev->data.mapping_start.style);
        anchor_name = ev->data.mapping_start.anchor;
        break;
    }
    if (!*id) return KN_ERR_NOMEM;
    node_at(c, *id)->start_mark = ev->start_mark;
    node_at(c, *id)->end_mark = ev->end_mark;
    return add_anchor(c, anchor_name, *id);
}

static kn_status on_event(composer *c, const yaml_event_t *ev, int *documents)
{
    int id = 0;
    kn_status e = KN_OK;
    switch (ev->type) {
    case YAML_DOCUMENT_START_EVENT:
        if (*documents)
            return fail_at(c, ev->start_mark,
                           "a second YAML document starts here; a Kiln file holds one document "
                           "(remove this '---' or split the file)");
        return KN_OK;
    case YAML_DOCUMENT_END_EVENT:
        ++*documents;
        return KN_OK;
    case YAML_ALIAS_EVENT:
        e = resolve_alias(c, ev, &id);
        return e == KN_OK ? attach(c, id) : e;
    case YAML_SCALAR_EVENT:
        e = add_node(c, ev, &id);
        return e == KN_OK ? attach(c, id) : e;
    case YAML_SEQUENCE_START_EVENT:
    case YAML_MAPPING_START_EVENT:
        e = add_node(c, ev, &id);
        if (e == KN_OK) e = attach(c, id);
        return e == KN_OK ? push(c, id) : e;
    case YAML_SEQUENCE_END_EVENT:
    case YAML_MAPPING_END_EVENT:
        id = c->open[--c->depth].id;
        node_at(c, id)->end_mark = ev->end_mark;
        return ev->type == YAML_MAPPING_END_EVENT ? apply_merges(c, id) : KN_OK;
    default: /* stream start and end, nothing */
        return KN_OK;
    }
}

kn_status kn__yaml_load(kn__yaml *y, const char *text, size_t len, const char *what)
{
    y->what = what ? what : "yaml";
    memset(&y->doc, 0, sizeof y->doc);
    if (!yaml_document_initialize(&y->doc, NULL, NULL, NULL, 1, 1)) return KN_ERR_NOMEM;
    yaml_parser_t parser;
    if (!yaml_parser_initialize(&parser)) {
        yaml_document_delete(&y->doc);
        return KN_ERR_NOMEM;
    }
    yaml_parser_set_input_string(&parser, (const unsigned char *)text, len);
    composer c = {.y = y};
    kn_status e = KN_OK;
    int documents = 0, done = 0;
    while (e == KN_OK && !done) {
        yaml_event_t ev;
        if (!yaml_parser_parse(&parser, &ev)) {
            e = kn_fail(KN_ERR_PARSE, "%s:%zu:%zu: YAML: %s", y->what,
                        (size_t)parser.problem_mark.line + 1,
                        (size_t)parser.problem_mark.column + 1,
                        parser.problem ? parser.problem : "unreadable");
            break;
        }
        done = ev.type == YAML_STREAM_END_EVENT;
        e = on_event(&c, &ev, &documents);
        yaml_event_delete(&ev);
    }
    yaml_parser_delete(&parser);
    for (size_t i = 0; i < c.n_anchors; i++) kn_free(c.anchors[i].name);
    kn_free(c.anchors);
    kn_free(c.open);
    if (e != KN_OK) yaml_document_delete(&y->doc);
    return e;
}
