// Driving an IoSession to completion with poll(), blocking the calling thread.
// Zone: parent. No N-API.
// SPDX-License-Identifier: MIT
#pragma once

#include "io_session.h"

namespace vircommand {

// Runs the session until the child is reaped and every stream is finished.
void RunSessionBlocking(IoSession* session);

}  // namespace vircommand
