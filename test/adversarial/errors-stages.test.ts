/**
 * Adversarial tests of errors and validation:
 * exec failures, setup-stage failures, hostile/crashing/hanging hooks, an
 * abandoned handshake, validation before any fork (checked with strace),
 * E2BIG, and fork failing with EAGAIN.
 *
 * Stage names are the API's (src/types.ts CommandStage): the failing
 * execve(2) is the stage `exec`.
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { Command, type CommandError, lastCapability } from '../../src/index';
import { useInvariants } from '../helpers/invariants';
import { childrenOf, procStat, sleep } from '../helpers/proc';
import { isRoot } from '../helpers/root';
import { useTmpDir } from '../helpers/tmp';
import { buildSupport, loadFdTool } from './support/build';
import { describeIf, itIf, rejectionOf, sanitizerSkip, thrownBy } from './support/common';
import { AS_NOBODY, nobodyPackage } from './support/nobody';
import { runScript, scriptOk } from './support/script';

useInvariants();
const tmp = useTmpDir('vc-adv-err-');
const sup = buildSupport();
const ft = loadFdTool();
const ERRNO = os.constants.errno as Record<string, number>;

const PICK = `const pick = (e) => ({ isCommandError: e instanceof vc.CommandError, name: e && e.name, code: e && e.code, stage: e && e.stage, errno: e && e.errno, path: e && e.path, pid: e && e.pid, exitStatus: e && e.exitStatus, message: String(e && e.message) });`;

/** The common shape of a stage failure: a CommandError with the expected code, errno and stage, which its message names. */
function expectStageError(e: CommandError, code: string, stage: string, what: string): void {
  expect(e, what).toBeInstanceOf(Error);
  expect(e.name, what).toBe('CommandError');
  expect({ code: e.code, errno: e.errno, stage: e.stage }, what).toEqual({ code, errno: ERRNO[code], stage });
  expect(e.message, `${what}: the message names the code`).toContain(code);
  expect(e.message, `${what}: the message names the stage`).toContain(stage);
}

// ---------------------------------------------------------------------------------------------
describe('exec failures are precise and leave no zombie', () => {
  interface Row {
    name: string;
    code: string;
    status: number;
    interpreter?: boolean;
    prog(dir: string): string;
  }
  const ROWS: Row[] = [
    { name: 'a missing program', code: 'ENOENT', status: 127, prog: () => '/nonexistent/prog' },
    { name: 'a directory (/tmp)', code: 'EACCES', status: 126, prog: () => '/tmp' },
    {
      name: 'a mode-0644 file',
      code: 'EACCES',
      status: 126,
      prog: (dir) => {
        const f = path.join(dir, 'mode-0644');
        fs.writeFileSync(f, '#!/bin/sh\nexit 0\n', { mode: 0o644 });
        return f;
      },
    },
    {
      name: 'garbage bytes with the x bit',
      code: 'ENOEXEC',
      status: 126,
      prog: (dir) => {
        const f = path.join(dir, 'garbage');
        fs.writeFileSync(f, Buffer.from([0x00, 0x13, 0x37, 0xfe, 0x47, 0x41, 0x52, 0x42, 0x41, 0x47, 0x45, 0x0a]), { mode: 0o755 });
        return f;
      },
    },
    {
      name: 'a #!/nonexistent/interp script',
      code: 'ENOENT',
      status: 127,
      interpreter: true,
      prog: (dir) => {
        const f = path.join(dir, 'bad-interp');
        fs.writeFileSync(f, '#!/nonexistent/interp\necho never\n', { mode: 0o755 });
        return f;
      },
    },
    { name: '/etc/passwd/x', code: 'ENOTDIR', status: 126, prog: () => '/etc/passwd/x' },
    { name: 'a 300-character path component', code: 'ENAMETOOLONG', status: 126, prog: () => `/tmp/${'a'.repeat(300)}` },
  ];

  for (const row of ROWS) {
    it(`${row.name}: ${row.code}, stage exec, path; already reaped (ECHILD); status mode gives ${row.status}`, async () => {
      const prog = row.prog(tmp.path);
      for (const mode of ['run', 'runSync'] as const) {
        const what = `${row.name} (${mode})`;
        const cmd = new Command(prog, 'arg');
        const e = mode === 'run' ? await rejectionOf<CommandError>(cmd.run(), what) : thrownBy<CommandError>(() => cmd.runSync(), what);
        expectStageError(e, row.code, 'exec', what);
        expect(e.path, `${what}: path`).toBe(prog);
        expect(e.message, `${what}: the message names the program`).toContain(prog);
        expect(e.pid, `${what}: a child was created`).toBeGreaterThan(0);
        expect(ft.waitpid(e.pid!, true), `${what}: waitpid(pid, WNOHANG)`).toEqual({ errno: ERRNO.ECHILD });
        expect(procStat(e.pid!), `${what}: no process left`).toBeNull();
        if (row.interpreter) {
          expect(e.message, `${what}: the message says the interpreter is missing`).toMatch(/interpreter/i);
        }
      }
      const r = await new Command(prog).run({ status: true });
      expect({ status: r.status, exitStatus: r.exitStatus, signal: r.signal }, 'run({ status: true })').toEqual({
        status: row.status,
        exitStatus: row.status,
        signal: null,
      });
      expect(new Command(prog).runSync({ status: true }).exitStatus, 'runSync({ status: true })').toBe(row.status);
    });
  }
});

