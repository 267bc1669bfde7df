/**
 * A command's recorded state, the run-time checks on it, and its translation into the
 * NativePlan of docs/internals.md, including the PATH lookup.
 */
import { constants as bufferConstants } from 'node:buffer';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { DEFAULT_DRAIN_MS, PASS_FD_BLOCKING, PASS_FD_CLOSE_PARENT } from './constants';
import { EnvBuilder } from './env';
import { usageError } from './errors';
import {
  defaultNamespaceSetup, effectiveUnshareFlags, namespaceMisuse, nativeNamespaceSetup,
  type NamespaceSetup,
} from './command/ns-setup';
import { defaultMountState, mountMisuse, type MountState, nativeMountSetup } from './command/mount-setup';
import { type ContainerIds, containerMisuse, defaultContainerIds, nativeContainerIds } from './command/container-setup';
import type { NativePlan, StdioSpec } from './native';
import type { RunRecord } from './run/record';
import { formatCommand } from './to-string';
import type { BufferRef, FdRef } from './types';
import { RLIM_INFINITY } from './validate';

/** Where stdout or stderr goes, as configured. */
export type OutputConfig =
  | { kind: 'fd'; fd: number }
  | { kind: 'ref'; ref: FdRef }
  | { kind: 'buffer'; ref: BufferRef | null };

/** Everything the builder records; src/run/ reads it. */
export interface CommandState {
  argv: string[];
  env: EnvBuilder;
  /** The first misuse recorded; every run and toString() then fail with it. */
  error: string | null;
  /** fd -> flags, in the order passed; emptied after the first spawn. */
  passFds: Map<number, number>;
  stdin: { kind: 'fd'; fd: number } | { kind: 'buffer'; data: Buffer } | null;
  stdout: OutputConfig | null;
  stderr: OutputConfig | null;
  nonblocking: boolean;
  cwd: string | null;
  umask: number;
  rawStatus: boolean;
  daemonize: boolean;
  pidFile: string | null;
  uid: number;
  gid: number;
  groups: number[] | null;
  clearCaps: boolean;
  keepCaps: Set<number>;
  /** resource -> amounts; RLIM_INFINITY (2^64-1) is unlimited. */
  rlimits: Map<number, { soft: bigint; hard: bigint }>;
  noNewPrivs: boolean;
  parentDeathSignal: number;
  setsid: boolean;
  pgid: number;
  nice: number | null;
  namespaces: { fd: number; type: number }[];
  unshareFlags: number;
  cgroup: string | null;
  /** A cgroup directory fd (joinCgroup(fd)), or -1. */
  cgroupFd: number;
  chroot: string | null;
  hook: { library: string; symbol: string; data: Buffer } | null;
  handshake: boolean;
  /** The new namespaces' setup: id maps, mount propagation, /proc (command/ns-setup.ts). */
  nsSetup: NamespaceSetup;
  /** pivotRoot(), addMount(), addDevMount() (command/mount-setup.ts). */
  mountState: MountState;
  /** setSendBuffer(): child fd -> data, in the order set. */
  sendBuffers: Map<number, Buffer>;
  cpuAffinity: number[] | null;
  memoryPolicy: { mode: number; nodes: number[] } | null;
  /** 0 none, 1 setRunAlone(), 2 setRunAmong(schedCorePid). */
  schedCore: number;
  schedCorePid: number;
  selinuxLabel: string | null;
  apparmorProfile: string | null;
  /** setUser(), host and domain name, seccomp filter (command/container.ts). */
  container: ContainerIds;
  running: RunRecord | null;
  freed: boolean;
}

// The highest fd number (an int): an FdRef changed after it was given is checked against it.
const MAX_FD = 2 ** 31 - 1;

