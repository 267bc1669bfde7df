// LSM exec labels: the SELinux context and the AppArmor profile the program gets at execve
// (libvirt's virCommandSetSELinuxLabel / SetAppArmorProfile), written to the calling thread's
// /proc attr files with plain open/write: no libselinux, no libapparmor.
// CHILD ZONE: runs between clone()/fork() and execve(); rules in child_sys.h.
// SPDX-License-Identifier: MIT
#include <fcntl.h>

#include "../core/stage.h"
#include "child_sys.h"

namespace vircommand {

// Writes `text` to <proc>/thread-self/<attr>. plan->proc_fd is a /proc directory the parent
// opened, so this works after a chroot too; "thread-self" is resolved at lookup, for the
// thread looking it up: this child (the kernel lets a task write only its own attr files).
// Returns 0 or an errno.
static int write_attr(const ChildPlan* plan, const char* attr, const char* text) {
  int fd = openat(plan->proc_fd, attr, O_WRONLY | O_CLOEXEC);
  if (fd < 0) return errno;
  size_t len = __builtin_strlen(text);
  ssize_t n;
  do {
    n = write(fd, text, len);  // one write: the kernel takes the attribute in one piece
  } while (n < 0 && errno == EINTR);
  int err = n < 0 ? errno : static_cast<size_t>(n) == len ? 0 : EIO;
  close(fd);
  return err;
}

// async-signal-safe: openat, write, close.
void child_set_exec_labels(const ChildPlan* plan) {
  if (plan->selinux_label != nullptr) {
    // SELinux takes the context itself in attr/exec. EINVAL where SELinux is not the active
    // major LSM (the attr file then belongs to nobody).
    int err = write_attr(plan, "thread-self/attr/exec", plan->selinux_label);
    if (err != 0) child_fail(plan, kStageSelinux, err);
  }
  if (plan->apparmor_exec != nullptr) {
    // AppArmor's own directory (Linux 5.8+, where several LSMs can be stacked), else the
    // shared attr/exec of older kernels. The command is "exec <profile>" (libapparmor's
    // aa_change_onexec): the profile applies at execve.
    int err = write_attr(plan, "thread-self/attr/apparmor/exec", plan->apparmor_exec);
    if (err == ENOENT) err = write_attr(plan, "thread-self/attr/exec", plan->apparmor_exec);
    if (err != 0) child_fail(plan, kStageApparmor, err);
  }
}

}  // namespace vircommand
