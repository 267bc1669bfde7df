/**
 * The startup handshake of a running child (requireHandshake()): handshakeWait() and
 * handshakeNotify().
 *
 * A daemon's handshake outlives its run(): libvirt's qemu driver runs the command (run()
 * returns once the intermediate process has exited, the pidfile written; native hands the
 * daemon's status pipe over to the handshake, io_session.cc HandOffStatus), reads the
 * pidfile, then waits for the handshake and notifies. The record of such a run stays here
 * until the handshake is done, or the command freed.
 */
import { CommandError, failureError, usageError } from '../errors';
import { type NativeFailure, type NativeSpawnError, spawnFailure } from '../native';
import { type CommandState, commandLine } from '../plan';
import type { RunRecord } from '../run-record';

const pendingDaemon = new WeakMap<CommandState, RunRecord>();

function runningForHandshake(state: CommandState, step: 'handshakeWaited' | 'handshakeNotified'): RunRecord {
  if (!state.handshake) throw usageError('no handshake was requested with requireHandshake()', commandLine(state));
  const rec = state.running ?? pendingDaemon.get(state);
  if (!rec) throw usageError('command is not running', commandLine(state));
  if (rec[step]) throw usageError('handshake is already complete', rec.ctx.command);
  rec[step] = true;
  return rec;
}

// Why a child can no longer be ready, if it cannot: the command gave it up.
function givenUp(rec: RunRecord): string | null {
  if (rec.handshakeClosed) return 'was freed';
  if (rec.endedBy?.why === 'abort') return 'was aborted';
  if (rec.endedBy?.why === 'timeout') return `timed out after ${rec.endedBy.ms} ms`;
  return null;
}

/** handshakeWait(): resolves once the child reached its handshake point before exec. */
export async function handshakeWait(state: CommandState): Promise<void> {
  const rec = runningForHandshake(state, 'handshakeWaited');
  const handle = rec.handle;
  if (!handle) return;
  await new Promise<void>((resolve, reject) => {
    handle.handshakeWait((err) => {
      const cmd = rec.ctx.command;
      const details = { command: cmd, pid: rec.pid, cause: err ?? undefined };
      // Killed or let go by abort(), free() or a timeout: even a "ready" that the child sent
      // before is no use now (it will never exec).
      const why = givenUp(rec);
      if (why !== null) {
        if (pendingDaemon.get(state) === rec) pendingDaemon.delete(state);
        return reject(
          new CommandError(`Child process (${cmd}) ${why} before the startup handshake completed`, { ...details, stage: 'handshake', code: 'ABORT_ERR' }),
        );
      }
      if (!err) return resolve();
      if (pendingDaemon.get(state) === rec) pendingDaemon.delete(state); // the daemon is gone
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
  const rec = runningForHandshake(state, 'handshakeNotified');
  if (pendingDaemon.get(state) === rec) pendingDaemon.delete(state);
  rec.handle?.handshakeNotify();
}

/**
 * A run of `rec` has ended (`ok`: with success). A daemon's handshake is kept for
 * handshakeWait()/handshakeNotify() after a successful run, and given up after a failed one.
 */
export function runEnded(state: CommandState, rec: RunRecord, ok: boolean): void {
  const { plan } = rec.ctx;
  if (!plan.daemonize || !plan.handshake || !rec.handle || rec.handshakeNotified || rec.handshakeClosed) return;
  if (ok) pendingDaemon.set(state, rec);
  else closeHandshake(rec);
}

/**
 * free(): gives up the handshake of the running child or of a daemon waiting for one. The
 * child then fails at its handshake (ECANCELED) and exits instead of waiting for ever; a
 * pending handshakeWait() rejects.
 */
export function dropHandshake(state: CommandState): void {
  // A running child: free() kills it, or releases it (which closes the go pipe too).
  if (state.running) state.running.handshakeClosed = true;
  const rec = pendingDaemon.get(state);
  if (!rec) return;
  pendingDaemon.delete(state);
  closeHandshake(rec);
}

// The run of `rec` has ended (its session is finished): release() only closes the go pipe
// (and the daemon's status pipe) now.
function closeHandshake(rec: RunRecord): void {
  rec.handshakeClosed = true;
  rec.handle?.release();
}

/**
 * The run of a child that is not a daemon is over for the command (judged by wait(), ended by
 * abort() or free()): no handshakeWait() or handshakeNotify() can come for it any more, so its
 * handshake pipes are closed now, not whenever the native handle is garbage-collected. (A
 * handshakeWait() still pending keeps its ready pipe: it gets its answer, EOF, from it.)
 */
export function closeEndedHandshake(rec: RunRecord): void {
  const { plan } = rec.ctx;
  if (!plan.handshake || plan.daemonize || !rec.finished || !rec.handle) return;
  rec.handle.release();
}

/** Throws when a daemon of an earlier run of this command still waits for its handshake. */
export function checkNoPendingHandshake(state: CommandState): void {
  const rec = pendingDaemon.get(state);
  if (rec) {
    throw usageError(`the daemon of the previous run still waits for its handshake: call handshakeWait() and handshakeNotify(), or free()`, rec.ctx.command);
  }
}
