/**
 * Running a command: runSync(), run(), runAsync()/wait(), abort() and free(). The handshake
 * and exec() are in run/handshake.ts and run/exec.ts, the status policy (libvirt's
 * virCommandRun rule: a non-zero exit or a signal death fails the run unless the caller asked
 * for the status) that turns native's result into a RunResult or a CommandError in
 * run/settle.ts, and what a run carries in run/context.ts. This module re-exports the
 * handshake, exec() and the RunRecord type, so command.ts and plan.ts import them from here
 * as before.
 */
import { DEFAULT_KILL_GRACE_MS, FREE_GRACE_MS } from './constants';
import { dryRunActive, dryRunResult } from './dry-run';
import { CommandError, usageError } from './errors';
import { emptyResult, loadNative, type NativePlan, type NativeResult, spawnFailure } from './native';
import { rememberReaped, rememberReleased } from './pid';
import { checkRunnable, type CommandState, commandLine, type PlanControl, releasePassedFds, type RunMode, storePipeFd } from './plan';
import { consume, type ParseJob, stopConsuming } from './run/consume';
import { prepare, resolveProgram, type RunRecord } from './run/context';
import { checkNoPendingHandshake, dropHandshake, runEnded } from './run/handshake';
import { setLongTimeout } from './run/long-timer';
import { spawnPaced } from './run/pacing';
import { settle } from './run/settle';
import { applyPipes, destroyStreams, openStreams, parsePipeOptions, type PipeRequest, pipeConflict, streamsOf, wantsPipes } from './run/streams';
import { type AbortOptions, OPTION_NAMES, type RunAsyncOptions, type RunResult } from './types';
import { arg, checkBoolean, checkInteger, checkOptions, checkRunOptions, checkTimerMs, type ParsedRunOptions } from './validate';

/** A result of either encoding; Command narrows it by the options' encoding. */
type AnyResult = RunResult<string | Buffer>;

export type { RunRecord } from './run/context';
export { execInPlace } from './run/exec';
export { handshakeNotify, handshakeWait } from './run/handshake';

/** runSync(): blocks until the child has ended and its pipes are drained. */
export function runSync(state: CommandState, options: unknown): AnyResult {
  const o = checkRunOptions('Command.runSync', options, DEFAULT_KILL_GRACE_MS, OPTION_NAMES.run);
  checkRunnable(state, 'sync');
  if (o.signal?.aborted) throw abortedBeforeStart(state, o.signal);
  const ctx = prepare(state, 'sync', { timeoutMs: o.timeout, killGraceMs: o.killGrace, maxBuffer: o.maxBuffer });
  let r: NativeResult;
  try {
    if (dryRunActive()) r = dryRunResult(ctx.plan);
    else r = resolveProgram(ctx) ?? runNativeSync(ctx.plan);
  } finally {
    releasePassedFds(state);
  }
  return settle({ ctx, endedBy: null }, r, o);
}

function runNativeSync(plan: NativePlan): NativeResult {
  const native = loadNative();
  try {
    return native.runSync(plan);
  } catch (err) {
    return spawnFailure(err);
  }
}

function abortedBeforeStart(state: CommandState, signal: AbortSignal): CommandError {
  const cmd = commandLine(state);
  return new CommandError(`Child process (${cmd}) was aborted before it started`, { command: cmd, code: 'ABORT_ERR', cause: signal.reason });
}

// Starts the child without waiting; failures to start are in the record's result. `paced`
// (run() only): the spawn may wait for a later event-loop turn (run/pacing.ts); the record is
// the command's running one meanwhile, and a timeout, abort or free() before the spawn ends
// it without a child.
function start(state: CommandState, mode: RunMode, autoReap: boolean, control: PlanControl, paced = false, pipes: PipeRequest | null = null): RunRecord {
  const ctx = prepare(state, mode, control);
  if (wantsPipes(pipes)) applyPipes(ctx.plan, pipes);
  destroyStreams(state); // the last run's streams, if the caller left them open
  let resolveDone!: (r: NativeResult | null) => void;
  const rec: RunRecord = {
    pid: 0, handle: null, autoReap, ctx, result: null, finished: false, endedBy: null,
    released: false, waited: false, handshakeWaited: false, handshakeNotified: false, handshakeClosed: false, queued: false,
    done: new Promise((resolve) => (resolveDone = resolve)),
    finish(result) {
      if (rec.finished) return;
      rec.finished = true;
      rec.result = result;
      resolveDone(result);
    },
  };
  let spawnLater = false;
  try {
    if (dryRunActive()) rec.finish(dryRunResult(ctx.plan));
    else {
      const missing = resolveProgram(ctx);
      if (missing) rec.finish(missing);
      else if (!paced) spawnInto(state, rec, pipes);
      else spawnLater = !spawnPaced(() => spawnQueued(state, rec));
    }
  } finally {
    if (!spawnLater) releasePassedFds(state);
  }
  rec.queued = spawnLater;
  if (!rec.result?.failure) state.running = rec;
  return rec;
}

