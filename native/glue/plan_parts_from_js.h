// The parts of the NativePlan, each read into the ExecPlan by its own file; PlanFromJs
// (plan_from_js.cc) reads the command line and environment itself, then calls these in this
// order. Each returns false with a JS exception pending.
// Zone: glue (N-API).
// SPDX-License-Identifier: MIT
#pragma once

#include <napi.h>

#include "../core/exec_plan.h"

namespace vircommand {

// plan_fds_from_js.cc: stdin/stdout/stderr, nonblocking, passFds and blockingFds.
bool GetFds(Napi::Env env, Napi::Object o, ExecPlan* plan);
// plan_creds_from_js.cc: uid, gid, groups, capabilities, rlimits.
bool GetCredentials(Napi::Env env, Napi::Object o, ExecPlan* plan);
// plan_steps_from_js.cc: session, pgid, nice, namespaces, cgroup, chroot, hook, handshake,
// daemon and pidfile.
bool GetSteps(Napi::Env env, Napi::Object o, ExecPlan* plan);
// plan_steps_from_js.cc: the new namespaces' id maps, mount propagation and /proc.
bool GetNamespaceSetup(Napi::Env env, Napi::Object o, ExecPlan* plan);
// plan_fds_from_js.cc: setSendBuffer() pipes.
bool GetSendBuffers(Napi::Env env, Napi::Object o, ExecPlan* plan);
// plan_steps_from_js.cc: CPU affinity, memory policy, core scheduling, LSM labels.
bool GetExtras(Napi::Env env, Napi::Object o, ExecPlan* plan);
// plan_steps_from_js.cc: the uts names and the seccomp program.
bool GetContainerIds(Napi::Env env, Napi::Object o, ExecPlan* plan);
// (mountSetup: mounts_from_js.h, between GetExtras and GetContainerIds.)

}  // namespace vircommand
