/**
 * --timeout with a --signal other than SIGTERM: run()'s own timeout sends SIGTERM only, so
 * vircommand's timers send that signal, then SIGKILL --kill-after later.
 */
import type { Command, SignalInput } from '../index';
import { setLongTimeout } from '../run/long-timer';
import { CliError } from './cli-error';
import type { CliPlan } from './cli-plan';

/** SIGKILL this long after --timeout's signal, without --kill-after (as run()'s killGrace). */
const DEFAULT_KILL_AFTER_MS = 100;

/** The timers of one run: start() once the run has spawned; check() throws the timeout (exit 124) once they fired. */
export interface TimeoutBySignal {
  start(): void;
  check(): void;
  clear(): void;
}

/**
 * The timers for --timeout with --signal other than SIGTERM; null when run()'s timeout does it
 * (no --timeout, or its signal is SIGTERM).
 */
export function timeoutBySignal(cmd: Command, plan: CliPlan): TimeoutBySignal | null {
  if (plan.timeoutMs === 0 || plan.timeoutSignal === null || plan.timeoutSignal === 'SIGTERM') return null;
  const signal = plan.timeoutSignal as SignalInput;
  const killAfter = plan.killAfterMs ?? DEFAULT_KILL_AFTER_MS;
  let fired = false;
  const timers: { clear(): void }[] = [];
  return {
    start() {
      timers.push(
        setLongTimeout(() => {
          fired = true;
          cmd.kill(signal);
          timers.push(setLongTimeout(() => cmd.kill('SIGKILL'), killAfter));
        }, plan.timeoutMs),
      );
    },
    check() {
      if (fired) throw new CliError('timeout', `the program timed out after ${plan.timeoutMs} ms (sent ${signal})`);
    },
    clear() {
      for (const t of timers) t.clear();
    },
  };
}
