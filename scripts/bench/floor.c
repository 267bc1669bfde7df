/*
 * The C floor of the vircommand benchmark: what a minimal C program pays for the same work.
 * Built by scripts/bench/run.js with `cc -O2`; prints one JSON object on stdout.
 *
 *   floor spawn N [--method M] [--hold-mib MIB] [--fds COUNT] [--prog PATH]
 *       Spawns PATH (default /bin/true) N times, each followed by waitpid. M is
 *         posix_spawn    glibc posix_spawn (clone(CLONE_VM|CLONE_VFORK)); the floor proper
 *         vfork-close    clone(CLONE_VM|CLONE_VFORK) + close_range(3, ~0U, 0) + execve: the least
 *                        a spawner that closes inherited fds (as vircommand does) can do
 *         vfork-unshare  clone(CLONE_VM|CLONE_VFORK|CLONE_FILES) + close_range(3, ~0U,
 *                        CLOSE_RANGE_UNSHARE) + execve: the fd table is not copied at clone,
 *                        only fds 0-2 are copied when the child unshares it (diagnosis aid)
 *       --hold-mib: first allocate and touch that much memory (a big parent);
 *       --fds: first open /dev/null (O_CLOEXEC) until COUNT fds are open in the process.
 *   floor write BYTES [CHUNK]
 *       Writes BYTES zero bytes to stdout in CHUNK-sized writes (default 65536): the writer
 *       every throughput measurement uses, so all readers face the same child.
 *   floor read BYTES [--discard | --hugepage | --populate] [--pipe-size BYTES | --socketpair]
 *              [--writer PATH]
 *       Spawns `PATH write BYTES` (PATH defaults to this program) with stdout on a pipe and
 *       reads it to EOF: into one growing malloc'd buffer (a capture, as the addon does), or
 *       with --discard into a 64 KiB buffer that is overwritten, or with --hugepage into a
 *       buffer grown with mmap/mremap and madvise(MADV_HUGEPAGE) (2 MiB pages where
 *       transparent huge pages are enabled: far fewer page faults). --pipe-size sets the pipe's
 *       capacity with F_SETPIPE_SZ (default 64 KiB); --populate faults the growing buffer in
 *       with madvise(MADV_POPULATE_WRITE) before read(), 1 MiB at a time once it holds 1 MiB,
 *       and reads no further than what is faulted in (as the addon captures; Linux 5.14);
 *       --socketpair uses an AF_UNIX socketpair
 *       instead of a pipe, as libuv does for child_process stdio. Then waitpid.
 *   floor cat BYTES
 *       Spawns /bin/cat with stdin and stdout on pipes and, in one poll() loop, writes BYTES
 *       bytes from memory to it while capturing what comes back.
 *
 * Times are CLOCK_MONOTONIC around the measured work only (setup excluded).
 * SPDX-License-Identifier: MIT
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <spawn.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <dirent.h>

#ifndef CLOSE_RANGE_UNSHARE
#define CLOSE_RANGE_UNSHARE (1U << 1)
#endif

extern char **environ;

static uint64_t now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static void die(const char *what) {
  fprintf(stderr, "floor: %s: %s\n", what, strerror(errno));
  exit(2);
}

static int count_open_fds(void) {
  DIR *d = opendir("/proc/self/fd");
  if (d == NULL) return -1;
  int n = 0;
  struct dirent *e;
  while ((e = readdir(d)) != NULL)
    if (e->d_name[0] >= '0' && e->d_name[0] <= '9') n++;
  closedir(d);
  return n - 1; /* the directory's own fd */
}

/* ---- spawn ------------------------------------------------------------------------------- */

struct child_args {
  const char *prog;
  char *const *argv;
  unsigned int flags;
};

static char child_stack[64 * 1024] __attribute__((aligned(16)));

static int child_fn(void *p) {
  const struct child_args *a = p;
  if (syscall(SYS_close_range, 3U, ~0U, a->flags) != 0) _exit(125);
  execve(a->prog, a->argv, environ);
  _exit(127);
}

