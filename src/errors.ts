/**
 * CommandError, the one error class of runs, and the helpers that name errnos,
 * signals and wait statuses. Messages are built here, from structured fields only.
 */
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { capabilityName } from './capabilities';
import { RLIMIT_NAMES } from './constants';
import { ERRNO_NAMES, type ErrnoCode } from './errno-names';
import { ERRNO_TEXT } from './errno-text';
import { decodePidfileFailure, rememberPidfileDetail } from './pidfile-failure';
import type { SignalName } from './signal-names';
import { type CommandStage, toStage } from './stages';
import { subordinateHint } from './subids';
import type { CommandErrorCode } from './types';

const BRAND = Symbol.for('vircommand.CommandError');

/** Fields of a CommandError; every one is optional when constructing. */
export interface CommandErrorDetails {
  /** The command in toString() form; '' when not given. */
  command?: string;
  /** The child's pid, when there was a child. */
  pid?: number | null;
  /** The exit status, when the child exited (also becomes `exitCode`). */
  exitStatus?: number | null;
  /** The name of the signal that killed the child ('SIGKILL'). */
  signal?: SignalName | null;
  /** The number of that signal. */
  signalNumber?: number | null;
  /** The setup step that failed ('chdir', 'exec', ...), 'validate' for misuse. */
  stage?: CommandStage | null;
  /** The positive errno of a failed stage. */
  errno?: number | null;
  /** 'ENOENT', ... for a failed stage, or one of the codes listed at CommandError.code. */
  code?: CommandErrorCode;
  /** The path the failed stage worked on (cwd, program, pidfile, cgroup, chroot, hook library). */
  path?: string | null;
  /** The stage's extra number (an fd, a resource, ...). */
  value?: number | null;
  /** Output captured before the failure. */
  stdout?: string | Buffer;
  /** Error output captured before the failure. */
  stderr?: string | Buffer;
  /** The run was ended by its timeout. @default false */
  timedOut?: boolean;
  /** The message without the quoted stderr; the message itself when it quotes none. */
  shortMessage?: string;
  /** The underlying error, passed on as the standard `Error` `cause`. */
  cause?: unknown;
}

/**
 * A run that failed: a non-zero exit, a death by signal, a setup step of the child
 * (`stage`), a timeout, an abort, or misuse of the command (`stage` 'validate',
 * `code` 'ERR_COMMAND_USAGE').
 * @example
 * try { await new Command('false').run(); } catch (e) { if (isCommandError(e)) console.log(e.exitStatus); }
 */
export class CommandError extends Error {
  /** The command in toString() form. */
  readonly command: string;
  /** The child's pid, when there was a child. */
  readonly pid: number | null;
  /** The exit status, when the child exited. */
  readonly exitStatus: number | null;
  /** The same as exitStatus, under execa's name. */
  readonly exitCode: number | null;
  /** The name of the signal that killed the child ('SIGKILL'). */
  readonly signal: SignalName | null;
  /** The number of that signal. */
  readonly signalNumber: number | null;
  /** The setup step that failed ('chdir', 'exec', ...), 'validate' for misuse. */
  readonly stage: CommandStage | null;
  /** The positive errno of a failed stage. */
  readonly errno: number | null;
  /**
   * 'ENOENT', ... for a failed stage; 'ETIMEDOUT', 'ABORT_ERR', 'ERR_CHILD_MAX_BUFFER',
   * 'ERR_COMMAND_USAGE'; 'ERR_STRING_TOO_LONG' when captured output is too large for a string
   * (then `stdout`/`stderr` are Buffers); 'ERR_DLOPEN_FAILED' when a hook library cannot load.
   */
  readonly code: CommandErrorCode | undefined;
  /** The path the failed stage worked on (cwd, program, pidfile, cgroup, chroot, hook library). */
  readonly path: string | null;
  /** The stage's extra number reported by native (an fd, a resource, ...). */
  readonly value: number | null;
  /** Output captured before the failure. */
  readonly stdout: string | Buffer | undefined;
  /** Error output captured before the failure. */
  readonly stderr: string | Buffer | undefined;
  /** The run was ended by its timeout. */
  readonly timedOut: boolean;
  /**
   * The message without the child's stderr (as execa's shortMessage): for a non-zero exit,
   * `Child process (CMD) unexpected exit status 3`; otherwise the message itself.
   */
  readonly shortMessage: string;

