/*
 * Support of the fork-in-a-busy-parent test (test-only LD_PRELOAD library): records the pid of the process
 * that loaded it, and if malloc, calloc, realloc or free then runs in another
 * pid (a child that has not exec'd yet: after fork, or a CLONE_VM child
 * sharing our memory) it sends that process SIGUSR2. vircommand blocks every
 * signal until just before execve and resets dispositions to default, so such
 * a child dies by SIGUSR2 instead of running its program.
 *
 * After execve the library is loaded afresh (LD_PRELOAD is inherited) and
 * records the new pid, so programs started normally are unaffected.
 */
#define _GNU_SOURCE
#include <signal.h>
#include <stddef.h>
#include <sys/syscall.h>
#include <unistd.h>

extern void *__libc_malloc(size_t);
extern void *__libc_calloc(size_t, size_t);
extern void *__libc_realloc(void *, size_t);
extern void __libc_free(void *);

static long owner;

__attribute__((constructor)) static void trap_init(void)
{
    owner = syscall(SYS_getpid);
}

static void check(void)
{
    if (owner == 0)
        return;
    long me = syscall(SYS_getpid);
    if (me != owner)
        syscall(SYS_kill, me, SIGUSR2);
}

void *malloc(size_t n)
{
    check();
    return __libc_malloc(n);
}

void *calloc(size_t a, size_t b)
{
    check();
    return __libc_calloc(a, b);
}

void *realloc(void *p, size_t n)
{
    check();
    return __libc_realloc(p, n);
}

void free(void *p)
{
    check();
    __libc_free(p);
}
