// ChildHandle: a running child watched on Node's event loop. See child_handle.h.
// Zone: glue (N-API).
// SPDX-License-Identifier: MIT
#include "child_handle.h"

#include <errno.h>
#include <signal.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <vector>

#include "../core/run_sync.h"
#include "plan_from_js.h"
#include "../core/spawn.h"
#include "../core/stage.h"
#include "addon_data.h"
#include "js_numbers.h"
#include "plan_from_js.h"
#include "result_to_js.h"

namespace vircommand {

namespace {

uv_loop_t* LoopOf(Napi::Env env) {
  uv_loop_t* loop = nullptr;
  napi_get_uv_event_loop(env, &loop);
  return loop;
}

// uv_close() callback: frees a handle allocated with `new T`, as that same type.
template <typename T>
void DeleteHandle(uv_handle_t* h) {
  delete reinterpret_cast<T*>(h);
}

// Calls a JS callback from native code. From a libuv callback, napi_make_callback also runs the
// microtasks (promise continuations) after it. Raw N-API on purpose: while a Worker is being
// terminated, Node still runs libuv callbacks but JavaScript can no longer run; the call then
// fails, which is fine, where node-addon-api would turn the failure into a fatal error.
void InvokeCallback(Napi::Env env, const Napi::FunctionReference& fn, napi_value recv, std::initializer_list<napi_value> args,
                    bool from_js) {
  if (fn.IsEmpty()) return;
  napi_value result;
  std::vector<napi_value> argv(args);
  napi_status status = from_js ? napi_call_function(env, recv, fn.Value(), argv.size(), argv.data(), &result)
                               : napi_make_callback(env, nullptr, recv, fn.Value(), argv.size(), argv.data(), &result);
  if (status != napi_ok && !from_js) {
    // An exception thrown by the callback itself goes where Node sends uncaught exceptions;
    // one left pending because JS cannot run any more is dropped.
    bool pending = false;
    napi_is_exception_pending(env, &pending);
    if (pending) {
      napi_value error;
      napi_get_and_clear_last_exception(env, &error);
      napi_fatal_exception(env, error);
    }
  }
}

Napi::Error ChildFailureError(Napi::Env env, const ChildReport& report, pid_t pid, int status) {
  Napi::Error e = Napi::Error::New(env, std::string("child failed at stage ") + StageName(report.stage) + ": " +
                                            strerror(report.err));
  e.Set("stage", Napi::String::New(env, StageName(report.stage)));
  e.Set("errno", Napi::Number::New(env, report.err));
  e.Set("value", Napi::Number::New(env, static_cast<double>(report.value)));
  e.Set("pid", Napi::Number::New(env, pid));
  e.Set("status", Napi::Number::New(env, status));
  return e;
}

}  // namespace

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
    if (timer_ != nullptr) ref ? uv_ref(reinterpret_cast<uv_handle_t*>(timer_)) : uv_unref(reinterpret_cast<uv_handle_t*>(timer_));
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

Napi::Function ChildHandle::Init(Napi::Env env) {
  return DefineClass(env, "ChildHandle",
                     {InstanceMethod("kill", &ChildHandle::Kill), InstanceMethod("terminate", &ChildHandle::Terminate),
                      InstanceMethod("abortSync", &ChildHandle::AbortSync),
                      InstanceMethod("handshakeWait", &ChildHandle::HandshakeWait),
                      InstanceMethod("handshakeNotify", &ChildHandle::HandshakeNotify),
                      InstanceMethod("release", &ChildHandle::Release), InstanceMethod("ref", &ChildHandle::RefJs),
                      InstanceMethod("unref", &ChildHandle::UnrefJs)});
}

ChildHandle::ChildHandle(const Napi::CallbackInfo& info) : Napi::ObjectWrap<ChildHandle>(info) {}

ChildHandle::~ChildHandle() {
  StopReadyPoll();
  CloseFd(&ready_fd_);
  CloseFd(&go_fd_);
  UpdateResidence();
}

void ChildHandle::StopReadyPoll() {
  if (ready_poll_ == nullptr) return;
  uv_close(reinterpret_cast<uv_handle_t*>(ready_poll_), DeleteHandle<uv_poll_t>);
  ready_poll_ = nullptr;
}

void ChildHandle::UpdateResidence() {
  bool holds = ready_fd_ >= 0 || go_fd_ >= 0 || ready_poll_ != nullptr;
  if (holds && resident_of_ == nullptr) {
    resident_of_ = GetAddonData(Env());
    resident_of_->residents.insert(this);
  } else if (!holds && resident_of_ != nullptr) {
    resident_of_->residents.erase(this);
    resident_of_ = nullptr;
  }
}

void ChildHandle::Teardown() {
  if (ready_poll_ != nullptr) {
    StopReadyPoll();
    handshake_cb_.Reset();
    Unref();  // the wait's own reference
  }
  CloseFd(&ready_fd_);
  CloseFd(&go_fd_);
  if (session_) session_->CloseLateStatus();
  UpdateResidence();
}

Napi::Value ChildHandle::Spawn(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 2 || !info[0].IsObject() || !info[1].IsFunction()) {
    Napi::TypeError::New(env, "spawn(plan, onDone) expects an object and a function").ThrowAsJavaScriptException();
    return env.Undefined();
  }
  ExecPlan plan;
  if (!PlanFromJs(env, info[0].As<Napi::Object>(), &plan)) return env.Undefined();
  // The handle first, then the child: a child never exists without the handle (and session)
  // that kills and reaps it when the environment goes away. In a Worker being terminated, no
  // JavaScript object can be made any more (nor can the plan be trusted: see JsStillRuns), and
  // nothing is started.
  if (!JsStillRuns(env, info[0])) return env.Undefined();
  Napi::Object obj = GetAddonData(env)->child_handle_ctor.New({});
  ChildHandle* self = obj.IsEmpty() ? nullptr : Napi::ObjectWrap<ChildHandle>::Unwrap(obj);
  if (self == nullptr) return env.Undefined();
  SpawnedChild child;
  SpawnFailure failure;
  if (!vircommand::Spawn(plan, &child, &failure)) {
    SpawnFailureToJs(env, failure).ThrowAsJavaScriptException();
    return env.Undefined();
  }
  auto session = std::make_unique<AsyncSession>(env, plan, &child, info[1].As<Napi::Function>(), info[0].As<Napi::Object>());
  if (child.vforked && !plan.daemonize) {
    // The vfork child has exec'd or exited by now: an exec failure is known at once. Reap it
    // here and throw, so runAsync() fails synchronously with the stage, leaving nothing behind.
    session->ReadStatusNow();
    if (session->result().has_report) {
      session->SetDrainMs(0);
      RunSessionBlocking(session.get());
      Napi::Error e = ChildFailureError(env, session->result().report, child.pid, session->result().raw_status);
      for (int i = 0; i < 3; i++) CloseFd(&child.stdio_fd[i]);
      CloseFd(&child.handshake_ready_fd);
      CloseFd(&child.handshake_go_fd);
      e.ThrowAsJavaScriptException();
      return env.Undefined();
    }
  }
  self->ready_fd_ = child.handshake_ready_fd;
  self->go_fd_ = child.handshake_go_fd;
  self->UpdateResidence();
  self->session_ = std::move(session);
  // Watched (and so killed and reaped with the environment) from here on, whatever happens to
  // the N-API calls below: from now on, they fail quietly if the environment is terminating.
  self->session_->Start(obj);
  obj.Set("pid", Napi::Number::New(env, child.pid));
  obj.Set("stdinFd", Napi::Number::New(env, child.stdio_fd[0]));
  obj.Set("stdoutFd", Napi::Number::New(env, child.stdio_fd[1]));
  obj.Set("stderrFd", Napi::Number::New(env, child.stdio_fd[2]));
  return obj;
}

