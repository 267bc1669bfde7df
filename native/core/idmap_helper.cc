// newuidmap/newgidmap for a caller without privileges (see idmap_helper.h).
// Zone: parent. No N-API.
// SPDX-License-Identifier: MIT
#include "idmap_helper.h"

#include <errno.h>
#include <fcntl.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <sstream>
#include <vector>

namespace vircommand {

int RunIdMapHelper(const std::string& helper, pid_t pid, const std::string& map, std::string* why) {
  std::vector<std::string> words = {helper, std::to_string(pid)};
  std::istringstream lines(map);
  std::string word;
  while (lines >> word) words.push_back(word);
  std::vector<char*> argv;
  for (std::string& w : words) argv.push_back(&w[0]);
  argv.push_back(nullptr);
  // A fixed environment: the helper is setuid root and needs none of ours (and environ is not
  // read here, where another thread may be changing it).
  char path_env[] = "PATH=/usr/sbin:/usr/bin:/sbin:/bin";
  char* envp[] = {path_env, nullptr};

  int err_pipe[2];
  if (pipe2(err_pipe, O_CLOEXEC) != 0) return errno;
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0);
  posix_spawn_file_actions_adddup2(&actions, err_pipe[1], 2);
  pid_t helper_pid = -1;
  int rc = posix_spawn(&helper_pid, helper.c_str(), &actions, nullptr, argv.data(), envp);
  posix_spawn_file_actions_destroy(&actions);
  close(err_pipe[1]);
  if (rc != 0) {
    close(err_pipe[0]);
    return rc;
  }
  std::string text;
  char buf[512];
  for (;;) {
    ssize_t n = read(err_pipe[0], buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    if (text.size() < 4096) text.append(buf, static_cast<size_t>(n));
  }
  close(err_pipe[0]);
  int status = 0;
  while (waitpid(helper_pid, &status, 0) < 0) {
    if (errno != EINTR) return errno;
  }
  if (WIFEXITED(status) && WEXITSTATUS(status) == 0) return 0;
  size_t end = text.find('\n');
  *why = text.substr(0, end);
  if (WIFEXITED(status) && WEXITSTATUS(status) == 127 && text.empty()) return ENOENT;
  return WIFEXITED(status) ? EPERM : EIO;
}

}  // namespace vircommand
