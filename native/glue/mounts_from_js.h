// NativePlan.mountSetup (pivotRoot, addMount) into the ExecPlan.
// Zone: parent (N-API).
// SPDX-License-Identifier: MIT
#pragma once

#include <napi.h>

#include "../core/exec_plan.h"

namespace vircommand {

// Reads o.mountSetup (absent or null: no new root, no mounts). False with a JS exception set.
bool GetMountSetup(Napi::Env env, Napi::Object o, ExecPlan* plan);

}  // namespace vircommand
