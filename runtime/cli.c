/* cli.c — the command line of a generated executable: `./model train|eval|predict|help
 * [flags]`. In: the model descriptor (its train block gives the defaults) and argv. Out:
 * training with a progress line on stderr, one summary line per epoch and a `final:` line
 * on stdout (then, when asked for, the evaluation set's per-class scores and confusion
 * matrix), an optional CSV log and a checkpoint; evaluation; predictions written as
 * .npy; the exit status (0 done, 1 data or runtime error, 2 bad command line). What a
 * step computes is the generated code's business; how data is read, data_*.c's; metrics,
 * metrics.c's; checkpoints, ckpt.c's; .npy files, npy.c's. */
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "rt_internal.h"

/* The training set's metrics after an epoch cost a pass over it, so sets up to this many
 * samples get one (exact, at the epoch's final parameters); larger sets report running
 * means over the epoch's steps instead, as Keras does. */
enum { CLI_TRAIN_METRICS_MAX = 20000 };

enum { CMD_TRAIN = 1, CMD_EVAL = 2, CMD_PREDICT = 4, CMD_ALL = 7 };

typedef struct CliOpts {
    const char *prog, *cmd;
    unsigned cmd_bit;                /* CMD_* of cmd */
    const char *input;               /* predict: the .npy file */
    int64_t epochs, steps, batch;    /* 0: the model's */
    double lr;                       /* 0: the model's */
    int threads;                     /* 0: OpenMP's default */
    uint64_t seed;
    int have_seed, quiet, help;
    int nan_mode;                    /* RT_NAN_*: what a non-finite loss or gradient does */
    unsigned seen;                   /* 1 << F_* of every flag given */
    const char *data_dir, *log_path, *ckpt_path, *resume_path, *out_path;
} CliOpts;

enum { F_EPOCHS, F_STEPS, F_BATCH, F_LR, F_THREADS, F_SEED, F_DATA, F_LOG, F_CHECKPOINT,
       F_RESUME, F_OUTPUT, F_NAN, F_QUIET, F_HELP };

/* cmds: the commands that take the flag; the others reject it instead of ignoring it. */
typedef struct CliFlag { const char *name, *arg, *help; unsigned cmds; } CliFlag;

static const CliFlag cli_flags[] = {
    [F_EPOCHS]  = {"--epochs", "N", "passes over the training set in all (default %lld)", CMD_TRAIN},
    [F_STEPS]   = {"--steps", "N", "stop when N optimizer steps are done in all", CMD_TRAIN},
    [F_BATCH]   = {"--batch", "B", "rows per optimizer step (default %lld)", CMD_ALL},
    [F_LR]      = {"--lr", "X", "learning rate (default %g)", CMD_TRAIN},
    [F_THREADS] = {"--threads", "T", "worker threads (default: all cores)", CMD_ALL},
    [F_SEED]    = {"--seed", "S", "seed of the parameters and the shuffle (default %llu)",
                   CMD_TRAIN | CMD_EVAL},
    [F_DATA]    = {"--data", "DIR", "directory that relative data paths are read from",
                   CMD_TRAIN | CMD_EVAL},
    [F_LOG]     = {"--log", "FILE", "write a CSV row per step and per evaluation", CMD_TRAIN},
    [F_CHECKPOINT] = {"--checkpoint", "PATH", "where train saves (default %s)\n%22seach "
                      "epoch, and eval and predict load", CMD_ALL},
    [F_RESUME]  = {"--resume", "CKPT", "continue where CKPT stopped: parameters, optimizer\n%22s"
                   "state, step, epoch, seed and threads", CMD_TRAIN},
    [F_OUTPUT]  = {"--output", "FILE", "the .npy file to write (also -o FILE)", CMD_PREDICT},
    [F_NAN]     = {"--nan", "MODE", "a step whose loss or gradients are NaN or Inf: stop\n%22s"
                   "(default; names the parameter), skip it, or ignore", CMD_TRAIN},
    [F_QUIET]   = {"--quiet", NULL, "no progress line on stderr", CMD_ALL},
    [F_HELP]    = {"--help", NULL, "this text (also -h and `help`)", CMD_ALL},
};
enum { CLI_NFLAGS = sizeof cli_flags / sizeof cli_flags[0] };

static int cli_error(const CliOpts *o, int status, const char *fmt, ...)
{
    va_list ap;
    fflush(stdout);
    fprintf(stderr, "%s: error: ", o->prog);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    return status;
}

static int64_t default_batch(const NnlModelDesc *d) { return d->train.batch > 0 ? d->train.batch : 32; }
static int64_t default_epochs(const NnlModelDesc *d) { return d->train.epochs > 0 ? d->train.epochs : 1; }

/* --checkpoint, else the train block's `checkpoint = "..."`, else the default name. */
static void ckpt_path(const NnlModelDesc *d, const char *flag, char *out, size_t len)
{
    if (flag) snprintf(out, len, "%s", flag);
    else if (d->train.checkpoint && *d->train.checkpoint) snprintf(out, len, "%s", d->train.checkpoint);
    else rt_ckpt_default_path(d, out, len);
}