// The spawn of a run() that waited for its turn.
function spawnQueued(state: CommandState, rec: RunRecord): void {
  if (!rec.queued) {
    spawnInto(state, rec); // spawnPaced ran it at once
    return;
  }
  rec.queued = false;
  try {
    // Timed out, aborted or freed while queued: end it without a child.
    if (rec.endedBy) rec.finish(emptyResult(0, null));
    else spawnInto(state, rec);
  } finally {
    releasePassedFds(state);
  }
}

function spawnInto(state: CommandState, rec: RunRecord, pipes: PipeRequest | null = null): void {
  const native = loadNative();
  const { plan } = rec.ctx;
  try {
    rec.handle = native.spawn(plan, (result) => {
      if (rec.released && result.status !== null) rememberReaped(result.pid, result.status);
      rec.finish(result);
    });
  } catch (err) {
    rec.finish(spawnFailure(err));
    return;
  }
  rec.pid = rec.handle.pid;
  const out = state.stdout?.kind === 'ref' ? state.stdout.ref : null;
  const err = state.stderr?.kind === 'ref' ? state.stderr.ref : null;
  if (out && plan.stdout.type === 'pipe') storePipeFd(out, rec.handle.stdoutFd);
  if (err && plan.stderr.type === 'pipe') storePipeFd(err, rec.handle.stderrFd);
  if (wantsPipes(pipes)) openStreams(state, rec.handle, pipes);
}

// Applies a wait's timeout and AbortSignal to a running child; returns the cleanup.
function watch(rec: RunRecord, o: ParsedRunOptions): () => void {
  if (rec.finished) return () => {};
  const stop = (ended: NonNullable<RunRecord['endedBy']>): void => {
    if (rec.finished || rec.endedBy) return;
    rec.endedBy = ended;
    rec.handle?.terminate(o.killGrace);
  };
  const timer = o.timeout > 0 ? setLongTimeout(() => stop({ why: 'timeout', ms: o.timeout }), o.timeout) : undefined;
  const onAbort = (): void => stop({ why: 'abort', reason: o.signal?.reason });
  if (o.signal?.aborted) onAbort();
  else o.signal?.addEventListener('abort', onAbort, { once: true });
  return () => {
    timer?.clear();
    o.signal?.removeEventListener('abort', onAbort);
  };
}

async function waitFor(state: CommandState, rec: RunRecord, o: ParsedRunOptions): Promise<AnyResult> {
  const cleanup = watch(rec, o);
  let r: NativeResult | null;
  try {
    r = await rec.done;
  } finally {
    cleanup();
  }
  if (state.running === rec) state.running = null;
  if (r === null) throw usageError(`the child (pid ${rec.pid}) was released by free(); use pidWait()`, rec.ctx.command);
  rec.waited = true;
  let result: AnyResult;
  try {
    result = settle(rec, r, o);
  } catch (err) {
    runEnded(state, rec, false);
    throw err;
  }
  runEnded(state, rec, r.failure === null && r.status === 0);
  return result;
}

/** run(): spawn, then wait without blocking the event loop. */
export async function run(state: CommandState, options: unknown): Promise<AnyResult> {
  const o = checkRunOptions('Command.run', options, DEFAULT_KILL_GRACE_MS, OPTION_NAMES.run);
  checkRunnable(state, 'async');
  checkNoPendingHandshake(state);
  if (o.signal?.aborted) throw abortedBeforeStart(state, o.signal);
  // Paced only when no fd of the caller's is involved: once run() returns, the caller may
  // close or reuse an fd it passed or gave as stdio, and may read an FdRef's pipe end, so the
  // child must exist by then. Nor with a handshake: handshakeWait() and cmd.pid follow at once.
  const callerFds = state.passFds.size > 0 || [state.stdin, state.stdout, state.stderr].some((c) => c?.kind === 'fd' || c?.kind === 'ref');
  const rec = start(state, 'async', true, { timeoutMs: 0, killGraceMs: o.killGrace, maxBuffer: o.maxBuffer }, !callerFds && !state.handshake);
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
  if (o.signal?.aborted) throw abortedBeforeStart(state, o.signal);
  const control = { timeoutMs: 0, killGraceMs: Math.ceil(o.killGrace), maxBuffer: o.maxBuffer };
  const dry = dryRunActive();
  const rec = dry ? start(state, 'async', true, control) : start(state, 'async', true, control, false, pipes);
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
  destroyStreams(state);
  if (!rec) return;
  try {
    if (!rec.finished) {
      rec.endedBy ??= { why: 'abort', reason: undefined };
      rec.handle?.terminate(grace);
      await rec.done;
    }
  } catch {
    // never throws
  }
  if (state.running === rec) state.running = null;
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
}
