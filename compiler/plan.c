/* plan.c — the static memory plan. In: kernels (fuse.c). Out: a float offset for every
 * node that needs memory, and the arena's two sizes. The arena is
 *   [params | grads | optimizer state | fixed temporaries]  [batch-scaled tensors]
 * and a batch-scaled tensor at per-sample offset `off` lives at fixed + off * max_batch,
 * so one plan serves every batch size up to the maximum. Offsets come from liveness over
 * the kernel schedule, first fit; a kernel never writes over a value it reads; a reshape
 * view (fuse.c) takes its operand's offset and keeps it alive. Needs:
 * fuse_graph. */
#include <stdlib.h>

#include "ir.h"

#define ALIGN 16   /* floats: 64 bytes */

static int64_t align_up(int64_t x) { return (x + ALIGN - 1) / ALIGN * ALIGN; }

typedef struct Block { int64_t off, size; int last; } Block;

typedef struct Pool {
    Block *b;
    int n, cap;
    int64_t top;
} Pool;

/* First fit among live blocks sorted by offset; blocks dead before `now` are dropped. */
static int64_t pool_alloc(Pool *p, int64_t size, int now, int last)
{
    int j = 0;
    for (int i = 0; i < p->n; i++)
        if (p->b[i].last >= now) p->b[j++] = p->b[i];
    p->n = j;
    int64_t at = 0;
    int pos = 0;
    for (; pos < p->n; pos++) {
        if (p->b[pos].off - at >= size) break;
        if (p->b[pos].off + p->b[pos].size > at) at = p->b[pos].off + p->b[pos].size;
    }
    if (p->n == p->cap) {
        p->cap = p->cap ? 2 * p->cap : 64;
        p->b = realloc(p->b, p->cap * sizeof *p->b);
        if (!p->b) abort();
    }
    for (int i = p->n; i > pos; i--) p->b[i] = p->b[i - 1];
    p->b[pos] = (Block){at, size, last};
    p->n++;
    if (at + size > p->top) p->top = at + size;
    return at;
}

/* Whether n has memory of its own that the plan may place: not a parameter, gradient,
 * input, the output or the loss. */
static bool placeable(const Graph *g, const Node *n)
{
    if (!n->stored || n->alias || n->pinned || n->place_in || n->filled || n->op == OP_PARAM || n->op == OP_INPUT ||
        n->op == OP_LABEL || n->op == OP_EMA)
        return false;
    if (n == g->output || n == g->loss || n == g->t_output || n == g->t_loss) return false;
    for (int k = 0; k < g->params.len; k++)
        if (((ParamInfo *)g->params.items[k])->grad == n) return false;
    return true;
}

/* A product (or a row kernel) whose only reader is its epilogue gives its memory to the
 * epilogue's first stored value of its shape (char GPT: q, k, v plus bias over the 3 MB
 * product, the residual adds over theirs, a layer norm's scale and shift over the
 * normalized rows in the inference forward): the epilogue writes the lines it has just
 * read, still in cache, instead of a fresh tensor whose lines are first read from memory,
 * and the arena holds one tensor less. Safe because the epilogue runs on blocks of C
 * (rows) that the host has finished, reads C only at the element it writes, and every
 * node of the loop that reads C comes no later than that value's store (the loop reloads
 * C at each use).
 * Returns, per node id, the product whose place it takes, or NULL; extends the
 * product's life to the value's. */
static Node **epilogue_in_place(const Graph *g, int *last)
{
    Node **over = calloc(g->nodes.len + 1, sizeof *over);
    if (!over) abort();
    for (int ki = 0; ki < g->kernels.len; ki++) {
        const Kernel *kg = g->kernels.items[ki];
        if (kg->epilogue < 0 || kg->nodes.len != 1) continue;
        Node *c = kg->nodes.items[0];
        if (!fuse_epilogue_host(c) || !placeable(g, c) || last[c->id] != ki) continue;
        const Kernel *ke = g->kernels.items[kg->epilogue];
        int at = -1;   /* the value to place over c */
        for (int j = 0; j < ke->nodes.len && at < 0; j++) {
            const Node *n = ke->nodes.items[j];
            if (shape_eq(n->shape, c->shape) && placeable(g, n)) at = j;
        }
        bool ok = at >= 0;
        for (int j = 0; j < ke->nodes.len && ok; j++) {
            const Node *r = ke->nodes.items[j];
            for (int q = 0; q < r->nin; q++)
                if (r->in[q] == c && (j > at || !ir_same_index(r) || !shape_eq(r->shape, c->shape))) ok = false;
        }
        if (!ok) continue;
        Node *e = ke->nodes.items[at];
        over[e->id] = c;
        if (last[e->id] > last[c->id]) last[c->id] = last[e->id];
    }
    return over;
}

