/**
 * The run of runRegex()/runNul() once its child is started (run.ts runConsuming starts it):
 * stdout is read, split into records and each record handed to the parser's callback, as it
 * streams or, with libvirt's order, once the run has succeeded.
 *
 * The call has one deadline, from its start to its end, parsing included: the timeout and the
 * AbortSignal (and abort()/free() of the command, through stopConsuming()) end it at once,
 * even while a callback's promise is pending or a burst of lines is being parsed. The child is
 * then killed if it still runs, and reaped, and the call rejects with the CommandError of that
 * end (ETIMEDOUT or ABORT_ERR). Between any two records (of one chunk or not) the parse yields
 * to the event loop once a turn's time budget is used (turn-budget.ts): a timer fires on time.
 *
 * A callback's own throw or rejection stops the run too (the child is killed and reaped) and is
 * what the call rejects with, whatever it is: it is told apart from the stream's own errors.
 */
import type { Readable } from 'node:stream';
import { DEFAULT_DRAIN_MS } from '../constants';
import { emptyResult } from '../native';
import type { CommandState } from '../plan';
import type { RunResult } from '../types';
import type { ParsedRunOptions } from '../validate';
import type { RunRecord } from '../run-record';
import { setLongTimeout } from './long-timer';
import { settle } from './settle';
import type { Splitter } from './split';
import { TurnBudget } from './turn-budget';

type AnyResult = RunResult<string | Buffer>;
type Ended = NonNullable<RunRecord['endedBy']>;

/** What the records of stdout go to. */
export interface ParseJob<T extends string | Buffer = string | Buffer> {
  splitter: Splitter<T>;
  /** Called with each record; a returned promise is awaited before the next record. */
  onRecord(rec: T): unknown;
  /** Called once after the last record (runNul's leftover fields). */
  onEnd?(): unknown;
  /** libvirt's order: stdout is read whole, and parsed only once the run has succeeded. */
  afterExit: boolean;
}

/** A started run of runRegex()/runNul(). */
export interface ConsumingRun {
  state: CommandState;
  rec: RunRecord;
  o: ParsedRunOptions;
  /** The stdout pipe; null under a dry run, where `dryRunStdout` is the answered output. */
  stdout: Readable | null;
  dryRunStdout?: Buffer | null;
  /** The run's waitFor(), without timeout or signal: the call's deadline is ours. */
  wait(): Promise<AnyResult>;
}

// A callback's throw or rejection, wrapped so that no stream error can pass for one.
class CallbackFailure {
  constructor(readonly error: unknown) {}
}

// An error event of the stdout stream.
class StreamFailure {
  constructor(readonly error: unknown) {}
}

// How the call ends early: the first reason wins; `stopped` resolves then, and the listeners
// added meanwhile are called. (A listener per pending callback, removed when that callback
// settles: racing each one with `stopped` would leave a reaction on it per callback, held
// until the call ends.)
class Stop {
  why: Ended | null = null;
  private wake!: () => void;
  readonly stopped = new Promise<void>((resolve) => (this.wake = resolve));
  readonly listeners = new Set<() => void>();

  set(why: Ended): void {
    if (this.why) return;
    this.why = why;
    this.wake();
    for (const l of this.listeners) l();
    this.listeners.clear();
  }
}

const active = new WeakMap<CommandState, Stop>();

/**
 * abort()/free(): ends a runRegex()/runNul() of this command still parsing, if any (also once
 * its child has exited). Killing a child that still runs is the caller's part.
 */
export function stopConsuming(state: CommandState): void {
  active.get(state)?.set({ why: 'abort', reason: undefined });
}

// Awaits only what is a promise: a million plain returns must not cost a million ticks.
function isThenable(v: unknown): v is PromiseLike<unknown> {
  return v !== null && (typeof v === 'object' || typeof v === 'function') && typeof (v as PromiseLike<unknown>).then === 'function';
}

// Calls the parser's callback; its failure comes out as a CallbackFailure.
function call(fn: () => unknown, stop: Stop): Promise<void> | undefined {
  let v: unknown;
  try {
    v = fn();
  } catch (err) {
    throw new CallbackFailure(err);
  }
  return isThenable(v) ? settleOf(v, stop) : undefined;
}