Napi::Value ChildHandle::Kill(const Napi::CallbackInfo& info) {
  int sig = SIGTERM;
  if (info.Length() > 0 && !info[0].IsUndefined() && !CheckedInt32(info.Env(), info[0], "kill: signal", 0, SIGRTMAX, &sig))
    return info.Env().Undefined();
  bool group = info.Length() > 1 && info[1].IsBoolean() && info[1].As<Napi::Boolean>().Value();
  bool sent = session_ && !session_->finished() && (group ? session_->KillGroup(sig) : session_->Kill(sig));
  return Napi::Boolean::New(info.Env(), sent);
}

Napi::Value ChildHandle::Terminate(const Napi::CallbackInfo& info) {
  int64_t grace = info.Length() > 0 ? MillisFromJs(info[0], 100) : 100;
  if (session_ && !session_->finished()) {
    session_->Terminate(grace);
    session_->Pump(true);
  }
  return info.Env().Undefined();
}

Napi::Value ChildHandle::AbortSync(const Napi::CallbackInfo& info) {
  int64_t grace = info.Length() > 0 ? MillisFromJs(info[0], 100) : 100;
  if (session_) session_->AbortNow(grace);
  return info.Env().Undefined();
}

Napi::Value ChildHandle::HandshakeWait(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (ready_fd_ < 0 || ready_poll_ != nullptr || info.Length() < 1 || !info[0].IsFunction()) {
    Napi::Error::New(env, "handshakeWait: no handshake pending").ThrowAsJavaScriptException();
    return env.Undefined();
  }
  handshake_cb_ = Napi::Persistent(info[0].As<Napi::Function>());
  ready_poll_ = new uv_poll_t;
  uv_poll_init(LoopOf(env), ready_poll_, ready_fd_);
  ready_poll_->data = this;
  Ref();  // keep this object alive until the answer
  uv_poll_start(ready_poll_, UV_READABLE, OnReadyPipe);
  return env.Undefined();
}

