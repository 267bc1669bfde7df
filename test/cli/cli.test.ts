/**
 * The `vircommand` command line, end to end: src/ is compiled with tsc into a temporary
 * package root (dist/ plus links to package.json, node_modules, build/ and prebuilds/, so
 * the addon is found exactly as the installed package finds it), and `node dist/cli/index.js`
 * runs there. The shared dist/ is never written.
 */
import { spawn, spawnSync, type SpawnSyncOptions } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { REPO_ROOT } from '../helpers/build-helper';
import { useInvariants } from '../helpers/invariants';
import { isAlive, procStat, waitFor } from '../helpers/proc';
import { describeRoot } from '../helpers/root';
import { makeTmpDir, useTmpDir } from '../helpers/tmp';

let CLI = '';

beforeAll(() => {
  const root = makeTmpDir('vc-cli-');
  const tsc = path.join(REPO_ROOT, 'node_modules', 'typescript', 'bin', 'tsc');
  const r = spawnSync(process.execPath, [tsc, '-p', path.join(REPO_ROOT, 'tsconfig.build.json'), '--outDir', path.join(root, 'dist')], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`tsc failed:\n${r.stdout}${r.stderr}`);
  for (const name of ['package.json', 'node_modules', 'build', 'prebuilds']) {
    fs.symlinkSync(path.join(REPO_ROOT, name), path.join(root, name));
  }
  CLI = path.join(root, 'dist', 'cli', 'index.js');
}, 180_000);