// ---------------------------------------------------------------------------------------------
describe('setup-stage failures carry stage and errno, and are never success', () => {
  it('cwd /no/such: ENOENT at stage chdir, path is the cwd', async () => {
    const e = await rejectionOf<CommandError>(new Command('/bin/true').setWorkingDirectory('/no/such').run());
    expectStageError(e, 'ENOENT', 'chdir', 'run');
    expect(e.path).toBe('/no/such');
    expect(e.message).toContain('/no/such');
    const s = thrownBy<CommandError>(() => new Command('/bin/true').setWorkingDirectory('/no/such').runSync());
    expectStageError(s, 'ENOENT', 'chdir', 'runSync');
    expect(s.path).toBe('/no/such');
  });

  it('rlimit soft > hard is refused by the builder (RangeError, no fork); a limit the kernel refuses fails at stage rlimit', async () => {
    for (const [res, soft, hard] of [
      ['NOFILE', 100, 50],
      ['CORE', 4096, 1024],
    ] as const) {
      const e = thrownBy<Error>(() => new Command('/bin/true').setRlimit(res, soft, hard));
      expect(e, `${res} ${soft} > ${hard}`).toBeInstanceOf(RangeError);
      expect(e.message).toContain(`RLIMIT_${res}`);
    }
    // NOFILE above /proc/sys/fs/nr_open: EPERM from the kernel, even for root.
    const over = Number(fs.readFileSync('/proc/sys/fs/nr_open', 'utf8')) + 1;
    const e = await rejectionOf<CommandError>(new Command('/bin/true').setMaxFiles(over).run());
    expectStageError(e, 'EPERM', 'rlimit', `NOFILE ${over}`);
    const s = thrownBy<CommandError>(() => new Command('/bin/true').setMaxFiles(over).runSync());
    expectStageError(s, 'EPERM', 'rlimit', `NOFILE ${over} (runSync)`);
  });

  it('allowCap above /proc/sys/kernel/cap_last_cap is rejected by the builder, before any fork', () => {
    const last = Number(fs.readFileSync('/proc/sys/kernel/cap_last_cap', 'utf8'));
    expect(lastCapability()).toBe(last);
    const kids = childrenOf(process.pid).length;
    const e = thrownBy<Error & { code?: string }>(() => new Command('/bin/true').allowCap(last + 1));
    expect(e).toBeInstanceOf(RangeError);
    expect(e.code).toMatch(/^ERR_/);
    expect(e.message).toContain('allowCap');
    expect(e.message).toContain(String(last + 1));
    expect(childrenOf(process.pid).length).toBe(kids);
  });

  it("a hook that returns 0, then a failure at a later stage: that stage's error, never exit 0", async () => {
    const hook = { library: sup.hooks, symbol: 'hook_ok' };
    const e1 = await rejectionOf<CommandError>(new Command('/bin/true').setPreExecHook(hook).setWorkingDirectory('/no/such').run());
    expectStageError(e1, 'ENOENT', 'chdir', 'hook_ok + chdir');
    const e2 = await rejectionOf<CommandError>(new Command('/nonexistent/prog').setPreExecHook(hook).run());
    expectStageError(e2, 'ENOENT', 'exec', 'hook_ok + exec');
    const over = Number(fs.readFileSync('/proc/sys/fs/nr_open', 'utf8')) + 1;
    const e3 = await rejectionOf<CommandError>(new Command('/bin/true').setPreExecHook(hook).setMaxFiles(over).run());
    expectStageError(e3, 'EPERM', 'rlimit', 'rlimit + hook_ok');
    const s = await new Command('/bin/true')
      .setPreExecHook(hook)
      .setWorkingDirectory('/no/such')
      .run({ status: true })
      .then(
        (r) => r.status,
        (e: CommandError) => e.code,
      );
    expect(s, 'status mode').not.toBe(0);
  });

  const nonRootReason = isRoot
    ? (() => {
        const p = nobodyPackage();
        return 'reason' in p ? p.reason : null;
      })()
    : null;
  itIf(
    nonRootReason,
    'uid 0 asked by a non-root parent: EPERM at stage setuid',
    async () => {
      if (!isRoot) {
        const e = await rejectionOf<CommandError>(new Command('/bin/true').setUID(0).run());
        expectStageError(e, 'EPERM', 'setuid', 'run');
        return;
      }
      const pkg = nobodyPackage() as { entry: string };
      const r = await runScript(
        `
      ${PICK}
      const out = { uid: process.getuid() };
      try { await new vc.Command('/bin/true').setUID(0).run(); out.run = 'resolved'; } catch (e) { out.run = pick(e); }
      try { new vc.Command('/bin/true').setUID(0).runSync(); out.sync = 'returned'; } catch (e) { out.sync = pick(e); }
      emit(out);
    `,
        { prefix: AS_NOBODY, entry: pkg.entry, cwd: '/' },
      );
      const res = scriptOk(r);
      expect(res.uid).toBe(65534);
      for (const k of ['run', 'sync']) {
        expect(res[k], k).toMatchObject({ isCommandError: true, code: 'EPERM', errno: ERRNO.EPERM, stage: 'setuid' });
        expect(res[k].message).toMatch(/EPERM/);
        expect(res[k].message).toMatch(/setuid/);
      }
    },
    60000,
  );
});

