// What a pidfile failure reports in ChildReport::value (all errnos but EAGAIN, whose value is the
// pid holding the lock): which component of the path failed, why, and a number (an owner's uid,
// a link count, a mode). src/run/pidfile-failure.ts decodes it; keep the two in step.
// Zone: shared by parent and child; plain data only.
// SPDX-License-Identifier: MIT
#pragma once

#include <stdint.h>

namespace vircommand {

enum PidfileReason : int {
  kPidfileNoReason = 0,  // a plain errno (ENOENT, ENOTDIR, ELOOP, EACCES, ENOSPC, ...)
  kPidfileDirWorldWritable,  // EPERM: a directory writable by others, without the sticky bit
  kPidfileDirGroupWritable,  // EPERM: a directory writable by its group, without the sticky bit
  kPidfileDirOwner,  // EPERM: a directory owned by another user (number: its uid)
  kPidfileLinkOwner,  // EPERM: a symlink on the path owned by another user (number: uid)
  kPidfileFileOwner,  // EPERM: the pidfile exists, owned by another user (number: uid)
  kPidfileFileLinks,  // EPERM: the pidfile has more than one hard link (number: count)
  kPidfileNotRegular,  // EINVAL: the pidfile is not a regular file (number: st_mode)
};

// Layout (< 2^51, so a JavaScript number holds it exactly):
//   bits 0-12  the end offset, in the pidfile path, of the component being resolved (0: "/");
//   bits 13-17 the reason;
//   bit  18    the component was reached through a symlink that component names;
//   bits 19-50 the number.
constexpr int64_t kPidfileOffsetBits = 13;
constexpr int64_t kPidfileReasonShift = 13;
constexpr int64_t kPidfileViaLinkShift = 18;
constexpr int64_t kPidfileNumberShift = 19;

constexpr int64_t PidfileReportValue(int64_t end, int reason, bool via_link, uint32_t number) {
  return (end & ((int64_t{1} << kPidfileOffsetBits) - 1)) | (static_cast<int64_t>(reason) << kPidfileReasonShift) |
         (static_cast<int64_t>(via_link) << kPidfileViaLinkShift) |
         (static_cast<int64_t>(number) << kPidfileNumberShift);
}

}  // namespace vircommand
