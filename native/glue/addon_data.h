// Per-environment state of the addon (the main thread and each Worker have their own).
// Zone: glue (N-API).
// SPDX-License-Identifier: MIT
#pragma once

#include <napi.h>

#include <unordered_set>

// A Worker being terminated keeps running native code (a runSync() in progress, libuv callbacks
// on its loop) after JavaScript can no longer run there; every N-API call that needs JavaScript
// then fails. node-addon-api reports such a failure by throwing it, and a throw that cannot happen
// either is a fatal error that aborts the whole process, unless this is defined (binding.gyp,
// CMakeLists.txt). With it, the calls fail quietly: empty values, nothing thrown. The glue must
// then never act on what a failed call returned (see JsStillRuns).
#ifndef NODE_API_SWALLOW_UNTHROWABLE_EXCEPTIONS
#error "build with NODE_API_SWALLOW_UNTHROWABLE_EXCEPTIONS (see native/glue/addon_data.h)"
#endif

namespace vircommand {

// Whether JavaScript can still run in this environment, asked with a property read of `probe`
// (any object). The answer only turns from yes to no (an environment never comes back from
// termination), so a yes proves that every N-API call made before it on this thread worked as
// asked: a plan read field by field was read whole, not with fields missing because a read
// failed half-way (a child spawned from such a plan could skip its uid or capability steps).
inline bool JsStillRuns(napi_env env, napi_value probe) {
  napi_value value;
  return napi_get_named_property(env, probe, "constructor", &value) == napi_ok;
}

// Something watched on this environment's event loop that must be torn down with it: when a
// Worker exits, Node closes its loop and aborts if a handle is still open there.
class LoopResident {
 public:
  virtual ~LoopResident() = default;
  // Kill and reap what is running, close fds and uv handles. No JavaScript is called.
  virtual void Teardown() = 0;
};

struct AddonData {
  Napi::FunctionReference child_handle_ctor;
  std::unordered_set<LoopResident*> residents;
};

inline AddonData* GetAddonData(Napi::Env env) { return env.GetInstanceData<AddonData>(); }

}  // namespace vircommand
