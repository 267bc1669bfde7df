/**
 * The contract with the C++ addon (docs/internals.md) and its loader. The addon is
 * loaded on first use, so building commands, toString() and dry runs work without it.
 */
import * as path from 'node:path';

/** How one of the child's stdio streams is set up. */
export type StdioSpec =
  | { type: 'null' }
  | { type: 'fd'; fd: number }
  | { type: 'pipe' }
  | { type: 'capture'; maxBuffer: number }
  | { type: 'buffer'; data: Buffer }
  | { type: 'stdout' };

// The plan parts of new namespaces and mounts; command/ns-setup.ts and command/mount-setup.ts
// build them (they live here, with the rest of the contract, so that native.ts imports nothing above it).

/** What native reads (NativePlan.namespaceSetup). */
export interface NativeNamespaceSetup {
  /** uid_map in the kernel's format ("inside outside count" lines), or null: not written */
  uidMap: string | null;
  gidMap: string | null;
  /** mount(2) flags applied to "/" in a new mount namespace; 0: unchanged */
  propagation: number;
  mountProc: boolean;
  /** newuidmap/newgidmap to run instead of writing the map (command/idmap-helper.ts); null: none */
  uidMapHelper?: string | null;
  gidMapHelper?: string | null;
}

/** One step for native (core/mount_plan.h MountSpec). */
export interface NativeMountStep {
  /** 0 mount, 1 symlink (source is the link's text) */
  kind: 0 | 1;
  /** 0 nothing, 1 mkdir -p the target, 2 an empty file at the target */
  create: 0 | 1 | 2;
  source: string | null;
  target: string;
  fstype: string | null;
  flags: number;
  data: string | null;
  readonly: boolean;
  /** the addMount()/addDevMount() call it comes from: a failure's value */
  index: number;
  /** fs ids (inside the new user namespace) a helper takes to make this call's steps; -1: ours */
  asUid?: number;
  asGid?: number;
}

/** What native reads (NativePlan.mountSetup). */
export interface NativeMountSetup {
  pivotRoot: string | null;
  /** the old root's directory inside the new root, while the mounts read from it */
  oldRoot: string;
  /** /proc made private before remountProc()'s mount (the tree was left shared) */
  procPrivate: boolean;
  steps: NativeMountStep[];
  /** each recorded mount's target, for error messages (native does not read it) */
  targets: string[];
}

/** Everything native needs to start one child; validated in TS first. */
export interface NativePlan {
  argv: string[];
  candidates: string[];
  /**
   * NAME=value entries; a Buffer carries a value that is not valid UTF-8 (addEnvPass()). null:
   * the process environment, copied by native under Node's lock (only when hasEnvLock()).
   */
  env: (string | Buffer)[] | null;
  cwd: string | null;
  umask: number;
  stdin: StdioSpec;
  stdout: StdioSpec;
  stderr: StdioSpec;
  nonblocking: boolean;
  passFds: number[];
  /** Passed fds whose O_NONBLOCK the child clears (PASS_FD_BLOCKING). */
  blockingFds: number[];
  uid: number;
  gid: number;
  groups: number[] | null;
  clearCaps: boolean;
  keepCaps: number[];
  rlimits: { resource: number; soft: number | bigint; hard: number | bigint }[];
  noNewPrivs: boolean;
  parentDeathSignal: number;
  setsid: boolean;
  pgid: number;
  nice: number | null;
  namespaces: { fd: number; type: number }[];
  unshareFlags: number;
  cgroup: string | null;
  cgroupFd: number;
  chroot: string | null;
  hook: { library: string; symbol: string; data: Buffer } | null;
  handshake: boolean;
  daemonize: boolean;
  pidFile: string | null;
  /** New namespaces: user namespace maps, mount propagation, /proc (command/ns-setup.ts). */
  namespaceSetup: NativeNamespaceSetup;
  /** pivotRoot(), addMount(): the new root and the mounts, paths built for the child (command/mount-setup.ts); null: none. */
  mountSetup: NativeMountSetup | null;
  /** setSendBuffer(): each `data` is fed through a pipe whose read end the child gets as `fd`; null: none. */
  sendBuffers: { fd: number; data: Buffer }[] | null;
  /** sched_setaffinity CPUs, or null: unchanged. */
  cpuAffinity: number[] | null;
  /** set_mempolicy(mode, nodes), or null: unchanged. */
  memoryPolicy: { mode: number; nodes: number[] } | null;
  /** Core scheduling: 0 none, 1 a new cookie (setRunAlone), 2 schedCorePid's cookie (setRunAmong). */
  schedCore: number;
  schedCorePid: number;
  /** SELinux exec context / AppArmor profile for the program, or null. */
  selinuxLabel: string | null;
  apparmorProfile: string | null;
  /** Host and domain name of the new uts namespace, or null: unchanged. */
  hostname: string | null;
  domainname: string | null;
  /** A classic BPF seccomp program (struct sock_filter[]), or null: none. */
  seccompFilter: Buffer | null;
  timeoutMs: number;
  killGraceMs: number;
  drainMs: number;
}

