// readPidFile()/killByPidFile() helpers (src/pidfile.ts): who holds a pidfile's lock, and pidfds
// for any process (not only our children). Each call is one syscall or two; the JavaScript side
// orders them so that a recycled pid is never signalled.
// Zone: glue (N-API).
// SPDX-License-Identifier: MIT
#include "pidfile_tools.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <sys/syscall.h>
#include <unistd.h>

namespace vircommand {

namespace {

int IntArg(const Napi::CallbackInfo& info, size_t i) {
  return info.Length() > i && info[i].IsNumber() ? info[i].As<Napi::Number>().Int32Value() : -1;
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
  int fd = IntArg(info, 0);
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
  struct flock l = ByteZero(F_WRLCK);
  if (fcntl(IntArg(info, 0), F_OFD_SETLK, &l) == 0) return Napi::Boolean::New(env, true);
  if (errno == EAGAIN || errno == EACCES) return Napi::Boolean::New(env, false);
  return ThrowErrno(env, "fcntl(F_OFD_SETLK)", errno);
}

// pidfdOpen(pid) -> a pidfd (close-on-exec), or -errno (ESRCH: no such process; ENOSYS).
Napi::Value PidfdOpen(const Napi::CallbackInfo& info) {
  long fd = syscall(SYS_pidfd_open, IntArg(info, 0), 0);
  return Napi::Number::New(info.Env(), fd >= 0 ? static_cast<double>(fd) : -errno);
}

// pidfdSendSignal(pidfd, sig) -> 0, or -errno (ESRCH: the process has exited).
Napi::Value PidfdSendSignal(const Napi::CallbackInfo& info) {
  long rc = syscall(SYS_pidfd_send_signal, IntArg(info, 0), IntArg(info, 1), nullptr, 0);
  return Napi::Number::New(info.Env(), rc == 0 ? 0 : -errno);
}

// pidfdExited(pidfd) -> whether the process has exited (a pidfd polls readable then).
Napi::Value PidfdExited(const Napi::CallbackInfo& info) {
  struct pollfd p = {IntArg(info, 0), POLLIN, 0};
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
