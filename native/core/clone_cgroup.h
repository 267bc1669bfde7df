// Starting the child directly inside its cgroup: clone3(CLONE_INTO_CGROUP) (Linux 5.7).
// Zone: parent. No N-API.
// SPDX-License-Identifier: MIT
#pragma once

#include <stddef.h>
#include <sys/types.h>

#include "exec_plan.h"

namespace vircommand {

constexpr pid_t kNotCloned = -2;

// joinCgroup() without a child write to cgroup.procs: clones with `flags` (CLONE_* bits, the
// exit signal is SIGCHLD) on the stack [stack_top - stack_size, stack_top) into the cgroup v2
// directory of plan.cgroup_procs / plan.cgroup_fd, running child_clone_entry(child). The child
// then starts in the cgroup, so it never runs a moment outside it, and the child's step 6 has
// nothing to write (its cgroup fields are cleared for this clone).
// Returns the pid, or kNotCloned when this way was not taken or failed for any reason (no
// cgroup asked for, an architecture without our clone3 entry, a kernel without clone3 or
// CLONE_INTO_CGROUP, a cgroup v1 directory, a refusal): the caller then clones as before and
// the child writes cgroup.procs itself, reporting any failure at stage 'cgroup'.
pid_t CloneIntoCgroup(const ExecPlan& plan, int flags, void* stack_top, size_t stack_size, ChildPlan* child,
                      int* pidfd);

}  // namespace vircommand