  constructor(message: string, details: CommandErrorDetails = {}) {
    super(message, details.cause === undefined ? undefined : { cause: details.cause });
    this.command = details.command ?? '';
    this.pid = details.pid ?? null;
    this.exitStatus = details.exitStatus ?? null;
    this.exitCode = this.exitStatus;
    this.signal = details.signal ?? null;
    this.signalNumber = details.signalNumber ?? null;
    this.stage = details.stage ?? null;
    this.errno = details.errno ?? null;
    this.code = details.code;
    this.path = details.path ?? null;
    this.value = details.value ?? null;
    this.stdout = details.stdout;
    this.stderr = details.stderr;
    this.timedOut = details.timedOut ?? false;
    this.shortMessage = details.shortMessage ?? message;
  }
}
Object.defineProperty(CommandError.prototype, 'name', { value: 'CommandError', writable: true, configurable: true });
Object.defineProperty(CommandError.prototype, BRAND, { value: true });

/**
 * True for a CommandError, also one from another copy of the package.
 * @example if (isCommandError(e) && e.code === 'ENOENT') { ... }
 */
export function isCommandError(e: unknown): e is CommandError {
  return e instanceof CommandError || (typeof e === 'object' && e !== null && (e as Record<symbol, unknown>)[BRAND] === true);
}

/** A misuse of the command as a whole (stage 'validate', code 'ERR_COMMAND_USAGE'). */
export function usageError(reason: string, command = ''): CommandError {
  return new CommandError(`Invalid use of command API: ${reason}`, { command, stage: 'validate', code: 'ERR_COMMAND_USAGE' });
}

/** 'ENOENT' for 2 (src/errno-names.ts); 'E<n>' for a number Linux 6.x does not name. */
export function errnoName(errno: number): ErrnoCode {
  const name = Number.isInteger(errno) && errno > 0 ? ERRNO_NAMES[errno] : undefined;
  return name || `E${errno}`;
}

/** strerror-like text: 'No such file or directory' for 2 (glibc's texts, src/errno-text.ts). */
export function errnoText(errno: number): string {
  const text = Number.isInteger(errno) && errno > 0 ? ERRNO_TEXT[errno] : undefined;
  return text ?? `Unknown error ${errno}`;
}

// os.constants.signals holds exactly SIGNAL_NAMES on Linux (test/unit/name-tables.test.ts).
const signalNames = new Map<number, SignalName>();
for (const [name, num] of Object.entries(os.constants.signals)) if (!signalNames.has(num)) signalNames.set(num, name as SignalName);

/** 'SIGKILL' for 9; realtime signals as 'SIGRTMIN+n' (glibc's SIGRTMIN is 34). */
export function signalName(signal: number): SignalName {
  return signalNames.get(signal) ?? (signal >= 34 ? `SIGRTMIN+${signal - 34}` : `SIG${signal}`);
}

/** The number of a signal name ('SIGTERM' or 'TERM'), or undefined. */
export function signalNumber(name: string): number | undefined {
  const key = name.startsWith('SIG') ? name : `SIG${name}`;
  const table = os.constants.signals as Record<string, number>;
  return Object.hasOwn(table, key) ? table[key] : undefined;
}

/** A raw wait status taken apart (WIFEXITED, WEXITSTATUS, WTERMSIG, WCOREDUMP). */
export interface DecodedStatus {
  exited: boolean;
  exitStatus: number | null;
  signalNumber: number | null;
  signal: SignalName | null;
  coreDumped: boolean;
}

