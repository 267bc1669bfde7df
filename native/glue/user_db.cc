// User and group names through NSS (see user_db.h).
// Zone: glue (N-API).
// SPDX-License-Identifier: MIT
#include "user_db.h"

#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <string.h>

#include <string>
#include <vector>

namespace vircommand {

namespace {

// The name argument: a non-empty string without NUL bytes (src/ checks it first).
bool NameArg(const Napi::CallbackInfo& info, const char* fn, std::string* out) {
  if (info.Length() < 1 || !info[0].IsString()) {
    Napi::TypeError::New(info.Env(), std::string(fn) + "(name) expects a string").ThrowAsJavaScriptException();
    return false;
  }
  *out = info[0].As<Napi::String>().Utf8Value();
  if (out->empty() || out->find('\0') != std::string::npos) {
    Napi::TypeError::New(info.Env(), std::string(fn) + "(name): empty or has a NUL byte").ThrowAsJavaScriptException();
    return false;
  }
  return true;
}

// getpwnam_r(3)/getgrnam_r(3) may report "not found" as 0 or as one of these.
bool IsNotFound(int rc) { return rc == 0 || rc == ENOENT || rc == ESRCH || rc == EBADF || rc == EPERM; }

// A lookup that failed for another reason than "no such name" (EIO, EMFILE, ...).
void ThrowLookupError(Napi::Env env, const char* fn, const std::string& name, int rc) {
  Napi::Error e = Napi::Error::New(env, std::string(fn) + "('" + name + "'): " + strerror(rc));
  e.Set("errno", Napi::Number::New(env, rc));
  e.ThrowAsJavaScriptException();
}

// Calls lookup(buf, size, &found) with a buffer that grows on ERANGE; returns its error code.
template <typename Lookup>
int WithBuffer(std::vector<char>* buf, Lookup lookup) {
  for (size_t size = 1024; size <= (1u << 24); size *= 4) {
    buf->resize(size);
    int rc = lookup(buf->data(), buf->size());
    if (rc != ERANGE) return rc;
  }
  return ERANGE;
}

}  // namespace

Napi::Value LookupUser(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  std::string name;
  struct passwd pw;
  struct passwd* found = nullptr;
  std::vector<char> buf;
  int rc;
  if (info.Length() >= 1 && info[0].IsNumber()) {
    // By uid (getpwuid_r): setUser(uid). src/ checks the range first.
    double d = info[0].As<Napi::Number>().DoubleValue();
    if (!(d >= 0 && d <= 4294967294.0) || d != static_cast<double>(static_cast<uint32_t>(d))) {
      Napi::TypeError::New(env, "lookupUser(uid): not an id").ThrowAsJavaScriptException();
      return env.Undefined();
    }
    uid_t uid = static_cast<uid_t>(d);
    name = std::to_string(uid);
    rc = WithBuffer(&buf, [&](char* b, size_t n) { return getpwuid_r(uid, &pw, b, n, &found); });
  } else {
    if (!NameArg(info, "lookupUser", &name)) return env.Undefined();
    rc = WithBuffer(&buf, [&](char* b, size_t n) { return getpwnam_r(name.c_str(), &pw, b, n, &found); });
  }
  if (found == nullptr) {
    if (IsNotFound(rc)) return env.Null();
    ThrowLookupError(env, "lookupUser", name, rc);
    return env.Undefined();
  }
  Napi::Object o = Napi::Object::New(env);
  o.Set("name", Napi::String::New(env, pw.pw_name));
  o.Set("uid", Napi::Number::New(env, pw.pw_uid));
  o.Set("gid", Napi::Number::New(env, pw.pw_gid));
  return o;
}

Napi::Value LookupGroup(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  std::string name;
  if (!NameArg(info, "lookupGroup", &name)) return env.Undefined();
  struct group gr;
  struct group* found = nullptr;
  std::vector<char> buf;
  int rc = WithBuffer(&buf, [&](char* b, size_t n) { return getgrnam_r(name.c_str(), &gr, b, n, &found); });
  if (found == nullptr) {
    if (IsNotFound(rc)) return env.Null();
    ThrowLookupError(env, "lookupGroup", name, rc);
    return env.Undefined();
  }
  Napi::Object o = Napi::Object::New(env);
  o.Set("name", Napi::String::New(env, gr.gr_name));
  o.Set("gid", Napi::Number::New(env, gr.gr_gid));
  return o;
}

}  // namespace vircommand
