/*
 * Pre-exec hooks for the adversarial suite (stage errors and hostile
 * hooks), built as a shared
 * library. Each is `int fn(void *opaque)`, run by vircommand in the child
 * between fork and exec.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#ifndef SYS_close_range
#define SYS_close_range 436
#endif

/* Stage errors: succeeds, so that a later stage's failure must be what is reported. */
int hook_ok(void *opaque) { (void)opaque; return 0; }

/* A hostile hook closes every fd >= 3 (vircommand's status pipe too). */
int hook_close_all(void *opaque)
{
    (void)opaque;
    if (syscall(SYS_close_range, 3U, ~0U, 0) != 0) {
        for (int fd = 3; fd < 65536; fd++)
            close(fd);
    }
    return 0;
}

/* Hook failure (a): fails with errno EDOM. */
int hook_edom(void *opaque) { (void)opaque; errno = EDOM; return -1; }

/* Hook failure (b): crashes. */
int hook_segv(void *opaque)
{
    (void)opaque;
    volatile int *p = (volatile int *)0;
    return *p;
}

/* Hook failure (c): never returns. */
int hook_hang(void *opaque)
{
    (void)opaque;
    for (;;) {
        struct timespec ts = { 3600, 0 };
        nanosleep(&ts, NULL);
    }
}
