// Daemonize (fork, then setsid in the daemon) and the pidfile the daemon writes itself.
// CHILD ZONE: runs between clone()/fork() and execve(); rules in child_sys.h.
// SPDX-License-Identifier: MIT
#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>

#include "../core/stage.h"
#include "child_sys.h"

namespace vircommand {

// Opens, locks and writes the pidfile. Returns the locked fd, left open across execve: an fcntl
// lock is lost when any fd of the file is closed, so the daemon keeps it for life.
// Refuses a directory where another user could swap the pidfile under us: world-writable without
// the sticky bit, or (when we are root) owned by another user. systemd refuses the same
// (CVE-2018-16888): a root daemon would otherwise write to, or later kill, what they planted.
static void check_pidfile_dir(const ChildPlan* plan) {
  if (plan->pidfile_dir == nullptr) return;
  struct stat dir;
  if (stat(plan->pidfile_dir, &dir) != 0) child_fail(plan, kStagePidfile, errno);
  if ((dir.st_mode & S_IWOTH) != 0 && (dir.st_mode & S_ISVTX) == 0) child_fail(plan, kStagePidfile, EPERM, 1);
  long euid = syscall(SYS_geteuid);
  if (euid == 0 && dir.st_uid != 0) child_fail(plan, kStagePidfile, EPERM, 2);
}

static int write_pidfile(const ChildPlan* plan) {
  check_pidfile_dir(plan);
  for (int attempt = 0; attempt < 10; attempt++) {
    // O_NOFOLLOW: a symlink planted at the path is refused (ELOOP), never followed. O_NONBLOCK:
    // a FIFO planted there cannot block us (and the parent waiting for us); it is then refused
    // as not a regular file.
    int fd = open(plan->pidfile, O_WRONLY | O_CREAT | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC, 0644);
    if (fd < 0) child_fail(plan, kStagePidfile, errno == ENXIO ? EINVAL : errno);
    struct flock lock = {};
    lock.l_type = F_WRLCK;
    lock.l_whence = SEEK_SET;
    lock.l_start = 0;
    lock.l_len = 1;
    if (fcntl(fd, F_SETLK, &lock) != 0) {
      int err = errno;
      int64_t holder = 0;
      struct flock probe = lock;
      if (fcntl(fd, F_GETLK, &probe) == 0 && probe.l_type != F_UNLCK) holder = probe.l_pid;
      close(fd);
      child_fail(plan, kStagePidfile, err == EACCES ? EAGAIN : err, holder);
    }
    // Between open and lock another process may have removed or replaced the file: then our
    // lock protects nothing. Compare the inode we locked with the one at the path; retry if not.
    struct stat by_fd, by_path;
    if (fstat(fd, &by_fd) != 0) child_fail(plan, kStagePidfile, errno);
    if (!S_ISREG(by_fd.st_mode)) {
      close(fd);
      child_fail(plan, kStagePidfile, EINVAL, 3);
    }
    if (stat(plan->pidfile, &by_path) != 0 || by_fd.st_ino != by_path.st_ino || by_fd.st_dev != by_path.st_dev) {
      close(fd);
      continue;
    }
    char text[24];
    int len = child_format_decimal(static_cast<uint64_t>(syscall(SYS_getpid)), text);
    text[len++] = '\n';
    if (ftruncate(fd, 0) != 0 || !child_write_all(fd, text, static_cast<size_t>(len)))
      child_fail(plan, kStagePidfile, errno);
    // Blocking again for the program, and kept across execve.
    if (fcntl(fd, F_SETFL, O_WRONLY) != 0 || fcntl(fd, F_SETFD, 0) != 0) child_fail(plan, kStagePidfile, errno);
    return fd;
  }
  child_fail(plan, kStagePidfile, EAGAIN);
}

// async-signal-safe: setsid, chdir, pipe2, clone (raw fork), read, write, open, fcntl, fstat.
void child_daemonize(const ChildPlan* plan, int* pidfile_fd) {
  if (!plan->daemonize) return;
  int sync[2];
  if (syscall(SYS_pipe2, sync, O_CLOEXEC) != 0) child_fail(plan, kStageDaemon, errno);
  // A raw fork: glibc's fork() runs atfork handlers and takes locks, which this child (sharing
  // memory with the parent under CLONE_VM) must not. The grandchild gets its own copy of memory.
  long pid = syscall(SYS_clone, SIGCHLD, 0, nullptr, nullptr, 0);
  if (pid < 0) child_fail(plan, kStageDaemon, errno);
  if (pid > 0) {
    // The intermediate: wait until the grandchild has written the pidfile (or died), then exit.
    // The parent is released when we exit, so the pidfile is complete before run() returns.
    close(sync[1]);
    char byte = 0;
    ssize_t n;
    do {
      n = read(sync[0], &byte, 1);
    } while (n < 0 && errno == EINTR);
    _exit(n == 1 ? 0 : 125);
  }
  close(sync[0]);
  // The daemon itself becomes the session (and group) leader: a new session has no controlling
  // terminal, and it cannot be a group leader already (its group is the intermediate's).
  if (syscall(SYS_setsid) < 0) child_fail(plan, kStageDaemon, errno);
  if (chdir("/") != 0) child_fail(plan, kStageDaemon, errno);
  if (plan->pidfile != nullptr) *pidfile_fd = write_pidfile(plan);
  char done = '1';
  child_write_all(sync[1], &done, 1);
  close(sync[1]);
}

}  // namespace vircommand
