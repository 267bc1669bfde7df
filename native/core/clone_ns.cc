// New namespaces made at clone time, and the user namespace's id maps written by the parent.
// Zone: parent. No N-API.
// SPDX-License-Identifier: MIT
#include "clone_ns.h"

#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <string>

#include "idmap_helper.h"
#include "stage.h"

namespace vircommand {

namespace {

// What clone() can make: every namespace flag that fits its 32-bit flags word, but cgroup (see
// the header) and time (CLONE_NEWTIME is 0x80, inside the exit-signal byte of clone()).
constexpr int kCloneTimeNamespaces =
    CLONE_NEWNS | CLONE_NEWUTS | CLONE_NEWIPC | CLONE_NEWUSER | CLONE_NEWPID | CLONE_NEWNET;

// One write(2) of the whole file: the kernel accepts a map only in a single write.
int WriteProcFile(const std::string& path, const std::string& text) {
  int fd = open(path.c_str(), O_WRONLY | O_CLOEXEC);
  if (fd < 0) return errno;
  ssize_t n = write(fd, text.data(), text.size());
  int err = n < 0 ? errno : (static_cast<size_t>(n) == text.size() ? 0 : EIO);
  close(fd);
  return err;
}

// CAP_SETGID in our effective set: the kernel lets a writer without it map only its own gid,
// and only once setgroups is denied (user_namespaces(7)).
bool HaveCapSetgid() {
  struct {
    uint32_t version;
    int pid;
  } header = {0x20080522 /* _LINUX_CAPABILITY_VERSION_3 */, 0};
  struct {
    uint32_t effective, permitted, inheritable;
  } data[2] = {};
  if (syscall(SYS_capget, &header, data) != 0) return false;
  return (data[0].effective & (1u << 6 /* CAP_SETGID */)) != 0;
}

}  // namespace

int CloneNamespaceFlags(const ExecPlan& plan, bool in_place) {
  if (in_place) return 0;
  return plan.unshare_flags & kCloneTimeNamespaces;
}

bool NeedsIdMaps(const ExecPlan& plan, int clone_ns_flags) {
  return (clone_ns_flags & CLONE_NEWUSER) != 0 && (!plan.uid_map.empty() || !plan.gid_map.empty());
}

void PlanNamespaces(const ExecPlan& plan, int clone_ns_flags, int idmap_wait_fd, ChildPlan* c) {
  c->clone_ns_flags = clone_ns_flags;
  c->unshare_flags = plan.unshare_flags & ~clone_ns_flags;
  c->idmap_wait_fd = idmap_wait_fd;
  c->new_mount_ns = (plan.unshare_flags & CLONE_NEWNS) != 0;
  c->mount_propagation = plan.mount_propagation;
  c->mount_proc = plan.mount_proc;
}

bool WriteIdMapsAndRelease(pid_t pid, const ExecPlan& plan, int release_fd, SpawnFailure* failure) {
  const std::string dir = "/proc/" + std::to_string(pid) + "/";
  std::string path;
  int err = 0;
  if (!plan.uid_map.empty()) {
    path = dir + "uid_map";
    if (!plan.uid_map_helper.empty()) {
      path = plan.uid_map_helper;  // newuidmap: the maps name more than our own uid
      err = RunIdMapHelper(path, pid, plan.uid_map, &failure->detail);
    } else {
      err = WriteProcFile(path, plan.uid_map);
    }
  }
  if (err == 0 && !plan.gid_map.empty() && !plan.gid_map_helper.empty()) {
    path = plan.gid_map_helper;  // newgidmap writes setgroups itself as /etc/subgid allows
    err = RunIdMapHelper(path, pid, plan.gid_map, &failure->detail);
  } else if (err == 0 && !plan.gid_map.empty()) {
    if (!HaveCapSetgid()) {
      path = dir + "setgroups";
      err = WriteProcFile(path, "deny");
    }
    if (err == 0) {
      path = dir + "gid_map";
      err = WriteProcFile(path, plan.gid_map);
    }
  }
  if (err == 0) {
    char go = '1';
    ssize_t n;
    do {
      n = write(release_fd, &go, 1);
    } while (n < 0 && errno == EINTR);
    if (n == 1) return true;
    err = n < 0 ? errno : EIO;  // EPIPE: the child died before it could wait for us
    path.clear();
  }
  // The child waits on the pipe (or died): it never ran the program. Kill it and reap it here,
  // so nothing is left behind; the caller closes the pidfd.
  kill(pid, SIGKILL);
  while (waitpid(pid, nullptr, 0) < 0 && errno == EINTR) {
  }
  failure->stage = kStageIdmap;
  failure->err = err;
  failure->path = path;
  return false;
}

}  // namespace vircommand
