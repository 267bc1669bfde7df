// One poll() loop over stdin, stdout, stderr, the status pipe and the pidfd: a child writing
// megabytes to both streams while reading megabytes from stdin cannot deadlock it.
// Zone: parent. No N-API.
// SPDX-License-Identifier: MIT
#include "run_sync.h"

#include <errno.h>
#include <limits.h>
#include <poll.h>

#include <vector>

namespace vircommand {

void RunSessionBlocking(IoSession* session) {
  while (!session->Done()) {
    // The fixed slots, then one per send buffer (setSendBuffer).
    std::vector<struct pollfd> pfds(static_cast<size_t>(session->slot_count()));
    std::vector<int> slots(pfds.size());
    nfds_t n = 0;
    for (int slot = 0; slot < session->slot_count(); slot++) {
      if (session->fd(slot) < 0) continue;
      pfds[n] = {session->fd(slot), session->events(slot), 0};
      slots[n++] = slot;
    }
    int timeout = -1;
    int64_t deadline = session->NextDeadline();
    if (deadline >= 0) {
      int64_t left = deadline - static_cast<int64_t>(MonotonicMs());
      // poll() takes an int: a deadline further than INT_MAX ms away is waited for in steps.
      timeout = left < 0 ? 0 : left > INT_MAX ? INT_MAX : static_cast<int>(left);
    }
    int r = poll(pfds.data(), n, timeout);
    if (r < 0 && errno != EINTR) break;  // EFAULT/EINVAL/ENOMEM: cannot happen with our array
    for (nfds_t i = 0; r > 0 && i < n; i++)
      if (pfds[i].revents != 0) session->OnReady(slots[i]);
    session->OnTimer();
  }
}

}  // namespace vircommand
