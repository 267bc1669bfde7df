// SessionResult and SpawnFailure -> JavaScript values.
// Zone: glue (N-API).
// SPDX-License-Identifier: MIT
#include "result_to_js.h"

#include <stdlib.h>
#include <string.h>

#include "../core/stage.h"
#include "addon_data.h"

namespace vircommand {

namespace {
// Captures up to this size are copied into a Buffer whose memory V8 owns, and ours is freed at
// once. Node frees the memory of an external Buffer (one made on our malloc'd block) only from a
// SetImmediate after the GC found it dead, so a loop of runSync() calls that never yields to the
// event loop kept every capture's block (64 KiB at least, the first read chunk, even for a few
// bytes of output) until the loop turned: over 1 GiB of RSS after 20,000 runSync() of `echo`.
// A copy of up to 1 MiB costs far less than the spawn that produced it.
constexpr size_t kCopyLimit = 1 << 20;

Napi::Value TakeBuffer(Napi::Env env, OutputBuffer* b) {
  if (b->len == 0) return Napi::Buffer<char>::New(env, 0);
  if (b->len <= kCopyLimit) {
    Napi::Buffer<char> copy = Napi::Buffer<char>::Copy(env, b->data, b->len);
    free(b->data);
    b->data = nullptr;
    b->len = b->cap = 0;
    return copy;
  }
  char* data = b->data;
  size_t len = b->len;
  b->data = nullptr;
  b->len = b->cap = 0;
  // Larger captures become the Buffer's memory without a copy of what may be gigabytes, trimmed
  // to their length first (the buffer grew by doubling). That memory is freed once the event
  // loop turns after the GC (see above).
  if (char* trimmed = static_cast<char*>(realloc(data, len))) data = trimmed;
  Napi::Buffer<char> buffer = Napi::Buffer<char>::New(env, data, len, [](Napi::Env, char* p) { free(p); });
  // Not made because the environment is terminating (a Worker): that failure comes before the
  // memory is taken, so it is still ours. (Other failures hand it to the finalizer.)
  if (buffer.IsEmpty() && !JsStillRuns(env, Napi::Object::New(env))) free(data);
  return buffer;
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
  if (!failure.path.empty()) e.Set("path", Napi::String::New(env, failure.path));
  return e;
}

}  // namespace vircommand
