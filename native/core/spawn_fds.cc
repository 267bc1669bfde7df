// The fds of one spawn, made in the parent: the child's stdio pipes and /dev/null, the send
// buffers' pipes, /proc for the LSM labels, every one kept off 0-2 and off the send buffers'
// target numbers; and the low fd slots each thread reserves so the child's fd table stays small.
// Zone: parent. No N-API.
// SPDX-License-Identifier: MIT
#include <errno.h>
#include <fcntl.h>
#include <unistd.h>

#include "spawn.h"
#include "spawn_scratch.h"

namespace vircommand {

namespace {

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

}  // namespace

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

Scratch::~Scratch() {
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

namespace {

bool IsSendTarget(const ExecPlan& plan, int fd) {
  for (const SendBuffer& b : plan.sends)
    if (b.target == fd) return true;
  return false;
}

}  // namespace

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

}  // namespace vircommand
