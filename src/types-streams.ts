/**
 * Public types of the stream, line, regex and NUL-field features (src/run/streams.ts,
 * src/run/regex.ts). Kept apart from types.ts so each feature's types sit together; they build
 * on types.ts's (RunOptions, RunAsyncOptions, StdioPipes), which never import from here.
 */
import type { Readable, Writable } from 'node:stream';
import type { OPTION_NAMES, OptionNamesMatch, OutputEncoding, RunAsyncOptions, RunOptions, StdioPipes } from './types';

/**
 * What spawn() returns: the pid, and the child's pipes typed by the options that asked for
 * them: `stdin` is a Writable when `{ stdin: 'pipe' }` was given, else null (the same objects
 * as `cmd.stdin`, `cmd.stdout`, `cmd.stderr`). `{ stderr: 'stdout' }` merges stderr into
 * stdout's pipe: `stderr` is null then.
 */
// eslint-disable-next-line @typescript-eslint/no-empty-object-type -- `{}`: no options given, so no pipes
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
export type PipeOf<O, K extends keyof StdioPipes, T> = K extends keyof O ? ([O[K]] extends ['pipe'] ? T : 'pipe' extends O[K] ? T | null : null) : null;

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

// A compile-time check only, as in types.ts: each entry fails to type-check when the option
// names in OPTION_NAMES and the interface above differ.
const optionNamesChecked: [
  OptionNamesMatch<RunRegexOptions, typeof OPTION_NAMES.runRegex>,
  OptionNamesMatch<RunNulOptions, typeof OPTION_NAMES.runNul>,
  OptionNamesMatch<LinesOptions, typeof OPTION_NAMES.lines>,
] = [true, true, true];
void optionNamesChecked;