static void print_help(const NnlModelDesc *d, const char *prog)
{
    char ckpt[256];
    ckpt_path(d, NULL, ckpt, sizeof ckpt);
    printf("usage: %s COMMAND [FLAGS]\n", prog);
    printf("model %s, compiled by nnlc from %s\n\n", d->name ? d->name : "?",
           d->source ? d->source : "?");
    printf("commands:\n");
    printf("  train               train as the model's train block declares; flags override it\n");
    printf("  eval                loss and metrics on the data sets, of --checkpoint's parameters\n"
           "                      or else of seeded initial ones\n");
    printf("  predict IN.npy -o OUT.npy\n"
           "                      outputs for the rows of IN.npy, from --checkpoint (default %s)\n",
           ckpt);
    printf("  help                this text\n\nflags:\n");
    for (int i = 0; i < CLI_NFLAGS; i++) {
        const CliFlag *f = &cli_flags[i];
        char head[32], help[512];
        snprintf(head, sizeof head, "%s%s%s", f->name, f->arg ? " " : "", f->arg ? f->arg : "");
        if (i == F_EPOCHS) snprintf(help, sizeof help, f->help, (long long)default_epochs(d));
        else if (i == F_BATCH) snprintf(help, sizeof help, f->help, (long long)default_batch(d));
        else if (i == F_LR) snprintf(help, sizeof help, f->help, (double)d->train.optim.lr);
        else if (i == F_SEED) snprintf(help, sizeof help, f->help, (unsigned long long)d->train.seed);
        else if (i == F_CHECKPOINT) snprintf(help, sizeof help, f->help, ckpt, "");
        else if (i == F_RESUME || i == F_NAN) snprintf(help, sizeof help, f->help, "");
        else snprintf(help, sizeof help, "%s", f->help);
        printf("  %-19s %s%s\n", head, f->cmds == CMD_TRAIN ? "train: " : f->cmds == CMD_PREDICT ?
               "predict: " : f->cmds == (CMD_TRAIN | CMD_EVAL) ? "train, eval: " : "", help);
    }
    printf("\nThe same seed and --threads give the same numbers on every run, and a run resumed\n"
           "from a checkpoint the same numbers as one that was never interrupted.\n"
           "Checkpoints are safetensors files. predict reads .npy arrays of shape (N, input...)\n"
           "or (input...) in float32/64, uint8 or int32/64 (integers are scaled like the\n"
           "training set); classifiers write probabilities to OUT.npy and class indices\n"
           "(int64) to OUT.argmax.npy.\n");
}

/* ---- flag values: the whole string must parse, or the command line is wrong ---- */

static int parse_int(const CliOpts *o, const char *flag, const char *s, int64_t min, int64_t *out)
{
    char *end;
    errno = 0;
    long long v = strtoll(s, &end, 10);
    if (end == s || *end || errno || v < min)
        return cli_error(o, 2, "%s: '%s' is not an integer >= %lld", flag, s, (long long)min);
    *out = v;
    return 0;
}

static int parse_seed(const CliOpts *o, const char *s, uint64_t *out)
{
    char *end;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 0);
    if (end == s || *end || errno || strchr(s, '-'))
        return cli_error(o, 2, "--seed: '%s' is not a non-negative integer", s);
    *out = v;
    return 0;
}

static int parse_lr(const CliOpts *o, const char *s, double *out)
{
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (end == s || *end || errno || !isfinite(v) || v <= 0)
        return cli_error(o, 2, "--lr: '%s' is not a positive number", s);
    *out = v;
    return 0;
}

/* argv ::= PROG (COMMAND | FLAG [VALUE] | FLAG=VALUE)* with exactly one COMMAND, and
 * for predict one INPUT. Returns 0, or the exit status after printing the error. */
static int parse_args(CliOpts *o, int argc, char **argv)
{
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (!strcmp(a, "-h")) a = "--help";
        if (!strcmp(a, "-o")) a = "--output";
        if (a[0] != '-' || !a[1]) {
            if (o->cmd && !strcmp(o->cmd, "predict") && !o->input) o->input = a;
            else if (o->cmd) return cli_error(o, 2, "unexpected argument '%s' after command '%s'", a, o->cmd);
            else o->cmd = a;
            continue;
        }
        const char *eq = strchr(a, '=');
        size_t len = eq ? (size_t)(eq - a) : strlen(a);
        int f = 0;
        while (f < CLI_NFLAGS && !(strlen(cli_flags[f].name) == len && !strncmp(a, cli_flags[f].name, len))) f++;
        if (f == CLI_NFLAGS) return cli_error(o, 2, "unknown flag '%.*s'; try '%s --help'", (int)len, a, o->prog);
        const char *v = NULL;
        if (cli_flags[f].arg) {
            if (eq) v = eq + 1;
            else if (i + 1 < argc) v = argv[++i];
            else return cli_error(o, 2, "%s needs a value (%s)", cli_flags[f].name, cli_flags[f].arg);
        } else if (eq) {
            return cli_error(o, 2, "%s takes no value", cli_flags[f].name);
        }
        int64_t n = 0;
        int rc = 0;
        switch (f) {
        case F_EPOCHS:  rc = parse_int(o, "--epochs", v, 1, &o->epochs); break;
        case F_STEPS:   rc = parse_int(o, "--steps", v, 1, &o->steps); break;
        case F_BATCH:   rc = parse_int(o, "--batch", v, 1, &o->batch); break;
        case F_LR:      rc = parse_lr(o, v, &o->lr); break;
        case F_THREADS:
            rc = parse_int(o, "--threads", v, 1, &n);
            if (!rc && n > 4096) rc = cli_error(o, 2, "--threads: %lld is more than 4096", (long long)n);
            o->threads = (int)n;
            break;
        case F_SEED:    rc = parse_seed(o, v, &o->seed); o->have_seed = 1; break;
        case F_DATA:    o->data_dir = v; break;
        case F_LOG:     o->log_path = v; break;
        case F_CHECKPOINT: o->ckpt_path = v; break;
        case F_RESUME:  o->resume_path = v; break;
        case F_OUTPUT:  o->out_path = v; break;
        case F_NAN:
            o->nan_mode = !strcmp(v, "stop") ? RT_NAN_STOP : !strcmp(v, "skip") ? RT_NAN_SKIP
                        : !strcmp(v, "ignore") ? RT_NAN_IGNORE : -1;
            if (o->nan_mode < 0) rc = cli_error(o, 2, "--nan: '%s' is not stop, skip or ignore", v);
            break;
        case F_QUIET:   o->quiet = 1; break;
        case F_HELP:    o->help = 1; break;
        }
        if (rc) return rc;
        o->seen |= 1u << f;
    }
    if (o->help) o->cmd = "help";
    if (!o->cmd) return cli_error(o, 2, "no command; try '%s --help'", o->prog);
    static const char *const names[] = {"train", "eval", "predict", "help"};
    for (int c = 0; c < 4 && !o->cmd_bit; c++)
        if (!strcmp(o->cmd, names[c])) o->cmd_bit = 1u << c;
    if (!o->cmd_bit)
        return cli_error(o, 2, "unknown command '%s'; the commands are train, eval, predict and help", o->cmd);
    for (int f = 0; f < CLI_NFLAGS && o->cmd_bit != 8; f++)
        if (!(cli_flags[f].cmds & o->cmd_bit) && o->seen >> f & 1)
            return cli_error(o, 2, "%s is not a flag of '%s'", cli_flags[f].name, o->cmd);
    if (o->cmd_bit == CMD_PREDICT && !o->input)
        return cli_error(o, 2, "predict needs an input: %s predict IN.npy -o OUT.npy", o->prog);
    if (o->cmd_bit == CMD_PREDICT && !o->out_path)
        return cli_error(o, 2, "predict needs an output: %s predict %s -o OUT.npy", o->prog, o->input);
    return 0;
}

