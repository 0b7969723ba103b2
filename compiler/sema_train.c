/* sema_train.c — data blocks and the train block: data sets, the loss, the optimizer,
 * schedules, checkpoints and evaluation settings -> Graph.train. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "sema.h"

/* ----- data and training ----- */

static bool data_set(Sema *S, Ast *ref, NnlDataSpec *out, const char *base_dir)
{
    if (ref->kind != AST_FIELD || ref->lhs->kind != AST_NAME) {
        diag(DIAG_ERROR, ref->span, "expected a data set as data_block.set, e.g. fashion.train");
        return false;
    }
    Ast *d = NULL;
    for (int i = 0; i < S->datas.len; i++)
        if (!strcmp(((Ast *)S->datas.items[i])->name, ref->lhs->name)) d = S->datas.items[i];
    if (!d) {
        diag(DIAG_ERROR, ref->lhs->span, "no data block named '%s'", ref->lhs->name);
        Suggest s = {.dist = 99, .target = ref->lhs->name};
        for (int i = 0; i < S->datas.len; i++) suggest(&s, ((Ast *)S->datas.items[i])->name);
        if (s.best) diag(DIAG_HINT, NNL_NO_SPAN, "did you mean '%s'?", s.best);
        return false;
    }
    Ctx c = {0};   /* the block's earlier sets are names: val = subset(all, from: 0.9) */
    for (int i = 0; i < d->body.len; i++) {
        Ast *st = d->body.items[i];
        if (st->kind != AST_ASSIGN) continue;
        if (!strcmp(st->name, "dir")) {   /* dir = "path": where relative files are, from the .nnl */
            if (st->value->kind != AST_STR || !st->value->str[0]) {
                diag(DIAG_ERROR, st->value->span, "`dir` takes a directory name in quotes");
                return false;
            }
            const char *p = st->value->str;
            base_dir = p[0] == '/' ? p : arena_printf(S->a, "%s/%s", base_dir, p);
            continue;
        }
        bool want = !strcmp(st->name, ref->name);
        Value v = sema_eval(S, &c, st->value);
        if (v.kind == V_ERROR) return false;
        if (v.kind != V_DATA) {
            diag(DIAG_ERROR, st->value->span, "a data set is idx(...), csv(...), npy(...), text(...), blobs(...) or subset(...), not %s",
                 vkind_name(v.kind));
            return false;
        }
        if (!want) {
            c.env = env_bind(S, c.env, st->name, v, st->span);
            continue;
        }
        *out = v.data;
        out->name = arena_printf(S->a, "%s.%s", d->name, st->name);
        out->base_dir = base_dir;
        return true;
    }
    diag(DIAG_ERROR, ref->span, "data block '%s' has no set '%s'", d->name, ref->name);
    Suggest sg = {.dist = 99, .target = ref->name};
    for (int i = 0; i < d->body.len; i++) {
        Ast *st = d->body.items[i];
        if (st->kind == AST_ASSIGN) suggest(&sg, st->name);
    }
    if (sg.best) diag(DIAG_HINT, NNL_NO_SPAN, "did you mean '%s.%s'?", d->name, sg.best);
    return false;
}

static bool setting_int(Ast *st, int64_t lo, int64_t *out)
{
    if (!st->value || st->value->kind != AST_NUM || !st->value->is_int || st->value->num < lo ||
        st->value->num > 1e12) {
        diag(DIAG_ERROR, st->value ? st->value->span : st->span, "`%s` takes an integer of at least %lld",
             st->name, (long long)lo);
        return false;
    }
    *out = st->value->num;
    return true;
}

