// The credentials of the NativePlan: uid and gid, the supplementary groups (looked up in the
// parent when not given: GroupListFor), the capabilities kept, and the rlimits.
// Zone: glue (N-API).
// SPDX-License-Identifier: MIT
#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include "js_numbers.h"
#include "plan_fields.h"
#include "plan_from_js.h"
#include "plan_parts_from_js.h"

namespace vircommand {

namespace {

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
  if (!CheckedInt(env, v, Named(where + key) + " (a number: -1 for unlimited, or 0 to 2^53-1)", -1, kSafeIntMax, &n))
    return false;
  *out = n < 0 ? ~uint64_t{0} : static_cast<uint64_t>(n);
  return true;
}

}  // namespace

bool GetCredentials(Napi::Env env, Napi::Object o, ExecPlan* plan) {
  if (!GetInt(env, o, "uid", -1, kIdMax, &plan->uid) || !GetInt(env, o, "gid", -1, kIdMax, &plan->gid)) return false;
  Napi::Value groups;
  if (!Field(o, "groups", &groups)) return false;
  if (groups.IsArray()) {
    Napi::Array a = groups.As<Napi::Array>();
    plan->set_groups = true;
    if (!ForEachIntItem(env, a, "groups", 0, kIdMax,
                        [plan](int64_t gid) { plan->groups.push_back(static_cast<gid_t>(gid)); }))
      return false;
  } else if (!groups.IsNull() && !groups.IsUndefined()) {
    return Fail(env, "groups", "must be an array or null");
  } else if ((plan->uid >= 0 || plan->gid >= 0) && geteuid() == 0) {
    // Only a privileged parent can change groups; an unprivileged one keeps its own, so that
    // setUID() alone fails at 'setuid', the step the caller asked for.
    plan->set_groups = true;
    if (!GroupListFor(plan->uid, plan->gid, &plan->groups)) {
      Napi::Error::New(env, "vircommand: cannot read the supplementary groups of uid " + std::to_string(plan->uid) +
                                ": " + strerror(errno))
          .ThrowAsJavaScriptException();
      return false;
    }
  }
  if (!GetBool(env, o, "clearCaps", &plan->clear_caps)) return false;
  Napi::Value caps;
  if (!Field(o, "keepCaps", &caps)) return false;
  if (!caps.IsArray()) return Fail(env, "keepCaps", "must be an array");
  Napi::Array ca = caps.As<Napi::Array>();
  if (!ForEachIntItem(env, ca, "keepCaps", 0, 63, [plan](int64_t cap) { plan->keep_caps |= uint64_t{1} << cap; }))
    return false;
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
        !GetRlimValue(env, r, "soft", &soft, At("rlimits", i)) ||
        !GetRlimValue(env, r, "hard", &hard, At("rlimits", i)))
      return false;
    plan->rlimits.push_back({res, soft, hard});
  }
  return true;
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

}  // namespace vircommand
