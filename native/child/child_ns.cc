// New namespaces, in the child: waiting for the user namespace's id maps, and setting up a new
// mount namespace (mount propagation, /proc). Part of step 6 (child_steps.cc).
// CHILD ZONE: runs between clone()/fork() and execve(); rules in child_sys.h.
// SPDX-License-Identifier: MIT
#include "../core/stage.h"
#include "child_sys.h"

namespace vircommand {

// async-signal-safe: read, close. Before the parent has written uid_map and gid_map our ids are
// unmapped in the new user namespace (files could not be created, setresuid(0) would fail):
// nothing that needs them may run before this returns.
void child_wait_id_maps(const ChildPlan* plan) {
  if (plan->idmap_wait_fd < 0) return;
  char go = 0;
  ssize_t n;
  do {
    n = read(plan->idmap_wait_fd, &go, 1);
  } while (n < 0 && errno == EINTR);
  if (n < 0) child_fail(plan, kStageIdmap, errno);
  if (n == 0) child_fail(plan, kStageIdmap, ECANCELED);  // the parent gave up (it kills us too)
  close(plan->idmap_wait_fd);
}

// async-signal-safe: mount(2) by syscall. A new mount namespace starts with copies of the
// parent's mounts and their propagation: on a shared "/" (systemd's default) a mount made
// inside would appear on the host. Like util-linux unshare --mount, make every mount private
// first (or slave/shared, as asked). The new root, /proc and the mounts follow in
// child_mounts.cc.
void child_setup_mounts(const ChildPlan* plan) {
  if (!plan->new_mount_ns) return;
  if (plan->mount_propagation != 0 && syscall(SYS_mount, "none", "/", nullptr, plan->mount_propagation, nullptr) != 0)
    child_fail(plan, kStageMounts, errno);
}

}  // namespace vircommand
