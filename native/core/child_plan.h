// The read-only plan the child zone executes: plain pointers into memory the parent built and
// keeps alive until the child has exec'd or exited. Nothing here allocates.
// Zone: shared by parent (builds it) and child (reads it).
// SPDX-License-Identifier: MIT
#pragma once

#include <stdint.h>
#include <sys/types.h>

namespace vircommand {

// What the child writes to the status pipe when a step fails. EOF on that pipe with no record
// means execve succeeded. 24 bytes: one write, atomic (< PIPE_BUF).
struct ChildReport {
  uint32_t magic;  // kReportMagic
  int32_t stage;  // Stage
  int32_t err;  // errno of the failed call (or 0)
  int32_t pad;
  int64_t value;  // stage-specific: the hook's return value, the pid holding a pidfile lock,
                  // the index of the exec candidate
};
constexpr uint32_t kReportMagic = 0x76434d44;  // "vCMD"

struct RlimitStep {
  int resource;
  uint64_t soft;  // RLIM_INFINITY is ~0
  uint64_t hard;
};

struct NamespaceStep {
  int fd;
  int type;  // CLONE_NEW*
};

// One step of the new root's setup (pivotRoot, addMount; child/child_mounts.cc). Every string
// is built by the parent as the child must pass it to the kernel at that point (a bind's source
// already under the old root's mount point after pivot_root, say).
constexpr int kMountStepMount = 0;  // mount(source, target, fstype, flags, data)
constexpr int kMountStepSymlink = 1;  // symlink(source, target): the minimal /dev's links
constexpr int kMountCreateNone = 0;
constexpr int kMountCreateDir = 1;  // mkdir(target) when missing
constexpr int kMountCreateFile = 2;  // an empty file at target when missing (a file's bind)
struct MountStep {
  int kind;  // kMountStep*
  int create;  // kMountCreate*
  const char* source;  // may be null (tmpfs, proc, ...)
  const char* target;
  const char* fstype;  // may be null (bind)
  unsigned long flags;  // mount(2) flags
  const char* data;  // mount options ("size=1m,mode=755"), or null
  bool readonly;  // a bind: remounted MS_RDONLY afterwards
  int index;  // the addMount() call it belongs to, reported as the failure's value
  // The fs ids (as seen in the new user namespace) a forked helper takes to make this step and
  // the next ones of the same index, the caller's own ids being unmapped there; -1: ours
  // (child_mounts.cc, run_as_mapped_ids).
  int64_t as_uid;
  int64_t as_gid;
};

typedef int (*PreExecHook)(void* opaque);

// Core scheduling (ChildPlan::sched_core).
constexpr int kSchedCoreNone = 0;
constexpr int kSchedCoreAlone = 1;  // a new cookie for the child (virCommandSetRunAlone)
constexpr int kSchedCoreAmong = 2;  // the cookie of sched_core_pid (virCommandSetRunAmong)

// A send buffer's pipe: its read end (send_src) becomes fd `target` in the child.
struct SendMapping {
  int src;
  int target;
};

struct ChildPlan {
  char* const* argv;
  char* const* envp;  // never null: the plan's entries (native never reads environ)
  const char* const* candidates;  // execve paths, tried in order
  int ncandidates;

  int stdio_src[3];  // fds to become 0, 1, 2 (already open in the parent)
  const int* keep_fds;  // sorted, unique, includes 0, 1, 2: everything else is closed
  int nkeep;
  const int* pass_fds;  // subset of keep_fds whose FD_CLOEXEC is cleared
  int npass;
  const int* blocking_fds;  // subset of pass_fds whose O_NONBLOCK is cleared (PASS_FD_BLOCKING)
  int nblocking;
  int status_fd;  // write end of the status pipe (O_CLOEXEC), -1 for exec in place
  bool shared_fd_table;  // cloned with CLONE_FILES: the child must unshare before any dup2
  int highest_needed_fd;  // the highest kept fd or stdio source: what unsharing must copy
  const SendMapping* sends;  // send buffers: dup2(src, target) after stdio (targets are kept)
  int nsends;

  bool daemonize;
  const char* pidfile;  // null: none; absolute (src/ resolves it), walked by the daemon

