// The ChildPlan: the plain struct the child reads between clone and execve (child_plan.h),
// filled in the parent from the ExecPlan and the fds this spawn made (spawn_scratch.h), so the
// child allocates nothing and looks nothing up.
// Zone: parent. No N-API.
// SPDX-License-Identifier: MIT
#include <fcntl.h>
#include <stdlib.h>
#include <unistd.h>

#include <algorithm>

#include "clone_ns.h"
#include "mount_plan.h"
#include "spawn_scratch.h"

namespace vircommand {

namespace {

int CapLastCap() {
  static int cached = -1;
  if (cached >= 0) return cached;
  int value = 40;
  int fd = open("/proc/sys/kernel/cap_last_cap", O_RDONLY | O_CLOEXEC);
  if (fd >= 0) {
    char buf[16] = {};
    if (read(fd, buf, sizeof buf - 1) > 0) value = atoi(buf);
    close(fd);
  }
  cached = value;
  return value;
}

}  // namespace

void BuildChildPlan(const ExecPlan& plan, Scratch* s) {
  ChildPlan& c = s->plan;
  for (const std::string& a : plan.argv) s->argv.push_back(const_cast<char*>(a.c_str()));
  s->argv.push_back(nullptr);
  // The plan always holds the entries (an inherited environment was read from process.env, under
  // Node's lock): environ is never read here, where another thread may be changing it.
  for (const std::string& e : plan.env) s->envp.push_back(const_cast<char*>(e.c_str()));
  s->envp.push_back(nullptr);
  for (const std::string& p : plan.candidates) s->candidates.push_back(p.c_str());
  c.argv = s->argv.data();
  c.envp = s->envp.data();
  c.candidates = s->candidates.data();
  c.ncandidates = static_cast<int>(s->candidates.size());

  s->keep = {0, 1, 2};
  for (int fd : plan.pass_fds) s->keep.push_back(fd);
  for (int fd : {s->status_in_child, s->ready[1], s->go[0], s->idmap[0]})
    if (fd >= 0) s->keep.push_back(fd);
  for (const NamespaceStep& ns : plan.namespaces) s->keep.push_back(ns.fd);
  if (plan.cgroup_fd >= 0) s->keep.push_back(plan.cgroup_fd);
  for (const SendMapping& m : s->sends) s->keep.push_back(m.target);
  if (s->proc_fd >= 0) s->keep.push_back(s->proc_fd);
  std::sort(s->keep.begin(), s->keep.end());
  s->keep.erase(std::unique(s->keep.begin(), s->keep.end()), s->keep.end());
  c.highest_needed_fd = s->keep.back();
  for (int fd : c.stdio_src) c.highest_needed_fd = fd > c.highest_needed_fd ? fd : c.highest_needed_fd;
  for (const SendMapping& m : s->sends) c.highest_needed_fd = m.src > c.highest_needed_fd ? m.src : c.highest_needed_fd;
  c.sends = s->sends.data();
  c.nsends = static_cast<int>(s->sends.size());
  c.keep_fds = s->keep.data();
  c.nkeep = static_cast<int>(s->keep.size());
  c.pass_fds = plan.pass_fds.data();
  c.npass = static_cast<int>(plan.pass_fds.size());
  c.blocking_fds = plan.blocking_fds.data();
  c.nblocking = static_cast<int>(plan.blocking_fds.size());
  c.status_fd = s->status_in_child;

  c.daemonize = plan.daemonize;
  c.pidfile = plan.pidfile.empty() ? nullptr : plan.pidfile.c_str();
  c.rlimits = plan.rlimits.data();
  c.nrlimits = static_cast<int>(plan.rlimits.size());
  c.umask = plan.umask;
  c.setsid = plan.setsid;
  c.pgid = plan.pgid;
  c.has_nice = plan.has_nice;
  c.nice = plan.nice;
  c.cgroup_procs = plan.cgroup_procs.empty() ? nullptr : plan.cgroup_procs.c_str();
  c.cgroup_fd = plan.cgroup_fd;
  c.namespaces = plan.namespaces.data();
  c.nnamespaces = static_cast<int>(plan.namespaces.size());
  PlanNamespaces(plan, 0, -1, &c);  // all unshared in the child; Spawn() may move some to clone
  c.chroot_dir = plan.chroot_dir.empty() ? nullptr : plan.chroot_dir.c_str();
  PlanMounts(plan.mount_setup, &s->mounts, &c);
  c.hook = plan.hook;
  c.hook_data = const_cast<uint8_t*>(plan.hook_data.data());
  c.hook_library = plan.hook_library.empty() ? nullptr : plan.hook_library.c_str();
  c.cpu_mask = plan.cpu_mask.empty() ? nullptr : plan.cpu_mask.data();
  c.cpu_mask_bytes = plan.cpu_mask.size() * sizeof(uint64_t);
  c.mempolicy_mode = plan.mempolicy_mode;
  c.mem_nodes = plan.mem_nodes.empty() ? nullptr : plan.mem_nodes.data();
  c.mem_maxnode = plan.mem_maxnode;
  c.sched_core = plan.sched_core;
  c.sched_core_pid = plan.sched_core_pid;
  c.proc_fd = s->proc_fd;
  c.selinux_label = plan.has_selinux_label ? plan.selinux_label.c_str() : nullptr;
  c.apparmor_exec = plan.has_apparmor_profile ? plan.apparmor_exec.c_str() : nullptr;
  c.set_groups = plan.set_groups;
  c.groups = plan.groups.data();
  c.ngroups = static_cast<int>(plan.groups.size());
  c.uid = plan.uid;
  c.gid = plan.gid;
  c.clear_caps = plan.clear_caps;
  c.keep_caps = plan.keep_caps;
  c.cap_last_cap = CapLastCap();
  c.pdeathsig = plan.pdeathsig;
  c.parent_pid = getpid();
  c.no_new_privs = plan.no_new_privs;
  c.cwd = plan.has_cwd ? plan.cwd.c_str() : nullptr;
  c.handshake_write_fd = s->ready[1];
  c.handshake_read_fd = s->go[0];
  c.hostname = plan.has_hostname ? plan.hostname.data() : nullptr;
  c.hostname_len = plan.hostname.size();
  c.domainname = plan.has_domainname ? plan.domainname.data() : nullptr;
  c.domainname_len = plan.domainname.size();
  c.seccomp_filter = plan.seccomp_filter.empty() ? nullptr : plan.seccomp_filter.data();
  c.seccomp_len = static_cast<unsigned short>(plan.seccomp_filter.size() / 8);
}

}  // namespace vircommand
