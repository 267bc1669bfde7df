// joinCgroup()'s directory must be a cgroup (cgroup_check.h).
// Zone: parent. No N-API.
// SPDX-License-Identifier: MIT
#include "cgroup_check.h"

#include <errno.h>
#include <sys/vfs.h>

namespace vircommand {

namespace {
constexpr long kCgroup2Magic = 0x63677270;  // CGROUP2_SUPER_MAGIC
constexpr long kCgroupMagic = 0x27e0eb;  // CGROUP_SUPER_MAGIC (a v1 hierarchy)
}  // namespace

int CgroupDirError(const ExecPlan& plan) {
  struct statfs st;
  int rc;
  if (plan.cgroup_fd >= 0) {
    rc = fstatfs(plan.cgroup_fd, &st);
  } else if (!plan.cgroup_procs.empty()) {
    std::string dir = plan.cgroup_procs.substr(0, plan.cgroup_procs.size() - sizeof("/cgroup.procs") + 1);
    rc = statfs(dir.c_str(), &st);
  } else {
    return 0;
  }
  if (rc != 0) return 0;
  const long type = static_cast<long>(st.f_type);
  return type == kCgroup2Magic || type == kCgroupMagic ? 0 : EINVAL;
}

}  // namespace vircommand
