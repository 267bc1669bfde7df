/**
 * A failure of vircommand or of the program's setup as its exit status and its one line
 * (`<stage>: <message>`, printed after `vircommand: `): 125 for usage errors and failed setup
 * steps, 124 for a timeout, 126/127 (the run's exitStatus) when the program could not be
 * executed or found.
 */
import { type CommandError, EXIT_CANCELED, isCommandError } from '../index';
import { pidfileDetailOf } from '../pidfile-failure';
import { CliError } from './cli-error';
import { EXIT_TIMEOUT } from './exit-status';
import { errnoText } from './strerror';

/** The exit status and one-line message of a failure. */
export function describeFailure(err: unknown): { status: number; line: string } {
  if (err instanceof CliError) return { status: err.stage === 'timeout' ? EXIT_TIMEOUT : EXIT_CANCELED, line: `${err.stage}: ${err.message}` };
  if (isCommandError(err)) return describeCommandError(err);
  const message = err instanceof Error ? err.message : String(err);
  return { status: EXIT_CANCELED, line: `internal: ${message.split('\n')[0]}` };
}

// A CommandError: a timeout, a misuse of the command, or a failed setup step.
function describeCommandError(e: CommandError): { status: number; line: string } {
  if (e.code === 'ETIMEDOUT') return { status: EXIT_TIMEOUT, line: `timeout: ${e.message}` };
  if (e.stage === 'validate' || e.errno === null) {
    // run()'s own words after "failed at stage 'S': " when it has them (setUser's unknown user).
    const own = e.stage ? e.message.split(`failed at stage '${e.stage}': `)[1]?.split('\n')[0] : undefined;
    return { status: EXIT_CANCELED, line: `${e.stage ?? 'run'}: ${own ?? e.message}` };
  }
  const stage = e.stage ?? 'run';
  const notInPath = stage === 'exec' && e.code === 'ENOENT' && e.path !== null && !e.path.includes('/');
  if (notInPath) return { status: e.exitStatus ?? EXIT_CANCELED, line: `${stage}: ${e.path}: not found in PATH` };
  // A refused pidfile names the unsafe component ('directory /run is group-writable ...').
  const detail = stage === 'pidfile' ? pidfileDetailOf(e) : null;
  if (detail) return { status: e.exitStatus ?? EXIT_CANCELED, line: `${stage}: ${e.path ? `${e.path}: ` : ''}${detail}` };
  // run()'s own words after "failed at stage 'S'", which exec() in place also prints from the
  // child (native/child/child_exec.cc): "chdir: ENOENT (No such file or directory): /nope".
  const marker = `failed at stage '${stage}'`;
  const at = e.message.indexOf(marker);
  if (at >= 0) {
    const what = e.message
      .slice(at + marker.length)
      .replace(/^: /, '')
      .split('\n')[0];
    return { status: e.exitStatus ?? EXIT_CANCELED, line: `${stage}: ${what}` };
  }
  const text = errnoText(e.errno, e.code ?? `errno ${e.errno}`);
  return { status: e.exitStatus ?? EXIT_CANCELED, line: `${stage}: ${e.path ? `${e.path}: ` : ''}${text}` };
}
