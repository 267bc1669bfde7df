// What one spawn prepares in the parent before clone: the Scratch that holds every fd and array
// made for it (its destructor closes what was not handed over), and the steps that fill it,
// called by Spawn() and ExecInPlace() (spawn.cc): the fds (spawn_fds.cc) and the ChildPlan
// (build_child_plan.cc).
// Zone: parent. No N-API.
// SPDX-License-Identifier: MIT
#pragma once

#include <vector>

#include "child_plan.h"
#include "exec_plan.h"

namespace vircommand {

// Everything created for one spawn; the destructor closes what was not handed over.
struct Scratch {
  int devnull = -1;
  int status_in_child = -1;  // the status pipe's write end as the child sees it (maybe a slot)
  int slots_used = 0;  // transfer slots pointing at this spawn's fds; reset after clone
  int child_end[3] = {-1, -1, -1};  // pipe ends that become the child's stdio
  int parent_end[3] = {-1, -1, -1};
  int status[2] = {-1, -1};
  int ready[2] = {-1, -1};
  int go[2] = {-1, -1};
  std::vector<int> send_child, send_parent;  // send buffers' pipes: read ends (child), write ends
  std::vector<SendMapping> sends;
  int proc_fd = -1;  // /proc, for the LSM attr files
  int idmap[2] = {-1, -1};  // the parent releases a child in a new user namespace once its maps are written
  std::vector<char*> argv, envp;
  std::vector<const char*> candidates;
  std::vector<int> keep;
  std::vector<MountStep> mounts;
  ChildPlan plan = {};

  ~Scratch();
};

// --- spawn_fds.cc ---

// Moves an fd of ours that landed on 0-2 (the parent had them closed) above 2, so the child's
// stdio mapping cannot clobber it.
bool MoveAboveStdio(int* fd);
// pipe2(O_CLOEXEC), both ends above 2. Sets errno on failure.
bool MakePipe(int fds[2]);
void SetNonblocking(int fd);
// Moves an fd of ours the child still needs after it maps the send buffers off every target
// number (see spawn_fds.cc). Sets errno on failure.
bool AvoidSendTargets(const ExecPlan& plan, int* fd);
// The send buffers' pipes (setSendBuffer), and /proc for the LSM labels. Sets errno on failure.
bool PrepareExtraFds(const ExecPlan& plan, Scratch* s);
// Opens /dev/null and the pipes, fills the child's stdio sources. Sets errno on failure.
bool PrepareStdio(const ExecPlan& plan, Scratch* s);
// Clone path: moves the child's stdio sources and status pipe into the low fd slots.
void UseLowSlots(const ExecPlan& plan, Scratch* s);

// --- build_child_plan.cc ---

// Fills s->plan, the plain struct the child reads, from the ExecPlan and the fds in s.
void BuildChildPlan(const ExecPlan& plan, Scratch* s);

}  // namespace vircommand
