// NativePlan -> ExecPlan: the command line, the environment and cwd, then each part of the plan
// from its own file (plan_parts_from_js.h), then the run's timers. Every field is read by
// plan_fields.h.
// Zone: glue (N-API).
// SPDX-License-Identifier: MIT
#include "plan_from_js.h"
#include "mounts_from_js.h"

#include <math.h>

#include "node_env.h"
#include "plan_fields.h"
#include "plan_parts_from_js.h"

namespace vircommand {

int64_t MillisFromJs(Napi::Value v, int64_t fallback) {
  if (!v.IsNumber()) return fallback;
  double d = v.As<Napi::Number>().DoubleValue();
  if (!(d > 0)) return 0;  // negatives and NaN (TS refuses both)
  constexpr double kMax = 9007199254740991.0;  // 2^53-1, TS's MAX_TIMER_MS
  return d >= kMax ? static_cast<int64_t>(kMax) : static_cast<int64_t>(ceil(d));
}

bool PlanFromJs(Napi::Env env, Napi::Object o, ExecPlan* plan) {
  Napi::Value argv, candidates;
  if (!Field(o, "argv", &argv) || !GetStringArray(env, argv, "argv", &plan->argv) ||
      !Field(o, "candidates", &candidates) || !GetStringArray(env, candidates, "candidates", &plan->candidates))
    return false;
  if (plan->argv.empty()) return Fail(env, "argv", "must not be empty");
  // null: the child inherits the process environment, copied here under Node's lock (never
  // by a bare walk of environ, which a Worker's setenv() may be reallocating). Without that lock
  // the TS layer passes process.env's entries instead (src/env.ts inheritedEnv).
  Napi::Value envv;
  if (!Field(o, "env", &envv)) return false;
  if (Absent(envv)) {
    if (!CopyEnvironLocked(&plan->env))
      return Fail(env, "env", "cannot be null: Node's environment lock was not found");
  } else if (!GetStringArray(env, envv, "env", &plan->env)) {
    return false;
  }
  if (!GetString(env, o, "cwd", &plan->cwd, &plan->has_cwd)) return false;
  if (!GetInt32(env, o, "umask", -1, 0777, &plan->umask)) return false;
  if (!GetFds(env, o, plan)) return false;
  if (!GetCredentials(env, o, plan) || !GetSteps(env, o, plan) || !GetNamespaceSetup(env, o, plan) ||
      !GetSendBuffers(env, o, plan) || !GetExtras(env, o, plan) || !GetMountSetup(env, o, plan) ||
      !GetContainerIds(env, o, plan))
    return false;
  Napi::Value timeout, grace, drain;
  if (!Field(o, "timeoutMs", &timeout) || !Field(o, "killGraceMs", &grace) || !Field(o, "drainMs", &drain))
    return false;
  plan->timeout_ms = MillisFromJs(timeout, plan->timeout_ms);
  plan->kill_grace_ms = MillisFromJs(grace, plan->kill_grace_ms);
  plan->drain_ms = MillisFromJs(drain, plan->drain_ms);
  return true;
}

}  // namespace vircommand
