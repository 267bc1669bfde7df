// The host and domain name of a new uts namespace (setHostname, setDomainname). Part of step 6
// (child_exec.cc), after the namespaces are made or joined and before the credentials change,
// while the child still holds CAP_SYS_ADMIN in the namespace's user namespace.
// CHILD ZONE: runs between clone()/fork() and execve(); rules in child_sys.h.
// SPDX-License-Identifier: MIT
#include "../core/stage.h"
#include "child_sys.h"

namespace vircommand {

// async-signal-safe: sethostname, setdomainname by syscall. The TS layer refuses both names
// without a new uts namespace, so the host's names are never changed from here.
void child_set_uts_names(const ChildPlan* plan) {
  if (plan->hostname != nullptr && syscall(SYS_sethostname, plan->hostname, plan->hostname_len) != 0)
    child_fail(plan, kStageHostname, errno);
  if (plan->domainname != nullptr && syscall(SYS_setdomainname, plan->domainname, plan->domainname_len) != 0)
    child_fail(plan, kStageHostname, errno);
}

}  // namespace vircommand
