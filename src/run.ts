/**
 * Running a command: runSync(), run(), runAsync()/wait(), abort(), free(), the handshake
 * and exec(), plus the status policy (libvirt-facts §4) that turns native's result into
 * a RunResult or a CommandError.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { DEFAULT_KILL_GRACE_MS, FREE_GRACE_MS } from './constants';
import { dryRunActive, dryRunResult } from './dry-run';
import { CommandError, type CommandErrorDetails, type DecodedStatus, decodeStatus, failureError, failureExitStatus, statusError, usageError } from './errors';
import { type ChildHandle, emptyResult, loadNative, type NativeFailure, type NativePlan, type NativeResult, type NativeSpawnError, spawnFailure, type StartFailure } from './native';
import { rememberReaped } from './pid';
import {
  buildPlan, checkRunnable, type CommandState, commandLine, DEFAULT_PATH, type PlanControl, releasePassedFds,
  resolveCandidates, type RunMode, stderrSharesStdout, storePipeFd,
} from './plan';
import { formatCommand } from './to-string';
import type { AbortOptions, BufferRef, RunAsyncOptions, RunResult } from './types';
import { arg, checkBoolean, checkInteger, checkOptions, checkRunOptions, type ParsedRunOptions } from './validate';

/** What one run needs to judge its end. */
interface RunContext {
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
}

function prepare(state: CommandState, mode: RunMode, control: PlanControl): RunContext {
  const plan = buildPlan(state, mode, control);
  const out = state.stdout?.kind === 'buffer' ? state.stdout.ref : null;
  const err = state.stderr?.kind === 'buffer' ? state.stderr.ref : null;
  return {
    command: formatCommand(plan.argv, plan.env), plan, rawStatus: state.rawStatus,
    merged: stderrSharesStdout(state), outRef: out, errRef: err, notFoundIn: null,
  };
}

// Fills plan.candidates from the parent's PATH; on a miss, the result of the failed run.
function resolveProgram(ctx: RunContext): NativeResult | null {
  ctx.plan.candidates = resolveCandidates(ctx.plan.argv[0]);
  if (ctx.plan.candidates.length > 0) return null;
  ctx.notFoundIn = process.env.PATH ?? DEFAULT_PATH;
  return emptyResult(0, { stage: 'exec', errno: os.constants.errno.ENOENT, value: 0 });
}

function decode(buf: Buffer | null, o: ParsedRunOptions): string | Buffer | undefined {
  if (buf === null) return undefined;
  return o.encoding === 'buffer' ? buf : buf.toString('utf8');
}

/** The status policy: a RunResult, or the CommandError the run ends with. */
function settle(rec: Pick<RunRecord, 'ctx' | 'endedBy'>, r: NativeResult, o: ParsedRunOptions): RunResult {
  const { ctx } = rec;
  const stdout = decode(r.stdout, o);
  const stderr = ctx.merged ? undefined : decode(r.stderr, o);
  const empty = o.encoding === 'buffer' ? Buffer.alloc(0) : '';
  if (ctx.outRef) ctx.outRef.value = stdout ?? empty;
  if (ctx.errRef && !ctx.merged) ctx.errRef.value = stderr ?? empty;
  const d = r.status === null ? null : decodeStatus(r.status);
  const details: CommandErrorDetails = {
    command: ctx.command, pid: r.pid || null, stdout, stderr,
    exitStatus: d?.exitStatus, signal: d?.signal, signalNumber: d?.signalNumber,
  };
  const cmd = ctx.command;
  const ended = rec.endedBy;
  if (ended?.why === 'abort') throw new CommandError(`Child process (${cmd}) was aborted`, { ...details, code: 'ABORT_ERR', cause: ended.reason });
  if (ended?.why === 'timeout' || r.timedOut) {
    const after = ended?.why === 'timeout' ? ended.ms : ctx.plan.timeoutMs;
    throw new CommandError(`Child process (${cmd}) timed out after ${after} ms`, { ...details, code: 'ETIMEDOUT', timedOut: true });
  }
  if (r.maxBufferExceeded) {
    throw new CommandError(`Child process (${cmd}) ${r.maxBufferExceeded} maxBuffer length exceeded`, { ...details, code: 'ERR_CHILD_MAX_BUFFER' });
  }
  const make = (status: number, e: DecodedStatus): RunResult => ({
    pid: r.pid, status, exitStatus: e.exitStatus, signal: e.signal, signalNumber: e.signalNumber, coreDumped: e.coreDumped,
    stdout, stderr, timedOut: false, outputIncomplete: r.outputIncomplete, command: cmd,
  });
  if (r.failure) {
    const cause = (r as StartFailure).cause;
    if (!(o.status && r.failure.stage === 'exec')) throw failureError(ctx.plan, r.failure, ctx.notFoundIn, { ...details, cause });
    // libvirt test1: with a status slot, a failed exec is simply exit status 127 / 126.
    const code = failureExitStatus(r.failure) as number;
    return make(ctx.rawStatus ? code << 8 : code, decodeStatus(code << 8));
  }
  if (r.status === null || d === null) throw new CommandError(`Child process (${cmd}) was not reaped`, { ...details, stage: 'wait' });
  if (o.status && (ctx.rawStatus || d.exited)) return make(ctx.rawStatus ? r.status : (d.exitStatus as number), d);
  if (r.status !== 0) throw statusError(r.status, details, r.stderr && !ctx.merged ? r.stderr.toString('utf8') : '');
  return make(0, d);
}

