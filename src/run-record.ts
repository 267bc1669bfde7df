/**
 * The types a run carries from spawn to its end: the RunContext of a run and the RunRecord of
 * a started child. Types only, importing nothing above them, so that plan.ts (whose
 * CommandState holds the running record) and every stage of src/run/ can use them without an
 * import circle. It sits beside src/run/, not in it: the command state (src/command/, plan.ts)
 * holds a RunRecord, and nothing the builder reaches may import src/run/.
 */
import type { Readable, Writable } from 'node:stream';
import type { ChildHandle, NativePlan, NativeResult } from './native';
import type { BufferRef } from './types';

/** The pipe streams of a run (runAsync({ stdin, stdout, stderr: 'pipe' })); null where not asked for. */
export interface RunStreams {
  stdin: Writable | null;
  stdout: Readable | null;
  stderr: Readable | null;
}

/** What one run needs to judge its end. */
export interface RunContext {
  command: string;
  plan: NativePlan;
  rawStatus: boolean;
  merged: boolean;
  outRef: BufferRef | null;
  errRef: BufferRef | null;
  /** The PATH searched in vain for the program, else null. */
  notFoundIn: string | null;
}

/** One started child, from spawn until it is judged (or released). */
export interface RunRecord {
  pid: number;
  handle: ChildHandle | null;
  autoReap: boolean;
  ctx: RunContext;
  /** Native's result; null when free() released the child before it ended. */
  done: Promise<NativeResult | null>;
  result: NativeResult | null;
  finished: boolean;
  finish(result: NativeResult | null): void;
  endedBy: { why: 'timeout'; ms: number } | { why: 'abort'; reason: unknown } | null;
  released: boolean;
  waited: boolean;
  handshakeWaited: boolean;
  handshakeNotified: boolean;
  /** free(), or a daemon's failed run, gave up the handshake: the child cannot be let go on. */
  handshakeClosed: boolean;
  /** run() only: the spawn waits for a later event-loop turn (run/pacing.ts). */
  queued: boolean;
  /** The run's pipe streams (run/streams.ts), or null. */
  streams: RunStreams | null;
  /** A stream given as run({ input }) failed while the child ran (run/input.ts): the run rejects with it. */
  inputFailed: { error: unknown } | null;
}
