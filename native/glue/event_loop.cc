// The event loop's side of the glue (event_loop.h).
// Zone: glue (N-API).
// SPDX-License-Identifier: MIT
#include "event_loop.h"

#include <vector>

namespace vircommand {

uv_loop_t* LoopOf(Napi::Env env) {
  uv_loop_t* loop = nullptr;
  napi_get_uv_event_loop(env, &loop);
  return loop;
}

void InvokeCallback(Napi::Env env, const Napi::FunctionReference& fn, napi_value recv,
                    std::initializer_list<napi_value> args, bool from_js) {
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

}  // namespace vircommand
