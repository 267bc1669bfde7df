/**
 * Running a command, the entry points: runSync(), run(), runAsync()/wait(), runConsuming(),
 * abort() and free(). Each reads top to bottom through the stages of src/run/:
 *   validate (the options and the command, here; run({ input }): input.ts) -> plan
 *   (prepare.ts) -> spawn (spawn.ts, pacing.ts) -> session (session.ts: timers and the wait;
 *   streams.ts and lines.ts: the pipes) -> result or error (settle.ts, the status policy).
 * What a run carries is typed in ../run-record.ts, below everyone. The handshake and exec() are in
 * handshake.ts and exec.ts; this module re-exports them for methods.ts.
 */
import { DEFAULT_KILL_GRACE_MS, FREE_GRACE_MS } from '../constants';
import { dryRunActive, dryRunResult } from '../dry-run';
import { CommandError, usageError } from '../errors';
import type { NativeResult } from '../native';
import { rememberReaped, rememberReleased } from '../pid';
import { checkRunnable, type CommandState, commandLine, releasePassedFds } from '../plan';
import { type AbortOptions, OPTION_NAMES, type RunAsyncOptions } from '../types';
import { arg, checkBoolean, checkInteger, checkOptions, checkRunOptions, checkTimerMs } from '../validate';
import { consume, type ParseJob, stopConsuming } from './consume';
import { checkNoPendingHandshake, closeEndedHandshake, dropHandshake } from './handshake';
import { applyInput, inputConflict, parseInput, type RunInput } from './input';
import { prepare, resolveProgram } from './prepare';
import { type AnyResult, waitFor } from './session';
import { settle } from './settle';
import { runNativeSync, start } from './spawn';
import { destroyStreams, outputsRead, parsePipeOptions, type PipeRequest, pipeConflict, streamsOf, wantsPipes } from './streams';

export type { RunRecord } from '../run-record';
export { execInPlace } from './exec';
export { handshakeNotify, handshakeWait } from './handshake';

/** runSync(): blocks until the child has ended and its pipes are drained. */
export function runSync(state: CommandState, options: unknown): AnyResult {
  const o = checkRunOptions('Command.runSync', options, DEFAULT_KILL_GRACE_MS, OPTION_NAMES.run);
  checkRunnable(state, 'sync');
  if (o.signal?.aborted) throw abortedBeforeStart(state, o.signal);
  const input = checkedInput(state, 'Command.runSync', options, true);
  const ctx = prepare(state, 'sync', { timeoutMs: o.timeout, killGraceMs: o.killGrace, maxBuffer: o.maxBuffer });
  applyInput(ctx.plan, input);
  let r: NativeResult;
  try {
    if (dryRunActive()) r = dryRunResult(ctx.plan);
    else r = resolveProgram(ctx) ?? runNativeSync(ctx.plan);
  } finally {
    releasePassedFds(state);
  }
  return settle({ ctx, endedBy: null }, r, o);
}

// run({ input }) checked (run/input.ts), and against the command's own stdin.
function checkedInput(state: CommandState, method: string, options: unknown, sync: boolean): RunInput | null {
  const input = parseInput(method, (options as { input?: unknown } | undefined)?.input, sync);
  const conflict = inputConflict(state, input);
  if (conflict !== null) throw usageError(conflict, commandLine(state));
  return input;
}

function abortedBeforeStart(state: CommandState, signal: AbortSignal): CommandError {
  const cmd = commandLine(state);
  return new CommandError(`Child process (${cmd}) was aborted before it started`, { command: cmd, code: 'ABORT_ERR', cause: signal.reason });
}

/** run(): spawn, then wait without blocking the event loop. */
export async function run(state: CommandState, options: unknown): Promise<AnyResult> {
  const o = checkRunOptions('Command.run', options, DEFAULT_KILL_GRACE_MS, OPTION_NAMES.run);
  checkRunnable(state, 'async');
  checkNoPendingHandshake(state);
  const input = checkedInput(state, 'Command.run', options, false);
  if (o.signal?.aborted) throw abortedBeforeStart(state, o.signal);
  // Paced only when no fd of the caller's is involved: once run() returns, the caller may
  // close or reuse an fd it passed or gave as stdio, and may read an FdRef's pipe end, so the
  // child must exist by then. Nor with a handshake: handshakeWait() and cmd.pid follow at once.
  // Nor with a stream input: it is piped in from the spawn on.
  const callerFds = state.passFds.size > 0 || [state.stdin, state.stdout, state.stderr].some((c) => c?.kind === 'fd' || c?.kind === 'ref');
  const paced = !callerFds && !state.handshake && input?.kind !== 'stream';
  const rec = start(state, 'async', true, { timeoutMs: 0, killGraceMs: o.killGrace, maxBuffer: o.maxBuffer }, paced, null, input);
  return waitFor(state, rec, o);
}

/**
 * A run() whose stdout is a pipe parsed as it streams (runRegex(), runNul()): the checks and
 * the spawn are here; the parse, its deadline and how the call ends are run/consume.ts's.
 */
