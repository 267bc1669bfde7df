// NativePlan -> ExecPlan: type checks, PATH candidates as given, groups resolved, hook loaded.
// Zone: glue (N-API).
// SPDX-License-Identifier: MIT
#include "plan_from_js.h"

#include <dlfcn.h>
#include <math.h>
#include <grp.h>
#include <pwd.h>
#include <unistd.h>

namespace vircommand {

namespace {

bool Fail(Napi::Env env, const std::string& field, const char* what) {
  Napi::TypeError::New(env, "vircommand native plan: '" + field + "' " + what).ThrowAsJavaScriptException();
  return false;
}

bool GetString(Napi::Env env, Napi::Object o, const char* key, std::string* out, bool* present = nullptr) {
  Napi::Value v = o.Get(key);
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
    Napi::Value item = a.Get(i);
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

bool GetNumber(Napi::Env env, Napi::Object o, const char* key, double* out) {
  Napi::Value v = o.Get(key);
  if (!v.IsNumber()) return Fail(env, key, "must be a number");
  *out = v.As<Napi::Number>().DoubleValue();
  return true;
}

bool GetInt(Napi::Env env, Napi::Object o, const char* key, int64_t* out) {
  double d;
  if (!GetNumber(env, o, key, &d)) return false;
  if (d != static_cast<double>(static_cast<int64_t>(d))) return Fail(env, key, "must be an integer");
  *out = static_cast<int64_t>(d);
  return true;
}

bool GetInt32(Napi::Env env, Napi::Object o, const char* key, int* out) {
  int64_t v = 0;
  if (!GetInt(env, o, key, &v)) return false;
  *out = static_cast<int>(v);
  return true;
}

bool GetBool(Napi::Object o, const char* key) { return o.Get(key).ToBoolean().Value(); }

// An rlimit amount: a number (-1 is RLIM_INFINITY) or, past 2^53-1, a bigint up to 2^64-1.
bool GetRlimValue(Napi::Env env, Napi::Object o, const char* key, uint64_t* out) {
  Napi::Value v = o.Get(key);
  if (v.IsBigInt()) {
    bool lossless = false;
    *out = v.As<Napi::BigInt>().Uint64Value(&lossless);
    return lossless ? true : Fail(env, key, "must be a bigint from 0 to 2^64-1");
  }
  if (!v.IsNumber()) return Fail(env, key, "must be a number or a bigint");
  double d = v.As<Napi::Number>().DoubleValue();
  *out = d < 0 ? ~uint64_t{0} : static_cast<uint64_t>(d);
  return true;
}

bool GetStdio(Napi::Env env, Napi::Object o, const char* key, int index, StdioSpec* spec) {
  Napi::Value v = o.Get(key);
  if (!v.IsObject()) return Fail(env, key, "must be an object");
  Napi::Object s = v.As<Napi::Object>();
  std::string type;
  if (!GetString(env, s, "type", &type)) return false;
  if (type == "null") {
    spec->kind = StdioKind::kNull;
  } else if (type == "fd") {
    spec->kind = StdioKind::kFd;
    if (!GetInt32(env, s, "fd", &spec->fd)) return false;
  } else if (type == "pipe") {
    spec->kind = StdioKind::kPipe;
  } else if (type == "capture" && index > 0) {
    spec->kind = StdioKind::kCapture;
    double max = 0;
    if (!s.Get("maxBuffer").IsUndefined() && !GetNumber(env, s, "maxBuffer", &max)) return false;
    spec->max_buffer = max > 0 ? static_cast<size_t>(max) : 0;
  } else if (type == "buffer" && index == 0) {
    spec->kind = StdioKind::kBuffer;
    Napi::Value data = s.Get("data");
    if (!data.IsBuffer()) return Fail(env, key, "data must be a Buffer");
    Napi::Buffer<uint8_t> b = data.As<Napi::Buffer<uint8_t>>();
    spec->data = b.Data();  // borrowed: see InputKeeper in child_handle.cc for async runs
    spec->data_len = b.Length();
  } else if (type == "stdout" && index == 2) {
    spec->kind = StdioKind::kSameAsStdout;
  } else {
    return Fail(env, key, "has an unknown type");
  }
  return true;
}

bool GetCredentials(Napi::Env env, Napi::Object o, ExecPlan* plan) {
  if (!GetInt(env, o, "uid", &plan->uid) || !GetInt(env, o, "gid", &plan->gid)) return false;
  Napi::Value groups = o.Get("groups");
  if (groups.IsArray()) {
    Napi::Array a = groups.As<Napi::Array>();
    plan->set_groups = true;
    for (uint32_t i = 0; i < a.Length(); i++) plan->groups.push_back(a.Get(i).As<Napi::Number>().Uint32Value());
  } else if ((plan->uid >= 0 || plan->gid >= 0) && geteuid() == 0) {
    // Only a privileged parent can change groups; an unprivileged one keeps its own, so that
    // setUID() alone fails at 'setuid', the step the caller asked for.
    plan->set_groups = true;
    plan->groups = GroupListFor(plan->uid, plan->gid);
  }
  plan->clear_caps = GetBool(o, "clearCaps");
  Napi::Value caps = o.Get("keepCaps");
  if (!caps.IsArray()) return Fail(env, "keepCaps", "must be an array");
  Napi::Array ca = caps.As<Napi::Array>();
  for (uint32_t i = 0; i < ca.Length(); i++) {
    uint32_t cap = ca.Get(i).As<Napi::Number>().Uint32Value();
    if (cap > 63) return Fail(env, "keepCaps", "holds a capability above 63");
    plan->keep_caps |= uint64_t{1} << cap;
  }
  Napi::Value rl = o.Get("rlimits");
  if (!rl.IsArray()) return Fail(env, "rlimits", "must be an array");
  Napi::Array ra = rl.As<Napi::Array>();
  for (uint32_t i = 0; i < ra.Length(); i++) {
    Napi::Object r = ra.Get(i).As<Napi::Object>();
    double res;
    uint64_t soft, hard;
    if (!GetNumber(env, r, "resource", &res) || !GetRlimValue(env, r, "soft", &soft) || !GetRlimValue(env, r, "hard", &hard))
      return false;
    plan->rlimits.push_back({static_cast<int>(res), soft, hard});
  }
  return true;
}

bool GetSteps(Napi::Env env, Napi::Object o, ExecPlan* plan) {
  plan->no_new_privs = GetBool(o, "noNewPrivs");
  plan->setsid = GetBool(o, "setsid");
  if (!GetInt32(env, o, "parentDeathSignal", &plan->pdeathsig) || !GetInt32(env, o, "pgid", &plan->pgid) ||
      !GetInt32(env, o, "unshareFlags", &plan->unshare_flags))
    return false;
  Napi::Value nice = o.Get("nice");
  if (nice.IsNumber()) {
    plan->has_nice = true;
    plan->nice = nice.As<Napi::Number>().Int32Value();
  }
  Napi::Value ns = o.Get("namespaces");
  if (!ns.IsArray()) return Fail(env, "namespaces", "must be an array");
  Napi::Array na = ns.As<Napi::Array>();
  for (uint32_t i = 0; i < na.Length(); i++) {
    Napi::Object n = na.Get(i).As<Napi::Object>();
    int fd, type;
    if (!GetInt32(env, n, "fd", &fd) || !GetInt32(env, n, "type", &type)) return false;
    plan->namespaces.push_back({fd, type});
  }
  bool present = false;
  std::string cgroup;
  if (!GetString(env, o, "cgroup", &cgroup, &present)) return false;
  if (present) plan->cgroup_procs = cgroup + "/cgroup.procs";
  Napi::Value cgroup_fd = o.Get("cgroupFd");
  if (cgroup_fd.IsNumber()) plan->cgroup_fd = cgroup_fd.As<Napi::Number>().Int32Value();
  if (!GetString(env, o, "chroot", &plan->chroot_dir, &present)) return false;
  Napi::Value hook = o.Get("hook");
  if (hook.IsObject()) {
    Napi::Object h = hook.As<Napi::Object>();
    std::string library, symbol;
    if (!GetString(env, h, "library", &library) || !GetString(env, h, "symbol", &symbol)) return false;
    // Loaded in the parent: dlopen takes locks and allocates. Never unloaded (the child of a
    // later run may still need it).
    void* handle = dlopen(library.c_str(), RTLD_NOW | RTLD_LOCAL);
    void* fn = handle != nullptr ? dlsym(handle, symbol.c_str()) : nullptr;
    if (fn == nullptr) {
      const char* why = dlerror();
      Napi::Error e = Napi::Error::New(env, std::string("cannot load pre-exec hook: ") + (why ? why : symbol));
      e.Set("stage", Napi::String::New(env, "hook"));
      e.Set("path", Napi::String::New(env, library));
      e.ThrowAsJavaScriptException();
      return false;
    }
    plan->hook = reinterpret_cast<PreExecHook>(fn);
    plan->hook_library = library;
    Napi::Value data = h.Get("data");
    if (data.IsBuffer()) {
      Napi::Buffer<uint8_t> b = data.As<Napi::Buffer<uint8_t>>();
      plan->hook_data.assign(b.Data(), b.Data() + b.Length());
    }
    plan->hook_data.push_back(0);  // so a string opaque is a C string
  }
  plan->handshake = GetBool(o, "handshake");
  plan->daemonize = GetBool(o, "daemonize");
  if (!GetString(env, o, "pidFile", &plan->pidfile, &present)) return false;
  return true;
}

// The new namespaces' setup (NativePlan.namespaceSetup): maps already in the kernel's format,
// checked in TS. Absent: nothing written, mounts private.
bool GetNamespaceSetup(Napi::Env env, Napi::Object o, ExecPlan* plan) {
  Napi::Value v = o.Get("namespaceSetup");
  if (v.IsUndefined() || v.IsNull()) return true;
  if (!v.IsObject()) return Fail(env, "namespaceSetup", "must be an object");
  Napi::Object n = v.As<Napi::Object>();
  bool present = false;
  if (!GetString(env, n, "uidMap", &plan->uid_map, &present) || !GetString(env, n, "gidMap", &plan->gid_map, &present))
    return false;
  double propagation = 0;
  if (!GetNumber(env, n, "propagation", &propagation)) return false;
  plan->mount_propagation = static_cast<unsigned long>(propagation);
  plan->mount_proc = GetBool(n, "mountProc");
  return true;
}

// setSendBuffer() pipes, scheduling and LSM labels. Every field is optional (absent: unchanged).
bool GetExtras(Napi::Env env, Napi::Object o, ExecPlan* plan) {
  Napi::Value sends = o.Get("sendBuffers");
  if (sends.IsArray()) {
    Napi::Array a = sends.As<Napi::Array>();
    for (uint32_t i = 0; i < a.Length(); i++) {
      if (!a.Get(i).IsObject()) return Fail(env, "sendBuffers", "must hold objects");
      Napi::Object b = a.Get(i).As<Napi::Object>();
      SendBuffer sb;
      if (!GetInt32(env, b, "fd", &sb.target)) return false;
      if (sb.target < 3) return Fail(env, "sendBuffers", "holds an fd below 3");
      Napi::Value data = b.Get("data");
      if (!data.IsBuffer()) return Fail(env, "sendBuffers", "data must be a Buffer");
      Napi::Buffer<uint8_t> buf = data.As<Napi::Buffer<uint8_t>>();
      sb.data = buf.Data();  // borrowed: the JS plan stays alive until the run ends
      sb.len = buf.Length();
      plan->sends.push_back(sb);
    }
  }
  Napi::Value cpus = o.Get("cpuAffinity");
  if (cpus.IsArray()) {
    Napi::Array a = cpus.As<Napi::Array>();
    for (uint32_t i = 0; i < a.Length(); i++) {
      uint32_t cpu = a.Get(i).As<Napi::Number>().Uint32Value();
      if (cpu >= 65536) return Fail(env, "cpuAffinity", "holds a cpu above 65535");
      if (plan->cpu_mask.size() <= cpu / 64) plan->cpu_mask.resize(cpu / 64 + 1, 0);
      plan->cpu_mask[cpu / 64] |= uint64_t{1} << (cpu % 64);
    }
    if (plan->cpu_mask.empty()) return Fail(env, "cpuAffinity", "must not be empty");
  }
  Napi::Value mem = o.Get("memoryPolicy");
  if (mem.IsObject()) {
    Napi::Object m = mem.As<Napi::Object>();
    if (!GetInt32(env, m, "mode", &plan->mempolicy_mode)) return false;
    Napi::Value nodes = m.Get("nodes");
    if (!nodes.IsArray()) return Fail(env, "memoryPolicy.nodes", "must be an array");
    Napi::Array a = nodes.As<Napi::Array>();
    constexpr unsigned kBits = sizeof(unsigned long) * 8;
    for (uint32_t i = 0; i < a.Length(); i++) {
      uint32_t node = a.Get(i).As<Napi::Number>().Uint32Value();
      if (node >= 4096) return Fail(env, "memoryPolicy.nodes", "holds a node above 4095");
      if (plan->mem_nodes.size() <= node / kBits) plan->mem_nodes.resize(node / kBits + 1, 0);
      plan->mem_nodes[node / kBits] |= 1UL << (node % kBits);
    }
    // maxnode: the kernel reads maxnode - 1 bits (an old off-by-one kept for compatibility),
    // so one more than the bits we hold.
    plan->mem_maxnode = plan->mem_nodes.size() * kBits + 1;
  }
  Napi::Value core = o.Get("schedCore");
  if (core.IsNumber()) {
    plan->sched_core = core.As<Napi::Number>().Int32Value();
    int64_t pid = 0;
    if (plan->sched_core == kSchedCoreAmong && !GetInt(env, o, "schedCorePid", &pid)) return false;
    plan->sched_core_pid = static_cast<pid_t>(pid);
  }
  bool present = false;
  if (!GetString(env, o, "selinuxLabel", &plan->selinux_label, &present)) return false;
  plan->has_selinux_label = present;
  std::string profile;
  if (!GetString(env, o, "apparmorProfile", &profile, &present)) return false;
  plan->has_apparmor_profile = present;
  if (present) plan->apparmor_exec = "exec " + profile;
  return true;
}

}  // namespace

int64_t MillisFromJs(Napi::Value v, int64_t fallback) {
  if (!v.IsNumber()) return fallback;
  double d = v.As<Napi::Number>().DoubleValue();
  if (!(d > 0)) return 0;  // negatives and NaN (TS refuses both)
  constexpr double kMax = 9007199254740991.0;  // 2^53-1, TS's MAX_TIMER_MS
  return d >= kMax ? static_cast<int64_t>(kMax) : static_cast<int64_t>(ceil(d));
}

std::vector<gid_t> GroupListFor(int64_t uid, int64_t gid) {
  gid_t primary = gid >= 0 ? static_cast<gid_t>(gid) : getegid();
  std::vector<gid_t> groups;
  if (uid >= 0) {
    struct passwd pw, *found = nullptr;
    std::vector<char> buf(16384);
    if (getpwuid_r(static_cast<uid_t>(uid), &pw, buf.data(), buf.size(), &found) == 0 && found != nullptr) {
      int n = 64;
      groups.resize(n);
      if (getgrouplist(pw.pw_name, primary, groups.data(), &n) < 0) {
        groups.resize(n);
        getgrouplist(pw.pw_name, primary, groups.data(), &n);
      }
      groups.resize(n);
    }
  }
  if (groups.empty()) groups.push_back(primary);
  return groups;
}

bool PlanFromJs(Napi::Env env, Napi::Object o, ExecPlan* plan) {
  if (!GetStringArray(env, o.Get("argv"), "argv", &plan->argv) ||
      !GetStringArray(env, o.Get("candidates"), "candidates", &plan->candidates))
    return false;
  if (plan->argv.empty()) return Fail(env, "argv", "must not be empty");
  Napi::Value envv = o.Get("env");
  plan->inherit_env = envv.IsNull() || envv.IsUndefined();
  if (!plan->inherit_env && !GetStringArray(env, envv, "env", &plan->env)) return false;
  if (!GetString(env, o, "cwd", &plan->cwd, &plan->has_cwd)) return false;
  if (!GetInt32(env, o, "umask", &plan->umask)) return false;
  if (!GetStdio(env, o, "stdin", 0, &plan->stdio[0]) || !GetStdio(env, o, "stdout", 1, &plan->stdio[1]) ||
      !GetStdio(env, o, "stderr", 2, &plan->stdio[2]))
    return false;
  plan->nonblocking = GetBool(o, "nonblocking");
  Napi::Value pass = o.Get("passFds");
  if (!pass.IsArray()) return Fail(env, "passFds", "must be an array");
  Napi::Array pa = pass.As<Napi::Array>();
  for (uint32_t i = 0; i < pa.Length(); i++) plan->pass_fds.push_back(pa.Get(i).As<Napi::Number>().Int32Value());
  if (!GetCredentials(env, o, plan) || !GetSteps(env, o, plan) || !GetNamespaceSetup(env, o, plan) ||
      !GetExtras(env, o, plan))
    return false;
  plan->timeout_ms = MillisFromJs(o.Get("timeoutMs"), plan->timeout_ms);
  plan->kill_grace_ms = MillisFromJs(o.Get("killGraceMs"), plan->kill_grace_ms);
  plan->drain_ms = MillisFromJs(o.Get("drainMs"), plan->drain_ms);
  return true;
}

}  // namespace vircommand
