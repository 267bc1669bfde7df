#!/usr/bin/env node
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
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as util from 'node:util';
import { Command, EXIT_CANCELED, isCommandError, killByPidFile, setDryRun } from './index';
import type { CapabilityInput, CommandError, RlimitName, SignalInput } from './index';
import { lookupGroup, lookupUser } from './user-db';
import { type ContainerCliPlan, containerOptions } from './cli/container-options';
import { pidfileDetailOf } from './pidfile-failure';
import { setLongTimeout } from './run/long-timer';

/** Exit status when --timeout ended the program, as timeout(1). */
const EXIT_TIMEOUT = 124;

/** A failure of the command line itself (exit 125), reported as `vircommand: <stage>: <message>`. */
class CliError extends Error {
  constructor(
    readonly stage: string,
    message: string,
  ) {
    super(message);
  }
}

/** What the options ask for: builder steps in command-line order, and how to run. */
interface CliPlan extends ContainerCliPlan {
  steps: ((cmd: Command) => void)[];
  stdin: string | null;
  stdout: string | null;
  stderr: string | null;
  timeoutMs: number;
  /** --signal: sent when --timeout expires (and by --stop); null: SIGTERM. */
  timeoutSignal: string | null;
  /** --kill-after: ms from that signal to SIGKILL; null: 100 ms (run()'s killGrace). */
  killAfterMs: number | null;
  /** --stop PIDFILE: stop the daemon of this pidfile instead of running a program. */
  stop: string | null;
  daemonize: boolean;
  pidFile: boolean;
  setsid: boolean;
  dryRun: boolean;
  help: boolean;
  version: boolean;
}

/** One option: its name, its value's name (if it takes one), its help line and its effect. */
interface OptionSpec {
  name: string;
  /** A one-letter alias ('-h'). */
  short?: string;
  value?: string;
  help: string;
  apply: (plan: CliPlan, value: string) => void;
}

// A usage error about option `name`.
function badValue(name: string, value: string, expected: string): CliError {
  return new CliError('usage', `${name}: expected ${expected}, got '${value}'`);
}

// A non-negative decimal integer.
function parseCount(name: string, value: string): number {
  if (!/^\d+$/.test(value) || !Number.isSafeInteger(Number(value))) throw badValue(name, value, 'a non-negative integer');
  return Number(value);
}

// An rlimit amount: an integer, or 'unlimited'/'infinity'.
function parseLimit(name: string, value: string): number {
  if (/^(unlimited|infinity)$/i.test(value)) return Infinity;
  return parseCount(name, value);
}

// A user or group: a number, or a name the C library resolves (getpwnam_r/getgrnam_r in the
// addon, so users and groups of every NSS source are found, not only those of /etc/passwd).
function parseId(name: string, value: string, kind: 'user' | 'group'): number {
  if (/^\d+$/.test(value)) return parseCount(name, value);
  if (value === '' || value.includes('\0')) throw badValue(name, value, `a ${kind} name or id`);
  let id: number | undefined;
  try {
    id = kind === 'user' ? lookupUser(value)?.uid : lookupGroup(value)?.gid;
  } catch (err) {
    throw new CliError('usage', `${name}: cannot look up ${kind} '${value}': ${err instanceof Error ? err.message : String(err)}`);
  }
  if (id === undefined) throw new CliError('usage', `${name}: no ${kind} '${value}' on this system (give a number)`);
  return id;
}

// --rlimit NAME=SOFT[:HARD]
function parseRlimit(value: string): { resource: string; soft: number; hard: number } {
  const m = /^([A-Za-z_]+)=([^:]+)(?::(.+))?$/.exec(value);
  if (!m) throw badValue('--rlimit', value, 'NAME=SOFT[:HARD]');
  const soft = parseLimit('--rlimit', m[2]);
  return { resource: m[1].toUpperCase(), soft, hard: m[3] === undefined ? soft : parseLimit('--rlimit', m[3]) };
}

