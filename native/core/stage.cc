// Names of the spawn stages, as JavaScript sees them in CommandError.stage.
// Zone: parent.
// SPDX-License-Identifier: MIT
#include "stage.h"

namespace vircommand {

static const char* const kStageNames[kStageCount] = {
    "none",      "pipe",       "fork",      "idmap",     "signals", "stdio",    "close-fds", "daemon",
    "pidfile",   "rlimit",     "setsid",    "setpgid",   "nice",    "cgroup",   "namespace", "unshare",
    "mounts",    "pivot_root", "chroot",    "proc",      "mount",   "hostname", "hook",      "affinity",
    "mempolicy", "sched-core", "setgroups", "setgid",    "setuid",  "caps",     "pdeathsig", "no-new-privs",
    "chdir",     "selinux",    "apparmor",  "handshake", "sigmask", "seccomp",  "exec",      "wait"};

const char* StageName(int stage) {
  if (stage < 0 || stage >= kStageCount) return "unknown";
  return kStageNames[stage];
}

}  // namespace vircommand
