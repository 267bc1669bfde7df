// Starting a child: the parent half. Builds the ChildPlan, makes the pipes, blocks signals and
// clones. The normal path is clone(CLONE_VM | CLONE_VFORK) on a stack of our own, so the cost
// does not grow with the parent's heap (no page tables are copied). A native hook or a handshake
// needs the child to outlive this call before exec, which vfork cannot allow (the parent thread
// stays suspended until exec): those use fork(), and so does every spawn under valgrind, which
// cannot emulate that clone (see RunningUnderValgrind), and under qemu-user, which refuses it
// (see CloneRefused).
// Zone: parent. No N-API.
// SPDX-License-Identifier: MIT
#include "spawn.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>

#include "cgroup_check.h"
#include "clone_cgroup.h"
#include "clone_ns.h"
#include "clone_probe.h"
#include "stage.h"

// valgrind's header is optional: without it the addon never takes the valgrind path.
#if defined(__has_include)
#if __has_include(<valgrind/valgrind.h>)
#include <valgrind/valgrind.h>
#define VIRCOMMAND_HAVE_VALGRIND_H 1
#endif
#endif

namespace vircommand {

namespace {

constexpr int kCloneVm = 0x00000100;
constexpr int kCloneVfork = 0x00004000;
constexpr int kClonePidfd = 0x00001000;
constexpr int kCloneFiles = 0x00000400;
constexpr size_t kChildStackSize = 256 * 1024;

// One child stack per thread, reused: the vfork parent thread is suspended while the child uses
// it, so two spawns on one thread never overlap. Workers each get their own, unmapped by the
// environment's cleanup hook (ReleaseChildStack).
thread_local void* t_stack_base = nullptr;

void* ChildStackTop() {
  if (t_stack_base == nullptr) {
    void* p = mmap(nullptr, kChildStackSize, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_STACK, -1, 0);
    if (p == MAP_FAILED) return nullptr;
    mprotect(p, 4096, PROT_NONE);  // guard page: an overflow faults instead of corrupting memory
    t_stack_base = p;
  }
  return static_cast<char*>(t_stack_base) + kChildStackSize;
}

}  // namespace

// No child runs on the stack once Spawn() has returned: a CLONE_VM | CLONE_VFORK child has
// exec'd or exited by then (its parent thread was suspended until it did), and every other
// clone, a handshake's or a daemon's included, runs on its own copy of the pages.
void ReleaseChildStack() {
  if (t_stack_base == nullptr) return;
  munmap(t_stack_base, kChildStackSize);
  t_stack_base = nullptr;
}

namespace {

// valgrind supports clone() only as a thread or as plain fork/vfork; ours (CLONE_VM | CLONE_VFORK |
// CLONE_FILES | CLONE_PIDFD on our own stack) makes it print "Unsupported clone() flags" and exit.
// Under valgrind we therefore take the fork() path, so memcheck (npm run test:valgrind) can run
// the addon at all. RUNNING_ON_VALGRIND is a few no-op instructions outside valgrind.
bool RunningUnderValgrind() {
#ifdef VIRCOMMAND_HAVE_VALGRIND_H
  static const bool under = RUNNING_ON_VALGRIND != 0;
  return under;
#else
  return false;
#endif
}

// Where our clone cannot run (valgrind, qemu-user), every spawn forks instead.
bool ForkOnly() { return RunningUnderValgrind() || CloneRefused(); }

// Low fd slots. On the clone path the child starts on the parent's fd table (CLONE_FILES) and
// unshares it copying every fd up to the highest one it needs (child_unshare_fds): that copy,
// and closing it again, costs time per fd. Pipes made at spawn time get the lowest free numbers,
// which in a parent with 10,000 open fds are above all of them, so each spawn copied the whole
// table. Instead, a few fds are reserved per thread while numbers are still low (when the addon
// loads): one holds /dev/null for good, the others hold /dev/null between spawns and, during
// one, a dup of what the child needs (its stdio sources, the status pipe). They are ours alone,
// so dup3() onto them cannot hit anyone else's fd, and they are O_CLOEXEC, so no program
// inherits them. thread_local: a Worker spawns on its own thread with its own slots.
constexpr int kTransferSlots = 4;  // stdin, stdout, stderr sources and the status pipe
struct FdSlots {
  int devnull = -1;
  int transfer[kTransferSlots] = {-1, -1, -1, -1};
  int highest = -1;
};
thread_local FdSlots t_slots;

// Moves an fd of ours that landed on 0-2 (the parent had them closed) above 2, so the child's
// stdio mapping cannot clobber it.
bool MoveAboveStdio(int* fd) {
  if (*fd < 0 || *fd > 2) return true;
  int moved = fcntl(*fd, F_DUPFD_CLOEXEC, 3);
  if (moved < 0) return false;
  close(*fd);
  *fd = moved;
  return true;
}

bool MakePipe(int fds[2]) {
  if (pipe2(fds, O_CLOEXEC) != 0) return false;
  if (!MoveAboveStdio(&fds[0]) || !MoveAboveStdio(&fds[1])) {
    int e = errno;
    CloseFd(&fds[0]);
    CloseFd(&fds[1]);
    errno = e;
    return false;
  }
  return true;
}

void SetNonblocking(int fd) { fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK); }

// Everything created for one spawn; the destructor closes what was not handed over.
struct Scratch {
  int devnull = -1;
  int status_in_child = -1;  // the status pipe's write end as the child sees it (maybe a slot)
  int slots_used = 0;        // transfer slots pointing at this spawn's fds; reset after clone
  int child_end[3] = {-1, -1, -1};  // pipe ends that become the child's stdio
  int parent_end[3] = {-1, -1, -1};
  int status[2] = {-1, -1};
  int ready[2] = {-1, -1};
  int go[2] = {-1, -1};
  std::vector<int> send_child, send_parent;  // send buffers' pipes: read ends (child), write ends
  std::vector<SendMapping> sends;
  int proc_fd = -1;                         // /proc, for the LSM attr files
  int idmap[2] = {-1, -1};  // the parent releases a child in a new user namespace once its maps are written
  std::vector<char*> argv, envp;
  std::vector<const char*> candidates;
  std::vector<int> keep;
  std::vector<MountStep> mounts;
  ChildPlan plan = {};