/* n's memory, live over kernels [at, end]: batch-scaled or fixed by its shape; a
 * convolution kept as its pooling's window codes, a byte a window (fuse_pool_codes). */
static void place(const Graph *g, Node *n, Pool *batch, Pool *fixed, int64_t fixed_base, int at, int end)
{
    int64_t size = align_up(fuse_pool_codes(g, n) ? (shape_numel_static(n->shape) / 4 + 3) / 4
                                                  : shape_numel_static(n->shape));
    n->off = n->shape.batched ? pool_alloc(batch, size, at, end) : fixed_base + pool_alloc(fixed, size, at, end);
}

void plan_graph(Graph *g)
{
    /* parameters, gradients, optimizer state: fixed, contiguous, same layout */
    int64_t pos = 0;
    for (int pass = 0; pass < 2; pass++) {   /* trainable parameters, then buffers */
        for (int i = 0; i < g->params.len; i++) {
            ParamInfo *p = g->params.items[i];
            if (p->buffer != (pass == 1)) continue;
            p->offset = pos;
            pos += align_up(shape_numel_static(p->shape));
        }
        if (pass == 0) g->ntrain_floats = pos;
    }
    g->nparam_floats = pos;
    g->param_off = 0;
    g->grad_off = ir_trains(g) ? pos : 0;    /* no train block: no gradients to hold */
    g->state_off = ir_trains(g) ? 2 * pos : pos;
    const NnlOptim *o = &g->train.optim;
    int nstate = !ir_trains(g) ? 0 : o->kind == NNL_OPT_ADAM || o->kind == NNL_OPT_ADAMW ? 2
               : o->kind == NNL_OPT_RMSPROP ? 1 + (o->momentum != 0) : o->momentum != 0;
    g->state_floats = nstate * pos;
    /* the clip factor the update reads: one float, when clipping */
    g->clip_off = g->state_off + g->state_floats;
    int64_t fixed_base = g->clip_off + (ir_trains(g) && g->train.clip_norm > 0 ? ALIGN : 0);
    /* the update's finiteness flag (runtime/nancheck.c reads it after a training step) */
    g->finite_off = ir_trains(g) ? fixed_base : 0;
    fixed_base += ir_trains(g) ? ALIGN : 0;
    for (int i = 0; i < g->params.len; i++) {
        ParamInfo *p = g->params.items[i];
        p->node->off = g->param_off + p->offset;
        if (p->grad && ir_trains(g)) p->grad->off = g->grad_off + p->offset;
        /* a table whose gradient only its lookup's EMBED_DW(_MM) writes: the marks of the rows
         * a step wrote, so that the next step zeroes those rows instead of the table (a
         * header of 4 floats, then a byte a row; kept for the model's lifetime) */
        p->rows_off = -1;
        bool lookup = p->grad && (p->grad->op == OP_EMBED_DW || p->grad->op == OP_EMBED_DW_MM);
        if (lookup && ir_trains(g) && p->shape.rank == 2) {
            p->rows_off = fixed_base;
            fixed_base += align_up(4 + (p->shape.d[0] + 3) / 4);
        }
    }

    /* last use of each node, in kernel indices */
    int nn = g->nodes.len, nk = g->kernels.len;
    int *last = malloc((nn + 1) * sizeof *last);
    /* (a GEMM's epilogue counts as the GEMM: the two run interleaved, so nothing the one
     * reads may share memory with what the other writes) */
    for (int i = 0; i < nn; i++) {
        Node *n = g->nodes.items[i];
        last[i] = fuse_step(g, n->kernel);
    }
    for (int i = 0; i < nn; i++) {
        Node *n = g->nodes.items[i];
        int at = fuse_step(g, n->kernel);
        for (int k = 0; k < n->nin; k++)
            if (at > last[n->in[k]->id]) last[n->in[k]->id] = at;
    }
    for (int i = nn - 1; i >= 0; i--) {   /* a view keeps its operand alive */
        Node *n = g->nodes.items[i];
        if (n->alias && last[i] > last[n->in[0]->id]) last[n->in[0]->id] = last[i];
    }
    /* a value inside a STACK's memory (stacks.c) keeps the STACK alive, which lives from
     * the first of them written */
    int *first = malloc((nn + 1) * sizeof *first);
    if (!first) abort();
    for (int i = 0; i < nn; i++) first[i] = nk + 1;
    for (int i = 0; i < nn; i++) {
        Node *n = g->nodes.items[i], *s = n->place_in;
        if (!s) continue;
        if (last[i] > last[s->id]) last[s->id] = last[i];
        if (n->op != OP_STACK && fuse_step(g, n->kernel) < first[s->id]) first[s->id] = fuse_step(g, n->kernel);
    }
    Node **over = epilogue_in_place(g, last);
    Pool fixed = {0}, batch = {0};
    /* the input and label regions first: the runtime writes them before a call */
    Node *pin_first[2] = {g->input, g->label};
    for (int i = 0; i < 2; i++)
        if (pin_first[i]) pin_first[i]->off = pool_alloc(&batch, align_up(shape_numel_static(pin_first[i]->shape)), -1, nk + 1);
    bool *placed = calloc(nn + 1, sizeof *placed);
    if (!placed) abort();
    for (int i = 0; i < nn; i++) {
        Node *n = g->nodes.items[i];
        /* a product that writes into a STACK's memory (views.c): the STACK is placed with
         * the first of them, live from there */
        Node *s = n->op == OP_BMM && n->view ? n->view->into : NULL;
        if (s && !placed[s->id]) {
            place(g, s, &batch, &fixed, fixed_base, fuse_step(g, n->kernel), s->pinned ? nk + 1 : last[s->id]);
            placed[s->id] = true;
        }
        if (s) {
            n->off = s->off;
            continue;
        }
        if (n->place_in) {   /* stacks.c */
            Node *r = n->place_in;
            if (!placed[r->id]) {
                place(g, r, &batch, &fixed, fixed_base, first[r->id], r->pinned ? nk + 1 : last[r->id]);
                placed[r->id] = true;
            }
            n->off = r->off;
            continue;
        }
        if (placed[i]) continue;
        if (!n->stored || n->alias || n->op == OP_PARAM || n->op == OP_INPUT || n->op == OP_LABEL) continue;
        if (n->op == OP_EMA) {   /* written over its buffer */
            n->off = n->in[0]->off;
            continue;
        }
        if (over[i]) {   /* an epilogue's output over its product (epilogue_in_place) */
            n->off = over[i]->off;
            continue;
        }
        /* the training graph's output and loss share the inference graph's memory: the
         * runtime reads them at one place */
        if ((n == g->t_output && n != g->output) || (n == g->t_loss && n != g->loss)) continue;
        bool is_grad = false;
        for (int k = 0; k < g->params.len; k++)
            if (((ParamInfo *)g->params.items[k])->grad == n && ir_trains(g)) is_grad = true;
        if (is_grad) continue;
        place(g, n, &batch, &fixed, fixed_base, fuse_step(g, n->kernel), n->pinned ? nk + 1 : last[i]);
    }
    if (g->t_output && g->t_output != g->output) g->t_output->off = g->output->off;
    if (g->t_loss && g->t_loss != g->loss) g->t_loss->off = g->loss->off;
    for (int i = 0; i < nn; i++) {
        Node *n = g->nodes.items[i];
        if (n->alias) n->off = n->in[0]->off;
    }
    g->loss_off = g->loss ? g->loss->off : 0;
    g->fixed_floats = fixed_base + align_up(fixed.top);
    g->per_sample_floats = align_up(batch.top);
    free(fixed.b);
    free(batch.b);
    free(last);
    free(first);
    free(over);
    free(placed);
}

