// The stages of spawning a child, in the order the child runs them. A failure report names one.
// Zone: shared by parent and child; plain data only.
// SPDX-License-Identifier: MIT
#pragma once

namespace vircommand {

// Keep in step with kStageNames in stage.cc. The child-side order is written once, in
// child/child_exec.cc; this enum only names the steps.
enum Stage : int {
  kStageNone = 0,
  kStagePipe,  // parent: creating pipes or opening /dev/null
  kStageFork,  // parent: clone/fork failed
  kStageIdmap,  // parent: writing the new user namespace's uid_map/setgroups/gid_map
  kStageSignals,  // child 1: reset dispositions
  kStageStdio,  // child 2: map stdin/stdout/stderr
  kStageCloseFds,  // child 3: close every fd not kept
  kStageDaemon,  // child 4: setsid, chdir("/"), second fork
  kStagePidfile,  // child 4: open, lock and write the pidfile
  kStageRlimit,  // child 5
  kStageSetsid,  // child 6: declarative steps...
  kStageSetpgid,
  kStageNice,
  kStageCgroup,
  kStageNamespace,
  kStageUnshare,
  kStageMounts,  // child 6: mount propagation of a new mount namespace (private by default)
  kStagePivotRoot,  // child 6: the new root by pivot_root(2) (pivotRoot), the old root detached
  kStageChroot,
  kStageProc,  // child 6: a new proc mounted on /proc (remountProc), inside the new root
  kStageMount,  // child 6: addMount()'s mounts, in order (the value is the mount's index)
  kStageHostname,  // child 6: host and domain name in the new uts namespace
  kStageHook,  // child 7: the native hook
  kStageAffinity,  // child 8: scheduling...
  kStageMempolicy,
  kStageSchedCore,
  kStageSetgroups,  // child 9: credentials
  kStageSetgid,
  kStageSetuid,
  kStageCaps,  // child 10
  kStagePdeathsig,  // child 11
  kStageNoNewPrivs,  // child 12
  kStageChdir,  // child 13
  kStageSelinux,  // child 14: LSM exec labels
  kStageApparmor,
  kStageHandshake,  // child 15
  kStageSigmask,  // child 16
  kStageSeccomp,  // child 17: the seccomp filter
  kStageExec,  // child 18
  kStageWait,  // parent: waitpid failed (e.g. SIGCHLD ignored)
  kStageCount
};

const char* StageName(int stage);

}  // namespace vircommand
