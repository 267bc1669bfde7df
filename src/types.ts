/**
 * Public types of vircommand, below every other module: this file imports only the name
 * tables (stages, signal-names, errno-names), which import nothing. The types of one feature
 * that build on these live beside it and import from here, never the other way:
 * types-streams.ts (streams, lines, regex, NUL fields) and pidfile.ts (pidfile tools). The native contract (NativePlan, NativeResult,
 * ChildHandle) lives in native.ts; the name tables behind CommandStage, SignalName and
 * ErrnoCode in stages.ts, signal-names.ts and errno-names.ts.
 */
import type { Readable } from 'node:stream';
import type { ErrnoCode } from './errno-names';
import type { SignalName } from './signal-names';

export type { CommandStage } from './stages';
export type { ErrnoCode, ErrnoName } from './errno-names';
export type { SignalInput, SignalName, StandardSignalName } from './signal-names';

/**
 * A reference through which setOutputFD()/setErrorFD() hand back a pipe: give `{ fd: -1 }`
 * and, once the child runs, `fd` holds the parent's read end (the caller owns and closes it).
 * A non-negative `fd` is used as the child's stream instead.
 */
export interface FdRef {
  /** -1 to ask for a pipe (then the parent's read end once the child runs), or the fd to use. */
  fd: number;
}

/** A reference that setOutputBuffer()/setErrorBuffer() fill after every run. */
export interface BufferRef {
  /** The stream's captured output of the last run (also a failed one); undefined until a run ends. */
  value?: string | Buffer;
}

/** Where setOutputFD()/setErrorFD() send a stream: an fd number or an FdRef. */
export type OutputTarget = number | FdRef;

/** Options of toString() and of the dry-run log. */
export interface ToStringOptions {
  /** One env entry, the program, and each option with its values per line, joined by ` \`. @default false */
  linebreaks?: boolean;
  /** Print the program's basename instead of argv[0] as given. @default false */
  stripPath?: boolean;
}

/** How captured output is returned. */
export type OutputEncoding = 'utf8' | 'buffer';

/**
 * The type of captured output for an encoding: string for 'utf8', Buffer for 'buffer', and
 * `string | Buffer` when the encoding is only known as OutputEncoding.
 */
export type Output<E extends OutputEncoding = OutputEncoding> = E extends 'buffer' ? Buffer : string;

/**
 * Options of wait(): how the end of the child is judged. `E` is the encoding, inferred from
 * the `encoding` you pass, so that the result's stdout/stderr have its type.
 */
export interface WaitOptions<E extends OutputEncoding = OutputEncoding> {
  /** Resolve with a non-zero exit status instead of throwing for it. @default false */
  status?: boolean;
  /**
   * Milliseconds after which the child is terminated and the run fails with ETIMEDOUT; 0: none.
   * 0 to 2^53-1 (past setTimeout's 2^31-1 ms, timers are chained); a fraction rounds up.
   * @default 0
   */
  timeout?: number;
  /** Terminates the child when aborted; the run then fails with ABORT_ERR. */
  signal?: AbortSignal;
  /** SIGTERM -> SIGKILL grace for timeout and signal, in ms: 0 (SIGKILL at once) to 2^53-1. @default 100 */
  killGrace?: number;
  /** 'utf8' strings or raw Buffers for captured output. @default 'utf8' */
  encoding?: E;
}

/** Options of run() and runSync(); `E` as in WaitOptions. */
export interface RunOptions<E extends OutputEncoding = OutputEncoding> extends WaitOptions<E> {
  /**
   * Largest captured output per stream in bytes (an integer up to 2^53-1); more fails with
   * ERR_CHILD_MAX_BUFFER. 0: no limit but Node's, buffer.constants.MAX_LENGTH (4 GiB on Node 20),
   * the largest Buffer it can make; a larger value acts as that. @default 0
   */
  maxBuffer?: number;
  /**
   * The child's stdin for this run (execa's `input`): a string or bytes, as setInputBuffer(), or a
   * Readable piped in (not runSync()). A Readable that fails terminates the child and the run
   * rejects with its error. Not with setInputBuffer()/setInputFD().
   */
  input?: string | Uint8Array | Readable;
}

/** Pipe streams a run may ask for; each becomes `cmd.stdin`, `cmd.stdout`, `cmd.stderr`. */
export interface StdioPipes {
  /** A pipe into the child's stdin: `cmd.stdin` is a Writable (end() it to give EOF). */
  stdin?: 'pipe';
  /** A pipe from the child's stdout: `cmd.stdout` is a Readable. */
  stdout?: 'pipe';
  /** A pipe from the child's stderr (`cmd.stderr`), or 'stdout': into stdout's pipe. */
  stderr?: 'pipe' | 'stdout';
}

