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
import { Command, EXIT_CANCELED, isCommandError, setDryRun } from './index';
import type { CapabilityInput, CommandError, RlimitName, SignalInput } from './index';
import { lookupGroup, lookupUser } from './user-db';
import { type ContainerCliPlan, containerOptions } from './cli-container';
import { pidfileDetailOf } from './pidfile-failure';

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

const OPTIONS: readonly OptionSpec[] = [
  { name: '--env-pass-common', help: 'pass LC_ALL=C and PATH, HOME, USER, LOGNAME, TMPDIR, LD_PRELOAD, LD_LIBRARY_PATH', apply: (p) => p.steps.push((c) => c.addEnvPassCommon()) },
  { name: '--env-pass', value: 'NAME', help: "pass this variable of vircommand's environment, if set", apply: (p, v) => p.steps.push((c) => c.addEnvPass(v)) },
  {
    name: '--env', value: 'K=V', help: 'set a variable',
    apply: (p, v) => {
      if (v.indexOf('=') < 1) throw badValue('--env', v, 'NAME=VALUE');
      p.steps.push((c) => c.addEnvString(v));
    },
  },
  { name: '--clear-env', help: 'start from an empty environment', apply: (p) => p.steps.push(clearEnv) },
  { name: '--cwd', value: 'DIR', help: 'working directory of the program', apply: (p, v) => p.steps.push((c) => c.setWorkingDirectory(v)) },
  {
    name: '--umask', value: 'MASK', help: 'umask, octal (0 is a real umask)',
    apply: (p, v) => {
      if (!/^[0-7]{1,4}$/.test(v) || parseInt(v, 8) > 0o777) throw badValue('--umask', v, 'an octal mask up to 0777');
      p.steps.push((c) => c.setUmask(parseInt(v, 8)));
    },
  },
  {
    name: '--uid', value: 'USER', help: "user id or name; alone it keeps vircommand's group (root's 0): use --user",
    apply: (p, v) => {
      const id = parseId('--uid', v, 'user');
      p.steps.push((c) => c.setUID(id));
    },
  },
  {
    name: '--gid', value: 'GROUP', help: 'group id or name',
    apply: (p, v) => {
      const id = parseId('--gid', v, 'group');
      p.steps.push((c) => c.setGID(id));
    },
  },
  {
    name: '--groups', value: 'G1,G2', help: 'supplementary groups, ids or names (empty: none)',
    apply: (p, v) => {
      const ids = v === '' ? [] : v.split(',').map((g) => parseId('--groups', g, 'group'));
      p.steps.push((c) => c.setGroups(ids));
    },
  },
  ...containerOptions((message) => new CliError('usage', message)),
  { name: '--clear-caps', help: 'drop every capability', apply: (p) => p.steps.push((c) => c.clearCaps()) },
  {
    name: '--allow-cap', value: 'CAP', help: 'keep this capability (CAP_NET_ADMIN, net_admin or a number)',
    apply: (p, v) => p.steps.push((c) => c.allowCap(/^\d+$/.test(v) ? Number(v) : (v as CapabilityInput))), // allowCap() checks the name
  },
  {
    name: '--rlimit', value: 'NAME=SOFT[:HARD]', help: "resource limit (NOFILE=1024, CORE=0, STACK=8388608:unlimited)",
    apply: (p, v) => {
      const l = parseRlimit(v);
      p.steps.push((c) => c.setRlimit(l.resource as RlimitName, l.soft, l.hard));
    },
  },
  { name: '--no-new-privs', help: 'set no_new_privs', apply: (p) => p.steps.push((c) => c.setNoNewPrivs()) },
  {
    name: '--setsid', help: 'run the program in a new session',
    apply: (p) => {
      p.setsid = true;
      p.steps.push((c) => c.setsid());
    },
  },
  {
    name: '--pdeathsig', value: 'SIG', help: 'signal the program gets when its parent dies (TERM, SIGKILL, 9)',
    apply: (p, v) => p.steps.push((c) => c.setParentDeathSignal(/^\d+$/.test(v) ? Number(v) : (v.toUpperCase() as SignalInput))),
  },
  {
    name: '--daemonize', help: 'run the program as a daemon; exit once it is started',
    apply: (p) => {
      p.daemonize = true;
      p.steps.push((c) => c.daemonize());
    },
  },
  {
    name: '--pidfile', value: 'FILE', help: 'the daemon writes its pid here and keeps it locked (needs --daemonize)',
    apply: (p, v) => {
      p.pidFile = true;
      p.steps.push((c) => c.setPidFile(v));
    },
  },
  {
    name: '--pass-fd', value: 'N', help: 'keep fd N open in the program',
    apply: (p, v) => {
      const fd = parseCount('--pass-fd', v);
      p.steps.push((c) => c.passFD(fd));
    },
  },
  { name: '--stdin', value: 'FILE', help: 'read stdin from FILE', apply: (p, v) => { p.stdin = v; } },
  { name: '--stdout', value: 'FILE', help: 'write stdout to FILE (created or truncated)', apply: (p, v) => { p.stdout = v; } },
  { name: '--stderr', value: 'FILE', help: 'write stderr to FILE (created or truncated)', apply: (p, v) => { p.stderr = v; } },
  {
    name: '--timeout', value: 'SECONDS', help: 'SIGTERM the program after this long (SIGKILL 100 ms later); exit 124',
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
  { name: '--dry-run', help: 'print the command line that would run, and exit', apply: (p) => { p.dryRun = true; } },
  { name: '--help', short: '-h', help: 'show this help', apply: (p) => { p.help = true; } },
  { name: '--version', help: 'show the version', apply: (p) => { p.version = true; } },
];

/** The --help text. */
function helpText(): string {
  const rows = OPTIONS.map((o) => [(o.short ? `${o.short}, ` : '') + (o.value ? `${o.name} ${o.value}` : o.name), o.help]);
  const width = Math.max(...rows.map(([left]) => left.length));
  return [
    'Usage: vircommand [options] -- PROGRAM [ARGS...]',
    '',
    "Runs PROGRAM with libvirt's virCommand setup (vircommand's Command builder). Without",
    '--timeout, --daemonize, a new pid namespace or id maps, vircommand replaces itself with',
    "PROGRAM; otherwise it waits and exits with PROGRAM's status (a signal death is passed",
    'on as the same signal).',
    'Any --env, --env-pass, --env-pass-common or --clear-env gives PROGRAM a clean',
    'environment holding only what they add; with none of them it inherits all of it.',
    '',
    'Options:',
    ...rows.map(([left, help]) => `  ${left.padEnd(width)}  ${help}`),
    '',
    'Exit status: that of PROGRAM; 124 if --timeout ended it; 125 if vircommand or a setup',
    'step failed; 126 if PROGRAM could not be executed; 127 if it was not found.',
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
    steps: [], needsParent: false, stdin: null, stdout: null, stderr: null, timeoutMs: 0,
    daemonize: false, pidFile: false, setsid: false, dryRun: false, help: false, version: false,
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
    spec.apply(plan, value);
  }
  const program = argv.slice(i);
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

// The Command of the plan; a builder that rejects a value fails stage 'setup'.
function buildCommand(plan: CliPlan, program: readonly string[]): Command {
  try {
    const cmd = Command.newArgs(program);
    for (const s of plan.steps) s(cmd);
    return cmd;
  } catch (err) {
    if (err instanceof TypeError || err instanceof RangeError) throw new CliError('setup', err.message);
    throw err;
  }
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
  const done = cmd.run({ timeout: plan.timeoutMs });
  const ownGroup = plan.setsid || plan.daemonize;
  const forward = (signal: NodeJS.Signals): void => {
    if (!ownGroup && (signal === 'SIGINT' || signal === 'SIGQUIT')) return;
    const pid = cmd.pid;
    if (pid !== null) {
      try {
        process.kill(pid, signal);
      } catch {
        // already gone
      }
    }
  };
  for (const s of FORWARDED) process.on(s, forward);
  try {
    await done;
    return { exitStatus: 0, signal: null };
  } catch (err) {
    if (isCommandError(err) && err.stage === null && err.code === undefined && (err.exitStatus !== null || err.signal !== null)) {
      return { exitStatus: err.exitStatus, signal: err.signal };
    }
    throw err;
  } finally {
    for (const s of FORWARDED) process.removeListener(s, forward);
  }
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
  if (err instanceof CliError) return { status: EXIT_CANCELED, line: `${err.stage}: ${err.message}` };
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
    const what = e.message.slice(at + marker.length).replace(/^: /, '').split('\n')[0];
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
