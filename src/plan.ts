/**
 * A command's recorded state, the run-time checks on it, and its translation into the
 * NativePlan of docs/internals.md, including the PATH lookup. The state is composed of the
 * parts each concern of src/command/ declares in its *-setup.ts module, with their defaults
 * and checks; this file puts them together.
 */
import { constants as bufferConstants } from 'node:buffer';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { DEFAULT_DRAIN_MS, PASS_FD_BLOCKING, PASS_FD_CLOSE_PARENT } from './constants';
import { EnvBuilder } from './env';
import { usageError } from './errors';
import { defaultNamespaceSetup, effectiveUnshareFlags, namespaceMisuse, nativeNamespaceSetup, type NamespaceSetup } from './command/ns-setup';
import { defaultMountState, mountMisuse, type MountState, nativeMountSetup } from './command/mount-setup';
import { type ContainerIds, containerMisuse, defaultContainerIds, nativeContainerIds } from './command/container-setup';
import { defaultPreExecSetup, handshakeModeMisuse, type PreExecSetup, sessionMisuse } from './command/pre-exec-setup';
import { daemonMisuse, defaultPrivilegesSetup, pidFileMisuse, type PrivilegesSetup } from './command/privileges-setup';
import { defaultSchedLsmSetup, nativeSchedLsm, type SchedLsmSetup } from './command/sched-lsm-setup';
import {
  badFdRef,
  defaultStdioSetup,
  hasStringIO,
  type OutputConfig,
  sendBufferClash,
  stderrSharesStdout,
  type StdioSetup,
  stdioModeMisuse,
  wantsPipe,
} from './command/stdio-setup';
import type { NativePlan, StdioSpec } from './native';
import type { RunRecord } from './run-record';
import { formatCommand } from './to-string';
import { RLIM_INFINITY } from './validate';

/**
 * Everything the builder records; src/run/ reads it. Each concern's fields are declared by
 * its module in src/command/ (stdio-setup.ts, privileges-setup.ts, pre-exec-setup.ts,
 * sched-lsm-setup.ts; ns-setup.ts, mount-setup.ts and container-setup.ts as sub-records);
 * the command itself has its argv, env and recorded misuse, the run its record.
 */
export interface CommandState extends StdioSetup, PrivilegesSetup, PreExecSetup, SchedLsmSetup {
  argv: string[];
  env: EnvBuilder;
  /** The first misuse recorded; every run and toString() then fail with it. */
  error: string | null;
  /** The new namespaces' setup: id maps, mount propagation, /proc (command/ns-setup.ts). */
  nsSetup: NamespaceSetup;
  /** pivotRoot(), addMount(), addDevMount() (command/mount-setup.ts). */
  mountState: MountState;
  /** setUser(), host and domain name, seccomp filter (command/container-setup.ts). */
  container: ContainerIds;
  running: RunRecord | null;
  freed: boolean;
}

/** The state of a new command running argv. */
export function createState(argv: string[]): CommandState {
  return {
    argv,
    env: new EnvBuilder(),
    error: null,
    ...defaultStdioSetup(),
    ...defaultPrivilegesSetup(),
    ...defaultPreExecSetup(),
    ...defaultSchedLsmSetup(),
    nsSetup: defaultNamespaceSetup(),
    mountState: defaultMountState(),
    container: defaultContainerIds(),
    running: null,
    freed: false,
  };
}

/** Records a misuse; the first one wins, as in libvirt. */
export function recordError(state: CommandState, reason: string): void {
  state.error ??= reason;
}

/** How the command is about to run: runSync(), run(), runAsync() or exec(). */
export type RunMode = 'sync' | 'async' | 'background' | 'exec';

/** The command line for messages; works even when the command is in error. */
export function commandLine(state: CommandState): string {
  return formatCommand(state.argv, state.env.entries());
}

/**
 * Throws the CommandError (stage 'validate', code 'ERR_COMMAND_USAGE') that forbids
 * running the command now in this mode, if any.
 */
