/** --stdin, --stdout and --stderr: the files opened by vircommand and handed to the program. */
import * as fs from 'node:fs';
import type { Command } from '../index';
import { CliError } from './cli-error';
import type { CliPlan } from './cli-plan';
import { errnoText } from './strerror';

/**
 * Opens --stdin/--stdout/--stderr and hands the fds to the command; unset streams are
 * vircommand's own 0, 1 and 2 (a daemon's stay /dev/null). A file that cannot be opened is a
 * failure of stage 'stdin', 'stdout' or 'stderr'.
 */
export function redirect(cmd: Command, plan: CliPlan): void {
  const open = (stream: string, file: string, flags: string): number => {
    try {
      return fs.openSync(file, flags, 0o666);
    } catch (err) {
      const e = err as NodeJS.ErrnoException;
      throw new CliError(stream, `${file}: ${errnoText(e.errno ?? 0, e.message)}`);
    }
  };
  const inherit = !plan.daemonize;
  if (plan.stdin !== null) cmd.setInputFD(open('stdin', plan.stdin, 'r'));
  else if (inherit) cmd.setInputFD(0);
  if (plan.stdout !== null) cmd.setOutputFD(open('stdout', plan.stdout, 'w'));
  else if (inherit) cmd.setOutputFD(1);
  if (plan.stderr !== null) cmd.setErrorFD(open('stderr', plan.stderr, 'w'));
  else if (inherit) cmd.setErrorFD(2);
}