  const RlimitStep* rlimits;
  int nrlimits;
  int umask;  // -1: unchanged

  bool setsid;
  int pgid;  // -1: unchanged
  bool has_nice;
  int nice;
  const char* cgroup_procs;  // "<cgroup dir>/cgroup.procs", or null
  int cgroup_fd;  // a cgroup directory fd (cgroup.procs opened relative to it), or -1
  const NamespaceStep* namespaces;
  int nnamespaces;
  int unshare_flags;
  const char* chroot_dir;
  PreExecHook hook;
  void* hook_data;
  const char* hook_library;  // the library's path, only for exec()'s failure line (or null)

  const uint64_t* cpu_mask;  // sched_setaffinity mask, or null
  size_t cpu_mask_bytes;  // 0: affinity unchanged
  int mempolicy_mode;  // set_mempolicy mode (MPOL_*), -1: unchanged
  const unsigned long* mem_nodes;  // its nodemask (may be null for MPOL_DEFAULT/MPOL_LOCAL)
  unsigned long mem_maxnode;
  int sched_core;  // kSchedCore*
  pid_t sched_core_pid;  // kSchedCoreAmong: whose cookie

  bool set_groups;
  const gid_t* groups;
  int ngroups;
  int64_t uid;  // -1: unchanged
  int64_t gid;
  bool clear_caps;
  uint64_t keep_caps;
  int cap_last_cap;

  int pdeathsig;  // 0: none
  pid_t parent_pid;  // to notice a parent that died before PR_SET_PDEATHSIG
  bool no_new_privs;
  const char* cwd;
  int proc_fd;  // a /proc directory fd for the LSM attr files, -1: none
  const char* selinux_label;  // SELinux exec context, or null
  const char* apparmor_exec;  // "exec <profile>" for AppArmor, or null

  bool announce_exec;  // fork() path: report "about to exec" (stage none) just before execve,
                       // so a death by signal before it is known to be pre-exec
  int handshake_write_fd;  // child -> parent "ready", -1: no handshake
  int handshake_read_fd;  // parent -> child "go"

  // New namespaces (core/clone_ns.cc fills these; child/child_ns.cc acts on them at step 6).
  int clone_ns_flags;  // CLONE_NEW* made by clone(): the child starts in them
                       // (unshare_flags then holds only the rest)
  int idmap_wait_fd;  // read end: the parent writes one byte once uid_map/gid_map are
                      // written; -1: nothing to wait for
  bool new_mount_ns;  // a new mount namespace, at clone or by unshare
  unsigned long mount_propagation;  // mount(2) flags applied to "/" in it (MS_REC | MS_PRIVATE
                                    // by default); 0: left as inherited
  bool mount_proc;  // mount a new proc on /proc in it (remountProc)
  bool proc_private;  // make /proc private (MS_REC | MS_PRIVATE) before that mount: the
                      // tree was left shared (setMountPropagation 'shared'/'unchanged')
  // The new root (child/child_mounts.cc): pivot_root(2) into pivot_root, the old root parked on
  // pivot_old (relative to the new root) and detached once the mounts are made.
  const char* pivot_root;  // absolute, or null
  const char* pivot_old;  // "name" inside the new root, for pivot_root(".", name)
  const char* pivot_old_abs;  // "/name": what is unmounted and removed afterwards
  const MountStep* mounts;  // addMount(), in order, after the root change and /proc
  int nmounts;

  // The new uts namespace's names (child_uts.cc, step 6): null: unchanged. Not NUL-terminated
  // for the kernel: sethostname/setdomainname take a length.
  const char* hostname;
  size_t hostname_len;
  const char* domainname;
  size_t domainname_len;
  // A classic BPF seccomp program (struct sock_filter[], child_seccomp.cc, step 17): null: none.
  const void* seccomp_filter;
  unsigned short seccomp_len;  // in instructions (1..4096)
};

// The child's entry point: runs every step in order and execs. Never returns.
[[noreturn]] void child_exec(const ChildPlan* plan);

// The same, as the function clone() starts: arg is the ChildPlan.
int child_clone_entry(void* arg);

}  // namespace vircommand