static pid_t spawn_one(const char *method, const char *prog, char *const argv[]) {
  pid_t pid;
  if (strcmp(method, "posix_spawn") == 0) {
    int err = posix_spawn(&pid, prog, NULL, NULL, argv, environ);
    if (err != 0) {
      errno = err;
      die("posix_spawn");
    }
    return pid;
  }
  struct child_args a = {prog, argv, 0};
  int flags = CLONE_VM | CLONE_VFORK | SIGCHLD;
  if (strcmp(method, "vfork-unshare") == 0) {
    flags |= CLONE_FILES;
    a.flags = CLOSE_RANGE_UNSHARE;
  } else if (strcmp(method, "vfork-close") != 0) {
    fprintf(stderr, "floor: unknown method %s\n", method);
    exit(2);
  }
  /* Signals stay as they are: this program installs no handlers, so none can run in the child. */
  pid = clone(child_fn, child_stack + sizeof child_stack, flags, &a);
  if (pid < 0) die("clone");
  return pid;
}

static int cmd_spawn(int argc, char **argv) {
  if (argc < 1) return 2;
  long n = atol(argv[0]);
  const char *method = "posix_spawn";
  const char *prog = "/bin/true";
  long hold_mib = 0, fds = 0;
  for (int i = 1; i < argc; i++) {
    if (strcmp(argv[i], "--method") == 0 && i + 1 < argc) method = argv[++i];
    else if (strcmp(argv[i], "--hold-mib") == 0 && i + 1 < argc) hold_mib = atol(argv[++i]);
    else if (strcmp(argv[i], "--fds") == 0 && i + 1 < argc) fds = atol(argv[++i]);
    else if (strcmp(argv[i], "--prog") == 0 && i + 1 < argc) prog = argv[++i];
    else {
      fprintf(stderr, "floor: bad argument %s\n", argv[i]);
      return 2;
    }
  }
  if (hold_mib > 0) {
    size_t len = (size_t)hold_mib << 20;
    char *p = malloc(len);
    if (p == NULL) die("malloc");
    memset(p, 1, len); /* touched: every page is resident */
  }
  for (long open_now = fds > 0 ? count_open_fds() : 0; open_now < fds; open_now++) {
    if (open("/dev/null", O_RDONLY | O_CLOEXEC) < 0) die("open /dev/null");
  }
  char *child_argv[] = {(char *)prog, NULL};
  /* one warm-up spawn, not timed */
  pid_t pid = spawn_one(method, prog, child_argv);
  int status;
  if (waitpid(pid, &status, 0) < 0) die("waitpid");
  uint64_t t0 = now_ns();
  for (long i = 0; i < n; i++) {
    pid = spawn_one(method, prog, child_argv);
    if (waitpid(pid, &status, 0) < 0) die("waitpid");
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
      fprintf(stderr, "floor: child status %d\n", status);
      return 1;
    }
  }
  uint64_t t1 = now_ns();
  printf("{\"mode\":\"spawn\",\"method\":\"%s\",\"n\":%ld,\"ns\":%llu,\"openFds\":%d}\n", method, n,
         (unsigned long long)(t1 - t0), count_open_fds());
  return 0;
}

/* ---- write ------------------------------------------------------------------------------- */

static int cmd_write(int argc, char **argv) {
  if (argc < 1) return 2;
  unsigned long long left = strtoull(argv[0], NULL, 10);
  size_t chunk = argc > 1 ? (size_t)atol(argv[1]) : 65536;
  char *buf = calloc(1, chunk);
  if (buf == NULL) die("calloc");
  while (left > 0) {
    size_t want = left < chunk ? (size_t)left : chunk;
    ssize_t w = write(1, buf, want);
    if (w < 0) {
      if (errno == EINTR) continue;
      die("write");
    }
    left -= (unsigned long long)w;
  }
  return 0;
}

/* ---- read -------------------------------------------------------------------------------- */

struct capture {
  char *data;
  size_t len, cap;
  int discard;
  int hugepage; /* grow with mmap/mremap + madvise(MADV_HUGEPAGE) instead of realloc */
  int populate; /* fault pages in ahead of read() */
  size_t populated; /* data[0, populated) is faulted in */
};

#ifndef MADV_POPULATE_WRITE
#define MADV_POPULATE_WRITE 23
#endif