/* ---- a run: data sets, the instance, and the columns it reports ---- */

enum { SET_TRAIN, SET_EVAL, SET_COUNT };

typedef struct CliCol { int set, metric; char name[80]; } CliCol;

typedef struct CliRun {
    const NnlModelDesc *d;
    const CliOpts *o;
    RtDataset ds[SET_COUNT];
    int have[SET_COUNT];           /* declared and loaded */
    char set_name[SET_COUNT][64];  /* "test" of "fashion.test" */
    RtScore sc[SET_COUNT];         /* each loaded set's last evaluation, with its counts */
    RtNorm norm;                   /* the input standardization, when the model has one */
    NnlModel *m;
    uint64_t seed;
    int threads;                   /* as given or resumed; 0: OpenMP's default */
    CliCol cols[SET_COUNT * RT_M_COUNT];
    int ncols;
    FILE *log;
    RtNanGuard nan;                /* --nan */
    float base_lr;                 /* --lr or the optimizer's, before the schedule */
    int64_t total_steps;           /* the run's plan, for the cosine schedule */
} CliRun;

/* The part of "fashion.test" after the last dot, or the fallback when unnamed. */
static void short_name(const NnlDataSpec *s, const char *fallback, char *out, size_t len)
{
    const char *n = s->name && *s->name ? s->name : fallback, *dot = strrchr(n, '.');
    snprintf(out, len, "%s", dot && dot[1] ? dot + 1 : n);
}

/* Loads the training set (when want_train) and the evaluation set, whichever are declared. */
static int load_sets(CliRun *r, int want_train)
{
    const NnlTrain *t = &r->d->train;
    const NnlDataSpec *spec[SET_COUNT] = {&t->data, &t->eval};
    RtDataNeeds need = rt_data_needs(r->d);
    char err[RT_ERRLEN];
    short_name(&t->data, "train", r->set_name[SET_TRAIN], sizeof r->set_name[SET_TRAIN]);
    short_name(&t->eval, "eval", r->set_name[SET_EVAL], sizeof r->set_name[SET_EVAL]);
    for (int s = 0; s < SET_COUNT; s++) {
        if (spec[s]->kind == NNL_DATA_NONE || (s == SET_TRAIN && !want_train)) continue;
        if (rt_data_load(spec[s], r->o->data_dir, &need, &r->ds[s], err, sizeof err) < 0)
            return cli_error(r->o, 1, "%s", err);
        if (r->ds[s].n < 1) {
            char file[4096];
            rt_data_path(spec[s]->path, r->o->data_dir, spec[s]->base_dir, file, sizeof file);
            return cli_error(r->o, 1, "%s: no samples in data set '%s'",
                             spec[s]->kind == NNL_DATA_BLOBS ? r->set_name[s] : file,
                             spec[s]->name ? spec[s]->name : r->set_name[s]);
        }
        r->have[s] = 1;
        if (rt_score_init(&r->sc[s], r->d, r->ds[s].n, err, sizeof err) < 0)
            return cli_error(r->o, 1, "%s", err);
    }
    return 0;
}

/* `normalize: 1`: standardizes the loaded sets by the statistics of the checkpoint the
 * parameters came from, when it has them (make_model kept them), else by the training
 * set's (after its subset), or the evaluation set's when only that one is loaded. */
static int normalize_sets(CliRun *r)
{
    const NnlTrain *t = &r->d->train;
    char err[RT_ERRLEN];
    if (!t->data.normalize && !t->eval.normalize) return 0;
    int from = r->have[SET_TRAIN] ? SET_TRAIN : SET_EVAL;
    if (!r->norm.size && r->have[from] && rt_norm_fit(&r->ds[from], &r->norm, err, sizeof err) < 0)
        return cli_error(r->o, 1, "%s", err);
    for (int s = 0; s < SET_COUNT; s++)
        if (r->have[s]) rt_norm_apply(&r->norm, r->ds[s].x, r->ds[s].n);
    return 0;
}

/* Creates the instance and gives it its parameters: those of the checkpoint ckpt (with
 * its optimizer state and step count, and its seed and threads where no flag sets them;
 * *at says where it stood) or, when ckpt is NULL, seeded initial ones. */