  ~Scratch() {
    // Transfer slots go back to /dev/null: they must not keep a pipe end open.
    for (int i = 0; i < slots_used; i++) dup3(t_slots.devnull, t_slots.transfer[i], O_CLOEXEC);
    CloseFd(&devnull);
    for (int i = 0; i < 3; i++) {
      CloseFd(&child_end[i]);
      CloseFd(&parent_end[i]);
    }
    for (int i = 0; i < 2; i++) {
      CloseFd(&status[i]);
      CloseFd(&ready[i]);
      CloseFd(&go[i]);
      CloseFd(&idmap[i]);
    }
    for (int& fd : send_child) CloseFd(&fd);
    for (int& fd : send_parent) CloseFd(&fd);
    CloseFd(&proc_fd);
  }
};

bool IsSendTarget(const ExecPlan& plan, int fd) {
  for (const SendBuffer& b : plan.sends)
    if (b.target == fd) return true;
  return false;
}

// Moves an fd of ours the child still needs after it maps the send buffers (step 2) off every
// target number, so that mapping cannot clobber it: to the lowest free number above 2 that is
// no target. Not above the highest target: a target may be RLIMIT_NOFILE-1, and nothing can be
// placed past the limit (EINVAL). Each try that lands on a target (a number free in the parent
// that the child will use) is closed again and the search goes on above it, so this ends after
// at most one try per target. EMFILE when every free number below the limit is a target.
bool AvoidSendTargets(const ExecPlan& plan, int* fd) {
  if (*fd < 0 || !IsSendTarget(plan, *fd)) return true;
  int from = 3;
  for (;;) {
    int moved = fcntl(*fd, F_DUPFD_CLOEXEC, from);
    if (moved < 0) {
      if (errno == EINVAL) errno = EMFILE;  // `from` reached the limit: no free number left below it
      return false;
    }
    if (!IsSendTarget(plan, moved)) {
      close(*fd);
      *fd = moved;
      return true;
    }
    close(moved);
    if (moved == 2147483647) {
      errno = EMFILE;
      return false;
    }
    from = moved + 1;
  }
}

// The send buffers' pipes (setSendBuffer), and /proc for the LSM labels; then every fd of ours
// the child needs is moved off the send targets. Sets errno on failure.
bool PrepareExtraFds(const ExecPlan& plan, Scratch* s) {
  for (size_t i = 0; i < plan.sends.size(); i++) {
    int fds[2];
    if (!MakePipe(fds)) return false;
    s->send_child.push_back(fds[0]);
    s->send_parent.push_back(fds[1]);
    SetNonblocking(fds[1]);
    // 1 MiB, as for captured streams: fewer wakeups for a large secret or image. A refusal
    // (over /proc/sys/fs/pipe-max-size) keeps the default.
    fcntl(fds[1], F_SETPIPE_SZ, 1 << 20);
  }
  if (plan.has_selinux_label || plan.has_apparmor_profile) {
    s->proc_fd = open("/proc", O_PATH | O_DIRECTORY | O_CLOEXEC);
    if (s->proc_fd < 0 || !MoveAboveStdio(&s->proc_fd)) return false;
  }
  if (plan.sends.empty()) return true;
  for (int& fd : s->send_child)
    if (!AvoidSendTargets(plan, &fd)) return false;
  for (int* fd : {&s->status[1], &s->ready[1], &s->go[0], &s->proc_fd})
    if (!AvoidSendTargets(plan, fd)) return false;
  for (size_t i = 0; i < plan.sends.size(); i++) s->sends.push_back({s->send_child[i], plan.sends[i].target});
  return true;
}

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

// Opens /dev/null and the pipes, fills the child's stdio sources. Sets errno on failure.
bool PrepareStdio(const ExecPlan& plan, Scratch* s) {
  for (int i = 0; i < 3; i++) {
    const StdioSpec& spec = plan.stdio[i];
    switch (spec.kind) {
      case StdioKind::kNull:
        if (t_slots.devnull >= 0) {
          s->plan.stdio_src[i] = t_slots.devnull;
          break;
        }
        if (s->devnull < 0) {
          s->devnull = open("/dev/null", O_RDWR | O_CLOEXEC);
          if (s->devnull < 0 || !MoveAboveStdio(&s->devnull)) return false;
        }
        s->plan.stdio_src[i] = s->devnull;
        break;
      case StdioKind::kFd:
        s->plan.stdio_src[i] = spec.fd;
        break;
      case StdioKind::kSameAsStdout:
        s->plan.stdio_src[i] = s->plan.stdio_src[1];
        break;
      case StdioKind::kPipe:
      case StdioKind::kCapture:
      case StdioKind::kBuffer: {
        int fds[2];
        if (!MakePipe(fds)) return false;
        bool input = i == 0;
        s->child_end[i] = input ? fds[0] : fds[1];
        s->parent_end[i] = input ? fds[1] : fds[0];
        // Our own I/O loop needs non-blocking ends; a caller's pipe is non-blocking on request.
        // The child's end always stays blocking (programs expect it).
        if (spec.kind != StdioKind::kPipe || plan.nonblocking) SetNonblocking(s->parent_end[i]);
        // Pipes we drain or feed ourselves get 1 MiB (the unprivileged maximum by default)
        // instead of 64 KiB: 16 times fewer wakeups for bulk data. Pages are allocated only
        // as data arrives, so small outputs cost nothing; a refusal just keeps the default.
        if (spec.kind != StdioKind::kPipe) fcntl(s->parent_end[i], F_SETPIPE_SZ, 1 << 20);
        s->plan.stdio_src[i] = s->child_end[i];
        break;
      }
    }
  }
  return true;
}

// Clone path: puts the child's stdio sources and status pipe above the slots into the transfer
// slots, so the child's unshare copies only the low fds (see FdSlots). Sources at 0-2 or already
// low stay. A failed dup3 just leaves that fd where it is (slower, not wrong).
void UseLowSlots(const ExecPlan& plan, Scratch* s) {
  if (t_slots.devnull < 0) return;
  auto place = [s](int fd) -> int {
    if (fd <= t_slots.highest || s->slots_used == kTransferSlots) return fd;
    int slot = t_slots.transfer[s->slots_used];
    if (dup3(fd, slot, O_CLOEXEC) < 0) return fd;
    s->slots_used++;
    return slot;
  };
  int* src = s->plan.stdio_src;
  int moved[3];
  for (int i = 0; i < 3; i++) {
    int same = -1;  // stderr to stdout: one source, one slot
    for (int j = 0; j < i; j++)
      if (src[j] == src[i]) same = j;
    moved[i] = same >= 0 ? moved[same] : place(src[i]);
  }
  for (int i = 0; i < 3; i++) src[i] = moved[i];
  // The status pipe is needed after the send buffers are mapped: never on a send target.
  if (s->slots_used < kTransferSlots && IsSendTarget(plan, t_slots.transfer[s->slots_used])) return;
  s->status_in_child = place(s->status[1]);
}

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

}  // namespace