interface CliResult {
  pid: number;
  status: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

// Runs `node dist/cli/index.js ...args` to the end.
function cli(args: string[], opts: SpawnSyncOptions = {}): CliResult {
  const r = spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8', timeout: 20_000, ...opts });
  if (r.error) throw r.error;
  return { pid: r.pid ?? 0, status: r.status, signal: r.signal, stdout: String(r.stdout), stderr: String(r.stderr) };
}

// The one line a failure prints.
function expectFailureLine(r: CliResult, status: number, pattern: RegExp): void {
  expect(r.status).toBe(status);
  expect(r.stderr.endsWith('\n')).toBe(true);
  expect(r.stderr.trimEnd().split('\n')).toHaveLength(1);
  expect(r.stderr).toMatch(pattern);
}

// Modes: in place (no parent needed), and run-and-wait (forced by --timeout).
const MODES = [
  { name: 'exec in place', extra: [] as string[] },
  { name: 'run and wait', extra: ['--timeout', '60'] },
];

describe('vircommand CLI', () => {
  useInvariants();
  const tmp = useTmpDir('vc-cli-t-');

  it('--help lists every option and exits 0', () => {
    const r = cli(['--help']);
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/^Usage: vircommand \[options\] -- PROGRAM \[ARGS\.\.\.\]/);
    for (const opt of [
      '--env-pass-common',
      '--env-pass NAME',
      '--env K=V',
      '--clear-env',
      '--cwd DIR',
      '--umask MASK',
      '--uid',
      '--gid',
      '--groups',
      '--clear-caps',
      '--allow-cap CAP',
      '--rlimit NAME=SOFT[:HARD]',
      '--no-new-privs',
      '--setsid',
      '--pdeathsig SIG',
      '--daemonize',
      '--pidfile FILE',
      '--pass-fd N',
      '--stdin FILE',
      '--stdout FILE',
      '--stderr FILE',
      '--timeout SECONDS',
      '--nice N',
      '--signal SIG',
      '--kill-after SECONDS',
      '--stop PIDFILE',
      '--env-pass-all',
      '--dry-run',
      '-h, --help',
      '--version',
    ]) {
      expect(r.stdout).toContain(`  ${opt}`);
    }
  });

  it('-h is --help', () => {
    const long = cli(['--help']);
    expect(cli(['-h'])).toMatchObject({ status: 0, stdout: long.stdout, stderr: '' });
    expect(cli(['--env', 'A=1', '-h'])).toMatchObject({ status: 0, stdout: long.stdout });
  });

  it('--version prints the package version', () => {
    const pkg = JSON.parse(fs.readFileSync(path.join(REPO_ROOT, 'package.json'), 'utf8')) as { version: string };
    const r = cli(['--version']);
    expect(r).toMatchObject({ status: 0, stdout: `vircommand ${pkg.version}\n` });
  });

  it('dist/cli/index.js starts with a node shebang (the package bin)', () => {
    expect(fs.readFileSync(CLI, 'utf8').split('\n')[0]).toBe('#!/usr/bin/env node');
  });

  it("execs in place when no parent is needed: the program has the CLI process's pid", () => {
    const r = cli(['--', '/bin/sh', '-c', 'echo $$']);
    expect(r.status).toBe(0);
    expect(Number(r.stdout)).toBe(r.pid);
  });

  it('with --timeout it runs the program as its child and waits', () => {
    const r = cli(['--timeout', '60', '--', '/bin/sh', '-c', 'echo $PPID']);
    expect(r.status).toBe(0);
    expect(Number(r.stdout)).toBe(r.pid);
  });

  it('accepts options as --name=value and a program without --', () => {
    const r = cli(['--env=A=1', '--cwd=/', 'sh', '-c', 'echo "$A $(pwd)"']);
    expect(r).toMatchObject({ status: 0, stdout: '1 /\n' });
  });

  for (const mode of MODES) {
    describe(mode.name, () => {
      it('passes stdin, stdout and stderr through', () => {
        const r = cli([...mode.extra, '--', 'sh', '-c', 'read x; echo "out $x"; echo "err $x" >&2'], { input: 'hello\n' });
        expect(r).toMatchObject({ status: 0, stdout: 'out hello\n', stderr: 'err hello\n' });
      });

      it("exits with the program's exit status", () => {
        expect(cli([...mode.extra, '--', 'sh', '-c', 'exit 3']).status).toBe(3);
      });

      it('dies of the signal that killed the program (SIGTERM, and SIGPIPE which Node ignores)', () => {
        for (const sig of ['TERM', 'PIPE', 'USR1'] as const) {
          const r = cli([...mode.extra, '--', 'sh', '-c', `kill -${sig} $$`]);
          expect({ sig, status: r.status, signal: r.signal }).toEqual({ sig, status: null, signal: `SIG${sig}` });
        }
      });

      it('127 with one line naming the stage when the program is not in PATH', () => {
        const r = cli([...mode.extra, '--', 'vircommand-no-such-program']);
        expectFailureLine(r, 127, /^vircommand: exec: vircommand-no-such-program: not found in PATH\n$/);
      });

      it('127 for a program path that does not exist', () => {
        const r = cli([...mode.extra, '--', '/nonexistent/prog']);
        expectFailureLine(r, 127, /^vircommand: exec: /);
      });

      it('126 for a program that cannot be executed', () => {
        const file = path.join(tmp.path, 'not-executable');
        fs.writeFileSync(file, 'echo no\n', { mode: 0o644 });
        expectFailureLine(cli([...mode.extra, '--', file]), 126, /^vircommand: exec\b/);
      });

      it('125 with the stage when a setup step fails in the child', () => {
        const r = cli([...mode.extra, '--cwd', '/nonexistent/dir', '--', 'true']);
        // The same words in place (printed by the child, native/child/child_exec.cc) and waiting.
        expectFailureLine(r, 125, /^vircommand: chdir: ENOENT \(No such file or directory\): \/nonexistent\/dir\n$/);
      });

      it('--clear-env, --env, --env-pass and --env-pass-common build the environment', () => {
        const env = { ...process.env, VC_CLI_A: 'a', VC_CLI_B: 'b b' };
        expect(cli([...mode.extra, '--', '/usr/bin/env'], { env }).stdout).toContain('VC_CLI_B=b b\n');
        expect(cli([...mode.extra, '--clear-env', '--', '/usr/bin/env'], { env }).stdout).toBe('');
        const some = cli([...mode.extra, '--env', 'X=1', '--env-pass', 'VC_CLI_A', '--env-pass', 'VC_CLI_UNSET', '--env', 'X=2', '--', '/usr/bin/env'], {
          env,
        });
        expect(some.stdout).toBe('X=2\nVC_CLI_A=a\n');
        const common = cli([...mode.extra, '--env-pass-common', '--', '/usr/bin/env'], { env });
        expect(common.stdout.split('\n')[0]).toBe('LC_ALL=C');
        expect(common.stdout).toContain(`PATH=${process.env.PATH}\n`);
        expect(common.stdout).not.toContain('VC_CLI_A');
      });

      it('--cwd and --umask (octal, 0 included)', () => {
        const r = cli([...mode.extra, '--cwd', tmp.path, '--umask', '0', '--', 'sh', '-c', 'pwd; umask']);
        expect(r.stdout).toBe(`${tmp.path}\n0000\n`);
        expect(cli([...mode.extra, '--umask', '027', '--', 'sh', '-c', 'umask']).stdout).toBe('0027\n');
      });

      it('--stdin, --stdout and --stderr redirect to files', () => {
        const input = path.join(tmp.path, 'in');
        const out = path.join(tmp.path, 'out');
        const err = path.join(tmp.path, 'err');
        fs.writeFileSync(input, 'from file\n');
        fs.writeFileSync(out, 'old content that must be truncated\n');
        const r = cli([...mode.extra, '--stdin', input, '--stdout', out, '--stderr', err, '--', 'sh', '-c', 'cat; echo oops >&2']);
        expect(r).toMatchObject({ status: 0, stdout: '', stderr: '' });
        expect(fs.readFileSync(out, 'utf8')).toBe('from file\n');
        expect(fs.readFileSync(err, 'utf8')).toBe('oops\n');
      });

      it('--rlimit NAME=SOFT[:HARD]', () => {
        const r = cli([
          ...mode.extra,
          '--rlimit',
          'NOFILE=64:128',
          '--rlimit',
          'core=0:unlimited',
          '--',
          'sh',
          '-c',
          'ulimit -Sn; ulimit -Hn; ulimit -Sc; ulimit -Hc',
        ]);
        expect(r.stdout).toBe('64\n128\n0\nunlimited\n');
      });

      it('--setsid and --no-new-privs', () => {
        const r = cli([
          ...mode.extra,
          '--setsid',
          '--no-new-privs',
          '--',
          'sh',
          '-c',
          'echo $$ $(cut -d" " -f6 /proc/$$/stat); grep NoNewPrivs /proc/self/status',
        ]);
        const [ids, nnp] = r.stdout.split('\n');
        const [pid, sid] = ids.split(' ');
        expect(sid).toBe(pid); // sh leads its own session
        expect(nnp).toMatch(/^NoNewPrivs:\s+1$/);
        const plain = cli([...mode.extra, '--', 'sh', '-c', 'echo $$ $(cut -d" " -f6 /proc/$$/stat)'])
          .stdout.trim()
          .split(' ');
        expect(plain[1]).not.toBe(plain[0]);
      });

      it('--pass-fd keeps an fd open in the program', () => {
        const r = spawnSync(process.execPath, [CLI, ...mode.extra, '--pass-fd', '3', '--', 'sh', '-c', 'echo through-3 >&3'], {
          stdio: ['ignore', 'pipe', 'pipe', 'pipe'],
          encoding: 'utf8',
          timeout: 20_000,
        });
        expect(r.status).toBe(0);
        expect(String(r.output[3])).toBe('through-3\n');
        const closed = spawnSync(process.execPath, [CLI, ...mode.extra, '--', 'sh', '-c', 'echo through-3 >&3'], {
          stdio: ['ignore', 'pipe', 'pipe', 'pipe'],
          encoding: 'utf8',
          timeout: 20_000,
        });
        expect(closed.status).not.toBe(0);
        expect(String(closed.output[3])).toBe('');
      });
    });
  }

  it('--dry-run prints the toString form and runs nothing', () => {
    const marker = path.join(tmp.path, 'created');
    const r = cli(['--dry-run', '--env', 'A=b c', '--', 'touch', marker, 'two words']);
    expect(r).toMatchObject({ status: 0, stderr: '' });
    expect(r.stdout).toBe(`A='b c' touch ${marker} 'two words'\n`);
    expect(fs.existsSync(marker)).toBe(false);
  });

  it('--dry-run still checks the command as a run would (125, stage validate)', () => {
    const r = cli(['--dry-run', '--daemonize', '--cwd', tmp.path, '--', 'true']);
    expectFailureLine(r, 125, /^vircommand: validate: .*daemonized command cannot set working directory/);
  });

  it('--pidfile without --daemonize: a usage error that says to add --daemonize, before anything runs', () => {
    const pidfile = path.join(tmp.path, 'pid');
    const marker = path.join(tmp.path, 'ran');
    for (const extra of [[], ['--dry-run'], ['--timeout', '5']]) {
      const r = cli([...extra, '--pidfile', pidfile, '--', 'touch', marker]);
      expectFailureLine(r, 125, /^vircommand: usage: --pidfile needs --daemonize: .*add --daemonize/);
    }
    expect(fs.existsSync(marker)).toBe(false);
    expect(fs.existsSync(pidfile)).toBe(false);
  });

  it('--timeout ends the program: exit 124 and one line', () => {
    const started = Date.now();
    const r = cli(['--timeout', '0.3', '--', 'sleep', '30']);
    expect(Date.now() - started).toBeLessThan(10_000);
    expectFailureLine(r, 124, /^vircommand: timeout: .*timed out after 300 ms\n$/);
  });

  it("--timeout past setTimeout's 2^31-1 ms (30 days) waits for the program (it exited 124 at once)", () => {
    const r = cli(['--timeout', '2592000', '--', 'sh', '-c', 'sleep 0.2; exit 7']);
    expect({ status: r.status, stderr: r.stderr }).toEqual({ status: 7, stderr: '' });
    expectFailureLine(
      cli(['--timeout', '9007199254741', '--', 'true']),
      125,
      /^vircommand: usage: --timeout: expected a number of seconds > 0 and <= 9007199254740, got/,
    );
  });

  it('usage errors exit 125 with stage usage', () => {
    expectFailureLine(cli(['--bogus', '--', 'true']), 125, /^vircommand: usage: unknown option --bogus/);
    expectFailureLine(cli(['--cwd']), 125, /^vircommand: usage: --cwd needs a value DIR\n$/);
    expectFailureLine(cli(['--umask', '999', '--', 'true']), 125, /^vircommand: usage: --umask: expected an octal mask/);
    expectFailureLine(cli(['--rlimit', 'NOFILE', '--', 'true']), 125, /^vircommand: usage: --rlimit: expected NAME=SOFT\[:HARD\]/);
    expectFailureLine(cli(['--timeout', '-1', '--', 'true']), 125, /^vircommand: usage: --timeout: expected/);
    expectFailureLine(cli(['--setsid=yes', '--', 'true']), 125, /^vircommand: usage: --setsid takes no value\n$/);
    expectFailureLine(cli(['--setsid']), 125, /^vircommand: usage: no program given/);
    expectFailureLine(
      cli(['--uid', 'vircommand-no-such-user', '--', 'true']),
      125,
      /^vircommand: usage: --uid: no user 'vircommand-no-such-user' on this system \(give a number\)\n$/,
    );
    expectFailureLine(
      cli(['--gid', 'vircommand-no-such-group', '--', 'true']),
      125,
      /^vircommand: usage: --gid: no group 'vircommand-no-such-group' on this system/,
    );
    expectFailureLine(
      cli(['--groups', 'root,vircommand-no-such-group', '--', 'true']),
      125,
      /^vircommand: usage: --groups: no group 'vircommand-no-such-group'/,
    );
  });

  it('values the builder rejects are usage errors named by the option, never by an API method', () => {
    const cases: [string[], RegExp][] = [
      [['--allow-cap', 'CAP_NO_SUCH_THING'], /^vircommand: usage: --allow-cap: cap is not a known capability name: 'CAP_NO_SUCH_THING'\n$/],
      [['--pdeathsig', 'SIGNOPE'], /^vircommand: usage: --pdeathsig: signal is not a signal name: 'SIGNOPE'\n$/],
      [['--rlimit', 'BOGUS=1'], /^vircommand: usage: --rlimit: resource is not a resource name: 'BOGUS'\n$/],
      [['--rlimit', 'NOFILE=5:2'], /^vircommand: usage: --rlimit: soft must not be above hard/],
      [['--cwd', ''], /^vircommand: usage: --cwd: dir must not be empty\n$/],
    ];
    for (const [args, line] of cases) {
      const r = cli([...args, '--', 'true']);
      expectFailureLine(r, 125, line);
      expect(r.stderr).not.toMatch(/Command|setup|argument '/);
    }
  });

  it('--env-pass-all then --env: the whole environment, one variable overridden, one added', () => {
    const env = { ...process.env, VC_CLI_KEEP: 'kept', VC_CLI_OVER: 'parent' };
    const r = cli(['--env-pass-all', '--env', 'VC_CLI_OVER=child', '--env', 'VC_CLI_NEW=added', '--', 'env'], { env });
    expect(r.status).toBe(0);
    const got = new Map(
      r.stdout
        .trimEnd()
        .split('\n')
        .map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]),
    );
    expect(got.get('VC_CLI_KEEP')).toBe('kept');
    expect(got.get('VC_CLI_OVER')).toBe('child');
    expect(got.get('VC_CLI_NEW')).toBe('added');
    expect(got.get('PATH')).toBe(process.env.PATH);
  });

