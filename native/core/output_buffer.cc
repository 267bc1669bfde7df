// Capture buffers (output_buffer.h): growth, and faulting bulk captures in ahead of read().
// Zone: parent. No N-API.
// SPDX-License-Identifier: MIT
#include "output_buffer.h"

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>

#include <atomic>

namespace vircommand {

namespace {
// Bulk captures: fault the buffer in ahead of read(), in steps of kPopulateStep, once it holds
// kPopulateFrom bytes. Why: pipe_read() copies into our pages while holding the pipe's mutex,
// so every first-touch page fault inside read() also stalls the child's write() on the other
// end. Faulted in by madvise(MADV_POPULATE_WRITE) (Linux 5.14) outside read(), the faults
// overlap with the child's writes instead: capturing 1 GiB went from 564 to 860 MB/s with run()
// and 328 to 759 with runSync() on 2 cores, side by side (scripts/bench, throughput, has the C
// equivalent). Small outputs never get here, so they cost no extra memory.
constexpr size_t kPopulateFrom = 1 << 20;
constexpr size_t kPopulateStep = 1 << 20;
#ifndef MADV_POPULATE_WRITE
#define MADV_POPULATE_WRITE 23  // headers older than glibc 2.35 lack it; the kernel's ABI value
#endif
// EINVAL once (kernel before 5.14): stop asking. Any thread's session may set it.
std::atomic<bool> g_populate_unsupported{false};

}  // namespace

size_t PopulateAhead(OutputBuffer* b) {
  if (b->len < kPopulateFrom || g_populate_unsupported.load(std::memory_order_relaxed)) return 0;
  if (b->populated < b->len) b->populated = b->len;
  if (b->populated - b->len < kPopulateStep / 2 && b->populated < b->cap) {
    const uintptr_t page = static_cast<uintptr_t>(sysconf(_SC_PAGESIZE));
    uintptr_t start = reinterpret_cast<uintptr_t>(b->data + b->populated) & ~(page - 1);
    size_t end = b->populated + kPopulateStep < b->cap ? b->populated + kPopulateStep : b->cap;
    uintptr_t stop = reinterpret_cast<uintptr_t>(b->data + end) & ~(page - 1);  // our pages only
    if (stop > start) {
      // Rounding start down touches at most the page already holding data[populated - 1]:
      // ours, and populating writes nothing to it.
      if (madvise(reinterpret_cast<void*>(start), stop - start, MADV_POPULATE_WRITE) != 0) {
        if (errno == EINVAL) g_populate_unsupported.store(true, std::memory_order_relaxed);
        return 0;
      }
      b->populated = static_cast<size_t>(reinterpret_cast<char*>(stop) - b->data);
    }
  }
  return b->populated > b->len ? b->populated - b->len : 0;
}

bool GrowOutputBuffer(OutputBuffer* b, size_t want_free) {
  if (b->cap - b->len >= want_free) return true;
  size_t cap = b->cap == 0 ? kReadChunk : b->cap;
  while (cap - b->len < want_free) cap *= 2;
  char* p = static_cast<char*>(realloc(b->data, cap));
  if (p == nullptr) return false;
  b->data = p;
  b->cap = cap;
  return true;
}

}  // namespace vircommand
