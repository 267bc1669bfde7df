// The child's steps, in order. This numbered list is the contract: changing the order changes
// this comment and test/integration/child-order.test.ts in the same commit.
// CHILD ZONE: runs between clone()/fork() and execve(); rules in child_sys.h.
// SPDX-License-Identifier: MIT
#include <fcntl.h>
#include <sys/stat.h>

#include "../core/stage.h"
#include "child_sys.h"

namespace vircommand {

// Writes one report on the status pipe. The parent may have stopped listening (the command was
// freed and its child released): the write then fails with EPIPE, and the SIGPIPE that comes
// with it must not kill us (its disposition is SIG_DFL since step 1) and turn a clean exit or an
// exec into a death by signal 13. So SIGPIPE is ignored around the write (setting SIG_IGN also
// discards one already pending while the mask is blocked), then set back to SIG_DFL, which is
// what the program must start with.
static void child_write_report(const ChildPlan* plan, const ChildReport& report) {
  struct {
    void* handler;
    unsigned long flags;
    void* restorer;
    uint64_t mask;
  } ign = {reinterpret_cast<void*>(1) /* SIG_IGN */, 0, nullptr, 0}, dfl = {nullptr /* SIG_DFL */, 0, nullptr, 0};
  syscall(SYS_rt_sigaction, 13 /* SIGPIPE */, &ign, nullptr, 8);
  child_write_all(plan->status_fd, &report, sizeof report);
  syscall(SYS_rt_sigaction, 13 /* SIGPIPE */, &dfl, nullptr, 8);
}

// Writes a C string (no-op for null).
static void put(const char* s) {
  if (s != nullptr) child_write_all(2, s, __builtin_strlen(s));
}

// What a failed stage worked on, as run() names it (pathForStage in src/errors.ts): the cwd,
// pidfile, program, cgroup directory, chroot or pivot_root directory, hook library, a mount's
// target; for rlimit the resource.
// `len` is set to how much of it to print.
static const char* failure_subject(const ChildPlan* plan, int stage, int64_t value, size_t* len) {
  const char* s = nullptr;
  switch (stage) {
    case kStageChdir:
      s = plan->cwd;
      break;
    case kStagePidfile:
      s = plan->pidfile;
      break;
    case kStageExec:
      s = plan->ncandidates > 0 ? plan->candidates[0] : plan->argv[0];
      break;
    case kStageChroot:
      s = plan->chroot_dir;
      break;
    case kStageHook:
      s = plan->hook_library;
      break;
    case kStageRlimit:
      s = child_rlimit_name(value);
      break;
    case kStageCgroup:
      s = plan->cgroup_procs;
      break;
    case kStagePivotRoot:
      s = plan->pivot_root;
      break;
    case kStageMount:  // the value is the addMount() index: its first step's target
      for (int i = 0; i < plan->nmounts && s == nullptr; i++)
        if (plan->mounts[i].index == value) s = plan->mounts[i].target;
      break;
    default:
      break;
  }
  *len = s == nullptr ? 0 : __builtin_strlen(s);
  // cgroup_procs is "<dir>/cgroup.procs": run() names the directory.
  constexpr size_t kProcs = sizeof "/cgroup.procs" - 1;
  if (stage == kStageCgroup && *len > kProcs) *len -= kProcs;
  return s;
}

// exec() in place has no parent to report to: one line on stderr, like env(1), in run()'s words:
// "vircommand: chdir: ENOENT (No such file or directory): /nope". async-signal-safe: constant
// tables and write(2), no strerror.
static void child_print_failure(const ChildPlan* plan, int stage, int err, int64_t value) {
  put("vircommand: ");
  put(StageName(stage));
  char num[24];
  if (err == 0) {
    // A hook's own non-zero return with errno 0 ("with value V", as run() says).
    put(": with value ");
    bool neg = value < 0;
    uint64_t mag = neg ? 0 - static_cast<uint64_t>(value) : static_cast<uint64_t>(value);
    if (neg) put("-");
    child_write_all(2, num, static_cast<size_t>(child_format_decimal(mag, num)));
  } else {
    put(": ");
    const char* name = child_errno_name(err);
    if (name != nullptr) {
      put(name);
    } else {
      put("errno ");
      child_write_all(2, num, static_cast<size_t>(child_format_decimal(static_cast<uint64_t>(err), num)));
    }
    const char* text = child_errno_text(err);
    if (text != nullptr) {
      put(" (");
      put(text);
      put(")");
    }
  }
  size_t len = 0;
  const char* subject = failure_subject(plan, stage, value, &len);
  if (subject != nullptr && len > 0) {
    put(": ");
    child_write_all(2, subject, len);
  }
  put("\n");
}

[[noreturn]] void child_fail(const ChildPlan* plan, int stage, int err, int64_t value) {
  // A daemon that failed after writing its pidfile leaves no stale file behind.
  child_remove_pidfile();
  if (plan->status_fd >= 0) {
    ChildReport report = {kReportMagic, stage, err, 0, value};
    child_write_report(plan, report);
  } else {
    child_print_failure(plan, stage, err, value);
  }
  int code = 125;  // EXIT_CANCELED: failed before exec
  if (stage == kStageExec) code = err == ENOENT ? 127 : 126;  // env(1): 127 only for "not found"
  _exit(code);
}

int child_clone_entry(void* arg) { child_exec(static_cast<const ChildPlan*>(arg)); }

// async-signal-safe: the steps below.
[[noreturn]] void child_exec(const ChildPlan* plan) {
  // 1. Reset every signal disposition to SIG_DFL (SIGPIPE too: Node ignores it, and an ignored
  //    disposition survives execve). The mask stays fully blocked (set by the parent) until 16.
  child_reset_signals(plan);
  // 2. Take a private fd table (cloned with CLONE_FILES, it is the parent's: unshare it copying
  //    only the fds up to the highest one we need), then map stdin, stdout and stderr (two
  //    passes, so sources among 0-2 cannot clobber each other), then each send buffer's read
  //    end onto its number.
  child_unshare_fds(plan);
  child_map_stdio(plan);
  child_map_send_buffers(plan);
  // 3. Close every fd but 0-2, the passed fds and our own pipes (close_range around the kept
  //    fds; then getdents64 on /proc/self/fd; then a loop up to the limit); passed fds lose
  //    FD_CLOEXEC, and those passed with PASS_FD_BLOCKING lose O_NONBLOCK.
  child_close_fds(plan);
  // 4. Daemonize: fork; the daemon calls setsid and chdir("/"), opens, locks and writes the pidfile
  //    before the intermediate exits. Before the rlimits, so a bad limit cannot hang the parent.
  child_daemonize(plan);
  // 5. rlimits, then umask.
  child_set_rlimits(plan);
  if (plan->umask >= 0) syscall(SYS_umask, plan->umask);
  // 6. Declarative steps: (wait for a new user namespace's id maps), setsid, setpgid, nice,
  //    cgroup, setns, unshare (namespaces not made at clone), mount propagation of a new mount
  //    namespace, the new root (pivot_root or chroot), /proc inside it, addMount()'s mounts in
  //    order (child_mounts.cc; an addDevMount() in a user namespace whose maps leave out our
  //    ids is made by a forked helper with mapped fs ids). Before the credentials change, while
  //    we still hold the privileges they need.
  child_declarative_steps(plan);
  //    Then the host and domain name of a new uts namespace (child_uts.cc).
  child_set_uts_names(plan);
  // 7. The native hook (fork() path only).
  child_run_hook(plan);
  // 8. Scheduling: CPU affinity, NUMA memory policy, core scheduling (child_sched.cc). Before
  //    the uid change: sharing another process's core-scheduling cookie needs ptrace access.
  child_set_scheduling(plan);
  // 9. Supplementary groups, gid, uid (raw syscalls; keep-caps when capabilities are kept).
  child_set_credentials(plan);
  // 10. Capabilities: bounding set, then effective/permitted/inheritable, then ambient.
  child_set_capabilities(plan);
  // 11. Parent-death signal. After the uid change, because setresuid() clears it.
  child_set_parent_death_signal(plan);
  // 12. no_new_privs.
  if (plan->no_new_privs && syscall(SYS_prctl, 38 /* PR_SET_NO_NEW_PRIVS */, 1, 0, 0, 0) != 0)
    child_fail(plan, kStageNoNewPrivs, errno);
  // 13. chdir, with the final credentials (and inside a new root, if any).
  if (plan->cwd != nullptr && chdir(plan->cwd) != 0) child_fail(plan, kStageChdir, errno);
  // 14. LSM exec labels: SELinux, then AppArmor (child_lsm.cc). They act only at execve, so
  //     they come after every other step that can fail or run code (a child that fails never
  //     carries a half-applied label), and before the handshake, so "ready" includes them.
  child_set_exec_labels(plan);
  // 15. Handshake: tell the parent we are ready, wait for its go.
  child_handshake(plan);
  // 16. Unblock every signal: the program starts with an empty mask.
  child_unblock_signals(plan);
  // 17. The seccomp filter (child_seccomp.cc): last, after no_new_privs (12), so that none of our
  //     steps runs under it; only the report below and execve do, which the filter must allow.
  child_install_seccomp(plan);
  // 18. execve each candidate path.
  if (plan->announce_exec) {
    ChildReport about_to_exec = {kReportMagic, kStageNone, 0, 0, 0};
    child_write_report(plan, about_to_exec);
  }
  child_execve(plan);
}

void child_reset_signals(const ChildPlan* plan) {
  // The kernel's struct sigaction for rt_sigaction: handler, flags, restorer, mask.
  struct {
    void* handler;
    unsigned long flags;
    void* restorer;
    uint64_t mask;
  } dfl = {nullptr /* SIG_DFL */, 0, nullptr, 0};
  for (int sig = 1; sig <= 64; sig++) {
    if (sig == 9 || sig == 19) continue;  // SIGKILL, SIGSTOP cannot be changed
    if (syscall(SYS_rt_sigaction, sig, &dfl, nullptr, 8) != 0 && errno != EINVAL)
      child_fail(plan, kStageSignals, errno);
  }
}

void child_unblock_signals(const ChildPlan* plan) {
  uint64_t empty = 0;
  if (syscall(SYS_rt_sigprocmask, 2 /* SIG_SETMASK */, &empty, nullptr, 8) != 0) child_fail(plan, kStageSigmask, errno);
}

void child_run_hook(const ChildPlan* plan) {
  if (plan->hook == nullptr) return;
  errno = 0;
  int rc = plan->hook(plan->hook_data);
  int err = errno;
  // Any non-zero return stops the child (libvirt only stopped on < 0, and let a later failure
  // exit with the hook's 0: neither is copied).
  if (rc != 0) child_fail(plan, kStageHook, err, rc);
}

void child_handshake(const ChildPlan* plan) {
  if (plan->handshake_write_fd < 0) return;
  char ready = '1';
  if (!child_write_all(plan->handshake_write_fd, &ready, 1)) child_fail(plan, kStageHandshake, errno);
  char go = 0;
  ssize_t n;
  do {
    n = read(plan->handshake_read_fd, &go, 1);
  } while (n < 0 && errno == EINTR);
  if (n < 0) child_fail(plan, kStageHandshake, errno);
  if (n == 0) child_fail(plan, kStageHandshake, ECANCELED);  // the parent gave up
  if (go != '1') child_fail(plan, kStageHandshake, EPROTO);
  close(plan->handshake_write_fd);
  close(plan->handshake_read_fd);
}

[[noreturn]] void child_execve(const ChildPlan* plan) {
  // Like CPython: ENOENT/ENOTDIR move on to the next candidate; EACCES is remembered and we move
  // on; any other error is final. The errno reported is the most telling one seen.
  int err = ENOENT;
  int64_t index = 0;
  bool saw_eacces = false;
  for (int i = 0; i < plan->ncandidates; i++) {
    execve(plan->candidates[i], plan->argv, plan->envp);
    int e = errno;
    if (e == ENOENT || e == ENOTDIR) {
      if (!saw_eacces && i == 0) {
        err = e;
        index = i;
      }
      continue;
    }
    if (e == EACCES) {
      if (!saw_eacces) index = i;
      saw_eacces = true;
      err = e;
      continue;
    }
    err = e;
    index = i;
    break;
  }
  child_fail(plan, kStageExec, err, index);
}

}  // namespace vircommand
