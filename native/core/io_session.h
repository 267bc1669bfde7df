// The I/O and lifetime state of one running child: feeds stdin, captures stdout/stderr, reads
// the status pipe, reaps through the pidfd (or, where the system has no pidfds, by polling
// waitpid with a backoff), and applies the timeout, kill escalation and drain
// deadlines. It does no waiting itself: a driver (run_sync.cc with poll(), or the async handle
// with libuv) tells it which fd is ready and what time it is.
// Zone: parent. No N-API.
// SPDX-License-Identifier: MIT
#pragma once

#include <poll.h>
#include <stdint.h>

#include <vector>

#include "exec_plan.h"
#include "output_buffer.h"
#include "spawn.h"

namespace vircommand {

// The fixed slots; the send buffers (setSendBuffer) follow them, from kSlotCount on, so a
// session has slot_count() slots in all.
enum Slot : int { kSlotStdin = 0, kSlotStdout = 1, kSlotStderr = 2, kSlotStatus = 3, kSlotPidfd = 4, kSlotCount };

struct SessionResult {
  pid_t pid = -1;
  bool reaped = false;
  int raw_status = 0;
  int wait_errno = 0;  // waitpid failed (ECHILD when SIGCHLD is ignored)
  bool has_report = false;
  ChildReport report = {};
  bool announces_exec = false;  // the child was to report "about to exec" (fork() path)
  bool exec_announced = false;  // ... and did
  bool captured[3] = {false, false, false};
  OutputBuffer out[3];  // [1] stdout, [2] stderr
  bool timed_out = false;
  int max_exceeded = 0;  // 1 or 2: that stream passed its limit
  bool output_incomplete = false;
  int killed_by = 0;
};

uint64_t MonotonicMs();

// Without pidfds (ENOSYS: kernels before 5.3, valgrind 3.19) an exit is found by polling
// waitpid(WNOHANG): first after 1 ms, then each wait twice the last, up to 50 ms, so a
// long-running child costs ~20 wakeups a second. Used by IoSession and by pidWait.
inline uint64_t NextReapPollMs(uint64_t last_ms) { return last_ms * 2 > 50 ? 50 : last_ms * 2; }

class IoSession {
 public:
  // Reads the plan's stdin data in place: it must outlive the session.
  IoSession(const ExecPlan& plan, SpawnedChild* child);
  virtual ~IoSession();

  int slot_count() const { return kSlotCount + static_cast<int>(sends_.size()); }
  // The fd of a slot, or -1 when that slot needs no more watching.
  int fd(int slot) const { return slot < kSlotCount ? fds_[slot] : sends_[slot - kSlotCount].fd; }
  static bool IsInput(int slot) { return slot == kSlotStdin || slot >= kSlotCount; }
  short events(int slot) const { return IsInput(slot) ? POLLOUT : POLLIN; }
  void OnReady(int slot);
  void OnTimer();
  int64_t NextDeadline() const;  // monotonic ms, or -1
  bool Done() const;

  bool Kill(int sig);
  // Signals the process group the child leads (made by setsid() or setpgid(0)): false, and
  // nothing sent, once the child is reaped or when it does not lead its group (checked now).
  bool KillGroup(int sig);
  // SIGTERM, then SIGKILL after grace_ms; to the child's own group when it was made to lead one.
  void Terminate(int64_t grace_ms);
  // Stops watching: closes our pipes and the pidfd, leaves the child unreaped.
  void Release();
  // Reads what the status pipe holds now, without waiting.
  void ReadStatusNow() { OnReady(kSlotStatus); }
  // A daemon with a handshake: the status pipe outlives the run (see HandOffStatus in
  // io_session.cc). The daemon's failure report, if it made one: true, and *report filled.
  bool LateReport(ChildReport* report);
  void CloseLateStatus();
  void SetDrainMs(int64_t ms) { drain_ms_ = ms; }
  const SessionResult& result() const { return result_; }
  SessionResult& mutable_result() { return result_; }
  pid_t pid() const { return result_.pid; }

 protected:
  // A driver that watches fds (libuv) must stop watching before the fd is closed.
  virtual void BeforeClose(int slot) { (void)slot; }

 private:
  void CloseSlot(int slot);
  void ReadOutput(int slot);
  void WriteInput();
  void WriteSend(int slot);
  // Writes data[*off, len) to fd without blocking; true when the slot is finished (all written,
  // or the reader is gone: EPIPE, the rest is discarded).
  static bool Feed(int fd, const uint8_t* data, size_t len, size_t* off);
  void ReadStatus();
  void Reap();
  void PollReap(uint64_t now);
  void HandOffStatus();
  // Terminate()'s signals: to the whole group when the plan made the child lead one.
  void Stop(int sig);

  int fds_[kSlotCount] = {-1, -1, -1, -1, -1};
  struct Send {
    int fd;
    const uint8_t* data;
    size_t len;
    size_t off;
  };
  std::vector<Send> sends_;
  const uint8_t* input_ = nullptr;
  size_t input_len_ = 0;
  size_t input_off_ = 0;
  // setsid() or setpgid(0): abort(), free(), a timeout and maxBuffer end the child's group.
  bool group_leader_ = false;
  int64_t kill_grace_ms_;
  int64_t drain_ms_;
  uint64_t timeout_at_ = 0, kill_at_ = 0, drain_at_ = 0;
  // No pidfd (ENOSYS): the next waitpid(WNOHANG) poll, and the current backoff step.
  bool poll_reap_ = false;
  uint64_t reap_poll_at_ = 0;
  uint64_t reap_backoff_ms_ = 1;
  // A daemon with a handshake: the status pipe once the intermediate is reaped, and the first
  // failure the daemon reported on it.
  bool hand_off_status_ = false;
  int late_status_fd_ = -1;
  bool late_has_report_ = false;
  ChildReport late_report_ = {};
  SessionResult result_;
};

}  // namespace vircommand
