// The seccomp filter (setSeccompFilter): step 17, the last one before execve, so that no step of
// ours runs under the caller's filter (it may deny what the steps need: write, setresuid, ...).
// CHILD ZONE: runs between clone()/fork() and execve(); rules in child_sys.h.
// SPDX-License-Identifier: MIT
#include "../core/stage.h"
#include "child_sys.h"

namespace vircommand {

namespace {

constexpr unsigned long kSeccompSetModeFilter = 1;  // SECCOMP_SET_MODE_FILTER
constexpr unsigned long kPrSetSeccomp = 22;  // PR_SET_SECCOMP
constexpr unsigned long kSeccompModeFilter = 2;  // SECCOMP_MODE_FILTER

// struct sock_fprog: the kernel reads the length and a pointer to the instructions.
struct SockFprog {
  unsigned short len;
  const void* filter;
};

}  // namespace

// async-signal-safe: seccomp(2), or prctl(PR_SET_SECCOMP) on a kernel without it (before 3.17).
// The kernel checks the program here: a bad one fails with EINVAL; without no_new_privs (step
// 12) and without CAP_SYS_ADMIN it refuses with EACCES. Both are reported at stage 'seccomp'.
void child_install_seccomp(const ChildPlan* plan) {
  if (plan->seccomp_filter == nullptr) return;
  SockFprog prog = {plan->seccomp_len, plan->seccomp_filter};
#ifdef SYS_seccomp
  if (syscall(SYS_seccomp, kSeccompSetModeFilter, 0, &prog) == 0) return;
  if (errno != ENOSYS) child_fail(plan, kStageSeccomp, errno);
#endif
  if (syscall(SYS_prctl, kPrSetSeccomp, kSeccompModeFilter, &prog, 0, 0) != 0) child_fail(plan, kStageSeccomp, errno);
}

}  // namespace vircommand