// ---------------------------------------------------------------------------------------------
describe('a hostile hook cannot turn failure into success', () => {
  const hook = () => ({ library: sup.hooks, symbol: 'hook_close_all' });

  it('a hook that closes every fd >= 3, then /nonexistent: never a successful start', async () => {
    const e = await rejectionOf<CommandError>(new Command('/nonexistent').setPreExecHook(hook()).run());
    expect(e.code === 'ENOENT' || e.exitStatus === 127, `run: ${e.message}`).toBe(true);
    const s = thrownBy<CommandError>(() => new Command('/nonexistent').setPreExecHook(hook()).runSync());
    expect(s.code === 'ENOENT' || s.exitStatus === 127, `runSync: ${s.message}`).toBe(true);
    const st = await new Command('/nonexistent')
      .setPreExecHook(hook())
      .run({ status: true })
      .then(
        (r) => r.status,
        (x: CommandError) => x.code,
      );
    expect(st === 127 || st === 'ENOENT', `status mode gave ${st}`).toBe(true);
  });

  it('the rejection says why: ENOENT, or "status channel closed" with exit 127', async () => {
    const e = await rejectionOf<CommandError>(new Command('/nonexistent').setPreExecHook(hook()).run());
    if (e.code !== 'ENOENT') {
      expect(e.exitStatus).toBe(127);
      expect(e.message, 'the message explains the child failed before exec').toMatch(/status channel closed/i);
      expect(e.message).toMatch(/before exec/i);
    } else {
      expect(e.stage).toBe('exec');
    }
  });
});