/* --emit=plan: the arena's layout, one stored node a line. */
void plan_print(FILE *out, const Graph *g)
{
    fprintf(out, "arena: %lld fixed + %lld per sample (floats)\n", (long long)g->fixed_floats,
            (long long)g->per_sample_floats);
    fprintf(out, "params %lld @%lld, grads @%lld, optimizer state %lld @%lld\n",
            (long long)g->nparam_floats, (long long)g->param_off, (long long)g->grad_off,
            (long long)g->state_floats, (long long)g->state_off);
    for (int i = 0; i < g->params.len; i++) {
        const ParamInfo *p = g->params.items[i];
        if (p->rows_off >= 0)
            fprintf(out, "embedding rows of %s (the rows a step wrote) @%lld\n", p->name, (long long)p->rows_off);
    }
    for (int i = 0; i < g->nodes.len; i++) {
        Node *n = g->nodes.items[i];
        if (!n->stored && n->op != OP_PARAM && n->op != OP_INPUT && n->op != OP_LABEL) continue;
        if (n->place_in)
            fprintf(out, "%%%d %s %s in %%%d (+%lld, rows %lld apart)\n", n->id, ir_op_names[n->op],
                    shape_str(g->arena, n->shape), n->place_in->id, (long long)n->place_off, (long long)n->place_ld);
        else
            fprintf(out, "%%%d %s %s @%s%lld%s\n", n->id, ir_op_names[n->op], shape_str(g->arena, n->shape),
                    n->shape.batched ? "B*" : "", (long long)n->off,
                    fuse_pool_codes(g, n) ? " (as its pooling's window codes, a byte a window)" : "");
    }
}
