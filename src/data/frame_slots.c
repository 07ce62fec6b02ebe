/* The slots of a frame's column structs (data/frame-impl.h): blocks the
 * frame owns, each twice the last up to 512 slots (~100 KiB, under the
 * size where an allocator maps each block afresh), and a list of the
 * slots given back. */
#include "data/frame-impl.h"
#include "kiln/mem.h"

#include <string.h>

struct kn__col_block {
    kn__col_block *next;
    size_t n, used;
    kn_column slot[];
};

kn_column *kn__col_slot_get(kn_frame *f)
{
    kn_column *c = f->spare;
    if (c) {
        f->spare = c->next_spare;
        memset(c, 0, sizeof *c);
        return c;
    }
    kn__col_block *b = f->blocks;
    if (!b || b->used == b->n) {
        size_t n = b ? (b->n < 512 ? 2 * b->n : 512) : 4;
        if (!(b = kn_calloc(1, sizeof *b + n * sizeof(kn_column)))) return NULL;
        b->n = n;
        b->next = f->blocks;
        f->blocks = b;
    }
    return &b->slot[b->used++];
}

void kn__col_slot_put(kn_frame *f, kn_column *c)
{
    c->next_spare = f->spare;
    f->spare = c;
}

void kn__col_blocks_free(kn_frame *f)
{
    for (kn__col_block *b = f->blocks, *next; b; b = next) {
        next = b->next;
        kn_free(b);
    }
    f->blocks = NULL;
    f->spare = NULL;
}
