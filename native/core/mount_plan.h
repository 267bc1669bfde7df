// The new root and the mounts of a run (pivotRoot, addMount): owning storage in the ExecPlan,
// turned into the ChildPlan's plain MountStep array before clone.
// Zone: parent. No N-API (glue/mounts_from_js.cc fills it).
// SPDX-License-Identifier: MIT
#pragma once

#include <string>
#include <vector>

#include "child_plan.h"

namespace vircommand {

struct ExecPlan;

// One MountStep's strings, owned. A `has_*` false stands for a null pointer.
struct MountSpec {
  int kind = kMountStepMount;
  int create = kMountCreateNone;
  bool has_source = false;
  std::string source;
  std::string target;
  bool has_fstype = false;
  std::string fstype;
  bool has_data = false;
  std::string data;
  unsigned long flags = 0;
  bool readonly = false;
  int index = 0;
  int64_t as_uid = -1;
  int64_t as_gid = -1;
};

struct MountSetup {
  std::string pivot_root;  // empty: none
  std::string pivot_old;  // the old root's directory inside the new one ("name")
  std::string pivot_old_abs;  // "/name"
  bool proc_private = false;
  std::vector<MountSpec> mounts;
};

// Points the ChildPlan's mount fields into `setup`, with `steps` as the MountStep array (both
// must outlive the child's use of the plan).
void PlanMounts(const MountSetup& setup, std::vector<MountStep>* steps, ChildPlan* c);

}  // namespace vircommand
