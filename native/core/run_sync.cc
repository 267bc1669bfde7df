// One poll() loop over stdin, stdout, stderr, the status pipe and the pidfd: a child writing
// megabytes to both streams while reading megabytes from stdin cannot deadlock it.
// Zone: parent. No N-API.
// SPDX-License-Identifier: MIT
#include "run_sync.h"

#include <errno.h>
#include <limits.h>
#include <poll.h>

namespace vircommand {

void RunSessionBlocking(IoSession* session) {
  while (!session->Done()) {
    struct pollfd pfds[kSlotCount];
    int slots[kSlotCount];
    nfds_t n = 0;
    for (int slot = 0; slot < kSlotCount; slot++) {
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
    int r = poll(pfds, n, timeout);
    if (r < 0 && errno != EINTR) break;  // EFAULT/EINVAL/ENOMEM: cannot happen with our array
    for (nfds_t i = 0; r > 0 && i < n; i++)
      if (pfds[i].revents != 0) session->OnReady(slots[i]);
    session->OnTimer();
  }
}

}  // namespace vircommand
