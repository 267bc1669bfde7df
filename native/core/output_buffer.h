// A capture buffer of stdout or stderr: its memory, grown by doubling, and faulted in ahead of
// read() for bulk captures. IoSession (io_session.cc) reads into it.
// Zone: parent. No N-API.
// SPDX-License-Identifier: MIT
#ifndef VIRCOMMAND_CORE_OUTPUT_BUFFER_H_
#define VIRCOMMAND_CORE_OUTPUT_BUFFER_H_

#include <stddef.h>

namespace vircommand {

struct OutputBuffer {
  char* data = nullptr;  // malloc'd; ownership moves to a JS Buffer at the end
  size_t len = 0;
  size_t cap = 0;
  size_t max = 0;  // 0: unlimited
  size_t populated = 0;  // data[0, populated) is known to be faulted in (see PopulateAhead)
};

// The least free room a read() of a capture gets.
constexpr size_t kReadChunk = 64 * 1024;

// Makes room for want_free more bytes (realloc, doubling from kReadChunk); false when out of
// memory (the buffer is unchanged).
bool GrowOutputBuffer(OutputBuffer* b, size_t want_free);

// How many bytes from b->len on may be read without a page fault inside read(), or 0 when that
// is not known (small buffer, no MADV_POPULATE_WRITE, a failure): read() then faults as usual.
size_t PopulateAhead(OutputBuffer* b);

}  // namespace vircommand

#endif  // VIRCOMMAND_CORE_OUTPUT_BUFFER_H_
