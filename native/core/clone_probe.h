// Whether this process may clone the way the vfork path does, asked once.
// Zone: parent. No N-API.
// SPDX-License-Identifier: MIT
#pragma once

namespace vircommand {

// True when clone(CLONE_VM | CLONE_VFORK | CLONE_FILES | CLONE_PIDFD) on a stack of our own
// fails with EINVAL here, though the arguments are right for every Linux since 5.2 (older
// kernels ignore CLONE_PIDFD). That is an emulator, not a kernel: qemu-user (linux-user, as in
// `docker run --platform` or buildx on another architecture) runs a clone only when it looks
// like fork() or like pthread_create(), and answers EINVAL to any other flags, CLONE_FILES and
// CLONE_PIDFD included. Spawn() then takes the fork() path for every spawn, as it does under
// valgrind. Asked with one probe child (which exits at once) at the first call; the answer is
// kept for the life of the process.
bool CloneRefused();

}  // namespace vircommand
