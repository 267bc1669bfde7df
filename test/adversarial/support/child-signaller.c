/*
 * Support of the child-window signal test (test-only): a sibling process
 * that signals every new child of a parent as soon as it sees it.
 *
 *   child-signaller PARENT_PID SIGNO
 *
 * It busy-scans /proc/PARENT/task/PARENT/children (children of the parent's
 * main thread, so it sees a child between clone and execve) and also reads
 * pids, one per line, from stdin (the parent writes each pid it learns). Each
 * pid is signalled through a pidfd, and only after /proc/<pid>/stat, read with
 * the pidfd open, names PARENT as its parent: a recycled pid is never hit.
 * Prints "ready" once running; on EOF of stdin prints "sent N" and exits 0.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

static long parent, signo, self, sent;
static long recent[256];
static unsigned recent_at;

static long read_ppid(long pid)
{
    char path[64], buf[1024];
    snprintf(path, sizeof path, "/proc/%ld/stat", pid);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return -1;
    ssize_t n = read(fd, buf, sizeof buf - 1);
    close(fd);
    if (n <= 0)
        return -1;
    buf[n] = '\0';
    char *p = strrchr(buf, ')');
    char state;
    long ppid;
    if (!p || sscanf(p + 1, " %c %ld", &state, &ppid) != 2)
        return -1;
    return ppid;
}

static void hit(long pid)
{
    if (pid <= 0 || pid == self || pid == parent)
        return;
    for (unsigned i = 0; i < 256; i++)
        if (recent[i] == pid)
            return;
    int pfd = (int)syscall(SYS_pidfd_open, (pid_t)pid, 0);
    if (pfd < 0)
        return;
    if (read_ppid(pid) == parent && syscall(SYS_pidfd_send_signal, pfd, (int)signo, NULL, 0) == 0) {
        sent++;
        recent[recent_at++ % 256] = pid;
    }
    close(pfd);
}

static void scan(void)
{
    char path[96], buf[65536];
    snprintf(path, sizeof path, "/proc/%ld/task/%ld/children", parent, parent);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return;
    ssize_t n = read(fd, buf, sizeof buf - 1);
    close(fd);
    if (n <= 0)
        return;
    buf[n] = '\0';
    for (char *p = buf; *p;) {
        char *end;
        long pid = strtol(p, &end, 10);
        if (end == p)
            break;
        hit(pid);
        p = end;
    }
}

int main(int argc, char **argv)
{
    if (argc != 3) {
        fprintf(stderr, "usage: %s PARENT_PID SIGNO\n", argv[0]);
        return 2;
    }
    parent = atol(argv[1]);
    signo = atol(argv[2]);
    self = getpid();
    fcntl(0, F_SETFL, fcntl(0, F_GETFL) | O_NONBLOCK);
    printf("ready\n");
    fflush(stdout);
    char line[4096];
    size_t have = 0;
    for (;;) {
        scan();
        ssize_t n = read(0, line + have, sizeof line - 1 - have);
        if (n == 0)
            break;
        if (n > 0) {
            have += (size_t)n;
            line[have] = '\0';
            char *start = line, *nl;
            while ((nl = strchr(start, '\n')) != NULL) {
                *nl = '\0';
                hit(atol(start));
                start = nl + 1;
            }
            have = strlen(start);
            memmove(line, start, have);
        } else if (errno != EAGAIN && errno != EINTR) {
            break;
        }
        sched_yield();
    }
    printf("sent %ld\n", sent);
    return 0;
}
