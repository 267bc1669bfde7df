/**
 * Reads the command line into a CliPlan and the program's argv: options (`--name value`,
 * `--name=value`), then `--` or the first word that is not an option, then the program and its
 * arguments; then the checks across options (--signal without --timeout, --stop with a program,
 * --pidfile without --daemonize).
 */
import { CliError } from './cli-error';
import { type CliPlan, STEP_OPTION, emptyPlan } from './cli-plan';
import { OPTIONS } from './options';

// --stop takes no program and no option that builds one.
function checkStopPlan(plan: CliPlan, program: readonly string[]): void {
  if (program.length > 0) throw new CliError('usage', `--stop takes no PROGRAM (got '${program[0]}'): it stops the daemon of the pidfile`);
  if (
    plan.steps.length > 0 ||
    plan.daemonize ||
    plan.dryRun ||
    plan.stdin !== null ||
    plan.stdout !== null ||
    plan.stderr !== null ||
    plan.killAfterMs !== null
  ) {
    throw new CliError('usage', '--stop takes only --signal and --timeout');
  }
}

// --signal and --kill-after say what --timeout does: alone they would be ignored.
function checkTimeoutFlags(plan: CliPlan): void {
  if (plan.stop !== null || plan.timeoutMs > 0) return;
  if (plan.timeoutSignal !== null) throw new CliError('usage', '--signal needs --timeout (or --stop): it is what they send');
  if (plan.killAfterMs !== null) throw new CliError('usage', "--kill-after needs --timeout: it counts from the timeout's signal");
}

/**
 * Parses the command line: options, then `--` or the first word that is not an option,
 * then the program and its arguments.
 * @throws {CliError} for an unknown option, a missing or bad value, or no program
 */
export function parseArgs(argv: readonly string[]): { plan: CliPlan; program: string[] } {
  const plan = emptyPlan();
  let i = 0;
  for (; i < argv.length; i++) {
    const word = argv[i];
    if (word === '--') {
      i++;
      break;
    }
    if (!word.startsWith('-') || word === '-') break;
    const eq = word.indexOf('=');
    const name = eq > 0 && word.startsWith('--') ? word.slice(0, eq) : word;
    const spec = OPTIONS.find((o) => o.name === name || o.short === name);
    if (!spec) throw new CliError('usage', `unknown option ${name} (see vircommand --help)`);
    let value = '';
    if (spec.value) {
      if (eq > 0 && name !== word) value = word.slice(eq + 1);
      else if (i + 1 < argv.length) value = argv[++i];
      else throw new CliError('usage', `${name} needs a value ${spec.value}`);
    } else if (name !== word) {
      throw new CliError('usage', `${name} takes no value`);
    }
    const before = plan.steps.length;
    spec.apply(plan, value);
    for (const step of plan.steps.slice(before)) STEP_OPTION.set(step, spec.name);
  }
  const program = argv.slice(i);
  if (!plan.help && !plan.version) checkTimeoutFlags(plan);
  if (plan.stop !== null && !plan.help && !plan.version) {
    checkStopPlan(plan, program);
    return { plan, program };
  }
  // Caught here with a hint; the run would only say 'requires daemonized command'.
  if (plan.pidFile && !plan.daemonize && !plan.help && !plan.version) {
    throw new CliError('usage', '--pidfile needs --daemonize: only a daemon writes a pidfile (add --daemonize, or drop --pidfile)');
  }
  if (program.length === 0 && !plan.help && !plan.version) throw new CliError('usage', 'no program given (vircommand [options] -- PROGRAM [ARGS...])');
  return { plan, program };
}
