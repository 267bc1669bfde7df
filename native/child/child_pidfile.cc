// The pidfile the daemon writes itself: a walk of its path that checks each directory and symlink
// through the fd it then uses (so nothing can be swapped between check and use), then open
// relative to the checked directory, check the file, lock, write; and its removal on a failure.
// CHILD ZONE: runs between clone()/fork() and execve(); rules in child_sys.h.
// SPDX-License-Identifier: MIT
#include <fcntl.h>
#include <sys/stat.h>

#include "../core/pidfile_report.h"
#include "../core/stage.h"
#include "child_sys.h"

namespace vircommand {

namespace {

constexpr int kPathMax = 4096;  // PATH_MAX, with its NUL
constexpr int kNameMax = 255;  // NAME_MAX
constexpr int kMaxSymlinks = 40;  // the kernel's own limit in one lookup

// The pidfile this daemon locked and wrote, so that a later failure removes it. Only the daemon
// grandchild sets these, and it has its own copy of memory after its fork.
int g_fd = -1;  // the locked pidfile
int g_dir_fd = -1;  // O_PATH fd of the directory holding it
char g_name[kNameMax + 1];  // its name in that directory

// Who may own what the path goes through: root and the daemon's final user. Anyone else could
// swap a component under a root daemon, and make it write to (or later signal) what they chose.
struct Walk {
  const ChildPlan* plan;
  uint32_t own_uid;
  int64_t blame;  // the end offset, in plan->pidfile, of the component being resolved
  bool via_link;  // the current component comes from the target of the symlink named there
};

[[noreturn]] void Fail(const Walk& w, int err, int reason = kPidfileNoReason, uint32_t number = 0) {
  child_fail(w.plan, kStagePidfile, err, PidfileReportValue(w.blame, reason, w.via_link, number));
}

bool OwnerAllowed(const Walk& w, uint32_t uid) { return uid == 0 || uid == w.own_uid; }

// A directory on the path: owned by root or the daemon's user, and writable by nobody else unless
// sticky (then others cannot rename or remove entries they do not own: /tmp, /run/lock).
void CheckDirectory(const Walk& w, int fd) {
  struct stat st;
  if (fstat(fd, &st) != 0) Fail(w, errno);
  if (!S_ISDIR(st.st_mode)) Fail(w, ENOTDIR);
  if (!OwnerAllowed(w, st.st_uid)) Fail(w, EPERM, kPidfileDirOwner, st.st_uid);
  bool sticky = (st.st_mode & S_ISVTX) != 0;
  if ((st.st_mode & S_IWOTH) != 0 && !sticky) Fail(w, EPERM, kPidfileDirWorldWritable, st.st_mode & 07777);
  if ((st.st_mode & S_IWGRP) != 0 && !sticky) Fail(w, EPERM, kPidfileDirGroupWritable, st.st_mode & 07777);
}

int OpenRoot(const Walk& w) {
  int fd = open("/", O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) Fail(w, errno);
  CheckDirectory(w, fd);
  return fd;
}

// Walks every component of the pidfile path but the last, from "/" (the daemon's cwd is "/", so a
// relative path means the same), one openat(O_PATH | O_NOFOLLOW) at a time: each directory is
// checked through the fd the next step opens from; a symlink is checked, read through its own fd
// and its target spliced in front of the rest (an absolute target restarts from "/"). Returns the
// checked directory's fd and copies the last component, which is never followed, into `name`.
int WalkToDirectory(Walk& w, char* name) {
  const char* path = w.plan->pidfile;
  char bufs[2][kPathMax];
  int len = 0;
  while (path[len] != '\0') {
    if (len >= kPathMax - 1) Fail(w, ENAMETOOLONG);
    bufs[0][len] = path[len];
    len++;
  }
  const int orig_len = len;
  char* cur = bufs[0];
  char* other = bufs[1];
  int orig_tail = len;  // the last orig_tail bytes of cur are the end of the original path
  int links = 0;
  int dir = OpenRoot(w);
  int pos = 0;
  for (;;) {
    while (pos < len && cur[pos] == '/') pos++;
    int end = pos;
    while (end < len && cur[end] != '/') end++;
    if (pos >= len) Fail(w, EISDIR);  // no last component ("/")
    w.via_link = pos < len - orig_tail;
    if (!w.via_link) w.blame = orig_len - (len - end);
    int next_pos = end;
    while (next_pos < len && cur[next_pos] == '/') next_pos++;
    if (end - pos > kNameMax) Fail(w, ENAMETOOLONG);
    for (int i = pos; i < end; i++) name[i - pos] = cur[i];
    name[end - pos] = '\0';
    if (next_pos >= len) return dir;  // the last component: the caller opens it
    if (end - pos == 1 && name[0] == '.') {
      pos = end;
      continue;
    }
    int next = openat(dir, name, O_PATH | O_NOFOLLOW | O_CLOEXEC);
    if (next < 0) Fail(w, errno);
    struct stat st;
    if (fstat(next, &st) != 0) Fail(w, errno);
    if (S_ISDIR(st.st_mode)) {
      CheckDirectory(w, next);
      close(dir);
      dir = next;
      pos = end;
      continue;
    }
    if (!S_ISLNK(st.st_mode)) Fail(w, ENOTDIR);
    if (!OwnerAllowed(w, st.st_uid)) Fail(w, EPERM, kPidfileLinkOwner, st.st_uid);
    if (++links > kMaxSymlinks) Fail(w, ELOOP);
    // An empty path with an O_PATH | O_NOFOLLOW fd reads that very link (Linux 2.6.39).
    long n = syscall(SYS_readlinkat, next, "", other, kPathMax);
    if (n < 0) Fail(w, errno);
    if (n == 0) Fail(w, ENOENT);
    close(next);
    int rest = len - end;  // "/..." up to the end
    if (n + rest >= kPathMax) Fail(w, ENAMETOOLONG);
    for (int i = 0; i < rest; i++) other[n + i] = cur[end + i];
    if (rest < orig_tail) orig_tail = rest;
    len = static_cast<int>(n) + rest;
    char* swap = cur;
    cur = other;
    other = swap;
    pos = 0;
    if (cur[0] == '/') {
      close(dir);
      w.via_link = true;  // the root is checked again, on behalf of this link
      dir = OpenRoot(w);
    }
  }
}

}  // namespace

// Opens, checks, locks and writes the pidfile; returns the locked fd, left open across execve (an
// fcntl lock is lost when any fd of the file is closed, so the daemon keeps it for life).
// async-signal-safe: open, openat, fstat, fcntl, ftruncate, write, close, readlinkat (raw).
int child_write_pidfile(const ChildPlan* plan) {
  Walk w = {plan, 0, 0, false};
  int64_t uid = plan->uid >= 0 ? plan->uid : syscall(SYS_geteuid);
  w.own_uid = static_cast<uint32_t>(uid);
  char name[kNameMax + 1];
  int dir = WalkToDirectory(w, name);
  // Move the directory fd above its number, so the pidfile gets the lowest free fd, as a plain
  // open() would: the walk's fds are gone by exec, and the lock fd is the daemon's first one.
  int moved = fcntl(dir, F_DUPFD_CLOEXEC, dir + 1);
  if (moved < 0) Fail(w, errno);
  close(dir);
  dir = moved;
  w.via_link = false;
  w.blame = 0;
  for (const char* p = plan->pidfile; *p != '\0'; p++) w.blame++;
  for (int attempt = 0; attempt < 10; attempt++) {
    // O_NOFOLLOW: a symlink planted at the path is refused (ELOOP), never followed. O_NONBLOCK:
    // a FIFO planted there cannot block us (and the parent waiting for us); it is then refused
    // as not a regular file.
    int fd = openat(dir, name, O_WRONLY | O_CREAT | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC, 0644);
    if (fd < 0) {
      int err = errno;  // ENXIO: a FIFO with no reader
      if (err == ENXIO) Fail(w, EINVAL, kPidfileNotRegular, S_IFIFO);
      Fail(w, err);
    }
    // Checked before the lock and before any write: a file of another user's, or one linked
    // elsewhere (truncating it would truncate the other name too), is never written.
    struct stat by_fd;
    if (fstat(fd, &by_fd) != 0) Fail(w, errno);
    if (!S_ISREG(by_fd.st_mode)) Fail(w, EINVAL, kPidfileNotRegular, by_fd.st_mode);
    if (!OwnerAllowed(w, by_fd.st_uid)) Fail(w, EPERM, kPidfileFileOwner, by_fd.st_uid);
    if (by_fd.st_nlink > 1) Fail(w, EPERM, kPidfileFileLinks, static_cast<uint32_t>(by_fd.st_nlink));
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
      child_fail(plan, kStagePidfile, err == EACCES ? EAGAIN : err, holder);  // value: the holder
    }
    // Between open and lock another process may have removed or replaced the file: then our
    // lock protects nothing. Compare the inode we locked with the one now at the name; retry if
    // they differ (the directory is checked, so only root or the daemon's user can do that).
    struct stat by_name;
    int again = openat(dir, name, O_PATH | O_NOFOLLOW | O_CLOEXEC);
    bool same =
        again >= 0 && fstat(again, &by_name) == 0 && by_name.st_ino == by_fd.st_ino && by_name.st_dev == by_fd.st_dev;
    if (again >= 0) close(again);
    if (!same) {
      close(fd);
      continue;
    }
    // Ours from here on: any failure below or in a later step removes it (child_remove_pidfile).
    g_fd = fd;
    g_dir_fd = dir;
    for (int i = 0; i <= kNameMax; i++) {
      g_name[i] = name[i];
      if (name[i] == '\0') break;
    }
    char text[24];
    int len = child_format_decimal(static_cast<uint64_t>(syscall(SYS_getpid)), text);
    text[len++] = '\n';
    // A full disk (ENOSPC) or RLIMIT_FSIZE (EFBIG: SIGXFSZ stays blocked until step 16, and a
    // failure exits before that) fails here, and the file is removed.
    if (ftruncate(fd, 0) != 0 || !child_write_all(fd, text, static_cast<size_t>(len))) Fail(w, errno);
    // Blocking again for the program, and kept across execve.
    if (fcntl(fd, F_SETFL, O_WRONLY) != 0 || fcntl(fd, F_SETFD, 0) != 0) Fail(w, errno);
    return fd;
  }
  child_fail(plan, kStagePidfile, EAGAIN);
}

// Called by child_fail: removes the pidfile this daemon wrote, if the name still holds that very
// file (through the directory fd: no path lookup to race). The lock goes with the process.
void child_remove_pidfile() {
  if (g_fd < 0) return;
  struct stat mine, there;
  int again = openat(g_dir_fd, g_name, O_PATH | O_NOFOLLOW | O_CLOEXEC);
  if (again < 0) return;
  bool same = fstat(g_fd, &mine) == 0 && fstat(again, &there) == 0 && mine.st_ino == there.st_ino &&
              mine.st_dev == there.st_dev;
  close(again);
  if (same) syscall(SYS_unlinkat, g_dir_fd, g_name, 0);
}

}  // namespace vircommand