/* schedule = step(epochs: N, gamma: G) | exponential(gamma: G) | cosine(min_lr: X) */
static bool schedule_setting(Ast *e, NnlSchedule *out)
{
    static const char *const kinds[] = {"constant", "step", "exponential", "cosine", NULL};
    int kind = e->kind == AST_CALL && e->lhs->kind == AST_NAME ? in_list(kinds, e->lhs->name) : -1;
    if (kind < 0) {
        diag(DIAG_ERROR, e->span, "a schedule is step(epochs: N, gamma: G), exponential(gamma: G) or cosine(min_lr: X)");
        return false;
    }
    out->kind = kind;
    out->gamma = kind == NNL_SCHED_STEP ? 0.1f : 0.95f;
    out->every = 1;
    for (int i = 0; i < e->list.len; i++) {
        Ast *arg = e->list.items[i];
        const char *n = arg->name ? arg->name : "";
        bool num = arg->value->kind == AST_NUM || (arg->value->kind == AST_UNARY && arg->value->lhs && arg->value->lhs->kind == AST_NUM);
        double v = !num ? 0 : arg->value->kind == AST_NUM ? arg->value->num : -arg->value->lhs->num;
        if (!strcmp(n, "gamma") && num && v > 0 && v <= 1 && kind != NNL_SCHED_COSINE) out->gamma = v;
        else if (!strcmp(n, "epochs") && num && v >= 1 && is_whole(v) && kind == NNL_SCHED_STEP) out->every = v;
        else if (!strcmp(n, "min_lr") && num && v >= 0 && kind == NNL_SCHED_COSINE) out->min_lr = v;
        else {
            diag(DIAG_ERROR, arg->span, "%s() takes %s", kinds[kind],
                 kind == NNL_SCHED_STEP ? "epochs: N (>= 1) and gamma: G (0 < G <= 1)"
                 : kind == NNL_SCHED_EXPONENTIAL ? "gamma: G (0 < G <= 1)" : kind == NNL_SCHED_COSINE ? "min_lr: X (>= 0)" : "no arguments");
            return false;
        }
    }
    return true;
}

/* Does the loss call one of the functions in names (NULL-ended)? */
static bool loss_uses(Ast *e, const char *const *names)
{
    if (!e) return false;
    if (e->kind == AST_CALL && e->lhs->kind == AST_NAME && in_list(names, e->lhs->name) >= 0)
        return true;
    if (loss_uses(e->lhs, names) || loss_uses(e->rhs, names) || loss_uses(e->value, names)) return true;
    for (int i = 0; i < e->list.len; i++)
        if (loss_uses(e->list.items[i], names)) return true;
    return false;
}

static bool loss_uses_bce(Ast *e)
{
    static const char *const bce[] = {"bce", "bce_logits", "binary_cross_entropy", NULL};
    return loss_uses(e, bce);
}

/* `loss = expr` in the environment of one build of the model: a pinned scalar. */
Node *eval_loss(Sema *S, Ast *loss, Env *env)
{
    Graph *g = S->g;
    Ctx c = {.env = env, .loss = true};
    Value v = sema_eval(S, &c, loss->value);
    if (v.kind == V_ERROR) return NULL;
    if (v.kind != V_TENSOR || v.t->shape.rank != 0) {
        diag(DIAG_ERROR, loss->value->span, "the loss must be a scalar tensor, not %s",
             v.kind == V_TENSOR ? shape_str(S->a, v.t->shape) : vkind_name(v.kind));
        return NULL;
    }
    if (!g->label) {
        diag(DIAG_ERROR, loss->value->span, "the loss does not use the label");
        return NULL;
    }
    Node *l = v.t;
    if (l->op == OP_CONST || l->op == OP_PARAM) l = ir_expand(g, l, l->shape, l->shape, 1, false, loss->span);
    l->pinned = true;
    return l;
}

/* The model's output, the loss and the training data must agree on what a label is:
 * cross_entropy needs two classes or more; IDX, CSV and blobs give one label a sample (a
 * class index, or the CSV's one target column), so a regression loss must compare one
 * value a sample, and blobs' classes must all have a score. .npy labels are checked
 * when they are read. */
