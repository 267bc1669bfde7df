// AsyncSession: the I/O session of one async child (io_session.h) driven on Node's event loop,
// one uv_poll per fd and one uv_timer for the deadlines; it calls the run's onDone with the
// result. Owned by its ChildHandle (child_handle.h), the JS object that controls it.
// Zone: glue (N-API).
// SPDX-License-Identifier: MIT
#pragma once

#include <napi.h>
#include <signal.h>
#include <sys/wait.h>
#include <uv.h>

#include <vector>

#include "../core/io_session.h"
#include "../core/run_sync.h"
#include "addon_data.h"
#include "event_loop.h"
#include "result_to_js.h"

namespace vircommand {

// The session of one async child, driven by uv_poll handles and one uv_timer.
class AsyncSession : public IoSession, public LoopResident {
 public:
  AsyncSession(Napi::Env env, const ExecPlan& plan, SpawnedChild* child, Napi::Function on_done, Napi::Object js_plan)
      : IoSession(plan, child), env_(env) {
    on_done_ = Napi::Persistent(on_done);
    // The stdin and send buffers' bytes are read in place from the plan's Buffers: keep the plan,
    // and so them, alive. A reference cannot keep a detached ArrayBuffer's memory: those Buffers
    // are the command's private copies (src/validate.ts toPrivateBytes), which no caller can
    // transfer or detach.
    js_plan_ = Napi::Persistent(js_plan);
  }

  // The environment is going away (a Worker exits) with this child still running: kill it and
  // reap it, so it neither outlives its parent thread unwatched nor stays a zombie.
  void Teardown() override {
    if (!finished_ && Kill(SIGKILL)) waitpid(pid(), nullptr, 0);
    StopWatching();
  }

  void Start(Napi::Object owner) {
    owner_ = Napi::Persistent(owner);  // keeps the handle alive while the child runs
    GetAddonData(env_)->residents.insert(this);
    registered_ = true;
    uv_loop_t* loop = LoopOf(env_);
    timer_ = new uv_timer_t;
    uv_timer_init(loop, timer_);
    timer_->data = this;
    polls_.assign(static_cast<size_t>(slot_count()), nullptr);
    for (int slot = 0; slot < slot_count(); slot++) {
      if (fd(slot) < 0) continue;
      polls_[slot] = new uv_poll_t;
      if (uv_poll_init(loop, polls_[slot], fd(slot)) != 0) {
        delete polls_[slot];
        polls_[slot] = nullptr;
        continue;
      }
      polls_[slot]->data = this;
      uv_poll_start(polls_[slot], IsInput(slot) ? UV_WRITABLE : UV_READABLE, OnPoll);
    }
    Pump(false);
  }

  // After any event: finish, or re-arm the timer for the next deadline.
  void Pump(bool from_js) {
    if (finished_) return;
    if (Done()) {
      Finish(from_js);
      return;
    }
    int64_t deadline = NextDeadline();
    if (deadline < 0) {
      uv_timer_stop(timer_);
    } else {
      int64_t left = deadline - static_cast<int64_t>(MonotonicMs());
      uv_timer_start(timer_, OnTimerCb, left < 0 ? 0 : static_cast<uint64_t>(left), 0);
    }
  }

  void AbortNow(int64_t grace_ms) {
    if (finished_) return;
    Terminate(grace_ms);
    SetDrainMs(0);  // disposing: do not wait for a grandchild's pipes
    RunSessionBlocking(this);
    Pump(true);
  }

  void ReleaseNow() {
    if (!finished_) StopWatching();
  }

  // Ends the session without a result: closes our fds and handles (the child is not reaped
  // here) and drops every reference to JavaScript.
  void StopWatching() {
    if (!finished_) Release();
    finished_ = true;
    CloseTimer();
    owner_.Reset();
    on_done_.Reset();
    js_plan_.Reset();
    Unregister();
  }

  void SetRef(bool ref) {
    for (uv_poll_t* p : polls_)
      if (p != nullptr) ref ? uv_ref(reinterpret_cast<uv_handle_t*>(p)) : uv_unref(reinterpret_cast<uv_handle_t*>(p));
    if (timer_ != nullptr)
      ref ? uv_ref(reinterpret_cast<uv_handle_t*>(timer_)) : uv_unref(reinterpret_cast<uv_handle_t*>(timer_));
  }

  bool finished() const { return finished_; }

  ~AsyncSession() override {
    for (int slot = 0; slot < static_cast<int>(polls_.size()); slot++) BeforeClose(slot);
    CloseTimer();
    Unregister();
  }

 protected:
  void BeforeClose(int slot) override {
    if (slot >= static_cast<int>(polls_.size()) || polls_[slot] == nullptr) return;
    uv_close(reinterpret_cast<uv_handle_t*>(polls_[slot]), DeleteHandle<uv_poll_t>);  // stops watching now
    polls_[slot] = nullptr;
  }

 private:
  static void OnPoll(uv_poll_t* handle, int status, int events) {
    (void)status;
    (void)events;
    AsyncSession* self = static_cast<AsyncSession*>(handle->data);
    for (int slot = 0; slot < static_cast<int>(self->polls_.size()); slot++) {
      if (self->polls_[slot] == handle) {
        self->OnReady(slot);
        break;
      }
    }
    self->Pump(false);
  }

  static void OnTimerCb(uv_timer_t* timer) {
    AsyncSession* self = static_cast<AsyncSession*>(timer->data);
    self->OnTimer();
    self->Pump(false);
  }

  void Unregister() {
    if (!registered_) return;
    registered_ = false;
    GetAddonData(env_)->residents.erase(this);
  }

  void CloseTimer() {
    if (timer_ == nullptr) return;
    uv_close(reinterpret_cast<uv_handle_t*>(timer_), DeleteHandle<uv_timer_t>);
    timer_ = nullptr;
  }

  void Finish(bool from_js) {
    finished_ = true;
    js_plan_.Reset();  // stdin is closed by now: its data is no longer read
    CloseTimer();
    Unregister();
    Napi::HandleScope scope(env_);
    Napi::Object result = ResultToJs(env_, &mutable_result());
    Napi::FunctionReference cb = std::move(on_done_);
    Napi::Object owner = owner_.Value();
    owner_.Reset();
    InvokeCallback(env_, cb, owner, {result}, from_js);
  }

  Napi::Env env_;
  Napi::ObjectReference js_plan_;
  Napi::FunctionReference on_done_;
  Napi::ObjectReference owner_;
  std::vector<uv_poll_t*> polls_;  // one per slot (the send buffers' slots included)
  uv_timer_t* timer_ = nullptr;
  bool finished_ = false;
  bool registered_ = false;
};

}  // namespace vircommand
