// Starting the child directly inside its cgroup: clone3(CLONE_INTO_CGROUP) (Linux 5.7).
// Zone: parent. No N-API.
// SPDX-License-Identifier: MIT
#include "clone_cgroup.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <unistd.h>

#include <atomic>
#include <string>

namespace vircommand {

// glibc has no clone3() wrapper, and the raw syscall cannot be made from C when the child runs
// on another stack (it would return into the parent's frames). This entry does what glibc's
// clone() does for clone(2): the syscall, then, in the child only, fn(arg) on the new stack
// and exit with its result. x86-64 only (the prebuilt target); elsewhere it answers ENOSYS
// and joinCgroup() writes cgroup.procs in the child as before.
// long vircommand_clone3(struct clone_args* args, size_t size, int (*fn)(void*), void* arg)
extern "C" long vircommand_clone3(void* args, size_t size, int (*fn)(void*), void* arg);

#if defined(__x86_64__)
asm(R"(
  .pushsection .text
  .globl vircommand_clone3
  .hidden vircommand_clone3
  .type vircommand_clone3, @function
vircommand_clone3:
  mov %rdx, %r8          # fn and arg survive the syscall in r8/r9
  mov %rcx, %r9
  mov $435, %eax         # __NR_clone3
  syscall
  test %rax, %rax
  jz 1f
  ret                    # parent: the pid, or -errno
1:
  xor %ebp, %ebp         # child, on its stack top (16-byte aligned): no frame to unwind into
  mov %r9, %rdi
  call *%r8
  mov %eax, %edi
  mov $60, %eax          # __NR_exit
  syscall
  hlt
  .size vircommand_clone3, .-vircommand_clone3
  .popsection
)");
#else
extern "C" long vircommand_clone3(void*, size_t, int (*)(void*), void*) { return -ENOSYS; }
#endif

namespace {

constexpr uint64_t kCloneIntoCgroup = 0x200000000ULL;

// struct clone_args of linux/sched.h, up to the cgroup field (CLONE_ARGS_SIZE_VER2).
struct CloneArgs {
  uint64_t flags;
  uint64_t pidfd;
  uint64_t child_tid;
  uint64_t parent_tid;
  uint64_t exit_signal;
  uint64_t stack;
  uint64_t stack_size;
  uint64_t tls;
  uint64_t set_tid;
  uint64_t set_tid_size;
  uint64_t cgroup;
};
static_assert(sizeof(CloneArgs) == 88, "CLONE_ARGS_SIZE_VER2");

// Once the kernel says it has no clone3 (ENOSYS) or no cgroup field (E2BIG, before 5.7), stop
// asking: every later spawn goes the old way at once.
std::atomic<bool> g_unsupported{false};

}  // namespace

pid_t CloneIntoCgroup(const ExecPlan& plan, int flags, void* stack_top, size_t stack_size, ChildPlan* child,
                      int* pidfd) {
  if (g_unsupported.load(std::memory_order_relaxed)) return kNotCloned;
  int owned = -1;
  int dirfd = plan.cgroup_fd;
  if (dirfd < 0) {
    if (plan.cgroup_procs.empty()) return kNotCloned;
    // plan.cgroup_procs is "<dir>/cgroup.procs": the directory is what clone3 takes.
    std::string dir = plan.cgroup_procs.substr(0, plan.cgroup_procs.size() - sizeof("/cgroup.procs") + 1);
    owned = open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (owned < 0) return kNotCloned;  // the child's own attempt reports why, at 'cgroup'
    dirfd = owned;
  }
  CloneArgs args = {};
  args.flags = static_cast<uint32_t>(flags) | kCloneIntoCgroup;
  args.pidfd = reinterpret_cast<uintptr_t>(pidfd);
  args.exit_signal = SIGCHLD;
  args.stack = reinterpret_cast<uintptr_t>(stack_top) - stack_size;
  args.stack_size = stack_size;
  args.cgroup = static_cast<uint64_t>(dirfd);
  // The child is born in the cgroup: its step 6 must not write cgroup.procs. The plan is read
  // by the child (shared memory on the vfork path), so clear the fields before, restore after.
  const char* procs = child->cgroup_procs;
  int fd = child->cgroup_fd;
  child->cgroup_procs = nullptr;
  child->cgroup_fd = -1;
  long rc = vircommand_clone3(&args, sizeof args, child_clone_entry, child);
  child->cgroup_procs = procs;
  child->cgroup_fd = fd;
  if (owned >= 0) close(owned);
  if (rc > 0) return static_cast<pid_t>(rc);
  if (rc == -ENOSYS || rc == -E2BIG) g_unsupported.store(true, std::memory_order_relaxed);
  return kNotCloned;
}

}  // namespace vircommand
