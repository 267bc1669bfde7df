// Reading one field of the NativePlan (plan_fields.h).
// Zone: glue (N-API).
// SPDX-License-Identifier: MIT
#include "plan_fields.h"

#include <stdio.h>

#include "js_numbers.h"

namespace vircommand {

bool Fail(Napi::Env env, const std::string& field, const char* what) {
  Napi::TypeError::New(env, "vircommand native plan: '" + field + "' " + what).ThrowAsJavaScriptException();
  return false;
}

// An optional field not given: null, or undefined (which is also how Field() reads a field that
// is not an own property).
bool Absent(Napi::Value v) { return v.IsNull() || v.IsUndefined(); }

std::string Named(const std::string& field) { return "vircommand native plan: '" + field + "'"; }

namespace {

// Every value is read through Field() or Item(), and used only when the read worked. In a Worker
// being terminated, a read fails (JavaScript can no longer run there) and node-addon-api returns
// an empty value that has also lost its env: calling a method on it (Int32Value, Get, ...) is a
// fatal error that aborts the process. An empty read makes the plan fail quietly; the caller
// then starts nothing (and checks JsStillRuns before it starts anything).
//
// Own properties only: a plain Get walks the prototype chain, so a field left off the plan (or
// a hole in an array) would be read from Object.prototype (or Array.prototype), and a prototype
// pollution anywhere in the process would reach every child past the builder's checks. A field
// that is not an own property reads as undefined.
bool OwnProperty(napi_env env, napi_value object, napi_value key, Napi::Value* out) {
  bool own = false;
  napi_value v;
  if (napi_has_own_property(env, object, key, &own) != napi_ok) {
    *out = Napi::Value();
    return false;
  }
  if (!own) {
    *out = Napi::Env(env).Undefined();
    return true;
  }
  if (napi_get_property(env, object, key, &v) != napi_ok) {
    *out = Napi::Value();
    return false;
  }
  *out = Napi::Value(env, v);
  return true;
}

}  // namespace

bool Field(Napi::Object o, const char* key, Napi::Value* out) {
  napi_value k;
  if (napi_create_string_utf8(o.Env(), key, NAPI_AUTO_LENGTH, &k) != napi_ok) {
    *out = Napi::Value();
    return false;
  }
  return OwnProperty(o.Env(), o, k, out);
}

bool Item(Napi::Array a, uint32_t i, Napi::Value* out) {
  char index[12];
  int len = snprintf(index, sizeof index, "%u", i);
  napi_value k;
  if (napi_create_string_latin1(a.Env(), index, static_cast<size_t>(len), &k) != napi_ok) {
    *out = Napi::Value();
    return false;
  }
  return OwnProperty(a.Env(), a, k, out);
}

// An element of an array of integers, each in [lo, hi].
bool IntItem(Napi::Env env, Napi::Array a, uint32_t i, const char* key, int64_t lo, int64_t hi, int64_t* out) {
  Napi::Value v;
  if (!Item(a, i, &v)) return false;
  return CheckedInt(env, v, Named(std::string(key) + "[" + std::to_string(i) + "]"), lo, hi, out);
}

// An element of an array of objects.
bool ObjectItem(Napi::Env env, Napi::Array a, uint32_t i, const char* key, Napi::Object* out) {
  Napi::Value v;
  if (!Item(a, i, &v)) return false;
  if (!v.IsObject()) return Fail(env, key, "must hold objects");
  *out = v.As<Napi::Object>();
  return true;
}

bool GetString(Napi::Env env, Napi::Object o, const char* key, std::string* out, bool* present) {
  Napi::Value v;
  if (!Field(o, key, &v)) return false;
  if (present != nullptr) {
    *present = !(v.IsNull() || v.IsUndefined());
    if (!*present) return true;
  }
  if (!v.IsString()) return Fail(env, key, "must be a string");
  *out = v.As<Napi::String>().Utf8Value();
  if (out->find('\0') != std::string::npos) return Fail(env, key, "must not contain NUL");
  return true;
}

bool GetStringArray(Napi::Env env, Napi::Value v, const char* key, std::vector<std::string>* out) {
  if (!v.IsArray()) return Fail(env, key, "must be an array");
  Napi::Array a = v.As<Napi::Array>();
  for (uint32_t i = 0; i < a.Length(); i++) {
    Napi::Value item;
    if (!Item(a, i, &item)) return false;
    std::string s;
    if (item.IsString()) {
      s = item.As<Napi::String>().Utf8Value();
    } else if (item.IsBuffer()) {  // non-UTF-8 bytes (arguments and env are bytes on Linux)
      Napi::Buffer<char> b = item.As<Napi::Buffer<char>>();
      s.assign(b.Data(), b.Length());
    } else {
      return Fail(env, key, "must hold strings or Buffers");
    }
    if (s.find('\0') != std::string::npos) return Fail(env, key, "must not contain NUL");
    out->push_back(std::move(s));
  }
  return true;
}

// An integer field in [lo, hi] (js_numbers.h: TypeError or RangeError otherwise). `where`
// prefixes the field's name in messages ("stdout.", "namespaces[0].").
bool GetInt(Napi::Env env, Napi::Object o, const char* key, int64_t lo, int64_t hi, int64_t* out,
            const std::string& where) {
  Napi::Value v;
  if (!Field(o, key, &v)) return false;
  return CheckedInt(env, v, Named(where + key), lo, hi, out);
}

bool GetInt32(Napi::Env env, Napi::Object o, const char* key, int64_t lo, int64_t hi, int* out,
              const std::string& where) {
  Napi::Value v;
  if (!Field(o, key, &v)) return false;
  return CheckedInt32(env, v, Named(where + key), lo, hi, out);
}

std::string At(const char* array, uint32_t i) { return std::string(array) + "[" + std::to_string(i) + "]."; }

// A word of CLONE_* bits: 0 to 2^32-1 (the builder keeps them unsigned), as the int the
// syscalls take, bit for bit.
bool GetFlags32(Napi::Env env, Napi::Object o, const char* key, int* out, const std::string& where) {
  int64_t v = 0;
  if (!GetInt(env, o, key, 0, 4294967295, &v, where)) return false;
  *out = static_cast<int>(static_cast<uint32_t>(v));
  return true;
}

// A flag: true, false, or absent (false).
bool GetBool(Napi::Env env, Napi::Object o, const char* key, bool* out) {
  Napi::Value v;
  if (!Field(o, key, &v)) return false;
  if (v.IsUndefined() || v.IsNull()) {
    *out = false;
    return true;
  }
  if (!v.IsBoolean()) return Fail(env, key, "must be a boolean");
  *out = v.As<Napi::Boolean>().Value();
  return true;
}

}  // namespace vircommand
