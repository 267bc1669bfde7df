// The ChildPlan's view of a run's new root and mounts (mount_plan.h).
// Zone: parent. No N-API.
// SPDX-License-Identifier: MIT
#include "mount_plan.h"

namespace vircommand {

void PlanMounts(const MountSetup& setup, std::vector<MountStep>* steps, ChildPlan* c) {
  steps->clear();
  for (const MountSpec& m : setup.mounts) {
    MountStep s = {};
    s.kind = m.kind;
    s.create = m.create;
    s.source = m.has_source ? m.source.c_str() : nullptr;
    s.target = m.target.c_str();
    s.fstype = m.has_fstype ? m.fstype.c_str() : nullptr;
    s.flags = m.flags;
    s.data = m.has_data ? m.data.c_str() : nullptr;
    s.readonly = m.readonly;
    s.index = m.index;
    s.as_uid = m.as_uid;
    s.as_gid = m.as_gid;
    steps->push_back(s);
  }
  c->mounts = steps->data();
  c->nmounts = static_cast<int>(steps->size());
  const bool pivot = !setup.pivot_root.empty();
  c->pivot_root = pivot ? setup.pivot_root.c_str() : nullptr;
  c->pivot_old = pivot ? setup.pivot_old.c_str() : nullptr;
  c->pivot_old_abs = pivot ? setup.pivot_old_abs.c_str() : nullptr;
  c->proc_private = setup.proc_private;
}

}  // namespace vircommand
