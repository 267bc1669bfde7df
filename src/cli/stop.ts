/**
 * --stop PIDFILE: stop the daemon of a pidfile, as `start-stop-daemon --stop --pidfile PIDFILE
 * --remove-pidfile`, instead of running a program.
 */
import { type SignalInput, killByPidFile } from '../index';
import type { CliPlan } from './cli-plan';
import { write } from './write';

/** Exit status of --stop when there was nothing to stop (start-stop-daemon --stop). */
const EXIT_STOP_NOTHING = 1;
/** Exit status of --stop when the daemon still ran at the end (start-stop-daemon --retry). */
const EXIT_STOP_STILL_RUNNING = 2;

/**
 * Through killByPidFile(): the signal goes only to the process holding the pidfile's lock; then
 * it waits (--timeout, default 5 s) and sends SIGKILL, waiting as long again; the file is removed
 * once the daemon is gone, or when it is stale. 0: stopped; 1: nothing to stop; 2: still running.
 */
export async function stopDaemon(plan: CliPlan): Promise<number> {
  const file = plan.stop as string;
  const wait = plan.timeoutMs > 0 ? plan.timeoutMs : 5000;
  const r = await killByPidFile(file, (plan.timeoutSignal ?? 'SIGTERM') as SignalInput, { wait, force: true, remove: true });
  if (r.outcome === 'signalled') {
    if (r.exited) return 0;
    write(2, `vircommand: stop: ${file}: process ${r.pid} still runs after ${r.signals.join(', ')}\n`);
    return EXIT_STOP_STILL_RUNNING;
  }
  const why: Record<string, string> = {
    missing: 'no such pidfile',
    'not-locked': `nobody holds its lock (process ${r.pid} is not trusted)${r.removed ? '; the stale file was removed' : ''}`,
    'locked-by-other': `its lock is held by process ${r.holder}, not by ${r.pid}`,
    gone: `process ${r.pid} had already exited${r.removed ? '; the file was removed' : ''}`,
    'other-program': `process ${r.pid} runs another program`,
  };
  write(2, `vircommand: stop: ${file}: nothing stopped: ${why[r.outcome] ?? r.outcome}\n`);
  return EXIT_STOP_NOTHING;
}