  it('--nice N runs the program at that nice value; a value out of -20..19 is a usage error', () => {
    const r = cli(['--nice', '7', '--', 'sh', '-c', 'cut -d" " -f19 /proc/$$/stat']);
    expect({ status: r.status, stdout: r.stdout, stderr: r.stderr }).toEqual({ status: 0, stdout: '7\n', stderr: '' });
    expectFailureLine(cli(['--nice', '20', '--', 'true']), 125, /^vircommand: usage: --nice: expected an integer from -20 to 19, got '20'\n$/);
  });

  it('--timeout with --signal INT: the program gets SIGINT (it may trap it), exit 124', () => {
    const r = cli(['--timeout', '0.3', '--signal', 'INT', '--', 'sh', '-c', 'trap "echo got INT; exit 3" INT; while :; do sleep 0.05; done']);
    expect(r.stdout).toBe('got INT\n');
    expectFailureLine(r, 124, /^vircommand: timeout: the program timed out after 300 ms \(sent SIGINT\)\n$/);
  });

  it('--timeout with --signal HUP: a program that exits 0 on it still ends vircommand with 124', () => {
    const r = cli(['--timeout', '0.3', '--signal', 'HUP', '--', 'sh', '-c', 'trap "exit 0" HUP; while :; do sleep 0.05; done']);
    expectFailureLine(r, 124, /^vircommand: timeout: the program timed out after 300 ms \(sent SIGHUP\)\n$/);
  });

