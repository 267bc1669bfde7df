// The new root and the mounts made in it (pivotRoot, chroot, remountProc, addMount), in the new
// mount namespace. Part of step 6 (child_steps.cc), after the namespaces and the propagation.
// CHILD ZONE: runs between clone()/fork() and execve(); rules in child_sys.h. Raw syscalls
// only; every path was built by the parent (src/command/mounts.ts, core/mount_plan.cc).
// SPDX-License-Identifier: MIT
#include <fcntl.h>
#include <sys/vfs.h>

#include "../core/stage.h"
#include "child_sys.h"

namespace vircommand {

namespace {

constexpr unsigned long kMsRdonly = 1;
constexpr unsigned long kMsRemount = 32;
constexpr unsigned long kMsBind = 4096;
constexpr unsigned long kMsRec = 0x4000;
constexpr unsigned long kMsPrivate = 0x40000;
constexpr unsigned long kMsRelatime = 1UL << 21;
constexpr int kMntDetach = 2;

long sys_mount(const char* source, const char* target, const char* fstype, unsigned long flags, const char* data) {
  return syscall(SYS_mount, source, target, fstype, flags, data);
}

constexpr size_t kPathMax = 4096;

// Copies `path` (with its NUL) into `buf` on our own stack; false (ENAMETOOLONG) past 4095 bytes.
bool copy_path(char (&buf)[kPathMax], const char* path, size_t* len) {
  *len = __builtin_strlen(path);
  if (*len >= kPathMax) {
    errno = ENAMETOOLONG;
    return false;
  }
  __builtin_memcpy(buf, path, *len + 1);
  return true;
}

// mkdir -p: each missing component of `path` (absolute, at most 4095 bytes), on our own stack.
bool make_dirs(const char* path) {
  char buf[kPathMax];
  size_t len;
  if (!copy_path(buf, path, &len)) return false;
  for (size_t i = 1; i <= len; i++) {
    if (buf[i] != '/' && buf[i] != '\0') continue;
    char saved = buf[i];
    buf[i] = '\0';
    if (syscall(SYS_mkdirat, AT_FDCWD, buf, 0755) != 0 && errno != EEXIST) return false;
    buf[i] = saved;
  }
  return true;
}

// The directory part of `path`, created; then an empty file at `path` unless something is there.
bool make_file(const char* path) {
  char buf[kPathMax];
  size_t len;
  if (!copy_path(buf, path, &len)) return false;
  size_t slash = len;
  while (slash > 0 && buf[slash] != '/') slash--;
  if (slash > 0) {
    buf[slash] = '\0';
    if (!make_dirs(buf)) return false;
  }
  long fd = syscall(SYS_openat, AT_FDCWD, path, O_RDONLY | O_CREAT | O_CLOEXEC | O_NOCTTY, 0644);
  if (fd >= 0) {
    close(static_cast<int>(fd));
    return true;
  }
  return errno == EISDIR;  // a directory there: the bind itself says what is wrong (ENOTDIR)
}

// A read-only bind: a remount that keeps the flags the kernel locks in a user namespace
// (nosuid, nodev, noexec, the atime ones), read back with statfs: ST_* bits 1-8 and 1024-4096
// are the MS_* bits of the same value except ST_RELATIME (4096), which is MS_RELATIME.
bool remount_readonly(const char* target) {
  struct statfs st;
  if (syscall(SYS_statfs, target, &st) != 0) return false;
  unsigned long kept = static_cast<unsigned long>(st.f_flags) & (2 | 4 | 8 | 1024 | 2048);
  if (static_cast<unsigned long>(st.f_flags) & 4096) kept |= kMsRelatime;
  return sys_mount("none", target, nullptr, kMsBind | kMsRemount | kMsRdonly | kept, nullptr) == 0;
}

// One step: its target created (unless `create` is false: made already), then the mount or link.
void apply_mount_step(const ChildPlan* plan, const MountStep& m, bool create = true) {
  bool ok = true;
  if (create && m.create == kMountCreateDir) ok = make_dirs(m.target);
  if (create && m.create == kMountCreateFile) ok = make_file(m.target);
  if (ok && m.kind == kMountStepSymlink) {
    ok = syscall(SYS_symlinkat, m.source, AT_FDCWD, m.target) == 0;
  } else if (ok) {
    ok = sys_mount(m.source, m.target, m.fstype, m.flags, m.data) == 0 && (!m.readonly || remount_readonly(m.target));
  }
  if (!ok) child_fail(plan, kStageMount, errno, m.index);
}

// The steps [first, end) (one addDevMount(): a tmpfs and the entries made in it) in a new user
// namespace whose maps leave out our own ids. A file system mounted in that namespace refuses
// to create anything for an fs uid or gid it cannot map (EOVERFLOW), and the tmpfs root would
// belong to our unmapped ids, writable by nobody inside. So a forked helper takes mapped fs
// ids (as_uid/as_gid, chosen by the parent, usually the namespace's root) and makes the steps:
// the tmpfs root and every entry then belong to them. Not here in the child itself: fs ids once
// mapped cannot go back to unmapped ones, and the later steps (targets in the new root, the old
// root's removal) need ours. The first target (in the new root) is made with ours, before.
// The helper reports its own failure (child_fail) and exits with its code; we exit with it.
// async-signal-safe: clone (raw fork), setfsgid, setfsuid, wait4, and the steps' syscalls.
void run_as_mapped_ids(const ChildPlan* plan, int first, int end) {
  const MountStep& head = plan->mounts[first];
  if (head.create == kMountCreateDir && !make_dirs(head.target)) child_fail(plan, kStageMount, errno, head.index);
  if (head.create == kMountCreateFile && !make_file(head.target)) child_fail(plan, kStageMount, errno, head.index);
  long pid = syscall(SYS_clone, 17 /* SIGCHLD */, 0, nullptr, nullptr, 0);
  if (pid < 0) child_fail(plan, kStageMount, errno, head.index);
  if (pid == 0) {
    // setfsuid/setfsgid report no error: the id read back (-1 changes nothing) tells.
    if (head.as_gid >= 0 && (syscall(SYS_setfsgid, head.as_gid), syscall(SYS_setfsgid, -1) != head.as_gid))
      child_fail(plan, kStageMount, EPERM, head.index);
    if (head.as_uid >= 0 && (syscall(SYS_setfsuid, head.as_uid), syscall(SYS_setfsuid, -1) != head.as_uid))
      child_fail(plan, kStageMount, EPERM, head.index);
    for (int i = first; i < end; i++) apply_mount_step(plan, plan->mounts[i], i != first);
    _exit(0);
  }
  int status = 0;
  long r;
  do {
    r = syscall(SYS_wait4, pid, &status, 0, nullptr);
  } while (r < 0 && errno == EINTR);
  if (r < 0) child_fail(plan, kStageMount, errno, head.index);
  if ((status & 0x7f) != 0) child_fail(plan, kStageMount, ECHILD, head.index);  // killed by a signal
  int code = (status >> 8) & 0xff;
  if (code != 0) _exit(code);  // the helper has reported the failure
}

// pivot_root(2) as libvirt's LXC driver and bwrap do: the new root must be a mount point, so it
// is bound onto itself first (always: cheaper than finding out, and harmless); the old root is
// parked on a directory inside it until the mounts that read from it are made.
void pivot_into_new_root(const ChildPlan* plan) {
  if (sys_mount(plan->pivot_root, plan->pivot_root, nullptr, kMsBind | kMsRec, nullptr) != 0 ||
      chdir(plan->pivot_root) != 0 || (syscall(SYS_mkdirat, AT_FDCWD, plan->pivot_old, 0700) != 0 && errno != EEXIST) ||
      syscall(SYS_pivot_root, ".", plan->pivot_old) != 0 || chdir("/") != 0)
    child_fail(plan, kStagePivotRoot, errno);
}

// The old root, detached (lazily: the program's cwd and fds are already in the new one) and its
// directory removed. EBUSY from rmdir: the same root is in use by another container that parked
// its own old root there; the directory is then left for it.
void detach_old_root(const ChildPlan* plan) {
  if (syscall(SYS_umount2, plan->pivot_old_abs, kMntDetach) != 0) child_fail(plan, kStagePivotRoot, errno);
  if (syscall(SYS_unlinkat, AT_FDCWD, plan->pivot_old_abs, AT_REMOVEDIR) != 0 && errno != EBUSY)
    child_fail(plan, kStagePivotRoot, errno);
}

}  // namespace

// async-signal-safe: mount, pivot_root, chroot, chdir, mkdirat, openat, symlinkat, umount2 (and
// clone, setfsuid, setfsgid, wait4 for run_as_mapped_ids).
// The order: the root change (pivot_root or chroot), a new proc on the new root's /proc, the
// mounts in the order they were added, then the old root detached.
void child_setup_root(const ChildPlan* plan) {
  if (plan->pivot_root != nullptr) pivot_into_new_root(plan);
  if (plan->chroot_dir != nullptr) {
    // With mounts, the cwd stays on the old root across chroot(): the parent wrote each bind's
    // source relative to it, the one way to reach the host's files from inside.
    if (plan->nmounts > 0 && chdir("/") != 0) child_fail(plan, kStageChroot, errno);
    if (syscall(SYS_chroot, plan->chroot_dir) != 0) child_fail(plan, kStageChroot, errno);
  }
  if (plan->mount_proc) {
    // A tree left shared would carry the new proc to the caller's /proc (it replaced it, and
    // with a new pid namespace the host's /proc showed no process). As util-linux does for
    // --mount-proc: /proc private first, whatever the propagation of the rest.
    // A new root may have no /proc yet: made, as a mount's target is.
    const bool new_root = plan->pivot_root != nullptr || plan->chroot_dir != nullptr;
    if (new_root && syscall(SYS_mkdirat, AT_FDCWD, "/proc", 0555) != 0 && errno != EEXIST)
      child_fail(plan, kStageProc, errno);
    if (plan->proc_private && sys_mount("none", "/proc", nullptr, kMsRec | kMsPrivate, nullptr) != 0)
      child_fail(plan, kStageProc, errno);
    if (sys_mount("proc", "/proc", "proc", 2 | 4 | 8 /* MS_NOSUID | MS_NODEV | MS_NOEXEC */, nullptr) != 0)
      child_fail(plan, kStageProc, errno);
  }
  for (int i = 0; i < plan->nmounts;) {
    const MountStep& m = plan->mounts[i];
    // The ids matter only in a user namespace made at clone: the one the parent wrote maps for.
    const bool helper =
        (m.as_uid >= 0 || m.as_gid >= 0) && (plan->clone_ns_flags & 0x10000000 /* CLONE_NEWUSER */) != 0;
    if (!helper) {
      apply_mount_step(plan, plan->mounts[i++]);
      continue;
    }
    int end = i + 1;
    while (end < plan->nmounts && plan->mounts[end].index == m.index) end++;
    run_as_mapped_ids(plan, i, end);
    i = end;
  }
  if (plan->pivot_root != nullptr) detach_old_root(plan);
  if (plan->chroot_dir != nullptr && plan->cwd == nullptr && chdir("/") != 0) child_fail(plan, kStageChroot, errno);
}

}  // namespace vircommand
