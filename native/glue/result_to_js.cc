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

// The free callback of an external Buffer made on a capture's block (hint unused).
void FreeCapture(napi_env, void* data, void*) { free(data); }

// A Buffer holding a copy of data[0, len); the block stays the caller's, whatever happens.
// Empty (an exception pending) when Node cannot make it.
Napi::Value CopyToBuffer(Napi::Env env, const char* data, size_t len) {
  napi_value value = nullptr;
  if (napi_create_buffer_copy(env, len, data, nullptr, &value) != napi_ok) return Napi::Value();
  return Napi::Value(env, value);
}

// Moves a capture into a JS Buffer. The block has exactly one owner at every step, also when
// Node refuses to make the Buffer: `b` gives it up first; then it is freed here (copied, or
// not handed over), or the external Buffer's finalizer frees it (handed over). Empty (an
// exception pending, or the environment ending) when no Buffer could be made.
Napi::Value TakeBuffer(Napi::Env env, OutputBuffer* b) {
  char* data = b->data;
  size_t len = b->len;
  b->data = nullptr;
  b->len = b->cap = b->populated = 0;
  if (len <= kCopyLimit) {
    Napi::Value copy = CopyToBuffer(env, len == 0 ? "" : data, len);
    free(data);
    return copy;
  }
  // napi_create_external_buffer first checks that JavaScript can run and no exception is
  // pending, and fails without taking the block if not; past that check Node owns the block
  // whatever happens: a Buffer too large (ERR_BUFFER_TOO_LARGE) runs the finalizer at once, a
  // later failure leaves it to the ArrayBuffer's. A failed call's status does not say on which
  // side of that check it failed, so the check is made here first (JsStillRuns fails in both
  // its cases too); after it, a failed call means the block is Node's, never touched again.
  // (node-addon-api's Buffer::New deleted its finalizer data a second time after such a
  // failure, and the glue freed the block again: a double free in the root parent.)
  if (!JsStillRuns(env, Napi::Object::New(env))) {
    free(data);
    return Napi::Value();
  }
  // Without a copy of what may be gigabytes, trimmed to its length first (the buffer grew by
  // doubling). That memory is freed once the event loop turns after the GC (see kCopyLimit).
  if (char* trimmed = static_cast<char*>(realloc(data, len))) data = trimmed;
  napi_value value = nullptr;
  napi_status status = napi_create_external_buffer(env, len, data, FreeCapture, nullptr, &value);
  if (status == napi_ok) return Napi::Value(env, value);
  if (status == napi_no_external_buffers_allowed) {
    // A runtime that allows no external Buffers (Electron's V8 sandbox) refuses before taking
    // the block: copy it, then free ours.
    Napi::Value copy = CopyToBuffer(env, data, len);
    free(data);
    return copy;
  }
  // Refused by that first check after all: a Worker terminated from another thread since
  // JsStillRuns. That check fails with one of these two, before writing the result; every
  // failure past it is napi_generic_failure, or comes with the result written.
  if ((status == napi_pending_exception || status == napi_cannot_run_js) && value == nullptr) {
    free(data);
    return Napi::Value();
  }
  return Napi::Value();  // the block is Node's now (see above)
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
  std::string message =
      std::string("cannot start child process: ") + StageName(failure.stage) + ": " + strerror(failure.err);
  Napi::Error e = Napi::Error::New(env, message);
  e.Set("stage", Napi::String::New(env, StageName(failure.stage)));
  e.Set("errno", Napi::Number::New(env, failure.err));
  e.Set("value", Napi::Number::New(env, 0));
  if (!failure.path.empty()) e.Set("path", Napi::String::New(env, failure.path));
  if (!failure.detail.empty()) e.Set("detail", Napi::String::New(env, failure.detail));
  return e;
}

}  // namespace vircommand
