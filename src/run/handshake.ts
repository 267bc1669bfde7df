/**
 * The startup handshake of a running child (requireHandshake()): handshakeWait() and
 * handshakeNotify().
 */
import { CommandError, failureError, usageError } from '../errors';
import { type NativeFailure, type NativeSpawnError, spawnFailure } from '../native';
import { type CommandState, commandLine } from '../plan';
import type { RunRecord } from './context';

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