  it('--timeout with --signal and --kill-after: a program that ignores the signal gets SIGKILL after that, exit 124', () => {
    const r = cli(['--timeout', '0.2', '--signal', 'USR1', '--kill-after', '0.3', '--', 'sh', '-c', 'trap "" USR1; echo ready; while :; do sleep 0.05; done']);
    expect(r.stdout).toBe('ready\n');
    expectFailureLine(r, 124, /^vircommand: timeout: the program timed out after 200 ms \(sent SIGUSR1\)\n$/);
  });

  it('--kill-after with the default SIGTERM: a program that ignores SIGTERM is killed after it, exit 124', () => {
    const r = cli(['--timeout', '0.2', '--kill-after', '0.2', '--', 'sh', '-c', 'trap "" TERM; while :; do sleep 0.05; done']);
    expectFailureLine(r, 124, /^vircommand: timeout: .*timed out after 200 ms\n$/);
    expectFailureLine(cli(['--kill-after', 'soon', '--timeout', '1', '--', 'true']), 125, /^vircommand: usage: --kill-after: expected a number of seconds/);
    expectFailureLine(cli(['--signal', 'NOPE', '--timeout', '1', '--', 'true']), 125, /^vircommand: usage: --signal: expected a signal name or number/);
    expectFailureLine(cli(['--signal', 'INT', '--', 'true']), 125, /^vircommand: usage: --signal needs --timeout \(or --stop\)/);
    expectFailureLine(cli(['--kill-after', '1', '--', 'true']), 125, /^vircommand: usage: --kill-after needs --timeout/);
  });