static int make_model(CliRun *r, int64_t max_batch, const char *ckpt, RtCkptMeta *at)
{
    const char *why = NULL;
    r->m = nnl_create(r->d, max_batch, &why);
    if (!r->m) return cli_error(r->o, 1, "%s", why ? why : "cannot create the model");
    r->seed = r->o->have_seed ? r->o->seed : r->d->train.seed;
    nnl_init_params(r->m, r->seed);
    nnl_set_threads(r->m, r->o->threads);
    nnl_set_lr(r->m, r->o->lr > 0 ? (float)r->o->lr : r->d->train.optim.lr);
    r->threads = r->o->threads;
    if (ckpt) {
        char err[RT_ERRLEN];
        RtCkptMeta got;
        if (rt_ckpt_load(r->m, ckpt, &got, err, sizeof err) < 0) return cli_error(r->o, 1, "%s", err);
        if (!r->o->have_seed) r->seed = r->m->ctx.seed = got.seed;
        if (!r->o->threads) nnl_set_threads(r->m, r->threads = got.threads);
        if (got.norm.size && (r->d->train.data.normalize || r->d->train.eval.normalize)) {
            rt_norm_free(&r->norm);
            r->norm = got.norm;
        } else {
            rt_norm_free(&got.norm);
        }
        got.norm = (RtNorm){0};
        if (at) *at = got;
    }
    return 0;
}

static void free_run(CliRun *r)
{
    for (int s = 0; s < SET_COUNT; s++) {
        rt_data_free(&r->ds[s]);
        rt_score_free(&r->sc[s]);
    }
    rt_norm_free(&r->norm);
    rt_nan_guard_free(&r->nan);
    nnl_destroy(r->m);
    if (r->log) fclose(r->log);
}

/* Columns in a fixed order: the training set's metrics (not its loss: the running loss
 * stands for it), then the evaluation set's metrics and loss. */
static void add_cols(CliRun *r, int with_train_metrics)
{
    unsigned mask = rt_metric_mask(r->d);
    for (int s = 0; s < SET_COUNT; s++) {
        if (!r->have[s] || (s == SET_TRAIN && !with_train_metrics)) continue;
        for (int k = 0; k < RT_M_COUNT; k++) {
            if (!(mask & 1u << k) || (s == SET_TRAIN && k == RT_M_LOSS)) continue;
            CliCol *c = &r->cols[r->ncols++];
            c->set = s;
            c->metric = k;
            char name[sizeof c->name];   /* via a copy: GCC -O1's -Wrestrict sees r on both sides */
            snprintf(name, sizeof name, "%s_%s", r->set_name[s], rt_metric_names[k]);
            memcpy(c->name, name, sizeof name);
        }
    }
}

/* `evaluate on` names the training set itself: report it once, as the evaluation. */
static int evaluates_train_set(const CliRun *r)
{
    const char *tn = r->d->train.data.name, *en = r->d->train.eval.name;
    return r->have[SET_EVAL] && tn && en && !strcmp(tn, en);
}

/* ---- the eval command ---- */

/* Classes with more outputs than this get no per-class table or matrix. */
enum { CLI_REPORT_MAX_CLASSES = 64 };

/* The per-class scores (when precision, recall or F1 was asked for) and the confusion
 * matrix (when it was) of set s's last evaluation:
 *   test per class:
 *     class  precision  recall      f1  support
 *         0     0.9000  0.8571  0.8780       21
 *   test confusion (rows: true class, columns: predicted class):
 *           0     1
 *     0    18     3
 *     1     2    17 */
static void print_class_report(const CliRun *r, int s)
{
    const RtScore *sc = &r->sc[s];
    unsigned want = r->d->train.metrics;
    int64_t c = sc->classes;
    const char *name = r->set_name[s];
    if (!sc->confusion || sc->rows < 1) return;
    if (c > CLI_REPORT_MAX_CLASSES) {
        if (want & (NNL_METRIC_PRECISION | NNL_METRIC_RECALL | NNL_METRIC_F1 | NNL_METRIC_CONFUSION))
            printf("%s: %lld classes; no per-class report above %d\n", name, (long long)c,
                   CLI_REPORT_MAX_CLASSES);
        return;
    }
    if (want & (NNL_METRIC_PRECISION | NNL_METRIC_RECALL | NNL_METRIC_F1)) {
        printf("%s per class:\n  class  precision  recall      f1  support\n", name);
        for (int64_t k = 0; k < c; k++) {
            double p, rc, f;
            int64_t n;
            rt_class_scores(sc, k, &p, &rc, &f, &n);
            printf("  %5lld  %9.4f  %6.4f  %6.4f  %7lld\n", (long long)k, p, rc, f, (long long)n);
        }
    }
    if (want & NNL_METRIC_CONFUSION) {
        int w = 5;   /* wide enough for the largest count */
        for (int64_t i = 0; i < c * c; i++)
            while (sc->confusion[i] >= 1 && (double)sc->confusion[i] >= pow(10, w - 1)) w++;
        printf("%s confusion (rows: true class, columns: predicted class):\n%*s", name, w + 2, "");
        for (int64_t j = 0; j < c; j++) printf(" %*lld", w, (long long)j);
        printf("\n");
        for (int64_t i = 0; i < c; i++) {
            printf("  %*lld", w, (long long)i);
            for (int64_t j = 0; j < c; j++) printf(" %*lld", w, (long long)sc->confusion[i * c + j]);
            printf("\n");
        }
    }
}

static int cmd_eval(CliRun *r)
{
    if (r->d->train.data.kind == NNL_DATA_NONE && r->d->train.eval.kind == NNL_DATA_NONE)
        return cli_error(r->o, 1, "model '%s' declares no data set to evaluate on", r->d->name);
    int rc = load_sets(r, 1);
    if (rc) return rc;
    if ((rc = make_model(r, r->o->batch ? r->o->batch : default_batch(r->d), r->o->ckpt_path, NULL)))
        return rc;
    if ((rc = normalize_sets(r))) return rc;
    unsigned mask = rt_metric_mask(r->d);
    char err[RT_ERRLEN];
    int same_set = evaluates_train_set(r);
    for (int s = 0; s < SET_COUNT; s++) {
        if (!r->have[s] || (s == SET_TRAIN && same_set)) continue;
        RtMetrics mt;
        if (rt_evaluate_score(r->m, &r->ds[s], &r->sc[s], &mt, err, sizeof err) < 0)
            return cli_error(r->o, 1, "%s", err);
        const char *sep = "";
        for (int k = 0; k < RT_M_COUNT; k++)
            if (mask & mt.have & 1u << k) {
                printf("%s%s_%s %.4f", sep, r->set_name[s], rt_metric_names[k], mt.v[k]);
                sep = "  ";
            }
        printf("\n");
        print_class_report(r, s);
    }
    fflush(stdout);
    return 0;
}

