// Daemonize: fork, then setsid and chdir("/") in the daemon, which writes its pidfile
// (child_pidfile.cc) before the intermediate exits.
// CHILD ZONE: runs between clone()/fork() and execve(); rules in child_sys.h.
// SPDX-License-Identifier: MIT
#include <fcntl.h>
#include <signal.h>

#include "../core/stage.h"
#include "child_sys.h"

namespace vircommand {

// async-signal-safe: setsid, chdir, pipe2, clone (raw fork), read, write; child_write_pidfile.
void child_daemonize(const ChildPlan* plan) {
  if (!plan->daemonize) return;
  int sync[2];
  if (syscall(SYS_pipe2, sync, O_CLOEXEC) != 0) child_fail(plan, kStageDaemon, errno);
  // A raw fork: glibc's fork() runs atfork handlers and takes locks, which this child (sharing
  // memory with the parent under CLONE_VM) must not. The grandchild gets its own copy of memory.
  long pid = syscall(SYS_clone, SIGCHLD, 0, nullptr, nullptr, 0);
  if (pid < 0) child_fail(plan, kStageDaemon, errno);
  if (pid > 0) {
    // The intermediate: wait until the grandchild has written the pidfile (or died), then exit.
    // The parent is released when we exit, so the pidfile is complete before run() returns.
    close(sync[1]);
    char byte = 0;
    ssize_t n;
    do {
      n = read(sync[0], &byte, 1);
    } while (n < 0 && errno == EINTR);
    _exit(n == 1 ? 0 : 125);
  }
  close(sync[0]);
  // The daemon itself becomes the session (and group) leader: a new session has no controlling
  // terminal, and it cannot be a group leader already (its group is the intermediate's).
  if (syscall(SYS_setsid) < 0) child_fail(plan, kStageDaemon, errno);
  if (chdir("/") != 0) child_fail(plan, kStageDaemon, errno);
  if (plan->pidfile != nullptr) child_write_pidfile(plan);
  char done = '1';
  child_write_all(sync[1], &done, 1);
  close(sync[1]);
}

}  // namespace vircommand