export async function runConsuming(state: CommandState, method: string, options: Record<string, unknown>, job: ParseJob): Promise<AnyResult> {
  const o = checkRunOptions(method, options, DEFAULT_KILL_GRACE_MS, OPTION_NAMES.run);
  checkRunnable(state, 'async');
  const pipes: PipeRequest = { stdin: false, stdout: true, stderr: null };
  const conflict = pipeConflict(state, pipes);
  if (conflict !== null) throw usageError(conflict, commandLine(state));
  const input = checkedInput(state, method, options, false);
  if (o.signal?.aborted) throw abortedBeforeStart(state, o.signal);
  const control = { timeoutMs: 0, killGraceMs: Math.ceil(o.killGrace), maxBuffer: o.maxBuffer };
  const dry = dryRunActive();
  const rec = dry ? start(state, 'async', true, control, false, null, input) : start(state, 'async', true, control, false, pipes, input);
  // Under a dry run stdout is the callback's answer, captured: it is parsed as if it had
  // streamed and, as in a real run, not returned.
  const dryRunStdout = dry ? (rec.result?.stdout ?? null) : null;
  if (dry && rec.result) rec.result.stdout = null;
  const wait = (): Promise<AnyResult> => waitFor(state, rec, { ...o, timeout: 0, signal: undefined });
  return consume({ state, rec, o, stdout: dry ? null : streamsOf(state).stdout, dryRunStdout, wait }, job);
}

/** runAsync(): spawn and return the pid; a failure to start throws at once. */
export function runAsync(state: CommandState, options: unknown): number {
  const o = checkOptions<RunAsyncOptions>('Command.runAsync', options, OPTION_NAMES.runAsync);
  const pipes = parsePipeOptions('Command.runAsync', o);
  const autoReap = checkBoolean('Command.runAsync', arg('options.autoReap'), o.autoReap, true);
  const maxBuffer = o.maxBuffer === undefined ? 0 : checkInteger('Command.runAsync', arg('options.maxBuffer'), o.maxBuffer, 0, Number.MAX_SAFE_INTEGER);
  checkRunnable(state, 'background');
  const conflict = wantsPipes(pipes) ? pipeConflict(state, pipes) : null;
  if (conflict !== null) throw usageError(conflict, commandLine(state));
  const rec = start(state, 'background', autoReap, { timeoutMs: 0, killGraceMs: DEFAULT_KILL_GRACE_MS, maxBuffer }, false, pipes);
  // Without { status }, settle() always throws for a failed start.
  if (rec.result?.failure) settle(rec, rec.result, checkRunOptions('Command.runAsync', {}, 0, OPTION_NAMES.wait));
  return rec.pid;
}

/** wait(): the end of the running child, judged with these options. */
export async function wait(state: CommandState, options: unknown): Promise<AnyResult> {
  const o = checkRunOptions('Command.wait', options, DEFAULT_KILL_GRACE_MS, OPTION_NAMES.wait);
  const rec = state.running;
  if (!rec) throw usageError('command is not running', commandLine(state));
  return waitFor(state, rec, o);
}

/** abort(): terminate and reap the running child; rejects only for invalid options. */
export async function abort(state: CommandState, options: AbortOptions | undefined): Promise<void> {
  const o = checkOptions<AbortOptions>('Command.abort', options, OPTION_NAMES.abort);
  const grace = checkTimerMs('Command.abort', arg('options.grace'), o.grace, DEFAULT_KILL_GRACE_MS);
  stopConsuming(state); // a runRegex()/runNul() still parsing ends too
  const rec = state.running;
  if (!rec) {
    destroyStreams(state);
    return;
  }
  try {
    if (!rec.finished) {
      rec.endedBy ??= { why: 'abort', reason: undefined };
      rec.handle?.terminate(grace);
      await rec.done;
    }
    // As after child_process's kill(): a loop reading stdout gets the rest and its end (EOF),
    // not a stream destroyed under it; a reader that takes nothing does not hold abort() up.
    await outputsRead(rec.streams, 'abort');
  } catch {
    // never throws
  }
  destroyStreams(state);
  if (state.running === rec) state.running = null;
  closeEndedHandshake(rec);
}

/**
 * Symbol.asyncDispose: free(), but a running auto-reaped child is ended without blocking the
 * thread: SIGTERM, SIGKILL after DEFAULT_KILL_GRACE_MS, and the reap awaited on the event loop.
 */
export async function disposeAsync(state: CommandState): Promise<void> {
  destroyStreams(state);
  const rec = state.running;
  if (rec && !rec.queued && !rec.finished && rec.handle && rec.autoReap) {
    rec.endedBy ??= { why: 'abort', reason: undefined };
    rec.handle.terminate(DEFAULT_KILL_GRACE_MS);
    await rec.done;
  }
  free(state);
}

/** free(): close CLOSE_PARENT fds; kill and reap an auto-reaped child, or release it. */
export function free(state: CommandState): void {
  releasePassedFds(state);
  stopConsuming(state); // a runRegex()/runNul() still parsing ends too
  destroyStreams(state);
  dropHandshake(state);
  const rec = state.running;
  state.running = null;
  state.freed = true;
  if (!rec) return;
  if (rec.queued) {
    rec.endedBy ??= { why: 'abort', reason: undefined }; // its spawn will not happen
  } else if (!rec.finished && rec.handle) {
    if (rec.autoReap) {
      rec.endedBy ??= { why: 'abort', reason: undefined };
      // docs/internals.md: abortSync returns the result; a build that returns nothing
      // reports it through onDone instead, which finishes the record just the same.
      const r: NativeResult | undefined = rec.handle.abortSync(FREE_GRACE_MS);
      if (r && typeof r === 'object') rec.finish(r);
    } else {
      rec.released = true;
      rememberReleased(rec.pid);
      try {
        rec.handle.release();
      } finally {
        rec.finish(null);
      }
    }
  } else if (rec.result?.status != null && !rec.autoReap && !rec.waited) {
    rememberReaped(rec.pid, rec.result.status);
  }
  closeEndedHandshake(rec);
}