// --clear-env: a clean environment even when no other option adds to it. addEnvPass() of a
// variable that is not set makes the environment clean and adds nothing.
function clearEnv(cmd: Command): void {
  const name = 'VIRCOMMAND_CLEAR_ENV';
  const saved = process.env[name];
  delete process.env[name];
  try {
    cmd.addEnvPass(name);
  } finally {
    if (saved !== undefined) process.env[name] = saved;
  }
}

// The option that added each builder step (parseArgs): a value the builder rejects is reported
// as that option's usage error, never under the API method's name.
const STEP_OPTION = new WeakMap<(cmd: Command) => void, string>();

// A builder's TypeError/RangeError text in the words of the command line: without the method
// ("Command.allowCap: ") and with argument 'cap' as plain cap.
function usageText(message: string): string {
  return message.replace(/^(?:new Command|Command(?:\.\w+)+|\w+): /, '').replace(/argument '([^']+)'/g, '$1');
}

/** SIGKILL this long after --timeout's signal, without --kill-after (as run()'s killGrace). */
const DEFAULT_KILL_AFTER_MS = 100;

// A duration in seconds (fractions allowed) as ms, > 0 and within what run() takes.
function parseSeconds(name: string, value: string): number {
  const s = Number(value);
  // run()'s timeout takes up to 2^53-1 ms (about 285,000 years); longer than setTimeout's
  // 2^31-1 ms (24.8 days) is fine: the timers are chained.
  if (!/^\d+(\.\d+)?$/.test(value) || !(s > 0) || s * 1000 > Number.MAX_SAFE_INTEGER) {
    throw badValue(name, value, `a number of seconds > 0 and <= ${Math.floor(Number.MAX_SAFE_INTEGER / 1000)}`);
  }
  return Math.max(1, Math.round(s * 1000));
}

// A signal: a name (TERM, SIGTERM, term) or a number, as the name run() and kill() take.
function parseSignal(name: string, value: string): string {
  const sigs = os.constants.signals as Record<string, number>;
  if (/^\d+$/.test(value)) {
    const found = Object.keys(sigs).find((k) => sigs[k] === Number(value));
    if (found) return found;
  } else {
    const upper = value.toUpperCase();
    const full = upper.startsWith('SIG') ? upper : `SIG${upper}`;
    if (sigs[full] !== undefined) return full;
  }
  throw badValue(name, value, 'a signal name or number (TERM, SIGINT, 9)');
}

// --nice N: -20 (most favourable) to 19.
function parseNice(value: string): number {
  if (!/^-?\d+$/.test(value) || Number(value) < -20 || Number(value) > 19) throw badValue('--nice', value, 'an integer from -20 to 19');
  return Number(value);
}

const ENV_NICE_TIMEOUT_STOP_OPTIONS: readonly OptionSpec[] = [
  {
    name: '--env-pass-all',
    help: "pass all of vircommand's environment; later --env and --env-pass override in place",
    apply: (p) => p.steps.push((c) => c.addEnvPassAll()),
  },
  {
    name: '--nice',
    value: 'N',
    help: 'nice value of the program, -20 to 19',
    apply: (p, v) => {
      const n = parseNice(v);
      p.steps.push((c) => c.setNice(n));
    },
  },
  {
    name: '--signal',
    value: 'SIG',
    help: 'the signal --timeout and --stop send (default TERM)',
    apply: (p, v) => {
      p.timeoutSignal = parseSignal('--signal', v);
    },
  },
  {
    name: '--kill-after',
    value: 'SECONDS',
    help: 'SIGKILL this long after the --timeout signal (default 0.1)',
    apply: (p, v) => {
      p.killAfterMs = parseSeconds('--kill-after', v);
    },
  },
  {
    name: '--stop',
    value: 'PIDFILE',
    help: "stop the daemon holding PIDFILE's lock (--signal, default TERM; waits --timeout, default 5 s, then SIGKILL; removes the file); no PROGRAM",
    apply: (p, v) => {
      if (v === '' || v.includes('\0')) throw badValue('--stop', v, 'a pidfile path');
      p.stop = v;
    },
  },
];

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

/** Exit status of --stop when there was nothing to stop (start-stop-daemon --stop). */
const EXIT_STOP_NOTHING = 1;
/** Exit status of --stop when the daemon still ran at the end (start-stop-daemon --retry). */
const EXIT_STOP_STILL_RUNNING = 2;

