/**
 * The session of a started run, up to its result: a wait's timeout and AbortSignal applied to
 * the child, the end awaited (the child's, and the streams being read: run/streams.ts), then judged by the status policy (run/settle.ts) and the
 * handshake of a daemon kept or given up (run/handshake.ts).
 */
import { usageError } from '../errors';
import type { NativeResult } from '../native';
import type { CommandState } from '../plan';
import type { RunResult } from '../types';
import type { ParsedRunOptions } from '../validate';
import { closeEndedHandshake, runEnded } from './handshake';
import { setLongTimeout } from './long-timer';
import type { RunRecord } from '../run-record';
import { settle } from './settle';
import { outputsRead } from './streams';

/** A result of either encoding; Command narrows it by the options' encoding. */
export type AnyResult = RunResult<string | Buffer>;

// Applies a wait's timeout and AbortSignal to a running child. `passed()` says whether either
// came, also after the child's end (the wait for its readers is bounded by them too).
function watch(rec: RunRecord, o: ParsedRunOptions): { passed(): boolean; cleanup(): void } {
  let passed = false;
  const stop = (ended: NonNullable<RunRecord['endedBy']>): void => {
    passed = true;
    if (rec.finished || rec.endedBy) return;
    rec.endedBy = ended;
    rec.handle?.terminate(o.killGrace);
  };
  const timer = o.timeout > 0 ? setLongTimeout(() => stop({ why: 'timeout', ms: o.timeout }), o.timeout) : undefined;
  const onAbort = (): void => stop({ why: 'abort', reason: o.signal?.reason });
  if (o.signal?.aborted) onAbort();
  else o.signal?.addEventListener('abort', onAbort, { once: true });
  return {
    passed: () => passed,
    cleanup: () => {
      timer?.clear();
      o.signal?.removeEventListener('abort', onAbort);
    },
  };
}

/** Waits for the end of `rec` under `o`'s timeout and AbortSignal, then judges it (run/settle.ts). */
export async function waitFor(state: CommandState, rec: RunRecord, o: ParsedRunOptions): Promise<AnyResult> {
  const watching = watch(rec, o);
  let r: NativeResult | null;
  try {
    r = await rec.done;
    // As child_process's 'close': the streams being read have ended too (run/streams.ts). Once
    // the run was ended (by this or another wait, abort()) or this wait's timeout or signal came,
    // the readers are waited for as abort() waits: one that stopped taking (paused, an iterator
    // left behind) cannot hold the wait past that point.
    await outputsRead(rec.streams, () => (rec.endedBy || watching.passed() ? 'abort' : 'wait'));
  } finally {
    watching.cleanup();
  }
  if (state.running === rec) state.running = null;
  closeEndedHandshake(rec);
  if (r === null) throw usageError(`the child (pid ${rec.pid}) was released by free(); use pidWait()`, rec.ctx.command);
  rec.waited = true;
  if (rec.inputFailed) {
    // The child was terminated because its input stream failed: that failure is the run's.
    runEnded(state, rec, false);
    throw rec.inputFailed.error;
  }
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