// ---------------------------------------------------------------------------------------------
describe('hook failure, crash and hang; handshake abandoned', () => {
  const hook = (symbol: string) => ({ library: sup.hooks, symbol });

  it('(a) errno EDOM and -1: EDOM at stage hook', async () => {
    const e = await rejectionOf<CommandError>(new Command('/bin/true').setPreExecHook(hook('hook_edom')).run());
    expectStageError(e, 'EDOM', 'hook', 'run');
    const s = thrownBy<CommandError>(() => new Command('/bin/true').setPreExecHook(hook('hook_edom')).runSync());
    expectStageError(s, 'EDOM', 'hook', 'runSync');
  });

  it('(b) a NULL dereference: "child died with signal SIGSEGV (11) before exec"', async () => {
    const e = await rejectionOf<CommandError>(new Command('/bin/true').setPreExecHook(hook('hook_segv')).run());
    expect(e.signal).toBe('SIGSEGV');
    expect(e.signalNumber).toBe(11);
    expect(e.message).toMatch(/SIGSEGV \(11\)/);
    expect(e.message).toMatch(/before exec/);
  });

  it('(c) a hook that never returns, with timeout 300 ms: settles within 1 s', async () => {
    const t0 = performance.now();
    const e = await rejectionOf<CommandError>(new Command('/bin/true').setPreExecHook(hook('hook_hang')).run({ timeout: 300 }));
    expect(performance.now() - t0).toBeLessThan(1000);
    expect(e.code).toBe('ETIMEDOUT');
    expect(e.timedOut).toBe(true);
  });

  itIf(sanitizerSkip('a 1 s bound on a fork() path'), '(d) a handshake the parent never answers, then abort(): settles within 1 s', async () => {
    for (const how of ['runAsync', 'run'] as const) {
      const cmd = new Command('/bin/true').requireHandshake();
      const done = how === 'run' ? cmd.run() : (cmd.runAsync(), cmd.wait());
      const settled = done.then(
        () => 'resolved',
        (e: CommandError) => e.code,
      );
      await cmd.handshakeWait();
      const t0 = performance.now();
      await cmd.abort();
      expect(await settled, how).toBe('ABORT_ERR');
      expect(performance.now() - t0, `${how}: ms from abort() to settled`).toBeLessThan(1000);
    }
    // And without ever waiting for the handshake.
    const cmd = new Command('/bin/true').requireHandshake();
    const settled = cmd.run().then(
      () => 'resolved',
      (e: CommandError) => e.code,
    );
    await sleep(50);
    const t0 = performance.now();
    await cmd.abort();
    expect(await settled).toBe('ABORT_ERR');
    expect(performance.now() - t0).toBeLessThan(1000);
  });

  it('(e) after (a), 8 new fds in the parent: none takes the number of an fd the command still uses', async () => {
    const file = (n: string) => path.join(tmp.path, n);
    const keep = fs.openSync(file('keep'), 'w');
    const input = fs.openSync(file('in'), 'w+');
    const output = fs.openSync(file('out'), 'w');
    const ids = (fd: number) => JSON.stringify(ft.fstat(fd));
    const before = [keep, input, output].map(ids);
    const fresh: number[] = [];
    try {
      const e = await rejectionOf<CommandError>(
        new Command('/bin/true').passFD(keep).setInputFD(input).setOutputFD(output).setPreExecHook(hook('hook_edom')).run(),
      );
      expect(e.stage).toBe('hook');
      for (let i = 0; i < 8; i++) fresh.push(fs.openSync(file(`fresh${i}`), 'w'));
      for (const fd of [keep, input, output]) expect(fresh, `fd ${fd} of the command was closed early`).not.toContain(fd);
      expect([keep, input, output].map(ids)).toEqual(before);
    } finally {
      for (const fd of [keep, input, output, ...fresh]) fs.closeSync(fd);
    }
  });
});

// ---------------------------------------------------------------------------------------------
const straceReason = (() => {
  const r = spawnSync('strace', ['-f', '-qq', '-o', '/dev/null', '-e', 'trace=clone', 'true']);
  return r.status === 0 ? null : `strace cannot trace here: ${r.stderr?.toString().trim() || r.error?.message}`;
})();