// --stop PIDFILE: as `start-stop-daemon --stop --pidfile PIDFILE --remove-pidfile`, through
// killByPidFile(): the signal goes only to the process holding the pidfile's lock; then it waits
// (--timeout, default 5 s) and sends SIGKILL, waiting as long again; the file is removed once the
// daemon is gone, or when it is stale. 0: stopped; 1: nothing to stop; 2: still running.
async function stopDaemon(plan: CliPlan): Promise<number> {
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

const OPTIONS: readonly OptionSpec[] = [
  {
    name: '--env-pass-common',
    help: 'pass LC_ALL=C and PATH, HOME, USER, LOGNAME, TMPDIR, LD_PRELOAD, LD_LIBRARY_PATH',
    apply: (p) => p.steps.push((c) => c.addEnvPassCommon()),
  },
  { name: '--env-pass', value: 'NAME', help: "pass this variable of vircommand's environment, if set", apply: (p, v) => p.steps.push((c) => c.addEnvPass(v)) },
  {
    name: '--env',
    value: 'K=V',
    help: 'set a variable',
    apply: (p, v) => {
      if (v.indexOf('=') < 1) throw badValue('--env', v, 'NAME=VALUE');
      p.steps.push((c) => c.addEnvString(v));
    },
  },
  { name: '--clear-env', help: 'start from an empty environment', apply: (p) => p.steps.push(clearEnv) },
  { name: '--cwd', value: 'DIR', help: 'working directory of the program', apply: (p, v) => p.steps.push((c) => c.setWorkingDirectory(v)) },
  {
    name: '--umask',
    value: 'MASK',
    help: 'umask, octal (0 is a real umask)',
    apply: (p, v) => {
      if (!/^[0-7]{1,4}$/.test(v) || parseInt(v, 8) > 0o777) throw badValue('--umask', v, 'an octal mask up to 0777');
      p.steps.push((c) => c.setUmask(parseInt(v, 8)));
    },
  },
  {
    name: '--uid',
    value: 'USER',
    help: "user id or name; alone it keeps vircommand's group (root's 0): use --user",
    apply: (p, v) => {
      const id = parseId('--uid', v, 'user');
      p.steps.push((c) => c.setUID(id));
    },
  },
  {
    name: '--gid',
    value: 'GROUP',
    help: 'group id or name',
    apply: (p, v) => {
      const id = parseId('--gid', v, 'group');
      p.steps.push((c) => c.setGID(id));
    },
  },
  {
    name: '--groups',
    value: 'G1,G2',
    help: 'supplementary groups, ids or names (empty: none)',
    apply: (p, v) => {
      const ids = v === '' ? [] : v.split(',').map((g) => parseId('--groups', g, 'group'));
      p.steps.push((c) => c.setGroups(ids));
    },
  },
  ...containerOptions((message) => new CliError('usage', message)),
  { name: '--clear-caps', help: 'drop every capability', apply: (p) => p.steps.push((c) => c.clearCaps()) },
  {
    name: '--allow-cap',
    value: 'CAP',
    help: 'keep this capability (CAP_NET_ADMIN, net_admin or a number)',
    apply: (p, v) => p.steps.push((c) => c.allowCap(/^\d+$/.test(v) ? Number(v) : (v as CapabilityInput))), // allowCap() checks the name
  },
  {
    name: '--rlimit',
    value: 'NAME=SOFT[:HARD]',
    help: 'resource limit (NOFILE=1024, CORE=0, STACK=8388608:unlimited)',
    apply: (p, v) => {
      const l = parseRlimit(v);
      p.steps.push((c) => c.setRlimit(l.resource as RlimitName, l.soft, l.hard));
    },
  },
  { name: '--no-new-privs', help: 'set no_new_privs', apply: (p) => p.steps.push((c) => c.setNoNewPrivs()) },
  {
    name: '--setsid',
    help: 'run the program in a new session',
    apply: (p) => {
      p.setsid = true;
      p.steps.push((c) => c.setsid());
    },
  },
  {
    name: '--pdeathsig',
    value: 'SIG',
    help: 'signal the program gets when its parent dies (TERM, SIGKILL, 9)',
    apply: (p, v) => p.steps.push((c) => c.setParentDeathSignal(/^\d+$/.test(v) ? Number(v) : (v.toUpperCase() as SignalInput))),
  },
  {
    name: '--daemonize',
    help: 'run the program as a daemon; exit once it is started',
    apply: (p) => {
      p.daemonize = true;
      p.steps.push((c) => c.daemonize());
    },
  },
  {
    name: '--pidfile',
    value: 'FILE',
    help: 'the daemon writes its pid here and keeps it locked (needs --daemonize)',
    apply: (p, v) => {
      p.pidFile = true;
      p.steps.push((c) => c.setPidFile(v));
    },
  },
  {
    name: '--pass-fd',
    value: 'N',
    help: 'keep fd N open in the program',
    apply: (p, v) => {
      const fd = parseCount('--pass-fd', v);
      p.steps.push((c) => c.passFD(fd));
    },
  },
  {
    name: '--stdin',
    value: 'FILE',
    help: 'read stdin from FILE',
    apply: (p, v) => {
      p.stdin = v;
    },
  },
  {
    name: '--stdout',
    value: 'FILE',
    help: 'write stdout to FILE (created or truncated)',
    apply: (p, v) => {
      p.stdout = v;
    },
  },
  {
    name: '--stderr',
    value: 'FILE',
    help: 'write stderr to FILE (created or truncated)',
    apply: (p, v) => {
      p.stderr = v;
    },
  },
  {
    name: '--timeout',
    value: 'SECONDS',
    help: 'send --signal (TERM) after this long, SIGKILL --kill-after (0.1 s) later; exit 124',
    apply: (p, v) => {
      const s = Number(v);
      // run()'s timeout takes up to 2^53-1 ms (about 285,000 years); longer than setTimeout's
      // 2^31-1 ms (24.8 days) is fine: run() chains its timers.
      if (!/^\d+(\.\d+)?$/.test(v) || !(s > 0) || s * 1000 > Number.MAX_SAFE_INTEGER) {
        throw badValue('--timeout', v, `a number of seconds > 0 and <= ${Math.floor(Number.MAX_SAFE_INTEGER / 1000)}`);
      }
      p.timeoutMs = Math.max(1, Math.round(s * 1000));
    },
  },
  ...ENV_NICE_TIMEOUT_STOP_OPTIONS,
  {
    name: '--dry-run',
    help: 'print the command line that would run, and exit',
    apply: (p) => {
      p.dryRun = true;
    },
  },
  {
    name: '--help',
    short: '-h',
    help: 'show this help',
    apply: (p) => {
      p.help = true;
    },
  },
  {
    name: '--version',
    help: 'show the version',
    apply: (p) => {
      p.version = true;
    },
  },
];

/** The --help text. */
function helpText(): string {
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

/**
 * Parses the command line: options, then `--` or the first word that is not an option,
 * then the program and its arguments.
 * @throws {CliError} for an unknown option, a missing or bad value, or no program
 */
function parseArgs(argv: readonly string[]): { plan: CliPlan; program: string[] } {
  const plan: CliPlan = {
    steps: [],
    needsParent: false,
    stdin: null,
    stdout: null,
    stderr: null,
    timeoutMs: 0,
    timeoutSignal: null,
    killAfterMs: null,
    stop: null,
    daemonize: false,
    pidFile: false,
    setsid: false,
    dryRun: false,
    help: false,
    version: false,
  };
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

// The package's version, from the package.json next to dist/.
function version(): string {
  try {
    const pkg = JSON.parse(fs.readFileSync(path.join(__dirname, '..', 'package.json'), 'utf8')) as { version?: string };
    return pkg.version ?? 'unknown';
  } catch {
    return 'unknown';
  }
}

// Writes synchronously: process.stdout would make a pipe non-blocking for the program too.
function write(fd: number, text: string): void {
  fs.writeSync(fd, text);
}

// The Command of the plan. A value the builder rejects is a usage error of the option that
// gave it, in the option's words (usageText()); the program itself is checked first.
function buildCommand(plan: CliPlan, program: readonly string[]): Command {
  let cmd: Command;
  try {
    cmd = Command.newArgs(program);
  } catch (err) {
    if (err instanceof TypeError || err instanceof RangeError) throw new CliError('usage', `PROGRAM: ${usageText(err.message)}`);
    throw err;
  }
  for (const s of plan.steps) {
    try {
      s(cmd);
    } catch (err) {
      if (err instanceof TypeError || err instanceof RangeError) throw new CliError('usage', `${STEP_OPTION.get(s) ?? 'options'}: ${usageText(err.message)}`);
      throw err;
    }
  }
  return cmd;
}

// Opens --stdin/--stdout/--stderr and hands the fds to the command; unset streams are
// vircommand's own 0, 1 and 2 (a daemon's stay /dev/null).
function redirect(cmd: Command, plan: CliPlan): void {
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

// strerror() text of a positive or negative errno.
function errnoText(errno: number, fallback: string): string {
  const text = util.getSystemErrorMap().get(-Math.abs(errno))?.[1];
  return text ? text.charAt(0).toUpperCase() + text.slice(1) : fallback;
}

// --dry-run: the run's own checks, then the command line, without spawning.
function dryRun(cmd: Command, plan: CliPlan): number {
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

// Signals vircommand passes on to the program while it waits. SIGINT and SIGQUIT from a
// terminal reach the program's process group already; they are passed on only when the
// program runs in a session of its own.
const FORWARDED: readonly NodeJS.Signals[] = ['SIGTERM', 'SIGHUP', 'SIGINT', 'SIGQUIT', 'SIGUSR1', 'SIGUSR2'];

/** How the program ended: its exit status, or the name of the signal that killed it. */
interface ProgramEnd {
  exitStatus: number | null;
  signal: string | null;
}

// Runs the command, passing signals on, and returns how it ended. The run's status policy
// throws for a non-zero exit or a signal (stage null) and for a failed setup step (stage set).
async function runAndWait(cmd: Command, plan: CliPlan): Promise<ProgramEnd> {
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

/**
 * --timeout with --signal other than SIGTERM: vircommand's own timers send that signal, then
 * SIGKILL --kill-after later (run()'s timeout sends SIGTERM only). null when run()'s timeout
 * does it. check() throws the timeout (exit 124) once the timer has fired.
 */
function timeoutBySignal(cmd: Command, plan: CliPlan): { start(): void; check(): void; clear(): void } | null {
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

/**
 * Exits with the program's status: the same exit status, or the same signal raised on
 * this process with its default action (libvirt's virProcessExitWithStatus), 128+N if
 * that does not end it.
 */
function exitWithStatus(end: ProgramEnd): never {
  const number = end.signal === null ? undefined : (os.constants.signals as Record<string, number>)[end.signal];
  if (end.signal === null || number === undefined) process.exit(end.exitStatus ?? EXIT_CANCELED);
  const signal = end.signal as NodeJS.Signals;
  // Adding and removing a listener leaves the signal at SIG_DFL (libuv resets it), also
  // for SIGPIPE, which Node ignores. SIGKILL and SIGSTOP cannot be listened to.
  const noop = (): void => {};
  try {
    process.on(signal, noop);
    process.removeListener(signal, noop);
  } catch {
    // keeps its default action anyway
  }
  try {
    process.kill(process.pid, signal);
  } catch {
    // fall through to the exit status
  }
  process.exit(128 + number);
}

// The exit status and one-line message of a failure.
function describeFailure(err: unknown): { status: number; line: string } {
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

/** Runs the command line `argv` (without node and the script); returns only when it does not exec. */
async function main(argv: readonly string[]): Promise<number | ProgramEnd> {
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

if (require.main === module) {
  main(process.argv.slice(2)).then(
    (result) => (typeof result === 'number' ? process.exit(result) : exitWithStatus(result)),
    (err: unknown) => {
      const { status, line } = describeFailure(err);
      write(2, `vircommand: ${line}\n`);
      process.exit(status);
    },
  );
}