// A callback's promise, raced with the stop: one that never settles cannot hold the call.
function settleOf(v: PromiseLike<unknown>, stop: Stop): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    if (stop.why) {
      resolve(); // stopped by the callback itself (an abort() in it)
      return;
    }
    const onStop = (): void => resolve();
    stop.listeners.add(onStop);
    Promise.resolve(v).then(
      () => {
        stop.listeners.delete(onStop);
        resolve();
      },
      (err: unknown) => {
        stop.listeners.delete(onStop);
        // eslint-disable-next-line @typescript-eslint/prefer-promise-reject-errors -- a tag caught in this file: the callback's own value, as thrown, is inside
        reject(new CallbackFailure(err));
      },
    );
  });
}

const YIELD = Symbol('yield');

// Hands the splitter's complete records to the job, synchronously, until they are all handed,
// the call stops, a callback returns a promise (returned, to be awaited) or the turn's budget is
// used (YIELD). Kept free of await: an async function's loop keeps its state in a heap context.
function handRecords<T extends string | Buffer>(job: ParseJob<T>, stop: Stop, budget: TurnBudget): PromiseLike<unknown> | typeof YIELD | undefined {
  const { splitter } = job;
  for (let r = splitter.next(); r !== undefined; r = splitter.next()) {
    let v: unknown;
    try {
      v = job.onRecord(r);
    } catch (err) {
      throw new CallbackFailure(err);
    }
    if (isThenable(v)) return v;
    if (stop.why) return undefined;
    if (budget.spent()) return YIELD;
  }
  return undefined;
}

// Hands all the splitter's complete records to the job, awaiting its promises and yielding to
// the event loop as the budget says.
async function drainRecords<T extends string | Buffer>(job: ParseJob<T>, stop: Stop, budget: TurnBudget): Promise<void> {
  for (;;) {
    const pending = handRecords(job, stop, budget);
    if (pending === undefined) return;
    if (pending === YIELD) await budget.yieldTurn();
    else {
      // A promise settles in microtasks, not in a new turn: its record counts on the budget too.
      await settleOf(pending, stop);
      if (!stop.why && budget.spent()) await budget.yieldTurn();
    }
    if (stop.why) return;
  }
}

// Parses chunks already in memory (after the run, or a dry run's answer).
async function parseChunks(chunks: Buffer[], job: ParseJob, stop: Stop, budget: TurnBudget): Promise<void> {
  for (const c of chunks) {
    job.splitter.push(c);
    await drainRecords(job, stop, budget);
    if (stop.why) return;
  }
  await finish(job, stop, budget);
}

async function finish(job: ParseJob, stop: Stop, budget: TurnBudget): Promise<void> {
  job.splitter.end();
  await drainRecords(job, stop, budget);
  // eslint-disable-next-line @typescript-eslint/unbound-method -- called below with .call(job)
  const onEnd = job.onEnd;
  if (!stop.why && onEnd) await call(() => onEnd.call(job), stop);
}

/**
 * The chunks of a stdout pipe, read in paused mode (read() when 'readable' says so), so that a
 * parse that is busy leaves them in the pipe: the child waits, memory stays one chunk. A
 * grandchild holding the pipe open cannot hang the call: once the child has ended and no data
 * came for DEFAULT_DRAIN_MS while we waited for it, what was read counts and the stream is
 * destroyed. (A busy parse never starts that clock: nothing is lost while it is slow.) A stream
 * closed before its end by someone else (abort(), free(), the next run) ends the call as an abort.
 */
class ChunkReader {
  private wake: (() => void) | null = null;
  private ended = false;
  private closed = false;
  private drained = false;
  private childDone = false;
  private error: unknown = null;
  private drainTimer: NodeJS.Timeout | undefined;
  private readonly poke = (): void => {
    const w = this.wake;
    this.wake = null;
    w?.();
  };
  private readonly onEnd = (): void => {
    this.ended = true;
    this.poke();
  };
  private readonly onClose = (): void => {
    this.closed = true;
    this.poke();
  };
  private readonly onError = (err: unknown): void => {
    this.error ??= err;
    this.poke();
  };

  constructor(
    private readonly stream: Readable,
    rec: RunRecord,
    private readonly stop: Stop,
    private readonly abort: (why: Ended) => void,
  ) {
    stream.on('readable', this.poke);
    stream.on('end', this.onEnd);
    stream.on('close', this.onClose);
    stream.on('error', this.onError);
    void rec.done.then(() => {
      this.childDone = true;
      this.poke();
    });
    void stop.stopped.then(this.poke);
  }