/** A setup failure reported by the child, or by the parent before/at clone. */
export interface NativeFailure {
  stage: string;
  errno: number;
  value: number;
  /** The file a parent-side step failed on (stage 'idmap': /proc/PID/uid_map, ...). */
  path?: string;
  /** A helper's own reason (stage 'idmap': newuidmap's first line on stderr). */
  detail?: string;
}

/** How a child ended, as native saw it. */
export interface NativeResult {
  pid: number;
  status: number | null;
  failure: NativeFailure | null;
  stdout: Buffer | null;
  stderr: Buffer | null;
  timedOut: boolean;
  maxBufferExceeded: 'stdout' | 'stderr' | null;
  outputIncomplete: boolean;
  killedBy: number;
  /** fork() path (hook, handshake): the child ended without reaching execve. */
  diedBeforeExec?: boolean;
}

/** A running child started by spawn(). */
export interface ChildHandle {
  readonly pid: number;
  readonly stdinFd: number;
  readonly stdoutFd: number;
  readonly stderrFd: number;
  /** The signal to the child (group: to the process group it leads); false when none was sent. */
  kill(signal: number, group?: boolean): boolean;
  terminate(graceMs: number): void;
  abortSync(graceMs: number): NativeResult;
  handshakeWait(cb: (err: Error | null) => void): void;
  handshakeNotify(): void;
  release(): void;
  ref(): void;
  unref(): void;
}

/** The Error spawn()/runSync() throw when the child could not be started. */
export interface NativeSpawnError extends Error {
  stage?: string;
  errno?: number;
  value?: number;
  pid?: number;
  path?: string;
  detail?: string;
}

/** The addon's exports. */
export interface NativeBinding {
  runSync(plan: NativePlan): NativeResult;
  spawn(plan: NativePlan, onDone: (result: NativeResult) => void): ChildHandle;
  pidWait(pid: number, cb: (err: Error | null, rawStatus: number) => void): void;
  pidKill(pid: number, signal: number): boolean;
  getGroupList(uid: number, gid: number): number[];
  stageNames?(): string[];
  /** The parent's variable as bytes (process.env decodes it lossily), or null when unset. */
  getEnvBytes?(name: string): Buffer | null;
  /** Whether native can copy environ under Node's lock (a plan's env may then be null). */
  hasEnvLock?(): boolean;
  /** Replaces the current process (Command.exec()); returns or throws only on failure. */
  execInPlace?(plan: NativePlan): void;
  /** getpwnam_r(3) (getpwuid_r(3) for a number): the user of this name or uid (any NSS source), or null. */
  lookupUser?(nameOrUid: string | number): { name: string; uid: number; gid: number } | null;
  /** getgrnam_r(3): the group of this name (any NSS source), or null. */
  lookupGroup?(name: string): { name: string; gid: number } | null;
}