  it('--stop PIDFILE stops the daemon holding its lock and removes the file (start-stop-daemon --stop)', async () => {
    const pidfile = path.join(tmp.path, 'stop.pid');
    expect(cli(['--daemonize', '--pidfile', pidfile, '--', 'sleep', '30']).status).toBe(0);
    const pid = Number(fs.readFileSync(pidfile, 'utf8').trim());
    expect(isAlive(pid)).toBe(true);
    const r = cli(['--stop', pidfile]);
    expect({ status: r.status, stderr: r.stderr }).toEqual({ status: 0, stderr: '' });
    expect(await waitFor(() => !isAlive(pid), 5000)).toBe(true);
    expect(fs.existsSync(pidfile)).toBe(false);
  });

  it('--stop with nothing to stop exits 1 with one line; --stop with a program is a usage error', () => {
    const missing = path.join(tmp.path, 'none.pid');
    expectFailureLine(cli(['--stop', missing]), 1, /^vircommand: stop: .*none\.pid: nothing stopped: no such pidfile\n$/);
    const stale = path.join(tmp.path, 'stale.pid');
    fs.writeFileSync(stale, `${process.pid}\n`); // names a live process that holds no lock: never signalled
    expectFailureLine(cli(['--stop', stale, '--signal', 'KILL']), 1, /nothing stopped: nobody holds its lock/);
    expect(fs.existsSync(stale)).toBe(true);
    expectFailureLine(cli(['--stop', stale, '--', 'true']), 125, /^vircommand: usage: --stop takes no PROGRAM/);
  });