static bool loss_fits_data(Sema *S, Ast *t, Ast *loss)
{
    Graph *g = S->g;
    NnlTrain *tr = &g->train;
    Node *out = g->output;
    const char *oname = S->out_name ? S->out_name : "output";
    int64_t label_vals = shape_numel_static(g->label->shape);
    if (tr->task == NNL_TASK_MULTICLASS && out && out->shape.rank == 2 && out->shape.d[1] < 2) {
        diag(DIAG_ERROR, loss->value->span, "cross_entropy needs scores for two classes or more, but "
             "the model's output '%s' is %s", oname, shape_str(S->a, out->shape));
        diag(DIAG_HINT, NNL_NO_SPAN, "for one output, use bce(%s, label) with a sigmoid, or bce_logits", oname);
        return false;
    }
    const NnlDataSpec *ds = &tr->data;
    if (ds->kind != NNL_DATA_IDX && ds->kind != NNL_DATA_CSV && ds->kind != NNL_DATA_BLOBS) return true;
    const char *what = ds->kind == NNL_DATA_CSV ? "its target column" : "a class index";
    if (tr->task != NNL_TASK_MULTICLASS && label_vals != 1) {
        diag(DIAG_ERROR, loss->value->span, "the loss compares the output '%s' with %lld values a sample, "
             "but data set '%s' has one label a sample (%s)", oname, (long long)label_vals,
             ds->name ? ds->name : "?", what);
        if (t->on) diag(DIAG_NOTE, t->on->span, "the data set");
        if (ds->kind != NNL_DATA_CSV)
            diag(DIAG_HINT, NNL_NO_SPAN, "class indices go with cross_entropy(%s, label)", oname);
        return false;
    }
    if (ds->kind == NNL_DATA_BLOBS && out && out->shape.rank == 2) {
        int64_t scores = tr->task == NNL_TASK_MULTICLASS ? out->shape.d[1] : 2;
        if (ds->classes > scores) {
            diag(DIAG_ERROR, loss->value->span, "data set '%s' has %d classes but the model's output '%s' "
                 "(%s) %s", ds->name ? ds->name : "?", ds->classes, oname, shape_str(S->a, out->shape),
                 tr->task == NNL_TASK_MULTICLASS ? "scores fewer" : "is binary");
            if (t->on) diag(DIAG_NOTE, t->on->span, "the data set");
            return false;
        }
    }
    return true;
}

/* Text data fixes the model's input (token ids f32[T]) and label: the next tokens f32[T]
 * of a window, or one class of a labelled example (as many classes as its labels). */
/* "f32[32]": a batched shape as one sample has it. */
static const char *sample_str(Sema *S, Shape s)
{
    Shape one = s;
    if (s.batched) {
        one.rank = s.rank - 1;
        for (int i = 0; i < one.rank; i++) one.d[i] = s.d[i + 1];
        one.batched = false;
    }
    return shape_str(S->a, one);
}

static bool text_fits(Sema *S, const NnlDataSpec *d, Span at)
{
    Graph *g = S->g;
    if (d->kind != NNL_DATA_TEXT) return true;
    int64_t n = d->labelled ? d->length : d->window;
    Shape in = g->input->shape, lab = g->label->shape, out = g->output->shape;
    if (in.rank != 2 || in.d[1] != n) {
        diag(DIAG_ERROR, at, "'%s' gives samples of f32[%lld] token ids, but the model's input '%s' is %s",
             d->name, (long long)n, g->input->name ? g->input->name : "", sample_str(S, in));
        diag(DIAG_HINT, NNL_NO_SPAN, "declare `input %s: f32[%lld]`", g->input->name ? g->input->name : "ids",
             (long long)n);
        return false;
    }
    if (!d->labelled && (lab.rank != 2 || lab.d[1] != n)) {
        diag(DIAG_ERROR, at, "'%s' labels a window with the next %lld tokens, f32[%lld], but the loss uses label as %s",
             d->name, (long long)n, (long long)n, lab.rank == 1 ? "one class index" : sample_str(S, lab));
        return false;
    }
    if (d->labelled && !(lab.rank == 1 || (lab.rank == 2 && lab.d[1] == 1))) {
        diag(DIAG_ERROR, at, "'%s' labels an example with one class, but the loss uses label as %s",
             d->name, sample_str(S, lab));
        return false;
    }
    if (d->labelled && d->labels) {
        int64_t count = 1, classes = g->train.task == NNL_TASK_MULTICLASS ? out.d[out.rank - 1] : 2;
        for (const char *p = d->labels; *p; p++) count += *p == ',';
        if (count != classes) {
            diag(DIAG_ERROR, at, "'%s' has %lld labels (%s), but the model's output has %lld classes",
                 d->name, (long long)count, d->labels, (long long)classes);
            return false;
        }
    }
    return true;
}

