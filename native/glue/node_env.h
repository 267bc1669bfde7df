// The process environment, read under Node's rules: only while holding the lock Node takes
// around every read and write of environ (process.env in any thread, a Worker started with
// SHARE_ENV included). Reading environ without it can walk an array that another thread's
// setenv() has just reallocated and freed.
// Zone: glue (N-API).
// SPDX-License-Identifier: MIT
#pragma once

#include <dlfcn.h>
#include <stdlib.h>
#include <uv.h>

#include <string>
#include <vector>

extern char** environ;

namespace vircommand {

// node::per_process::env_var_mutex: a node::Mutex, whose only member is a uv_mutex_t. Node
// exports the symbol; a runtime that does not (or names it otherwise) gets null, and then
// native reads nothing of environ: the TypeScript layer passes process.env's entries instead
// (src/env.ts inheritedEnv).
inline uv_mutex_t* NodeEnvLock() {
  static uv_mutex_t* const lock =
      static_cast<uv_mutex_t*>(dlsym(RTLD_DEFAULT, "_ZN4node11per_process13env_var_mutexE"));
  return lock;
}

// Every entry of environ, bytes as they are, copied under Node's lock. False (nothing read)
// without the lock.
inline bool CopyEnvironLocked(std::vector<std::string>* out) {
  uv_mutex_t* lock = NodeEnvLock();
  if (lock == nullptr) return false;
  uv_mutex_lock(lock);
  for (char** e = environ; e != nullptr && *e != nullptr; e++) out->emplace_back(*e);
  uv_mutex_unlock(lock);
  return true;
}

// getenv(name) copied under Node's lock: *found false when unset. False without the lock.
inline bool GetenvLocked(const std::string& name, std::string* value, bool* found) {
  uv_mutex_t* lock = NodeEnvLock();
  if (lock == nullptr) return false;
  uv_mutex_lock(lock);
  const char* v = getenv(name.c_str());
  *found = v != nullptr;
  if (v != nullptr) value->assign(v);  // copied under the lock: a setenv() after it may free v
  uv_mutex_unlock(lock);
  return true;
}

}  // namespace vircommand
