/**
 * The option table of the `vircommand` program, in --help order: each option's name, its
 * value's name, its help line and what it adds to the plan (a builder step of the public API,
 * or a field of CliPlan that says how to run). parse-args.ts reads the command line with it;
 * help.ts prints it.
 */
import type { CapabilityInput, Command, RlimitName, SignalInput } from '../index';
import { CliError, badValue } from './cli-error';
import type { CliPlan } from './cli-plan';
import { containerOptions } from './container-options';
import { parseCount, parseId, parseNice, parseRlimit, parseSeconds, parseSignal, parseUmask } from './values';

/** One option: its name, its value's name (if it takes one), its help line and its effect. */
export interface OptionSpec {
  name: string;
  /** A one-letter alias ('-h'). */
  short?: string;
  value?: string;
  help: string;
  apply: (plan: CliPlan, value: string) => void;
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

/** Every option, in the order --help lists them. */
export const OPTIONS: readonly OptionSpec[] = [
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
      const mask = parseUmask(v);
      p.steps.push((c) => c.setUmask(mask));
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
      p.timeoutMs = parseSeconds('--timeout', v);
    },
  },
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
