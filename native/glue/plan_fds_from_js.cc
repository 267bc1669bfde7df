// The fds of the NativePlan: the child's stdin, stdout and stderr, the fds passed to it (and
// which of them it makes blocking), and the setSendBuffer() pipes' targets and data.
// Zone: glue (N-API).
// SPDX-License-Identifier: MIT
#include "js_numbers.h"
#include "plan_fields.h"
#include "plan_parts_from_js.h"

namespace vircommand {

namespace {

bool GetStdio(Napi::Env env, Napi::Object o, const char* key, int index, StdioSpec* spec) {
  Napi::Value v;
  if (!Field(o, key, &v)) return false;
  if (!v.IsObject()) return Fail(env, key, "must be an object");
  Napi::Object s = v.As<Napi::Object>();
  std::string type;
  if (!GetString(env, s, "type", &type)) return false;
  if (type == "null") {
    spec->kind = StdioKind::kNull;
  } else if (type == "fd") {
    spec->kind = StdioKind::kFd;
    if (!GetInt32(env, s, "fd", 0, kIntMax, &spec->fd, std::string(key) + ".")) return false;
  } else if (type == "pipe") {
    spec->kind = StdioKind::kPipe;
  } else if (type == "capture" && index > 0) {
    spec->kind = StdioKind::kCapture;
    int64_t max = 0;
    Napi::Value given;
    if (!Field(s, "maxBuffer", &given)) return false;
    if (!given.IsUndefined() && !CheckedInt(env, given, Named(std::string(key) + ".maxBuffer"), 0, kSafeIntMax, &max))
      return false;
    spec->max_buffer = static_cast<size_t>(max);
  } else if (type == "buffer" && index == 0) {
    spec->kind = StdioKind::kBuffer;
    Napi::Value data;
    if (!Field(s, "data", &data)) return false;
    if (!data.IsBuffer()) return Fail(env, key, "data must be a Buffer");
    Napi::Buffer<uint8_t> b = data.As<Napi::Buffer<uint8_t>>();
    spec->data = b.Data();  // borrowed: the command's private copy, held with the plan (exec_plan.h)
    spec->data_len = b.Length();
  } else if (type == "stdout" && index == 2) {
    spec->kind = StdioKind::kSameAsStdout;
  } else {
    return Fail(env, key, "has an unknown type");
  }
  return true;
}

}  // namespace

bool GetFds(Napi::Env env, Napi::Object o, ExecPlan* plan) {
  if (!GetStdio(env, o, "stdin", 0, &plan->stdio[0]) || !GetStdio(env, o, "stdout", 1, &plan->stdio[1]) ||
      !GetStdio(env, o, "stderr", 2, &plan->stdio[2]))
    return false;
  if (!GetBool(env, o, "nonblocking", &plan->nonblocking)) return false;
  Napi::Value pass;
  if (!Field(o, "passFds", &pass)) return false;
  if (!pass.IsArray()) return Fail(env, "passFds", "must be an array");
  Napi::Array pa = pass.As<Napi::Array>();
  if (!ForEachIntItem(env, pa, "passFds", 0, kIntMax,
                      [plan](int64_t fd) { plan->pass_fds.push_back(static_cast<int>(fd)); }))
    return false;
  // Optional (PASS_FD_BLOCKING): passed fds whose O_NONBLOCK the child clears.
  Napi::Value blocking;
  if (!Field(o, "blockingFds", &blocking)) return false;
  if (!Absent(blocking) && !blocking.IsArray()) return Fail(env, "blockingFds", "must be an array or null");
  if (blocking.IsArray()) {
    Napi::Array ba = blocking.As<Napi::Array>();
    if (!ForEachIntItem(env, ba, "blockingFds", 0, kIntMax,
                        [plan](int64_t fd) { plan->blocking_fds.push_back(static_cast<int>(fd)); }))
      return false;
  }
  return true;
}

// setSendBuffer() pipes (optional: absent, none).
bool GetSendBuffers(Napi::Env env, Napi::Object o, ExecPlan* plan) {
  Napi::Value sends;
  if (!Field(o, "sendBuffers", &sends)) return false;
  if (!Absent(sends) && !sends.IsArray()) return Fail(env, "sendBuffers", "must be an array or null");
  if (sends.IsArray()) {
    Napi::Array a = sends.As<Napi::Array>();
    for (uint32_t i = 0; i < a.Length(); i++) {
      Napi::Object b;
      if (!ObjectItem(env, a, i, "sendBuffers", &b)) return false;
      SendBuffer sb;
      if (!GetInt32(env, b, "fd", 3, kIntMax, &sb.target, At("sendBuffers", i))) return false;
      Napi::Value data;
      if (!Field(b, "data", &data)) return false;
      if (!data.IsBuffer()) return Fail(env, "sendBuffers", "data must be a Buffer");
      Napi::Buffer<uint8_t> buf = data.As<Napi::Buffer<uint8_t>>();
      sb.data = buf.Data();  // borrowed like stdin's: the command's private copy, held with the plan
      sb.len = buf.Length();
      plan->sends.push_back(sb);
    }
  }
  return true;
}

}  // namespace vircommand
