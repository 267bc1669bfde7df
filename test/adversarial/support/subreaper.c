/*
 * Support of the parent-death signal and daemon tests (test-only): a child
 * subreaper. Runs ARGV as its child and
 * reaps every descendant that is orphaned to it, printing one line per reaped
 * process to stderr:
 *
 *   CHILD <pid>                   the direct child it started
 *   REAPED <pid> <raw wait status>
 *
 * so a test can see how an orphaned grandchild ended (killed by which signal,
 * or which exit status), which no other process could observe. Exits when it
 * has no children left, or on SIGTERM.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: %s PROGRAM [ARG...]\n", argv[0]);
        return 2;
    }
    if (prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) != 0) {
        perror("prctl(PR_SET_CHILD_SUBREAPER)");
        return 1;
    }
    setvbuf(stderr, NULL, _IOLBF, 0);
    pid_t child = fork();
    if (child < 0) {
        perror("fork");
        return 1;
    }
    if (child == 0) {
        execvp(argv[1], argv + 1);
        perror("execvp");
        _exit(127);
    }
    fprintf(stderr, "CHILD %d\n", (int)child);
    for (;;) {
        int status;
        pid_t p = wait(&status);
        if (p < 0) {
            if (errno == EINTR)
                continue;
            break;
        }
        fprintf(stderr, "REAPED %d %d\n", (int)p, status);
    }
    return 0;
}
