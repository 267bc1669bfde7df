// pidWait and pidKill: waiting for and signalling the pids a Command let go of (released
// children and daemons), through a pidfd where the system has them.
// Zone: glue (N-API).
// SPDX-License-Identifier: MIT
#pragma once

#include <napi.h>

namespace vircommand {

// pidWait(pid, cb(err, rawStatus)) and pidKill(pid, signal) for pids a Command let go of.
Napi::Value PidWait(const Napi::CallbackInfo& info);
Napi::Value PidKill(const Napi::CallbackInfo& info);

}  // namespace vircommand