describeIf(straceReason, 'validation before any fork', () => {
  it('NUL bytes, bad env names, non-strings, bad ids and fds: thrown or rejected, named, and strace sees no fork', async () => {
    const trace = path.join(tmp.path, 'trace');
    const r = await runScript(
      `
      const closed = fs.openSync('/dev/null', 'r');
      fs.closeSync(closed);
      const T = '/bin/true';
      const cases = [
        ['program NUL', 'program', () => new vc.Command('/bin/tr\\0ue')],
        ['args[2] NUL', 'args[2]', () => new vc.Command(T, 'a', 'b', 'c\\0d')],
        ['addArgList args[2] NUL', 'args[2]', () => new vc.Command(T).addArgList('a', 'b', 'c\\0d')],
        ['argv0 NUL', 'argv[0]', () => vc.Command.newArgs(['/bin/tr\\0ue', 'x'])],
        ['cwd NUL', 'dir', () => new vc.Command(T).setWorkingDirectory('/tmp\\0x')],
        ['env key NUL', 'name', () => new vc.Command(T).addEnvPair('A\\0B', 'v')],
        ['env value NUL', 'value', () => new vc.Command(T).addEnvPair('A', 'v\\0w')],
        ['env string NUL', 'entry', () => new vc.Command(T).addEnvString('A=v\\0w')],
        ['pidfile NUL', 'path', () => new vc.Command(T).daemonize().setPidFile('/tmp/p\\0id')],
        ['= in env key', 'name', () => new vc.Command(T).addEnvPair('A=B', 'v')],
        ['empty env key', 'name', () => new vc.Command(T).addEnvPair('', 'v')],
        ['empty env key in a string', 'entry', () => new vc.Command(T).addEnvString('=v')],
        ['number argument', 'value', () => new vc.Command(T).addArg(42)],
        ['object argument', 'value', () => new vc.Command(T).addArg({})],
        ['number in the constructor', 'args[0]', () => new vc.Command(T, 42)],
        ['uid -1', 'uid', () => new vc.Command(T).setUID(-1)],
        ['uid 2^32', 'uid', () => new vc.Command(T).setUID(2 ** 32)],
        ['uid 2^32-1', 'uid', () => new vc.Command(T).setUID(2 ** 32 - 1)],
        ['gid -1', 'gid', () => new vc.Command(T).setGID(-1)],
        ['gid 2^32', 'gid', () => new vc.Command(T).setGID(2 ** 32)],
        ['passFD -1', 'fd', () => new vc.Command(T).passFD(-1)],
        // A number never opened here, and one just closed (the lowest free number: the spawn's
        // own pipes or /dev/null would land on it).
        ['passFD of a never-opened fd', '9999', () => new vc.Command(T).passFD(9999)],
        ['passFD of a never-opened fd (runSync)', '9999', () => new vc.Command(T).passFD(9999), 'sync'],
        ['passFD of a just-closed fd', String(closed), () => new vc.Command(T).passFD(closed)],
        ['passFD of a just-closed fd (runSync)', String(closed), () => new vc.Command(T).passFD(closed), 'sync'],
      ];
      const pick = (e) => ({ name: e && e.name, code: e && e.code, stage: e && e.stage, message: String(e && e.message) });
      const marker = (name) => { try { process.chdir('/__vc_case__/' + encodeURIComponent(name)); } catch (e) {} };
      const out = [];
      for (const [name, field, fn, mode] of cases) {
        marker(name);
        let cmd;
        try { cmd = fn(); } catch (e) { out.push({ name, field, how: 'threw', err: pick(e) }); continue; }
        try {
          if (mode === 'sync') cmd.runSync(); else await cmd.run();
          out.push({ name, field, how: 'succeeded' });
        } catch (e) { out.push({ name, field, how: mode === 'sync' ? 'threw at run' : 'rejected', err: pick(e) }); }
      }
      marker('control');
      await new vc.Command(T).run();
      marker('end');
      emit(out);
    `,
      { prefix: ['strace', '-f', '-qq', '-o', trace, '-e', 'trace=clone,clone3,fork,vfork,chdir'], timeoutMs: 60000 },
    );
    const res = scriptOk(r) as { name: string; field: string; how: string; err?: { name: string; code: string; message: string } }[];

    // Which process-creating calls happened after each marker (threads excluded).
    const forks = new Map<string, string[]>();
    let current = '(startup)';
    for (const line of fs.readFileSync(trace, 'utf8').split('\n')) {
      const m = /^\d+\s+chdir\("\/__vc_case__\/([^"]*)"/.exec(line);
      if (m) {
        current = decodeURIComponent(m[1]);
        forks.set(current, []);
        continue;
      }
      if (/^\d+\s+(clone3?|fork|vfork)\(/.test(line) && !/CLONE_THREAD/.test(line)) forks.get(current)?.push(line);
    }
    expect(forks.get('control')?.length, 'the control run (/bin/true) is seen as exactly one fork').toBe(1);
    expect(res.length).toBe(25);
    const problems: string[] = [];
    for (const c of res) {
      const seen = forks.get(c.name);
      if (!seen) problems.push(`${c.name}: no marker in the trace`);
      else if (seen.length > 0) problems.push(`${c.name}: a process was created (${c.how}: ${c.err?.code} ${c.err?.message}):\n    ${seen.join('\n    ')}`);
      if (c.how === 'succeeded') {
        problems.push(`${c.name}: the run succeeded`);
        continue;
      }
      if (!/^(ERR_INVALID_ARG_VALUE|ERR_INVALID_ARG_TYPE|ERR_OUT_OF_RANGE|EBADF)$/.test(String(c.err!.code))) {
        problems.push(`${c.name}: code ${c.err!.code} (${c.err!.message})`);
      }
      if (!c.err!.message.includes(c.field)) problems.push(`${c.name}: the message does not name ${c.field}: ${c.err!.message}`);
      if (c.name.includes('NUL') && !/NUL/.test(c.err!.message)) problems.push(`${c.name}: the message does not say NUL: ${c.err!.message}`);
    }
    expect(problems).toEqual([]);
  }, 90000);
});