void CheckCloneSupport() { ForkOnly(); }

void ReserveFdSlots() {
  if (t_slots.devnull >= 0) return;
  FdSlots slots;
  int fd = open("/dev/null", O_RDWR | O_CLOEXEC);
  if (fd < 0 || !MoveAboveStdio(&fd)) {
    if (fd >= 0) close(fd);
    return;  // no slots: spawning still works
  }
  slots.devnull = fd;
  slots.highest = fd;
  for (int i = 0; i < kTransferSlots; i++) {
    slots.transfer[i] = fcntl(slots.devnull, F_DUPFD_CLOEXEC, 3);
    if (slots.transfer[i] < 0) {
      for (int j = 0; j < i; j++) close(slots.transfer[j]);
      close(slots.devnull);
      return;
    }
    if (slots.transfer[i] > slots.highest) slots.highest = slots.transfer[i];
  }
  t_slots = slots;
}

void ReleaseFdSlots() {
  if (t_slots.devnull < 0) return;
  for (int fd : t_slots.transfer) close(fd);
  close(t_slots.devnull);
  t_slots = FdSlots();
}

void CloseFd(int* fd) {
  if (*fd >= 0) close(*fd);
  *fd = -1;
}

namespace {

// The caller's fds the plan names by number, checked again when the run starts (Spawn and
// ExecInPlace), whatever the builder saw.
bool CallerFdsOpen(const ExecPlan& plan, SpawnFailure* failure) {
  // A passed fd must be open now: a closed number would be reused by our own pipes and reach
  // the child as something else.
  for (int fd : plan.pass_fds) {
    if (fcntl(fd, F_GETFD) < 0) {
      failure->stage = kStageCloseFds;
      failure->err = EBADF;
      return false;
    }
  }
  // The same for a caller's fd given as stdin, stdout or stderr: a closed number would become
  // one of our pipes, or /dev/null, below. (TS refuses both first, naming the call.)
  for (const StdioSpec& spec : plan.stdio) {
    if (spec.kind == StdioKind::kFd && fcntl(spec.fd, F_GETFD) < 0) {
      failure->stage = kStageStdio;
      failure->err = EBADF;
      return false;
    }
  }
  // And for the namespace fds (joinNamespace) and the cgroup fd (joinCgroup(fd)): the builder
  // saw them open, but the caller may have closed them since, and our pipes would take the
  // number (the child would then setns() or clone into whatever we opened there).
  for (const NamespaceStep& ns : plan.namespaces) {
    if (fcntl(ns.fd, F_GETFD) < 0) {
      failure->stage = kStageNamespace;
      failure->err = EBADF;
      return false;
    }
  }
  if (plan.cgroup_fd >= 0 && fcntl(plan.cgroup_fd, F_GETFD) < 0) {
    failure->stage = kStageCgroup;
    failure->err = EBADF;
    return false;
  }
  // joinCgroup() on a directory that is no cgroup: refused before any child (clone3 would
  // refuse it too, but the child's own write to cgroup.procs would not).
  if (int err = CgroupDirError(plan); err != 0) {
    failure->stage = kStageCgroup;
    failure->err = err;
    return false;
  }
  return true;
}

}  // namespace

