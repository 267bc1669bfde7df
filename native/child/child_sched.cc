// Scheduling before exec: CPU affinity, the NUMA memory policy and core scheduling
// (libvirt's virCommandSetRunAlone / SetRunAmong).
// CHILD ZONE: runs between clone()/fork() and execve(); rules in child_sys.h.
// SPDX-License-Identifier: MIT
#include "../core/stage.h"
#include "child_sys.h"

namespace vircommand {

namespace {
// <linux/prctl.h> and <linux/pid.h> values, spelled out: the child zone includes no headers
// it does not need, and older headers lack them.
constexpr int kPrSchedCore = 62;
constexpr int kPrSchedCoreCreate = 1;
constexpr int kPrSchedCoreShareFrom = 3;
constexpr int kPidtypePid = 0;
constexpr int kPidtypeTgid = 1;
}  // namespace

// async-signal-safe: sched_setaffinity, set_mempolicy, prctl via syscall(2). Each acts on the
// calling task only, so in the CLONE_VM child the parent's threads are untouched.
void child_set_scheduling(const ChildPlan* plan) {
  if (plan->cpu_mask_bytes > 0 && syscall(SYS_sched_setaffinity, 0, plan->cpu_mask_bytes, plan->cpu_mask) != 0)
    child_fail(plan, kStageAffinity, errno);
  if (plan->mempolicy_mode >= 0 &&
      syscall(SYS_set_mempolicy, plan->mempolicy_mode, plan->mem_nodes, plan->mem_maxnode) != 0)
    child_fail(plan, kStageMempolicy, errno, plan->mempolicy_mode);
  // Core scheduling: before the uid change, because sharing another process's cookie needs
  // ptrace access to it (libvirt does it there too). Without CONFIG_SCHED_CORE the kernel
  // answers EINVAL.
  if (plan->sched_core == kSchedCoreAlone &&
      syscall(SYS_prctl, kPrSchedCore, kPrSchedCoreCreate, 0, kPidtypeTgid, 0) != 0)
    child_fail(plan, kStageSchedCore, errno);
  if (plan->sched_core == kSchedCoreAmong &&
      syscall(SYS_prctl, kPrSchedCore, kPrSchedCoreShareFrom, plan->sched_core_pid, kPidtypePid, 0) != 0)
    child_fail(plan, kStageSchedCore, errno, plan->sched_core_pid);
}

}  // namespace vircommand
