// ChildHandle: a running child watched on Node's event loop (uv_poll on its pidfd and pipes; no
// threadpool thread is ever held), and the JS object that controls it.
// Zone: glue (N-API).
// SPDX-License-Identifier: MIT
#pragma once

#include <napi.h>
#include <uv.h>

#include <memory>

#include "../core/io_session.h"

namespace vircommand {

class AsyncSession;

class ChildHandle : public Napi::ObjectWrap<ChildHandle> {
 public:
  static Napi::Function Init(Napi::Env env);
  // spawn(plan, onDone(result)) -> ChildHandle
  static Napi::Value Spawn(const Napi::CallbackInfo& info);
  explicit ChildHandle(const Napi::CallbackInfo& info);
  ~ChildHandle() override;

 private:
  Napi::Value Kill(const Napi::CallbackInfo& info);
  Napi::Value Terminate(const Napi::CallbackInfo& info);
  Napi::Value AbortSync(const Napi::CallbackInfo& info);
  Napi::Value HandshakeWait(const Napi::CallbackInfo& info);
  Napi::Value HandshakeNotify(const Napi::CallbackInfo& info);
  Napi::Value Release(const Napi::CallbackInfo& info);
  Napi::Value RefJs(const Napi::CallbackInfo& info);
  Napi::Value UnrefJs(const Napi::CallbackInfo& info);

  friend class AsyncSession;
  std::unique_ptr<AsyncSession> session_;
  int ready_fd_ = -1;  // handshake: the child says it is ready
  int go_fd_ = -1;     // handshake: we let it exec
  uv_poll_t* ready_poll_ = nullptr;
  Napi::FunctionReference handshake_cb_;
};

// pidWait(pid, cb(err, rawStatus)) and pidKill(pid, signal) for pids a Command let go of.
Napi::Value PidWait(const Napi::CallbackInfo& info);
Napi::Value PidKill(const Napi::CallbackInfo& info);

}  // namespace vircommand
