/*
 * seccomp-launch ERRNO PROGRAM [ARGS...]
 * seccomp-launch NOPIDFD PROGRAM [ARGS...]
 * seccomp-launch NOPOPULATE PROGRAM [ARGS...]
 * seccomp-launch NOCLONEFLAGS PROGRAM [ARGS...]
 *
 * Test-only launcher for the adversarial suite: installs a seccomp filter,
 * then execv's PROGRAM. With ERRNO (EPERM or ENOSYS), close_range(2) fails
 * with it (the close fallbacks test). With NOPIDFD, pidfd_open(2) and pidfd_send_signal(2) fail
 * with ENOSYS, as on a kernel without pidfds or under valgrind 3.19. With
 * NOPOPULATE, madvise(2) with MADV_POPULATE_WRITE fails with EINVAL, as on a
 * kernel before 5.14 (other madvise calls pass). With NOCLONEFLAGS, clone(2) fails with
 * EINVAL when its flags hold CLONE_FILES or CLONE_PIDFD without CLONE_THREAD, as under
 * qemu-user, which runs only fork-like and thread-like clones (glibc's fork() and
 * pthread_create() pass; clone3 is not filtered). Every
 * other system call is allowed. The filter is inherited by every
 * descendant, so vircommand, running in PROGRAM or a child of it, sees the
 * calls refused and must fall back.
 *
 * PR_SET_NO_NEW_PRIVS first, so this works without CAP_SYS_ADMIN.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <sched.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#ifndef __NR_close_range
#define __NR_close_range 436
#endif
#ifndef __NR_pidfd_open
#define __NR_pidfd_open 434
#endif
#ifndef CLONE_PIDFD
#define CLONE_PIDFD 0x00001000
#endif
#ifndef MADV_POPULATE_WRITE
#define MADV_POPULATE_WRITE 23
#endif
#ifndef __NR_pidfd_send_signal
#define __NR_pidfd_send_signal 424
#endif

#if defined(__x86_64__)
#define MY_ARCH AUDIT_ARCH_X86_64
#elif defined(__aarch64__)
#define MY_ARCH AUDIT_ARCH_AARCH64
#else
#error "seccomp-launch: unsupported architecture"
#endif

static int install(struct sock_filter *filter, unsigned short len, char **argv)
{
    struct sock_fprog prog = { len, filter };
    if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) {
        perror("seccomp-launch: PR_SET_NO_NEW_PRIVS");
        return 3;
    }
    if (syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &prog) != 0) {
        perror("seccomp-launch: SECCOMP_SET_MODE_FILTER");
        return 3;
    }
    execv(argv[0], argv);
    perror("seccomp-launch: execv");
    return 127;
}

/* NOCLONEFLAGS: clone(2) with CLONE_FILES or CLONE_PIDFD in its flags (the first argument's
 * low 32 bits, little-endian) and no CLONE_THREAD fails with EINVAL. */
static int refuse_clone_flags(char **argv)
{
    struct sock_filter filter[] = {
        BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, arch)),
        BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, MY_ARCH, 1, 0),
        BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
        BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
        BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, __NR_clone, 1, 0),
        BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
        BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, args[0])),
        BPF_JUMP(BPF_JMP | BPF_JSET | BPF_K, CLONE_THREAD, 2, 0),
        BPF_JUMP(BPF_JMP | BPF_JSET | BPF_K, CLONE_FILES | CLONE_PIDFD, 0, 1),
        BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | (EINVAL & SECCOMP_RET_DATA)),
        BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
    };
    return install(filter, (unsigned short)(sizeof filter / sizeof filter[0]), argv);
}

int main(int argc, char **argv)
{
    if (argc < 3) {
        fprintf(stderr, "usage: seccomp-launch EPERM|ENOSYS|NOPIDFD|NOPOPULATE|NOCLONEFLAGS PROGRAM [ARGS...]\n");
        return 2;
    }
    int err;
    int populate = 0;
    /* the refused calls: close_range, or (NOPIDFD) the two pidfd calls */
    unsigned nr1 = __NR_close_range, nr2 = __NR_close_range;
    if (!strcmp(argv[1], "EPERM")) err = EPERM;
    else if (!strcmp(argv[1], "ENOSYS")) err = ENOSYS;
    else if (!strcmp(argv[1], "NOPIDFD")) {
        err = ENOSYS;
        nr1 = __NR_pidfd_open;
        nr2 = __NR_pidfd_send_signal;
    } else if (!strcmp(argv[1], "NOPOPULATE")) {
        err = EINVAL;
        nr1 = nr2 = __NR_madvise;
        populate = 1;
    } else if (!strcmp(argv[1], "NOCLONEFLAGS")) {
        return refuse_clone_flags(argv + 2);
    } else {
        fprintf(stderr, "seccomp-launch: unknown errno %s\n", argv[1]);
        return 2;
    }
    /* An unconditional jump to the next instruction: a no-op in place of the argument check. */
    const struct sock_filter nop = BPF_JUMP(BPF_JMP | BPF_JA, 0, 0, 0);
    struct sock_filter filter[] = {
        BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, arch)),
        BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, MY_ARCH, 1, 0),
        BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
        BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
        BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, nr1, 1, 0),
        BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, nr2, 0, 3),
        /* NOPOPULATE: only when the advice (third argument, its low 32 bits: both supported
         * architectures are little-endian) is MADV_POPULATE_WRITE */
        populate ? (struct sock_filter)BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, args[2])) : nop,
        populate ? (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, MADV_POPULATE_WRITE, 0, 1) : nop,
        BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | (err & SECCOMP_RET_DATA)),
        BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
    };
    return install(filter, (unsigned short)(sizeof filter / sizeof filter[0]), argv + 2);
}
