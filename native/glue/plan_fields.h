// Reading one field of the NativePlan: own properties only, every value checked where it is
// read, a TypeError (or RangeError, js_numbers.h) naming the field otherwise. Used by every
// part of the plan (plan_parts_from_js.h); plan_fields.cc says why own properties only.
// Zone: glue (N-API).
// SPDX-License-Identifier: MIT
#pragma once

#include <napi.h>
#include <stdint.h>

#include <string>
#include <vector>

namespace vircommand {

// Throws "vircommand native plan: 'field' what" as a TypeError; returns false.
bool Fail(Napi::Env env, const std::string& field, const char* what);

// An optional field not given: null, or undefined (which is also how Field() reads a field that
// is not an own property).
bool Absent(Napi::Value v);

// "vircommand native plan: 'field'", the start of a message about that field.
std::string Named(const std::string& field);

// An own property of o (undefined when not one), or an array's own element i. False when the
// read itself failed (a terminating Worker): the out value is then empty, never to be used.
bool Field(Napi::Object o, const char* key, Napi::Value* out);
bool Item(Napi::Array a, uint32_t i, Napi::Value* out);

// An element of an array of integers, each in [lo, hi].
bool IntItem(Napi::Env env, Napi::Array a, uint32_t i, const char* key, int64_t lo, int64_t hi, int64_t* out);

// Every element of an array of integers, each in [lo, hi], handed in order to use(value).
template <typename Use>
bool ForEachIntItem(Napi::Env env, Napi::Array a, const char* key, int64_t lo, int64_t hi, Use use) {
  for (uint32_t i = 0; i < a.Length(); i++) {
    int64_t value = 0;
    if (!IntItem(env, a, i, key, lo, hi, &value)) return false;
    use(value);
  }
  return true;
}

// An element of an array of objects.
bool ObjectItem(Napi::Env env, Napi::Array a, uint32_t i, const char* key, Napi::Object* out);

// A string without NUL. With `present`, null or undefined is allowed too and sets it to false.
bool GetString(Napi::Env env, Napi::Object o, const char* key, std::string* out, bool* present = nullptr);

// An array of strings or Buffers (arguments and env are bytes on Linux), none with a NUL.
bool GetStringArray(Napi::Env env, Napi::Value v, const char* key, std::vector<std::string>* out);

// An integer field in [lo, hi] (js_numbers.h: TypeError or RangeError otherwise). `where`
// prefixes the field's name in messages ("stdout.", "namespaces[0].").
bool GetInt(Napi::Env env, Napi::Object o, const char* key, int64_t lo, int64_t hi, int64_t* out,
            const std::string& where = "");
bool GetInt32(Napi::Env env, Napi::Object o, const char* key, int64_t lo, int64_t hi, int* out,
              const std::string& where = "");

// "array[i].", the `where` of an element's fields.
std::string At(const char* array, uint32_t i);

// A word of CLONE_* bits: 0 to 2^32-1 (the builder keeps them unsigned), as the int the
// syscalls take, bit for bit.
bool GetFlags32(Napi::Env env, Napi::Object o, const char* key, int* out, const std::string& where = "");

// A flag: true, false, or absent (false).
bool GetBool(Napi::Env env, Napi::Object o, const char* key, bool* out);

}  // namespace vircommand
