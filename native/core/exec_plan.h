// The parent-side plan: owning storage for everything the child needs. build_child_plan.cc turns
// it into a ChildPlan of plain pointers just before clone().
// Zone: parent. No N-API here (glue/plan_from_js.cc and its parts fill it).
// SPDX-License-Identifier: MIT
#pragma once

#include <stdint.h>
#include <sys/types.h>

#include <string>
#include <vector>

#include "child_plan.h"
#include "mount_plan.h"

namespace vircommand {

enum class StdioKind { kNull, kFd, kPipe, kCapture, kBuffer, kSameAsStdout };

struct StdioSpec {
  StdioKind kind = StdioKind::kNull;
  int fd = -1;  // kFd
  size_t max_buffer = 0;  // kCapture: 0 is unlimited
  // kBuffer (stdin): borrowed, not copied again (it may be large). It points into the command's
  // private copy (src/validate.ts toPrivateBytes), a Buffer no caller can reach, change or
  // detach; the glue holds the plan, and so that Buffer, until the run ends.
  const uint8_t* data = nullptr;
  size_t data_len = 0;
};

// setSendBuffer(): `data` is fed through a pipe whose read end the child gets as fd `target`.
// Borrowed like stdin's data: the command's private copy, held by the glue until the run ends.
struct SendBuffer {
  int target = -1;
  const uint8_t* data = nullptr;
  size_t len = 0;
};

struct ExecPlan {
  std::vector<std::string> argv;
  std::vector<std::string> candidates;
  std::vector<std::string> env;  // always the entries: native never reads environ
  bool has_cwd = false;
  std::string cwd;
  int umask = -1;
  StdioSpec stdio[3];
  bool nonblocking = false;
  std::vector<int> pass_fds;
  std::vector<int> blocking_fds;  // passed fds made blocking in the child (PASS_FD_BLOCKING)
  std::vector<SendBuffer> sends;

  int64_t uid = -1;
  int64_t gid = -1;
  bool set_groups = false;
  std::vector<gid_t> groups;
  bool clear_caps = false;
  uint64_t keep_caps = 0;
  std::vector<RlimitStep> rlimits;
  bool no_new_privs = false;
  int pdeathsig = 0;
  bool setsid = false;
  int pgid = -1;
  bool has_nice = false;
  int nice = 0;
  std::vector<NamespaceStep> namespaces;
  int unshare_flags = 0;
  std::string cgroup_procs;  // empty: none
  int cgroup_fd = -1;  // a cgroup directory fd, or -1
  std::string chroot_dir;  // empty: none
  PreExecHook hook = nullptr;
  std::vector<uint8_t> hook_data;
  std::string hook_library;  // as given, for messages
  std::vector<uint64_t> cpu_mask;  // empty: affinity unchanged
  int mempolicy_mode = -1;  // -1: unchanged
  std::vector<unsigned long> mem_nodes;  // nodemask words
  unsigned long mem_maxnode = 0;
  int sched_core = kSchedCoreNone;
  pid_t sched_core_pid = 0;
  bool has_selinux_label = false;
  std::string selinux_label;
  bool has_apparmor_profile = false;
  std::string apparmor_exec;  // "exec <profile>"
  bool handshake = false;
  bool daemonize = false;
  std::string pidfile;  // empty: none
  // New namespaces (unshare_flags): the user namespace's maps, in the kernel's format ("inside
  // outside count" lines; empty: not written), and the new mount namespace's setup.
  std::string uid_map;
  std::string gid_map;
  unsigned long mount_propagation = 0x4000 | 0x40000;  // MS_REC | MS_PRIVATE
  bool mount_proc = false;
  MountSetup mount_setup;  // pivotRoot(), addMount() (core/mount_plan.h)
  // newuidmap/newgidmap paths when the maps name more than the caller's own id and it lacks
  // CAP_SETUID/CAP_SETGID (src/ decides); empty: the parent writes the map itself.
  std::string uid_map_helper;
  std::string gid_map_helper;
  // setHostname()/setDomainname() in the new uts namespace, and setSeccompFilter(): owned copies.
  bool has_hostname = false;
  std::string hostname;
  bool has_domainname = false;
  std::string domainname;
  std::vector<uint8_t> seccomp_filter;  // empty: none; a multiple of 8 bytes (struct sock_filter)

  // Milliseconds, 64-bit: JavaScript allows up to 2^53-1 (an int wrapped 2^31 to a negative
  // grace, which meant an immediate SIGKILL). See MillisFromJs in glue/plan_from_js.cc.
  int64_t timeout_ms = 0;
  int64_t kill_grace_ms = 100;
  int64_t drain_ms = 200;
};

}  // namespace vircommand