  /** The next chunk, or null at the end (or when the call stops). */
  async next(): Promise<Buffer | null> {
    for (;;) {
      if (this.stop.why) return null;
      const chunk = this.stream.read() as Buffer | null;
      if (chunk !== null) {
        clearTimeout(this.drainTimer);
        this.drainTimer = undefined;
        return chunk;
      }
      if (this.error !== null) throw new StreamFailure(this.error);
      if (this.ended || this.drained) return null;
      if (this.closed) {
        this.abort({ why: 'abort', reason: undefined });
        return null;
      }
      if (this.childDone && this.drainTimer === undefined) {
        this.drainTimer = setTimeout(() => {
          this.drained = true;
          this.stream.destroy(); // closes our end: the run no longer waits on that pipe
          this.poke();
        }, DEFAULT_DRAIN_MS);
      }
      // Not a new turn for the budget: libuv reads a readable pipe up to 32 times in one poll
      // phase, each read's callbacks (this parse included) running before the next read.
      await new Promise<void>((resolve) => (this.wake = resolve));
    }
  }

  close(): void {
    clearTimeout(this.drainTimer);
    const s = this.stream;
    s.off('readable', this.poke);
    s.off('end', this.onEnd);
    s.off('close', this.onClose);
    // The 'error' listener stays: a late error of a destroyed stream is not an uncaught one.
    s.destroy();
  }
}

// The CommandError of a run ended by a timeout or an abort: the one settle() gives for it.
function endError(run: ConsumingRun, why: Ended): unknown {
  const { rec, o } = run;
  try {
    settle({ ctx: rec.ctx, endedBy: rec.endedBy ?? why }, rec.result ?? emptyResult(rec.pid, null), o);
  } catch (err) {
    return err;
  }
  return new Error('unreachable: settle() returned for an ended run');
}

/** Runs the parse of a started runRegex()/runNul() to the call's result. */
export async function consume(run: ConsumingRun, job: ParseJob): Promise<AnyResult> {
  const { state, rec, o } = run;
  const stop = new Stop();
  // Kills a child that still runs, as a wait's timeout does; the record says why it ended.
  const end = (why: Ended): void => {
    if (!rec.finished && !rec.endedBy) {
      rec.endedBy = why;
      rec.handle?.terminate(Math.ceil(o.killGrace));
    }
    stop.set(why);
  };
  const timer = o.timeout > 0 ? setLongTimeout(() => end({ why: 'timeout', ms: o.timeout }), o.timeout) : undefined;
  const onAbort = (): void => end({ why: 'abort', reason: o.signal?.reason });
  o.signal?.addEventListener('abort', onAbort, { once: true });
  active.set(state, stop);
  const waiting = run.wait();
  const settled = waiting.then(
    () => undefined,
    () => undefined,
  );
  const budget = new TurnBudget();
  const reader = run.stdout ? new ChunkReader(run.stdout, rec, stop, end) : null;
  try {
    try {
      if (job.afterExit) {
        const chunks: Buffer[] = [];
        if (reader) {
          for (let c = await reader.next(); c !== null; c = await reader.next()) chunks.push(c);
          reader.close();
        } else if (run.dryRunStdout) chunks.push(run.dryRunStdout);
        await Promise.race([settled, stop.stopped]);
        // libvirt parses only the output of a run that succeeded: a failed one rejects as is.
        if (!stop.why) await waiting;
        if (!stop.why) await parseChunks(chunks, job, stop, budget);
      } else if (reader) {
        for (let c = await reader.next(); c !== null; c = await reader.next()) {
          job.splitter.push(c);
          await drainRecords(job, stop, budget);
        }
        if (!stop.why) await finish(job, stop, budget);
        reader.close();
      } else {
        await parseChunks(run.dryRunStdout ? [run.dryRunStdout] : [], job, stop, budget);
      }
      if (!stop.why) await Promise.race([settled, stop.stopped]);
    } catch (err) {
      if (!(err instanceof CallbackFailure || err instanceof StreamFailure)) throw err;
      // The callback's (or the stream's) error ends the run: the child is killed and reaped.
      if (!rec.finished) rec.handle?.terminate(Math.ceil(o.killGrace));
      reader?.close();
      await rec.done;
      await settled;
      throw err.error;
    }
    if (stop.why) {
      end(stop.why);
      reader?.close();
      await rec.done;
      await settled;
      throw endError(run, stop.why);
    }
  } finally {
    timer?.clear();
    o.signal?.removeEventListener('abort', onAbort);
    if (active.get(state) === stop) active.delete(state);
    reader?.close();
  }
  return waiting;
}
