// The I/O and lifetime state of one running child. See io_session.h.
// Zone: parent. No N-API.
// SPDX-License-Identifier: MIT
#include "io_session.h"

#include <errno.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "stage.h"

namespace vircommand {

namespace {
constexpr int kMaxReadsPerEvent = 64;  // fairness between streams in one loop turn

// Reads the reports waiting on a status pipe (O_NONBLOCK): the "about to exec" notice sets
// *announced, the first failure fills *report. False once the channel is done (EOF: execve
// succeeded or the child is gone; an error; garbage), true while it may say more.
bool ReadReports(int fd, bool* has_report, ChildReport* report, bool* announced) {
  for (;;) {
    ChildReport r;
    ssize_t n = read(fd, &r, sizeof r);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && errno == EAGAIN) return true;
    if (n != static_cast<ssize_t>(sizeof r) || r.magic != kReportMagic) return false;
    if (r.stage == kStageNone) {
      *announced = true;  // execve comes next; a failure of it follows as a report
    } else if (!*has_report) {
      *has_report = true;
      *report = r;
    }
  }
}

}  // namespace

uint64_t MonotonicMs() {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<uint64_t>(ts.tv_sec) * 1000 + static_cast<uint64_t>(ts.tv_nsec) / 1000000;
}

IoSession::IoSession(const ExecPlan& plan, SpawnedChild* child)
    : kill_grace_ms_(plan.kill_grace_ms), drain_ms_(plan.drain_ms) {
  result_.pid = child->pid;
  result_.announces_exec = child->announces_exec;
  fds_[kSlotPidfd] = child->pidfd;
  poll_reap_ = child->pidfd < 0;
  if (poll_reap_) reap_poll_at_ = MonotonicMs() + 1;
  child->pidfd = -1;
  fds_[kSlotStatus] = child->status_fd;
  child->status_fd = -1;
  if (plan.stdio[0].kind == StdioKind::kBuffer) {
    fds_[kSlotStdin] = child->stdio_fd[0];
    child->stdio_fd[0] = -1;
    input_ = plan.stdio[0].data;
    input_len_ = plan.stdio[0].data_len;
    if (input_len_ == 0) CloseSlot(kSlotStdin);  // nothing to send: EOF at once
  }
  for (size_t i = 0; i < child->send_fds.size() && i < plan.sends.size(); i++) {
    sends_.push_back({child->send_fds[i], plan.sends[i].data, plan.sends[i].len, 0});
    child->send_fds[i] = -1;
    if (plan.sends[i].len == 0) CloseSlot(kSlotCount + static_cast<int>(i));  // EOF at once
  }
  child->send_fds.clear();
  for (int i = 1; i <= 2; i++) {
    if (plan.stdio[i].kind != StdioKind::kCapture) continue;
    fds_[i] = child->stdio_fd[i];
    child->stdio_fd[i] = -1;
    result_.captured[i] = true;
    result_.out[i].max = plan.stdio[i].max_buffer;
  }
  if (plan.timeout_ms > 0) timeout_at_ = MonotonicMs() + static_cast<uint64_t>(plan.timeout_ms);
  hand_off_status_ = plan.daemonize && plan.handshake;
  group_leader_ = plan.setsid || plan.pgid == 0;
}

IoSession::~IoSession() {
  for (int slot = 0; slot < kSlotCount; slot++)
    if (fds_[slot] >= 0) close(fds_[slot]);
  for (Send& b : sends_)
    if (b.fd >= 0) close(b.fd);
  CloseLateStatus();
  for (int i = 1; i <= 2; i++) free(result_.out[i].data);
}

void IoSession::CloseSlot(int slot) {
  int* fd = slot < kSlotCount ? &fds_[slot] : &sends_[slot - kSlotCount].fd;
  if (*fd < 0) return;
  BeforeClose(slot);
  close(*fd);
  *fd = -1;
}

void IoSession::OnReady(int slot) {
  if (fd(slot) < 0) return;
  if (slot >= kSlotCount) {
    WriteSend(slot);
    return;
  }
  switch (slot) {
    case kSlotStdin:
      WriteInput();
      break;
    case kSlotStdout:
    case kSlotStderr:
      ReadOutput(slot);
      break;
    case kSlotStatus:
      ReadStatus();
      break;
    case kSlotPidfd:
      Reap();
      break;
  }
}