  it('a file for --stdout that cannot be opened exits 125 with the stream as the stage', () => {
    const r = cli(['--stdout', '/nonexistent/dir/out', '--', 'true']);
    expectFailureLine(r, 125, /^vircommand: stdout: \/nonexistent\/dir\/out: No such file or directory\n$/);
  });

  it('--daemonize --pidfile: exits 0 once the daemon runs; the pidfile names it', async () => {
    const pidfile = path.join(tmp.path, 'daemon.pid');
    const r = cli(['--daemonize', '--pidfile', pidfile, '--', 'sleep', '30']);
    expect(r).toMatchObject({ status: 0, stderr: '' });
    const pid = Number(fs.readFileSync(pidfile, 'utf8').trim());
    try {
      expect(isAlive(pid)).toBe(true);
      expect(procStat(pid)?.session).toBe(pid);
    } finally {
      process.kill(pid, 'SIGKILL');
    }
    expect(await waitFor(() => !isAlive(pid), 5000)).toBe(true);
  });

  it('--daemonize --setsid: accepted (the daemon leads its session already), exits 0', async () => {
    const pidfile = path.join(tmp.path, 'setsid.pid');
    const r = cli(['--daemonize', '--setsid', '--pidfile', pidfile, '--', 'sleep', '30']);
    expect(r).toMatchObject({ status: 0, stderr: '' });
    const pid = Number(fs.readFileSync(pidfile, 'utf8').trim());
    try {
      expect(procStat(pid)?.session).toBe(pid);
    } finally {
      process.kill(pid, 'SIGKILL');
    }
    expect(await waitFor(() => !isAlive(pid), 5000)).toBe(true);
  });

  it('--pidfile with a relative path: resolved against the caller\'s working directory, not "/"', async () => {
    const r = cli(['--daemonize', '--pidfile', 'rel.pid', '--', 'sleep', '30'], { cwd: tmp.path });
    expect(r).toMatchObject({ status: 0, stderr: '' });
    const pidfile = path.join(tmp.path, 'rel.pid');
    expect(fs.existsSync('/rel.pid'), 'the pidfile landed in /').toBe(false);
    const pid = Number(fs.readFileSync(pidfile, 'utf8').trim());
    try {
      expect(isAlive(pid)).toBe(true);
    } finally {
      process.kill(pid, 'SIGKILL');
    }
    expect(await waitFor(() => !isAlive(pid), 5000)).toBe(true);
  });

  it('--pidfile in a group-writable directory: exits 125 with one line naming the directory', () => {
    const dir = path.join(tmp.path, 'group');
    fs.mkdirSync(dir);
    fs.chmodSync(dir, 0o775);
    const pidfile = path.join(dir, 'd.pid');
    const r = cli(['--daemonize', '--pidfile', pidfile, '--', 'sleep', '30']);
    expectFailureLine(r, 125, new RegExp(`^vircommand: pidfile: ${pidfile}: directory ${dir} is group-writable without the sticky bit \\(mode 0775\\)\n$`));
    expect(fs.existsSync(pidfile)).toBe(false);
  });

  it('passes SIGTERM on to the program while it waits, then dies of it', async () => {
    const ready = path.join(tmp.path, 'ready');
    const child = spawn(process.execPath, [CLI, '--timeout', '60', '--', 'sh', '-c', `echo $$ > ${ready}.tmp; mv ${ready}.tmp ${ready}; exec sleep 30`], {
      stdio: 'ignore',
    });
    const ended = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
      child.on('exit', (code, signal) => resolve({ code, signal })),
    );
    expect(await waitFor(() => fs.existsSync(ready), 10_000)).toBe(true);
    const programPid = Number(fs.readFileSync(ready, 'utf8'));
    child.kill('SIGTERM');
    expect(await ended).toEqual({ code: null, signal: 'SIGTERM' });
    expect(await waitFor(() => !isAlive(programPid), 5000)).toBe(true);
  });

  it('--pdeathsig: the program gets the signal when the CLI dies', async () => {
    const ready = path.join(tmp.path, 'ready');
    const child = spawn(
      process.execPath,
      [CLI, '--timeout', '60', '--pdeathsig', 'TERM', '--', 'sh', '-c', `echo $$ > ${ready}.tmp; mv ${ready}.tmp ${ready}; exec sleep 30`],
      { stdio: 'ignore' },
    );
    const ended = new Promise<void>((resolve) => child.on('exit', () => resolve()));
    expect(await waitFor(() => fs.existsSync(ready), 10_000)).toBe(true);
    const programPid = Number(fs.readFileSync(ready, 'utf8'));
    child.kill('SIGKILL');
    await ended;
    expect(await waitFor(() => !isAlive(programPid), 5000)).toBe(true);
  });
});

