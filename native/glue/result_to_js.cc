// SessionResult and SpawnFailure -> JavaScript values.
// Zone: glue (N-API).
// SPDX-License-Identifier: MIT
#include "result_to_js.h"

#include <stdlib.h>
#include <string.h>

#include "../core/stage.h"

namespace vircommand {

namespace {
// Up to this size a capture is copied into a Buffer of its exact size and our block is freed
// at once. Handing a 64 KiB block (the first read's size) to a Buffer holding a few bytes kept
// the whole block alive until the garbage collector ran the finalizer, and weak external
// Buffers are costly for V8 too: the soak of 100,000 short runs grew its RSS by that.
constexpr size_t kCopyBelow = 64 * 1024;

Napi::Value TakeBuffer(Napi::Env env, OutputBuffer* b) {
  if (b->len == 0) return Napi::Buffer<char>::New(env, 0);
  char* data = b->data;
  size_t len = b->len;
  size_t cap = b->cap;
  b->data = nullptr;
  b->len = b->cap = 0;
  if (len <= kCopyBelow) {
    Napi::Value copy = Napi::Buffer<char>::Copy(env, data, len);
    free(data);
    return copy;
  }
  // Larger: the malloc'd capture becomes the Buffer's memory, no copy of what may be
  // gigabytes; first give back the unused tail of the last doubling, if it is big.
  if (cap - len > len / 8) {
    char* shrunk = static_cast<char*>(realloc(data, len));
    if (shrunk != nullptr) data = shrunk;
  }
  return Napi::Buffer<char>::New(env, data, len, [](Napi::Env, char* p) { free(p); });
}
}  // namespace

Napi::Object ResultToJs(Napi::Env env, SessionResult* r) {
  Napi::Object o = Napi::Object::New(env);
  o.Set("pid", Napi::Number::New(env, r->pid));
  if (r->reaped && r->wait_errno == 0) {
    o.Set("status", Napi::Number::New(env, r->raw_status));
  } else {
    o.Set("status", env.Null());
  }
  if (r->has_report) {
    Napi::Object f = Napi::Object::New(env);
    f.Set("stage", Napi::String::New(env, StageName(r->report.stage)));
    f.Set("errno", Napi::Number::New(env, r->report.err));
    f.Set("value", Napi::Number::New(env, static_cast<double>(r->report.value)));
    o.Set("failure", f);
  } else if (r->reaped && r->wait_errno != 0) {
    Napi::Object f = Napi::Object::New(env);
    f.Set("stage", Napi::String::New(env, StageName(kStageWait)));
    f.Set("errno", Napi::Number::New(env, r->wait_errno));
    f.Set("value", Napi::Number::New(env, 0));
    o.Set("failure", f);
  } else {
    o.Set("failure", env.Null());
  }
  for (int i = 1; i <= 2; i++) {
    const char* key = i == 1 ? "stdout" : "stderr";
    if (r->captured[i]) {
      o.Set(key, TakeBuffer(env, &r->out[i]));
    } else {
      o.Set(key, env.Null());
    }
  }
  o.Set("timedOut", Napi::Boolean::New(env, r->timed_out));
  if (r->max_exceeded == 0) {
    o.Set("maxBufferExceeded", env.Null());
  } else {
    o.Set("maxBufferExceeded", Napi::String::New(env, r->max_exceeded == 1 ? "stdout" : "stderr"));
  }
  o.Set("outputIncomplete", Napi::Boolean::New(env, r->output_incomplete));
  o.Set("killedBy", Napi::Number::New(env, r->killed_by));
  // fork() path: the child died (by a signal) without reaching execve: a crash in a pre-exec
  // hook, or a kill while it waited for the handshake.
  bool died_before_exec = r->announces_exec && !r->exec_announced && !r->has_report && r->reaped && r->wait_errno == 0;
  o.Set("diedBeforeExec", Napi::Boolean::New(env, died_before_exec));
  return o;
}

Napi::Error SpawnFailureToJs(Napi::Env env, const SpawnFailure& failure) {
  std::string message = std::string("cannot start child process: ") + StageName(failure.stage) + ": " +
                        strerror(failure.err);
  Napi::Error e = Napi::Error::New(env, message);
  e.Set("stage", Napi::String::New(env, StageName(failure.stage)));
  e.Set("errno", Napi::Number::New(env, failure.err));
  e.Set("value", Napi::Number::New(env, 0));
  return e;
}

}  // namespace vircommand
