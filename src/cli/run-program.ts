/**
 * Runs the program as vircommand's child (with --timeout, --daemonize, a new pid namespace or id
 * maps) and waits for it, passing vircommand's signals on to it.
 */
import { type Command, isCommandError } from '../index';
import type { CliPlan } from './cli-plan';
import { timeoutBySignal } from './timeout-signal';

// Signals vircommand passes on to the program while it waits. SIGINT and SIGQUIT from a
// terminal reach the program's process group already; they are passed on only when the
// program runs in a session of its own.
const FORWARDED: readonly NodeJS.Signals[] = ['SIGTERM', 'SIGHUP', 'SIGINT', 'SIGQUIT', 'SIGUSR1', 'SIGUSR2'];

/** How the program ended: its exit status, or the name of the signal that killed it. */
export interface ProgramEnd {
  exitStatus: number | null;
  signal: string | null;
}

/**
 * Runs the command, passing signals on, and returns how it ended. The run's status policy
 * throws for a non-zero exit or a signal (stage null) and for a failed setup step (stage set).
 */
export async function runAndWait(cmd: Command, plan: CliPlan): Promise<ProgramEnd> {
  const ownGroup = plan.setsid || plan.daemonize;
  // Listening from before the spawn: until a listener exists the signal's action is the
  // default one, so a SIGTERM that came between the spawn and the listeners ended vircommand
  // and left the program running, orphaned. Listeners run on the event loop, after run() has
  // spawned: cmd.pid is set then (null once the program has ended: nothing to pass on).
  const forward = (signal: NodeJS.Signals): void => {
    if (!ownGroup && (signal === 'SIGINT' || signal === 'SIGQUIT')) return;
    const pid = cmd.pid;
    if (pid === null) return;
    try {
      process.kill(pid, signal);
    } catch {
      // already gone
    }
  };
  for (const s of FORWARDED) process.on(s, forward);
  const timeout = timeoutBySignal(cmd, plan);
  try {
    const done = cmd.run(timeout ? {} : { timeout: plan.timeoutMs, killGrace: plan.killAfterMs ?? undefined });
    timeout?.start();
    try {
      await done;
    } catch (err) {
      if (isCommandError(err) && err.stage === null && err.code === undefined && (err.exitStatus !== null || err.signal !== null)) {
        // A program that ended after the timeout's signal, however it ended: 124, as timeout(1).
        timeout?.check();
        return { exitStatus: err.exitStatus, signal: err.signal };
      }
      throw err;
    }
    timeout?.check();
    return { exitStatus: 0, signal: null };
  } finally {
    timeout?.clear();
    for (const s of FORWARDED) process.removeListener(s, forward);
  }
}