void IoSession::ReadOutput(int slot) {
  OutputBuffer* b = &result_.out[slot];
  for (int i = 0; i < kMaxReadsPerEvent; i++) {
    if (!GrowOutputBuffer(b, kReadChunk)) {
      // Out of memory for the capture: stop reading this stream, keep what we have.
      CloseSlot(slot);
      result_.output_incomplete = true;
      return;
    }
    size_t room = PopulateAhead(b);
    if (room == 0) room = b->cap - b->len;
    ssize_t n = read(fds_[slot], b->data + b->len, room);
    if (n < 0) {
      if (errno == EINTR) continue;
      if (errno == EAGAIN) return;
      CloseSlot(slot);  // EIO and the like: the stream is over
      return;
    }
    if (n == 0) {
      CloseSlot(slot);
      return;
    }
    b->len += static_cast<size_t>(n);
    if (b->max > 0 && b->len > b->max) {
      b->len = b->max;  // keep exactly the limit
      result_.max_exceeded = slot;
      CloseSlot(slot);
      Terminate(kill_grace_ms_);
      return;
    }
  }
}

bool IoSession::Feed(int fd, const uint8_t* data, size_t len, size_t* off) {
  while (*off < len) {
    ssize_t n = write(fd, data + *off, len - *off);
    if (n < 0) {
      if (errno == EINTR) continue;
      if (errno == EAGAIN) return false;
      // EPIPE: the child closed its end early. Not an error: the rest is discarded. (Node
      // ignores SIGPIPE, so the write returns EPIPE instead of killing the process.)
      return true;
    }
    *off += static_cast<size_t>(n);
  }
  return true;
}

void IoSession::WriteInput() {
  // All written (or refused): close, the child sees EOF.
  if (Feed(fds_[kSlotStdin], input_, input_len_, &input_off_)) CloseSlot(kSlotStdin);
}

// A send buffer: the same as stdin, on the pipe whose read end the child got at its number.
void IoSession::WriteSend(int slot) {
  Send& b = sends_[slot - kSlotCount];
  if (Feed(b.fd, b.data, b.len, &b.off)) CloseSlot(slot);
}

void IoSession::ReadStatus() {
  if (!ReadReports(fds_[kSlotStatus], &result_.has_report, &result_.report, &result_.exec_announced))
    CloseSlot(kSlotStatus);
}

// A daemon with a handshake, once the intermediate is reaped. The intermediate exits when the
// daemon has written its pidfile (or failed before); that ends the run, as in libvirt, whose qemu
// driver runs the command, reads the pidfile, then waits for the handshake and notifies. Waiting
// for the status pipe's EOF instead, as for other daemons, would wait for the daemon's exec,
// which comes only after handshakeNotify(): a run awaited before the handshake would never end.
// What the pipe holds now is read. After a failed intermediate (not exit 0) a report is the
// run's: the daemon wrote it before the intermediate could exit; the pipe is closed (a daemon
// still alive, its intermediate killed, then gets EPIPE, ignored). After a clean exit, a report
// can only be the daemon's, from a step after its pidfile: it belongs to the handshake wait, and
// so does the pipe, for what the daemon reports later (LateReport).
void IoSession::HandOffStatus() {
  hand_off_status_ = false;
  if (fds_[kSlotStatus] >= 0) ReadStatus();
  const bool clean = result_.wait_errno == 0 && WIFEXITED(result_.raw_status) && WEXITSTATUS(result_.raw_status) == 0;
  if (!clean) {
    CloseSlot(kSlotStatus);
    return;
  }
  late_has_report_ = result_.has_report;
  late_report_ = result_.report;
  result_.has_report = false;
  result_.announces_exec = false;  // the intermediate never execs: its clean exit is the run's success
  result_.exec_announced = false;
  if (fds_[kSlotStatus] >= 0) {
    BeforeClose(kSlotStatus);  // stop watching it; the fd stays open
    late_status_fd_ = fds_[kSlotStatus];
    fds_[kSlotStatus] = -1;
  }
}

bool IoSession::LateReport(ChildReport* report) {
  bool announced = false;
  if (late_status_fd_ >= 0 && !ReadReports(late_status_fd_, &late_has_report_, &late_report_, &announced))
    CloseLateStatus();
  if (late_has_report_) *report = late_report_;
  return late_has_report_;
}

void IoSession::CloseLateStatus() {
  if (late_status_fd_ >= 0) close(late_status_fd_);
  late_status_fd_ = -1;
}

