/**
 * Public types of the stream, line, regex and NUL-field features (src/run/streams.ts,
 * src/run/regex.ts). Kept apart from types.ts so each feature's types sit together.
 */
import type { Readable, Writable } from 'node:stream';
import type { OutputEncoding, RunAsyncOptions, RunOptions } from './types';

/** Pipe streams a run may ask for; each becomes `cmd.stdin`, `cmd.stdout`, `cmd.stderr`. */
export interface StdioPipes {
  /** A pipe into the child's stdin: `cmd.stdin` is a Writable (end() it to give EOF). */
  stdin?: 'pipe';
  /** A pipe from the child's stdout: `cmd.stdout` is a Readable. */
  stdout?: 'pipe';
  /** A pipe from the child's stderr (`cmd.stderr`), or 'stdout': into stdout's pipe. */
  stderr?: 'pipe' | 'stdout';
}

/**
 * What spawn() returns: the pid, and the child's pipes typed by the options that asked for
 * them: `stdin` is a Writable when `{ stdin: 'pipe' }` was given, else null (the same objects
 * as `cmd.stdin`, `cmd.stdout`, `cmd.stderr`). `{ stderr: 'stdout' }` merges stderr into
 * stdout's pipe: `stderr` is null then.
 */
export interface Spawned<O extends RunAsyncOptions = {}> {
  /** The child's pid, as runAsync() returns it. */
  pid: number;
  /** `cmd.stdin`: a Writable when `{ stdin: 'pipe' }` was asked for. */
  stdin: PipeOf<O, 'stdin', Writable>;
  /** `cmd.stdout`: a Readable when `{ stdout: 'pipe' }` was asked for. */
  stdout: PipeOf<O, 'stdout', Readable>;
  /** `cmd.stderr`: a Readable when `{ stderr: 'pipe' }` was asked for (null for 'stdout'). */
  stderr: PipeOf<O, 'stderr', Readable>;
}

/**
 * The type of one pipe of spawn(): `T` when the options surely ask for it (`'pipe'`), null when
 * they surely do not (absent, or stderr: 'stdout'), `T | null` when only known at run time
 * (options typed as RunAsyncOptions).
 */
export type PipeOf<O, K extends keyof StdioPipes, T> = K extends keyof O
  ? [O[K]] extends ['pipe'] ? T : 'pipe' extends O[K] ? T | null : null
  : null;

/** Options of lines(). */
export interface LinesOptions {
  /** Which stream's lines: 'all' interleaves stdout's and stderr's lines as they come. @default 'stdout' */
  stream?: 'stdout' | 'stderr' | 'all';
}

/** Options of runRegex(): run() options plus libvirt's prefix and per-regex group counts. */
export interface RunRegexOptions<E extends OutputEncoding = OutputEncoding> extends RunOptions<E> {
  /** Stripped from the start of each line that begins with it (libvirt's prefix). */
  prefix?: string;
  /** Capture groups taken from each regex (libvirt's nvars); default: all of that regex's groups. */
  groups?: number[];
  /**
   * When the callback runs. 'streaming': on each line as stdout streams in (memory stays one
   * chunk; a run that fails later has already called it). 'after-exit': libvirt's order: stdout
   * is read whole (held in memory), and parsed only once the run has succeeded (with
   * `{ status: true }`, whatever the exit status), so a failing run never calls it.
   * @default 'streaming'
   */
  parse?: 'streaming' | 'after-exit';
}

/** Options of runNul(): run() options; `encoding: 'buffer'` also makes the fields Buffers. */
export interface RunNulOptions<E extends OutputEncoding = OutputEncoding> extends RunOptions<E> {}
