// readPidFile()/killByPidFile() helpers (src/pidfile.ts): who holds a pidfile's lock, and pidfds
// for any process (not only our children). Each call is one syscall or two; the JavaScript side
// orders them so that a recycled pid is never signalled.
// Zone: glue (N-API).
// SPDX-License-Identifier: MIT
#include "pidfile_tools.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "js_numbers.h"

namespace vircommand {

namespace {

// Argument i, an integer in [lo, hi]; else a TypeError/RangeError is pending (js_numbers.h).
bool IntArg(const Napi::CallbackInfo& info, size_t i, const char* what, int64_t lo, int64_t hi, int* out) {
  Napi::Value v = info.Length() > i ? info[i] : info.Env().Undefined();
  return CheckedInt32(info.Env(), v, what, lo, hi, out);
}

// The lock our daemons (and libvirt's) take: a write lock on byte 0.
struct flock ByteZero(short type) {
  struct flock l = {};
  l.l_type = type;
  l.l_whence = SEEK_SET;
  l.l_start = 0;
  l.l_len = 1;
  return l;
}

Napi::Value ThrowErrno(Napi::Env env, const char* what, int err) {
  Napi::Error e = Napi::Error::New(env, std::string(what) + " failed: errno " + std::to_string(err));
  e.Set("errno", Napi::Number::New(env, err));
  e.ThrowAsJavaScriptException();
  return env.Undefined();
}

// lockHolder(fd) -> the pid holding a lock on byte 0 of the file (0: none; -1: a holder without
// a pid visible to us: an OFD lock, or a process of another pid namespace). An open file
// description lock asks as a separate owner, so a lock held by this very process is seen too.
Napi::Value LockHolder(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int fd;
  if (!IntArg(info, 0, "lockHolder: fd", 0, kIntMax, &fd)) return env.Undefined();
  struct flock l = ByteZero(F_WRLCK);
  int rc = fcntl(fd, F_OFD_GETLK, &l);
  if (rc != 0 && errno == EINVAL) {  // before Linux 3.15: a process-owned query
    l = ByteZero(F_WRLCK);
    rc = fcntl(fd, F_GETLK, &l);
  }
  if (rc != 0) return ThrowErrno(env, "fcntl(F_GETLK)", errno);
  if (l.l_type == F_UNLCK) return Napi::Number::New(env, 0);
  return Napi::Number::New(env, l.l_pid > 0 ? l.l_pid : -1);
}

// tryLock(fd) -> whether this open file description now holds the write lock on byte 0 (an OFD
// lock: released when the fd is closed, whoever else has the file open).
Napi::Value TryLock(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int fd;
  if (!IntArg(info, 0, "tryLock: fd", 0, kIntMax, &fd)) return env.Undefined();
  struct flock l = ByteZero(F_WRLCK);
  if (fcntl(fd, F_OFD_SETLK, &l) == 0) return Napi::Boolean::New(env, true);
  if (errno == EAGAIN || errno == EACCES) return Napi::Boolean::New(env, false);
  return ThrowErrno(env, "fcntl(F_OFD_SETLK)", errno);
}

// pidfdOpen(pid) -> a pidfd (close-on-exec), or -errno (ESRCH: no such process; ENOSYS).
Napi::Value PidfdOpen(const Napi::CallbackInfo& info) {
  int pid;
  if (!IntArg(info, 0, "pidfdOpen: pid", 1, kIntMax, &pid)) return info.Env().Undefined();
  long fd = syscall(SYS_pidfd_open, pid, 0);
  return Napi::Number::New(info.Env(), fd >= 0 ? static_cast<double>(fd) : -errno);
}

// pidfdSendSignal(pidfd, sig) -> 0, or -errno (ESRCH: the process has exited).
Napi::Value PidfdSendSignal(const Napi::CallbackInfo& info) {
  int pidfd, sig;
  if (!IntArg(info, 0, "pidfdSendSignal: pidfd", 0, kIntMax, &pidfd) ||
      !IntArg(info, 1, "pidfdSendSignal: signal", 0, SIGRTMAX, &sig))
    return info.Env().Undefined();
  long rc = syscall(SYS_pidfd_send_signal, pidfd, sig, nullptr, 0);
  return Napi::Number::New(info.Env(), rc == 0 ? 0 : -errno);
}

// pidfdExited(pidfd) -> whether the process has exited (a pidfd polls readable then).
Napi::Value PidfdExited(const Napi::CallbackInfo& info) {
  int pidfd;
  if (!IntArg(info, 0, "pidfdExited: pidfd", 0, kIntMax, &pidfd)) return info.Env().Undefined();
  struct pollfd p = {pidfd, POLLIN, 0};
  int rc = poll(&p, 1, 0);
  return Napi::Boolean::New(info.Env(), rc > 0 && (p.revents & (POLLIN | POLLHUP | POLLERR | POLLNVAL)) != 0);
}

}  // namespace

void RegisterPidfileTools(Napi::Env env, Napi::Object exports) {
  exports.Set("lockHolder", Napi::Function::New(env, LockHolder));
  exports.Set("tryLock", Napi::Function::New(env, TryLock));
  exports.Set("pidfdOpen", Napi::Function::New(env, PidfdOpen));
  exports.Set("pidfdSendSignal", Napi::Function::New(env, PidfdSendSignal));
  exports.Set("pidfdExited", Napi::Function::New(env, PidfdExited));
}

}  // namespace vircommand
