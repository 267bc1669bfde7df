// Declarative pre-exec steps: (id maps), setsid, setpgid, nice, cgroup, setns, unshare, (mounts),
// chroot.
// CHILD ZONE: runs between clone()/fork() and execve(); rules in child_sys.h.
// SPDX-License-Identifier: MIT
#include <fcntl.h>

#include "../core/stage.h"
#include "child_sys.h"

namespace vircommand {

// async-signal-safe: setsid, setpgid, setpriority, open, write, setns, unshare, chroot.
void child_declarative_steps(const ChildPlan* plan) {
  // Namespaces made at clone: a new user namespace's maps first (child_ns.cc).
  child_wait_id_maps(plan);
  // setsid() fails with EPERM for a process that leads its session already (a daemon does since
  // step 4): what was asked for holds, so that is success. EPERM for a mere group leader stays.
  if (plan->setsid && syscall(SYS_setsid) < 0 &&
      !(errno == EPERM && syscall(SYS_getsid, 0) == syscall(SYS_getpid)))
    child_fail(plan, kStageSetsid, errno);
  if (plan->pgid >= 0 && syscall(SYS_setpgid, 0, plan->pgid) != 0) child_fail(plan, kStageSetpgid, errno);
  if (plan->has_nice && syscall(SYS_setpriority, 0 /* PRIO_PROCESS */, 0, plan->nice) != 0)
    child_fail(plan, kStageNice, errno);
  if (plan->cgroup_procs != nullptr || plan->cgroup_fd >= 0) {
    // cgroup v2: writing "0" to cgroup.procs moves the writer. Done before setns(), while the
    // path still means what it meant in the parent.
    int fd = plan->cgroup_fd >= 0 ? openat(plan->cgroup_fd, "cgroup.procs", O_WRONLY | O_CLOEXEC)
                                  : open(plan->cgroup_procs, O_WRONLY | O_CLOEXEC);
    if (fd < 0) child_fail(plan, kStageCgroup, errno);
    if (!child_write_all(fd, "0", 1)) child_fail(plan, kStageCgroup, errno);
    close(fd);
  }
  for (int i = 0; i < plan->nnamespaces; i++) {
    if (syscall(SYS_setns, plan->namespaces[i].fd, plan->namespaces[i].type) != 0)
      child_fail(plan, kStageNamespace, errno, plan->namespaces[i].type);
  }
  if (plan->unshare_flags != 0 && syscall(SYS_unshare, plan->unshare_flags) != 0)
    child_fail(plan, kStageUnshare, errno);
  child_setup_mounts(plan);  // a new mount namespace: propagation, then /proc (child_ns.cc)
  if (plan->chroot_dir != nullptr) {
    if (syscall(SYS_chroot, plan->chroot_dir) != 0) child_fail(plan, kStageChroot, errno);
    if (plan->cwd == nullptr && chdir("/") != 0) child_fail(plan, kStageChroot, errno);
  }
}

}  // namespace vircommand
