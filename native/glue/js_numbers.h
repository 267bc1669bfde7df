// Numbers crossing from JavaScript into native, checked where native reads them: an integer in
// the range its use allows, or a thrown TypeError (not a number, not an integer, NaN) or
// RangeError (outside the range), naming what was read. Never a silent narrowing: Int32Value()
// turns 2^32 + 5 into fd 5 and Uint32Value() turns 2^32 + 1 into pid 1.
// Zone: glue (N-API).
// SPDX-License-Identifier: MIT
#pragma once

#include <math.h>
#include <napi.h>
#include <stdint.h>
#include <stdio.h>

#include <string>

namespace vircommand {

constexpr int64_t kIntMax = 2147483647;  // an fd, a pid, an int flag word
constexpr int64_t kIdMax = 4294967294;  // a uid/gid: (uid_t)-1 means "unchanged"
constexpr int64_t kSafeIntMax = 9007199254740991;  // 2^53-1: a size or an amount in a double

// `what` names the value in the message ("vircommand native plan: 'stdout.fd' ..."). Returns
// false with the exception pending when v is not an integer in [lo, hi].
inline bool CheckedInt(Napi::Env env, Napi::Value v, const std::string& what, int64_t lo, int64_t hi, int64_t* out) {
  if (v.IsEmpty()) return false;  // a failed read (a terminating Worker): nothing to throw
  if (!v.IsNumber()) {
    Napi::TypeError::New(env, what + " must be a number").ThrowAsJavaScriptException();
    return false;
  }
  double d = v.As<Napi::Number>().DoubleValue();
  if (!(d == floor(d))) {  // NaN, fractions and infinities
    Napi::TypeError::New(env, what + " must be an integer").ThrowAsJavaScriptException();
    return false;
  }
  if (d < static_cast<double>(lo) || d > static_cast<double>(hi)) {
    char given[32];
    snprintf(given, sizeof given, "%.17g", d);
    Napi::RangeError::New(env,
                          what + " must be from " + std::to_string(lo) + " to " + std::to_string(hi) + ", not " + given)
        .ThrowAsJavaScriptException();
    return false;
  }
  *out = static_cast<int64_t>(d);
  return true;
}

// The same into an int (lo and hi within int's range).
inline bool CheckedInt32(Napi::Env env, Napi::Value v, const std::string& what, int64_t lo, int64_t hi, int* out) {
  int64_t wide = 0;
  if (!CheckedInt(env, v, what, lo, hi, &wide)) return false;
  *out = static_cast<int>(wide);
  return true;
}

}  // namespace vircommand