export function checkRunnable(state: CommandState, mode: RunMode): void {
  const reason = whyNotRunnable(state, mode);
  if (reason !== null) throw usageError(reason, commandLine(state));
}

function whyNotRunnable(s: CommandState, mode: RunMode): string | null {
  if (s.freed) return 'command has been freed';
  if (s.error !== null) return s.error;
  if (s.running) {
    return s.running.queued ? 'command is already running (its run() waits for its turn to spawn)' : `command is already running as pid ${s.running.pid}`;
  }
  // Each concern's checks, in this order (the first misuse found is the one reported).
  // stdioModeMisuse() and handshakeModeMisuse() check runSync() and exec(): one mode each time.
  return (
    badFdRef(s) ??
    pidFileMisuse(s) ??
    sessionMisuse(s) ??
    sendBufferClash(s) ??
    daemonMisuse(s, s.cwd, hasStringIO(s), mode) ??
    stdioModeMisuse(s, mode) ??
    handshakeModeMisuse(s, mode) ??
    namespaceMisuse(s.unshareFlags, s.nsSetup, s, mode) ??
    mountMisuse(s.mountState, effectiveUnshareFlags(s.unshareFlags, s.nsSetup), s.nsSetup, s.chroot) ??
    containerMisuse(s.unshareFlags, s.container)
  );
}

// The child's stdout/stderr: unset streams are captured by run()/runSync() (so errors can
// quote stderr), /dev/null for runAsync() and daemons, inherited by exec().
function outputSpec(c: OutputConfig | null, mode: RunMode, daemon: boolean, maxBuffer: number, inherit: number): StdioSpec {
  if (c === null) {
    if (mode === 'exec') return { type: 'fd', fd: inherit };
    return mode === 'background' || daemon ? { type: 'null' } : { type: 'capture', maxBuffer };
  }
  if (c.kind === 'fd') return { type: 'fd', fd: c.fd };
  if (c.kind === 'ref') return wantsPipe(c.ref) ? { type: 'pipe' } : { type: 'fd', fd: c.ref.fd };
  return { type: 'capture', maxBuffer };
}

/**
 * The largest capture native may make: `maxBuffer`, or buffer.constants.MAX_LENGTH (4 GiB on
 * Node 20) when it is 0 (no limit) or larger. A capture becomes one Buffer, and Node cannot make
 * a larger one: past it the run fails with ERR_CHILD_MAX_BUFFER, as past a maxBuffer, instead of
 * native making a Buffer Node refuses. Read at run time, from the Node that runs us.
 */
export function captureLimit(maxBuffer: number): number {
  const most = bufferConstants.MAX_LENGTH;
  return maxBuffer > 0 && maxBuffer < most ? maxBuffer : most;
}

/** Run-control values of a plan. */
export interface PlanControl {
  timeoutMs: number;
  killGraceMs: number;
  maxBuffer: number;
}

