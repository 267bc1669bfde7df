// Per-environment state of the addon (the main thread and each Worker have their own).
// Zone: glue (N-API).
// SPDX-License-Identifier: MIT
#pragma once

#include <napi.h>

#include <unordered_set>

namespace vircommand {

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
