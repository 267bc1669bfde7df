// Rlimits, supplementary groups, gid, uid, capabilities and the parent-death signal.
// CHILD ZONE: runs between clone()/fork() and execve(); rules in child_sys.h.
// Raw syscalls only: glibc's setuid()/setgroups() broadcast to every thread of what glibc believes
// is this process, which under CLONE_VM is the parent.
// SPDX-License-Identifier: MIT
#include "../core/stage.h"
#include "child_sys.h"

namespace vircommand {

namespace {

constexpr unsigned long kPrSetPdeathsig = 1;
constexpr unsigned long kPrSetKeepcaps = 8;
constexpr unsigned long kPrCapbsetDrop = 24;
constexpr unsigned long kPrCapAmbient = 47;
constexpr unsigned long kPrCapAmbientRaise = 2;
constexpr unsigned long kPrCapAmbientClearAll = 4;
constexpr uint32_t kCapVersion3 = 0x20080522;
constexpr int kCapSetpcap = 8;
constexpr unsigned long kPrCapbsetRead = 23;
constexpr unsigned long kPrGetSecurebits = 27;
constexpr unsigned long kSecbitNoroot = 1;
// The value of the 'caps' failure for a root child whose bounding set could not be dropped:
// this base plus the first capability left there (src/errors.ts decodes it).
constexpr int64_t kCapsBoundingKeptBase = 1000;

struct CapHeader {
  uint32_t version;
  int pid;
};
struct CapData {
  uint32_t effective, permitted, inheritable;
};

bool cap_get(uint64_t* eff, uint64_t* prm, uint64_t* inh) {
  CapHeader h = {kCapVersion3, 0};
  CapData d[2] = {};
  if (syscall(SYS_capget, &h, d) != 0) return false;
  *eff = d[0].effective | (uint64_t{d[1].effective} << 32);
  *prm = d[0].permitted | (uint64_t{d[1].permitted} << 32);
  *inh = d[0].inheritable | (uint64_t{d[1].inheritable} << 32);
  return true;
}

bool cap_set(uint64_t eff, uint64_t prm, uint64_t inh) {
  CapHeader h = {kCapVersion3, 0};
  CapData d[2] = {
      {static_cast<uint32_t>(eff), static_cast<uint32_t>(prm), static_cast<uint32_t>(inh)},
      {static_cast<uint32_t>(eff >> 32), static_cast<uint32_t>(prm >> 32), static_cast<uint32_t>(inh >> 32)}};
  return syscall(SYS_capset, &h, d) == 0;
}

bool wants_caps(const ChildPlan* plan) { return plan->clear_caps || plan->keep_caps != 0; }

// A child whose real or effective uid is 0 regains at execve every capability of its bounding
// set (unless SECBIT_NOROOT is set). When the bounding set could not be dropped (no
// CAP_SETPCAP), clearing the other sets would drop nothing that lasts: fail, naming the first
// capability left there beyond the kept ones.
void check_root_bounding(const ChildPlan* plan, uint64_t keep) {
  unsigned ruid = 1, euid = 1, suid = 1;
  if (syscall(SYS_getresuid, &ruid, &euid, &suid) != 0) child_fail(plan, kStageCaps, errno);
  if (ruid != 0 && euid != 0) return;
  long bits = syscall(SYS_prctl, kPrGetSecurebits, 0, 0, 0, 0);
  if (bits >= 0 && (bits & kSecbitNoroot)) return;
  for (int cap = 0; cap <= plan->cap_last_cap && cap < 64; cap++) {
    if (keep & (uint64_t{1} << cap)) continue;
    if (syscall(SYS_prctl, kPrCapbsetRead, cap, 0, 0, 0) == 1)
      child_fail(plan, kStageCaps, EPERM, kCapsBoundingKeptBase + cap);
  }
}

}  // namespace

// async-signal-safe: prlimit64 via syscall(2).
void child_set_rlimits(const ChildPlan* plan) {
  for (int i = 0; i < plan->nrlimits; i++) {
    const RlimitStep& r = plan->rlimits[i];
    uint64_t lim[2] = {r.soft, r.hard};
    if (syscall(SYS_prlimit64, 0, r.resource, lim, nullptr) != 0) child_fail(plan, kStageRlimit, errno, r.resource);
  }
}

// async-signal-safe: setgroups, setresgid, setresuid, prctl via syscall(2).
void child_set_credentials(const ChildPlan* plan) {
  // Keep the permitted set across the uid change when we manage capabilities: kept ones must
  // survive it, and dropping the bounding set afterwards needs CAP_SETPCAP.
  if (plan->uid >= 0 && wants_caps(plan) && syscall(SYS_prctl, kPrSetKeepcaps, 1, 0, 0, 0) != 0)
    child_fail(plan, kStageCaps, errno);
  if (plan->set_groups && syscall(SYS_setgroups, plan->ngroups, plan->groups) != 0)
    child_fail(plan, kStageSetgroups, errno);
  if (plan->gid >= 0 && syscall(SYS_setresgid, plan->gid, plan->gid, plan->gid) != 0)
    child_fail(plan, kStageSetgid, errno);
  if (plan->uid >= 0 && syscall(SYS_setresuid, plan->uid, plan->uid, plan->uid) != 0)
    child_fail(plan, kStageSetuid, errno);
}

// async-signal-safe: capget, capset, prctl via syscall(2).
void child_set_capabilities(const ChildPlan* plan) {
  if (!wants_caps(plan)) return;
  const uint64_t keep = plan->keep_caps;
  uint64_t eff, prm, inh;
  if (!cap_get(&eff, &prm, &inh)) child_fail(plan, kStageCaps, errno);
  // After setresuid() away from root the effective set is empty even with keep-caps; raise it
  // back to the permitted set, so that CAP_SETPCAP (needed to drop the bounding set) is usable.
  if (eff != prm && !cap_set(prm, prm, inh)) child_fail(plan, kStageCaps, errno);
  // 9a. The bounding set. Without CAP_SETPCAP (an unprivileged parent) it cannot be changed and
  //     is left as it is: a non-root child holds none of it (it can only gain from it by
  //     executing a setuid or file-capability program, which setNoNewPrivs() stops); a root
  //     child would regain all of it at execve, so that is a failure.
  if (prm & (uint64_t{1} << kCapSetpcap)) {
    for (int cap = 0; cap <= plan->cap_last_cap && cap < 64; cap++) {
      if (keep & (uint64_t{1} << cap)) continue;
      if (syscall(SYS_prctl, kPrCapbsetDrop, cap, 0, 0, 0) != 0 && errno != EINVAL)
        child_fail(plan, kStageCaps, errno, cap);
    }
  } else {
    check_root_bounding(plan, keep);
  }
  // 9b. Effective, permitted, inheritable: exactly the kept set. Asking to keep a capability we
  //     do not hold is an error, not a silent no-op.
  if ((keep & ~prm) != 0) child_fail(plan, kStageCaps, EPERM, static_cast<int64_t>(keep & ~prm));
  if (!cap_set(keep, keep, keep)) child_fail(plan, kStageCaps, errno);
  // 9c. Ambient: what a non-setuid program keeps across execve as a non-root user.
  if (syscall(SYS_prctl, kPrCapAmbient, kPrCapAmbientClearAll, 0, 0, 0) != 0 && keep != 0)
    child_fail(plan, kStageCaps, errno);
  for (int cap = 0; cap < 64; cap++) {
    if (!(keep & (uint64_t{1} << cap))) continue;
    if (syscall(SYS_prctl, kPrCapAmbient, kPrCapAmbientRaise, cap, 0, 0) != 0) child_fail(plan, kStageCaps, errno, cap);
  }
  if (plan->uid >= 0) syscall(SYS_prctl, kPrSetKeepcaps, 0, 0, 0, 0);
}

// async-signal-safe: prctl, getppid via syscall(2).
void child_set_parent_death_signal(const ChildPlan* plan) {
  if (plan->pdeathsig == 0) return;
  if (syscall(SYS_prctl, kPrSetPdeathsig, plan->pdeathsig, 0, 0, 0) != 0) child_fail(plan, kStagePdeathsig, errno);
  // The parent may have died before the prctl: then the signal will never come. Deliver it
  // ourselves, as the kernel would have (every signal is still blocked: unblock this one);
  // should its default action not be to terminate, exit anyway.
  // In a new pid namespace getppid() is 0 (the parent is outside it): nothing to compare then.
  long ppid = syscall(SYS_getppid);
  bool own_pid_ns = (plan->clone_ns_flags & 0x20000000 /* CLONE_NEWPID */) != 0;
  if (ppid != plan->parent_pid && !(own_pid_ns && ppid == 0)) {
    syscall(SYS_kill, syscall(SYS_getpid), plan->pdeathsig);
    uint64_t one = uint64_t{1} << (plan->pdeathsig - 1);
    syscall(SYS_rt_sigprocmask, 1 /* SIG_UNBLOCK */, &one, nullptr, 8);
    child_fail(plan, kStagePdeathsig, ESRCH);
  }
}

}  // namespace vircommand