/** The NativePlan for one run; `candidates` stays empty until resolveCandidates(). */
export function buildPlan(s: CommandState, mode: RunMode, control: PlanControl): NativePlan {
  const stdin: StdioSpec =
    s.stdin?.kind === 'buffer'
      ? { type: 'buffer', data: s.stdin.data }
      : s.stdin?.kind === 'fd'
        ? { type: 'fd', fd: s.stdin.fd }
        : mode === 'exec'
          ? { type: 'fd', fd: 0 }
          : { type: 'null' };
  const limit = captureLimit(control.maxBuffer);
  const stdout = outputSpec(s.stdout, mode, s.daemonize, limit, 1);
  const stderr = stderrSharesStdout(s) ? { type: 'stdout' as const } : outputSpec(s.stderr, mode, s.daemonize, limit, 2);
  return {
    argv: [...s.argv],
    candidates: [],
    env: s.env.planEntries(),
    cwd: s.cwd,
    umask: s.umask,
    stdin,
    stdout,
    stderr,
    nonblocking: s.nonblocking,
    passFds: [...s.passFds.keys()],
    blockingFds: [...s.passFds].filter(([, f]) => f & PASS_FD_BLOCKING).map(([fd]) => fd),
    uid: s.uid,
    gid: s.gid,
    groups: s.groups ? [...s.groups] : null,
    clearCaps: s.clearCaps,
    keepCaps: [...s.keepCaps].sort((a, b) => a - b),
    rlimits: [...s.rlimits].map(([resource, l]) => ({ resource, soft: planLimit(l.soft), hard: planLimit(l.hard) })),
    noNewPrivs: s.noNewPrivs,
    parentDeathSignal: s.parentDeathSignal,
    setsid: s.setsid,
    pgid: s.pgid,
    nice: s.nice,
    namespaces: s.namespaces.map((n) => ({ ...n })),
    unshareFlags: effectiveUnshareFlags(s.unshareFlags, s.nsSetup),
    cgroup: s.cgroup,
    cgroupFd: s.cgroupFd,
    chroot: s.chroot,
    hook: s.hook ? { ...s.hook } : null,
    handshake: s.handshake,
    daemonize: s.daemonize,
    pidFile: s.pidFile,
    namespaceSetup: nativeNamespaceSetup(s.nsSetup),
    mountSetup: nativeMountSetup(s.mountState, s.nsSetup, s.chroot),
    ...libvirtExtras(s),
    ...nativeContainerIds(s.container),
    timeoutMs: control.timeoutMs,
    killGraceMs: control.killGraceMs,
    drainMs: DEFAULT_DRAIN_MS,
  };
}

// The NativePlan fields of setSendBuffer, scheduling and LSM labels, every one set (null: not
// configured). Native reads own properties only, so a field left off could not be read from
// Object.prototype anyway; setting them all keeps the plan's shape the same for every run.
function libvirtExtras(
  s: CommandState,
): Pick<NativePlan, 'sendBuffers' | 'cpuAffinity' | 'memoryPolicy' | 'schedCore' | 'schedCorePid' | 'selinuxLabel' | 'apparmorProfile'> {
  return {
    sendBuffers: s.sendBuffers.size > 0 ? [...s.sendBuffers].map(([fd, data]) => ({ fd, data })) : null,
    ...nativeSchedLsm(s),
  };
}

// An rlimit amount for native: -1 for RLIM_INFINITY, a number when exact, else the bigint.
function planLimit(v: bigint): number | bigint {
  if (v === RLIM_INFINITY) return -1;
  return v <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(v) : v;
}

/** Search path used when the parent has no PATH (glibc's confstr(_CS_PATH)). */
export const DEFAULT_PATH = '/bin:/usr/bin';

/**
 * The executables to try for `program`. With a '/', the program as given (a relative
 * path is resolved by execve against the child's working directory). Without one, every
 * regular file named `program` in the PARENT's PATH (never the child's configured PATH),
 * made absolute against the parent's cwd (an empty PATH entry means the cwd). [] if none.
 */
export function resolveCandidates(program: string, pathValue: string | undefined = process.env.PATH): string[] {
  if (program.includes('/')) return [program];
  const found: string[] = [];
  for (const dir of (pathValue ?? DEFAULT_PATH).split(':')) {
    const full = path.resolve(dir === '' ? '.' : dir, program);
    if (found.includes(full)) continue;
    try {
      // throwIfNoEntry: a miss (the common case, once per PATH entry before the hit) returns
      // undefined instead of building an Error with a stack trace, several times cheaper.
      if (fs.statSync(full, { throwIfNoEntry: false })?.isFile()) found.push(full);
    } catch {
      // unreadable (EACCES, ENOTDIR, ELOOP): not a candidate
    }
  }
  return found;
}

/** Closes CLOSE_PARENT fds and empties the pass list: fds go to the first spawn only. */
export function releasePassedFds(state: CommandState): void {
  for (const [fd, flags] of state.passFds) {
    if (flags & PASS_FD_CLOSE_PARENT) {
      try {
        fs.closeSync(fd);
      } catch {
        // already closed by the caller
      }
    }
  }
  state.passFds.clear();
}
