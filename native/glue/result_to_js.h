// SessionResult and SpawnFailure -> JavaScript values.
// Zone: glue (N-API).
// SPDX-License-Identifier: MIT
#pragma once

#include <napi.h>

#include "../core/io_session.h"
#include "../core/spawn.h"

namespace vircommand {

// The NativeResult object of docs/internals.md. Moves the captured buffers into JS Buffers.
Napi::Object ResultToJs(Napi::Env env, SessionResult* result);

// An Error with stage and errno for a failure in the parent (pipe, fork).
Napi::Error SpawnFailureToJs(Napi::Env env, const SpawnFailure& failure);

}  // namespace vircommand