/** Decodes a raw wait status. */
export function decodeStatus(raw: number): DecodedStatus {
  const low = raw & 0x7f;
  if (low === 0) return { exited: true, exitStatus: (raw >> 8) & 0xff, signalNumber: null, signal: null, coreDumped: false };
  if (low !== 0x7f) return { exited: false, exitStatus: null, signalNumber: low, signal: signalName(low), coreDumped: (raw & 0x80) !== 0 };
  return { exited: false, exitStatus: null, signalNumber: null, signal: null, coreDumped: false };
}

/** libvirt's status text: 'exit status 3', 'fatal signal 9' or 'invalid value N'. */
export function describeStatus(raw: number): string {
  const d = decodeStatus(raw);
  if (d.exited) return `exit status ${d.exitStatus}`;
  if (d.signalNumber !== null) return `fatal signal ${d.signalNumber}`;
  return `invalid value ${raw}`;
}

/**
 * `Child process (CMD) unexpected exit status N[: stderr]` (or fatal signal N); the stderr
 * quoted without its trailing newlines and spaces, so the message never ends in a newline.
 * The shortMessage has no stderr.
 */
export function statusError(raw: number, details: CommandErrorDetails, stderrText: string): CommandError {
  const d = decodeStatus(raw);
  const shortMessage = `Child process (${details.command ?? ''}) unexpected ${describeStatus(raw)}`;
  const quoted = stderrText.trimEnd();
  return new CommandError(quoted === '' ? shortMessage : `${shortMessage}: ${quoted}`, {
    ...details,
    shortMessage,
    exitStatus: d.exitStatus,
    signal: d.signal,
    signalNumber: d.signalNumber,
  });
}

/**
 * `Child process (CMD) failed at stage 'S': CODE (text)[: path][ (detail)]`; with errno 0
 * (a hook's own return value, say) `... failed at stage 'S' with value V[: path]...`.
 */
export function stageError(stage: CommandStage, errno: number, details: CommandErrorDetails, detail = '', tail = ''): CommandError {
  const code = errno > 0 ? errnoName(errno) : undefined;
  let why = code === undefined ? ` with value ${details.value ?? 0}` : `: ${code} (${errnoText(errno)})`;
  if (stage === 'wait' && code === 'ECHILD') why = ': exit status unavailable: SIGCHLD is ignored (ECHILD)';
  if (stage === 'pidfile' && code === 'EAGAIN' && details.value) why += `, locked by pid ${details.value}`;
  const where = (details.path ? `: ${details.path}` : '') + (detail ? ` (${detail})` : '') + (tail ? `: ${tail}` : '');
  const msg = `Child process (${details.command ?? ''}) failed at stage '${stage}'${why}${where}`;
  return new CommandError(msg, { ...details, stage, errno, code });
}

/** The parts of a NativePlan that name what a failing stage worked on. */
export interface StagePaths {
  argv: string[];
  env?: readonly (string | Buffer)[] | null;
  candidates: string[];
  cwd: string | null;
  pidFile: string | null;
  cgroup: string | null;
  chroot: string | null;
  hook: { library: string; symbol: string } | null;
  rlimits?: readonly { resource: number; soft: number | bigint; hard: number | bigint }[];
  /** pivotRoot()'s directory and each addMount()'s target (stages 'pivot_root', 'mount'). */
  mountSetup?: { pivotRoot: string | null; targets: string[] } | null;
}

/** The path a stage worked on: cwd, pidfile, program, cgroup, chroot dir or hook library. */
export function pathForStage(plan: StagePaths, stage: CommandStage): string | null {
  const paths: Record<string, string | null | undefined> = {
    chdir: plan.cwd,
    pidfile: plan.pidFile,
    exec: plan.candidates[0] ?? plan.argv[0],
    cgroup: plan.cgroup,
    chroot: plan.chroot,
    hook: plan.hook?.library,
    pivot_root: plan.mountSetup?.pivotRoot,
  };
  return paths[stage] ?? null;
}