/** runSync(): blocks until the child has ended and its pipes are drained. */
export function runSync(state: CommandState, options: unknown): RunResult {
  const o = checkRunOptions('Command.runSync', options, DEFAULT_KILL_GRACE_MS);
  checkRunnable(state, 'sync');
  if (o.signal?.aborted) throw abortedBeforeStart(state, o.signal);
  const ctx = prepare(state, 'sync', { timeoutMs: Math.ceil(o.timeout), killGraceMs: Math.ceil(o.killGrace), maxBuffer: o.maxBuffer });
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

// Starts the child without waiting; failures to start are in the record's result.
function start(state: CommandState, mode: RunMode, autoReap: boolean, control: PlanControl): RunRecord {
  const ctx = prepare(state, mode, control);
  let resolveDone!: (r: NativeResult | null) => void;
  const rec: RunRecord = {
    pid: 0, handle: null, autoReap, ctx, result: null, finished: false, endedBy: null,
    released: false, waited: false, handshakeWaited: false, handshakeNotified: false,
    done: new Promise((resolve) => (resolveDone = resolve)),
    finish(result) {
      if (rec.finished) return;
      rec.finished = true;
      rec.result = result;
      resolveDone(result);
    },
  };
  try {
    if (dryRunActive()) rec.finish(dryRunResult(ctx.plan));
    else {
      const missing = resolveProgram(ctx);
      if (missing) rec.finish(missing);
      else spawnInto(state, rec);
    }
  } finally {
    releasePassedFds(state);
  }
  if (!rec.result?.failure) state.running = rec;
  return rec;
}

function spawnInto(state: CommandState, rec: RunRecord): void {
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
}

// Applies a wait's timeout and AbortSignal to a running child; returns the cleanup.
function watch(rec: RunRecord, o: ParsedRunOptions): () => void {
  if (rec.finished) return () => {};
  const stop = (ended: NonNullable<RunRecord['endedBy']>): void => {
    if (rec.finished || rec.endedBy) return;
    rec.endedBy = ended;
    rec.handle?.terminate(Math.ceil(o.killGrace));
  };
  const timer = o.timeout > 0 ? setTimeout(() => stop({ why: 'timeout', ms: o.timeout }), o.timeout) : undefined;
  const onAbort = (): void => stop({ why: 'abort', reason: o.signal?.reason });
  if (o.signal?.aborted) onAbort();
  else o.signal?.addEventListener('abort', onAbort, { once: true });
  return () => {
    clearTimeout(timer);
    o.signal?.removeEventListener('abort', onAbort);
  };
}

async function waitFor(state: CommandState, rec: RunRecord, o: ParsedRunOptions): Promise<RunResult> {
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
  return settle(rec, r, o);
}

/** run(): spawn, then wait without blocking the event loop. */
export async function run(state: CommandState, options: unknown): Promise<RunResult> {
  const o = checkRunOptions('Command.run', options, DEFAULT_KILL_GRACE_MS);
  checkRunnable(state, 'async');
  if (o.signal?.aborted) throw abortedBeforeStart(state, o.signal);
  const rec = start(state, 'async', true, { timeoutMs: 0, killGraceMs: Math.ceil(o.killGrace), maxBuffer: o.maxBuffer });
  return waitFor(state, rec, o);
}

/** runAsync(): spawn and return the pid; a failure to start throws at once. */
export function runAsync(state: CommandState, options: unknown): number {
  const o = checkOptions<RunAsyncOptions>('Command.runAsync', options);
  const autoReap = checkBoolean('Command.runAsync', arg('options.autoReap'), o.autoReap, true);
  const maxBuffer = o.maxBuffer === undefined ? 0 : checkInteger('Command.runAsync', arg('options.maxBuffer'), o.maxBuffer, 0, Number.MAX_SAFE_INTEGER);
  checkRunnable(state, 'background');
  const rec = start(state, 'background', autoReap, { timeoutMs: 0, killGraceMs: DEFAULT_KILL_GRACE_MS, maxBuffer });
  // Without { status }, settle() always throws for a failed start.
  if (rec.result?.failure) settle(rec, rec.result, checkRunOptions('Command.runAsync', {}, 0));
  return rec.pid;
}

/** wait(): the end of the running child, judged with these options. */
export async function wait(state: CommandState, options: unknown): Promise<RunResult> {
  const o = checkRunOptions('Command.wait', options, DEFAULT_KILL_GRACE_MS);
  const rec = state.running;
  if (!rec) throw usageError('command is not running', commandLine(state));
  return waitFor(state, rec, o);
}

/** abort(): terminate and reap the running child; never throws. */
export async function abort(state: CommandState, options: AbortOptions | undefined): Promise<void> {
  const g = options?.grace;
  const grace = typeof g === 'number' && Number.isFinite(g) && g >= 0 ? Math.ceil(g) : DEFAULT_KILL_GRACE_MS;
  const rec = state.running;
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

/** free(): close CLOSE_PARENT fds; kill and reap an auto-reaped child, or release it. */
export function free(state: CommandState): void {
  releasePassedFds(state);
  const rec = state.running;
  state.running = null;
  state.freed = true;
  if (!rec) return;
  if (!rec.finished && rec.handle) {
    if (rec.autoReap) {
      rec.endedBy ??= { why: 'abort', reason: undefined };
      // docs/internals.md: abortSync returns the result; a build that returns nothing
      // reports it through onDone instead, which finishes the record just the same.
      const r: NativeResult | undefined = rec.handle.abortSync(FREE_GRACE_MS);
      if (r && typeof r === 'object') rec.finish(r);
    } else {
      rec.released = true;
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

function runningForHandshake(state: CommandState, step: 'handshakeWaited' | 'handshakeNotified'): RunRecord {
  if (!state.handshake) throw usageError('no handshake was requested with requireHandshake()', commandLine(state));
  const rec = state.running;
  if (!rec) throw usageError('command is not running', commandLine(state));
  if (rec[step]) throw usageError('handshake is already complete', rec.ctx.command);
  rec[step] = true;
  return rec;
}

/** handshakeWait(): resolves once the child reached its handshake point before exec. */
export async function handshakeWait(state: CommandState): Promise<void> {
  const rec = runningForHandshake(state, 'handshakeWaited');
  const handle = rec.handle;
  if (!handle) return;
  await new Promise<void>((resolve, reject) => {
    handle.handshakeWait((err) => {
      if (!err) return resolve();
      const cmd = rec.ctx.command;
      const details = { command: cmd, pid: rec.pid, cause: err };
      // A child that failed a step before the handshake reports that step.
      if (typeof (err as NativeSpawnError).stage === 'string') {
        const f = spawnFailure(err).failure as NativeFailure;
        return reject(failureError(rec.ctx.plan, f, null, details));
      }
      reject(new CommandError(`Child process (${cmd}) failed the startup handshake: ${err.message}`, { ...details, stage: 'handshake' }));
    });
  });
}

/** handshakeNotify(): lets the child go on to exec. */
export function handshakeNotify(state: CommandState): void {
  runningForHandshake(state, 'handshakeNotified').handle?.handshakeNotify();
}

// exec() changes this very process: report a program path that does not exist before
// any setup step (uid, caps, ...) is applied to it. Inside a chroot, native must judge.
function missingExecTarget(plan: NativePlan): NativeFailure | null {
  if (plan.chroot !== null) return null;
  try {
    fs.statSync(path.resolve(plan.cwd ?? '.', plan.candidates[0]));
    return null;
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code !== 'ENOENT' && code !== 'ENOTDIR') return null;
    return { stage: 'exec', errno: os.constants.errno[code], value: 0 };
  }
}

/** exec(): replaces the current process with the command (no fork, no dry run). */
export function execInPlace(state: CommandState): never {
  checkRunnable(state, 'exec');
  const ctx = prepare(state, 'exec', { timeoutMs: 0, killGraceMs: 0, maxBuffer: 0 });
  const missing = resolveProgram(ctx)?.failure ?? missingExecTarget(ctx.plan);
  const details = { command: ctx.command, pid: process.pid };
  if (missing) throw failureError(ctx.plan, missing, ctx.notFoundIn, details);
  const native = loadNative();
  if (typeof native.execInPlace !== 'function') throw new Error('vircommand: this build of the native addon has no execInPlace(), so exec() is unavailable');
  let failed: StartFailure | null = null;
  try {
    native.execInPlace(ctx.plan);
  } catch (err) {
    failed = spawnFailure(err);
  }
  const failure = failed?.failure ?? { stage: 'exec', errno: os.constants.errno.EINVAL, value: 0 };
  throw failureError(ctx.plan, failure, ctx.notFoundIn, { ...details, cause: failed?.cause });
}
