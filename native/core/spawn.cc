// Starting a child: the parent half. Checks the caller's fds, has the fds and the ChildPlan
// prepared (spawn_scratch.h: spawn_fds.cc, build_child_plan.cc), blocks signals and clones or
// forks, then takes the pidfd and hands the parent's ends over. The normal path is
// clone(CLONE_VM | CLONE_VFORK) on a stack of our own, so the cost does not grow with the
// parent's heap (no page tables are copied). A native hook or a handshake
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

#include "cgroup_check.h"
#include "clone_cgroup.h"
#include "clone_ns.h"
#include "clone_probe.h"
#include "spawn_scratch.h"
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

}  // namespace

void CheckCloneSupport() { ForkOnly(); }

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
