// Starting a child: pipes, the signal mask, clone(CLONE_VM|CLONE_VFORK) or fork().
// Zone: parent. No N-API.
// SPDX-License-Identifier: MIT
#pragma once

#include <string>
#include <vector>

#include "exec_plan.h"

namespace vircommand {

// What the parent holds after a successful start. Every fd is O_CLOEXEC and >= 3.
struct SpawnedChild {
  pid_t pid = -1;
  int pidfd = -1;
  int stdio_fd[3] = {-1, -1, -1};  // parent ends: stdin write end, stdout/stderr read ends
  int status_fd = -1;  // read end of the status pipe, O_NONBLOCK
  int handshake_ready_fd = -1;  // read: the child writes '1' when it is ready
  int handshake_go_fd = -1;  // write: the parent writes '1' to let it exec
  std::vector<int> send_fds;  // write ends of the send buffers' pipes (O_NONBLOCK), as plan.sends
  bool vforked = false;  // true: the child has exec'd or exited when Spawn returns
  bool announces_exec = false;  // the child reports "about to exec" before execve
};

struct SpawnFailure {
  int stage = 0;
  int err = 0;
  std::string path;  // the file involved, when the parent's own step failed on one (idmap)
  std::string detail;  // a helper's own reason (newuidmap's first stderr line), or empty
  SpawnFailure() = default;
  SpawnFailure(int s, int e) : stage(s), err(e) {}  // SpawnFailure{stage, errno}, as before
};

// Starts the child. On failure nothing is left open and no process remains.
bool Spawn(const ExecPlan& plan, SpawnedChild* child, SpawnFailure* failure);

// Replaces the current process with the plan (no fork). Returns only on failure, with the
// stage and errno; the process may then be half set up (fds closed), as for execve in place.
void ExecInPlace(const ExecPlan& plan, SpawnFailure* failure);

// Low fd slots of the calling thread (see spawn_fds.cc): reserved when the addon loads in an
// environment, so they sit at low numbers; released by its cleanup hook. Spawning works without
// them, only more slowly when the parent has thousands of fds open.
void ReserveFdSlots();
void ReleaseFdSlots();

// Finds out, once per process, whether our clone can run here (clone_probe.h: not under
// qemu-user), so that every spawn takes the fork() path if not. Called when the addon loads, so
// the probe's child is made then rather than inside somebody's first spawn. Not under valgrind,
// whose spawns fork anyway and which would exit at the probe's clone.
void CheckCloneSupport();

// Unmaps the calling thread's child stack (see spawn.cc), if it has one; the next spawn on the
// thread maps a new one. Called by the environment's cleanup hook: a Worker's thread ends with
// its environment, and the thread-local pointer with it.
void ReleaseChildStack();

// Closes fd if >= 0, retrying nothing (close is never retried on Linux), and sets it to -1.
void CloseFd(int* fd);

}  // namespace vircommand
