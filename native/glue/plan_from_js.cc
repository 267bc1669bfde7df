// NativePlan -> ExecPlan: type checks, PATH candidates as given, groups resolved, hook loaded.
// Zone: glue (N-API).
// SPDX-License-Identifier: MIT
#include "plan_from_js.h"
#include "mounts_from_js.h"

#include <dlfcn.h>
#include <errno.h>
#include <grp.h>
#include <math.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include "js_numbers.h"
#include "node_env.h"

namespace vircommand {

namespace {

bool Fail(Napi::Env env, const std::string& field, const char* what) {
  Napi::TypeError::New(env, "vircommand native plan: '" + field + "' " + what).ThrowAsJavaScriptException();
  return false;
}

// An optional field not given: null, or undefined (which is also how Field() reads a field that
// is not an own property).
bool Absent(Napi::Value v) { return v.IsNull() || v.IsUndefined(); }

std::string Named(const std::string& field) { return "vircommand native plan: '" + field + "'"; }

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

bool GetString(Napi::Env env, Napi::Object o, const char* key, std::string* out, bool* present = nullptr) {
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
            const std::string& where = "") {
  Napi::Value v;
  if (!Field(o, key, &v)) return false;
  return CheckedInt(env, v, Named(where + key), lo, hi, out);
}

bool GetInt32(Napi::Env env, Napi::Object o, const char* key, int64_t lo, int64_t hi, int* out,
              const std::string& where = "") {
  Napi::Value v;
  if (!Field(o, key, &v)) return false;
  return CheckedInt32(env, v, Named(where + key), lo, hi, out);
}

std::string At(const char* array, uint32_t i) { return std::string(array) + "[" + std::to_string(i) + "]."; }

// A word of CLONE_* bits: 0 to 2^32-1 (the builder keeps them unsigned), as the int the
// syscalls take, bit for bit.
bool GetFlags32(Napi::Env env, Napi::Object o, const char* key, int* out, const std::string& where = "") {
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

// An rlimit amount: a number (-1 is RLIM_INFINITY) or, past 2^53-1, a bigint up to 2^64-1.
bool GetRlimValue(Napi::Env env, Napi::Object o, const char* key, uint64_t* out, const std::string& where) {
  Napi::Value v;
  if (!Field(o, key, &v)) return false;
  if (v.IsBigInt()) {
    bool lossless = false;
    *out = v.As<Napi::BigInt>().Uint64Value(&lossless);
    return lossless ? true : Fail(env, where + key, "must be a bigint from 0 to 2^64-1");
  }
  int64_t n = 0;
  if (!CheckedInt(env, v, Named(where + key) + " (a number: -1 for unlimited, or 0 to 2^53-1)", -1, kSafeIntMax, &n)) return false;
  *out = n < 0 ? ~uint64_t{0} : static_cast<uint64_t>(n);
  return true;
}

bool GetStdio(Napi::Env env, Napi::Object o, const char* key, int index, StdioSpec* spec) {
  Napi::Value v;
  if (!Field(o, key, &v)) return false;
  if (!v.IsObject()) return Fail(env, key, "must be an object");
  Napi::Object s = v.As<Napi::Object>();
  std::string type;
  if (!GetString(env, s, "type", &type)) return false;
  if (type == "null") {
    spec->kind = StdioKind::kNull;
  } else if (type == "fd") {
    spec->kind = StdioKind::kFd;
    if (!GetInt32(env, s, "fd", 0, kIntMax, &spec->fd, std::string(key) + ".")) return false;
  } else if (type == "pipe") {
    spec->kind = StdioKind::kPipe;
  } else if (type == "capture" && index > 0) {
    spec->kind = StdioKind::kCapture;
    int64_t max = 0;
    Napi::Value given;
    if (!Field(s, "maxBuffer", &given)) return false;
    if (!given.IsUndefined() && !CheckedInt(env, given, Named(std::string(key) + ".maxBuffer"), 0, kSafeIntMax, &max)) return false;
    spec->max_buffer = static_cast<size_t>(max);
  } else if (type == "buffer" && index == 0) {
    spec->kind = StdioKind::kBuffer;
    Napi::Value data;
    if (!Field(s, "data", &data)) return false;
    if (!data.IsBuffer()) return Fail(env, key, "data must be a Buffer");
    Napi::Buffer<uint8_t> b = data.As<Napi::Buffer<uint8_t>>();
    spec->data = b.Data();  // borrowed: the command's private copy, held with the plan (exec_plan.h)
    spec->data_len = b.Length();
  } else if (type == "stdout" && index == 2) {
    spec->kind = StdioKind::kSameAsStdout;
  } else {
    return Fail(env, key, "has an unknown type");
  }
  return true;
}

bool GetCredentials(Napi::Env env, Napi::Object o, ExecPlan* plan) {
  if (!GetInt(env, o, "uid", -1, kIdMax, &plan->uid) || !GetInt(env, o, "gid", -1, kIdMax, &plan->gid)) return false;
  Napi::Value groups;
  if (!Field(o, "groups", &groups)) return false;
  if (groups.IsArray()) {
    Napi::Array a = groups.As<Napi::Array>();
    plan->set_groups = true;
    for (uint32_t i = 0; i < a.Length(); i++) {
      int64_t gid = 0;
      if (!IntItem(env, a, i, "groups", 0, kIdMax, &gid)) return false;
      plan->groups.push_back(static_cast<gid_t>(gid));
    }
  } else if (!groups.IsNull() && !groups.IsUndefined()) {
    return Fail(env, "groups", "must be an array or null");
  } else if ((plan->uid >= 0 || plan->gid >= 0) && geteuid() == 0) {
    // Only a privileged parent can change groups; an unprivileged one keeps its own, so that
    // setUID() alone fails at 'setuid', the step the caller asked for.
    plan->set_groups = true;
    if (!GroupListFor(plan->uid, plan->gid, &plan->groups)) {
      Napi::Error::New(env, "vircommand: cannot read the supplementary groups of uid " + std::to_string(plan->uid) + ": " +
                                strerror(errno))
          .ThrowAsJavaScriptException();
      return false;
    }
  }
  if (!GetBool(env, o, "clearCaps", &plan->clear_caps)) return false;
  Napi::Value caps;
  if (!Field(o, "keepCaps", &caps)) return false;
  if (!caps.IsArray()) return Fail(env, "keepCaps", "must be an array");
  Napi::Array ca = caps.As<Napi::Array>();
  for (uint32_t i = 0; i < ca.Length(); i++) {
    int64_t cap = 0;
    if (!IntItem(env, ca, i, "keepCaps", 0, 63, &cap)) return false;
    plan->keep_caps |= uint64_t{1} << cap;
  }
  Napi::Value rl;
  if (!Field(o, "rlimits", &rl)) return false;
  if (!rl.IsArray()) return Fail(env, "rlimits", "must be an array");
  Napi::Array ra = rl.As<Napi::Array>();
  for (uint32_t i = 0; i < ra.Length(); i++) {
    Napi::Object r;
    if (!ObjectItem(env, ra, i, "rlimits", &r)) return false;
    int res;
    uint64_t soft, hard;
    if (!GetInt32(env, r, "resource", 0, RLIMIT_NLIMITS - 1, &res, At("rlimits", i)) ||
        !GetRlimValue(env, r, "soft", &soft, At("rlimits", i)) || !GetRlimValue(env, r, "hard", &hard, At("rlimits", i)))
      return false;
    plan->rlimits.push_back({res, soft, hard});
  }
  return true;
}

bool GetSteps(Napi::Env env, Napi::Object o, ExecPlan* plan) {
  if (!GetBool(env, o, "noNewPrivs", &plan->no_new_privs) || !GetBool(env, o, "setsid", &plan->setsid)) return false;
  if (!GetInt32(env, o, "parentDeathSignal", 0, SIGRTMAX, &plan->pdeathsig) ||
      !GetInt32(env, o, "pgid", -1, kIntMax, &plan->pgid) ||
      !GetFlags32(env, o, "unshareFlags", &plan->unshare_flags))
    return false;
  Napi::Value nice;
  if (!Field(o, "nice", &nice)) return false;
  if (!nice.IsNull() && !nice.IsUndefined()) {
    plan->has_nice = true;
    if (!CheckedInt32(env, nice, Named("nice"), -20, 19, &plan->nice)) return false;
  }
  Napi::Value ns;
  if (!Field(o, "namespaces", &ns)) return false;
  if (!ns.IsArray()) return Fail(env, "namespaces", "must be an array");
  Napi::Array na = ns.As<Napi::Array>();
  for (uint32_t i = 0; i < na.Length(); i++) {
    Napi::Object n;
    if (!ObjectItem(env, na, i, "namespaces", &n)) return false;
    int fd, type;
    if (!GetInt32(env, n, "fd", 0, kIntMax, &fd, At("namespaces", i)) || !GetFlags32(env, n, "type", &type, At("namespaces", i)))
      return false;
    plan->namespaces.push_back({fd, type});
  }
  bool present = false;
  std::string cgroup;
  if (!GetString(env, o, "cgroup", &cgroup, &present)) return false;
  if (present) plan->cgroup_procs = cgroup + "/cgroup.procs";
  Napi::Value cgroup_fd;
  if (!Field(o, "cgroupFd", &cgroup_fd)) return false;
  if (!cgroup_fd.IsNull() && !cgroup_fd.IsUndefined() &&
      !CheckedInt32(env, cgroup_fd, Named("cgroupFd"), -1, kIntMax, &plan->cgroup_fd))
    return false;
  if (!GetString(env, o, "chroot", &plan->chroot_dir, &present)) return false;
  Napi::Value hook;
  if (!Field(o, "hook", &hook)) return false;
  if (!Absent(hook) && !hook.IsObject()) return Fail(env, "hook", "must be an object or null");
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
    Napi::Value data;
    if (!Field(h, "data", &data)) return false;
    if (data.IsBuffer()) {
      Napi::Buffer<uint8_t> b = data.As<Napi::Buffer<uint8_t>>();
      plan->hook_data.assign(b.Data(), b.Data() + b.Length());
    }
    plan->hook_data.push_back(0);  // so a string opaque is a C string
  }
  if (!GetBool(env, o, "handshake", &plan->handshake) || !GetBool(env, o, "daemonize", &plan->daemonize)) return false;
  if (!GetString(env, o, "pidFile", &plan->pidfile, &present)) return false;
  return true;
}

// The new namespaces' setup (NativePlan.namespaceSetup): maps already in the kernel's format,
// checked in TS. Absent: nothing written, mounts private.
bool GetNamespaceSetup(Napi::Env env, Napi::Object o, ExecPlan* plan) {
  Napi::Value v;
  if (!Field(o, "namespaceSetup", &v)) return false;
  if (v.IsUndefined() || v.IsNull()) return true;
  if (!v.IsObject()) return Fail(env, "namespaceSetup", "must be an object");
  Napi::Object n = v.As<Napi::Object>();
  bool present = false;
  if (!GetString(env, n, "uidMap", &plan->uid_map, &present) || !GetString(env, n, "gidMap", &plan->gid_map, &present))
    return false;
  if (!GetString(env, n, "uidMapHelper", &plan->uid_map_helper, &present) ||
      !GetString(env, n, "gidMapHelper", &plan->gid_map_helper, &present))
    return false;
  int64_t propagation = 0;
  if (!GetInt(env, n, "propagation", 0, 4294967295, &propagation, "namespaceSetup.")) return false;
  plan->mount_propagation = static_cast<unsigned long>(propagation);
  return GetBool(env, n, "mountProc", &plan->mount_proc);
}

// setSendBuffer() pipes, scheduling and LSM labels. Every field is optional (absent: unchanged).
bool GetExtras(Napi::Env env, Napi::Object o, ExecPlan* plan) {
  Napi::Value sends;
  if (!Field(o, "sendBuffers", &sends)) return false;
  if (!Absent(sends) && !sends.IsArray()) return Fail(env, "sendBuffers", "must be an array or null");
  if (sends.IsArray()) {
    Napi::Array a = sends.As<Napi::Array>();
    for (uint32_t i = 0; i < a.Length(); i++) {
      Napi::Object b;
      if (!ObjectItem(env, a, i, "sendBuffers", &b)) return false;
      SendBuffer sb;
      if (!GetInt32(env, b, "fd", 3, kIntMax, &sb.target, At("sendBuffers", i))) return false;
      Napi::Value data;
      if (!Field(b, "data", &data)) return false;
      if (!data.IsBuffer()) return Fail(env, "sendBuffers", "data must be a Buffer");
      Napi::Buffer<uint8_t> buf = data.As<Napi::Buffer<uint8_t>>();
      sb.data = buf.Data();  // borrowed like stdin's: the command's private copy, held with the plan
      sb.len = buf.Length();
      plan->sends.push_back(sb);
    }
  }
  Napi::Value cpus;
  if (!Field(o, "cpuAffinity", &cpus)) return false;
  if (!Absent(cpus) && !cpus.IsArray()) return Fail(env, "cpuAffinity", "must be an array or null");
  if (cpus.IsArray()) {
    Napi::Array a = cpus.As<Napi::Array>();
    for (uint32_t i = 0; i < a.Length(); i++) {
      int64_t value = 0;
      if (!IntItem(env, a, i, "cpuAffinity", 0, 65535, &value)) return false;
      size_t cpu = static_cast<size_t>(value);
      if (plan->cpu_mask.size() <= cpu / 64) plan->cpu_mask.resize(cpu / 64 + 1, 0);
      plan->cpu_mask[cpu / 64] |= uint64_t{1} << (cpu % 64);
    }
    if (plan->cpu_mask.empty()) return Fail(env, "cpuAffinity", "must not be empty");
  }
  Napi::Value mem;
  if (!Field(o, "memoryPolicy", &mem)) return false;
  if (!Absent(mem) && !mem.IsObject()) return Fail(env, "memoryPolicy", "must be an object or null");
  if (mem.IsObject()) {
    Napi::Object m = mem.As<Napi::Object>();
    if (!GetInt32(env, m, "mode", 0, kIntMax, &plan->mempolicy_mode, "memoryPolicy.")) return false;
    Napi::Value nodes;
    if (!Field(m, "nodes", &nodes)) return false;
    if (!nodes.IsArray()) return Fail(env, "memoryPolicy.nodes", "must be an array");
    Napi::Array a = nodes.As<Napi::Array>();
    constexpr unsigned kBits = sizeof(unsigned long) * 8;
    for (uint32_t i = 0; i < a.Length(); i++) {
      int64_t value = 0;
      if (!IntItem(env, a, i, "memoryPolicy.nodes", 0, 4095, &value)) return false;
      size_t node = static_cast<size_t>(value);
      if (plan->mem_nodes.size() <= node / kBits) plan->mem_nodes.resize(node / kBits + 1, 0);
      plan->mem_nodes[node / kBits] |= 1UL << (node % kBits);
    }
    // maxnode: the kernel reads maxnode - 1 bits (an old off-by-one kept for compatibility),
    // so one more than the bits we hold.
    plan->mem_maxnode = plan->mem_nodes.size() * kBits + 1;
  }
  Napi::Value core;
  if (!Field(o, "schedCore", &core)) return false;
  if (!core.IsNull() && !core.IsUndefined()) {
    if (!CheckedInt32(env, core, Named("schedCore"), kSchedCoreNone, kSchedCoreAmong, &plan->sched_core)) return false;
    int64_t pid = 0;
    if (plan->sched_core == kSchedCoreAmong && !GetInt(env, o, "schedCorePid", 1, kIntMax, &pid)) return false;
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

// The new uts namespace's names and the seccomp program (all optional; absent: unchanged).
// Copied into the plan: the child reads them after the JavaScript values may be gone.
bool GetContainerIds(Napi::Env env, Napi::Object o, ExecPlan* plan) {
  if (!GetString(env, o, "hostname", &plan->hostname, &plan->has_hostname) ||
      !GetString(env, o, "domainname", &plan->domainname, &plan->has_domainname))
    return false;
  // The kernel's __NEW_UTS_LEN (TS checks it first, naming the method).
  if (plan->hostname.size() > 64) return Fail(env, "hostname", "must be at most 64 bytes");
  if (plan->domainname.size() > 64) return Fail(env, "domainname", "must be at most 64 bytes");
  Napi::Value filter;
  if (!Field(o, "seccompFilter", &filter)) return false;
  if (Absent(filter)) return true;
  if (!filter.IsBuffer()) return Fail(env, "seccompFilter", "must be a Buffer or null");
  Napi::Buffer<uint8_t> b = filter.As<Napi::Buffer<uint8_t>>();
  // struct sock_filter is 8 bytes; BPF_MAXINSNS is 4096.
  if (b.Length() == 0 || b.Length() % 8 != 0 || b.Length() > 4096 * 8)
    return Fail(env, "seccompFilter", "must hold 1 to 4096 instructions of 8 bytes");
  plan->seccomp_filter.assign(b.Data(), b.Data() + b.Length());
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

bool GroupListFor(int64_t uid, int64_t gid, std::vector<gid_t>* out) {
  gid_t primary = gid >= 0 ? static_cast<gid_t>(gid) : getegid();
  out->clear();
  if (uid >= 0) {
    struct passwd pw, *found = nullptr;
    // A record larger than the buffer (ERANGE: a long gecos, an NSS backend's big entry) gets a
    // larger buffer, never "no user" (which would drop the groups and keep only the primary).
    std::vector<char> buf(16384);
    int rc;
    while ((rc = getpwuid_r(static_cast<uid_t>(uid), &pw, buf.data(), buf.size(), &found)) == ERANGE) {
      if (buf.size() >= (size_t{64} << 20)) break;
      buf.resize(buf.size() * 2);
    }
    // No such user (glibc: 0 and no record; other libcs name it ENOENT, ESRCH...): the primary
    // group alone. Any other failure (ERANGE past 64 MiB, EIO, EMFILE, ENOMEM) is not a user
    // without groups: refuse.
    if (rc != 0 && rc != ENOENT && rc != ESRCH && rc != EBADF && rc != EPERM) {
      errno = rc;
      return false;
    }
    if (rc == 0 && found != nullptr) {
      // getgrouplist() returns -1 and the count it needs when the array is too small; the
      // count can grow again before the next call (an NSS cache refresh, groupadd), so ask
      // until a call succeeds, and keep exactly the entries that call wrote. Never pad: a slot
      // filled by resize() is gid 0, root's group.
      int n = 64;
      for (;;) {
        int asked = n;
        out->resize(static_cast<size_t>(asked));
        if (getgrouplist(pw.pw_name, primary, out->data(), &n) >= 0) break;
        if (n <= asked) n = asked * 2;  // no usable count reported: grow anyway
        if (n > (1 << 20)) {  // far above the kernel's NGROUPS_MAX (65536)
          out->clear();
          errno = E2BIG;
          return false;
        }
      }
      out->resize(n < 0 ? 0 : static_cast<size_t>(n));
    }
  }
  if (out->empty()) out->push_back(primary);
  return true;
}

bool PlanFromJs(Napi::Env env, Napi::Object o, ExecPlan* plan) {
  Napi::Value argv, candidates;
  if (!Field(o, "argv", &argv) || !GetStringArray(env, argv, "argv", &plan->argv) ||
      !Field(o, "candidates", &candidates) || !GetStringArray(env, candidates, "candidates", &plan->candidates))
    return false;
  if (plan->argv.empty()) return Fail(env, "argv", "must not be empty");
  // null: the child inherits the process environment, copied here under Node's lock (never
  // by a bare walk of environ, which a Worker's setenv() may be reallocating). Without that lock
  // the TS layer passes process.env's entries instead (src/env.ts inheritedEnv).
  Napi::Value envv;
  if (!Field(o, "env", &envv)) return false;
  if (Absent(envv)) {
    if (!CopyEnvironLocked(&plan->env)) return Fail(env, "env", "cannot be null: Node's environment lock was not found");
  } else if (!GetStringArray(env, envv, "env", &plan->env)) {
    return false;
  }
  if (!GetString(env, o, "cwd", &plan->cwd, &plan->has_cwd)) return false;
  if (!GetInt32(env, o, "umask", -1, 0777, &plan->umask)) return false;
  if (!GetStdio(env, o, "stdin", 0, &plan->stdio[0]) || !GetStdio(env, o, "stdout", 1, &plan->stdio[1]) ||
      !GetStdio(env, o, "stderr", 2, &plan->stdio[2]))
    return false;
  if (!GetBool(env, o, "nonblocking", &plan->nonblocking)) return false;
  Napi::Value pass;
  if (!Field(o, "passFds", &pass)) return false;
  if (!pass.IsArray()) return Fail(env, "passFds", "must be an array");
  Napi::Array pa = pass.As<Napi::Array>();
  for (uint32_t i = 0; i < pa.Length(); i++) {
    int64_t fd = 0;
    if (!IntItem(env, pa, i, "passFds", 0, kIntMax, &fd)) return false;
    plan->pass_fds.push_back(static_cast<int>(fd));
  }
  // Optional (PASS_FD_BLOCKING): passed fds whose O_NONBLOCK the child clears.
  Napi::Value blocking;
  if (!Field(o, "blockingFds", &blocking)) return false;
  if (!Absent(blocking) && !blocking.IsArray()) return Fail(env, "blockingFds", "must be an array or null");
  if (blocking.IsArray()) {
    Napi::Array ba = blocking.As<Napi::Array>();
    for (uint32_t i = 0; i < ba.Length(); i++) {
      int64_t fd = 0;
      if (!IntItem(env, ba, i, "blockingFds", 0, kIntMax, &fd)) return false;
      plan->blocking_fds.push_back(static_cast<int>(fd));
    }
  }
  if (!GetCredentials(env, o, plan) || !GetSteps(env, o, plan) || !GetNamespaceSetup(env, o, plan) ||
      !GetExtras(env, o, plan) || !GetMountSetup(env, o, plan) || !GetContainerIds(env, o, plan))
    return false;
  Napi::Value timeout, grace, drain;
  if (!Field(o, "timeoutMs", &timeout) || !Field(o, "killGraceMs", &grace) || !Field(o, "drainMs", &drain)) return false;
  plan->timeout_ms = MillisFromJs(timeout, plan->timeout_ms);
  plan->kill_grace_ms = MillisFromJs(grace, plan->kill_grace_ms);
  plan->drain_ms = MillisFromJs(drain, plan->drain_ms);
  return true;
}

}  // namespace vircommand