/* ---- the train command ---- */

static void fmt_time(char *out, size_t len, double secs)
{
    long s = secs > 0 && secs < 1e8 ? (long)(secs + 0.5) : 0;
    if (s >= 3600) snprintf(out, len, "%ld:%02ld:%02ld", s / 3600, s / 60 % 60, s % 60);
    else snprintf(out, len, "%ld:%02ld", s / 60, s % 60);
}

/* Progress on stderr: rewritten in place on a terminal (at most 10 times a second),
 * otherwise a plain line about every tenth of the epoch. */
typedef struct CliProgress {
    int tty, on;
    double t0, last;
    int64_t every;
} CliProgress;

static void progress(CliProgress *p, int64_t epoch, int64_t epochs, int64_t step, int64_t plan,
                     double loss, int64_t seen)
{
    if (!p->on) return;
    double now = rt_now(), el = now - p->t0;
    int done = step == plan;
    if (p->tty ? !done && now - p->last < 0.1 : step % p->every && !done) return;
    p->last = now;
    char eta[32];
    fmt_time(eta, sizeof eta, el / step * (plan - step));
    fprintf(stderr, "%sepoch %lld/%lld  step %lld/%lld  loss %.4f  %.0f samples/s  ETA %s%s",
            p->tty ? "\r" : "", (long long)epoch, (long long)epochs, (long long)step,
            (long long)plan, loss, el > 0 ? seen / el : 0.0, eta, p->tty ? "\033[K" : "\n");
    fflush(stderr);
}

static void progress_clear(const CliProgress *p)
{
    if (p->on && p->tty) fputs("\r\033[K", stderr);
}

static void log_row(CliRun *r, int64_t epoch, int64_t step, const float *loss,
                    const RtMetrics *mt)
{
    if (!r->log) return;
    fprintf(r->log, "%lld,%lld,", (long long)epoch, (long long)step);
    if (loss) fprintf(r->log, "%.9g,%.9g", *loss, (double)r->m->ctx.lr);   /* the step's rate */
    else fputc(',', r->log);
    for (int i = 0; i < r->ncols; i++) {
        const CliCol *c = &r->cols[i];
        fputc(',', r->log);
        if (mt && mt[c->set].have & 1u << c->metric) fprintf(r->log, "%.9g", mt[c->set].v[c->metric]);
    }
    fputc('\n', r->log);
    fflush(r->log);
}

static int open_log(CliRun *r)
{
    if (!r->o->log_path) return 0;
    r->log = fopen(r->o->log_path, "w");
    if (!r->log) return cli_error(r->o, 1, "%s: cannot open for writing: %s", r->o->log_path, strerror(errno));
    fprintf(r->log, "epoch,step,loss,lr");
    for (int i = 0; i < r->ncols; i++) fprintf(r->log, ",%s", r->cols[i].name);
    fputc('\n', r->log);
    fflush(r->log);
    return 0;
}

/* A step the --nan guard caught: stop names it; skip warns (the first few times) and
 * goes on, unless nothing but bad steps come. Returns 0 to go on, else the exit status. */
enum { CLI_NAN_WARN = 5, CLI_NAN_GIVE_UP = 100 };
static int bad_step(CliRun *r, CliProgress *p, int64_t epoch, int64_t s, const char *why,
                    int64_t *in_a_row)
{
    progress_clear(p);
    if (r->nan.mode == RT_NAN_STOP) {
        cli_error(r->o, 1, "epoch %lld, step %lld (step %lld of the epoch): %s", (long long)epoch,
                  (long long)nnl_step_count(r->m), (long long)s + 1, why);
        fprintf(stderr, "hint: the checkpoint keeps the last good epoch; try a smaller --lr (now %g), "
                "clip_norm in the train block, or --nan=skip\n", (double)r->m->ctx.lr);
        return 1;
    }
    if (r->nan.skipped <= CLI_NAN_WARN)
        fprintf(stderr, "%s: warning: epoch %lld, step %lld of the epoch skipped: %s%s\n", r->o->prog,
                (long long)epoch, (long long)s + 1, why,
                r->nan.skipped == CLI_NAN_WARN ? " (no more of these warnings)" : "");
    if (++*in_a_row >= CLI_NAN_GIVE_UP)
        return cli_error(r->o, 1, "%lld steps in a row skipped by --nan=skip; stopping (try a smaller --lr)",
                         (long long)*in_a_row);
    return 0;
}

/* Steps first..first+plan of one epoch; sc accumulates the row-weighted loss and the
 * running metrics of the outputs each step computed (before its update, as Keras
 * reports). *ran counts the steps done; CLI_INTERRUPTED when a signal asked to stop
 * after one of them. */