bool Spawn(const ExecPlan& plan, SpawnedChild* child, SpawnFailure* failure) {
  if (!CallerFdsOpen(plan, failure)) return false;
  Scratch s;
  bool pipes_ok = PrepareStdio(plan, &s) && MakePipe(s.status) &&
                  (!plan.handshake || (MakePipe(s.ready) && MakePipe(s.go))) && PrepareExtraFds(plan, &s);
  if (!pipes_ok) {
    failure->stage = kStagePipe;
    failure->err = errno;
    return false;
  }
  const bool fork_only = ForkOnly();
  const bool use_fork = plan.hook != nullptr || plan.handshake || fork_only;
  // New namespaces are made by clone() itself, so the program starts inside them (see
  // clone_ns.h), except where the child must unshare them as before: a hook's fork(),
  // valgrind or qemu-user, and a daemon (its pidfile is written before step 6).
  const int clone_ns = CloneNamespaceFlags(plan, plan.hook != nullptr || plan.daemonize || fork_only);
  // A new user namespace with maps: the child waits at step 6 while the parent writes them, so
  // it gets its own memory (no CLONE_VM | CLONE_VFORK), as a handshake does.
  const bool map_ids = NeedsIdMaps(plan, clone_ns);
  // Its read end is read at step 6, after the send buffers are mapped: off their numbers too.
  if (map_ids && (!MakePipe(s.idmap) || !AvoidSendTargets(plan, &s.idmap[0]))) {
    failure->stage = kStagePipe;
    failure->err = errno;
    return false;
  }
  const bool own_memory = use_fork || map_ids;
  const bool real_fork = use_fork && clone_ns == 0;  // else clone() without CLONE_VM, on our stack
  s.status_in_child = s.status[1];
  if (!own_memory) UseLowSlots(plan, &s);
  BuildChildPlan(plan, &s);
  PlanNamespaces(plan, clone_ns, s.idmap[0], &s.plan);
  s.plan.announce_exec = own_memory;
  // vfork path: share the fd table at clone; the child's first fd step unshares it copying only
  // the low fds it keeps, instead of the kernel copying every open fd at clone (with thousands
  // of fds open that copy, and closing it again, was most of the cost of a spawn).
  s.plan.shared_fd_table = !own_memory;
  void* stack_top = real_fork ? nullptr : ChildStackTop();
  if (!real_fork && stack_top == nullptr) {
    failure->stage = kStageFork;
    failure->err = errno;
    return false;
  }

  // Block every signal across clone: a handler of the parent must never run in the child (it
  // would run on the child's stack, in the parent's memory). The child resets dispositions, then
  // unblocks everything just before execve.
  sigset_t all, old;
  sigfillset(&all);
  pthread_sigmask(SIG_SETMASK, &all, &old);
  int pidfd = -1;
  pid_t pid;
  if (real_fork) {
    pid = fork();
    if (pid == 0) child_exec(&s.plan);
  } else {
    // Without CLONE_VM the child runs on its own copy of our stack's pages: a fork on our stack.
    const int shared = own_memory ? 0 : kCloneVm | kCloneVfork | kCloneFiles;
    // joinCgroup(): born in the cgroup with clone3(CLONE_INTO_CGROUP) where the kernel can;
    // else (kNotCloned) the child writes cgroup.procs at step 6 (clone_cgroup.h).
    pid = CloneIntoCgroup(plan, shared | clone_ns | kClonePidfd, stack_top, kChildStackSize, &s.plan, &pidfd);
    if (pid == kNotCloned)
      pid = clone(child_clone_entry, stack_top, shared | clone_ns | kClonePidfd | SIGCHLD, &s.plan, &pidfd);
  }
  int clone_errno = errno;
  pthread_sigmask(SIG_SETMASK, &old, nullptr);
  if (pid < 0) {
    // A namespace the kernel refuses (EPERM, ENOSPC at user.max_*_namespaces, EINVAL, EUSERS)
    // fails at 'unshare', as it did when the child unshared it.
    const bool ns_refused = clone_ns != 0 && clone_errno != EAGAIN && clone_errno != ENOMEM;
    failure->stage = ns_refused ? kStageUnshare : kStageFork;
    failure->err = clone_errno;
    return false;
  }
  if (pidfd < 0) pidfd = static_cast<int>(syscall(SYS_pidfd_open, pid, 0));
  // ENOSYS: no pidfds at all (kernels before 5.3, valgrind 3.19). The session then polls
  // waitpid(pid, WNOHANG) with a backoff instead (IoSession::PollReap); the child is ours and
  // unreaped, so its pid cannot be recycled under us.
  const bool no_pidfds = pidfd < 0 && errno == ENOSYS;
  if (pidfd >= 0 && !MoveAboveStdio(&pidfd)) CloseFd(&pidfd);
  if (pidfd < 0 && !no_pidfds) {
    // Without a pidfd we cannot wait without waitpid(-1) or a blocked thread: refuse, cleanly.
    int e = errno;
    kill(pid, SIGKILL);
    waitpid(pid, nullptr, 0);
    failure->stage = kStageFork;
    failure->err = e;
    return false;
  }

  if (map_ids && !WriteIdMapsAndRelease(pid, plan, s.idmap[1], failure)) {
    CloseFd(&pidfd);  // the child was killed and reaped
    return false;
  }

  child->pid = pid;
  child->pidfd = pidfd;
  child->vforked = !own_memory;
  child->announces_exec = own_memory;
  for (int i = 0; i < 3; i++) {
    child->stdio_fd[i] = s.parent_end[i];
    s.parent_end[i] = -1;
  }
  SetNonblocking(s.status[0]);
  child->status_fd = s.status[0];
  s.status[0] = -1;
  child->handshake_ready_fd = s.ready[0];
  s.ready[0] = -1;
  child->handshake_go_fd = s.go[1];
  s.go[1] = -1;
  child->send_fds = s.send_parent;
  s.send_parent.clear();
  return true;  // ~Scratch closes the child's ends and /dev/null
}

void ExecInPlace(const ExecPlan& plan, SpawnFailure* failure) {
  if (!CallerFdsOpen(plan, failure)) return;
  Scratch s;
  if (!PrepareStdio(plan, &s) || !PrepareExtraFds(plan, &s)) {
    failure->stage = kStagePipe;
    failure->err = errno;
    return;
  }
  BuildChildPlan(plan, &s);
  s.plan.status_fd = -1;  // no parent to report to: child_fail prints one line and exits 125-127
  sigset_t all;
  sigfillset(&all);
  pthread_sigmask(SIG_SETMASK, &all, nullptr);
  child_exec(&s.plan);
}

}  // namespace vircommand
