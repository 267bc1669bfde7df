// New namespaces made at clone time, and the user namespace's id maps written by the parent.
// Zone: parent. No N-API.
// SPDX-License-Identifier: MIT
#pragma once

#include <sys/types.h>

#include "exec_plan.h"
#include "spawn.h"

namespace vircommand {

// The CLONE_NEW* flags of plan.unshare_flags that clone() itself creates, so that the program
// starts inside them (a new pid namespace can only be entered by a new process: unshare() in the
// child would put only the program's own children in it). 0 when `in_place` (fork() for a native
// hook, valgrind, exec() in place): the child then unshares them at step 6, as before.
// CLONE_NEWCGROUP is never made at clone: step 6 joins the cgroup first, then unshares it, so
// the joined group is the namespace's root. CLONE_NEWTIME does not fit clone()'s flags.
int CloneNamespaceFlags(const ExecPlan& plan, bool in_place);

// True when the child must wait for the parent to write its uid_map/gid_map: a new user
// namespace made at clone with maps to write. Such a child gets its own memory (no CLONE_VM,
// no CLONE_VFORK): the parent must run while the child waits.
bool NeedsIdMaps(const ExecPlan& plan, int clone_ns_flags);

// Fills the child plan's namespace fields. clone_ns_flags: what clone() makes (the child
// unshares the rest); idmap_wait_fd: the pipe end the child waits on for the maps, or -1.
void PlanNamespaces(const ExecPlan& plan, int clone_ns_flags, int idmap_wait_fd, ChildPlan* child);

// Parent side, right after clone: writes /proc/<pid>/uid_map, then "deny" to setgroups when we
// may not map groups with setgroups allowed (no CAP_SETGID), then gid_map; then releases the
// child by writing to release_fd. On failure the child is killed and reaped and `failure` names
// stage 'idmap', the errno and the file.
bool WriteIdMapsAndRelease(pid_t pid, const ExecPlan& plan, int release_fd, SpawnFailure* failure);

}  // namespace vircommand
