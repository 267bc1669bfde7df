// NativePlan (a plain JS object built by src/plan.ts) -> ExecPlan.
// Zone: glue (N-API).
// SPDX-License-Identifier: MIT
#pragma once

#include <napi.h>

#include "../core/exec_plan.h"

namespace vircommand {

// Fills plan from obj. On a malformed object throws a TypeError (a bug in src/, never user
// input: the TypeScript layer validated it) and returns false.
bool PlanFromJs(Napi::Env env, Napi::Object obj, ExecPlan* plan);

// getgrouplist() of uid's user with gid, in the parent (NSS lookups take locks: never in the
// child).
std::vector<gid_t> GroupListFor(int64_t uid, int64_t gid);

}  // namespace vircommand
