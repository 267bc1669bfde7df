// pidWait and pidKill (pid_wait.h): a released child waited for on the event loop, a uv_poll on
// its pidfd or a backing-off waitpid timer; a signal sent through a pidfd.
// Zone: glue (N-API).
// SPDX-License-Identifier: MIT
#include "pid_wait.h"

#include <errno.h>
#include <signal.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../core/io_session.h"
#include "../core/spawn.h"
#include "../core/stage.h"
#include "addon_data.h"
#include "event_loop.h"
#include "js_numbers.h"
#include "result_to_js.h"

namespace vircommand {

namespace {
// Waits for one released child: a uv_poll on its pidfd, or, where the system has no pidfds
// (ENOSYS: kernels before 5.3, valgrind 3.19), a uv_timer that polls waitpid(WNOHANG) backing
// off (NextReapPollMs). The child is ours and unreaped, so its pid cannot be recycled.
struct PidWaiter : LoopResident {
  uv_poll_t poll;
  uv_timer_t timer;
  bool polling = false;  // no pidfds: the timer is the handle
  uint64_t backoff_ms = 1;
  pid_t pid;
  int pidfd = -1;
  Napi::FunctionReference cb;
  AddonData* data;

  uv_handle_t* handle() {
    return polling ? reinterpret_cast<uv_handle_t*>(&timer) : reinterpret_cast<uv_handle_t*>(&poll);
  }

  // Closes the handle; the close callback frees this and its pidfd.
  void Close() {
    data->residents.erase(this);
    uv_close(handle(), [](uv_handle_t* h) {
      auto* w = static_cast<PidWaiter*>(h->data);
      if (w->pidfd >= 0) close(w->pidfd);
      delete w;
    });
  }

  // The pid was released by its Command; leave it running, stop watching it.
  void Teardown() override {
    cb.Reset();
    Close();
  }

  // Reaps the child if it has exited and reports to the callback; false while it runs.
  bool TryReap() {
    int status = 0;
    pid_t r;
    do {
      r = waitpid(pid, &status, WNOHANG);
    } while (r < 0 && errno == EINTR);
    if (r == 0) return false;
    int err = r < 0 ? errno : 0;
    Napi::Env env = cb.Env();
    Napi::HandleScope scope(env);
    Napi::FunctionReference callback = std::move(cb);
    Close();
    Napi::Value error = env.Null();
    if (err != 0) error = SpawnFailureToJs(env, SpawnFailure{kStageWait, err}).Value();
    InvokeCallback(env, callback, env.Global(), {error, Napi::Number::New(env, status)}, false);
    return true;
  }

  void ArmTimer() {
    uv_timer_start(
        &timer,
        [](uv_timer_t* t) {
          auto* w = static_cast<PidWaiter*>(t->data);
          if (w->TryReap()) return;
          w->backoff_ms = NextReapPollMs(w->backoff_ms);
          w->ArmTimer();
        },
        backoff_ms, 0);
  }
};
}  // namespace

Napi::Value PidWait(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 2 || !info[0].IsNumber() || !info[1].IsFunction()) {
    Napi::TypeError::New(env, "pidWait(pid, cb)").ThrowAsJavaScriptException();
    return env.Undefined();
  }
  // pid 0 or below would make waitpid/kill act on a process group: never.
  pid_t pid;
  if (!CheckedInt32(env, info[0], "pidWait: pid", 1, kIntMax, &pid)) return env.Undefined();
  int pidfd = static_cast<int>(syscall(SYS_pidfd_open, pid, 0));
  if (pidfd < 0 && errno != ENOSYS) {
    SpawnFailure f{kStageWait, errno};
    SpawnFailureToJs(env, f).ThrowAsJavaScriptException();
    return env.Undefined();
  }
  auto* w = new PidWaiter;
  w->pid = pid;
  w->pidfd = pidfd;
  w->polling = pidfd < 0;
  w->cb = Napi::Persistent(info[1].As<Napi::Function>());
  w->data = GetAddonData(env);
  w->data->residents.insert(w);
  if (w->polling) {
    uv_timer_init(LoopOf(env), &w->timer);
    w->timer.data = w;
    w->ArmTimer();
    return env.Undefined();
  }
  uv_poll_init(LoopOf(env), &w->poll, pidfd);
  w->poll.data = w;
  uv_poll_start(&w->poll, UV_READABLE,
                [](uv_poll_t* handle, int, int) { static_cast<PidWaiter*>(handle->data)->TryReap(); });
  return env.Undefined();
}

Napi::Value PidKill(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  pid_t pid;
  int sig;
  if (!CheckedInt32(env, info[0], "pidKill: pid", 1, kIntMax, &pid) ||
      !CheckedInt32(env, info.Length() > 1 ? info[1] : env.Undefined(), "pidKill: signal", 0, SIGRTMAX, &sig))
    return env.Undefined();
  int pidfd = static_cast<int>(syscall(SYS_pidfd_open, pid, 0));
  // No pidfds on this system: kill(2) is safe for a released child we have not reaped yet (the
  // only pids the JavaScript side passes here).
  if (pidfd < 0 && errno == ENOSYS) return Napi::Boolean::New(env, kill(pid, sig) == 0);
  if (pidfd < 0) return Napi::Boolean::New(env, false);
  bool sent = syscall(SYS_pidfd_send_signal, pidfd, sig, nullptr, 0) == 0;
  close(pidfd);
  return Napi::Boolean::New(env, sent);
}

}  // namespace vircommand