let loaded: NativeBinding | null = null;
let injected: NativeBinding | null = null;

/**
 * The addon, loaded with node-gyp-build from the package root (prebuilds/, then build/).
 * @throws {Error} when it cannot be loaded, saying what was tried and how to rebuild
 */
export function loadNative(): NativeBinding {
  if (injected) return injected;
  if (loaded) return loaded;
  const root = path.join(__dirname, '..');
  try {
    // eslint-disable-next-line @typescript-eslint/no-require-imports -- loaded on first use, so that a missing addon fails here with the message below, not at import
    const nodeGypBuild = require('node-gyp-build') as (dir: string) => NativeBinding;
    loaded = nodeGypBuild(root);
  } catch (err) {
    const detail = err instanceof Error ? err.message : String(err);
    throw new Error(
      `vircommand: cannot load the native addon: node-gyp-build looked in ${root} ` +
        `(prebuilds/${process.platform}-${process.arch}, build/Release, build/Debug) for ` +
        `Node ABI ${process.versions.modules}: ${detail}. ` +
        'Run `npm rebuild vircommand` with a C++ toolchain (make, g++, python3) installed.',
      { cause: err },
    );
  }
  return loaded;
}

/**
 * The parent's variable `name` as bytes, when the addon can say (getEnvBytes()); null when
 * unset, or when the addon is missing or too old to tell.
 */
export function envBytes(name: string): Buffer | null {
  try {
    const native = loadNative();
    if (typeof native.getEnvBytes !== 'function') return null;
    const b = native.getEnvBytes(name);
    return Buffer.isBuffer(b) ? b : null;
  } catch {
    return null;
  }
}

/**
 * Whether the addon copies the process environment itself under Node's lock (hasEnvLock()),
 * so a plan may leave env null to inherit it. false when the addon is missing, too old, or
 * cannot find the lock: the caller then passes process.env's entries.
 */
export function envLockAvailable(): boolean {
  try {
    const native = loadNative();
    return typeof native.hasEnvLock === 'function' && native.hasEnvLock() === true;
  } catch {
    return false;
  }
}

/** Replaces the addon with a stand-in (tests), or restores it with null. Not public API. */
export function setNativeBinding(binding: NativeBinding | null): void {
  injected = binding;
}

/** A NativeResult made in TS for a child that never ran; `cause` keeps native's Error. */
export type StartFailure = NativeResult & { cause?: unknown };

/** A result for a child that never ran (or was never reaped). */
export function emptyResult(pid: number, failure: NativeFailure | null, cause?: unknown): StartFailure {
  return {
    pid,
    status: null,
    failure,
    stdout: null,
    stderr: null,
    timedOut: false,
    maxBufferExceeded: null,
    outputIncomplete: false,
    killedBy: 0,
    diedBeforeExec: false,
    cause,
  };
}

/** A native throw with a stage, as a failed start; any other throw is a bug and propagates. */
export function spawnFailure(err: unknown): StartFailure {
  const e = err as NativeSpawnError;
  if (!(err instanceof Error) || typeof e.stage !== 'string') throw err;
  const failure: NativeFailure = { stage: e.stage, errno: Math.abs(e.errno ?? 0), value: e.value ?? 0 };
  if (typeof e.path === 'string') failure.path = e.path;
  if (typeof e.detail === 'string') failure.detail = e.detail;
  return emptyResult(e.pid ?? 0, failure, err);
}

// The addon is loaded when the package is imported, not at the first spawn: it reserves its
// spawn fd slots as it loads (native/core/spawn_fds.cc, FdSlots), and they only help if they get
// low numbers, before the program has opened its thousands of fds. A failure to load is not
// thrown here; the first run reports it.
try {
  loadNative();
} catch {
  // reported by the first loadNative() that needs the addon
}