/**
 * The exit status a setup failure stands for (env(1), libvirt): 127 for an exec that found
 * no file, 126 for another exec failure, 125 for a step before exec, null for the parent's
 * own steps ('pipe', 'fork'), where no child ran.
 */
export function failureExitStatus(f: { stage: string; errno: number }): number | null {
  if (f.stage === 'exec') return f.errno === os.constants.errno.ENOENT ? 127 : 126;
  return f.stage === 'pipe' || f.stage === 'fork' || f.stage === 'idmap' ? null : 125;
}

/**
 * The error of a setup failure; `notFoundIn` is the PATH searched in vain when the
 * program was not found there (then no child was created).
 */
export function failureError(
  plan: StagePaths,
  f: { stage: string; errno: number; value: number; path?: string; detail?: string },
  notFoundIn: string | null,
  failed: CommandErrorDetails,
): CommandError {
  const details = { ...failed, exitStatus: failureExitStatus(f), signal: null, signalNumber: null };
  if (notFoundIn !== null) {
    return new CommandError(`Cannot find '${plan.argv[0]}' in PATH (${notFoundIn})`, {
      ...details,
      stage: 'exec',
      errno: f.errno,
      code: errnoName(f.errno),
      path: plan.argv[0],
      value: f.value,
    });
  }
  const loadFailure = hookLoadFailure(f, failed.cause);
  if (loadFailure !== null) {
    return new CommandError(`Child process (${details.command ?? ''}) failed at stage 'hook': ${loadFailure}`, {
      ...details,
      stage: 'hook',
      errno: null,
      code: 'ERR_DLOPEN_FAILED',
      path: plan.hook?.library ?? null,
      value: f.value,
    });
  }
  let detail = f.stage === 'hook' && plan.hook ? `symbol ${plan.hook.symbol}` : '';
  // newuidmap/newgidmap's own reason, and what /etc/subuid or /etc/subgid lacks.
  if (f.stage === 'idmap' && f.detail !== undefined) detail = f.detail + (f.path ? subordinateHint(f.path) : '');
  let tail = '';
  if (f.stage === 'exec' && f.errno === os.constants.errno.ENOENT) {
    const interp = missingInterpreter(plan);
    if (interp !== null) detail = `interpreter ${interp} not found`;
  }
  if (f.stage === 'exec' && f.errno === os.constants.errno.E2BIG) tail = argSizes(plan);
  if (f.stage === 'rlimit') tail = rlimitText(plan, f.value);
  // A mount: its index is the value; its target, the path.
  const mountTarget = f.stage === 'mount' ? plan.mountSetup?.targets[f.value] : undefined;
  if (mountTarget !== undefined) detail = `mount ${f.value}`;
  if (f.stage === 'caps') tail = boundingKeptText(f.value);
  const stage = toStage(f.stage);
  let value: number | null = f.value;
  if (stage === 'pidfile' && plan.pidFile !== null) ({ detail, value } = decodePidfileFailure(plan.pidFile, errnoName(f.errno), f.value));
  const err = stageError(stage, f.errno, { ...details, path: f.path ?? mountTarget ?? pathForStage(plan, stage), value }, detail, tail);
  rememberPidfileDetail(err, stage === 'pidfile' ? detail : '');
  return err;
}

// The hook library could not be loaded in the parent (no child ran): dlopen's or dlsym's own
// text, which native's error carries ('cannot load pre-exec hook: /x.so: cannot open shared
// object file: No such file or directory'), or null for any other failure.
function hookLoadFailure(f: { stage: string; errno: number }, cause: unknown): string | null {
  if (f.stage !== 'hook' || f.errno !== 0 || !(cause instanceof Error)) return null;
  return typeof (cause as { stage?: unknown }).stage === 'string' && cause.message !== '' ? cause.message : null;
}

