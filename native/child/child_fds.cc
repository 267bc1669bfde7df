// Stdio mapping and closing every fd that is not kept.
// CHILD ZONE: runs between clone()/fork() and execve(); rules in child_sys.h.
// SPDX-License-Identifier: MIT
#include <fcntl.h>
#include <sys/resource.h>

#include "../core/stage.h"
#include "child_sys.h"

namespace vircommand {

// async-signal-safe: close_range, unshare via syscall(2).
void child_unshare_fds(const ChildPlan* plan) {
  if (!plan->shared_fd_table) return;
  // close_range(CLOSE_RANGE_UNSHARE) (Linux 5.9) unshares the table copying only the fds below
  // the range, and closes the range in our copy. Nothing before this may change an fd: the
  // table is still the parent's.
  constexpr unsigned int kCloseRangeUnshare = 2;
  unsigned int first = static_cast<unsigned int>(plan->highest_needed_fd) + 1;
  if (syscall(SYS_close_range, first, ~0U, kCloseRangeUnshare) == 0) return;
  // Refused (older kernel, seccomp): unshare the whole table; step 3 closes the rest.
  if (syscall(SYS_unshare, 0x00000400 /* CLONE_FILES */) != 0) child_fail(plan, kStageCloseFds, errno);
}

// async-signal-safe: fcntl(2), dup2(2).
void child_map_stdio(const ChildPlan* plan) {
  int src[3] = {plan->stdio_src[0], plan->stdio_src[1], plan->stdio_src[2]};
  // Pass 1: a source that is itself one of 0-2, but not its own target, is moved above 2 first,
  // so that dup2 onto one target cannot destroy the source of another (e.g. swapped 0 and 1).
  for (int i = 0; i < 3; i++) {
    if (src[i] >= 0 && src[i] < 3 && src[i] != i) {
      int moved = fcntl(src[i], F_DUPFD_CLOEXEC, 3);
      if (moved < 0) child_fail(plan, kStageStdio, errno, i);
      for (int j = i + 1; j < 3; j++)
        if (src[j] == src[i]) src[j] = moved;
      src[i] = moved;
    }
  }
  // Pass 2: dup2 onto the target; a source already at its target only loses FD_CLOEXEC.
  for (int i = 0; i < 3; i++) {
    if (src[i] == i) {
      if (fcntl(i, F_SETFD, 0) != 0) child_fail(plan, kStageStdio, errno, i);
    } else if (dup2(src[i], i) < 0) {
      child_fail(plan, kStageStdio, errno, i);
    }
    // Programs expect blocking stdio ("write error: Resource temporarily unavailable"
    // otherwise). O_NONBLOCK lives in the open file description, so a caller's fd given here
    // becomes blocking in the caller too, as with libuv.
    int flags = fcntl(i, F_GETFL);
    if (flags >= 0 && (flags & O_NONBLOCK) != 0 && fcntl(i, F_SETFL, flags & ~O_NONBLOCK) != 0)
      child_fail(plan, kStageStdio, errno, i);
  }
}

// async-signal-safe: dup2(2). The parent placed every source, and every fd of ours the child
// still needs, off the target numbers (spawn_fds.cc, AvoidSendTargets), so no dup2 here clobbers
// one; the dup clears FD_CLOEXEC and the target is in the keep list, so it survives exec.
void child_map_send_buffers(const ChildPlan* plan) {
  for (int i = 0; i < plan->nsends; i++) {
    const SendMapping& m = plan->sends[i];
    // dup2 onto itself would keep FD_CLOEXEC (cannot happen as placed, but costs nothing).
    int rc = m.src == m.target ? fcntl(m.target, F_SETFD, 0) : dup2(m.src, m.target);
    if (rc < 0) child_fail(plan, kStageStdio, errno, m.target);
  }
}

static bool is_kept(const ChildPlan* plan, int fd) {
  for (int i = 0; i < plan->nkeep; i++) {
    if (plan->keep_fds[i] == fd) return true;
    if (plan->keep_fds[i] > fd) return false;  // sorted
  }
  return false;
}

// close_range(2) (Linux 5.9) around the kept fds. Returns false if the kernel refused it, so the
// caller falls back (old kernel: ENOSYS; a seccomp filter: EPERM or anything else).
static bool close_with_close_range(const ChildPlan* plan) {
  unsigned int lo = 0;
  for (int i = 0; i < plan->nkeep; i++) {
    unsigned int k = static_cast<unsigned int>(plan->keep_fds[i]);
    if (k > lo && syscall(SYS_close_range, lo, k - 1, 0) != 0) return false;
    lo = k + 1;
  }
  return syscall(SYS_close_range, lo, ~0U, 0) == 0;
}

// getdents64 on /proc/self/fd: costs what is open, not what is allowed. Returns false without
// /proc (a chroot, an unmounted /proc, a seccomp'd openat).
static bool close_with_proc_listing(const ChildPlan* plan) {
  int dir = open("/proc/self/fd", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dir < 0) return false;
  char buf[4096];
  for (;;) {
    long n = syscall(SYS_getdents64, dir, buf, sizeof buf);
    if (n < 0) {
      close(dir);
      return false;
    }
    if (n == 0) break;
    for (long off = 0; off < n;) {
      // struct linux_dirent64: u64 d_ino, s64 d_off, u16 d_reclen, u8 d_type, char d_name[]
      unsigned short reclen;
      __builtin_memcpy(&reclen, buf + off + 16, sizeof reclen);
      const char* name = buf + off + 19;
      off += reclen;
      if (name[0] < '0' || name[0] > '9') continue;
      int fd = 0;
      for (const char* p = name; *p >= '0' && *p <= '9'; p++) fd = fd * 10 + (*p - '0');
      if (fd != dir && !is_kept(plan, fd)) close(fd);  // closing while listing is fine on procfs
    }
  }
  close(dir);
  return true;
}

// The last resort: every number up to 2^20 (fs.nr_open's default), whatever the current limits:
// fds opened before the limit was lowered can sit above it.
static void close_with_loop(const ChildPlan* plan) {
  struct {
    uint64_t cur, max;
  } lim = {0, 0};
  uint64_t top = 1u << 20;
  if (syscall(SYS_prlimit64, 0, RLIMIT_NOFILE, nullptr, &lim) == 0 && lim.max > top && lim.max < (1u << 30))
    top = lim.max;
  for (uint64_t fd = 3; fd < top; fd++)
    if (!is_kept(plan, static_cast<int>(fd))) close(static_cast<int>(fd));
}

// async-signal-safe: close_range, open, getdents64 via syscall(2), close, fcntl.
void child_close_fds(const ChildPlan* plan) {
  if (!close_with_close_range(plan) && !close_with_proc_listing(plan)) close_with_loop(plan);
  // Passed fds keep their number and lose FD_CLOEXEC, so they survive execve.
  for (int i = 0; i < plan->npass; i++) {
    if (fcntl(plan->pass_fds[i], F_SETFD, 0) != 0) child_fail(plan, kStageCloseFds, errno, plan->pass_fds[i]);
  }
  // PASS_FD_BLOCKING: programs that expect a blocking fd (virtiofsd's socket) get one. O_NONBLOCK
  // belongs to the open file description, which the parent shares: its copy turns blocking too.
  for (int i = 0; i < plan->nblocking; i++) {
    int fd = plan->blocking_fds[i];
    int flags = fcntl(fd, F_GETFL);
    if (flags < 0 || ((flags & O_NONBLOCK) != 0 && fcntl(fd, F_SETFL, flags & ~O_NONBLOCK) != 0))
      child_fail(plan, kStageCloseFds, errno, fd);
  }
}

}  // namespace vircommand