bool build_train(Sema *S, Ast *t, Env *env, const char *base_dir)
{
    Graph *g = S->g;
    NnlTrain *tr = &g->train;
    *tr = (NnlTrain){.epochs = 1, .batch = 32, .seed = 42, .eval_every_epoch = 1};
    tr->optim = (NnlOptim){.kind = NNL_OPT_ADAM, .lr = 1e-3f, .beta1 = 0.9f, .beta2 = 0.999f, .eps = 1e-7f};
    Ast *loss = NULL, *eval_at = NULL;
    bool ok = !t->on || data_set(S, t->on, &tr->data, base_dir);   /* and go on: more errors */
    for (int i = 0; i < t->body.len; i++) {
        Ast *st = t->body.items[i];
        if (st->kind == AST_ASSIGN && !strcmp(st->name, "loss")) {
            loss = st;
        } else if (st->kind == AST_ASSIGN && !strcmp(st->name, "optimizer")) {
            Ctx c = {.env = env};
            Value v = sema_eval(S, &c, st->value);
            if (v.kind == V_OPTIM) tr->optim = v.optim;
            else if (v.kind != V_ERROR) {
                diag(DIAG_ERROR, st->value->span, "optimizer must be sgd(...) or adam(...), not %s", vkind_name(v.kind));
                ok = false;
            } else ok = false;
        } else if (st->kind == AST_SETTING || st->kind == AST_ASSIGN) {   /* batch = 64, or `shuffle` */
            int64_t v;
            if (!strcmp(st->name, "batch")) { if (setting_int(st, 1, &v)) tr->batch = v; else ok = false; }
            else if (!strcmp(st->name, "epochs")) { if (setting_int(st, 1, &v)) tr->epochs = v; else ok = false; }
            else if (!strcmp(st->name, "seed")) { if (setting_int(st, 0, &v)) tr->seed = v; else ok = false; }
            else if (!strcmp(st->name, "checkpoint")) {
                if (st->value && st->value->kind == AST_STR && st->value->str[0]) tr->checkpoint = st->value->str;
                else { diag(DIAG_ERROR, st->value ? st->value->span : st->span, "`checkpoint` takes a file name in quotes"); ok = false; }
            }
            else if (!strcmp(st->name, "warmup")) { if (setting_int(st, 0, &v)) tr->schedule.warmup = v; else ok = false; }
            else if (!strcmp(st->name, "clip_norm")) {
                if (st->value && st->value->kind == AST_NUM && st->value->num > 0) tr->clip_norm = st->value->num;
                else { diag(DIAG_ERROR, st->value ? st->value->span : st->span, "`clip_norm` takes a positive number"); ok = false; }
            } else if (!strcmp(st->name, "schedule")) ok &= schedule_setting(st->value ? st->value : st, &tr->schedule);
            else if (!strcmp(st->name, "shuffle")) {
                if (st->value) { diag(DIAG_ERROR, st->value->span, "`shuffle` takes no value"); ok = false; }
                tr->shuffle = 1;
            } else {
                static const char *const known[] = {"batch", "epochs", "seed", "shuffle", "loss", "optimizer",
                                                    "warmup", "clip_norm", "schedule", "checkpoint", NULL};
                diag(DIAG_ERROR, st->span, "unknown training setting '%s'", st->name);
                Suggest s = {.dist = 99, .target = st->name};
                for (int k = 0; known[k]; k++) suggest(&s, known[k]);
                if (s.best) diag(DIAG_HINT, NNL_NO_SPAN, "did you mean '%s'?", s.best);
                ok = false;
            }
        } else if (st->kind == AST_EVALUATE) {
            if (!data_set(S, st->value, &tr->eval, base_dir)) { ok = false; continue; }
            eval_at = st->value;
            tr->eval_every_epoch = !st->every || !strcmp(st->every, "epoch");
            if (st->every && strcmp(st->every, "epoch")) {
                diag(DIAG_ERROR, st->span, "evaluation runs `every epoch` (for now), not every %s", st->every);
                ok = false;
            }
            for (int k = 0; k < st->list.len; k++) {
                Ast *mn = st->list.items[k];
                static const char *const metrics[] = {"accuracy", "mse", "mae", "loss", "precision", "recall",
                                                      "f1", "auc", "confusion", NULL};
                static const unsigned bits[] = {NNL_METRIC_ACCURACY, NNL_METRIC_MSE, NNL_METRIC_MAE, 0,
                                                NNL_METRIC_PRECISION, NNL_METRIC_RECALL, NNL_METRIC_F1,
                                                NNL_METRIC_AUC, NNL_METRIC_CONFUSION};
                int j = in_list(metrics, mn->name);
                if (j < 0) {
                    diag(DIAG_ERROR, mn->span, "unknown metric '%s' (accuracy, precision, recall, f1, auc, confusion, mse, mae, loss)", mn->name);
                    Suggest sg = {.dist = 99, .target = mn->name};
                    for (int q = 0; metrics[q]; q++) suggest(&sg, metrics[q]);
                    if (sg.best) diag(DIAG_HINT, NNL_NO_SPAN, "did you mean '%s'?", sg.best);
                    ok = false;
                } else {
                    tr->metrics |= bits[j];
                }
            }
        } else {
            diag(DIAG_ERROR, st->span, "unexpected statement in a train block");
            ok = false;
        }
    }
    if (!ok) return false;
    if (!loss) {
        diag(DIAG_ERROR, t->span, "train block has no loss");
        diag(DIAG_HINT, NNL_NO_SPAN, "e.g. loss = cross_entropy(%s, label)", g->output->name ? g->output->name : "logits");
        return false;
    }
    Node *l = eval_loss(S, loss, env);
    if (!l) return false;
    g->loss = l;
    S->loss_ast = loss;
    /* What the metrics read, from the loss's shape of computation. */
    static const char *const ce[] = {"cross_entropy", NULL};
    bool classes = g->label->shape.rank == 1 ||   /* class indices, one per row of scores */
                   (g->label->shape.rank == g->output->shape.rank - 1 && loss_uses(loss->value, ce));
    if (classes) tr->task = NNL_TASK_MULTICLASS;
    else if (g->output->shape.rank == 2 && g->output->shape.d[1] == 1 && loss_uses_bce(loss->value)) {
        tr->task = NNL_TASK_BINARY;
        tr->threshold = g->output->op == OP_SIGMOID ? 0.5f : 0.0f;
    } else tr->task = NNL_TASK_REGRESSION;
    if (!loss_fits_data(S, t, loss)) return false;
    if (!tr->metrics) tr->metrics = tr->task == NNL_TASK_REGRESSION ? NNL_METRIC_MSE : NNL_METRIC_ACCURACY;
    unsigned classify = NNL_METRIC_ACCURACY | NNL_METRIC_PRECISION | NNL_METRIC_RECALL | NNL_METRIC_F1 |
                        NNL_METRIC_AUC | NNL_METRIC_CONFUSION;
    if (tr->task == NNL_TASK_REGRESSION && (tr->metrics & classify)) {
        diag(DIAG_ERROR, loss->value->span, "accuracy, precision, recall, f1, auc and confusion need a classification loss (cross_entropy, bce, bce_logits)");
        return false;
    }
    if (tr->task != NNL_TASK_REGRESSION && (tr->metrics & (NNL_METRIC_MSE | NNL_METRIC_MAE))) {
        diag(DIAG_ERROR, loss->value->span, "mse and mae are regression metrics; this loss classifies");
        return false;
    }
    if (tr->task == NNL_TASK_MULTICLASS && (tr->metrics & NNL_METRIC_AUC)) {
        diag(DIAG_ERROR, loss->value->span, "auc is for binary outputs (bce, bce_logits)");
        return false;
    }
    if ((t->on && !text_fits(S, &tr->data, t->on->span)) || (eval_at && !text_fits(S, &tr->eval, eval_at->span)))
        return false;
    g->seg_end[SEG_LOSS] = g->nodes.len;
    g->has_train = true;
    return true;
}

