/*
 * Adversarial-suite probe program (static; links only libc). Modes:
 *
 *   probe fds [--block] [--scan N] [--probe a,b,...] [--close-range] [--proc]
 *       --block        first read stdin to EOF (so the parent can look at
 *                      /proc/<pid>/fd meanwhile)
 *       Then, before opening anything: every fd in 0..N-1 (default: the
 *       NOFILE hard limit, at most 2^20) is tested with fcntl(F_GETFD);
 *       each open one is printed as "OPEN n" -- this works without /proc.
 *       --probe LIST   for each listed fd: "GETFD n ok|<errno>" and
 *                      "READ n ok|<errno>" (a read of 0 bytes, the Rust way)
 *       --close-range  "CLOSE_RANGE ok|<errno>": is close_range(2) allowed
 *                      here (it is called on an fd that is never open)
 *       --proc         "PROC ok|<errno>": can /proc/self/fd be opened
 *       Output goes to stdout, then "END".
 *
 *   probe busy BYTES [FD...]
 *       Writes BYTES to stdout and BYTES to stderr in alternating 4096-byte
 *       chunks (chunk i of stdout is filled with 'a'+i%26, of stderr with
 *       'A'+i%26), THEN reads stdin and every FD to EOF with poll(), then
 *       writes each input (stdin first, then the FDs in order) to stdout and
 *       then the same to stderr. A parent that does not read both outputs
 *       while it writes stdin deadlocks.
 *
 *   probe gen BYTES
 *       Writes BYTES of the pattern byte[k] = k & 0xff (NULs included) to
 *       stdout in 64 KiB writes.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdarg.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

#ifndef SYS_close_range
#define SYS_close_range 436
#endif

static const char *ename(int e)
{
    const char *n = strerrorname_np(e);
    static char b[32];
    if (n)
        return n;
    snprintf(b, sizeof b, "E%d", e);
    return b;
}

static void die(const char *what)
{
    dprintf(2, "probe: %s: %s\n", what, ename(errno));
    _exit(99);
}

static int write_all(int fd, const char *p, size_t n)
{
    while (n > 0) {
        ssize_t w = write(fd, p, n);
        if (w < 0) {
            if (errno == EINTR)
                continue;
            if (errno == EAGAIN) {
                struct pollfd pf = { fd, POLLOUT, 0 };
                poll(&pf, 1, -1);
                continue;
            }
            return -1;
        }
        p += w;
        n -= (size_t)w;
    }
    return 0;
}

static char out[1 << 22];
static size_t outlen;

static void put(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(out + outlen, sizeof out - outlen, fmt, ap);
    va_end(ap);
    if (n < 0 || (size_t)n >= sizeof out - outlen) {
        dprintf(2, "probe: output too large\n");
        _exit(98);
    }
    outlen += (size_t)n;
}

static int mode_fds(int argc, char **argv)
{
    long scan = -1;
    const char *probe = NULL;
    int block = 0, cr = 0, proc = 0;
    for (int i = 0; i < argc; i++) {
        if (!strcmp(argv[i], "--block")) block = 1;
        else if (!strcmp(argv[i], "--close-range")) cr = 1;
        else if (!strcmp(argv[i], "--proc")) proc = 1;
        else if (!strcmp(argv[i], "--scan") && i + 1 < argc) scan = atol(argv[++i]);
        else if (!strcmp(argv[i], "--probe") && i + 1 < argc) probe = argv[++i];
        else {
            dprintf(2, "probe fds: bad option %s\n", argv[i]);
            return 2;
        }
    }
    if (block) {
        char buf[4096];
        for (;;) {
            ssize_t n = read(0, buf, sizeof buf);
            if (n < 0 && errno == EINTR)
                continue;
            if (n <= 0)
                break;
        }
    }
    if (scan < 0) {
        struct rlimit rl;
        if (getrlimit(RLIMIT_NOFILE, &rl) < 0)
            die("getrlimit");
        scan = rl.rlim_max == RLIM_INFINITY || rl.rlim_max > (1u << 20) ? (1 << 20) : (long)rl.rlim_max;
        if (rl.rlim_cur != RLIM_INFINITY && (long)rl.rlim_cur > scan)
            scan = (long)rl.rlim_cur;
    }
    for (long fd = 0; fd < scan; fd++)
        if (fcntl((int)fd, F_GETFD) >= 0)
            put("OPEN %ld\n", fd);
    if (probe) {
        char *list = strdup(probe);
        for (char *tok = strtok(list, ","); tok; tok = strtok(NULL, ",")) {
            int fd = atoi(tok);
            char c;
            int g = fcntl(fd, F_GETFD);
            put("GETFD %d %s\n", fd, g >= 0 ? "ok" : ename(errno));
            ssize_t r = read(fd, &c, 0);
            put("READ %d %s\n", fd, r >= 0 ? "ok" : ename(errno));
        }
        free(list);
    }
    if (cr) {
        long r = syscall(SYS_close_range, 0x7ffffffeU, 0x7ffffffeU, 0);
        put("CLOSE_RANGE %s\n", r == 0 ? "ok" : ename(errno));
    }
    if (proc) {
        int d = open("/proc/self/fd", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        put("PROC %s\n", d >= 0 ? "ok" : ename(errno));
        if (d >= 0)
            close(d);
    }
    put("END\n");
    if (write_all(1, out, outlen) < 0)
        die("write");
    return 0;
}

struct in { int fd, done; char *d; size_t len, cap; };

static int mode_busy(int argc, char **argv)
{
    if (argc < 1)
        return 2;
    long bytes = atol(argv[0]);
    static char chunk[4096];
    for (long off = 0, i = 0; off < bytes; off += 4096, i++) {
        size_t n = bytes - off < 4096 ? (size_t)(bytes - off) : 4096;
        memset(chunk, 'a' + (int)(i % 26), n);
        if (write_all(1, chunk, n) < 0)
            die("write stdout");
        memset(chunk, 'A' + (int)(i % 26), n);
        if (write_all(2, chunk, n) < 0)
            die("write stderr");
    }
    int nin = argc;  /* stdin + argc-1 fds */
    struct in *ins = calloc((size_t)nin, sizeof *ins);
    struct pollfd *pf = calloc((size_t)nin, sizeof *pf);
    ins[0].fd = 0;
    for (int i = 1; i < argc; i++)
        ins[i].fd = atoi(argv[i]);
    int open_n = nin;
    while (open_n > 0) {
        int map[64], np = 0;
        for (int i = 0; i < nin; i++) {
            if (ins[i].done)
                continue;
            pf[np].fd = ins[i].fd;
            pf[np].events = POLLIN;
            pf[np].revents = 0;
            map[np++] = i;
        }
        if (poll(pf, (nfds_t)np, -1) < 0) {
            if (errno == EINTR)
                continue;
            die("poll");
        }
        for (int j = 0; j < np; j++) {
            if (!pf[j].revents)
                continue;
            struct in *b = &ins[map[j]];
            if (b->cap - b->len < 65536) {
                b->cap = b->cap ? b->cap * 2 : 262144;
                b->d = realloc(b->d, b->cap);
                if (!b->d)
                    die("realloc");
            }
            ssize_t r = read(b->fd, b->d + b->len, b->cap - b->len);
            if (r < 0) {
                if (errno == EINTR || errno == EAGAIN)
                    continue;
                die("read");
            }
            if (r == 0) {
                b->done = 1;
                open_n--;
            } else {
                b->len += (size_t)r;
            }
        }
    }
    for (int s = 1; s <= 2; s++)
        for (int i = 0; i < nin; i++)
            if (ins[i].len && write_all(s, ins[i].d, ins[i].len) < 0)
                die("echo");
    return 0;
}

static int mode_gen(int argc, char **argv)
{
    if (argc < 1)
        return 2;
    long long bytes = atoll(argv[0]);
    static unsigned char block[65536];
    for (int k = 0; k < 65536; k++)
        block[k] = (unsigned char)(k & 0xff);
    while (bytes > 0) {
        size_t n = bytes < 65536 ? (size_t)bytes : 65536;
        if (write_all(1, (const char *)block, n) < 0)
            die("write");
        bytes -= (long long)n;
    }
    return 0;
}

int main(int argc, char **argv)
{
    if (argc >= 2 && !strcmp(argv[1], "fds"))
        return mode_fds(argc - 2, argv + 2);
    if (argc >= 2 && !strcmp(argv[1], "busy"))
        return mode_busy(argc - 2, argv + 2);
    if (argc >= 2 && !strcmp(argv[1], "gen"))
        return mode_gen(argc - 2, argv + 2);
    dprintf(2, "usage: probe fds|busy|gen ...\n");
    return 2;
}
