// Declarative pre-exec steps: (id maps), setsid, setpgid, nice, cgroup, setns, unshare, (mount
// propagation, the new root, /proc, mounts).
// CHILD ZONE: runs between clone()/fork() and execve(); rules in child_sys.h.
// SPDX-License-Identifier: MIT
#include <fcntl.h>
#include <sys/vfs.h>

#include "../core/stage.h"
#include "child_sys.h"

namespace vircommand {

// async-signal-safe: fstatfs. The file system is cgroup2 or a cgroup v1 hierarchy.
static bool child_is_cgroup_fd(int fd) {
  struct statfs st;
  if (syscall(SYS_fstatfs, fd, &st) != 0) return false;
  return st.f_type == 0x63677270 /* CGROUP2_SUPER_MAGIC */ || st.f_type == 0x27e0eb /* CGROUP_SUPER_MAGIC */;
}

// async-signal-safe: setsid, setpgid, setpriority, open, write, setns, unshare, chroot.
void child_declarative_steps(const ChildPlan* plan) {
  // Namespaces made at clone: a new user namespace's maps first (child_ns.cc).
  child_wait_id_maps(plan);
  // setsid() fails with EPERM for a process that leads its session already (a daemon does since
  // step 4): what was asked for holds, so that is success. EPERM for a mere group leader stays.
  if (plan->setsid && syscall(SYS_setsid) < 0 && !(errno == EPERM && syscall(SYS_getsid, 0) == syscall(SYS_getpid)))
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
    // A plain directory with a file named cgroup.procs is no cgroup: writing would change that
    // file. The parent checked the directory before clone (core/cgroup_check.cc); this is the
    // file actually opened.
    if (!child_is_cgroup_fd(fd)) child_fail(plan, kStageCgroup, EINVAL);
    if (!child_write_all(fd, "0", 1)) child_fail(plan, kStageCgroup, errno);
    close(fd);
  }
  for (int i = 0; i < plan->nnamespaces; i++) {
    if (syscall(SYS_setns, plan->namespaces[i].fd, plan->namespaces[i].type) != 0)
      child_fail(plan, kStageNamespace, errno, plan->namespaces[i].type);
  }
  if (plan->unshare_flags != 0 && syscall(SYS_unshare, plan->unshare_flags) != 0)
    child_fail(plan, kStageUnshare, errno);
  child_setup_mounts(plan);  // a new mount namespace: propagation (child_ns.cc)
  // The new root (pivot_root or chroot), then /proc and the mounts inside it (child_mounts.cc).
  child_setup_root(plan);
}

}  // namespace vircommand
