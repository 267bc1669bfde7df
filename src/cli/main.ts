/**
 * The `vircommand` command line: `vircommand [options] -- PROGRAM [ARGS...]` builds a
 * Command from the options (public API, plus the name lookups of user-db.ts) and then
 * - execs the program in place (Command.exec()) when no parent is needed, or
 * - with --timeout or --daemonize, runs it and exits with its status: the same exit
 *   status, or for a death by signal the same signal raised on itself (libvirt's
 *   virProcessExitWithStatus), 128+N if that does not kill it.
 * Its own failures exit like env(1): 125 for bad usage or a setup step that failed,
 * 126 when the program could not be executed, 127 when it was not found; 124 when
 * --timeout ended the program (as timeout(1)). Each prints one line to stderr:
 * `vircommand: <stage>: <message>`.
 * The package's bin is index.ts beside it, which only calls main().
 */
import { buildCommand } from './build-command';
import { describeFailure } from './describe-failure';
import { dryRun } from './dry-run';
import { exitWithStatus } from './exit-status';
import { helpText } from './help';
import { parseArgs } from './parse-args';
import { redirect } from './redirect';
import { type ProgramEnd, runAndWait } from './run-program';
import { stopDaemon } from './stop';
import { version } from './version';
import { write } from './write';

// Runs the command line `argv` (without node and the script); returns only when it does not exec.
async function runCommandLine(argv: readonly string[]): Promise<number | ProgramEnd> {
  const { plan, program } = parseArgs(argv);
  if (plan.help) {
    write(1, helpText());
    return 0;
  }
  if (plan.version) {
    write(1, `vircommand ${version()}\n`);
    return 0;
  }
  if (plan.stop !== null) return stopDaemon(plan);
  const cmd = buildCommand(plan, program);
  if (plan.dryRun) return dryRun(cmd, plan);
  redirect(cmd, plan);
  // A new pid namespace or id maps need vircommand as the parent: exec() cannot make them.
  if (plan.timeoutMs === 0 && !plan.daemonize && !plan.needsParent) cmd.exec();
  return runAndWait(cmd, plan);
}

/**
 * Runs the command line `argv` (without node and the script) and exits the process: with the
 * program's status, or with vircommand's own after printing its one-line failure.
 */
export function main(argv: readonly string[]): void {
  runCommandLine(argv).then(
    (result) => (typeof result === 'number' ? process.exit(result) : exitWithStatus(result)),
    (err: unknown) => {
      const { status, line } = describeFailure(err);
      write(2, `vircommand: ${line}\n`);
      process.exit(status);
    },
  );
}