// ---------------------------------------------------------------------------------------------
describe('size limits give E2BIG', () => {
  const SIZE_OR_ITEM = /\b\d+ bytes\b|\b(args|argv|env)\[\d+\]/;

  it('(b) one argument of 131071 bytes runs', async () => {
    const r = await new Command('/bin/true', 'a'.repeat(131071)).run();
    expect(r.exitStatus).toBe(0);
  });

  const rows: [string, () => Command][] = [
    ['(a) one argument of 131072 bytes', () => new Command('/bin/true', 'a'.repeat(131072))],
    [
      '(c) 4000 env entries of 600 bytes',
      () => {
        const c = new Command('/bin/true');
        for (let i = 0; i < 4000; i++) c.addEnvString(`V${String(i).padStart(4, '0')}=${'x'.repeat(600 - 6)}`);
        return c;
      },
    ],
    ['(d) one env value of 131072 bytes', () => new Command('/bin/true').addEnvPair('BIG', 'x'.repeat(131072))],
  ];
  for (const [name, make] of rows) {
    it(`${name}: E2BIG at stage exec, the message gives the sizes or the item`, async () => {
      const e = await rejectionOf<CommandError>(make().run());
      expectStageError(e, 'E2BIG', 'exec', 'run');
      expect(e.pid, 'the failed child').toBeGreaterThan(0);
      expect(procStat(e.pid!)).toBeNull();
      const tail = e.message.slice(e.message.lastIndexOf(')'));
      expect(tail, 'after the command line, the message gives a size or names the item').toMatch(SIZE_OR_ITEM);
      const s = thrownBy<CommandError>(() => make().runSync());
      expectStageError(s, 'E2BIG', 'exec', 'runSync');
    });
  }
});

// ---------------------------------------------------------------------------------------------
/** A pids controller we can make a child group in: cgroup v1 "pids", or v2 with pids enabled. */
function pidsCgroupRoot(): { dir: string } | { reason: string } {
  if (!isRoot) return { reason: 'not root' };
  for (const line of fs.readFileSync('/proc/self/mountinfo', 'utf8').split('\n')) {
    const [pre, post] = line.split(' - ');
    if (!post) continue;
    const [fstype, , opts] = post.split(' ');
    const mnt = pre.split(' ')[4];
    if (fstype === 'cgroup' && opts.split(',').includes('pids')) return { dir: mnt };
    if (fstype === 'cgroup2') {
      try {
        if (fs.readFileSync(path.join(mnt, 'cgroup.subtree_control'), 'utf8').split(/\s+/).includes('pids')) return { dir: mnt };
      } catch {
        // not readable
      }
    }
  }
  return { reason: 'no cgroup pids controller is mounted (v1 "pids", or v2 with +pids in the root\'s subtree_control)' };
}

