/*
 * Pre-exec hooks for the signal, reaping, parent-death, daemon and fork-safety
 * adversarial tests (test-only shared library,
 * loaded by vircommand's setPreExecHook in the parent, called in the child).
 */
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <time.h>

/* Signals: a signal raised in the child after vircommand reset the dispositions. */
int raise_usr1(void *opaque)
{
    (void)opaque;
    raise(SIGUSR1);
    return 0;
}

/* Parent death signal: hold the child between fork and the prctl for <opaque> ms. */
int delay_ms(void *opaque)
{
    long ms = atol((const char *)opaque);
    struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR) { }
    return 0;
}

/* Reaping and daemons: a failing hook (-1 with errno ENOTSUP). */
int fail_enotsup(void *opaque)
{
    (void)opaque;
    errno = ENOTSUP;
    return -1;
}

/* Fork safety, positive control: allocates in the child. */
int call_malloc(void *opaque)
{
    (void)opaque;
    void *volatile p = malloc(64);
    free(p);
    return 0;
}