/** Options of runAsync(); `stdin`/`stdout`/`stderr: 'pipe'` give Node streams (StdioPipes). */
export interface RunAsyncOptions extends StdioPipes {
  /**
   * true: free() kills and reaps a child still running. false: free() leaves it running
   * for pidWait()/pidAbort() (libvirt's virCommandRunAsync(cmd, &pid)).
   * @default true
   */
  autoReap?: boolean;
  /** As in RunOptions, for buffers set with setOutputBuffer()/setErrorBuffer(). @default 0 */
  maxBuffer?: number;
}

/** Options of abort(). */
export interface AbortOptions {
  /** SIGTERM -> SIGKILL grace in ms, 0 to 2^53-1. @default 100 */
  grace?: number;
}

/**
 * How a run ended. `T` is the type of the output: string (the default encoding 'utf8') or
 * Buffer (`encoding: 'buffer'`); run(), runSync() and wait() infer it from their options.
 *
 * stdout and stderr are always present. What the types cannot know is the builder's stdio
 * (setOutputFD() and friends change a Command's state, not its type), so instead of an
 * `undefined` the type could not predict, a stream this run did not capture is empty ('' or
 * an empty Buffer): one sent to an fd or FdRef, the /dev/null of runAsync(), or stderr merged
 * into stdout (the same BufferRef for both).
 */
export interface RunResult<T extends string | Buffer = string> {
  /** The child's pid (0 when no process was created: dry run, program not found). */
  pid: number;
  /** The exit status, or the raw wait status when rawStatus() was called. */
  status: number;
  /** The exit status if the child exited normally, else null. */
  exitStatus: number | null;
  /** Name of the signal that killed the child ('SIGKILL'), else null. */
  signal: SignalName | null;
  /** Number of that signal, else null. */
  signalNumber: number | null;
  /** The child dumped core. */
  coreDumped: boolean;
  /** Captured stdout (also when stderr was merged into it); empty when not captured. */
  stdout: T;
  /** Captured stderr; empty when not captured (or merged into stdout). */
  stderr: T;
  /** Always false in a resolved result (a timeout rejects); present for symmetry with CommandError. */
  timedOut: boolean;
  /** A captured pipe was still held open (by a grandchild) after the child exited. */
  outputIncomplete: boolean;
  /** The command in toString() form. */
  command: string;
}

/** A native pre-exec hook: `int symbol(void *data)` from a shared library, run in the child. */
export interface PreExecHook {
  /** Path of the shared library (dlopen'd in the parent). */
  library: string;
  /** Name of the exported function. */
  symbol: string;
  /** Bytes handed to the function as its opaque pointer. */
  data?: string | Uint8Array;
}

/** Namespace names accepted by joinNamespace() and unshare(). */
export type NamespaceName = 'net' | 'mnt' | 'pid' | 'uts' | 'ipc' | 'user' | 'cgroup' | 'time';

/** Resource limit names, with or without the RLIMIT_ prefix. */
export type RlimitName =
  | 'CPU'
  | 'FSIZE'
  | 'DATA'
  | 'STACK'
  | 'CORE'
  | 'RSS'
  | 'NPROC'
  | 'NOFILE'
  | 'MEMLOCK'
  | 'AS'
  | 'LOCKS'
  | 'SIGPENDING'
  | 'MSGQUEUE'
  | 'NICE'
  | 'RTPRIO'
  | 'RTTIME'
  | `RLIMIT_${'CPU' | 'FSIZE' | 'DATA' | 'STACK' | 'CORE' | 'RSS' | 'NPROC' | 'NOFILE'}`
  | `RLIMIT_${'MEMLOCK' | 'AS' | 'LOCKS' | 'SIGPENDING' | 'MSGQUEUE' | 'NICE' | 'RTPRIO' | 'RTTIME'}`;

/**
 * A resource limit's amount: 0 to 2^53-1, a bigint up to 2n ** 64n - 1n (RLIM_INFINITY, which
 * means unlimited), or Infinity / 'unlimited'.
 */
export type RlimitValue = number | bigint | 'unlimited';

/** What a dry-run callback is told about the command that would have run. */
export interface DryRunCall {
  /** The program and its arguments, as the child would have received them. */
  argv: string[];
  /** The configured environment, or null when the child would inherit the parent's. */
  env: string[] | null;
  /** The input buffer, if one was set. */
  input: Buffer | null;
}