enum { CLI_INTERRUPTED = -1 };
static int train_epoch(CliRun *r, CliProgress *p, const int64_t *idx, int64_t epoch,
                       int64_t epochs, int64_t first, int64_t plan, int64_t bs, RtScore *sc,
                       int64_t *ran)
{
    const RtDataset *ds = &r->ds[SET_TRAIN];
    int64_t in_a_row = 0;
    *ran = 0;
    for (int64_t s = first; s < first + plan; s++) {
        int64_t lo = s * bs, b = ds->n - lo < bs ? ds->n - lo : bs;
        rt_load_rows(r->m, ds, idx, lo, b);
        nnl_set_lr(r->m, nnl_schedule_lr(&r->d->train, r->base_lr, nnl_step_count(r->m), epoch - 1,
                                         r->total_steps));
        rt_nan_before(&r->nan, r->m);
        if (rt_run(r->m, RT_TRAIN, b) < 0) return cli_error(r->o, 1, "%s", nnl_last_error(r->m));
        float loss = r->m->arena[r->d->loss_off];
        log_row(r, epoch, nnl_step_count(r->m), &loss, NULL);
        char why[RT_ERRLEN];
        if (rt_nan_after(&r->nan, r->m, why, sizeof why)) {
            int rc = bad_step(r, p, epoch, s, why, &in_a_row);
            if (rc) return rc;
        } else if (isfinite(loss)) {   /* --nan=ignore lets a bad one through */
            in_a_row = 0;
            sc->loss += (double)loss * b;
            rt_score_rows(r->d, rt_output(r->m), rt_label(r->m), b, sc);
        }
        ++*ran;
        progress(p, epoch, epochs, s + 1 - first, plan, sc->rows ? sc->loss / sc->rows : 0, sc->rows);
        if (rt_signal_pending()) return CLI_INTERRUPTED;
    }
    return 0;
}

static void print_cols(const CliRun *r, const RtMetrics *mt, int set, const char *sep)
{
    for (int i = 0; i < r->ncols; i++) {
        const CliCol *c = &r->cols[i];
        if ((set < 0 || c->set == set) && mt[c->set].have & 1u << c->metric)
            printf("%s%s %.4f", sep, c->name, mt[c->set].v[c->metric]);
    }
}

/* Where a run resumed from `at` starts: epochs already done and steps into the next. A
 * checkpoint taken at an epoch's last step counts that epoch as done. */
static int resume_point(CliRun *r, const RtCkptMeta *at, int64_t bs, int64_t per_epoch,
                        int64_t *done_epochs, int64_t *skip)
{
    *done_epochs = at->epoch;
    *skip = at->epoch_step;
    if (*skip > 0 && at->batch != bs)
        return cli_error(r->o, 1, "%s: stopped %lld steps into epoch %lld with batch %lld; resume "
                         "it with --batch %lld", r->o->resume_path, (long long)*skip,
                         (long long)at->epoch + 1, (long long)at->batch, (long long)at->batch);
    if (*skip >= per_epoch) {
        ++*done_epochs;
        *skip = 0;
    }
    return 0;
}

static int save_ckpt(CliRun *r, const char *path, int64_t done_epochs, int64_t skip, int64_t bs)
{
    RtCkptMeta at = {.step = nnl_step_count(r->m), .epoch = done_epochs, .epoch_step = skip,
                     .batch = bs, .seed = r->seed, .threads = r->threads, .norm = r->norm};
    char err[RT_ERRLEN];
    if (rt_ckpt_save(r->m, path, &at, err, sizeof err) < 0) return cli_error(r->o, 1, "%s", err);
    return 0;
}

static int cmd_train(CliRun *r)
{
    const NnlModelDesc *d = r->d;
    const CliOpts *o = r->o;
    if (d->train.data.kind == NNL_DATA_NONE)
        return cli_error(o, 1, "model '%s' has no train block with a data set (`train %s on ...`)",
                         d->name, d->name);
    int rc = load_sets(r, 1);
    if (rc) return rc;
    const RtDataset *tr = &r->ds[SET_TRAIN];
    int64_t bs = o->batch ? o->batch : default_batch(d);
    if (bs > tr->n) bs = tr->n;
    int64_t per_epoch = (tr->n + bs - 1) / bs;
    int64_t limit = o->steps ? o->steps : INT64_MAX;
    int64_t epochs = o->epochs ? o->epochs : o->steps ? (o->steps + per_epoch - 1) / per_epoch
                                                      : default_epochs(d);
    RtCkptMeta at = {0};
    if ((rc = make_model(r, bs, o->resume_path, &at))) return rc;
    char err[RT_ERRLEN];
    if (rt_nan_guard_init(&r->nan, r->m, o->nan_mode, err, sizeof err) < 0) return cli_error(o, 1, "%s", err);
    r->base_lr = o->lr > 0 ? (float)o->lr : d->train.optim.lr;
    r->total_steps = epochs < limit / per_epoch ? epochs * per_epoch : limit;
    int64_t done_epochs = 0, skip = 0;
    if (o->resume_path && (rc = resume_point(r, &at, bs, per_epoch, &done_epochs, &skip))) return rc;
    if (done_epochs >= epochs || nnl_step_count(r->m) >= limit)
        return cli_error(o, 1, "%s: already at step %lld, epoch %lld; ask for more with --epochs or "
                         "--steps (both count from the start)", o->resume_path,
                         (long long)nnl_step_count(r->m), (long long)done_epochs);
    if ((rc = normalize_sets(r))) return rc;
    char ckpt[4096];
    ckpt_path(d, o->ckpt_path, ckpt, sizeof ckpt);
    unsigned mask = rt_metric_mask(d);
    /* `evaluate on` the training set itself: its columns come from the evaluation */
    int train_metrics = (mask & ~(1u << RT_M_LOSS)) && !evaluates_train_set(r);
    add_cols(r, train_metrics);
    if ((rc = open_log(r))) return rc;

    int64_t *idx = NULL;
    if (d->train.shuffle && !(idx = rt_alloc(sizeof *idx * tr->n))) return cli_error(o, 1, "out of memory");
    CliProgress p = {.tty = isatty(fileno(stderr)), .on = !o->quiet};
    RtMetrics mt[SET_COUNT];
    double last_loss = 0;
    rt_signals_catch();
    for (int64_t e = done_epochs + 1; e <= epochs && rc == 0; e++, skip = 0) {
        int64_t done = nnl_step_count(r->m), left = per_epoch - skip;
        int64_t plan = left < limit - done ? left : limit - done;
        int last = e == epochs || done + plan >= limit;
        /* a large training set's metrics are running ones: they need its counts */
        RtScore plain = {0}, *sc = train_metrics && tr->n > CLI_TRAIN_METRICS_MAX ? &r->sc[SET_TRAIN] : &plain;
        rt_score_reset(sc);
        if (idx) nnl_epoch_order(idx, tr->n, r->seed, e);
        p.t0 = p.last = rt_now();
        p.every = (plan + 9) / 10;
        int64_t ran;
        if ((rc = train_epoch(r, &p, idx, e, epochs, skip, plan, bs, sc, &ran)) == CLI_INTERRUPTED) {
            /* Ctrl-C: the step is done; save where it stands so --resume goes on from here */
            progress_clear(&p);
            int whole = skip + ran == per_epoch;
            if ((rc = save_ckpt(r, ckpt, whole ? e : e - 1, whole ? 0 : skip + ran, bs))) break;
            printf("interrupted at epoch %lld, step %lld; checkpoint %s\nresume with: %s train --resume %s\n",
                   (long long)e, (long long)nnl_step_count(r->m), ckpt, o->prog, ckpt);
            fflush(stdout);
            rc = 128 + rt_signal_pending();
            break;
        }
        if (rc) break;
        progress_clear(&p);
        last_loss = sc->rows ? sc->loss / sc->rows : NAN;
        memset(mt, 0, sizeof mt);
        if (train_metrics && tr->n > CLI_TRAIN_METRICS_MAX) rt_score_metrics(d, sc, &mt[SET_TRAIN]);
        for (int s = 0; s < SET_COUNT; s++) {
            int want = s == SET_TRAIN ? train_metrics && tr->n <= CLI_TRAIN_METRICS_MAX
                                      : r->have[s] && (d->train.eval_every_epoch || last);
            if (want && rt_evaluate_score(r->m, &r->ds[s], &r->sc[s], &mt[s], err, sizeof err) < 0) {
                rc = cli_error(o, 1, "%s", err);
                break;
            }
        }
        if (rc) break;
        if (mt[SET_TRAIN].have | mt[SET_EVAL].have) log_row(r, e, nnl_step_count(r->m), NULL, mt);
        printf("epoch %lld/%lld  loss %.4f", (long long)e, (long long)epochs, last_loss);
        print_cols(r, mt, -1, "  ");
        printf("  (%.1f s)\n", rt_now() - p.t0);
        fflush(stdout);
        int whole = skip + plan == per_epoch;
        if ((rc = save_ckpt(r, ckpt, whole ? e : e - 1, whole ? 0 : skip + plan, bs))) break;
        if (last) {
            printf("checkpoint %s (step %lld)\nfinal:", ckpt, (long long)nnl_step_count(r->m));
            if (r->have[SET_EVAL]) print_cols(r, mt, SET_EVAL, " ");
            else {
                printf(" loss %.4f", last_loss);
                print_cols(r, mt, SET_TRAIN, " ");
            }
            printf("\n");
            if (r->have[SET_EVAL]) print_class_report(r, SET_EVAL);
            fflush(stdout);
            break;
        }
    }
    rt_signals_release();
    rt_free(idx);
    return rc;
}

