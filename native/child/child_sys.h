// Raw system-call shims for the child zone.
// CHILD ZONE: runs between clone()/fork() and execve(). Rules:
//  - async-signal-safe only: raw syscall(2) or functions on the POSIX async-signal-safe list;
//  - no allocation, no C++ runtime, no exceptions, no locks, no logging, no N-API;
//  - glibc's set*id wrappers are forbidden: in a CLONE_VM child they would signal every thread of
//    the parent (they broadcast to what glibc thinks is "our" process). Use the raw syscalls.
// scripts/check-child-symbols.js checks the undefined symbols of these objects against an
// allow-list.
// SPDX-License-Identifier: MIT
#pragma once

#include <errno.h>
#include <stdint.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "../core/child_plan.h"

namespace vircommand {

// Reports (stage, errno, value) on the status pipe and _exit()s with the env(1) code. Defined in
// child_exec.cc; it first removes a pidfile this daemon wrote (child_remove_pidfile).
[[noreturn]] void child_fail(const ChildPlan* plan, int stage, int err, int64_t value = 0);

// async-signal-safe: write(2) retried on EINTR and short writes.
inline bool child_write_all(int fd, const void* data, size_t len) {
  const char* p = static_cast<const char*>(data);
  while (len > 0) {
    ssize_t n = write(fd, p, len);
    if (n < 0) {
      if (errno == EINTR) continue;
      return false;
    }
    p += n;
    len -= static_cast<size_t>(n);
  }
  return true;
}

// async-signal-safe: formats v in decimal into buf (at least 21 bytes); returns the length.
inline int child_format_decimal(uint64_t v, char* buf) {
  char tmp[24];
  int n = 0;
  do {
    tmp[n++] = static_cast<char>('0' + v % 10);
    v /= 10;
  } while (v != 0);
  for (int i = 0; i < n; i++) buf[i] = tmp[n - 1 - i];
  return n;
}

// Static tables of child_errno.cc, for exec()'s failure line: "ENOENT", "No such file or
// directory", "RLIMIT_NOFILE"; nullptr for a number they do not know.
const char* child_errno_name(int err);
const char* child_errno_text(int err);
const char* child_rlimit_name(int64_t resource);

// The steps, each in its own file. Each returns only on success; a failure calls child_fail.
void child_reset_signals(const ChildPlan* plan);
void child_unshare_fds(const ChildPlan* plan);
void child_map_stdio(const ChildPlan* plan);
void child_close_fds(const ChildPlan* plan);
void child_daemonize(const ChildPlan* plan);
int child_write_pidfile(const ChildPlan* plan);  // the locked fd, kept across execve
void child_remove_pidfile();
void child_set_rlimits(const ChildPlan* plan);
void child_declarative_steps(const ChildPlan* plan);
void child_wait_id_maps(const ChildPlan* plan);  // child_ns.cc, part of step 6
void child_setup_mounts(const ChildPlan* plan);  // child_ns.cc, part of step 6
void child_setup_root(const ChildPlan* plan);  // child_mounts.cc, part of step 6
void child_set_uts_names(const ChildPlan* plan);  // child_uts.cc, part of step 6
void child_run_hook(const ChildPlan* plan);
void child_set_scheduling(const ChildPlan* plan);
void child_set_exec_labels(const ChildPlan* plan);
void child_map_send_buffers(const ChildPlan* plan);
void child_set_credentials(const ChildPlan* plan);
void child_set_capabilities(const ChildPlan* plan);
void child_set_parent_death_signal(const ChildPlan* plan);
void child_handshake(const ChildPlan* plan);
void child_unblock_signals(const ChildPlan* plan);
void child_install_seccomp(const ChildPlan* plan);  // child_seccomp.cc, step 17
[[noreturn]] void child_execve(const ChildPlan* plan);

}  // namespace vircommand