void ChildHandle::OnReadyPipe(uv_poll_t* handle, int, int) {
  ChildHandle* self = static_cast<ChildHandle*>(handle->data);
  char byte = 0;
  ssize_t n;
  do {
    n = read(self->ready_fd_, &byte, 1);
  } while (n < 0 && errno == EINTR);
  if (n < 0 && errno == EAGAIN) return;
  self->StopReadyPoll();
  CloseFd(&self->ready_fd_);
  // Answered: the daemon's late reports (a daemon whose run ended) are no longer needed.
  ChildReport report = {kReportMagic, kStageHandshake, EIO, 0, 0};
  bool failed = n != 1 || byte != '1';
  if (failed && self->session_) {
    // The child died before it was ready: its report, if any, says at which stage. A daemon's
    // comes through the status pipe its run handed over (IoSession::HandOffStatus).
    self->session_->ReadStatusNow();
    if (self->session_->result().has_report) report = self->session_->result().report;
    else self->session_->LateReport(&report);
  }
  if (self->session_) self->session_->CloseLateStatus();
  self->UpdateResidence();
  Napi::Env env = self->Env();
  Napi::HandleScope scope(env);
  Napi::Value arg = env.Null();
  if (failed) arg = ChildFailureError(env, report, self->session_ ? self->session_->pid() : -1, 0).Value();
  Napi::FunctionReference cb = std::move(self->handshake_cb_);
  napi_value recv = self->Value();
  self->Unref();
  InvokeCallback(env, cb, recv, {arg}, false);
}

Napi::Value ChildHandle::HandshakeNotify(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (go_fd_ < 0) {
    Napi::Error::New(env, "handshakeNotify: no handshake pending").ThrowAsJavaScriptException();
    return env.Undefined();
  }
  char go = '1';
  ssize_t n;
  do {
    n = write(go_fd_, &go, 1);
  } while (n < 0 && errno == EINTR);
  CloseFd(&go_fd_);
  if (session_) session_->CloseLateStatus();  // what a daemon says after this goes unheard, as in libvirt
  UpdateResidence();
  return Napi::Boolean::New(env, n == 1);
}

// Stops watching the child and gives up its handshake: the go pipe is closed, so a child still
// waiting at its handshake fails there (ECANCELED) and exits instead of waiting for ever; a
// pending handshakeWait() then gets its answer from the ready pipe.
Napi::Value ChildHandle::Release(const Napi::CallbackInfo& info) {
  if (session_) {
    session_->ReleaseNow();
    session_->CloseLateStatus();
  }
  CloseFd(&go_fd_);
  if (ready_poll_ == nullptr) CloseFd(&ready_fd_);
  UpdateResidence();
  return info.Env().Undefined();
}

Napi::Value ChildHandle::RefJs(const Napi::CallbackInfo& info) {
  if (session_) session_->SetRef(true);
  return info.Env().Undefined();
}

Napi::Value ChildHandle::UnrefJs(const Napi::CallbackInfo& info) {
  if (session_) session_->SetRef(false);
  return info.Env().Undefined();
}

// --- pidWait / pidKill --------------------------------------------------------------------

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
    uv_timer_start(&timer, [](uv_timer_t* t) {
      auto* w = static_cast<PidWaiter*>(t->data);
      if (w->TryReap()) return;
      w->backoff_ms = NextReapPollMs(w->backoff_ms);
      w->ArmTimer();
    }, backoff_ms, 0);
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
  uv_poll_start(&w->poll, UV_READABLE, [](uv_poll_t* handle, int, int) {
    static_cast<PidWaiter*>(handle->data)->TryReap();
  });
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
