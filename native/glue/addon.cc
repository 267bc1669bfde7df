// The addon's exports table, and the blocking entry points.
// Zone: glue (N-API).
// SPDX-License-Identifier: MIT
#include <napi.h>
#include <uv.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "../core/io_session.h"
#include "../core/run_sync.h"
#include "../core/spawn.h"
#include "../core/stage.h"
#include "addon_data.h"
#include "child_handle.h"
#include "js_numbers.h"
#include "node_env.h"
#include "pid_wait.h"
#include "pidfile_tools.h"
#include "plan_from_js.h"
#include "result_to_js.h"
#include "user_db.h"

namespace vircommand {

namespace {

// runSync(plan) -> NativeResult. Blocks the calling thread until the child is reaped and every
// stream is drained; throws only for parent-side failures (pipe, fork).
Napi::Value RunSync(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 1 || !info[0].IsObject()) {
    Napi::TypeError::New(env, "runSync(plan) expects an object").ThrowAsJavaScriptException();
    return env.Undefined();
  }
  ExecPlan plan;
  if (!PlanFromJs(env, info[0].As<Napi::Object>(), &plan)) return env.Undefined();
  // A Worker being terminated: the plan may have been read with fields missing; start nothing.
  if (!JsStillRuns(env, info[0])) return env.Undefined();
  SpawnedChild child;
  SpawnFailure failure;
  if (!Spawn(plan, &child, &failure)) {
    SpawnFailureToJs(env, failure).ThrowAsJavaScriptException();
    return env.Undefined();
  }
  IoSession session(plan, &child);
  // Caller pipes and handshakes are refused for blocking runs by src/; close anything left.
  for (int i = 0; i < 3; i++) CloseFd(&child.stdio_fd[i]);
  CloseFd(&child.handshake_ready_fd);
  CloseFd(&child.handshake_go_fd);
  RunSessionBlocking(&session);
  // The child is reaped by now: if the environment started terminating meanwhile, building the
  // result fails quietly and nothing is lost.
  return ResultToJs(env, &session.mutable_result());
}

// execInPlace(plan): applies the plan to this process and execs. Returns only if the parent-side
// preparation failed (then it throws); a failed step exits with 125/126/127 after one line on
// stderr.
Napi::Value ExecInPlaceJs(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  ExecPlan plan;
  if (!info[0].IsObject() || !PlanFromJs(env, info[0].As<Napi::Object>(), &plan)) return env.Undefined();
  if (!JsStillRuns(env, info[0])) return env.Undefined();  // as in RunSync
  SpawnFailure failure;
  ExecInPlace(plan, &failure);
  SpawnFailureToJs(env, failure).ThrowAsJavaScriptException();
  return env.Undefined();
}

// getEnvBytes(name) -> Buffer | null: the parent's variable as bytes (process.env decodes
// lossily as UTF-8), read under Node's lock (node_env.h). null when unset, and when Node's lock
// cannot be found: the caller then keeps process.env's decoding.
Napi::Value GetEnvBytes(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 1 || !info[0].IsString()) return env.Null();
  std::string value;
  bool found = false;
  if (!GetenvLocked(info[0].As<Napi::String>().Utf8Value(), &value, &found) || !found) return env.Null();
  return Napi::Buffer<char>::Copy(env, value.data(), value.size());
}

// hasEnvLock() -> whether native can copy the process environment under Node's lock: then a
// plan's env may be null (inherit), and native copies environ itself (O(n), bytes as they are)
// instead of the TypeScript layer reading process.env name by name.
Napi::Value HasEnvLock(const Napi::CallbackInfo& info) {
  return Napi::Boolean::New(info.Env(), NodeEnvLock() != nullptr);
}

Napi::Value StageNames(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Napi::Array a = Napi::Array::New(env);
  for (int s = 0; s < kStageCount; s++) a.Set(static_cast<uint32_t>(s), Napi::String::New(env, StageName(s)));
  return a;
}

Napi::Value GetGroupList(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int64_t uid = -1, gid = -1;
  if (!CheckedInt(env, info[0], "getGroupList: uid", -1, kIdMax, &uid)) return env.Undefined();
  if (info.Length() > 1 && !info[1].IsUndefined() && !CheckedInt(env, info[1], "getGroupList: gid", -1, kIdMax, &gid))
    return env.Undefined();
  std::vector<gid_t> groups;
  if (!GroupListFor(uid, gid, &groups)) {
    Napi::Error::New(env, "getGroupList: cannot read the groups of uid " + std::to_string(uid) + ": " + strerror(errno))
        .ThrowAsJavaScriptException();
    return env.Undefined();
  }
  Napi::Array a = Napi::Array::New(env, groups.size());
  for (size_t i = 0; i < groups.size(); i++) a.Set(static_cast<uint32_t>(i), Napi::Number::New(env, groups[i]));
  return a;
}

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  auto* data = new AddonData;
  data->child_handle_ctor = Napi::Persistent(ChildHandle::Init(env));
  env.SetInstanceData(data);
  // The spawn fd slots of this thread, reserved now while fd numbers are low (spawn_fds.cc FdSlots).
  ReserveFdSlots();
  // Whether spawns must fork (qemu-user refuses our clone): probed now, once per process.
  CheckCloneSupport();
  // Runs before the environment's loop is closed (a Worker exiting, or process exit): nothing of
  // ours may stay open on it.
  env.AddCleanupHook([data, env]() {
    while (!data->residents.empty()) (*data->residents.begin())->Teardown();
    uv_loop_t* loop = nullptr;
    napi_get_uv_event_loop(env, &loop);
    if (loop != nullptr) uv_run(loop, UV_RUN_NOWAIT);  // let the close callbacks run
    ReleaseFdSlots();  // on the environment's own thread, which owns them
    ReleaseChildStack();  // likewise: without this each Worker left its 256 KiB mapped
  });
  exports.Set("runSync", Napi::Function::New(env, RunSync));
  exports.Set("spawn", Napi::Function::New(env, ChildHandle::Spawn));
  exports.Set("execInPlace", Napi::Function::New(env, ExecInPlaceJs));
  exports.Set("pidWait", Napi::Function::New(env, PidWait));
  exports.Set("pidKill", Napi::Function::New(env, PidKill));
  exports.Set("getGroupList", Napi::Function::New(env, GetGroupList));
  exports.Set("hasEnvLock", Napi::Function::New(env, HasEnvLock));
  exports.Set("stageNames", Napi::Function::New(env, StageNames));
  exports.Set("getEnvBytes", Napi::Function::New(env, GetEnvBytes));
  exports.Set("lookupUser", Napi::Function::New(env, LookupUser));
  exports.Set("lookupGroup", Napi::Function::New(env, LookupGroup));
  RegisterPidfileTools(env, exports);
  return exports;
}

}  // namespace

}  // namespace vircommand

static Napi::Object InitAddon(Napi::Env env, Napi::Object exports) { return vircommand::Init(env, exports); }

NODE_API_MODULE(vircommand, InitAddon)
