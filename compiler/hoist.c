/* hoist.c — a weight read transposed by many products is transposed once. In: the
 * differentiated graph (-O1 and up). Out: the same values, fewer transposes at run time.
 *
 * A product C = A B^T with B a parameter (the input gradient dZ W^T of a recurrent layer,
 * once per time step of the unrolled recurrence) makes nnl_sgemm transpose B into its
 * packed panels on every call; with few rows in A (a batch of 32) that packing is a large
 * part of the call (LSTM, 32x128x512: 41-50 -> 33-34 us on one thread). So where a
 * segment has HOIST_MIN or more such products of one rank-2 leaf, a PERMUTE of the leaf
 * is computed once, just before the first of them, and they read it as a plain B. The
 * products' sums run in the same order of k either way (gemm.c), so the values are the
 * same bits. */
#include <stdlib.h>

#include "ir.h"

enum { HOIST_MIN = 3 };   /* products of one leaf that pay for a transposed copy */

/* A product reading leaf B transposed: B's id, or -1. */
static int transposed_leaf(const Node *n)
{
    if (n->op != OP_MATMUL || !n->trans_b || n->nin != 2) return -1;
    const Node *b = n->in[1];
    if (ir_op_kind[b->op] != K_LEAF || b->op == OP_CONST || b->shape.rank != 2 || b->shape.batched) return -1;
    return b->id;
}

void hoist_transposes(Graph *g)
{
    int n0 = g->nodes.len;
    int *uses = calloc(n0 + 1, sizeof *uses), *start = malloc((n0 + 1) * sizeof *start);
    Node **copy = calloc(n0 + 1, sizeof *copy);   /* per leaf id: its transpose in this segment */
    if (!uses || !start || !copy) abort();
    PtrVec out = {0};
    bool any = false;
    for (int s = 0, lo = 0; s < SEG_COUNT; lo = g->seg_end[s++]) {
        int hi = g->seg_end[s];
        for (int i = lo; i < hi; i++) {
            int b = transposed_leaf(g->nodes.items[i]);
            if (b >= 0) uses[b]++;
        }
        for (int i = lo; i < hi; i++) {
            Node *n = g->nodes.items[i];
            start[i] = out.len;
            int b = transposed_leaf(n);
            if (b >= 0 && uses[b] >= HOIST_MIN) {
                Node *leaf = n->in[1];
                if (!copy[b]) {   /* appended to g->nodes by ir_permute; placed here */
                    copy[b] = ir_permute(g, leaf, (const int[]){1, 0}, leaf->span);
                    vec_push(g->arena, &out, copy[b]);
                }
                n->in[1] = copy[b];
                n->trans_b = 0;
                copy[b]->nuses++;
                leaf->nuses--;
                any = true;
            }
            vec_push(g->arena, &out, n);
        }
        for (int i = 0; i <= n0; i++) {   /* each segment counts and copies on its own */
            uses[i] = 0;
            copy[i] = NULL;
        }
    }
    start[n0] = out.len;
    if (any) ir_set_order(g, out, start);
    free(uses);
    free(start);
    free(copy);
}
