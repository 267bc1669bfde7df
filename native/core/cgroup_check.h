// joinCgroup()'s directory must be a cgroup: checked in the parent before clone.
// Zone: parent. No N-API.
// SPDX-License-Identifier: MIT
#pragma once

#include "exec_plan.h"

namespace vircommand {

// EINVAL when the cgroup directory of the plan (plan.cgroup_procs' directory or plan.cgroup_fd)
// is on a file system that is neither cgroup2 nor a cgroup v1 hierarchy (statfs): a plain
// directory holding a file named cgroup.procs would otherwise get "0" written over that file's
// first byte. 0 when it is a cgroup, when no cgroup is asked for, or when statfs itself fails
// (the child's own open then reports why, at stage 'cgroup', as before).
int CgroupDirError(const ExecPlan& plan);

}  // namespace vircommand