const EAGAIN_SCRIPT = `
  ${PICK}
  const { mode, cg } = ARGS;
  const three = () => new vc.Command('/bin/true').setInputBuffer('x').setOutputBuffer({}).setErrorBuffer({});
  await three().run();                                  // addon loaded
  await fs.promises.readFile('/proc/self/status');      // libuv's threadpool started
  const RLIMIT_NPROC = 6;
  let saved = null;
  if (mode === 'cgroup') {
    fs.writeFileSync(cg + '/cgroup.procs', String(process.pid));
    fs.writeFileSync(cg + '/pids.max', fs.readFileSync(cg + '/pids.current', 'utf8').trim());
  } else {
    // Every task (thread) of our real uid counts against RLIMIT_NPROC.
    const uid = process.getuid();
    let tasks = 0;
    for (const n of fs.readdirSync('/proc')) {
      if (!/^\\d+$/.test(n)) continue;
      try {
        const st = fs.readFileSync('/proc/' + n + '/status', 'utf8');
        if (Number(/^Uid:\\s+(\\d+)/m.exec(st)[1]) === uid) tasks += Number(/^Threads:\\s+(\\d+)/m.exec(st)[1]);
      } catch (e) {}
    }
    saved = ft.getrlimit(RLIMIT_NPROC);
    const rc = ft.setrlimit(RLIMIT_NPROC, tasks, saved[1]);
    if (rc !== 0) throw new Error('setrlimit NPROC: ' + rc);
  }
  const pre = procFds();
  const attempts = [];
  for (let i = 0; i < 50; i++) {
    try { await three().run(); attempts.push('resolved'); } catch (e) { attempts.push(pick(e)); }
  }
  for (let i = 0; i < 10; i++) {
    try { three().runSync(); attempts.push('returned'); } catch (e) { attempts.push(pick(e)); }
  }
  await sleep(20);
  const post = procFds();
  if (mode === 'cgroup') fs.writeFileSync(cg + '/pids.max', 'max');
  else ft.setrlimit(RLIMIT_NPROC, saved[0], saved[1]);
  let after;
  try { const r = await three().run(); after = { status: r.exitStatus }; } catch (e) { after = pick(e); }
  emit({ attempts, pre, post, after, counters });
`;

describe('fork fails with EAGAIN', () => {
  const cg = pidsCgroupRoot();
  const nobody = isRoot && 'reason' in cg ? nobodyPackage() : null;
  const how = !isRoot ? 'rlimit' : !('reason' in cg) ? 'cgroup' : nobody && !('reason' in nobody) ? 'nobody' : null;
  const reason =
    sanitizerSkip('a pids limit (its own threads count)') ??
    (how
      ? null
      : `as root RLIMIT_NPROC does not bind, and neither a pids cgroup (${(cg as { reason: string }).reason}) nor a nobody package (${(nobody as { reason: string } | null)?.reason}) is available`);

  itIf(
    reason,
    `true with three pipes, 50 x run() and 10 x runSync() at the process limit (${how ?? 'n/a'}), then once with the limit lifted`,
    async () => {
      let dir = '';
      if (how === 'cgroup') {
        dir = path.join((cg as { dir: string }).dir, `vc-adv-eagain-${process.pid}-${Date.now()}`);
        fs.mkdirSync(dir);
      }
      try {
        const r = await runScript(EAGAIN_SCRIPT, {
          args: { mode: how === 'cgroup' ? 'cgroup' : 'rlimit', cg: dir },
          ...(how === 'nobody' ? { prefix: AS_NOBODY, entry: (nobody as { entry: string }).entry, cwd: '/' } : {}),
          timeoutMs: 60000,
        });
        const res = scriptOk(r);
        expect(res.attempts).toHaveLength(60);
        for (const [i, a] of (res.attempts as Record<string, unknown>[]).entries()) {
          expect(a, `attempt ${i}`).toMatchObject({ isCommandError: true, code: 'EAGAIN', errno: ERRNO.EAGAIN, stage: 'fork' });
          expect(a.message as string, `attempt ${i}`).toMatch(/EAGAIN/);
        }
        expect(res.counters.uncaught, 'uncaughtException events').toBe(0);
        expect(res.counters.unhandled, 'unhandledRejection events').toBe(0);
        expect(res.post, 'the fds after the failures').toEqual(res.pre);
        expect(res.after, 'with the limit lifted').toEqual({ status: 0 });
      } finally {
        if (dir) {
          for (let i = 0; i < 100; i++) {
            try {
              fs.rmdirSync(dir);
              break;
            } catch {
              await sleep(20);
            }
          }
        }
      }
    },
    90000,
  );
});