// native/child/child_creds.cc: a 'caps' failure's value for a root child whose bounding set
// could not be dropped is this base plus the first capability left there.
const CAPS_BOUNDING_KEPT_BASE = 1000;

// Why clearCaps() refused a root child: without CAP_SETPCAP the bounding set stays, and a
// child running as root regains all of it at exec. '' for any other 'caps' failure.
function boundingKeptText(value: number): string {
  const cap = value - CAPS_BOUNDING_KEPT_BASE;
  if (cap < 0 || cap > 63) return '';
  return (
    `${capabilityName(cap) ?? `capability ${cap}`} stays in the bounding set, which only CAP_SETPCAP can drop, ` +
    'and a child running as root regains the whole bounding set at exec (run the parent with CAP_SETPCAP, or setUID() a non-root user)'
  );
}

// The limit that failed, by name: 'RLIMIT_MEMLOCK (soft 65536, hard 65536)' (native reports
// the resource number as the value).
function rlimitText(plan: StagePaths, resource: number): string {
  const name = RLIMIT_NAMES[resource] === undefined ? `resource ${resource}` : `RLIMIT_${RLIMIT_NAMES[resource]}`;
  const l = plan.rlimits?.find((r) => r.resource === resource);
  if (!l) return name;
  const shown = (v: number | bigint): string => (v === -1 ? 'unlimited' : String(v));
  return `${name} (soft ${shown(l.soft)}, hard ${shown(l.hard)})`;
}

// ENOENT for a file that exists: a `#!` script whose interpreter is missing. The interpreter, or null.
function missingInterpreter(plan: StagePaths): string | null {
  const file = plan.candidates[0];
  if (file === undefined || plan.chroot || plan.mountSetup?.pivotRoot) return null;
  let fd = -1;
  try {
    fd = fs.openSync(path.resolve(plan.cwd ?? '.', file), 'r');
    const buf = Buffer.alloc(256);
    const n = fs.readSync(fd, buf, 0, buf.length, 0);
    const line = buf.subarray(0, n).toString('latin1').split('\n')[0];
    if (!line.startsWith('#!')) return null;
    const interp = line.slice(2).trim().split(/[ \t]/)[0];
    return interp === '' ? null : interp;
  } catch {
    return null;
  } finally {
    if (fd >= 0) fs.closeSync(fd);
  }
}

const MAX_ARG_STRLEN = 131072;
let argMax: number | null = null;

function systemArgMax(): number {
  if (argMax === null) {
    try {
      const n = Number(execFileSync('getconf', ['ARG_MAX'], { encoding: 'utf8', timeout: 2000, stdio: ['ignore', 'pipe', 'ignore'] }).trim());
      argMax = Number.isInteger(n) && n > 0 ? n : 2097152;
    } catch {
      argMax = 2097152;
    }
  }
  return argMax;
}

// E2BIG: the total size of argv and env, the largest string, and the kernel's limits.
function argSizes(plan: StagePaths): string {
  let total = 0;
  let largest = { name: 'argv[0]', size: 0 };
  const count = (items: readonly (string | Buffer)[], kind: string): void => {
    items.forEach((item, i) => {
      const size = (typeof item === 'string' ? Buffer.byteLength(item) : item.length) + 1;
      total += size;
      if (size > largest.size) largest = { name: `${kind}[${i}]`, size };
    });
  };
  count(plan.argv, 'argv');
  count(plan.env ?? Object.entries(process.env).map(([k, v]) => `${k}=${v ?? ''}`), 'env');
  return (
    `argv+env ${total} bytes, largest ${largest.name} ${largest.size} bytes (with its NUL); ` +
    `limits ${MAX_ARG_STRLEN} bytes per string, ARG_MAX ${systemArgMax()} bytes`
  );
}