/* --populate: returns how much may be read at data + len without a fault in read(), or 0. */
static size_t populate_ahead(struct capture *c) {
  const size_t from = (size_t)1 << 20, step = (size_t)1 << 20;
  if (!c->populate || c->len < from) return 0;
  if (c->populated < c->len) c->populated = c->len;
  if (c->populated - c->len < step / 2 && c->populated < c->cap) {
    uintptr_t page = (uintptr_t)sysconf(_SC_PAGESIZE);
    uintptr_t start = (uintptr_t)(c->data + c->populated) & ~(page - 1);
    size_t end = c->populated + step < c->cap ? c->populated + step : c->cap;
    uintptr_t stop = (uintptr_t)(c->data + end) & ~(page - 1);
    if (stop > start) {
      if (madvise((void *)start, stop - start, MADV_POPULATE_WRITE) != 0) die("madvise(MADV_POPULATE_WRITE)");
      c->populated = (size_t)((char *)stop - c->data);
    }
  }
  return c->populated > c->len ? c->populated - c->len : 0;
}

/* Grows the capture so that at least 64 KiB are free. */
static void grow(struct capture *c) {
  if (c->cap - c->len >= 65536) return;
  if (c->hugepage) {
    size_t cap = c->cap ? c->cap * 2 : (size_t)2 << 20;
    void *p = c->data ? mremap(c->data, c->cap, cap, MREMAP_MAYMOVE)
                      : mmap(NULL, cap, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED) die("mmap/mremap");
    madvise(p, cap, MADV_HUGEPAGE);
    c->data = p;
    c->cap = cap;
    return;
  }
  size_t cap = c->cap ? c->cap * 2 : 65536;
  char *p = realloc(c->data, cap);
  if (p == NULL) die("realloc");
  c->data = p;
  c->cap = cap;
}

static void release(struct capture *c) {
  if (c->hugepage) {
    if (c->data) munmap(c->data, c->cap);
  } else {
    free(c->data);
  }
}

/* Reads what is available from fd; returns 0 on EOF, 1 if more may come, dies on error. */
static int read_some(int fd, struct capture *c) {
  static char scratch[65536];
  for (;;) {
    char *dst;
    size_t room;
    if (c->discard) {
      dst = scratch;
      room = sizeof scratch;
    } else {
      grow(c);
      dst = c->data + c->len;
      room = populate_ahead(c);
      if (room == 0) room = c->cap - c->len;
    }
    ssize_t r = read(fd, dst, room);
    if (r < 0) {
      if (errno == EINTR) continue;
      if (errno == EAGAIN) return 1;
      die("read");
    }
    if (r == 0) return 0;
    c->len += (size_t)r; /* with discard: counted, the data is overwritten next time */
  }
}

static int cmd_read(int argc, char **argv, const char *self) {
  if (argc < 1) return 2;
  const char *bytes = argv[0];
  int discard = 0, hugepage = 0, populate = 0;
  long pipe_size = 0;
  int use_socketpair = 0;
  static char self_path[4096];
  const char *writer = self;
  ssize_t sl = readlink("/proc/self/exe", self_path, sizeof self_path - 1);
  if (sl > 0) {
    self_path[sl] = 0;
    writer = self_path;
  }
  for (int i = 1; i < argc; i++) {
    if (strcmp(argv[i], "--discard") == 0) discard = 1;
    else if (strcmp(argv[i], "--hugepage") == 0) hugepage = 1;
    else if (strcmp(argv[i], "--populate") == 0) populate = 1;
    else if (strcmp(argv[i], "--pipe-size") == 0 && i + 1 < argc) pipe_size = atol(argv[++i]);
    else if (strcmp(argv[i], "--socketpair") == 0) use_socketpair = 1;
    else if (strcmp(argv[i], "--writer") == 0 && i + 1 < argc) writer = argv[++i];
  }
  uint64_t t0 = now_ns();
  int p[2];
  if (use_socketpair) {
    /* what libuv (child_process) uses for stdio 'pipe' */
    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, p) != 0) die("socketpair");
  } else if (pipe2(p, O_CLOEXEC) != 0) {
    die("pipe2");
  }
  if (pipe_size > 0 && fcntl(p[0], F_SETPIPE_SZ, (int)pipe_size) < 0) die("F_SETPIPE_SZ");
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_adddup2(&fa, p[1], 1);
  char *child_argv[] = {(char *)writer, "write", (char *)bytes, NULL};
  pid_t pid;
  int err = posix_spawn(&pid, writer, &fa, NULL, child_argv, environ);
  if (err != 0) {
    errno = err;
    die("posix_spawn writer");
  }
  close(p[1]);
  struct capture c = {NULL, 0, 0, discard, hugepage, populate, 0};
  size_t total = 0;
  for (;;) {
    size_t before = c.len;
    int more = read_some(p[0], &c);
    total += c.len - before;
    if (discard) c.len = 0;
    if (!more) break;
  }
  close(p[0]);
  int status;
  if (waitpid(pid, &status, 0) < 0) die("waitpid");
  uint64_t t1 = now_ns();
  printf("{\"mode\":\"read\",\"discard\":%s,\"hugepage\":%s,\"bytes\":%zu,\"ns\":%llu,\"status\":%d}\n",
         discard ? "true" : "false", hugepage ? "true" : "false", total, (unsigned long long)(t1 - t0), status);
  release(&c);
  return 0;
}

