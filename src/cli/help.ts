/**
 * The --help text: the usage lines, what the program does, one line per option (options.ts,
 * in its order, the help texts aligned) and the exit statuses.
 */
import { OPTIONS } from './options';

/** The --help text. */
export function helpText(): string {
  const rows = OPTIONS.map((o) => [(o.short ? `${o.short}, ` : '') + (o.value ? `${o.name} ${o.value}` : o.name), o.help]);
  const width = Math.max(...rows.map(([left]) => left.length));
  return [
    'Usage: vircommand [options] -- PROGRAM [ARGS...]',
    '       vircommand --stop PIDFILE [--signal SIG] [--timeout SECONDS]',
    '',
    "Runs PROGRAM with libvirt's virCommand setup (vircommand's Command builder). Without",
    '--timeout, --daemonize, a new pid namespace or id maps, vircommand replaces itself with',
    "PROGRAM; otherwise it waits and exits with PROGRAM's status (a signal death is passed",
    'on as the same signal).',
    'Any --env, --env-pass, --env-pass-common or --clear-env gives PROGRAM a clean',
    'environment holding only what they add; with none of them it inherits all of it.',
    '--env-pass-all first, then --env K=V: all of it, with K overridden.',
    '',
    'Options:',
    ...rows.map(([left, help]) => `  ${left.padEnd(width)}  ${help}`),
    '',
    'Exit status: that of PROGRAM; 124 if --timeout ended it; 125 if vircommand or a setup',
    'step failed; 126 if PROGRAM could not be executed; 127 if it was not found.',
    '--stop: 0 once the daemon is gone; 1 if there was nothing to stop; 2 if it still runs.',
    '',
  ].join('\n');
}
