// The child's steps in the NativePlan, past its fds and credentials: session and process group,
// nice, namespaces joined and made (and their setup), cgroup, chroot, the pre-exec hook (loaded
// here, in the parent), handshake, daemon and pidfile; scheduling and LSM labels; the uts names
// and the seccomp program.
// Zone: glue (N-API).
// SPDX-License-Identifier: MIT
#include <dlfcn.h>
#include <signal.h>

#include "js_numbers.h"
#include "plan_fields.h"
#include "plan_parts_from_js.h"

namespace vircommand {

bool GetSteps(Napi::Env env, Napi::Object o, ExecPlan* plan) {
  if (!GetBool(env, o, "noNewPrivs", &plan->no_new_privs) || !GetBool(env, o, "setsid", &plan->setsid)) return false;
  if (!GetInt32(env, o, "parentDeathSignal", 0, SIGRTMAX, &plan->pdeathsig) ||
      !GetInt32(env, o, "pgid", -1, kIntMax, &plan->pgid) || !GetFlags32(env, o, "unshareFlags", &plan->unshare_flags))
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
    if (!GetInt32(env, n, "fd", 0, kIntMax, &fd, At("namespaces", i)) ||
        !GetFlags32(env, n, "type", &type, At("namespaces", i)))
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

// Scheduling and LSM labels. Every field is optional (absent: unchanged).
bool GetExtras(Napi::Env env, Napi::Object o, ExecPlan* plan) {
  Napi::Value cpus;
  if (!Field(o, "cpuAffinity", &cpus)) return false;
  if (!Absent(cpus) && !cpus.IsArray()) return Fail(env, "cpuAffinity", "must be an array or null");
  if (cpus.IsArray()) {
    Napi::Array a = cpus.As<Napi::Array>();
    bool read = ForEachIntItem(env, a, "cpuAffinity", 0, 65535, [plan](int64_t value) {
      size_t cpu = static_cast<size_t>(value);
      if (plan->cpu_mask.size() <= cpu / 64) plan->cpu_mask.resize(cpu / 64 + 1, 0);
      plan->cpu_mask[cpu / 64] |= uint64_t{1} << (cpu % 64);
    });
    if (!read) return false;
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
    bool read = ForEachIntItem(env, a, "memoryPolicy.nodes", 0, 4095, [plan](int64_t value) {
      size_t node = static_cast<size_t>(value);
      if (plan->mem_nodes.size() <= node / kBits) plan->mem_nodes.resize(node / kBits + 1, 0);
      plan->mem_nodes[node / kBits] |= 1UL << (node % kBits);
    });
    if (!read) return false;
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

}  // namespace vircommand
