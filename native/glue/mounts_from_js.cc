// NativePlan.mountSetup (pivotRoot, addMount) into the ExecPlan (mounts_from_js.h). The strings
// come built by src/command/mounts.ts; here they are only checked and copied. Own properties
// only, as everywhere in the plan (glue/plan_fields.cc explains why).
// Zone: parent (N-API).
// SPDX-License-Identifier: MIT
#include "mounts_from_js.h"

#include <string>

#include "js_numbers.h"

namespace vircommand {

namespace {

bool Fail(Napi::Env env, const std::string& field, const char* what) {
  Napi::TypeError::New(env, "vircommand native plan: 'mountSetup." + field + "' " + what).ThrowAsJavaScriptException();
  return false;
}

// An own property (undefined when not one); false when the read itself failed.
bool Own(Napi::Object o, const char* key, Napi::Value* out) {
  napi_env env = o.Env();
  napi_value k, v;
  bool own = false;
  if (napi_create_string_utf8(env, key, NAPI_AUTO_LENGTH, &k) != napi_ok ||
      napi_has_own_property(env, o, k, &own) != napi_ok)
    return false;
  if (!own) {
    *out = o.Env().Undefined();
    return true;
  }
  if (napi_get_property(env, o, k, &v) != napi_ok) return false;
  *out = Napi::Value(env, v);
  return true;
}

// A string field, or (when `present` is given) null/undefined for absent.
bool Str(Napi::Env env, Napi::Object o, const char* key, const std::string& where, std::string* out,
         bool* present = nullptr) {
  Napi::Value v;
  if (!Own(o, key, &v)) return false;
  if (present != nullptr) {
    *present = !(v.IsNull() || v.IsUndefined());
    if (!*present) return true;
  }
  if (!v.IsString()) return Fail(env, where + key, "must be a string");
  *out = v.As<Napi::String>().Utf8Value();
  if (out->find('\0') != std::string::npos) return Fail(env, where + key, "must not contain NUL");
  return true;
}

bool Bool(Napi::Env env, Napi::Object o, const char* key, const std::string& where, bool* out) {
  Napi::Value v;
  if (!Own(o, key, &v)) return false;
  if (v.IsUndefined()) return true;
  if (!v.IsBoolean()) return Fail(env, where + key, "must be a boolean");
  *out = v.As<Napi::Boolean>().Value();
  return true;
}

bool Int(Napi::Env env, Napi::Object o, const char* key, const std::string& where, int64_t lo, int64_t hi,
         int64_t* out) {
  Napi::Value v;
  if (!Own(o, key, &v)) return false;
  return CheckedInt(env, v, "vircommand native plan: 'mountSetup." + where + key + "'", lo, hi, out);
}

// An integer field that may be absent (then `out` is left as it is).
bool OptInt(Napi::Env env, Napi::Object o, const char* key, const std::string& where, int64_t lo, int64_t hi,
            int64_t* out) {
  Napi::Value v;
  if (!Own(o, key, &v)) return false;
  if (v.IsUndefined()) return true;
  return CheckedInt(env, v, "vircommand native plan: 'mountSetup." + where + key + "'", lo, hi, out);
}

bool GetStep(Napi::Env env, Napi::Object m, const std::string& where, MountSpec* out) {
  int64_t kind = 0, create = 0, flags = 0, index = 0;
  if (!Int(env, m, "kind", where, kMountStepMount, kMountStepSymlink, &kind) ||
      !Int(env, m, "create", where, kMountCreateNone, kMountCreateFile, &create) ||
      !Int(env, m, "flags", where, 0, 4294967295, &flags) || !Int(env, m, "index", where, 0, 2147483647, &index) ||
      !Str(env, m, "source", where, &out->source, &out->has_source) || !Str(env, m, "target", where, &out->target) ||
      !Str(env, m, "fstype", where, &out->fstype, &out->has_fstype) ||
      !Str(env, m, "data", where, &out->data, &out->has_data) || !Bool(env, m, "readonly", where, &out->readonly) ||
      !OptInt(env, m, "asUid", where, -1, 4294967294, &out->as_uid) ||
      !OptInt(env, m, "asGid", where, -1, 4294967294, &out->as_gid))
    return false;
  if (out->target.empty() || out->target[0] != '/') return Fail(env, where + "target", "must be an absolute path");
  if (kind == kMountStepSymlink && !out->has_source) return Fail(env, where + "source", "must be a string");
  out->kind = static_cast<int>(kind);
  out->create = static_cast<int>(create);
  out->flags = static_cast<unsigned long>(flags);
  out->index = static_cast<int>(index);
  return true;
}

}  // namespace

bool GetMountSetup(Napi::Env env, Napi::Object o, ExecPlan* plan) {
  Napi::Value v;
  if (!Own(o, "mountSetup", &v)) return false;
  if (v.IsUndefined() || v.IsNull()) return true;
  if (!v.IsObject()) return Fail(env, "", "must be an object");
  Napi::Object n = v.As<Napi::Object>();
  MountSetup& setup = plan->mount_setup;
  bool present = false;
  if (!Str(env, n, "pivotRoot", "", &setup.pivot_root, &present)) return false;
  if (present) {
    if (setup.pivot_root.empty() || setup.pivot_root[0] != '/')
      return Fail(env, "pivotRoot", "must be an absolute path");
    if (!Str(env, n, "oldRoot", "", &setup.pivot_old)) return false;
    if (setup.pivot_old.empty() || setup.pivot_old.find('/') != std::string::npos)
      return Fail(env, "oldRoot", "must be a plain name");
    setup.pivot_old_abs = "/" + setup.pivot_old;
  }
  if (!Bool(env, n, "procPrivate", "", &setup.proc_private)) return false;
  Napi::Value steps;
  if (!Own(n, "steps", &steps)) return false;
  if (steps.IsUndefined()) return true;
  if (!steps.IsArray()) return Fail(env, "steps", "must be an array");
  Napi::Array a = steps.As<Napi::Array>();
  for (uint32_t i = 0; i < a.Length(); i++) {
    std::string where = "steps[" + std::to_string(i) + "].";
    Napi::Value iv;  // own elements only: a hole is not read from Array.prototype
    if (!Own(a, std::to_string(i).c_str(), &iv)) return false;
    if (!iv.IsObject()) return Fail(env, "steps", "must hold objects");
    MountSpec spec;
    if (!GetStep(env, iv.As<Napi::Object>(), where, &spec)) return false;
    setup.mounts.push_back(std::move(spec));
  }
  return true;
}

}  // namespace vircommand