/** The state of a new command running argv. */
export function createState(argv: string[]): CommandState {
  return {
    argv, env: new EnvBuilder(), error: null, passFds: new Map(), stdin: null, stdout: null, stderr: null,
    nonblocking: false, cwd: null, umask: -1, rawStatus: false, daemonize: false, pidFile: null,
    uid: -1, gid: -1, groups: null, clearCaps: false, keepCaps: new Set(), rlimits: new Map(),
    noNewPrivs: false, parentDeathSignal: 0, setsid: false, pgid: -1, nice: null, namespaces: [],
    unshareFlags: 0, cgroup: null, cgroupFd: -1, chroot: null, hook: null, handshake: false, running: null, freed: false,
    nsSetup: defaultNamespaceSetup(), mountState: defaultMountState(),
    sendBuffers: new Map(), cpuAffinity: null, memoryPolicy: null, schedCore: 0, schedCorePid: 0,
    selinuxLabel: null, apparmorProfile: null, container: defaultContainerIds(),
  };
}

/** Records a misuse; the first one wins, as in libvirt. */
export function recordError(state: CommandState, reason: string): void {
  state.error ??= reason;
}

/** How the command is about to run: runSync(), run(), runAsync() or exec(). */
export type RunMode = 'sync' | 'async' | 'background' | 'exec';

// Read ends handed out through each FdRef; finding one there again means "a new pipe".
const handedOut = new WeakMap<FdRef, number>();

/** Stores a pipe's parent end into `ref` and remembers it for the next run. */
export function storePipeFd(ref: FdRef, fd: number): void {
  ref.fd = fd;
  handedOut.set(ref, fd);
}

// An FdRef asks for a pipe when its fd is -1 or still the read end of the previous run.
function wantsPipe(ref: FdRef): boolean {
  return ref.fd === -1 || handedOut.get(ref) === ref.fd;
}

/** stderr goes where stdout goes (the same FdRef or BufferRef object was given to both). */
export function stderrSharesStdout(state: CommandState): boolean {
  const out = state.stdout;
  const err = state.stderr;
  if (!out || !err || out.kind === 'fd' || out.kind !== err.kind) return false;
  return out.ref !== null && out.ref === err.ref;
}

function hasStringIO(state: CommandState): boolean {
  return state.stdin?.kind === 'buffer' || state.stdout?.kind === 'buffer' || state.stderr?.kind === 'buffer'
    || state.sendBuffers.size > 0;
}

// A send buffer's fd number that another fd of the command also claims: the child would get
// only one of them at that number.
function sendBufferClash(s: CommandState): string | null {
  for (const fd of s.sendBuffers.keys()) {
    if (s.passFds.has(fd)) return `fd ${fd} is both passed (passFD) and a send buffer`;
    if (s.namespaces.some((n) => n.fd === fd)) return `fd ${fd} is both a namespace fd and a send buffer`;
    if (s.cgroupFd === fd) return `fd ${fd} is both the cgroup fd and a send buffer`;
  }
  return null;
}

