/**
 * Dry runs (libvirt's virCommandSetDryRun): while set, runs spawn nothing; each would-be
 * command line is logged and a callback may answer with a status and output, to which
 * the normal status policy applies. Process-global, like libvirt's.
 */
import { envStrings } from './env';
import type { NativePlan, NativeResult } from './native';
import { formatCommand } from './to-string';
import { type DryRunOptions, OPTION_NAMES } from './types';
import { arg, checkBoolean, checkOptions, typeError } from './validate';

let current: DryRunOptions | null = null;

/**
 * Turns dry runs on with `options`, or off with null. Affects every Command in the process.
 * @throws {TypeError} when `log` is not an array or `callback` not a function
 * @example const log: string[] = []; setDryRun({ log }); new Command('ls').runSync(); setDryRun(null);
 */
export function setDryRun(options: DryRunOptions | null): void {
  if (options === null) {
    current = null;
    return;
  }
  const o = checkOptions<DryRunOptions>('setDryRun', options, OPTION_NAMES.setDryRun);
  if (o.log !== undefined && !Array.isArray(o.log)) throw typeError('setDryRun', arg('options.log'), 'an array', o.log);
  if (o.callback !== undefined && typeof o.callback !== 'function') {
    throw typeError('setDryRun', arg('options.callback'), 'a function', o.callback);
  }
  checkBoolean('setDryRun', arg('options.linebreaks'), o.linebreaks, false);
  checkBoolean('setDryRun', arg('options.stripPath'), o.stripPath, false);
  current = { ...o };
}

/** Dry runs are on. */
export function dryRunActive(): boolean {
  return current !== null;
}

/** Logs `plan`, asks the callback, and answers as native would have. */
export function dryRunResult(plan: NativePlan): NativeResult {
  const d = current as DryRunOptions;
  d.log?.push(formatCommand(plan.argv, envStrings(plan.env), { linebreaks: d.linebreaks, stripPath: d.stripPath }));
  const input = plan.stdin.type === 'buffer' ? Buffer.from(plan.stdin.data) : null;
  const answer = d.callback?.({ argv: [...plan.argv], env: envStrings(plan.env), input }) ?? {};
  const status = answer.status ?? 0;
  if (!Number.isInteger(status)) throw typeError('setDryRun', "the callback's status", 'an integer', status);
  const out = Buffer.from(answer.stdout ?? '', 'utf8');
  const err = Buffer.from(answer.stderr ?? '', 'utf8');
  const merged = plan.stderr.type === 'stdout';
  return {
    pid: 0,
    status: (status & 0xff) << 8,
    failure: null,
    stdout: plan.stdout.type === 'capture' ? (merged ? Buffer.concat([out, err]) : out) : null,
    stderr: plan.stderr.type === 'capture' ? err : null,
    timedOut: false,
    maxBufferExceeded: null,
    outputIncomplete: false,
    killedBy: 0,
    diedBeforeExec: false,
  };
}
