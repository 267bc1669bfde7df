// The probe of CloneRefused(): one clone with the vfork path's flags, of a child that exits.
// Zone: parent. No N-API.
// SPDX-License-Identifier: MIT
#include "clone_probe.h"

#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

namespace vircommand {

namespace {

constexpr int kProbeFlags = 0x00000100 /* CLONE_VM */ | 0x00004000 /* CLONE_VFORK */ | 0x00000400 /* CLONE_FILES */ |
                            0x00001000 /* CLONE_PIDFD */;
constexpr size_t kProbeStackSize = 64 * 1024;

// Runs in the probe child, on the probe stack in our memory: it does nothing, and glibc's
// clone() then exits the child with this result (the exit system call, nothing else).
int ProbeChild(void*) { return 0; }

bool Probe() {
  void* base = mmap(nullptr, kProbeStackSize, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_STACK, -1, 0);
  // No stack to probe with: assume the clone is allowed; each spawn reports its own failure.
  if (base == MAP_FAILED) return false;
  // As in Spawn(): no handler of ours may run in a child that shares our memory.
  sigset_t all, old;
  sigfillset(&all);
  pthread_sigmask(SIG_SETMASK, &all, &old);
  int pidfd = -1;
  pid_t pid = clone(ProbeChild, static_cast<char*>(base) + kProbeStackSize, kProbeFlags | SIGCHLD, nullptr, &pidfd);
  const int err = errno;
  pthread_sigmask(SIG_SETMASK, &old, nullptr);
  if (pid > 0) {
    // CLONE_VFORK: the child has exited by now; reap exactly it.
    while (waitpid(pid, nullptr, 0) < 0 && errno == EINTR) {
    }
    if (pidfd >= 0) close(pidfd);
  }
  munmap(base, kProbeStackSize);
  return pid < 0 && err == EINVAL;
}

}  // namespace

bool CloneRefused() {
  static const bool refused = Probe();  // once per process, thread-safe (a C++11 static)
  return refused;
}

}  // namespace vircommand
