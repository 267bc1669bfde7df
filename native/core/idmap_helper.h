// The setuid helpers newuidmap(1)/newgidmap(1) (the uidmap package), for a caller without
// CAP_SETUID/CAP_SETGID whose maps name more than its own id: they check /etc/subuid and
// /etc/subgid and write the map for us.
// Zone: parent. No N-API.
// SPDX-License-Identifier: MIT
#pragma once

#include <sys/types.h>

#include <string>

namespace vircommand {

// Runs `helper pid inside outside count [inside outside count]...` with the lines of `map` (the
// kernel's "inside outside count\n" format) and waits for it. Returns 0 when it exited 0; else an
// errno (ENOENT: no helper at that path; EPERM: it refused, EIO: it died by a signal), with the
// first line of its stderr (its reason, e.g. "uid range [0-65536) -> [100000-165536) not allowed")
// in *why.
int RunIdMapHelper(const std::string& helper, pid_t pid, const std::string& map, std::string* why);

}  // namespace vircommand
