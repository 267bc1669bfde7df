// The event loop's side of the glue, shared by the async child (async_session.h, child_handle.cc)
// and the released-pid waiter (pid_wait.cc): the libuv loop of an environment, the close
// callback that frees a handle, and calling JavaScript from a libuv callback.
// Zone: glue (N-API).
// SPDX-License-Identifier: MIT
#pragma once

#include <napi.h>
#include <uv.h>

#include <initializer_list>

namespace vircommand {

uv_loop_t* LoopOf(Napi::Env env);

// uv_close() callback: frees a handle allocated with `new T`, as that same type.
template <typename T>
void DeleteHandle(uv_handle_t* h) {
  delete reinterpret_cast<T*>(h);
}

// Calls a JS callback from native code. From a libuv callback, napi_make_callback also runs the
// microtasks (promise continuations) after it. Raw N-API on purpose: while a Worker is being
// terminated, Node still runs libuv callbacks but JavaScript can no longer run; the call then
// fails, which is fine, where node-addon-api would turn the failure into a fatal error.
void InvokeCallback(Napi::Env env, const Napi::FunctionReference& fn, napi_value recv,
                    std::initializer_list<napi_value> args, bool from_js);

}  // namespace vircommand