function hasCallerPipe(state: CommandState): boolean {
  return [state.stdout, state.stderr].some((c) => c?.kind === 'ref' && wantsPipe(c.ref));
}

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
    return s.running.queued
      ? 'command is already running (its run() waits for its turn to spawn)'
      : `command is already running as pid ${s.running.pid}`;
  }
  for (const c of [s.stdout, s.stderr]) {
    if (c?.kind === 'ref' && !(Number.isInteger(c.ref.fd) && c.ref.fd >= -1 && c.ref.fd <= MAX_FD)) return `FdRef.fd must be -1 or an fd (0 to ${MAX_FD}), not ${String(c.ref.fd)}`;
  }
  if (s.pidFile !== null && !s.daemonize) return 'creation of pid file requires daemonized command';
  if (s.setsid && s.pgid !== -1) return 'cannot combine setsid() and setpgid()';
  const clash = sendBufferClash(s);
  if (clash !== null) return clash;
  if (s.daemonize) {
    if (mode === 'background') return 'daemonized command cannot use runAsync()';
    if (mode === 'exec') return 'daemonized command cannot use exec()';
    if (s.cwd !== null) return `daemonized command cannot set working directory ${s.cwd}`;
    if (hasStringIO(s)) return 'cannot mix string I/O with daemon';
  }
  if (mode === 'sync' && hasCallerPipe(s)) return 'cannot mix caller pipes with blocking execution';
  if (mode === 'sync' && s.handshake) return 'a handshake needs run() or runAsync(); runSync() cannot answer it';
  if (mode === 'exec' && (hasStringIO(s) || hasCallerPipe(s))) return 'exec() cannot use string I/O or caller pipes';
  if (mode === 'exec' && s.handshake) return 'exec() cannot use a handshake';
  return namespaceMisuse(s.unshareFlags, s.nsSetup, s, mode)
    ?? mountMisuse(s.mountState, effectiveUnshareFlags(s.unshareFlags, s.nsSetup), s.nsSetup, s.chroot)
    ?? containerMisuse(s.unshareFlags, s.container);
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
    s.stdin?.kind === 'buffer' ? { type: 'buffer', data: s.stdin.data }
    : s.stdin?.kind === 'fd' ? { type: 'fd', fd: s.stdin.fd }
    : mode === 'exec' ? { type: 'fd', fd: 0 } : { type: 'null' };
  const limit = captureLimit(control.maxBuffer);
  const stdout = outputSpec(s.stdout, mode, s.daemonize, limit, 1);
  const stderr = stderrSharesStdout(s) ? { type: 'stdout' as const } : outputSpec(s.stderr, mode, s.daemonize, limit, 2);
  return {
    argv: [...s.argv], candidates: [], env: s.env.planEntries(), cwd: s.cwd, umask: s.umask,
    stdin, stdout, stderr, nonblocking: s.nonblocking, passFds: [...s.passFds.keys()],
    blockingFds: [...s.passFds].filter(([, f]) => f & PASS_FD_BLOCKING).map(([fd]) => fd),
    uid: s.uid, gid: s.gid, groups: s.groups ? [...s.groups] : null,
    clearCaps: s.clearCaps, keepCaps: [...s.keepCaps].sort((a, b) => a - b),
    rlimits: [...s.rlimits].map(([resource, l]) => ({ resource, soft: planLimit(l.soft), hard: planLimit(l.hard) })),
    noNewPrivs: s.noNewPrivs, parentDeathSignal: s.parentDeathSignal, setsid: s.setsid, pgid: s.pgid,
    nice: s.nice, namespaces: s.namespaces.map((n) => ({ ...n })), unshareFlags: effectiveUnshareFlags(s.unshareFlags, s.nsSetup),
    cgroup: s.cgroup, cgroupFd: s.cgroupFd, chroot: s.chroot, hook: s.hook ? { ...s.hook } : null, handshake: s.handshake,
    daemonize: s.daemonize, pidFile: s.pidFile, namespaceSetup: nativeNamespaceSetup(s.nsSetup),
    mountSetup: nativeMountSetup(s.mountState, s.nsSetup, s.chroot),
    ...libvirtExtras(s),
    ...nativeContainerIds(s.container),
    timeoutMs: control.timeoutMs, killGraceMs: control.killGraceMs, drainMs: DEFAULT_DRAIN_MS,
  };
}

// The NativePlan fields of setSendBuffer, scheduling and LSM labels, every one set (null: not
// configured). Native reads own properties only, so a field left off could not be read from
// Object.prototype anyway; setting them all keeps the plan's shape the same for every run.
function libvirtExtras(s: CommandState): Pick<NativePlan, 'sendBuffers' | 'cpuAffinity' | 'memoryPolicy' | 'schedCore' | 'schedCorePid' | 'selinuxLabel' | 'apparmorProfile'> {
  return {
    sendBuffers: s.sendBuffers.size > 0 ? [...s.sendBuffers].map(([fd, data]) => ({ fd, data })) : null,
    cpuAffinity: s.cpuAffinity ? [...s.cpuAffinity] : null,
    memoryPolicy: s.memoryPolicy ? { mode: s.memoryPolicy.mode, nodes: [...s.memoryPolicy.nodes] } : null,
    schedCore: s.schedCore,
    schedCorePid: s.schedCorePid,
    selinuxLabel: s.selinuxLabel,
    apparmorProfile: s.apparmorProfile,
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
