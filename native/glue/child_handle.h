// ChildHandle: a running child watched on Node's event loop (uv_poll on its pidfd and pipes; no
// threadpool thread is ever held), and the JS object that controls it.
// Zone: glue (N-API).
// SPDX-License-Identifier: MIT
#pragma once

#include <napi.h>
#include <uv.h>

#include <memory>

#include "../core/io_session.h"
#include "addon_data.h"

namespace vircommand {

class AsyncSession;

// A LoopResident while it holds handshake fds or watches the ready pipe: the handshake of a
// daemon outlives its run (and its session's registration).
class ChildHandle : public Napi::ObjectWrap<ChildHandle>, public LoopResident {
 public:
  static Napi::Function Init(Napi::Env env);
  // spawn(plan, onDone(result)) -> ChildHandle
  static Napi::Value Spawn(const Napi::CallbackInfo& info);
  explicit ChildHandle(const Napi::CallbackInfo& info);
  ~ChildHandle() override;
  // The environment is going away: stop watching the ready pipe, close the handshake fds (a
  // child waiting at its handshake then fails there and exits), call no JavaScript.
  void Teardown() override;

 private:
  Napi::Value Kill(const Napi::CallbackInfo& info);
  Napi::Value Terminate(const Napi::CallbackInfo& info);
  Napi::Value AbortSync(const Napi::CallbackInfo& info);
  Napi::Value HandshakeWait(const Napi::CallbackInfo& info);
  Napi::Value HandshakeNotify(const Napi::CallbackInfo& info);
  Napi::Value Release(const Napi::CallbackInfo& info);
  Napi::Value RefJs(const Napi::CallbackInfo& info);
  Napi::Value UnrefJs(const Napi::CallbackInfo& info);

  static void OnReadyPipe(uv_poll_t* handle, int status, int events);
  void StopReadyPoll();
  // Registers as a resident while a handshake fd is open, unregisters once none is.
  void UpdateResidence();

  friend class AsyncSession;
  std::unique_ptr<AsyncSession> session_;
  int ready_fd_ = -1;  // handshake: the child says it is ready
  int go_fd_ = -1;  // handshake: we let it exec
  uv_poll_t* ready_poll_ = nullptr;
  Napi::FunctionReference handshake_cb_;
  AddonData* resident_of_ = nullptr;  // set while registered
};

}  // namespace vircommand