/* ---- the predict command ---- */

/* The number of samples in a, when its shape is (N, input...) or (input...); else -1. */
static int64_t npy_samples(const NnlModelDesc *d, const RtNpy *a)
{
    int lead = a->rank - d->in_rank;
    if (lead != 0 && lead != 1) return -1;
    for (int k = 0; k < d->in_rank; k++)
        if (a->shape[lead + k] != d->in_shape[k]) return -1;
    return lead ? a->shape[0] : 1;
}

/* "(N, 28, 28)" with lead "N"; a 1-tuple as Python writes it, "(2,)". */
static void fmt_dims(char *out, size_t len, const char *lead, int rank, const int64_t *shape)
{
    size_t at = (size_t)snprintf(out, len, "(%s%s", lead, lead[0] && rank ? ", " : "");
    for (int k = 0; k < rank && at < len; k++)
        at += (size_t)snprintf(out + at, len - at, "%s%lld", k ? ", " : "", (long long)shape[k]);
    if (at < len) snprintf(out + at, len - at, "%s)", rank + (lead[0] != 0) == 1 ? "," : "");
}

/* Classifiers report probabilities: MULTICLASS outputs that are not already rows of
 * probabilities get a softmax, BINARY logits (threshold 0) a sigmoid. out: (n, out_size),
 * cls: (n) the predicted class of each row. Returns 0 when the task is no classifier. */
static int to_probabilities(const NnlModelDesc *d, float *out, int64_t n, int64_t *cls)
{
    int64_t k = d->out_size;
    if (d->train.task == NNL_TASK_BINARY && k == 1) {
        for (int64_t i = 0; i < n; i++) {
            cls[i] = out[i] > d->train.threshold;
            if (d->train.threshold == 0.0f) out[i] = 1.0f / (1.0f + expf(-out[i]));
        }
        return 1;
    }
    if (d->train.task != NNL_TASK_MULTICLASS) return 0;
    int probs = 1;
    for (int64_t i = 0; i < n && probs; i++) {
        double sum = 0;
        for (int64_t j = 0; j < k; j++) {
            probs = probs && out[i * k + j] >= 0;
            sum += out[i * k + j];
        }
        probs = probs && fabs(sum - 1) < 1e-3;
    }
    if (!probs) nnl_softmax_rows(out, out, n, k, 0);
    for (int64_t i = 0; i < n; i++) {
        cls[i] = 0;
        for (int64_t j = 1; j < k; j++)
            if (out[i * k + j] > out[i * k + cls[i]]) cls[i] = j;
    }
    return 1;
}

/* OUT.npy and (for classifiers) OUT.argmax.npy, both or neither: each is written to a
 * temporary file, and renamed only when both are complete. */
