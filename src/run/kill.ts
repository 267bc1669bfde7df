/**
 * kill(): a signal to the running child, or to the process group it leads, as child_process's
 * subprocess.kill(): true when the signal was sent, false when there is no child to signal.
 * The signal goes through the child's pidfd (or, without pidfds, kill(2) while the child is
 * still unreaped), so a pid reused after the reap is never hit.
 */
import type { CommandState } from '../plan';
import { checkSignal } from '../signal-arg';
import type { SignalInput } from '../signal-names';
import { arg, checkBoolean, checkOptions } from '../validate';

/** Options of kill(). */
export interface KillOptions {
  /**
   * Signal the whole process group the child leads (setsid() or setpgid(0)) instead of the
   * child alone. False, nothing sent, when the child does not lead its own group.
   */
  group?: boolean;
}

const KILL_OPTION_NAMES = ['group'] as const;

/** kill(signal = 'SIGTERM', { group }): see Command.kill. */
export function kill(state: CommandState, signal: number | SignalInput | undefined, options: KillOptions | undefined): boolean {
  const m = 'Command.kill';
  const sig = checkSignal(m, arg('signal'), signal === undefined ? 'SIGTERM' : signal);
  const o = checkOptions<KillOptions>(m, options, KILL_OPTION_NAMES);
  const group = checkBoolean(m, arg('options.group'), o.group, false);
  const rec = state.running;
  // Not started yet (a paced run()), ended, or released by free(): no child of ours to signal.
  if (!rec || rec.queued || rec.finished || rec.released || !rec.handle) return false;
  return rec.handle.kill(sig, group);
}
