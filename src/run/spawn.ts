/**
 * The spawn stage of a run: the child started from its prepared plan (run/prepare.ts), at
 * once or in its paced turn (run/pacing.ts), its pipe ends handed to FdRefs or wrapped as
 * streams (run/streams.ts), and the RunRecord that follows it to its end.
 */
import { dryRunActive, dryRunResult } from '../dry-run';
import { emptyResult, loadNative, type NativePlan, type NativeResult, spawnFailure } from '../native';
import { rememberReaped } from '../pid';
import { storePipeFd } from '../command/stdio-setup';
import { type CommandState, type PlanControl, releasePassedFds, type RunMode } from '../plan';
import { applyInput, feedInput, type RunInput } from './input';
import { spawnPaced } from './pacing';
import { prepare, resolveProgram } from './prepare';
import type { RunRecord } from '../run-record';
import { applyPipes, destroyStreams, openStreams, type PipeRequest, wantsPipes } from './streams';

/** runSync()'s spawn: the child run to its end on this thread; a failure to start is in the result. */
export function runNativeSync(plan: NativePlan): NativeResult {
  const native = loadNative();
  try {
    return native.runSync(plan);
  } catch (err) {
    return spawnFailure(err);
  }
}

// Starts the child without waiting; failures to start are in the record's result. `paced`
// (run() only): the spawn may wait for a later event-loop turn (run/pacing.ts); the record is
// the command's running one meanwhile, and a timeout, abort or free() before the spawn ends
// it without a child.
export function start(
  state: CommandState,
  mode: RunMode,
  autoReap: boolean,
  control: PlanControl,
  paced = false,
  pipes: PipeRequest | null = null,
  input: RunInput | null = null,
): RunRecord {
  const ctx = prepare(state, mode, control);
  applyInput(ctx.plan, input);
  if (wantsPipes(pipes)) applyPipes(ctx.plan, pipes);
  destroyStreams(state); // the last run's streams, if the caller left them open
  let resolveDone!: (r: NativeResult | null) => void;
  const rec: RunRecord = {
    pid: 0,
    handle: null,
    autoReap,
    ctx,
    result: null,
    finished: false,
    endedBy: null,
    released: false,
    waited: false,
    handshakeWaited: false,
    handshakeNotified: false,
    handshakeClosed: false,
    queued: false,
    streams: null,
    inputFailed: null,
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
      else if (!paced) spawnInto(state, rec, pipes, input);
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

function spawnInto(state: CommandState, rec: RunRecord, pipes: PipeRequest | null = null, input: RunInput | null = null): void {
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
  if (wantsPipes(pipes)) rec.streams = openStreams(state, rec.handle, pipes);
  if (input?.kind === 'stream' && rec.handle.stdinFd >= 0) feedInput(rec, rec.handle.stdinFd, input.stream);
}