/* ---- cat --------------------------------------------------------------------------------- */

static int cmd_cat(int argc, char **argv) {
  if (argc < 1) return 2;
  size_t bytes = (size_t)strtoull(argv[0], NULL, 10);
  char *input = malloc(bytes);
  if (input == NULL) die("malloc");
  memset(input, 'x', bytes);
  signal(SIGPIPE, SIG_IGN);
  uint64_t t0 = now_ns();
  int in[2], out[2];
  if (pipe2(in, O_CLOEXEC) != 0 || pipe2(out, O_CLOEXEC) != 0) die("pipe2");
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_adddup2(&fa, in[0], 0);
  posix_spawn_file_actions_adddup2(&fa, out[1], 1);
  posix_spawnattr_t attr;
  posix_spawnattr_init(&attr);
  sigset_t def;
  sigemptyset(&def);
  sigaddset(&def, SIGPIPE);
  posix_spawnattr_setsigdefault(&attr, &def);
  posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGDEF);
  char *child_argv[] = {"cat", NULL};
  pid_t pid;
  int err = posix_spawn(&pid, "/bin/cat", &fa, &attr, child_argv, environ);
  if (err != 0) {
    errno = err;
    die("posix_spawn cat");
  }
  close(in[0]);
  close(out[1]);
  fcntl(in[1], F_SETFL, O_NONBLOCK);
  fcntl(out[0], F_SETFL, O_NONBLOCK);
  struct capture c = {NULL, 0, 0, 0, 0, 0, 0};
  size_t off = 0;
  int wfd = in[1], rfd = out[0];
  if (bytes == 0) {
    close(wfd);
    wfd = -1;
  }
  while (rfd >= 0) {
    struct pollfd pf[2];
    int n = 0, wi = -1, ri = -1;
    if (wfd >= 0) {
      pf[n] = (struct pollfd){wfd, POLLOUT, 0};
      wi = n++;
    }
    pf[n] = (struct pollfd){rfd, POLLIN, 0};
    ri = n++;
    if (poll(pf, n, -1) < 0) {
      if (errno == EINTR) continue;
      die("poll");
    }
    if (wi >= 0 && pf[wi].revents) {
      for (;;) {
        ssize_t w = write(wfd, input + off, bytes - off);
        if (w < 0) {
          if (errno == EINTR) continue;
          if (errno == EAGAIN) break;
          off = bytes; /* EPIPE */
          break;
        }
        off += (size_t)w;
        if (off == bytes) break;
      }
      if (off == bytes) {
        close(wfd);
        wfd = -1;
      }
    }
    if (pf[ri].revents) {
      if (!read_some(rfd, &c)) {
        close(rfd);
        rfd = -1;
      }
    }
  }
  if (wfd >= 0) close(wfd);
  int status;
  if (waitpid(pid, &status, 0) < 0) die("waitpid");
  uint64_t t1 = now_ns();
  printf("{\"mode\":\"cat\",\"bytes\":%zu,\"ns\":%llu,\"status\":%d}\n", c.len, (unsigned long long)(t1 - t0), status);
  free(c.data);
  free(input);
  return 0;
}

int main(int argc, char **argv) {
  if (argc < 2) {
    fprintf(stderr, "usage: floor spawn|write|read|cat ...\n");
    return 2;
  }
  if (strcmp(argv[1], "spawn") == 0) return cmd_spawn(argc - 2, argv + 2);
  if (strcmp(argv[1], "write") == 0) return cmd_write(argc - 2, argv + 2);
  if (strcmp(argv[1], "read") == 0) return cmd_read(argc - 2, argv + 2, argv[0]);
  if (strcmp(argv[1], "cat") == 0) return cmd_cat(argc - 2, argv + 2);
  fprintf(stderr, "floor: unknown mode %s\n", argv[1]);
  return 2;
}
