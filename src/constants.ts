/**
 * Public constants (libvirt's names without the VIR_ prefix) and the internal
 * tables that turn names into Linux numbers.
 */

/** passFD() flag: close the parent's copy of the fd once the child has been started. */
export const PASS_FD_CLOSE_PARENT = 1;

/** Exit status of a child that failed before it tried to exec (env(1), libvirt). */
export const EXIT_CANCELED = 125;
/** Exit status of a child whose program exists but could not be executed. */
export const EXIT_CANNOT_INVOKE = 126;
/** Exit status of a child whose program was not found. */
export const EXIT_ENOENT = 127;

/** Default SIGTERM -> SIGKILL grace of run() timeouts, AbortSignals and abort(). */
export const DEFAULT_KILL_GRACE_MS = 100;
/** How long free() lets a child react to SIGTERM before SIGKILL (it blocks meanwhile). */
export const FREE_GRACE_MS = 10;
/** After the child exits, how long native waits for EOF on captured pipes. */
export const DEFAULT_DRAIN_MS = 200;

/** setMaxMemLock(): this many bytes or more means "unlimited" (libvirt's 2^53-1). */
export const MEMLOCK_UNLIMITED = 2 ** 53 - 1;
/** Largest uid/gid accepted: (uid_t)-1 is reserved for "unchanged". */
export const ID_MAX = 2 ** 32 - 2;
/** Most supplementary groups setgroups(2) takes (linux/limits.h NGROUPS_MAX). */
export const NGROUPS_MAX = 65536;

/** Namespace names of joinNamespace()/unshare() and their CLONE_NEW* values (linux/sched.h). */
export const NAMESPACE_FLAGS: Readonly<Record<string, number>> = Object.freeze({
  mnt: 0x00020000, // CLONE_NEWNS
  cgroup: 0x02000000, // CLONE_NEWCGROUP
  uts: 0x04000000, // CLONE_NEWUTS
  ipc: 0x08000000, // CLONE_NEWIPC
  user: 0x10000000, // CLONE_NEWUSER
  pid: 0x20000000, // CLONE_NEWPID
  net: 0x40000000, // CLONE_NEWNET
  time: 0x00000080, // CLONE_NEWTIME
});

/**
 * RLIMIT_* numbers of asm-generic/resource.h, used by x86, arm, arm64, riscv, s390 and
 * powerpc (mips, sparc and alpha number a few differently; vircommand ships for the former).
 */
export const RLIMIT_NUMBERS: Readonly<Record<string, number>> = Object.freeze({
  CPU: 0,
  FSIZE: 1,
  DATA: 2,
  STACK: 3,
  CORE: 4,
  RSS: 5,
  NPROC: 6,
  NOFILE: 7,
  MEMLOCK: 8,
  AS: 9,
  LOCKS: 10,
  SIGPENDING: 11,
  MSGQUEUE: 12,
  NICE: 13,
  RTPRIO: 14,
  RTTIME: 15,
});

/** RLIMIT_NAMES[n] is the name of resource n without its RLIMIT_ prefix ('NOFILE' for 7). */
export const RLIMIT_NAMES: readonly string[] = Object.freeze(Object.keys(RLIMIT_NUMBERS).sort((a, b) => RLIMIT_NUMBERS[a] - RLIMIT_NUMBERS[b]));

/** Highest signal number on Linux (SIGRTMAX). */
export const SIGNAL_MAX = 64;