void IoSession::Reap() {
  int status = 0;
  pid_t r;
  do {
    r = waitpid(result_.pid, &status, WNOHANG);
  } while (r < 0 && errno == EINTR);
  if (r == 0) return;  // not yet
  if (r < 0) {
    // ECHILD: someone ignored SIGCHLD (the kernel reaped it) or reaped it behind our back. The
    // status is lost; say so rather than invent one.
    result_.wait_errno = errno;
  } else {
    result_.raw_status = status;
  }
  result_.reaped = true;
  poll_reap_ = false;
  reap_poll_at_ = 0;
  CloseSlot(kSlotPidfd);
  CloseSlot(kSlotStdin);  // nobody left to read it
  // Nor the send buffers: a child that exits without reading them ends them (a grandchild that
  // inherited a read end loses the rest, as with stdin).
  for (int slot = kSlotCount; slot < slot_count(); slot++) CloseSlot(slot);
  if (hand_off_status_) HandOffStatus();
  kill_at_ = 0;
  timeout_at_ = 0;
  // A grandchild may still hold the output pipes; give them drain_ms to reach EOF.
  if (fds_[kSlotStdout] >= 0 || fds_[kSlotStderr] >= 0) drain_at_ = MonotonicMs() + static_cast<uint64_t>(drain_ms_);
}

// Without a pidfd, nothing wakes us when the child exits: look with waitpid(WNOHANG), backing
// off (NextReapPollMs).
void IoSession::PollReap(uint64_t now) {
  if (!poll_reap_ || reap_poll_at_ == 0 || now < reap_poll_at_) return;
  Reap();
  if (result_.reaped) return;
  reap_backoff_ms_ = NextReapPollMs(reap_backoff_ms_);
  reap_poll_at_ = now + reap_backoff_ms_;
}

void IoSession::OnTimer() {
  uint64_t now = MonotonicMs();
  PollReap(now);
  if (timeout_at_ != 0 && now >= timeout_at_) {
    timeout_at_ = 0;
    result_.timed_out = true;
    Terminate(kill_grace_ms_);
  }
  if (kill_at_ != 0 && now >= kill_at_) {
    kill_at_ = 0;
    Stop(SIGKILL);
  }
  if (drain_at_ != 0 && now >= drain_at_) {
    drain_at_ = 0;
    if (fds_[kSlotStdout] >= 0 || fds_[kSlotStderr] >= 0) result_.output_incomplete = true;
    CloseSlot(kSlotStdout);
    CloseSlot(kSlotStderr);
  }
}

int64_t IoSession::NextDeadline() const {
  uint64_t next = 0;
  for (uint64_t t : {timeout_at_, kill_at_, drain_at_, reap_poll_at_})
    if (t != 0 && (next == 0 || t < next)) next = t;
  return next == 0 ? -1 : static_cast<int64_t>(next);
}

bool IoSession::Done() const {
  if (!result_.reaped && (fds_[kSlotPidfd] >= 0 || poll_reap_)) return false;
  for (int slot = 0; slot < slot_count(); slot++)
    if (fd(slot) >= 0) return false;
  return true;
}

bool IoSession::Kill(int sig) {
  if (result_.reaped) return false;
  if (fds_[kSlotPidfd] >= 0) {
    // pidfd_send_signal: never hits a recycled pid, unlike kill(2).
    if (syscall(SYS_pidfd_send_signal, fds_[kSlotPidfd], sig, nullptr, 0) != 0) return false;
  } else {
    // No pidfds on this system: kill(2) is still safe while we hold the child unreaped.
    if (!poll_reap_ || kill(result_.pid, sig) != 0) return false;
  }
  result_.killed_by = sig;
  return true;
}

// The group is the child's only while the child is unreaped: until then its pid, and so the
// group id equal to it, cannot be taken by another process. Whether it leads its group is read
// now, not assumed from the plan: a kill that comes before the child's setsid()/setpgid(0), or
// a child that moved to another group since, signals no group at all.
bool IoSession::KillGroup(int sig) {
  if (result_.reaped || result_.pid <= 0) return false;
  if (fds_[kSlotPidfd] < 0 && !poll_reap_) return false;  // released: no longer ours to hold
  if (getpgid(result_.pid) != result_.pid || result_.pid == getpgrp()) return false;
  if (kill(-result_.pid, sig) != 0) return false;
  result_.killed_by = sig;
  return true;
}

void IoSession::Stop(int sig) {
  if (group_leader_ && KillGroup(sig)) return;
  Kill(sig);
}

void IoSession::Terminate(int64_t grace_ms) {
  if (result_.reaped) return;
  if (grace_ms <= 0) {
    Stop(SIGKILL);
    return;
  }
  Stop(SIGTERM);
  uint64_t at = MonotonicMs() + static_cast<uint64_t>(grace_ms);
  if (kill_at_ == 0 || at < kill_at_) kill_at_ = at;
}

void IoSession::Release() {
  for (int slot = 0; slot < slot_count(); slot++) CloseSlot(slot);
  timeout_at_ = kill_at_ = drain_at_ = reap_poll_at_ = 0;
  poll_reap_ = false;
}

}  // namespace vircommand
