/**
 * run({ input }), as execa's `input`: the child's stdin for one run, given with the run.
 * - a string or bytes: written by native's I/O session, as setInputBuffer() (runSync() too);
 * - a Readable (run(), runRegex(), runNul()): piped into a stdin pipe on the event loop, with
 *   backpressure; so `await cmd.run({ input: readable })` feeds a stream and captures the output
 *   in one call. The child reading only part of it (`head`) is not an error: the rest is not
 *   read. The Readable failing is: the child is terminated (SIGTERM, SIGKILL after killGrace),
 *   reaped, and the run rejects with the Readable's error.
 */
import * as net from 'node:net';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { NativePlan } from '../native';
import type { CommandState } from '../plan';
import { arg, typeError } from '../validate';
import type { RunRecord } from '../run-record';

/** The input of one run. */
export type RunInput = { kind: 'bytes'; data: Buffer } | { kind: 'stream'; stream: Readable };

function isReadable(v: unknown): v is Readable {
  return (
    typeof v === 'object' &&
    v !== null &&
    typeof (v as Readable).pipe === 'function' &&
    typeof (v as Readable).on === 'function' &&
    typeof (v as Readable).read === 'function'
  );
}

/** `options.input` checked: null when not given. runSync() cannot read a stream. */
export function parseInput(method: string, value: unknown, sync: boolean): RunInput | null {
  if (value === undefined) return null;
  if (typeof value === 'string') return { kind: 'bytes', data: Buffer.from(value, 'utf8') };
  if (value instanceof Uint8Array) return { kind: 'bytes', data: Buffer.from(value) }; // a copy: the caller may reuse theirs
  if (isReadable(value)) {
    if (sync) throw typeError(method, arg('options.input'), 'a string or a Uint8Array (a blocking run cannot read a stream)', value);
    return { kind: 'stream', stream: value };
  }
  throw typeError(method, arg('options.input'), 'a string, a Uint8Array or a Readable', value);
}

/** The misuse of giving an input to a command that already has one, or null. */
export function inputConflict(state: CommandState, input: RunInput | null): string | null {
  if (input === null) return null;
  if (state.stdin) return 'cannot specify input twice (options.input and setInputBuffer/setInputFD)';
  if (state.daemonize) return 'cannot mix string I/O with daemon';
  return null;
}

/** Makes the plan's stdin the input: a buffer, or a pipe for a stream. */
export function applyInput(plan: NativePlan, input: RunInput | null): void {
  if (input === null) return;
  plan.stdin = input.kind === 'bytes' ? { type: 'buffer', data: input.data } : { type: 'pipe' };
}

/** Pipes a stream input into the child's stdin pipe (our end: `fd`) until the child ends. */
export function feedInput(rec: RunRecord, fd: number, src: Readable): void {
  const sink = new net.Socket({ fd, readable: false, writable: true });
  sink.on('error', () => {}); // judged below, through pipeline()
  pipeline(src, sink).catch((err: unknown) => {
    // The child ended first (the stdin socket is destroyed then), or stopped reading: not a failure.
    if (rec.finished) return;
    const code = (err as NodeJS.ErrnoException | null)?.code;
    if (code === 'EPIPE' || code === 'ECONNRESET') return;
    rec.inputFailed ??= { error: err };
    rec.handle?.terminate(rec.ctx.plan.killGraceMs);
  });
  void rec.done.then(() => sink.destroy());
}
