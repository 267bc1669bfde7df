// ChildHandle: the JS object of a running child (child_handle.h): spawn() and the methods kill,
// terminate, abortSync, the handshake's wait and notify, release, ref and unref. The child's
// I/O on the event loop is its AsyncSession (async_session.h); pidWait/pidKill are pid_wait.cc.
// Zone: glue (N-API).
// SPDX-License-Identifier: MIT
#include "child_handle.h"

#include <errno.h>
#include <signal.h>
#include <string.h>
#include <unistd.h>

#include "../core/run_sync.h"
#include "../core/spawn.h"
#include "../core/stage.h"
#include "addon_data.h"
#include "async_session.h"
#include "event_loop.h"
#include "js_numbers.h"
#include "plan_from_js.h"
#include "result_to_js.h"

namespace vircommand {

namespace {

Napi::Error ChildFailureError(Napi::Env env, const ChildReport& report, pid_t pid, int status) {
  Napi::Error e = Napi::Error::New(
      env, std::string("child failed at stage ") + StageName(report.stage) + ": " + strerror(report.err));
  e.Set("stage", Napi::String::New(env, StageName(report.stage)));
  e.Set("errno", Napi::Number::New(env, report.err));
  e.Set("value", Napi::Number::New(env, static_cast<double>(report.value)));
  e.Set("pid", Napi::Number::New(env, pid));
  e.Set("status", Napi::Number::New(env, status));
  return e;
}

}  // namespace

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
  auto session =
      std::make_unique<AsyncSession>(env, plan, &child, info[1].As<Napi::Function>(), info[0].As<Napi::Object>());
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
  if (info.Length() > 0 && !info[0].IsUndefined() &&
      !CheckedInt32(info.Env(), info[0], "kill: signal", 0, SIGRTMAX, &sig))
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
    if (self->session_->result().has_report)
      report = self->session_->result().report;
    else
      self->session_->LateReport(&report);
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

}  // namespace vircommand