describeRoot('vircommand CLI as root', () => {
  useInvariants();

  it('--uid/--gid/--groups by number and by name', () => {
    const r = cli(['--uid', '65534', '--gid', '65534', '--groups', '1,2', '--', 'sh', '-c', 'id -u; id -g; id -G']);
    expect(r.stdout).toBe('65534\n65534\n65534 1 2\n');
    const byName = cli(['--uid', 'nobody', '--gid', '0', '--groups', 'root', '--', 'id', '-u']);
    expect(byName.stdout).toBe('65534\n');
    const none = cli(['--uid', '65534', '--gid', '65534', '--groups', '', '--', 'id', '-G']);
    expect(none.stdout).toBe('65534\n');
  });

  it('user and group names come from the C library (NSS), not from reading /etc/passwd', (ctx) => {
    // In a private mount namespace, /etc/passwd and /etc/group lose nobody and nogroup; an NSS
    // module that synthesizes them (nss-systemd, "passwd: files systemd") still knows them.
    const dir = makeTmpDir('vc-cli-nss-');
    const drop = (file: string, names: string[]): string => {
      const out = path.join(dir, path.basename(file));
      const lines = fs
        .readFileSync(file, 'utf8')
        .split('\n')
        .filter((l) => !names.includes(l.split(':')[0]));
      fs.writeFileSync(out, lines.join('\n'));
      return out;
    };
    const passwd = drop('/etc/passwd', ['nobody']);
    const group = drop('/etc/group', ['nogroup', 'nobody']);
    const inNs = (cmd: string): CliResult => {
      const r = spawnSync(
        'unshare',
        ['-m', '/bin/sh', '-c', `mount --make-rprivate / && mount --bind ${passwd} /etc/passwd && mount --bind ${group} /etc/group && ${cmd}`],
        { encoding: 'utf8', timeout: 20_000 },
      );
      return { pid: r.pid ?? 0, status: r.status, signal: r.signal, stdout: String(r.stdout), stderr: String(r.stderr) };
    };
    const probe = inNs('grep -c "^nobody:" /etc/passwd; getent passwd nobody | cut -d: -f3; getent group nogroup | cut -d: -f3');
    if (probe.stdout !== '0\n65534\n65534\n') {
      console.log(`skipped: no NSS module here synthesizes nobody/nogroup without /etc/passwd (probe: ${JSON.stringify(probe)})`);
      ctx.skip();
    }
    const r = inNs(`exec "${process.execPath}" ${CLI} --uid nobody --gid nogroup --groups '' -- /bin/sh -c 'id -u; id -g'`);
    expect({ status: r.status, stdout: r.stdout, stderr: r.stderr }).toEqual({ status: 0, stdout: '65534\n65534\n', stderr: '' });
  });

  it('--clear-caps drops every capability; --allow-cap keeps one across the uid change', () => {
    const caps = (args: string[]): Record<string, string> => {
      const r = cli([...args, '--', 'cat', '/proc/self/status']);
      expect(r.status).toBe(0);
      return Object.fromEntries(
        r.stdout
          .split('\n')
          .filter((l) => l.startsWith('Cap'))
          .map((l) => l.split(/:\s+/)),
      );
    };
    expect(caps(['--clear-caps'])).toMatchObject({ CapEff: '0000000000000000', CapPrm: '0000000000000000', CapBnd: '0000000000000000' });
    const kept = caps(['--uid', '65534', '--gid', '65534', '--clear-caps', '--allow-cap', 'CAP_NET_BIND_SERVICE']);
    expect(kept).toMatchObject({ CapEff: '0000000000000400', CapAmb: '0000000000000400' });
  });
});