/** What a dry-run callback answers; missing fields mean exit status 0 and no output. */
export interface DryRunAnswer {
  /** The exit status the run reports. @default 0 */
  status?: number;
  /** The output the run reports as the child's stdout. @default '' */
  stdout?: string;
  /** The output the run reports as the child's stderr. @default '' */
  stderr?: string;
}

/** Options of setDryRun(). */
export interface DryRunOptions extends ToStringOptions {
  /** Each would-be command line is pushed here in toString() form. */
  log?: string[];
  /** Answers for each would-be run. */
  callback?: (call: DryRunCall) => DryRunAnswer | void;
}

/** Options of pidWait(). */
export interface PidWaitOptions {
  /** Resolve with a non-zero exit status instead of throwing for it. @default false */
  status?: boolean;
  /** With status: resolve with the raw wait status, also for a death by signal. @default false */
  raw?: boolean;
}

/**
 * The option names each method accepts. Options are checked at run time too: an unknown name
 * (a typo such as `{ timout: 100 }`, which would silently mean "no timeout") is refused with a
 * TypeError before any fork. Adding an option: its field in the interface above, and its name
 * in the one list here; tsc fails (OptionNamesMatch below, beside each interface) while the two
 * disagree.
 */
export const OPTION_NAMES = Object.freeze({
  wait: ['status', 'timeout', 'signal', 'killGrace', 'encoding'],
  run: ['status', 'timeout', 'signal', 'killGrace', 'encoding', 'maxBuffer', 'input'],
  runAsync: ['autoReap', 'maxBuffer', 'stdin', 'stdout', 'stderr'],
  runRegex: ['status', 'timeout', 'signal', 'killGrace', 'encoding', 'maxBuffer', 'input', 'prefix', 'groups', 'parse'],
  runNul: ['status', 'timeout', 'signal', 'killGrace', 'encoding', 'maxBuffer', 'input'],
  lines: ['stream'],
  abort: ['grace'],
  pidWait: ['status', 'raw'],
  toString: ['linebreaks', 'stripPath'],
  setDryRun: ['log', 'callback', 'linebreaks', 'stripPath'],
  readPidFile: ['lock', 'exe'],
  killByPidFile: ['wait', 'force', 'remove', 'exe'],
} as const);

/**
 * true when the names list `L` holds exactly the keys of options type `T`. Each options type is
 * checked where it is declared (here, types-streams.ts, pidfile.ts), so that this file needs
 * none of theirs.
 */
export type OptionNamesMatch<T, L extends readonly string[]> = [Exclude<keyof T, L[number]>, Exclude<L[number], keyof T>] extends [never, never] ? true : false;
// A compile-time check only: each entry fails to type-check when its list and interface differ.
const optionNamesChecked: [
  OptionNamesMatch<WaitOptions, typeof OPTION_NAMES.wait>,
  OptionNamesMatch<RunOptions, typeof OPTION_NAMES.run>,
  OptionNamesMatch<RunAsyncOptions, typeof OPTION_NAMES.runAsync>,
  OptionNamesMatch<AbortOptions, typeof OPTION_NAMES.abort>,
  OptionNamesMatch<PidWaitOptions, typeof OPTION_NAMES.pidWait>,
  OptionNamesMatch<ToStringOptions, typeof OPTION_NAMES.toString>,
  OptionNamesMatch<DryRunOptions, typeof OPTION_NAMES.setDryRun>,
] = [true, true, true, true, true, true, true];
void optionNamesChecked;

/** What CommandError.code holds: the errno name of a failed stage, or one of vircommand's own codes. */
export type CommandErrorCode =
  | ErrnoCode
  /** the run was ended by its AbortSignal, or by abort()/free() */
  | 'ABORT_ERR'
  /** captured output passed maxBuffer */
  | 'ERR_CHILD_MAX_BUFFER'
  /** a misuse of the command as a whole (stage 'validate') */
  | 'ERR_COMMAND_USAGE'
  /** captured output too large for a string with the 'utf8' encoding (stdout/stderr are Buffers then) */
  | 'ERR_STRING_TOO_LONG'
  /** a pre-exec hook library could not be loaded (dlopen's or dlsym's text in the message) */
  | 'ERR_DLOPEN_FAILED'
  /** setUser(): the system knows no such user (stage 'setuid', before any fork) */
  | 'ERR_UNKNOWN_USER';

/**
 * NUMA memory policies of setMemoryPolicy() (set_mempolicy(2) MPOL_*): 'default', 'preferred'
 * (one node first), 'bind' (only these nodes), 'interleave', 'local', 'preferred-many' (5.15),
 * 'weighted-interleave' (6.9).
 */
export type MemoryPolicyMode = 'default' | 'preferred' | 'bind' | 'interleave' | 'local' | 'preferred-many' | 'weighted-interleave';
