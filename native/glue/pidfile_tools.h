// readPidFile()/killByPidFile() helpers: who holds a pidfile's lock, and pidfds for any process.
// Zone: glue (N-API).
// SPDX-License-Identifier: MIT
#pragma once

#include <napi.h>

namespace vircommand {

// Adds lockHolder, tryLock, pidfdOpen, pidfdSendSignal and pidfdExited to the exports.
void RegisterPidfileTools(Napi::Env env, Napi::Object exports);

}  // namespace vircommand
