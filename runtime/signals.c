/* signals.c — Ctrl-C (SIGINT) and SIGTERM during training. In: the signals, while
 * training catches them. Out: a flag the training loop reads between steps, so that the
 * step in progress finishes and a checkpoint is written before the program exits. A
 * second signal while the first is pending ends the program at once, as usual. */
#include <signal.h>
#include <string.h>

#include "rt_internal.h"

static volatile sig_atomic_t pending;

static void on_signal(int sig)
{
    if (pending) {   /* asked twice: stop now */
        signal(sig, SIG_DFL);
        raise(sig);
        return;
    }
    pending = sig;
}

void rt_signals_catch(void)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    sa.sa_flags = SA_RESTART;
    pending = 0;
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
}

void rt_signals_release(void)
{
    signal(SIGINT, SIG_DFL);
    signal(SIGTERM, SIG_DFL);
}

int rt_signal_pending(void)
{
    return pending;
}