static int write_predictions(CliRun *r, const float *out, int64_t n, const int64_t *cls)
{
    const NnlModelDesc *d = r->d;
    const char *path = r->o->out_path;
    char cpath[4096], tmp[4200], ctmp[4200], err[RT_ERRLEN];
    size_t len = strlen(path);
    if (len > 4 && !strcmp(path + len - 4, ".npy")) len -= 4;
    snprintf(cpath, sizeof cpath, "%.*s.argmax.npy", (int)len, path);
    int64_t shape[NNL_MAX_RANK + 1] = {n};
    memcpy(shape + 1, d->out_shape, sizeof(int64_t) * d->out_rank);
    FILE *f = rt_atomic_open(path, tmp, sizeof tmp, err, sizeof err), *fc = NULL;
    if (!f) return cli_error(r->o, 1, "%s", err);
    if (rt_npy_write(f, "<f4", d->out_rank + 1, shape, out, sizeof(float)) < 0) {
        rt_atomic_abort(f, tmp);
        return cli_error(r->o, 1, "%s: write failed: %s", tmp, strerror(errno));
    }
    if (cls) {
        if (!(fc = rt_atomic_open(cpath, ctmp, sizeof ctmp, err, sizeof err))) {
            rt_atomic_abort(f, tmp);
            return cli_error(r->o, 1, "%s", err);
        }
        if (rt_npy_write(fc, "<i8", 1, shape, cls, sizeof(int64_t)) < 0) {
            rt_atomic_abort(f, tmp);
            rt_atomic_abort(fc, ctmp);
            return cli_error(r->o, 1, "%s: write failed: %s", ctmp, strerror(errno));
        }
        if (rt_atomic_commit(fc, ctmp, cpath, err, sizeof err) < 0) {
            rt_atomic_abort(f, tmp);
            return cli_error(r->o, 1, "%s", err);
        }
    }
    if (rt_atomic_commit(f, tmp, path, err, sizeof err) < 0) {
        if (cls) unlink(cpath);
        return cli_error(r->o, 1, "%s", err);
    }
    char dims[160];
    fmt_dims(dims, sizeof dims, "", d->out_rank + 1, shape);
    printf("wrote %s %s%s", path, dims, cls ? " probabilities" : "");
    if (cls) printf(" and %s (%lld,) class indices", cpath, (long long)n);
    printf("\n");
    return 0;
}

static int cmd_predict(CliRun *r)
{
    const NnlModelDesc *d = r->d;
    const CliOpts *o = r->o;
    char ckpt[4096], err[RT_ERRLEN];
    ckpt_path(d, o->ckpt_path, ckpt, sizeof ckpt);
    int64_t bs = o->batch ? o->batch : default_batch(d);
    RtNpy a;
    if (rt_npy_read(o->input, &a, err, sizeof err) < 0) return cli_error(o, 1, "%s", err);
    int64_t n = npy_samples(d, &a);
    int rc = 0;
    float *out = NULL;
    int64_t *cls = NULL;
    if (n < 1) {
        char got[160], want[160], one[160];
        fmt_dims(got, sizeof got, "", a.rank, a.shape);
        fmt_dims(want, sizeof want, "N", d->in_rank, d->in_shape);
        fmt_dims(one, sizeof one, "", d->in_rank, d->in_shape);
        rc = n == 0 ? cli_error(o, 1, "%s: no samples: shape %s", o->input, got)
                    : cli_error(o, 1, "%s: shape %s does not fit the input of model '%s': want %s, "
                                "or %s for one sample", o->input, got, d->name, want, one);
        goto out;
    }
    if ((rc = make_model(r, bs < n ? bs : n, ckpt, NULL))) goto out;
    /* integer arrays hold raw values, as the training set's files do: scale them alike */
    float scale = d->train.data.scale != 0.0f ? d->train.data.scale : 1.0f;
    if (a.integer && scale != 1.0f)
        for (int64_t i = 0; i < a.count; i++) a.data[i] *= scale;
    if (d->train.data.normalize || d->train.eval.normalize) {
        if (!r->norm.size) {
            rc = cli_error(o, 1, "%s: no input statistics (data.mean, data.std), but model '%s' "
                           "normalizes its inputs; train it again to save them", ckpt, d->name);
            goto out;
        }
        rt_norm_apply(&r->norm, a.data, n);
    }
    if (!(out = rt_alloc(sizeof *out * n * d->out_size)) || !(cls = rt_alloc(sizeof *cls * n))) {
        rc = cli_error(o, 1, "out of memory for %lld outputs", (long long)n);
        goto out;
    }
    int64_t mb = nnl_max_batch(r->m);
    for (int64_t lo = 0; lo < n; lo += mb) {
        int64_t b = n - lo < mb ? n - lo : mb;
        if (nnl_forward(r->m, a.data + lo * d->in_size, b, out + lo * d->out_size) < 0) {
            rc = cli_error(o, 1, "%s", nnl_last_error(r->m));
            goto out;
        }
    }
    rc = write_predictions(r, out, n, to_probabilities(d, out, n, cls) ? cls : NULL);
out:
    rt_npy_free(&a);
    rt_free(out);
    rt_free(cls);
    return rc;
}

int nnl_cli_main(const NnlModelDesc *d, int argc, char **argv)
{
    CliOpts o = {.prog = "model"};
    if (argc > 0 && argv[0] && *argv[0]) {
        const char *slash = strrchr(argv[0], '/');
        o.prog = slash ? slash + 1 : argv[0];
    }
    if (argc > 1 && !strcmp(argv[1], "bench")) return rt_bench_main(d, o.prog, argc, argv);
    int rc = parse_args(&o, argc, argv);
    if (rc) return rc;
    if (!strcmp(o.cmd, "help")) {
        print_help(d, o.prog);
        return 0;
    }
    CliRun r = {.d = d, .o = &o};
    rc = o.cmd_bit == CMD_TRAIN ? cmd_train(&r) : o.cmd_bit == CMD_EVAL ? cmd_eval(&r) : cmd_predict(&r);
    free_run(&r);
    return rc;
}
