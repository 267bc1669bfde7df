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

// A delay in ms from JavaScript: fractions round up (0.5 ms is not "none"), clamped to
// 0..2^53-1; `fallback` when v is not a number. Never narrowed to int (2^31 wrapped negative).
int64_t MillisFromJs(Napi::Value v, int64_t fallback);

// getgrouplist() of uid's user with gid, in the parent (NSS lookups take locks: never in the
// child): exactly the groups a successful call returned; gid alone for a uid with no user
// (uid -1: gid alone too). False with errno set when the user database cannot be read.
bool GroupListFor(int64_t uid, int64_t gid, std::vector<gid_t>* out);

}  // namespace vircommand
