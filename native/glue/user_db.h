// Names of users and groups through the C library (getpwnam_r/getgrnam_r), so every NSS source
// (files, LDAP, sssd, systemd's dynamic users) answers, not only /etc/passwd and /etc/group.
// Zone: glue (N-API); parent side only: NSS takes locks and allocates, never in the child.
// SPDX-License-Identifier: MIT
#pragma once

#include <napi.h>

namespace vircommand {

// lookupUser(name | uid) -> { name, uid, gid } | null: null when no such user (getpwnam_r or
// getpwuid_r).
Napi::Value LookupUser(const Napi::CallbackInfo& info);

// lookupGroup(name) -> { name, gid } | null: null when no such group.
Napi::Value LookupGroup(const Napi::CallbackInfo& info);

}  // namespace vircommand
