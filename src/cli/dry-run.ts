/** --dry-run: the command line that would run, printed, nothing spawned. */
import { type Command, setDryRun } from '../index';
import type { CliPlan } from './cli-plan';
import { write } from './write';

/** The run's own checks (a failure throws as a run would), then the command line on stdout; 0. */
export function dryRun(cmd: Command, plan: CliPlan): number {
  const log: string[] = [];
  setDryRun({ log });
  try {
    cmd.runSync({ status: true, timeout: plan.timeoutMs });
  } finally {
    setDryRun(null);
  }
  write(1, `${log.join('\n')}\n`);
  return 0;
}
